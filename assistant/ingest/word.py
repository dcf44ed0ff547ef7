"""Word documents (.docx): the text of the body, as Markdown, read from its XML.

The body's paragraphs, lists and tables come in reading order, paragraphs apart by a blank line:
headings (a "Heading n" or Title style, an outline level, or a style based on one) as `#` lines,
list paragraphs as items numbered as Word numbers them: its level text ("%1.%2." -> "1.2.", "(%1)"
in letters -> "(a)", "Article %1" -> "Article 3"; "1." without one) with each counter in its format,
"- " for bullets (a counter per list and level, a list's start override obeyed, deeper levels
indented), each table row as "| cell | cell |" (a nested table's text inside its cell, a cell
merged over columns or rows in each of them, as pandas reads a web page's; two header rows that
repeat on each page as one, each column named by both; a header row, as the table's look or the row says, followed by a
Markdown "|---|" line; a table apart from the next by a blank line). A paragraph's text is its runs' text as shown, with the changes tracked so far
accepted: insertions and moves read where they land, deletions not, a field's result but not its
code, content controls' and custom XML's text, an equation's text; hidden text (set on a run, or
through its character or paragraph style) is not read. A text box's paragraphs, or a chart's title
and figures as a table (`charts.py`), follow the paragraph it is anchored in (a text box's first
form where Word writes two). Footnotes and endnotes are numbered in
one sequence in reading order, as `[^n]` where the reference stands (Markdown's footnote mark, not
an answer's citation marker `[n]`), and each note's text follows
the block that first refers to it ("Note n: The note."; after the list or table when it is in one),
so a note is read next to what it explains; a custom mark ("*") stands as written. Headers, footers,
comments and pictures are not read. The main part is found through the package's relationships
(Word Online writes `word/document2.xml`); Strict Open XML reads as the usual names.

Read with lxml, entities never resolved; a package that unpacks past `UNPACKED_MOST` in all, or
whose main part passes `BODY_MOST`, is refused before anything is parsed (styles, numbering and
properties past `PART_MOST`, notes parts past what the body leaves of `BODY_MOST`, or damaged, are read as absent), numbers in attributes are clamped to
what Word allows, and reading stops as soon as the text passes `max_chars`. Every failure is an
`Unreadable` with a one-line reason.
"""

from __future__ import annotations

import posixpath
import re

from assistant.ingest.charts import CHART, STRICT_NAMES, chart_tables
from assistant.ingest.package import (
    MIB, PART_MOST, UNPACKED_MOST, Unreadable, damaged, declared_title, open_package, parse, parse_optional, relationships,
)
from assistant.ingest.sentences import HEADER_LINE, SPAN_COPIES_MOST, SPAN_COPY_MOST, header_names, table_cells, table_row

__all__ = ["BODY_MOST", "PART_MOST", "UNPACKED_MOST", "Unreadable", "docx_text", "formatted_number"]

# XML parsed: a 300-page report's body is some 5 MiB; lxml holds some 30 bytes for each byte of tiny
# elements (31 MiB of "<a/>" had taken 1 GiB), so the parts read are bounded together
GRID_MOST = 63  # the most columns a Word table has: a cell's gridSpan is read up to it
BODY_MOST = 16 * MIB  # (styles, numbering and properties: PART_MOST each, a damaged or larger one read as absent)
LEVELS = 9  # list levels Word numbers (0-8)
START_MOST = 32767  # the largest number a Word list starts at
_STRICT = b"http://purl.oclc.org/ooxml/wordprocessingml/main"  # "Strict Open XML": the same names

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_STRICT_OFFICE = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
# the main part's links to its notes and charts (transitional and Strict)
_LINK_TYPES = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
               "http://purl.oclc.org/ooxml/officeDocument/relationships")
_NOTES = {f"{base}/{kind}": kind for kind in ("footnotes", "endnotes") for base in _LINK_TYPES}
_CHARTS = {f"{base}/chart" for base in _LINK_TYPES}
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _w(name: str) -> str:
    return f"{{{_W}}}{name}"


# never the text as shown: deleted (or moved away) runs, field codes, drawings and text boxes (read
# after their paragraph), alternate content, properties, a note's own number; comment references
_SKIPPED = {_w("del"), _w("moveFrom"), _w("instrText"), _w("delInstrText"), _w("drawing"), _w("pict"), _w("object"), _w("rPr"),
            _w("pPr"), _w("sdtPr"), f"{{{_MC}}}AlternateContent", _w("commentReference"), _w("footnoteRef"), _w("endnoteRef")}
_NOTE_REFERENCES = {_w("footnoteReference"): "footnotes", _w("endnoteReference"): "endnotes"}
_HEADING_NAME = re.compile(r"(?i)^heading ([1-6])$")


def docx_text(data: bytes, max_chars: int | None = None) -> tuple[str, str]:
    """The body of a Word document as Markdown (see the module's doc), and its title ("" when none)."""
    archive, members = open_package(data, "not a readable Word document (.docx), damaged or of another kind "
                                          "(an encrypted one, or a .doc renamed)", UNPACKED_MOST)
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
            linked = _Linked(archive, members, main)
        except Unreadable:
            raise
        except Exception as err:  # noqa: BLE001 - zip and XML errors of every kind on damaged files
            raise damaged("Word document (.docx)", err) from None
    if body is None:
        raise Unreadable("not a Word document (.docx): its main part has no body")
    try:
        reader = _Reader(_Styles(styles), _Numbering(numbering), max_chars, linked)
        reader.blocks_of(body)
        reader.flush_notes()
        title = declared_title(core)
    except Unreadable:
        raise
    except Exception as err:  # noqa: BLE001 - a value no Word writes: one line, never a traceback
        raise damaged("Word document (.docx)", err) from None
    return reader.text(), title or reader.title


_STRICT_NAMES = {_STRICT: _W.encode()}


def _parse(xml: bytes):
    return parse(xml, _STRICT_NAMES)


def _parse_optional(archive, members, name: str):
    """A part the text does not need (styles, numbering, properties), or None (`parse_optional`)."""
    return parse_optional(archive, members, name, renamed=_STRICT_NAMES)


def _main_part(archive, members) -> str | None:
    """The main document part named by the package's relationships, else `word/document.xml`."""
    for _, kind, name in relationships(archive, members, ""):
        if kind in (_R_OFFICE, _STRICT_OFFICE) and name in members:
            return name
    return "word/document.xml" if "word/document.xml" in members else None


class _Styles:
    """Per paragraph style id: its name, and (its own or through the styles it is based on) the
    list numbering it carries and the heading level it gives."""

    def __init__(self, root):
        self.names: dict[str, str] = {}
        self.numbering: dict[str, tuple[str, int]] = {}
        self.levels: dict[str, int] = {}
        self.hidden: set[str] = set()  # styles whose text is hidden (w:vanish in their run properties)
        self.bold: set[str] = set()  # styles whose text is bold (w:b)
        if root is None:
            return
        based, own_num, own_level, own_hidden, own_bold = {}, {}, {}, {}, {}
        for style in root.iter(_w("style")):
            sid = style.get(_w("styleId")) or ""
            name = style.find(_w("name"))
            self.names[sid] = (name.get(_w("val")) if name is not None else sid) or sid
            based[sid] = _val(style, "basedOn")
            props = style.find(_w("pPr"))
            num = props.find(_w("numPr")) if props is not None else None
            if num is not None and (num_id := _val(num, "numId")):
                own_num[sid] = (num_id, _number(_val(num, "ilvl"), 0, LEVELS - 1))
            run_props = style.find(_w("rPr"))
            if run_props is not None and run_props.find(_w("vanish")) is not None:
                own_hidden[sid] = _on(run_props.find(_w("vanish")))
            if run_props is not None and run_props.find(_w("b")) is not None:
                own_bold[sid] = _on(run_props.find(_w("b")))
            heading = _HEADING_NAME.match(self.names[sid])
            outline = _val(props, "outlineLvl") if props is not None else None
            if heading or sid.lower() == "title" or self.names[sid].lower() == "title":
                own_level[sid] = int(heading.group(1)) if heading else 1
            elif outline is not None and _number(outline, 9, 9) < 6:
                own_level[sid] = _number(outline, 9, 9) + 1
        for sid in self.names:  # through basedOn, nearest first (a chain of at most 10)
            chain, at = [], sid
            while at and at not in chain and len(chain) < 10:
                chain.append(at)
                at = based.get(at)
            self.numbering[sid] = next((own_num[c] for c in chain if c in own_num), None)
            self.levels[sid] = next((own_level[c] for c in chain if c in own_level), 0)
            if next((own_hidden[c] for c in chain if c in own_hidden), False):
                self.hidden.add(sid)
            if next((own_bold[c] for c in chain if c in own_bold), False):
                self.bold.add(sid)
        self.numbering = {k: v for k, v in self.numbering.items() if v}


class _Numbering:
    """numId -> level -> (format, start, level text: "%1.%2." writes the counters of levels 1 and 2),
    from numbering.xml."""

    def __init__(self, root):
        self.levels: dict[str, dict[int, tuple[str, int, str | None]]] = {}
        if root is None:
            return
        abstract = {}
        for node in root.iter(_w("abstractNum")):
            abstract[node.get(_w("abstractNumId"))] = {
                _number(lvl.get(_w("ilvl")), 0, LEVELS - 1): (_val(lvl, "numFmt") or "decimal",
                                                              _number(_val(lvl, "start"), 1, START_MOST), _val(lvl, "lvlText"))
                for lvl in node.iter(_w("lvl"))
            }
        for num in root.iter(_w("num")):
            levels = dict(abstract.get(_val(num, "abstractNumId"), {}))
            for override in num.iter(_w("lvlOverride")):  # a list that starts again at another number
                level, start = _number(override.get(_w("ilvl")), 0, LEVELS - 1), _val(override, "startOverride")
                if start is not None:
                    fmt, _, text = levels.get(level, ("decimal", 1, None))
                    levels[level] = (fmt, _number(start, 1, START_MOST), text)
            self.levels[num.get(_w("numId"))] = levels


def _val(node, child: str) -> str | None:
    found = node.find(_w(child))
    return found.get(_w("val")) if found is not None else None


def _number(text: str | None, default: int, most: int) -> int:
    """An attribute's whole number between 0 and `most` (`default` when it is none)."""
    try:
        return min(max(int(text), 0), most) if text is not None else default
    except ValueError:
        return default


class _Linked:
    """What the main part links to and the text refers to: its footnotes and endnotes
    (`w:footnote`/`w:endnote` elements; not the separators), with the mark each gets when first
    referred to (one sequence of numbers over both kinds, or the custom mark written in the text),
    and its charts' titles and tables by relationship id (`charts.chart_tables`)."""

    def __init__(self, archive=None, members=None, main: str = ""):
        self.notes: dict[tuple[str, str], object] = {}
        self.marks: dict[tuple[str, str], str] = {}
        self.charts: dict[str, tuple[str, list[list[str]]]] = {}
        self.numbered = 0  # notes numbered so far
        self.copies_left = SPAN_COPIES_MOST  # cells that merged cells may still fill, in all tables (nested ones too)
        if archive is None:
            return
        budget = BODY_MOST - members[main].file_size  # the body, its notes and charts are bounded together
        for rid, rel_type, name in relationships(archive, members, main):
            kind = _NOTES.get(rel_type) or ("chart" if rel_type in _CHARTS else None)
            if kind is None or name not in members or members[name].file_size > budget:
                continue
            root = parse_optional(archive, members, name, budget, {**_STRICT_NAMES, **STRICT_NAMES})
            if root is None:  # damaged: read as absent, its references as marks without a note
                continue
            budget -= members[name].file_size
            if kind == "chart":
                self.charts[rid] = chart_tables(root)
                continue
            for note in root.iter(_w(kind[:-1])):
                if note.get(_w("type"), "normal") == "normal":
                    self.notes[(kind, note.get(_w("id"), ""))] = note

    def mark(self, kind: str, note_id: str, custom: str | None) -> tuple[str, object | None]:
        """The mark of a reference, and the note when this is the first reference to it (else None)."""
        key = (kind, note_id)
        if key not in self.notes:
            return "", None
        if key in self.marks:
            return self.marks[key], None
        if not custom:
            self.numbered += 1
        self.marks[key] = custom or str(self.numbered)
        return self.marks[key], self.notes[key]


class _Reader:
    def __init__(self, styles: _Styles, numbering: _Numbering, max_chars: int | None, linked: _Linked | None = None,
                 flushes: bool = True):
        self.styles, self.numbering, self.max_chars = styles, numbering, max_chars
        self.linked = linked or _Linked()
        self.flushes = flushes  # False in a cell or a note: its notes and charts follow the table or note
        self.flushing = False
        self.pending: list[tuple[str, object]] = []  # (mark, note) or ("", chart id): to follow the current block, list or table
        self.blocks: list[tuple[str, str]] = []  # (kind, text): kind "p", "item" or "row"
        self.raw: list[str] = []  # each block's words without the marks added here (for a cell)
        self.chars = 0
        self.counters: dict[str, list[int]] = {}
        self.title = ""

    def blocks_of(self, parent) -> None:
        for node in _unwrapped(parent):
            if node.tag == _w("p"):
                self._paragraph(node)
            elif node.tag == _w("tbl"):
                first, merged = True, {}
                rows = [row for row in _unwrapped(node) if row.tag == _w("tr")]
                # a header of two rows, both repeated on each page (and the third not): one row, as for web pages
                two = len(rows) > 1 and _repeats(rows[0]) and _repeats(rows[1]) and not (len(rows) > 2 and _repeats(rows[2]))
                for i, row in enumerate(rows):
                    if self._row(row, "table" if first else "row", merged):
                        if first and (_has_header(node, row) or _bold_row(row, self.styles.bold)):
                            self._add("row", HEADER_LINE)
                        elif i == 1 and self.blocks[-2] == ("row", HEADER_LINE) and (two or _grouped(rows[0], self.blocks[-1][1])):
                            self._one_header_row()
                        first = False

    def _add(self, kind: str, text: str, raw: str = "") -> None:
        if self.pending and self.flushes and not self.flushing and not self._continues(kind):
            self.flush_notes()
        self.blocks.append((kind, text))
        self.raw.append(raw or text)
        self.chars += len(text) + 2
        if self.max_chars is not None and self.chars > self.max_chars:
            raise Unreadable(f"more text than the size limit allows (over {self.max_chars:,} characters; "
                             "ASSISTANT_MAX_FILE_MB sets it, in MiB of text)")

    def _continues(self, kind: str) -> bool:
        """Whether a block of `kind` goes on the list or table before it."""
        before = self.blocks[-1][0] if self.blocks else ""
        return (kind == before == "item") or (kind == "row" and before in ("row", "table"))

    def flush_notes(self) -> None:
        """The notes and charts held back so far: each note as its blocks, the first after its
        mark ("Note 1: …"), then the notes and charts they hold themselves; each chart as its title
        and tables."""
        self.flushing = True
        try:
            self._flush()
        finally:
            self.flushing = False

    def _flush(self) -> None:
        while self.pending:
            mark, held = self.pending.pop(0)
            if not mark:
                self._chart(held)
                continue
            reader = _Reader(self.styles, self.numbering, None, self.linked, flushes=False)
            reader.blocks_of(held)
            if not reader.blocks or reader.blocks[0][0] != "p":
                self._add("p", f"Note {mark}:")  # (one that opens with a list or table)
            for i, (kind, text) in enumerate(reader.blocks):
                self._add(kind, f"Note {mark}: {text}" if i == 0 and kind == "p" else text)
            self.pending[:0] = reader.pending

    def _paragraph(self, p) -> None:
        props = p.find(_w("pPr"))
        style_id = (_val(props, "pStyle") if props is not None else None) or ""
        if style_id in self.styles.hidden:  # (a paragraph style that hides its text)
            return
        boxes, notes = [], []
        marked, plain = _run_text(p, self.styles.hidden, boxes, self._note(notes))
        text = " ".join(marked.replace("\t", " ").split())
        if text:
            self._text(text, props, style_id, " ".join(plain.replace("\t", " ").split()))
        self.pending.extend(notes)
        for box in boxes:  # a text box's paragraphs, or a chart's title and tables, after the paragraph it is anchored in
            if box.tag != f"{{{CHART}}}chart":
                self.blocks_of(box)
            elif self.flushes:
                self._chart(box.get(f"{{{_R}}}id", ""))
            else:  # in a table's cell (or a note): after the table
                self.pending.append(("", box.get(f"{{{_R}}}id", "")))

    def _chart(self, rid: str) -> None:
        title, tables = self.linked.charts.get(rid, ("", []))
        if title:
            self._add("p", title)
        for rows in tables:
            for i, row in enumerate(rows):
                self._add("row" if i else "table", row)

    def _note(self, found: list):
        """What `_run_text` calls at a note reference: its mark as the text shows it (none for a
        custom mark, which the text writes), the note kept in `found` when first referred to."""
        def reference(kind: str, note_id: str, custom: str | None) -> str:
            mark, note = self.linked.mark(kind, note_id, custom)
            if note is not None:
                found.append((mark, note))
            return f"[^{mark}]" if mark and not custom else ""  # (as Markdown marks one: not an answer's "[1]")
        return reference

    def _text(self, text: str, props, style_id: str, plain: str) -> None:
        style = self.styles.names.get(style_id, style_id)
        outline = _val(props, "outlineLvl") if props is not None else None
        heading = _HEADING_NAME.match(style)
        level = (int(heading.group(1)) if heading else 1 if style.lower() == "title"
                 else _number(outline, 9, 9) + 1 if outline is not None and _number(outline, 9, 9) < 6
                 else self.styles.levels.get(style_id, 0))
        if level:
            self.title = self.title or (plain if level == 1 else "")  # (without note marks)
            self._add("p", "#" * level + " " + text, text)
            return
        num = props.find(_w("numPr")) if props is not None else None
        num_id, ilvl = (_val(num, "numId"), _val(num, "ilvl")) if num is not None else (None, None)
        style_num, style_level = self.styles.numbering.get(style_id, (None, 0))
        num_id = num_id or style_num
        level = _number(ilvl, style_level, LEVELS - 1)
        if num_id and num_id != "0":
            self._add("item", self._item(num_id, level, text), text)
        else:
            self._add("p", text)

    def _item(self, num_id: str, level: int, text: str) -> str:
        levels = self.numbering.levels.get(num_id, {})
        fmt, _, pattern = levels.get(level, ("bullet", 1, None))
        counters = self.counters.setdefault(num_id, [])
        while len(counters) <= level:
            counters.append(0)
        counters[level] += 1
        del counters[level + 1:]  # a deeper list starts again after this item
        if fmt in ("bullet", "none"):
            mark = "-" if fmt == "bullet" else ""
        else:  # Word's level text ("%1.%2.", "(%1)", "Article %1"), each %k the counter of level k in its format
            def number(k: int) -> str:
                k_fmt, k_start, _ = levels.get(k, ("decimal", 1, None))
                return formatted_number(k_start + max(counters[k] if k < len(counters) else 0, 1) - 1, k_fmt)
            mark = re.sub(r"%([1-9])", lambda m: number(int(m.group(1)) - 1), pattern) if pattern else f"{number(level)}."
            mark = " ".join(mark.split())
        return "  " * level + (f"{mark} {text}" if mark else text)

    def _row(self, row, kind: str = "row", merged: dict | None = None) -> bool:
        """A table row as "| a | b |" (`kind` "table" for its table's first): whether it held text.
        A cell merged over columns or rows is written in each of them (a long one, or one of several
        paragraphs, once, and empty cells for the rest; a row's only cell, a note across the table,
        once; a row that only goes on merges from above left out; the columns `gridBefore` skips
        empty), as the HTML reader does: `merged` holds, by grid column, the copy of a vertical
        merge that goes on. Copies count against the document's `SPAN_COPIES_MOST`."""
        merged = {} if merged is None else merged
        row_props = row.find(_w("trPr"))
        before = row_props.find(_w("gridBefore")) if row_props is not None else None
        column = _number(before.get(_w("val")) if before is not None else None, 0, GRID_MOST)  # grid columns left empty first
        cells, notes, going_on = [""] * column, [], 0
        tcs = [cell for cell in _unwrapped(row) if cell.tag == _w("tc")]
        for cell in tcs:
            props = cell.find(_w("tcPr"))
            span = props.find(_w("gridSpan")) if props is not None else None
            columns = _number(span.get(_w("val")) if span is not None else None, 1, GRID_MOST) or 1
            vmerge = props.find(_w("vMerge")) if props is not None else None
            nested = _Reader(self.styles, self.numbering, None, self.linked, flushes=False)
            nested.blocks_of(cell)
            text = " ".join(nested.raw)  # its paragraphs, items and nested rows as one line (`table_row`)
            notes += nested.pending
            # a copy: of one paragraph (a cell of several, a form's or a CV's sidebar, lays out a page) and short
            copy = text if len(text) <= SPAN_COPY_MOST and len(nested.raw) <= 1 else ""
            continues = vmerge is not None and vmerge.get(_w("val"), "continue") != "restart"
            if continues:
                text = copy = merged.get(column, "") or text  # a cell that a merge from above fills, empty in the file
                going_on += 1
            copies = (columns - 1 if len(tcs) > 1 else 0) + continues
            if copies > self.linked.copies_left:  # past the document's bound: written once
                text, copy = ("" if continues else text), ""
            self.linked.copies_left -= min(copies, self.linked.copies_left)
            for at in range(column, column + columns):
                merged.pop(at, None)
                if vmerge is not None:
                    merged[at] = copy
            cells += [text] + [copy] * (columns - 1 if len(tcs) > 1 else 0)
            column += columns
        if going_on and going_on == len(tcs):  # a row that merges from above only (a note's second row) adds nothing
            cells = []
        if any(cells):
            self._add(kind, table_row(cells), " ".join(c for c in cells if c))
        self.pending.extend(notes)
        return any(cells)

    def _one_header_row(self) -> None:
        """The last three blocks, a header row, its `|---|` line and a second header row, as one
        header row whose columns both rows name (`sentences.header_names`)."""
        (kind, first), line, (_, second) = self.blocks[-3:]
        first, second = table_cells(first), table_cells(second)
        if len(first) == len(second):
            names = header_names(first, second)
            self.blocks[-3:] = [(kind, table_row(names)), line]
            self.raw[-3:] = [" ".join(n for n in names if n), self.raw[-2]]

    def text(self) -> str:
        parts = []
        for i, (kind, text) in enumerate(self.blocks):
            if i:  # items of one list and rows of one table stay together; a table starts apart from another
                before = self.blocks[i - 1][0]
                together = (kind == before == "item") or (kind == "row" and before in ("row", "table"))
                parts.append("\n" if together else "\n\n")
            parts.append(text)
        return "".join(parts) + "\n" if parts else ""


def _has_header(table, first_row) -> bool:
    """Whether a table's first row is its header: the table's look says so (Word's "Header Row",
    on in a new table) or the row repeats as a header on each page."""
    props = table.find(_w("tblPr"))
    look = props.find(_w("tblLook")) if props is not None else None
    if look is not None:
        flag = look.get(_w("firstRow"))
        if flag is not None:
            if flag in ("1", "true", "on"):
                return True
        elif re.fullmatch(r"[0-9A-Fa-f]{1,4}", look.get(_w("val"), "")) and int(look.get(_w("val")), 16) & 0x0020:
            return True
    return _repeats(first_row)


def _grouped(first_row, second: str) -> bool:
    """Whether a header row with a cell merged over columns ("Daily allowance" over two) has a
    second header row under it that names those columns: the second row's first cell empty (the
    corner under the first column's name) and every other filled ("|  | Meals | Hotel |"). It had
    been read as a row of data, and the rows under it by "Daily allowance" twice."""
    spans = [span for span in first_row.iter(_w("gridSpan")) if _number(span.get(_w("val")), 1, GRID_MOST) > 1]
    cells = table_cells(second)
    return bool(spans) and len(cells) > 1 and not cells[0] and all(cells[1:])


def _repeats(row) -> bool:
    """Whether a table row repeats as a header on each page."""
    row_props = row.find(_w("trPr"))
    repeated = row_props.find(_w("tblHeader")) if row_props is not None else None
    return repeated is not None and _on(repeated)


def _bold_row(row, bold_styles: set[str]) -> bool:
    """Whether every word of a table's row is bold (on its run, or through its character or
    paragraph style): a header, as a reader takes it, in a table that does not say so."""
    worded = False
    for p in row.iter(_w("p")):
        props = p.find(_w("pPr"))
        paragraph_bold = ((_val(props, "pStyle") if props is not None else None) or "") in bold_styles
        for run in p.iter(_w("r")):
            if not "".join(t.text or "" for t in run.findall(_w("t"))).strip():
                continue
            worded = True
            run_props = run.find(_w("rPr"))
            flag = run_props.find(_w("b")) if run_props is not None else None
            if flag is not None:
                bold = _on(flag)
            else:
                bold = paragraph_bold or (run_props is not None and (_val(run_props, "rStyle") or "") in bold_styles)
            if not bold:
                return False
    return worded


def _run_text(p, hidden_styles: set[str] = frozenset(), boxes: list | None = None, note=None) -> tuple[str, str]:
    """A paragraph's text as shown (see the module's doc), and the same without note marks; runs of
    `hidden_styles` are hidden. Its text boxes' contents are put in `boxes`; at a note reference,
    `note(kind, id, custom mark or None)` gives the mark to write."""
    out: list[str] = []
    references: list[tuple[int, str, str, str | None]] = []  # (where in out, kind, id, the mark the text writes)

    def walk(node) -> None:
        for child in node:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag in _NOTE_REFERENCES and note is not None:
                written = _custom_mark(child) if _on_attribute(child.get(_w("customMarkFollows"))) else None
                references.append((len(out), _NOTE_REFERENCES[tag], child.get(_w("id"), ""), written))
                out.append("")  # its mark, once known
                continue
            if tag in _BOX_HOLDERS and boxes is not None:
                boxes.extend(_text_boxes(child))
            if tag in _SKIPPED:
                continue
            if tag == _w("r") and _hidden(child, hidden_styles):
                continue
            if tag in (_w("t"), f"{{{_MATH}}}t"):  # (an equation's text too)
                out.append("".join(child.itertext()))
            elif tag in (_w("tab"), _w("ptab")):
                out.append("\t")
            elif tag in (_w("br"), _w("cr")):
                out.append(" ")
            elif tag == _w("noBreakHyphen"):
                out.append("-")
            elif tag == _w("sym"):
                out.append(_symbol(child))
            elif tag != _w("p"):  # a paragraph inside one is a text box's: read after it
                walk(child)

    walk(p)
    plain = "".join(out)
    for at, kind, note_id, written in references:  # in the text's order
        out[at] = note(kind, note_id, written)
    return "".join(out), plain


def _custom_mark(reference) -> str:
    """The mark a reference's own run writes after it ("*", "†", a symbol), "*" when it writes none."""
    mark = []
    for sibling in reference.itersiblings():
        if sibling.tag == _w("t"):
            mark.append(sibling.text or "")
        elif sibling.tag == _w("sym"):
            mark.append(_symbol(sibling))
    return " ".join("".join(mark).split()) or "*"


def _symbol(sym) -> str:
    """A `w:sym` character (a symbol font's, written in its private-use range): as its character."""
    try:
        code = int(sym.get(_w("char"), ""), 16)
    except ValueError:
        return ""
    return chr(code - 0xF000) if 0xF020 <= code <= 0xF0FF else chr(code) if 0x20 <= code < 0x110000 else ""


_BOX_HOLDERS = {_w("drawing"), _w("pict"), f"{{{_MC}}}AlternateContent"}


def _text_boxes(holder) -> list:
    """The text boxes (`w:txbxContent`) and charts (`c:chart`) of a drawing, a VML picture or
    alternate content (its first choice that holds one, else its fallback: Word writes a text box
    in both forms), without the boxes inside them (read with their box)."""
    if holder.tag == f"{{{_MC}}}AlternateContent":
        for form in [*holder.findall(f"{{{_MC}}}Choice"), *holder.findall(f"{{{_MC}}}Fallback")]:
            found = _text_boxes_in(form)
            if found:
                return found
        return []
    return _text_boxes_in(holder)


def _text_boxes_in(node) -> list:
    found = []
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if child.tag in (_w("txbxContent"), f"{{{CHART}}}chart"):
            found.append(child)
        elif child.tag == f"{{{_MC}}}AlternateContent":
            found.extend(_text_boxes(child))
        else:
            found.extend(_text_boxes_in(child))
    return found


# what may stand around blocks, rows and cells: content controls, custom XML, tracked insertions and moves
_WRAPPERS = {_w("sdt"), _w("customXml"), _w("ins"), _w("moveTo")}


def _unwrapped(parent):
    """`parent`'s children, with the content of any wrapper (`_WRAPPERS`) in its place."""
    for node in parent:
        if node.tag in _WRAPPERS:
            yield from _unwrapped(node.find(_w("sdtContent")) if node.tag == _w("sdt") and node.find(_w("sdtContent")) is not None
                                  else node)
        elif isinstance(node.tag, str) and node.tag != _w("sdtPr"):
            yield node


def _hidden(run, hidden_styles: set[str] = frozenset()) -> bool:
    """Whether a run is hidden text: `w:vanish` on it, or a character style that hides it."""
    props = run.find(_w("rPr"))
    if props is None:
        return False
    vanish = props.find(_w("vanish"))
    if vanish is not None:
        return _on(vanish)
    return (_val(props, "rStyle") or "") in hidden_styles


def _on(toggle) -> bool:
    """A toggle property's value: on unless its val says off."""
    return toggle.get(_w("val"), "true") not in ("0", "false", "off")


def _on_attribute(value: str | None) -> bool:
    """An on/off attribute's value: off when absent."""
    return value in ("1", "true", "on")


def formatted_number(n: int, fmt: str) -> str:
    """A list counter in a Word number format: letters and Roman numerals in their forms, every
    other numbered format as digits."""
    return {"lowerLetter": _letters(n), "upperLetter": _letters(n).upper(), "lowerRoman": _roman(n).lower(),
            "upperRoman": _roman(n), "decimalZero": f"{n:02d}"}.get(fmt, str(n))


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
