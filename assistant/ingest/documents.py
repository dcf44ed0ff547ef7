"""Loading files into `Document`s: decoded text plus where each page starts.

Supported: `.txt`, `.md` and `.markdown` (the decoded text, unchanged), `.html`/`.htm` (visible
text only), `.pdf` (text per page, via pypdf), `.docx` (the body's paragraphs, lists and tables in
reading order, written as Markdown: `ingest/word.py`), `.pptx` (each shown slide a page, its title,
text, tables and notes as Markdown: `ingest/slides.py`), `.xlsx`/`.xlsm` (each shown sheet a page,
its rows as a Markdown table: `ingest/sheets.py`), `.csv`/`.tsv` (the rows as a Markdown table:
`ingest/delimited.py`), `.eml` (an e-mail's From, To, Cc, Date and Subject lines and its body:
`ingest/mail.py`). Anything else, or a file that is empty, binary, undecodable or
unreadable, raises `LoadError` whose message names the file and the reason. Chunking is left to
`chunking.py`.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import logging
import os
import re
import unicodedata
import stat
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from assistant.config import MIB, SUPPORTED_SUFFIXES
from assistant.ingest import delimited, mail, sheets, slides, word
from assistant.ingest.sentences import HEADER_LINE, LINE_BREAK, NEVER_LAST, SPAN_COPIES_MOST, SPAN_COPY_MOST, header_names, is_list_item, is_table_row, table_cells, table_row


class LoadError(Exception):
    """A file that cannot become a document. `str(err)` is one line naming file and reason."""

    def __init__(self, source: str, reason: str):
        self.source, self.reason = source, reason
        super().__init__(f"{source}: {reason}")


@dataclass(frozen=True)
class Page:
    """A span of a document's text that came from one page (1-based `number`)."""

    number: int
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A loaded file. `text` is what chunk offsets index; `pages` is empty for non-paged files."""

    source: str
    text: str
    sha256: str
    title: str
    pages: tuple[Page, ...] = ()


# how to go on with a text file saved in an older encoding (read as UTF-8 only: another guess
# would quote mis-decoded text as verbatim)
RESAVE = "if it is text in another encoding (Windows-1252, Latin-1), save it as UTF-8, e.g. iconv -f cp1252 -t utf-8"

def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def changed_since(path: str, sha256: str) -> str:
    """How the file at `path` differs from the version whose hash is `sha256`: "changed", "gone"
    (for an absolute path: a relative one is looked for from the working folder, which may not be
    the one it was indexed from), or "" for the same. Each version is hashed once (by size and
    modification time), so asking again costs a stat."""
    try:
        info = os.stat(path)
    except OSError:
        return "gone" if os.path.isabs(path) else ""
    now = _hash_of(path, info.st_size, info.st_mtime_ns)
    return "changed" if now and now != sha256 else ""  # (one that cannot be read now: not known to differ)


@functools.lru_cache(maxsize=4096)  # (a version of a file: its path, size and modification time)
def _hash_of(path: str, size: int, mtime_ns: int) -> str:
    try:
        return file_sha256(path)
    except OSError:
        return ""


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def check_regular_file(path: str | os.PathLike, source: str) -> None:
    """Raise `LoadError` unless `path` is a regular file (or a link to one): reading a named
    pipe or a device could block forever."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.lexists(path):
            raise LoadError(source, f"broken symbolic link (to {os.readlink(path)!r}, which does not exist)") from None
        raise LoadError(source, "no such file") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise LoadError(source, "symbolic link loop (the link leads back to itself)") from None
        raise LoadError(source, f"cannot read ({err.strerror or err})") from None
    if stat.S_ISDIR(mode):
        raise LoadError(source, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise LoadError(source, f"not a regular file ({kind})")


_LEGACY_OFFICE = {".doc": "Word", ".xls": "Excel", ".ppt": "PowerPoint"}
LEGACY_SUFFIXES = tuple(_LEGACY_OFFICE)


def unsupported(suffix: str) -> str:
    """Why a file of this type is not read, with what to do for the legacy Office ones."""
    if suffix in _LEGACY_OFFICE:
        return (f"the legacy {_LEGACY_OFFICE[suffix]} format {suffix} is not supported: save it as {suffix}x "
                f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
    return f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}"


def load(path: str | os.PathLike, source: str | None = None, max_chars: int | None = None) -> Document:
    """Load one file. `source` is the name recorded for it (default: the path as given). A PDF
    whose text passes `max_chars` characters is refused as soon as it does (the size limit bounds
    the file's bytes, and a 95 KB PDF of one compressed page repeated had unpacked to 80 million)."""
    source = source if source is not None else str(path)
    suffix = Path(path).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(source, unsupported(suffix))
    check_regular_file(path, source)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise LoadError(source, f"cannot read ({err.strerror or err})") from None
    if not data.strip():
        raise LoadError(source, "empty file")
    sha = hashlib.sha256(data).hexdigest()

    pages: tuple[Page, ...] = ()
    title = ""
    if suffix == ".pdf":
        text, pages, title = _pdf_text(data, source, max_chars)
    elif suffix == ".docx":
        try:
            text, title = word.docx_text(data, max_chars)
        except word.Unreadable as err:
            raise LoadError(source, err.reason) from None
    elif suffix == ".pptx":
        try:
            shown, title = slides.pptx_text(data, max_chars)
        except slides.Unreadable as err:
            raise LoadError(source, err.reason) from None
        texts = [""] * max((number for number, _ in shown), default=0)
        for number, slide_text in shown:
            texts[number - 1] = slide_text
        text, pages = join_pages(texts, run_on=False)
    elif suffix in (".xlsx", ".xlsm"):
        try:
            shown, title = sheets.xlsx_text(data, max_chars)
        except sheets.Unreadable as err:
            raise LoadError(source, err.reason) from None
        text, pages = join_pages([sheet_text for _, sheet_text in shown], run_on=False)
    elif suffix == ".eml":
        if b"\x00" in data[:8192]:
            raise LoadError(source, "binary file (contains NUL bytes), not an e-mail message")
        try:
            # (an HTML body's words as before: a message's text is not read as Markdown, so a "## " would be quoted)
            text, title = mail.eml_text(data, lambda markup: html_visible_text(markup, marks=False), max_chars)
        except mail.Unreadable as err:
            raise LoadError(source, err.reason) from None
    elif suffix in (".csv", ".tsv"):
        try:
            # Windows-1252: what Excel saves "CSV (Comma delimited)" in on Western systems
            text = delimited.table_text(_decode(data, source, fallback="cp1252"), tabs=suffix == ".tsv")
        except ValueError as err:
            raise LoadError(source, str(err)) from None
    else:
        text = _decode(data, source)
        if suffix in (".html", ".htm"):
            text, title = html_text_and_title(text)
    if not any(unicodedata.category(ch)[0] not in "CZ" for ch in text):  # only spaces, controls, zero-width marks
        reason = ("no extractable text (a scanned PDF?)" if suffix == ".pdf" else
                  "no text in its body, text boxes or notes (headers and footers are not read)" if suffix == ".docx" else
                  "no text on its shown slides (pictures are not read)" if suffix == ".pptx" else
                  "no text in its shown sheets" if suffix in (".xlsx", ".xlsm") else
                  "no text outside scripts, styles, navigation menus and hidden elements" if suffix in (".html", ".htm") else "no text")
        raise LoadError(source, reason)
    title = " ".join(title.split())
    if _FILE_NAME_TITLE.search(title):  # what a converter writes when the author set none
        title = ""
    if not 0 < len(title) <= 200:  # none declared: a workbook's file name, not its first sheet's name its text opens with
        title = _file_title(source) if suffix in (".xlsx", ".xlsm") else _title(text, source)
    return Document(source=source, text=text, sha256=sha, title=title, pages=pages)


# A declared title that is a file name ("Microsoft Word - FINAL_report_v3.docx", "scan0042.pdf")
_FILE_NAME_TITLE = re.compile(r"(?i)^microsoft (?:word|powerpoint|excel) - |\.(?:docx?|pptx?|xlsx?|odt|rtf|pdf|txt|html?)$")


def _decode(data: bytes, source: str, fallback: str | None = None) -> str:
    """A text file's text: UTF-32 or UTF-16 by their byte-order marks, else UTF-8, else the
    `fallback` encoding where that reads as text (not a jumble: `_looks_garbled`)."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # UTF-32 (its mark starts as UTF-16's)
        try:
            return data.decode("utf-32")
        except UnicodeDecodeError:
            raise LoadError(source, "starts with a UTF-32 byte-order mark but does not read as UTF-32 text") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise LoadError(source, "starts with a UTF-16 byte-order mark but does not read as UTF-16 text") from None
        if _looks_garbled(text):
            raise LoadError(source, "starts with a UTF-16 byte-order mark but does not read as UTF-16 text")
        return text
    for mark, kind in _BINARY_KINDS:  # (a PDF, with no NUL near its start, had been told to be re-saved as UTF-8)
        if data.startswith(mark):
            raise LoadError(source, f"a {kind}, not text, under a text file's name; name it as what it is")
    if b"\x00" in data[:8192]:
        raise LoadError(source, "binary file (contains NUL bytes), not text; UTF-16 or UTF-32 text needs its byte-order mark")
    try:
        return data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError as err:
        if fallback:
            try:
                text = data.decode(fallback)
            except UnicodeDecodeError:
                text = None
            if text is not None and not _looks_garbled(text):
                return text
        raise LoadError(
            source, f"not valid UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}); {RESAVE}"
        ) from None


# How the binary formats that are read, or that a text file's name is most often given by mistake,
# begin: told by name instead of as text that is not UTF-8.
_BINARY_KINDS = ((b"%PDF-", "PDF file (.pdf)"), (b"PK\x03\x04", "ZIP package (.docx, .pptx, .xlsx or .zip)"),
                 (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"),
                 (b"\xd0\xcf\x11\xe0", "legacy Office file (.doc, .xls or .ppt)"))


def _looks_garbled(text: str) -> bool:
    """Whether decoded text is a jumble of unrelated scripts and symbols (charset-normalizer's
    mess measure, above its own default limit of 0.2): what 8-bit text becomes when read as UTF-16."""
    from charset_normalizer.md import mess_ratio

    return mess_ratio(text[:20000], 0.2) >= 0.2




_NOT_A_TITLE = re.compile(r"(```|~~~|---+$|\*\*\*+$|___+$|\|)")  # a code fence, a rule or a table row (Markdown)
_FRONT_MATTER_TITLE = re.compile(r"title\s*[:=]\s*(.+)$", re.IGNORECASE)  # YAML's "title:", TOML's "title ="
# Markdown's markup around a title's words: an image or badge (as nothing), a link (as its text),
# emphasis and code marks, a heading's closing "#"s
_IMAGE = re.compile(r"!\[[^\[\]]*\]\([^()]*\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\([^()]*\)")
_EMPHASIS = re.compile(r"(?<!\w)[*_`]+|[*_`]+(?!\w)")


def _title(text: str, source: str) -> str:
    """A short human title when the file declares none (HTML `<title>`, PDF metadata): a leading
    YAML or TOML front matter's title, else a leading markdown heading or short first line as
    read, unless it is a sentence of prose (its tags, images, links' addresses and emphasis left out; code fences, rules, comments
    and lines of markup alone passed over), else the file name."""
    lines = [line.strip() for line in LINE_BREAK.split(text.lstrip(), 60)[:60]]
    if lines and lines[0] in ("---", "+++") and lines[0] in lines[1:]:  # front matter (Markdown)
        end = lines.index(lines[0], 1)
        named = [m.group(1).strip().strip("\"'") for m in map(_FRONT_MATTER_TITLE.match, lines[1:end]) if m]
        if named and 0 < len(named[0]) <= 120:
            return named[0]
        lines = lines[end + 1:]
    first = next((read for line in lines if line and not _NOT_A_TITLE.match(line) and (read := _as_read(line))), "")
    if 0 < len(first) <= 120 and not _ends_a_sentence(first):
        return first
    return _file_title(source)


def _file_title(source: str) -> str:
    """The file's name as a title ("q3_budget.xlsx": "q3 budget")."""
    return Path(source).stem.replace("_", " ")


_LAST_WORD = re.compile(r"(\w+)\.$")


def _ends_a_sentence(line: str) -> bool:
    """Whether a line ends as a sentence of prose does, a full stop after a word in lower case or a
    number ("I bought this for my son.", "… completed in 1500."): no title, which ends with no full
    stop ("Pump Manual", "Is Huawei safe?") or one after a name's abbreviation ("Acme Inc.")."""
    last = _LAST_WORD.search(line)
    return bool(last) and (last.group(1).isdigit() or len(last.group(1)) > 1 and last.group(1).islower())


def _as_read(line: str) -> str:
    """A line's words as a reader sees them: without HTML tags and comments, images, links'
    addresses, emphasis marks and a heading's "#"s."""
    line = _LINK.sub(r"\1", _IMAGE.sub("", re.sub(r"<!--.*?(?:-->|$)", "", line)))
    words = _EMPHASIS.sub("", HTML_TAG.sub(" ", line)).strip().strip("#")
    return " ".join(words.split())


# --- HTML ---------------------------------------------------------------------------------

# HTML markup in a text (a tag ends before the next "<", so a search over many unclosed ones is linear)
HTML_TAG = re.compile(r"</?[A-Za-z!][^<>]*>")
# Never the page's text: code, styles, embedded objects, and the site's navigation menus.
_INVISIBLE = {"script", "style", "noscript", "template", "svg", "iframe", "object", "nav",
              "select", "datalist"}  # (a form's choices: their options had read run together, "Opt AOpt B")
# The site's sidebars and footers ("Trending", "Call our tip line"), where not an article's own
_CHROME = {"aside", "footer"}
_BLOCK = {
    "p", "div", "li", "ul", "ol", "table", "section", "article", "header",
    "footer", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
    "title", "main", "figure", "figcaption", "dt", "dd", "hr", "caption",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_CELLS = {"td", "th"}  # a table row reads as one line, "| a | b |" (each cell had been a paragraph)
_PREFORMATTED = {"pre", "textarea", "listing", "plaintext"}  # where the source's line breaks show
# Where the page says its content is: <main> (without its asides), else its one <article>; the
# rest (banners, headers, sidebars, footers, other stories) is left out. Without either, or where
# they hold too little of the page (a placeholder), the whole page.
_CONTENT = ("article", "main")
_MAIN_SHARE, _ARTICLE_SHARE = 0.2, 0.5
_SOURCE_SPACE = re.compile(r"[\n\r\t\f ]+")


class _Mark(str):
    """Where a table's row or cell begins or ends: written when the table has ended, as a line
    per row ("| a | b |") for a table of data, or as paragraphs for a table that lays out a page
    (a cell holding paragraphs, headings, lists or a table)."""

    def __new__(cls, as_row: str, as_layout: str):
        mark = super().__new__(cls, as_row)
        mark.as_layout = as_layout
        return mark


_ROW = _Mark("\n|", "\n\n")
_HEADER_LINE = _Mark("\n" + HEADER_LINE, "")  # under a first row of header cells (<th>), as Markdown marks a table's header
_CELL_START = _Mark(" ", "\n")
_CELL_END = _Mark(" |", "\n")
_IN_CELL_BREAK = _Mark(" ", "\n")  # a paragraph, heading or line break inside a cell
_PIPE = _Mark("/", "|")  # a "|" in a cell: "/" in a table's row (it would part the cell), itself in a layout


# A cell's colspan and rowspan as read (a browser's limits are 1,000 and 65,534; a table that
# large is no table of data).
_COLSPAN_MOST, _ROWSPAN_MOST = 100, 1000


def _span(attrs, name: str, most: int) -> int:
    value = dict(attrs).get(name) or ""
    digits = re.match(r"\s*(\d{1,9})", value)  # (a longer number is past every limit anyway; int() refuses 4,300 digits)
    return min(max(int(digits.group(1)), 1), most) if digits else 1


@dataclass
class _Hidden:
    """An element hidden by its attributes, read past until it ends: the elements opened inside
    it (and how many of each: a lookup, not a scan, so linear time), how deep inside it an element
    hidden in its own right starts, and its text, which comes back if it never ends."""

    tag: str
    text: list[str] = field(default_factory=list)
    inside: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    own_from: int | None = None

    def opened(self, tag: str, attrs) -> None:
        if tag not in _OPEN_ENDED:
            self.inside.append(tag)
            self.counts[tag] = self.counts.get(tag, 0) + 1
            if self.own_from is None and _unshown(attrs):
                self.own_from = len(self.inside)  # its text stays out if this element's comes back
        if tag in _BLOCK:
            self.text.append("\n")

    def closed(self, tag: str) -> bool:
        """Whether `tag`'s end ends an element opened inside this one (with those opened inside that)."""
        if not self.counts.get(tag):
            return False
        while (inner := self.inside.pop()) != tag:
            self.counts[inner] -= 1
        self.counts[tag] -= 1
        if self.own_from is not None and len(self.inside) < self.own_from:
            self.own_from = None
        if tag in _BLOCK and tag != self.tag and tag not in _HOLDERS:
            self.text.append("\n")
        return True

    def holds_a_list(self) -> bool:
        """Whether a list or table is open inside it (its items are its own, no siblings of a hidden item)."""
        return any(self.counts.get(holder) for holder in _HOLDERS)


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        # (text, inside an <article>, inside <main>, inside an <aside> of <main>)
        self.parts: list[tuple[str, bool, bool, bool]] = []
        self.inside = {name: 0 for name in (*_CONTENT, "aside")}
        self.counted: dict[str, list[bool]] = {name: [] for name in (*_CONTENT, "aside")}  # per open one: counted?
        self.articles = 0  # <article>s not inside another
        self.found_main = False
        self.preformatted = 0
        self.keep_spaces = False  # preformatted text's spaces kept (`html_text_and_title` sets it)
        self.chrome: list[bool] = []  # per open <aside>/<footer>: hidden (outside any article)?
        self.tables: list[dict] = []  # open tables, innermost last: where they start, in a cell now, laid out
        self.title: list[str] = []
        self.hidden = 0
        self.in_title = False
        self.open: list[str] = []  # the elements open now (outside a region hidden by attributes)
        self.open_count: dict[str, int] = {}  # how many of each are in `open` (a lookup, not a scan: linear time)
        self.unshown: _Hidden | None = None  # the element hidden by its attributes being read past
        self.term_end: int | None = None  # where the line break after a <dt> was written, while nothing but space followed
        self.copies_left = SPAN_COPIES_MOST  # cells that spanning cells may still fill
        self.lists: list[tuple[int, str, list[int]]] = []  # open lists, innermost last: (where in `open`, tag, [last number, step])
        self.marks = True  # headings and list items marked as Markdown marks them (`html_text_and_title`)

    def handle_starttag(self, tag, attrs):
        region = self.unshown
        if region is not None:
            if region.tag in _ENDED_BY and not region.holds_a_list() and tag in _ENDED_BY[region.tag]:
                # a hidden element whose end tag may be left out ends where this one begins, as a
                # browser ends it ("<li hidden>…<li>"): this one is read
                self.unshown = None
                self._hidden_ended()
            else:
                region.opened(tag, attrs)
                return
        if (tag not in _OPEN_ENDED or tag in _ENDED_BY) and (_unshown(attrs) or tag not in _CONTENT_TAGS and _consent_banner(attrs)):
            self.unshown = _Hidden(tag)
            return
        if tag not in _OPEN_ENDED:
            self.open.append(tag)
            self.open_count[tag] = self.open_count.get(tag, 0) + 1
            if tag in ("ul", "ol", "menu"):
                self._open_list(tag, attrs)
        if tag == "title" and not self.hidden:  # not an SVG's <title> (a tooltip)
            self.in_title = True
        elif tag in _INVISIBLE:
            self.hidden += 1
        elif tag in _CHROME:  # a sidebar or footer of the site, not of an article in it
            self.chrome.append(not self.inside["article"])
            self.hidden += self.chrome[-1]
        if tag in self.counted:
            counts = not self.hidden
            self.counted[tag].append(counts)
            if counts:
                if tag == "article" and not self.inside["article"]:
                    self.articles += 1
                self.found_main |= tag == "main"
                self.inside[tag] += 1
        if tag in _PREFORMATTED:
            self.preformatted += 1
        if tag == "dd" and self._definition_follows_term():
            return  # "Heeling: The sideways tilt …" on one line (the term alone had been quoted as the answer)
        self.term_end = None
        table = self.tables[-1] if self.tables else None
        if tag in _CELLS or tag == "tr":
            self._end_cell()
        if tag == "table" and not self.hidden:
            if table and table["cell"]:
                table["layout"] = True
            self.tables.append({"marks": [], "cell": False, "layout": False, "paragraphs": 0, "row": False, "rows": 0, "heads": 0,
                                "thead": False, "worded": False, "plain": False, "head_cell": False,
                                "column": 0, "spans": {}, "cell_at": 0, "span": (1, 1), "cells": 0, "copies": [],
                                "heads2": 0, "heads3": 0, "row_at": [], "head_rows": [], "last_spans": [], "lines": 0, "carried": 0})
            self._emit("\n")
        elif tag in _CELLS and table and not self.hidden:
            if not table["row"]:  # a cell with no <tr> before it starts a row, as a browser reads it
                self._start_row(table)
            if table["rows"] == 1:  # the first row: a header while all its cells are <th> or it is the <thead>'s
                table["heads"] = table["heads"] + 1 if (tag == "th" or table["thead"]) and table["heads"] >= 0 else -1
            elif table["rows"] in (2, 3):  # the second: the header's second row, the same way (unless the third is too)
                key = f"heads{table['rows']}"
                table[key] = table[key] + 1 if (tag == "th" or table["thead"]) and table[key] >= 0 else -1
            self._spanned(table)
            table["cell"], table["paragraphs"], table["head_cell"], table["lines"] = True, 0, tag == "th", 0
            table["cells"] += 1
            table["span"] = (_span(attrs, "colspan", _COLSPAN_MOST), _span(attrs, "rowspan", _ROWSPAN_MOST))
            self._emit(_CELL_START)
            table["cell_at"] = len(self.parts)
        elif tag == "tr" and table and not self.hidden:
            self._start_row(table)
        elif tag in ("thead", "tbody", "tfoot") and table and not self.hidden:
            if table["row"]:  # a row group's spans end with it, as a browser ends them
                self._end_cell()
                self._spanned(table, everywhere=True)
            self._unspan(table)
            table["thead"] = tag == "thead"
        elif tag in _BLOCK or tag == "br":
            if table and table["cell"] and not self.hidden:
                if tag in ("p", "div"):
                    table["paragraphs"] += 1
                table["lines"] += 1 if tag in ("p", "div", "br") else 2  # (a spanning cell of several is written once)
                # a cell of headings, lists or more than one paragraph lays out a page
                table["layout"] |= table["paragraphs"] > 1 or tag not in ("p", "div", "br")
                self._emit(_IN_CELL_BREAK)
            elif tag == "li" and not self.hidden and self.marks:
                self._line_break()  # (items of one list: one paragraph, a line each)
                self._emit(self._item_mark(attrs))
            elif tag in _HEADINGS and not self.hidden and self.marks:
                # a heading as Markdown writes it, "## 4. How to request", so it is read as one: never
                # an answer, never an item of the list after it (it had been quoted as the answer)
                self._emit("\n" + "#" * int(tag[1]) + " ")
            else:
                self._emit("\n")

    def _hidden_ended(self) -> None:
        """Where a hidden element ended: a break, as after a block (none between a table's rows,
        which its row marks part: a hidden row had split its table in two)."""
        if self.tables and self.tables[-1]["cell"]:
            self._emit(_IN_CELL_BREAK)
        elif self.lists and self.marks:  # (a hidden item: the list goes on, one paragraph)
            self._line_break()
        elif not self.tables:
            self._emit("\n")

    def _line_break(self) -> None:
        """A line break, unless the text written so far already ends its line (space after it aside)."""
        for text, *_ in reversed(self.parts[-8:]):
            text = text.rstrip(" \t\r\f\v")
            if text.endswith("\n"):
                return
            if text:
                break
        self._emit("\n")

    def _item_mark(self, attrs) -> str:
        """How a list item starts, as Markdown writes it: "- " in a <ul>, "3. " in an <ol> (its
        `start`, an item's `value`, counted on; `reversed` with a `start` counting down). A list
        item had been a paragraph of its own, without its number ("Discuss the request with your
        manager."), so a list was not read as one."""
        if not self.lists or self.lists[-1][1] != "ol":
            return "- "
        counter = self.lists[-1][2]
        value = dict(attrs).get("value") or ""
        counter[0] = int(value) if re.fullmatch(r"\s*-?\d{1,9}\s*", value) else counter[0] + counter[1]
        return f"{counter[0]}. "

    def _open_list(self, tag, attrs) -> None:
        """A <ul>, <ol> or <menu> just opened (the last element of `open`): its items' numbering."""
        named = dict(attrs)
        step = -1 if "reversed" in named and re.fullmatch(r"\s*-?\d{1,9}\s*", named.get("start") or "") else 1
        start = named.get("start") or ""
        first = int(start) if re.fullmatch(r"\s*-?\d{1,9}\s*", start) else 1
        self.lists.append((len(self.open) - 1, tag, [first - step, step]))

    def handle_startendtag(self, tag, attrs):  # <br/>, <img .../>: nothing to hide inside
        if self.unshown is None:
            self.handle_starttag(tag, [])
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        region = self.unshown
        if region is not None:
            if region.closed(tag) or region.holds_a_list() and tag == region.tag and tag in _ENDED_BY:
                return  # an element inside it ended (an item of a list inside it, for a hidden item)
            if tag != region.tag and not self.open_count.get(tag):  # (nothing opens while hidden: `open` is what was around it)
                if tag in _BLOCK:
                    region.text.append("\n")
                return
            # its own end, or an element around it ends (a browser closes it there too)
            self.unshown = None
            self._hidden_ended()
            if tag == region.tag:
                return
        if self.open_count.get(tag):  # it closes, with every element opened inside it
            while (closed := self.open.pop()) != tag:
                self.open_count[closed] -= 1
            self.open_count[tag] -= 1
            while self.lists and self.lists[-1][0] >= len(self.open):  # the lists closed with it
                self.lists.pop()
        if tag == "title":
            self.in_title = False
        elif tag in _INVISIBLE and self.hidden:
            self.hidden -= 1
        elif tag in _CHROME and self.chrome:
            self.hidden -= self.chrome.pop()
        if tag in _CELLS or tag == "tr":
            self._end_cell()
        if tag in ("thead", "tbody", "tfoot") and self.tables and not self.hidden:
            table = self.tables[-1]  # a row group's end ends its spans too, the next group's start tag or none
            if table["row"]:
                self._end_cell()
                self._spanned(table, everywhere=True)
            self._unspan(table)
            table["thead"] = False
        if tag == "table" and self.tables and not self.hidden:
            self._end_cell()
            self._close_table()
            self._emit("\n")
        elif tag in _BLOCK:
            if self.tables and self.tables[-1]["cell"]:
                self._emit(_IN_CELL_BREAK)
            elif self.marks and (tag == "li" or tag in ("ul", "ol") and self.lists):  # an item, or a list inside one: the list goes on
                self._line_break()
            else:
                self._emit("\n")
            if tag == "dt" and not self.hidden:
                self.term_end = len(self.parts) - 1
        if tag in self.counted and self.counted[tag]:
            if self.counted[tag].pop():
                self.inside[tag] -= 1
        if tag in _PREFORMATTED and self.preformatted:
            self.preformatted -= 1

    def _definition_follows_term(self) -> bool:
        """At a <dd>: whether its <dt> just ended (only space since); if so, the term's line break
        becomes ": ", so that the term and its definition read as one line."""
        at, self.term_end = self.term_end, None
        if at is None or not isinstance(self.parts[at][0], str) or self.parts[at][0] != "\n":
            return False
        if any(str(text).strip() for text, *_ in self.parts[at + 1 :]):
            return False
        self.parts[at] = (": ", *self.parts[at][1:])
        return True

    def handle_data(self, data):
        if data.strip():
            self.term_end = None
        if self.in_title:
            self.title.append(data)  # the tab's title: the document's title, not its text
        elif self.unshown is not None:
            if self.unshown.own_from is None:
                self.unshown.text.append(data)
        elif not self.hidden:
            if self.tables and self.tables[-1]["cell"] and self.tables[-1]["rows"] == 1 and data.strip():
                table = self.tables[-1]  # the first row: a header too when every word of it is bold
                table["worded"] = True
                if not table["head_cell"] and not any(self.open_count.get(tag) for tag in ("b", "strong")):
                    table["plain"] = True
            # outside preformatted text a browser shows the source's line breaks as spaces
            # (its spaces and tabs, which the page's whitespace is tidied around, kept as they are)
            data = (data.replace("\r\n", "\n").translate(_KEPT_SPACE) if self.keep_spaces else data) if self.preformatted \
                else _SOURCE_SPACE.sub(" ", data)
            if "|" in data and self.tables and self.tables[-1]["cell"]:  # a "|" in a cell would part it: "/" in a row
                for i, piece in enumerate(data.split("|")):
                    if i:
                        self._emit(_PIPE)
                    if piece:
                        self._emit(piece)
                return
            self._emit(data)

    def _start_row(self, table: dict) -> None:
        if table["row"]:
            self._spanned(table, everywhere=True)
        table["column"], table["cells"], table["carried"] = 0, 0, 0
        if table["rows"] == 1 and (table["heads"] > 0 or table["worded"] and not table["plain"]):
            self._emit(_HEADER_LINE)
        if table["rows"] < 3:
            table["row_at"].append(len(self.parts))
            table["head_rows"].append(table["thead"])
        table["row"], table["rows"] = True, table["rows"] + 1
        self._emit(_ROW)

    def _end_cell(self) -> None:
        """A cell ends at its end tag, or where a browser closes it (the next cell, row or table).
        A cell spanning columns or rows is written in each of them, as pandas' read_html does (a
        long one, or one of several paragraphs or three lines or more, once, and empty cells for the rest; a row's only cell, a
        note or a section's name across the table, once; a span ends with its row group, and where a
        wider cell covers it): a row that a region's name spans reads with that name, and a header
        spanning two columns names both. The page's copies are reserved against `SPAN_COPIES_MOST`."""
        if not (self.tables and self.tables[-1]["cell"]):
            return
        table = self.tables[-1]
        table["cell"] = False
        self._emit(_CELL_END)
        (columns, rows), table["span"] = table["span"], (1, 1)
        table["last_spans"] = []
        spans, start = table["spans"], table["column"]
        for column in range(start + 1, start + columns):  # a spanned row's cell this one covers is used up
            if column in spans:
                spans[column][1] -= 1
                self.copies_left += 1  # (reserved, never written)
                if not spans[column][1]:
                    del spans[column]
        table["column"] += columns
        if columns == rows == 1:
            return
        text = " ".join("".join(str(part[0]) for part in self.parts[table["cell_at"] : -1]).split())
        # a copy is no paragraph of a layout, and a cell of several paragraphs or three lines or more (a
        # sidebar of links) is written once; "Population<br>(2020)" over two columns is copied
        copy = _Mark(f" {text} |" if len(text) <= SPAN_COPY_MOST and table["lines"] < 2 else " |", "")
        wanted = (columns - 1) + columns * (rows - 1)
        if wanted > self.copies_left:  # past the page's bound: written once, as before
            return
        self.copies_left -= wanted  # (reserved now: a span's bookkeeping grows no larger than what it may write)
        table["copies"] = [copy] * (columns - 1)  # written when another cell follows in the row
        if rows > 1:
            table["last_spans"] = list(range(start, start + columns))
            for column in table["last_spans"]:
                spans[column] = [copy, rows - 1]

    def _spanned(self, table: dict, everywhere: bool = False) -> None:
        """The cells that spanning cells fill here: the last cell's copies over the columns it
        spans (unless, at the row's end, it is the row's only cell), then those of earlier rows'
        cells at the row's next column, or (at its end, `everywhere`) in every column left."""
        copies, table["copies"] = table["copies"], []
        spans = table["spans"]
        if everywhere and table["cells"] == 1 and not table["carried"] and not any(c >= table["column"] for c in spans):
            # the row's only cell, nothing from above beside it: a note across the table, once, and
            # no copy in the rows below (what it reserved is given back)
            self.copies_left += len(copies) + sum(spans.pop(column)[1] for column in table["last_spans"] if column in spans)
            copies = []
        for copy in copies:
            self._emit(copy)
        last = max(spans, default=-1) if everywhere else -1
        while spans and (table["column"] in spans or table["column"] <= last):
            if table["column"] in spans:
                copy, left = spans[table["column"]]
                table["carried"] += 1
                self._emit(copy)
                if left > 1:
                    spans[table["column"]][1] = left - 1
                else:
                    del spans[table["column"]]
            else:
                self._emit(_Mark(" |", ""))
            table["column"] += 1

    def _unspan(self, table: dict) -> None:
        """A row group's or table's spans ended: what they reserved and did not write given back."""
        self.copies_left += sum(left for _, left in table["spans"].values())
        table["spans"].clear()

    def _one_header_row(self, table: dict) -> None:
        """A header of two rows (both of <th> cells, or the <thead>'s) as one, each column named by
        both ("Region", "2023" over "Q1" -> "2023 Q1"), as the `|---|` line marks one header row: the
        second row had been read as data, and the columns under a group named by the group only. (A
        table whose third row is of header cells too writes every row so: it is left as it is.)"""
        at = table["row_at"] + [len(self.parts)]
        first, second = ("".join(str(part[0]) for part in self.parts[a:b]) for a, b in ((at[0], at[1]), (at[1], at[2])))
        first, second = (table_cells(row.replace("\n" + HEADER_LINE, "").strip()) for row in (first, second))
        if len(first) != len(second):
            return
        names = header_names(first, second)
        for i in range(at[0], at[2]):
            self.parts[i] = (_Mark("", ""), *self.parts[i][1:])
        self.parts[at[0]] = (_Mark("\n" + table_row(names) + "\n" + HEADER_LINE, ""), *self.parts[at[0]][1:])

    def _close_table(self) -> None:
        """The innermost table's marks written out, as rows or, for a layout, as paragraphs."""
        if self.tables[-1]["row"]:
            self._spanned(self.tables[-1], everywhere=True)
        self._unspan(self.tables[-1])
        table = self.tables.pop()
        if (not table["layout"] and table["heads"] > 0 and table["heads2"] > 0 and table["heads3"] <= 0
                and len(set(table["head_rows"][:2])) == 1):  # (both in the <thead>, or both outside one)
            self._one_header_row(table)
        for i in table["marks"]:  # its own marks only (rescanning every part since its start was quadratic when nested)
            text, *where = self.parts[i]
            self.parts[i] = (text.as_layout if table["layout"] else str(text), *where)
        if table["layout"] and self.tables and self.tables[-1]["cell"]:
            self.tables[-1]["layout"] = True

    def _emit(self, text: str) -> None:
        if isinstance(text, _Mark):  # marks are written only inside a table: the innermost one's
            self.tables[-1]["marks"].append(len(self.parts))
        in_main = self.inside["main"] > 0
        self.parts.append((text, self.inside["article"] > 0, in_main, in_main and self.inside["aside"] > 0))

    def text(self) -> str:
        """The page's text: its <main> content without its asides, where that is at least
        _MAIN_SHARE of the page (an empty placeholder <main> is not the page); else its one
        <article> where that is at least _ARTICLE_SHARE of the page; else all of it."""
        shown = lambda t: len("".join(t.split()))  # noqa: E731 - characters a reader sees
        page = "".join(t for t, *_ in self.parts)
        if self.found_main:
            main = "".join(t for t, _, in_main, in_aside in self.parts if in_main and not in_aside)
            if shown(main) >= _MAIN_SHARE * shown(page) > 0:
                return main
        if self.articles == 1:
            article = "".join(t for t, in_article, *_ in self.parts if in_article)
            if shown(article) >= _ARTICLE_SHARE * shown(page) > 0:
                return article
        return page

    def close(self):
        super().close()
        if self.unshown is not None:  # never closed: malformed markup, not a hidden part; its text is kept
            for text in self.unshown.text:
                self._emit(text)
            self.unshown = None
        self._end_cell()
        while self.tables:  # never closed
            self._close_table()
        self.parts = [(str(t), *where) for t, *where in self.parts]


# Elements a browser does not show: the `hidden` attribute (not hidden="until-found", which the
# browser's find reveals) or an inline style whose last display is none. A hidden element ends
# where an element around it does, and one that is never closed keeps its text: losing visible text
# is worse than keeping hidden text. One whose end tag may be left out (<p>, <li>, <tr>, a cell)
# ends, as a browser ends it, also where one of `_ENDED_BY` begins (outside a list or table of its
# own): "<li hidden>a<li>b" hides a alone (such elements had been read, hidden or not, since a
# `<p hidden>` closed by the next `<p>` would otherwise hide the rest of the page). Other such
# elements (<tbody>, <colgroup>, …) are read, hidden or not.
_P_ENDED_BY = {"address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset", "figcaption", "figure",
               "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "main", "menu", "nav", "ol",
               "p", "pre", "section", "table", "ul"}
_ROW_GROUPS = {"tr", "tbody", "thead", "tfoot"}
_ENDED_BY = {"p": _P_ENDED_BY, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "tr": _ROW_GROUPS,
             "td": _ROW_GROUPS | {"td", "th"}, "th": _ROW_GROUPS | {"td", "th"}, "option": {"option", "optgroup"}}
_HOLDERS = {"ul", "ol", "menu", "dl", "table", "select", "datalist"}  # their items are theirs, not siblings of a hidden one
_OPEN_ENDED = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",  # void
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "rb", "rt", "rp",
    "html", "head", "body",
}
_DISPLAY = re.compile(r"(?:^|;)\s*display\s*:\s*([a-z-]+)", re.I)


# A cookie or consent banner ("We use cookies to improve your experience."): shown, but no part of
# the page's text; one had been a page's overview. Named by the id or class that consent tools and
# themes give it: cookie, consent, GDPR or privacy with banner, notice, bar, popup, dialog … (not
# "consent" alone: a page on informed consent is text), or a consent manager's own name; never on a
# page's <main> or <article> (a privacy notice's own page).
_CONTENT_TAGS = {"main", "article", "body", "html"}  # a page's content itself, whatever it is called ("privacy-notice")
_CONSENT = re.compile(r"(?i)(?:cookie|consent|gdpr|privacy)s?[-_]?(?:banner|notice|bar|popup|pop-up|dialog|message|warning|alert"
                      r"|overlay|modal|wall|manager|consent|law|box|container)|onetrust|cookiebot|didomi|usercentrics|^cmp[-_]")


def _consent_banner(attrs) -> bool:
    return any(name in ("id", "class") and value and any(_CONSENT.search(token) for token in value.split())
               for name, value in attrs)


def _unshown(attrs) -> bool:
    for name, value in attrs:
        if name == "hidden" and (value or "").strip().lower() != "until-found":
            return True
        if name == "style" and value:
            shown = _DISPLAY.findall(value)
            if shown and shown[-1].lower() == "none":  # the last declaration wins
                return True
    return False


def html_text_and_title(markup: str, marks: bool = True) -> tuple[str, str]:
    """The text a browser would show in the page (tags, scripts and styles dropped, whitespace
    tidied) and the `<title>` it would show on the tab. `marks`: headings and list items marked
    as Markdown marks them ("## ", "- ", "3. "); without, their words alone (a question's)."""
    parser = _VisibleText()
    parser.marks = marks
    parser.keep_spaces = not any(c in markup for c in _KEPT_SPACE.values())  # (a page holding the stand-ins itself: tidied as before)
    # Past the last ">", no tag can close: the parser shows each "<" there as text, but finds that
    # out by reading to the end from every one of them (minutes for some thousands of unclosed
    # tags). Written as "&lt;", each is read once and shows as the same text.
    markup = _shown_part(markup)
    closed = markup.rfind(">") + 1
    parser.feed(markup[:closed] + markup[closed:].replace("<", "&lt;"))
    parser.close()
    text = parser.text()
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in text.split("\n"))
    # a table's row with nothing in it ("<tr></tr>", a spacer row of empty cells) is no line of text
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line for line in lines if not _EMPTY_ROW.fullmatch(line))).strip()
    return text.translate(_SPACE_BACK) if parser.keep_spaces else text, " ".join("".join(parser.title).split())


_EMPTY_ROW = re.compile(r"\|(?: ?\|)*")
_TAG_OPENS = re.compile(r"<[A-Za-z!?/]")  # a tag, comment or declaration ("<a", "<!", "<?", "</"); "< 5" is text
_RAW_TEXT_ELEMENTS = ("script", "style", "textarea", "title")  # elements whose "<!--" is their text
_RAW_TEXT = re.compile(rf"<({'|'.join(_RAW_TEXT_ELEMENTS)})\b", re.I)
_RAW_TEXT_END = {name: re.compile(rf"</{name}", re.I) for name in _RAW_TEXT_ELEMENTS}


def _shown_part(markup: str) -> str:
    """`markup` up to where a browser stops showing text: a comment never closed ("<!--" without
    "-->") runs to the end of the file, and so does a tag, comment or declaration begun after the
    last ">" ("<a href=x", "<![CDATA[ …"); a browser shows none of it (an unclosed comment's text,
    a TODO with an alarm code, had been read). A "<!--" inside a script or style is their text."""
    at = 0
    while (start := markup.find("<!--", at)) >= 0:
        opened = [m for m in _RAW_TEXT.finditer(markup, at, start)]
        ends = _RAW_TEXT_END[opened[-1].group(1).lower()] if opened else None
        if ends and not ends.search(markup, opened[-1].end(), start):
            # inside a script, style, text area or title: its "<!--" is its text; go on after it
            if not (after := ends.search(markup, start)):
                break
            at = after.end()
            continue
        if markup.rfind("<", at, start) > markup.rfind(">", at, start):
            at = start + 4  # inside a tag (an attribute's "<!-- logo"): no comment
            continue
        if markup.startswith(("<!-->", "<!--->"), start):
            at = start + (5 if markup.startswith("<!-->", start) else 6)  # an empty comment, closed where it opens
            continue
        end = markup.find("-->", start + 4)
        if end < 0:
            markup = markup[:start]
            break
        at = end + 3
    closed = markup.rfind(">") + 1
    if tail := _TAG_OPENS.search(markup, closed):
        return markup[:tail.start()]
    return markup


# Preformatted text's spaces, tabs and no-break spaces while the page's whitespace is tidied: stand-ins
# from the Private Use Area, written back after (indented code had read as "def f():\nreturn 1")
_KEPT_SPACE = {ord(" "): "\ue000", ord("\t"): "\ue001", ord("\u00a0"): "\ue002"}
_SPACE_BACK = {ord(stand_in): chr(space) for space, stand_in in _KEPT_SPACE.items()}


def html_visible_text(markup: str, marks: bool = True) -> str:
    """The text of `html_text_and_title`."""
    return html_text_and_title(markup, marks)[0]


# --- PDF ----------------------------------------------------------------------------------

PAGE_SEPARATOR = "\n\n"  # between pages, after one that ends a sentence
PAGE_RUN_ON = "\n"  # between pages, after one that stops mid-sentence: the sentence runs on over the break
_ENDS_SENTENCE = tuple(".!?:;\"“”'‘’»«›‹)]）」』…。？！")  # what closes a sentence, or a quotation (“ in German)
_FULL_LINE = 0.6  # a page's last line at least this share of its widest is a full line: a sentence cut by the page's end


_BYTES_SHOWN = re.compile(r"""\s*:?\s*b(['"]).*?(?<!\\)\1""")  # a bytes literal in a message, with its colon


class _Warnings(logging.Handler):
    """pypdf's log records while one file is read, kept out of the console: a failure's reason
    carries the first of them, one line."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        # without the raw bytes pypdf quotes ("invalid pdf header: b'\\xa5\\xa5'"): noise to a reader
        self.messages.append(" ".join(_BYTES_SHOWN.sub("", record.getMessage()).split())[:120])

    def __enter__(self):
        self.logger = logging.getLogger("pypdf")
        self.propagate, self.logger.propagate = self.logger.propagate, False
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self)
        self.logger.propagate = self.propagate

    def note(self) -> str:
        return f"; pypdf: {self.messages[0]}" if self.messages else ""


def _pdf_text(data: bytes, source: str, max_chars: int | None = None) -> tuple[str, tuple[Page, ...], str]:
    """Text, pages and the title in the PDF's metadata ("" when none)."""
    with _Warnings() as warnings:
        try:
            return _read_pdf(data, source, max_chars)
        except LoadError as err:
            raise LoadError(source, err.reason + warnings.note()) from None


# The most drawing instructions (a page's decompressed content stream) read for text: a one-page
# PDF of 128 KB holding 41 MB of them had not been read after 300 s (pypdf's text extraction grows
# faster than the stream); a page of dense text holds some 50 KB.
PAGE_CONTENT_MOST = 4 * 1024 * 1024


def _read_pdf(data: bytes, source: str, max_chars: int | None = None) -> tuple[str, tuple[Page, ...], str]:
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise LoadError(source, "encrypted PDF (a password is needed)")
            except LoadError:
                raise
            except Exception:
                raise LoadError(source, "encrypted PDF (a password is needed)") from None
        texts, total = [], 0
        for number, page in enumerate(reader.pages, start=1):
            contents = page.get_contents()
            drawn = len(contents.get_data()) if contents is not None else 0
            if drawn > PAGE_CONTENT_MOST:  # reading text takes more than linear time in it: refused before
                raise LoadError(source, f"page {number} holds {drawn / MIB:.0f} MiB of drawing instructions, more than "
                                        f"{PAGE_CONTENT_MOST // MIB} MiB; not read (a page of ordinary text holds well under 1)")
            texts.append((page.extract_text() or "").strip())
            total += len(texts[-1])
            if max_chars is not None and total > max_chars:
                raise LoadError(source, f"more text than the size limit allows (over {max_chars:,} characters by page "
                                        f"{number} of {len(reader.pages):,}; ASSISTANT_MAX_FILE_MB sets it, in MiB of text)")
        try:
            title = str((reader.metadata or {}).get("/Title") or "")
        except Exception:  # noqa: BLE001 - a damaged info dictionary only loses the title
            title = ""
    except LoadError:
        raise
    except Exception as err:  # noqa: BLE001 - pypdf raises many kinds on damaged files
        reason = (str(err).splitlines() or [""])[0][:200] or type(err).__name__  # pypdf's words, not its class names
        raise LoadError(source, f"not a readable PDF, damaged or not a PDF ({reason})") from None
    return (*join_pages(without_running_lines(texts)), title)


# A line that opens or closes most pages (its digits aside: "Annual Report 2023 | page 7") is a
# running header or footer, not text: left in, it was glued into the sentences either side of
# every page break, quoted in answers ("… transfer of the laboratory services to the Confidential
# - for board members only 2") and embedded once per page.
_RUNNING_MIN_PAGES, _RUNNING_SHARE = 3, 0.5
_DIGITS = re.compile(r"\d+")
_LETTERS = re.compile(r"[^\W\d_]{2}")  # a word of two letters or more
_PAGE_NUMBER = re.compile(r"[-–—(\[]?\s*\d{1,4}\s*(?:/\s*\d{1,4}\s*)?[-–—)\]]?")  # "7", "- 7 -", "(7)", "7 / 12"


_PAGE_OFFSET_MOST = 10  # how far a printed page number may be from the page's place in the file (front matter)


def without_running_lines(texts: list[str]) -> list[str]:
    """Page texts without their running headers and footers (up to two lines at each end): a first
    or last line that opens (or closes) at least half the pages of a document of three or more, or
    both pages of one of two, the same on each or for a number that counts the pages ("page 7"),
    and holding words (a row of figures never is one); and a bare page number ("7", "- 7 -", also
    a page's only line) on at least two pages and half of them, each the page's place in the file
    plus one offset of at most `_PAGE_OFFSET_MOST` (years or amounts that grow page by page are
    text). The first page keeps its worded header: it is often the title. (A two-page leaflet's
    footer had been glued into the sentence it split.)"""
    pages = [t.split("\n") for t in texts]
    shown = sum(1 for p in pages if any(line.strip() for line in p))
    if shown < 2:
        return texts
    for _ in range(2):
        for end in (0, -1):
            _drop_running(pages, end, shown)
            _drop_page_numbers(pages, end, shown)
    return ["\n".join(p).strip() for p in pages]


def _drop_running(pages: list[list[str]], end: int, shown: int) -> None:
    seen: dict[str, list[tuple[int, str]]] = {}  # masked line -> (page index, the line)
    for i, lines in enumerate(pages):
        line = " ".join(lines[end].split()) if len(lines) > 1 else ""
        if _LETTERS.search(line):
            seen.setdefault(_DIGITS.sub("#", line), []).append((i, line))
    for found in seen.values():
        if len(found) >= (shown if shown < _RUNNING_MIN_PAGES else max(_RUNNING_MIN_PAGES, _RUNNING_SHARE * shown)) and _runs(found):
            for i, _ in found:
                if not (end == 0 and i == 0):
                    del pages[i][end]


def _drop_page_numbers(pages: list[list[str]], end: int, shown: int) -> None:
    offsets: dict[int, list[int]] = {}  # printed number - place in the file -> pages
    for i, lines in enumerate(pages):
        line = lines[end].strip() if lines else ""
        if _PAGE_NUMBER.fullmatch(line) and abs(offset := int(_DIGITS.search(line).group()) - (i + 1)) <= _PAGE_OFFSET_MOST:
            offsets.setdefault(offset, []).append(i)
    numbered = max(offsets.values(), key=len, default=[])
    if len(numbered) >= max(2, _RUNNING_SHARE * shown):
        for i in numbered:
            del pages[i][end]
            if not pages[i]:
                pages[i] = [""]


def _runs(found: list[tuple[int, str]]) -> bool:
    """Whether lines that differ only in their numbers run through the pages: the same line, or one
    number in it that grows with the page ("Page 3 of 9"; an invoice number or a date does not)."""
    if len({line for _, line in found}) == 1:
        return True
    numbers = [[int(n) for n in _DIGITS.findall(line)] for _, line in found]
    varying = [k for k in range(len(numbers[0])) if len({ns[k] for ns in numbers}) > 1]
    return len(varying) == 1 and len({ns[varying[0]] - i for (i, _), ns in zip(found, numbers)}) == 1


def join_pages(texts: list[str], run_on: bool = True) -> tuple[str, tuple[Page, ...]]:
    """One text from page texts (page 1 first), with where each non-empty page lies in it. A page
    is set off from the next by a blank line, unless its sentence runs on into the next (`_runs_on`):
    then by a line break, so that the sentence is read whole ("… has since tested every" / "product
    the company sells." had been quoted in two halves). Without `run_on` (slides), every page is
    set off by a blank line."""
    parts, pages, offset = [], [], 0
    for number, page_text in enumerate(texts, start=1):
        if not page_text:
            continue
        if parts:
            separator = PAGE_RUN_ON if run_on and _runs_on(parts[-1], page_text) else PAGE_SEPARATOR
            parts.append(separator)
            offset += len(separator)
        parts.append(page_text)
        pages.append(Page(number, offset, offset + len(page_text)))
        offset += len(page_text)
    return "".join(parts), tuple(pages)


def _runs_on(before: str, after: str) -> bool:
    """Whether a page's last sentence goes on at the top of the next: the page ends in no closing
    punctuation, on a full line (a sentence cut by the page's end fills its line; a caption, a
    heading, a footnote or the end of a paragraph seldom does) that is no list item or table row,
    and the next page starts in lower case, or the page ends in a comma or a hyphen, or on a word
    that no English sentence ends with (an article, preposition or conjunction: "… then notify
    the" / "Northwind incident desk …" had been cut in two, the second half quoted without its subject)."""
    if before.endswith(_ENDS_SENTENCE):
        return False
    lines = [line.strip() for line in before.split("\n")]
    if len(lines[-1]) < _FULL_LINE * max(map(len, lines)) or is_list_item(lines[-1]) or is_table_row(lines[-1]):
        return False
    last = before.rsplit(None, 1)[-1].lower() if before.split() else ""
    return after.lstrip()[:1].islower() or before.endswith((",", "-", "–", "—")) or last in NEVER_LAST


