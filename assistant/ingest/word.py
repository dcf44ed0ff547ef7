"""Word documents (.docx): the text of the body, as Markdown, read from its XML.

The body's paragraphs, lists and tables come in reading order, paragraphs apart by a blank line:
"Heading n" styles (or an outline level) as `#` headings, list paragraphs as items numbered the
way Word numbers them ("1.", "a.", "ii.", or "- " for bullets; a counter per list and level,
deeper levels indented), each table row as "| cell | cell |" (a nested table's text inside its
cell, a cell merged over columns once). A paragraph's text is its runs' text as shown with the
changes tracked so far accepted: insertions read, deletions not, a field's result but not its
code, content controls' text; text boxes, drawings, headers, footers, footnotes and comments are
not read. The main part is found through the package's relationships (Word Online writes
`word/document2.xml`).

Read with lxml, entities never resolved; a package that unpacks past `UNPACKED_MOST` in all, or
whose main part passes `BODY_MOST`, is refused before anything is parsed, and reading stops as
soon as the text passes `max_chars`. Every failure is an `Unreadable` with a one-line reason.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile

MIB = 1 << 20
UNPACKED_MOST = 256 * MIB  # a 10 MiB .docx of its images unpacks to about as much; of zeros, to gigabytes
BODY_MOST = 32 * MIB  # a 300-page report's body is some 5 MiB

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_STRICT_OFFICE = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _w(name: str) -> str:
    return f"{{{_W}}}{name}"


# never the text as shown: deleted runs, field codes, drawings and text boxes, alternate content,
# properties; footnote and comment references stay marks without text
_SKIPPED = {_w("del"), _w("instrText"), _w("delInstrText"), _w("drawing"), _w("pict"), _w("object"), _w("rPr"),
            _w("pPr"), _w("sdtPr"), f"{{{_MC}}}AlternateContent", _w("footnoteReference"), _w("commentReference")}
_HEADING_NAME = re.compile(r"(?i)^heading ([1-6])$")


class Unreadable(Exception):
    """A .docx that cannot be read; `reason` is one line."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def docx_text(data: bytes, max_chars: int | None = None) -> tuple[str, str]:
    """The body of a Word document as Markdown (see the module's doc), and its title ("" when none)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise Unreadable("not a readable Word document (.docx), damaged or of another kind "
                         "(an encrypted one, or a .doc renamed)") from None
    unpacked = sum(info.file_size for info in members.values())
    if unpacked > UNPACKED_MOST:
        raise Unreadable(f"it unpacks to {unpacked / MIB:,.0f} MiB, more than {UNPACKED_MOST // MIB} MiB; not read")
    with archive:
        main = _main_part(archive, members)
        if main is None:
            raise Unreadable("not a Word document (.docx): no main document part inside")
        if members[main].file_size > BODY_MOST:
            raise Unreadable(f"its body unpacks to {members[main].file_size / MIB:,.0f} MiB of XML, "
                             f"more than {BODY_MOST // MIB} MiB; not read")
        try:
            body = _parse(archive.read(main)).find(_w("body"))
            folder = posixpath.dirname(main)
            styles = _parse_optional(archive, members, posixpath.join(folder, "styles.xml"))
            numbering = _parse_optional(archive, members, posixpath.join(folder, "numbering.xml"))
            core = _parse_optional(archive, members, "docProps/core.xml")
        except Unreadable:
            raise
        except Exception as err:  # noqa: BLE001 - zip and XML errors of every kind on damaged files
            reason = (str(err).splitlines() or [""])[0][:200] or type(err).__name__
            raise Unreadable(f"not a readable Word document (.docx), damaged ({reason})") from None
    if body is None:
        raise Unreadable("not a Word document (.docx): its main part has no body")
    reader = _Reader(_Styles(styles), _Numbering(numbering), max_chars)
    reader.blocks_of(body)
    title = ""
    if core is not None:
        found = core.find("{http://purl.org/dc/elements/1.1/}title")
        title = (found.text or "").strip() if found is not None else ""
    return reader.text(), title or reader.title


def _parse(xml: bytes):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    return etree.fromstring(xml, parser)


def _parse_optional(archive, members, name: str):
    if name not in members or members[name].file_size > BODY_MOST:
        return None
    return _parse(archive.read(name))


def _main_part(archive, members) -> str | None:
    """The main document part named by the package's relationships, else `word/document.xml`."""
    if "_rels/.rels" in members and members["_rels/.rels"].file_size <= MIB:
        try:
            for rel in _parse(archive.read("_rels/.rels")):
                if rel.get("Type") in (_R_OFFICE, _STRICT_OFFICE):
                    name = posixpath.normpath(rel.get("Target", "").lstrip("/"))
                    if name in members:
                        return name
        except Exception:  # noqa: BLE001 - damaged relationships: the usual name below
            pass
    return "word/document.xml" if "word/document.xml" in members else None


class _Styles:
    """Paragraph style id -> its name, and the list numbering a style carries."""

    def __init__(self, root):
        self.names: dict[str, str] = {}
        self.numbering: dict[str, tuple[str, int]] = {}
        if root is None:
            return
        for style in root.iter(_w("style")):
            sid = style.get(_w("styleId")) or ""
            name = style.find(_w("name"))
            self.names[sid] = (name.get(_w("val")) if name is not None else sid) or sid
            num = style.find(f"{_w('pPr')}/{_w('numPr')}")
            if num is not None and (num_id := _val(num, "numId")):
                self.numbering[sid] = (num_id, int(_val(num, "ilvl") or 0))


class _Numbering:
    """numId -> level -> (format, start), from numbering.xml."""

    def __init__(self, root):
        self.levels: dict[str, dict[int, tuple[str, int]]] = {}
        if root is None:
            return
        abstract = {}
        for node in root.iter(_w("abstractNum")):
            abstract[node.get(_w("abstractNumId"))] = {
                int(lvl.get(_w("ilvl")) or 0): (_val(lvl, "numFmt") or "decimal", int(_val(lvl, "start") or 1))
                for lvl in node.iter(_w("lvl"))
            }
        for num in root.iter(_w("num")):
            self.levels[num.get(_w("numId"))] = abstract.get(_val(num, "abstractNumId"), {})


def _val(node, child: str) -> str | None:
    found = node.find(_w(child))
    return found.get(_w("val")) if found is not None else None


class _Reader:
    def __init__(self, styles: _Styles, numbering: _Numbering, max_chars: int | None):
        self.styles, self.numbering, self.max_chars = styles, numbering, max_chars
        self.blocks: list[tuple[str, str]] = []  # (kind, text): kind "p", "item" or "row"
        self.chars = 0
        self.counters: dict[str, list[int]] = {}
        self.title = ""

    def blocks_of(self, parent) -> None:
        for node in parent:
            if node.tag == _w("p"):
                self._paragraph(node)
            elif node.tag == _w("tbl"):
                for row in node.iter(_w("tr")):
                    if row.getparent() is node:
                        self._row(row)
            elif node.tag == _w("sdt"):  # a content control around blocks
                content = node.find(_w("sdtContent"))
                if content is not None:
                    self.blocks_of(content)

    def _add(self, kind: str, text: str) -> None:
        self.blocks.append((kind, text))
        self.chars += len(text) + 2
        if self.max_chars is not None and self.chars > self.max_chars:
            raise Unreadable(f"more text than the size limit allows (over {self.max_chars:,} characters; "
                             "ASSISTANT_MAX_FILE_MB sets it, in MiB of text)")

    def _paragraph(self, p) -> None:
        text = " ".join(_run_text(p).replace("\t", " ").split())
        if not text:
            return
        props = p.find(_w("pPr"))
        style_id = _val(props, "pStyle") if props is not None else None
        style = self.styles.names.get(style_id or "", style_id or "")
        outline = _val(props, "outlineLvl") if props is not None else None
        heading = _HEADING_NAME.match(style)
        if style.lower() == "title" or heading or (outline is not None and outline.isdigit() and int(outline) < 6):
            level = int(heading.group(1)) if heading else 1 if style.lower() == "title" else int(outline) + 1
            self.title = self.title or (text if style.lower() == "title" or level == 1 else "")
            self._add("p", "#" * level + " " + text)
            return
        num = props.find(_w("numPr")) if props is not None else None
        num_id, level = (_val(num, "numId"), int(_val(num, "ilvl") or 0)) if num is not None else (None, 0)
        if num_id is None and style_id in self.styles.numbering:
            num_id, level = self.styles.numbering[style_id]
        if num_id and num_id != "0":
            self._add("item", self._item(num_id, level, text))
        else:
            self._add("p", text)

    def _item(self, num_id: str, level: int, text: str) -> str:
        fmt, start = self.numbering.levels.get(num_id, {}).get(level, ("bullet", 1))
        counters = self.counters.setdefault(num_id, [])
        while len(counters) <= level:
            counters.append(0)
        counters[level] += 1
        del counters[level + 1:]  # a deeper list starts again after this item
        n = start + counters[level] - 1
        mark = {"decimal": f"{n}.", "lowerLetter": f"{_letters(n)}.", "upperLetter": f"{_letters(n).upper()}.",
                "lowerRoman": f"{_roman(n).lower()}.", "upperRoman": f"{_roman(n)}.", "none": ""}.get(fmt, "-")
        return "  " * level + (f"{mark} {text}" if mark else text)

    def _row(self, row) -> None:
        cells = []
        for cell in row.iter(_w("tc")):
            if cell.getparent() is not row:
                continue
            nested = _Reader(self.styles, self.numbering, None)
            nested.blocks_of(cell)
            # a cell's paragraphs, items and nested rows as one line of words
            cells.append(" ".join(" ".join(t.lstrip("#").strip("| ").replace(" | ", " ").split()) for _, t in nested.blocks))
        if any(cells):
            self._add("row", "| " + " | ".join(cells) + " |")

    def text(self) -> str:
        parts = []
        for i, (kind, text) in enumerate(self.blocks):
            if i:  # items of one list and rows of one table stay together
                parts.append("\n" if kind in ("item", "row") and self.blocks[i - 1][0] == kind else "\n\n")
            parts.append(text)
        return "".join(parts) + "\n" if parts else ""


def _run_text(p) -> str:
    """A paragraph's text as shown (see the module's doc)."""
    out: list[str] = []

    def walk(node) -> None:
        for child in node:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIPPED:
                continue
            if tag == _w("t"):
                out.append(child.text or "")
            elif tag == _w("tab"):
                out.append("\t")
            elif tag in (_w("br"), _w("cr")):
                out.append(" ")
            elif tag == _w("noBreakHyphen"):
                out.append("-")
            elif tag != _w("p"):  # a paragraph inside one is a text box's: not read
                walk(child)

    walk(p)
    return "".join(out)


def _letters(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa (as Word counts)."""
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + numeral, n - value
    return out
