"""PowerPoint decks (.pptx): each slide's text, as Markdown, read from its XML.

Slides come in the deck's order, hidden ones left out, each as a page of its own numbered as
PowerPoint numbers it: its title as a `#` line (when it has one), then the text of its shapes in
the slide's order (groups opened, hidden shapes left out, a shape saved in two forms read in the
one that holds text): a text's paragraphs, bulleted or numbered ones as "- " or numbered items
("1.", "d)", "iv.", as the slide shows them) indented by level (a placeholder's paragraphs are
bulleted as its layout says, unless they say otherwise; a text box's only when they say so), an
equation's text, a table's rows as "| cell | cell |" (a cell merged over columns or rows in each; its
header row, as the table's style options say, followed by a Markdown "|---|" line), a
SmartArt diagram's text as items, a chart's title and figures as a table (`charts.py`); then its
speaker notes under "## Notes". Dates, footers and slide numbers are left out, and so are pictures.

Read with lxml, entities never resolved, within the bounds of `package` (see there); the slides',
their layouts', diagrams' and notes' XML and their relationships are bounded together by
`SLIDES_MOST` (each part read once), and reading stops as soon as the text passes `max_chars`.
Strict Open XML reads as the usual names. Every failure is an `Unreadable` with a one-line reason.
"""

from __future__ import annotations

import re

from assistant.ingest.charts import CHART, STRICT_CHART, chart_tables
from assistant.ingest.package import (
    MIB, UNPACKED_MOST, Unreadable, damaged, declared_title, open_package, parse, parse_optional, relationships,
    relationships_part,
)
from assistant.ingest.sentences import HEADER_LINE, SPAN_COPY_MOST, table_row
from assistant.ingest.word import formatted_number

__all__ = ["SLIDES_MOST", "UNPACKED_MOST", "Unreadable", "pptx_text"]

SLIDES_MOST = 16 * MIB  # the XML read, in all (a 200-slide deck holds some 5 MiB)
LEVELS = 9  # paragraph levels (0-8)

_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_MATH = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_DIAGRAM = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
_STRICT_NAMES = {b"http://purl.oclc.org/ooxml/presentationml/main": _P.encode(),
                 b"http://purl.oclc.org/ooxml/drawingml/main": _A.encode(),
                 b"http://purl.oclc.org/ooxml/drawingml/diagram": _DIAGRAM.encode(),
                 b"http://purl.oclc.org/ooxml/officeDocument/relationships": _R.encode(),  # the r: names and link types
                 b"http://purl.oclc.org/ooxml/officeDocument/math": _MATH.encode(), STRICT_CHART: CHART.encode()}
_OFFICE, _SLIDE, _NOTES, _LAYOUT = (f"{_R}/{kind}" for kind in ("officeDocument", "slide", "notesSlide", "slideLayout"))
_TITLES = {"title", "ctrTitle"}
_LEFT_OUT = {"dt", "ftr", "sldNum", "hdr", "sldImg"}  # running lines and the notes page's picture of the slide
_UNBULLETED = {"title", "ctrTitle", "subTitle"}  # placeholders the layouts do not bullet (a body's: bulleted)
_DEFAULT_TITLES = {"PowerPoint Presentation", "PowerPoint-Präsentation", "Présentation PowerPoint", "Presentación de PowerPoint"}
_AUTONUM = re.compile(r"(arabic|alphaLc|alphaUc|romanLc|romanUc)(Period|ParenR|ParenBoth|Plain|Minus)?")
_FORMATS = {"arabic": "decimal", "alphaLc": "lowerLetter", "alphaUc": "upperLetter", "romanLc": "lowerRoman", "romanUc": "upperRoman"}


def _p(name: str) -> str:
    return f"{{{_P}}}{name}"


def _a(name: str) -> str:
    return f"{{{_A}}}{name}"


_SHAPES = {_p("sp"), _p("graphicFrame"), _p("grpSp")}  # the shapes read (pictures and connectors hold no text)


def pptx_text(data: bytes, max_chars: int | None = None) -> tuple[list[tuple[int, str]], str]:
    """(slide number, its text as Markdown) for each shown slide with any text, and the deck's title
    ("" when none, or PowerPoint's own placeholder title)."""
    archive, members = open_package(data, "not a readable PowerPoint deck (.pptx), damaged or of another kind "
                                          "(an encrypted one, or a .ppt renamed)", UNPACKED_MOST)
    with archive:
        reader = _Reader(archive, members, max_chars)
        main = next((name for _, kind, name in reader.links("") if kind == _OFFICE and name in members), "ppt/presentation.xml")
        if main not in members:
            raise Unreadable("not a PowerPoint deck (.pptx): no presentation part inside")
        try:
            presentation = reader.part(main)
            if presentation.tag != _p("presentation"):
                raise Unreadable("not a PowerPoint deck (.pptx): its main part is not a presentation")
            links = {rid: name for rid, kind, name in reader.links(main) if kind == _SLIDE and name in members}
            listed = presentation.find(_p("sldIdLst"))
            order = list(dict.fromkeys(name for entry in (listed if listed is not None else ())
                                       if (name := links.get(entry.get(f"{{{_R}}}id")))))  # each slide once
            texts = [(number, text) for number, name in enumerate(order, start=1) if (text := reader.slide(name, number))]
            core = parse_optional(archive, members, "docProps/core.xml")
        except Unreadable:
            raise
        except Exception as err:  # noqa: BLE001 - zip and XML errors of every kind on damaged files
            raise damaged("PowerPoint deck (.pptx)", err) from None
    title = declared_title(core)
    return texts, (title if title not in _DEFAULT_TITLES else "") or reader.first_title


class _Reader:
    def __init__(self, archive, members, max_chars: int | None):
        self.archive, self.members, self.max_chars = archive, members, max_chars
        self.read = self.chars = 0
        self.first_title = ""
        self._parts: dict[str, object] = {}
        self._links: dict[str, list[tuple[str, str, str]]] = {}
        self._layouts: dict[str, dict] = {}

    def _count(self, name: str) -> None:
        self.read += self.members[name].file_size if name in self.members else 0
        if self.read > SLIDES_MOST:
            raise Unreadable(f"its slides unpack to more than {SLIDES_MOST / MIB:,.0f} MiB of XML; not read")

    def part(self, name: str):
        """A part's XML, read once."""
        if name not in self._parts:
            self._count(name)
            self._parts[name] = parse(self.archive.read(name), _STRICT_NAMES)
        return self._parts[name]

    def links(self, name: str) -> list[tuple[str, str, str]]:
        """A part's relationships (`package.relationships`), read once and counted."""
        if name not in self._links:
            self._count(relationships_part(name))
            self._links[name] = relationships(self.archive, self.members, name, _STRICT_NAMES)
        return self._links[name]

    def _linked(self, name: str, kind: str) -> str | None:
        return next((n for _, k, n in self.links(name) if k == kind and n in self.members), None)

    def slide(self, name: str, number: int) -> str:
        """A shown slide's text (see the module's doc), "" for a hidden one or one without text."""
        root = self.part(name)
        if root.get("show") in ("0", "false"):
            return ""
        layout = self._linked(name, _LAYOUT)
        title, blocks = self._shapes(root, name, self._layout_bullets(layout) if layout else {})
        if title and not self.first_title:
            self.first_title = title
        notes = self._linked(name, _NOTES)
        noted = self._shapes(self.part(notes), notes, {}, notes=True)[1] if notes else []
        text = "\n\n".join([*([f"# {title}"] if title else []), *blocks, *(["## Notes", *noted] if noted else [])])
        self.chars += len(text)
        if self.max_chars is not None and self.chars > self.max_chars:
            raise Unreadable(f"more text than the size limit allows (over {self.max_chars:,} characters by slide {number}; "
                             "ASSISTANT_MAX_FILE_MB sets it, in MiB of text)")
        return text

    def _layout_bullets(self, layout: str) -> dict:
        """For each placeholder of a layout (by idx, and by type), per level, whether its paragraphs
        are bulleted (True), not (False), or as the placeholder's kind has them (absent)."""
        if layout not in self._layouts:
            found: dict = {}
            for shape in _walk(self.part(layout).find(f"{_p('cSld')}/{_p('spTree')}")):
                holder = shape.find(f"{_p('nvSpPr')}/{_p('nvPr')}/{_p('ph')}")
                styles = shape.find(f"{_p('txBody')}/{_a('lstStyle')}")
                if holder is None or styles is None:
                    continue
                levels = {}
                for level in range(LEVELS):
                    props = styles.find(_a(f"lvl{level + 1}pPr"))
                    if (marked := _bullet_mark(props)) is not None:
                        levels[level] = marked
                for key in (("idx", holder.get("idx")), ("type", holder.get("type", "body"))):
                    if key[1] is not None:
                        found.setdefault(key, levels)
            self._layouts[layout] = found
        return self._layouts[layout]

    def _shapes(self, root, name: str, layout: dict, notes: bool = False) -> tuple[str, list[str]]:
        """A slide's (or notes page's) title and its other text blocks, in order."""
        title, blocks = "", []
        for shape in _walk(root.find(f"{_p('cSld')}/{_p('spTree')}")):
            if shape.tag == _p("graphicFrame"):
                rows = _table(shape) or self._diagram(shape, name)
                caption, tables = self._chart(shape, name) if not rows else ("", [])
                blocks.extend([caption] if caption else [])
                blocks.extend("\n".join(lines) for lines in ([rows] if rows else tables))
                continue
            holder = shape.find(f"{_p('nvSpPr')}/{_p('nvPr')}/{_p('ph')}")
            kind = None if holder is None else holder.get("type", "body")
            if kind in _LEFT_OUT:
                continue
            body = shape.find(_p("txBody"))
            if body is None:
                continue
            if kind in _TITLES and not notes:
                title = title or " ".join(t for p in body.iter(_a("p")) if (t := _text(p)))
                continue
            inherited = {}
            if holder is not None and not notes:
                by_idx = ("idx", holder.get("idx"))
                inherited = layout[by_idx] if by_idx in layout else layout.get(("type", kind), {})
            bulleted = holder is not None and not notes and kind not in _UNBULLETED
            if lines := _paragraphs(body, bulleted, inherited):
                blocks.append("\n".join(lines))
        return " ".join(title.split()), blocks

    def _chart(self, frame, name: str) -> tuple[str, list[list[str]]]:
        """A chart's title and figures (`charts.chart_tables`), from the chart part it links to."""
        found = frame.find(f".//{{{CHART}}}chart")
        part = dict((rid, part) for rid, _, part in self.links(name)).get(found.get(f"{{{_R}}}id")) if found is not None else None
        if part is None or part not in self.members:
            return "", []
        return chart_tables(self.part(part))

    def _diagram(self, frame, name: str) -> list[str]:
        """A SmartArt diagram's text, each of its points an item, from its data part."""
        ids = frame.find(f".//{{{_DIAGRAM}}}relIds")
        if ids is None:
            return []
        data = dict((rid, part) for rid, _, part in self.links(name)).get(ids.get(f"{{{_R}}}dm"))
        if data is None or data not in self.members:
            return []
        items = []
        for point in self.part(data).iter(f"{{{_DIAGRAM}}}pt"):
            if point.get("type", "node") in ("node", "asst") and (body := point.find(f"{{{_DIAGRAM}}}t")) is not None:
                items.extend(f"- {t}" for p in body.iter(_a("p")) if (t := _text(p)))
        return items


def _hidden(shape) -> bool:
    props = next((child.find(_p("cNvPr")) for child in shape if child.tag.startswith(f"{{{_P}}}nv")), None)
    return props is not None and props.get("hidden") in ("1", "true")


def _walk(tree):
    """The shapes of a shape tree in order, groups opened, hidden ones left out (a shape saved in
    two forms, `mc:AlternateContent`, read in the first that holds shapes: an equation's text box is
    a picture in its fallback)."""
    for child in tree if tree is not None else ():
        if child.tag == f"{{{_MC}}}AlternateContent":
            forms = [*child.iterfind(f"{{{_MC}}}Choice"), *child.iterfind(f"{{{_MC}}}Fallback")]
            yield from _walk(next((form for form in forms if any(c.tag in _SHAPES for c in form)), None))
        elif child.tag in _SHAPES and not _hidden(child):
            yield from _walk(child) if child.tag == _p("grpSp") else (child,)


def _text(paragraph) -> str:
    """A paragraph's text: its runs, fields and equations, a line break as a space."""
    parts = []
    for node in paragraph.iter(_a("t"), _a("br"), f"{{{_MATH}}}t"):
        parts.append(" " if node.tag == _a("br") else (node.text or ""))
    return " ".join("".join(parts).split())


def _bullet_mark(props) -> bool | None:
    """Whether paragraph properties bullet (True), say no bullet (False), or leave it (None)."""
    if props is None:
        return None
    tags = {child.tag for child in props}
    if _a("buNone") in tags:
        return False
    return True if tags & {_a("buChar"), _a("buAutoNum"), _a("buBlip")} else None


def _paragraphs(body, bulleted: bool, inherited: dict) -> list[str]:
    """A text body's paragraphs as lines: items ("- ", "1.", "d)") indented two spaces a level, or plain."""
    lines, counters = [], {}
    for paragraph in body.iter(_a("p")):
        text = _text(paragraph)
        if not text:
            continue
        props = paragraph.find(_a("pPr"))
        lvl = props.get("lvl", "0") if props is not None else "0"
        level = min(int(lvl), LEVELS - 1) if lvl.isdigit() else 0
        own = _bullet_mark(props)
        item = own if own is not None else inherited.get(level, bulleted)
        autonum = props.find(_a("buAutoNum")) if props is not None else None
        if not item:
            lines.append(text)
            counters.clear()
            continue
        counters = {k: v for k, v in counters.items() if k <= level}
        if autonum is None:
            counters.pop(level, None)
            lines.append("  " * level + "- " + text)
            continue
        start = autonum.get("startAt", "1")
        counters[level] = counters.get(level, (min(int(start), 32767) if start.isdigit() else 1) - 1) + 1
        lines.append("  " * level + _numbered(counters[level], autonum.get("type", "arabicPeriod")) + " " + text)
    return lines


def _numbered(n: int, kind: str) -> str:
    """A counter as PowerPoint shows it: "arabicPeriod" 1., "alphaLcParenR" a), "romanUcParenBoth" (I)."""
    found = _AUTONUM.match(kind)
    style, punctuation = (found.group(1), found.group(2)) if found else ("arabic", "Period")
    number = formatted_number(n, _FORMATS[style])
    return {"ParenR": f"{number})", "ParenBoth": f"({number})", "Plain": number, "Minus": f"- {number} -"}.get(punctuation, f"{number}.")


def _table(frame) -> list[str]:
    """A table's rows as "| cell | cell |" lines (a cell merged over others written in each of them,
    as the web page and Word readers do: a long one once, and a row's only cell once), its header
    row (the table's "Header Row" style option, on in a new table) followed by a Markdown "|---|" line."""
    rows, above = [], []
    for row in frame.iter(_a("tr")):
        texts, cells = [], []  # each cell's text as a copy reads it (a long one, or one of several paragraphs, empty), and as written
        tcs = list(row.iter(_a("tc")))
        for column, cell in enumerate(tcs):
            if cell.get("hMerge") in ("1", "true") and texts:
                text = copy = texts[-1]
            elif cell.get("vMerge") in ("1", "true") and column < len(above):
                text = copy = above[column]
            else:
                paragraphs = [t for p in cell.iter(_a("p")) if (t := _text(p))]
                text = " ".join(paragraphs)
                copy = text if len(text) <= SPAN_COPY_MOST and len(paragraphs) <= 1 else ""
            texts.append(copy)
            cells.append(text)
        above = texts
        if len(tcs) > 1 and all(c.get("hMerge") in ("1", "true") for c in tcs[1:]):
            cells = cells[:1]  # a row's only cell, a note across the table: once
        if all(c.get("hMerge") in ("1", "true") or c.get("vMerge") in ("1", "true") for c in tcs[1:]) and tcs and \
                tcs[0].get("vMerge") in ("1", "true"):
            cells = []  # a row that merges from above only (a note's second row) adds nothing
        if any(cells):
            rows.append(table_row(cells))
    props = frame.find(f".//{_a('tblPr')}")
    if rows and props is not None and props.get("firstRow") in ("1", "true"):
        rows.insert(1, HEADER_LINE)
    return rows
