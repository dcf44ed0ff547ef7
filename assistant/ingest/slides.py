"""PowerPoint decks (.pptx): each slide's text, as Markdown, read from its XML.

Slides come in the deck's order, hidden ones left out, each as a page of its own numbered as
PowerPoint numbers it: its title as a `#` line (when it has one), then the text of its
shapes in the slide's order (groups opened): a text's paragraphs, bulleted or numbered ones as
"- " or "n." items indented by level (a placeholder's paragraphs are bulleted unless they say
otherwise, a text box's only when they say so), a table's rows as "| cell | cell |" (a cell merged
over columns or rows once); then its speaker notes under "## Notes". Dates, footers and slide
numbers are left out, and so are pictures, charts and SmartArt (their text is drawn, not stored
as text).

Read with lxml, entities never resolved, within the bounds of `package` (see there); the slides'
and notes' XML is bounded together by `SLIDES_MOST`, and reading stops as soon as the text passes
`max_chars`. Every failure is an `Unreadable` with a one-line reason.
"""

from __future__ import annotations

from assistant.ingest.package import MIB, UNPACKED_MOST, Unreadable, open_package, parse, parse_optional, relationships

__all__ = ["SLIDES_MOST", "UNPACKED_MOST", "Unreadable", "pptx_text"]

SLIDES_MOST = 16 * MIB  # the slides' and notes' XML, in all (a 200-slide deck holds some 5 MiB)

_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_OFFICE = _RELS + "officeDocument"
_SLIDE, _NOTES = _RELS + "slide", _RELS + "notesSlide"
_TITLES = {"title", "ctrTitle"}
_LEFT_OUT = {"dt", "ftr", "sldNum", "hdr", "sldImg"}  # running lines and the notes page's picture of the slide
_BULLETED = {"body", "obj", "subTitle", None}  # placeholders whose paragraphs the layout bullets (a subtitle's: not)
_UNBULLETED = {"subTitle"}


def _p(name: str) -> str:
    return f"{{{_P}}}{name}"


def _a(name: str) -> str:
    return f"{{{_A}}}{name}"


def pptx_text(data: bytes, max_chars: int | None = None) -> tuple[list[tuple[int, str]], str]:
    """(slide number, its text as Markdown) for each shown slide with any text, and the deck's title
    ("" when none)."""
    archive, members = open_package(data, "not a readable PowerPoint deck (.pptx), damaged or of another kind "
                                          "(an encrypted one, or a .ppt renamed)", UNPACKED_MOST)
    with archive:
        main = next((name for _, kind, name in relationships(archive, members, "") if kind == _OFFICE and name in members),
                    "ppt/presentation.xml")
        if main not in members:
            raise Unreadable("not a PowerPoint deck (.pptx): no presentation part inside")
        reader = _Reader(archive, members, max_chars)
        try:
            presentation = reader.part(main)
            if presentation.tag != _p("presentation"):
                raise Unreadable("not a PowerPoint deck (.pptx): its main part is not a presentation")
            links = {rid: name for rid, kind, name in relationships(archive, members, main) if kind == _SLIDE}
            listed = presentation.find(_p("sldIdLst"))
            order = [links.get(entry.get(f"{{{_R}}}id")) for entry in (listed if listed is not None else ())]
            slides = [(number, name) for number, name in enumerate(order, start=1) if name in members]
            texts = [(number, text) for number, name in slides if (text := reader.slide(name, number))]
            core = parse_optional(archive, members, "docProps/core.xml")
        except Unreadable:
            raise
        except Exception as err:  # noqa: BLE001 - zip and XML errors of every kind on damaged files
            reason = (str(err).splitlines() or [""])[0][:200] or type(err).__name__
            raise Unreadable(f"not a readable PowerPoint deck (.pptx), damaged ({reason})") from None
    title = ""
    if core is not None:
        found = core.find("{http://purl.org/dc/elements/1.1/}title")
        title = (found.text or "").strip() if found is not None and isinstance(found.text, str) else ""
    return texts, title or reader.first_title


class _Reader:
    def __init__(self, archive, members, max_chars: int | None):
        self.archive, self.members, self.max_chars = archive, members, max_chars
        self.read = self.chars = 0
        self.first_title = ""

    def part(self, name: str):
        self.read += self.members[name].file_size
        if self.read > SLIDES_MOST:
            raise Unreadable(f"its slides unpack to more than {SLIDES_MOST / MIB:,.0f} MiB of XML; not read")
        return parse(self.archive.read(name))

    def slide(self, name: str, number: int) -> str:
        """A shown slide's text (see the module's doc), "" for a hidden one or one without text."""
        root = self.part(name)
        if root.get("show") in ("0", "false"):
            return ""
        title, blocks = self._shapes(root)
        if title and not self.first_title:
            self.first_title = title
        notes = next((n for _, kind, n in relationships(self.archive, self.members, name) if kind == _NOTES and n in self.members), None)
        noted = self._shapes(self.part(notes), notes=True)[1] if notes else []
        if not title and not blocks and not noted:
            return ""
        text = "\n\n".join([*([f"# {title}"] if title else []), *blocks, *(["## Notes", *noted] if noted else [])])
        self.chars += len(text)
        if self.max_chars is not None and self.chars > self.max_chars:
            raise Unreadable(f"more text than the size limit allows (over {self.max_chars:,} characters by slide {number}; "
                             "ASSISTANT_MAX_FILE_MB sets it, in MiB of text)")
        return text

    def _shapes(self, root, notes: bool = False) -> tuple[str, list[str]]:
        """A slide's (or notes page's) title and its other text blocks, in order."""
        title, blocks = "", []
        tree = root.find(f"{_p('cSld')}/{_p('spTree')}")
        for shape in _walk(tree):
            if shape.tag == _p("graphicFrame"):
                if (rows := _table(shape)) and not notes:
                    blocks.append("\n".join(rows))
                continue
            holder = shape.find(f"{_p('nvSpPr')}/{_p('nvPr')}/{_p('ph')}")
            kind = None if holder is None else holder.get("type", "body" if notes else None)
            if kind in _LEFT_OUT or (notes and kind != "body"):
                continue
            body = shape.find(_p("txBody"))
            if body is None:
                continue
            if kind in _TITLES:
                title = title or " ".join(_text(p) for p in body.iter(_a("p")) if _text(p))
                continue
            bulleted = holder is not None and kind in _BULLETED and kind not in _UNBULLETED and not notes
            if lines := _paragraphs(body, bulleted):
                blocks.append("\n".join(lines))
        return " ".join(title.split()), blocks


def _walk(tree):
    """The shapes of a shape tree in order, groups opened (and alternate content read as its fallback)."""
    for child in tree if tree is not None else ():
        if child.tag == _p("grpSp"):
            yield from _walk(child)
        elif child.tag == f"{{{_MC}}}AlternateContent":
            yield from _walk(child.find(f"{{{_MC}}}Fallback"))
        elif child.tag in (_p("sp"), _p("graphicFrame")):
            yield child


def _text(paragraph) -> str:
    """A paragraph's text: its runs and fields, a line break as a space."""
    parts = []
    for node in paragraph.iter(_a("t"), _a("br")):
        parts.append(" " if node.tag == _a("br") else (node.text or ""))
    return " ".join("".join(parts).split())


def _paragraphs(body, bulleted: bool) -> list[str]:
    """A text body's paragraphs as lines: items ("- ", "n.") indented two spaces a level, or plain."""
    lines, counters = [], {}
    for paragraph in body.iter(_a("p")):
        text = _text(paragraph)
        if not text:
            continue
        props = paragraph.find(_a("pPr"))
        level = min(max(int(props.get("lvl", "0")) if props is not None and props.get("lvl", "0").isdigit() else 0, 0), 8)
        marks = {child.tag for child in props} if props is not None else set()
        numbered = _a("buAutoNum") in marks
        item = _a("buNone") not in marks and (numbered or _a("buChar") in marks or _a("buBlip") in marks or bulleted)
        if not item:
            lines.append(text)
            counters.clear()
            continue
        counters = {k: v for k, v in counters.items() if k <= level}
        counters[level] = counters.get(level, 0) + 1 if numbered else 0
        lines.append("  " * level + (f"{counters[level]}. " if numbered else "- ") + text)
    return lines


def _table(frame) -> list[str]:
    """A table's rows as "| cell | cell |" lines (a cell merged over others once)."""
    rows = []
    for row in frame.iter(_a("tr")):
        cells = [" ".join(_text(p) for p in cell.iter(_a("p")) if _text(p)).replace("|", "/")
                 for cell in row.iter(_a("tc")) if cell.get("hMerge") not in ("1", "true") and cell.get("vMerge") not in ("1", "true")]
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    return rows
