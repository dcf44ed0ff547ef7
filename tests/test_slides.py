"""PowerPoint decks (.pptx): slides read as pages of Markdown, their limits and their one-line errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Inches

from assistant.ingest.chunking import chunk_document
from assistant.ingest.documents import PAGE_SEPARATOR, LoadError, load

TITLE_AND_CONTENT, SECTION_HEADER, COMPARISON, TITLE_ONLY, BLANK = 1, 2, 4, 5, 6  # python-pptx's default layouts
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _review(deck) -> None:
    """A quarterly review: a title slide, bullets with notes, a table and a text box, a blank slide, a hidden slide."""
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = "Quarterly review"
    slide.placeholders[1].text = "Northwind Traders, March 2024"
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_AND_CONTENT])
    slide.shapes.title.text = "Results"
    frame = slide.placeholders[1].text_frame
    frame.text = "Revenue grew 12% to 4.2 million euros"
    for text, level in (("Driven by the Lyon store", 1), ("Costs fell by a tenth", 0)):
        paragraph = frame.add_paragraph()
        paragraph.text, paragraph.level = text, level
    slide.notes_slide.notes_text_frame.text = "Stress that the Lyon store opened only in May. Growth will slow."
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    slide.shapes.title.text = "Stores"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, row in enumerate((("City", "Staff"), ("Lyon", "14"), ("Paris", "40"))):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    slide.shapes.add_textbox(Inches(1), Inches(5), Inches(6), Inches(1)).text_frame.text = "Figures as of 1 March."
    deck.slides.add_slide(deck.slide_layouts[BLANK])
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_AND_CONTENT])
    slide.shapes.title.text = "Draft"
    slide.placeholders[1].text = "Not for the board"
    slide._element.set("show", "0")  # hidden: PowerPoint leaves it out of the show


def _deck(path: Path, build=_review, title: str = "") -> Path:
    deck = Presentation()
    build(deck)
    deck.core_properties.title = title
    deck.save(path)
    return path


def test_a_deck_is_read_slide_by_slide_as_markdown_pages(tmp_path):
    document = load(_deck(tmp_path / "review.pptx"))
    assert document.text.split(PAGE_SEPARATOR) == [
        "# Quarterly review", "Northwind Traders, March 2024",
        "# Results", "- Revenue grew 12% to 4.2 million euros\n  - Driven by the Lyon store\n- Costs fell by a tenth",
        "## Notes", "Stress that the Lyon store opened only in May. Growth will slow.",
        "# Stores", "| City | Staff |\n|---|\n| Lyon | 14 |\n| Paris | 40 |", "Figures as of 1 March.",  # a new table has a header row
    ]
    # each shown slide with text is a page numbered as PowerPoint numbers it: the blank 4th and hidden 5th are not
    assert [page.number for page in document.pages] == [1, 2, 3]
    assert document.text[document.pages[1].start:document.pages[1].end].startswith("# Results")
    assert document.title == "Quarterly review"  # the first slide's title, when the deck declares none
    assert load(_deck(tmp_path / "titled.pptx", title="Q1 2024 board review")).title == "Q1 2024 board review"
    # a chunk holds one slide's sentences and is cited by its slide
    chunks = chunk_document(document, 1200, 200)
    assert [c.label for c in chunks] == ["review.pptx slide 1", "review.pptx slide 2", "review.pptx slide 3"]
    assert "Stress that the Lyon store opened only in May." in [document.text[s:e] for s, e in chunks[1].sentences]


def _numbers_groups_and_running_lines(deck) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK])
    box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(3)).text_frame
    box.text = "Steps to take"
    for text, level in (("Open the valve", 0), ("Check the gauge", 1), ("Close the valve", 0)):
        paragraph = box.add_paragraph()
        paragraph.text, paragraph.level = text, level
        paragraph._p.get_or_add_pPr().insert(0, paragraph._p.makeelement(
            "{http://schemas.openxmlformats.org/drawingml/2006/main}buAutoNum", {"type": "arabicPeriod"}))
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(4), Inches(3), Inches(1)).text_frame.text = "Inside a group."
    footer = slide.shapes.add_textbox(Inches(1), Inches(6), Inches(3), Inches(1))
    footer.text_frame.text = "Confidential"
    ph = footer._element.nvSpPr.nvPr.makeelement("{http://schemas.openxmlformats.org/presentationml/2006/main}ph", {"type": "ftr"})
    footer._element.nvSpPr.nvPr.append(ph)


def test_a_deck_s_numbered_items_groups_and_untitled_slides_are_read_and_its_footers_are_not(tmp_path):
    document = load(_deck(tmp_path / "steps.pptx", _numbers_groups_and_running_lines))
    assert document.text.split(PAGE_SEPARATOR) == [
        "Steps to take\n1. Open the valve\n  1. Check the gauge\n2. Close the valve", "Inside a group."]
    assert document.title == "Steps to take"  # no title anywhere: the first line of the text, as for any document


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _as_shown(deck) -> None:
    """What the slide show shows and no more: layouts without bullets, numbers in their format, a hidden shape."""
    slide = deck.slides.add_slide(deck.slide_layouts[SECTION_HEADER])  # its layout sets no bullet on its text
    slide.shapes.title.text = "Part two"
    slide.placeholders[1].text = "Results for the second half of 2024"
    slide = deck.slides.add_slide(deck.slide_layouts[COMPARISON])  # column headings: no bullet; columns: bullets
    slide.shapes.title.text = "Plans"
    for holder in slide.placeholders:
        holder.text = {1: "Basic plan", 2: "29 EUR a month", 3: "Team plan", 4: "99 EUR a month"}.get(holder.placeholder_format.idx, holder.text)
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK])
    box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(3)).text_frame
    box.text = "Steps"
    for text in ("Fourth step", "Fifth step"):
        paragraph = box.add_paragraph()
        paragraph.text = text
        paragraph._p.get_or_add_pPr().append(paragraph._p.makeelement(f"{{{_A}}}buAutoNum", {"type": "alphaLcParenR", "startAt": "4"}))
    hidden = slide.shapes.add_textbox(Inches(1), Inches(5), Inches(6), Inches(1))
    hidden.text_frame.text = "Draft figures, not for the show"
    hidden._element.nvSpPr.cNvPr.set("hidden", "1")
    slide.notes_slide.notes_text_frame.text = "Placeholder note."
    moved = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))  # python-pptx adds none to notes: moved there
    moved.text_frame.text = "Text box on the notes page."
    slide.notes_slide.shapes._spTree.append(moved._element)


def test_a_deck_reads_as_its_slide_show_shows_it(tmp_path):
    document = load(_deck(tmp_path / "shown.pptx", _as_shown, title="PowerPoint Presentation"))
    assert document.text.split(PAGE_SEPARATOR) == [
        "# Part two", "Results for the second half of 2024",
        "# Plans", "Basic plan", "- 29 EUR a month", "Team plan", "- 99 EUR a month",
        "Steps\nd) Fourth step\ne) Fifth step", "## Notes", "Placeholder note.", "Text box on the notes page."]
    assert document.title == "Part two"  # PowerPoint's own "PowerPoint Presentation" is no title


def test_equations_smartart_strict_decks_and_slides_listed_twice_are_read(tmp_path):
    path = _deck(tmp_path / "parts.pptx", lambda deck: [deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY]) for _ in range(2)])
    parts = _parts(path)
    name = "http://schemas.openxmlformats.org/officeDocument/2006"
    # slide 1: a text box with an equation, saved as PowerPoint saves it: its text in the Choice, a picture in the Fallback
    box = ('<p:sp><p:nvSpPr><p:cNvPr id="9" name="TextBox 8"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:spPr/>'
           '<p:txBody><a:bodyPr/><a:lstStyle/>{}</p:txBody></p:sp>')
    choice = box.format('<a:p><a:r><a:t>The balance is </a:t></a:r><a14:m><m:oMath><m:r><m:t>A=P(1+r)^n</m:t></m:r>'
                        '</m:oMath></a14:m></a:p><a:p><a:r><a:t>where r is the yearly rate.</a:t></a:r></a:p>')
    alternate = (f'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
                 f'xmlns:a14="http://schemas.microsoft.com/office/drawing/2010/main" xmlns:m="{name}/math">'
                 f'<mc:Choice Requires="a14">{choice}</mc:Choice><mc:Fallback>{box.format("<a:p><a:r><a:t> </a:t></a:r></a:p>")}'
                 '</mc:Fallback></mc:AlternateContent>')
    parts["ppt/slides/slide1.xml"] = parts["ppt/slides/slide1.xml"].replace(b"</p:spTree>", alternate.encode() + b"</p:spTree>")
    # slide 2: a SmartArt diagram, its text in its data part
    diagram = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
    frame = ('<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id="7" name="Diagram"/><p:cNvGraphicFramePr/><p:nvPr/>'
             '</p:nvGraphicFramePr><p:xfrm><a:off x="0" y="0"/><a:ext cx="9" cy="9"/></p:xfrm><a:graphic>'
             f'<a:graphicData uri="{diagram}"><dgm:relIds xmlns:dgm="{diagram}" r:dm="rId9" r:lo="rId9" r:qs="rId9" r:cs="rId9"/>'
             '</a:graphicData></a:graphic></p:graphicFrame>')
    parts["ppt/slides/slide2.xml"] = parts["ppt/slides/slide2.xml"].replace(b"</p:spTree>", frame.encode() + b"</p:spTree>")
    parts["ppt/slides/_rels/slide2.xml.rels"] = parts["ppt/slides/_rels/slide2.xml.rels"].replace(b"</Relationships>", (
        f'<Relationship Id="rId9" Type="{name}/relationships/diagramData" Target="../diagrams/data1.xml"/></Relationships>').encode())
    points = "".join(f'<dgm:pt modelId="{i}"{kind}><dgm:t><a:bodyPr/><a:p><a:r><a:t>{text}</a:t></a:r></a:p></dgm:t></dgm:pt>'
                     for i, (text, kind) in enumerate((("Plan the audit", ""), ("Visit each store", ""), ("x", ' type="pres"'))))
    parts["ppt/diagrams/data1.xml"] = (f'<dgm:dataModel xmlns:dgm="{diagram}" xmlns:a="{_A}"><dgm:ptLst>{points}'
                                       '</dgm:ptLst></dgm:dataModel>').encode()
    # the slides listed twice: each is read once
    listed = parts["ppt/presentation.xml"].decode()
    listed = listed.replace("</p:sldIdLst>", '<p:sldId id="900" r:id="rId7"/><p:sldId id="901" r:id="rId404"/></p:sldIdLst>')
    parts["ppt/presentation.xml"] = listed.encode()
    expected = ["The balance is A=P(1+r)^n\nwhere r is the yearly rate.", "- Plan the audit\n- Visit each store"]
    document = load(_write(path, parts))
    assert document.text.split(PAGE_SEPARATOR) == expected and [p.number for p in document.pages] == [1, 2]
    # the same deck in Strict Open XML (PowerPoint's "Strict Open XML Presentation") reads the same
    strict = {b"http://schemas.openxmlformats.org/presentationml/2006/main": b"http://purl.oclc.org/ooxml/presentationml/main",
              f"{_A}".encode(): b"http://purl.oclc.org/ooxml/drawingml/main",
              f"{name}/relationships".encode(): b"http://purl.oclc.org/ooxml/officeDocument/relationships"}
    for part, data in parts.items():
        for old, new in strict.items():
            data = data.replace(old, new)
        parts[part] = data
    assert load(_write(tmp_path / "strict.pptx", parts)).text.split(PAGE_SEPARATOR) == expected


def _entity(path: Path, secret: Path) -> Path:
    """A deck whose slide declares an external entity (the file `secret`) and uses it."""
    _deck(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    slide = parts["ppt/slides/slide2.xml"].decode()
    declared = f'<?xml version="1.0"?><!DOCTYPE p:sld [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    slide = declared + slide[slide.index("?>") + 2:].replace("Costs fell by a tenth", "&xxe;")
    parts["ppt/slides/slide2.xml"] = slide.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def test_a_deck_that_cannot_be_read_is_one_line_naming_it_and_why(tmp_path, monkeypatch):
    import docx

    from assistant.ingest import slides

    (tmp_path / "renamed.pptx").write_bytes(b"\xd0\xcf\x11\xe0 an old .ppt, renamed" * 20)
    # a zip whose central directory asks for a newer zip version (9.1) had raised NotImplementedError
    future = bytearray(_deck(tmp_path / "future.pptx").read_bytes())
    at = future.rfind(b"PK\x01\x02")
    future[at + 6] = 91
    (tmp_path / "future.pptx").write_bytes(bytes(future))
    with zipfile.ZipFile(tmp_path / "other.pptx", "w") as archive:
        archive.writestr("content.xml", "<x/>")
    docx.Document().save(tmp_path / "word.pptx")
    _deck(tmp_path / "blank.pptx", lambda deck: deck.slides.add_slide(deck.slide_layouts[BLANK]))
    for name, reason in (("renamed.pptx", "not a readable PowerPoint deck (.pptx), damaged or of another kind"),
                         ("future.pptx", "not a readable PowerPoint deck (.pptx), damaged or of another kind"),
                         ("other.pptx", "not a PowerPoint deck (.pptx): no presentation part inside"),
                         ("word.pptx", "not a PowerPoint deck (.pptx): its main part is not a presentation"),
                         ("blank.pptx", "no text on its shown slides (pictures are not read)")):
        with pytest.raises(LoadError) as err:
            load(tmp_path / name)
        assert str(err.value).startswith(f"{tmp_path / name}: {reason}") and "\n" not in str(err.value)
    # an entity is never resolved: the file it names is not read, the rest of the deck is
    (tmp_path / "secret.txt").write_text("SECRET-TOKEN-42")
    read = load(_entity(tmp_path / "entity.pptx", tmp_path / "secret.txt")).text
    assert "Driven by the Lyon store" in read and "SECRET" not in read and "Costs fell" not in read and "&xxe;" not in read
    path = _deck(tmp_path / "review.pptx")
    with pytest.raises(LoadError, match="more text than the size limit allows .over 100 characters by slide 2"):
        load(path, max_chars=100)
    monkeypatch.setattr(slides, "SLIDES_MOST", 3000)
    with pytest.raises(LoadError, match=r"its slides unpack to more than 0 MiB of XML; not read"):
        load(path)
    monkeypatch.setattr(slides, "UNPACKED_MOST", 20_000)
    with pytest.raises(LoadError, match=r"it unpacks to 0 MiB, more than 0 MiB; not read"):
        load(path)


def test_a_deck_is_indexed_asked_and_cited_by_its_slide(tmp_path, settings, embedder):
    import assistant
    from assistant.interfaces.render import where

    corpus = tmp_path / "docs"
    corpus.mkdir()
    path = _deck(corpus / "review.pptx")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    report = bot.add([corpus])
    assert [Path(s).name for s in report.added] == ["review.pptx"] and not report.failed
    text = load(path).text
    hits = bot.retrieve("When did the Lyon store open?", k=3)
    assert hits and all(text[hit.start:hit.end] == hit.text for hit in hits)
    assert {where(hit) for hit in hits} <= {"slide 1", "slide 2", "slide 3"} and "slide 2" in {where(hit) for hit in hits}


def _charts(deck) -> None:
    from pptx.chart.data import CategoryChartData, XyChartData
    from pptx.enum.chart import XL_CHART_TYPE

    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    slide.shapes.title.text = "Results"
    data = CategoryChartData(number_format="0.0%")
    data.categories = ["Q1", "Q2"]
    data.add_series("2023", (0.1, 0.25))
    data.add_series("2024", (0.12, 0.30000000000000004))
    chart = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1), Inches(6), Inches(4), data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Margin by quarter"
    slide = deck.slides.add_slide(deck.slide_layouts[BLANK])
    data = CategoryChartData()
    data.categories = ["Lyon", "Paris"]
    data.add_series("Staff", (14, 40.5))
    slide.shapes.add_chart(XL_CHART_TYPE.PIE, Inches(1), Inches(1), Inches(4), Inches(4), data)
    points = XyChartData()
    series = points.add_series("Speed")
    series.add_data_point(1, 2.5)
    series.add_data_point(2, 4.0)
    slide.shapes.add_chart(XL_CHART_TYPE.XY_SCATTER, Inches(5), Inches(1), Inches(4), Inches(4), points)


def test_a_chart_is_read_as_its_title_and_a_table_of_its_figures(tmp_path):
    # a chart's figures had not been read at all: "What was the margin in Q2 2024?" had no text to find
    document = load(_deck(tmp_path / "charts.pptx", _charts))
    assert [document.text[page.start:page.end] for page in document.pages] == [
        "# Results\n\nMargin by quarter\n\n|  | 2023 | 2024 |\n|---|\n| Q1 | 10.0% | 12.0% |\n| Q2 | 25.0% | 30.0% |",
        "|  | Staff |\n|---|\n| Lyon | 14 |\n| Paris | 40.5 |\n\n|  | Speed |\n|---|\n| 1 | 2.5 |\n| 2 | 4 |"]


def test_a_chart_s_figures_read_as_the_chart_shows_them():
    from lxml import etree

    from assistant.ingest.charts import CHART, chart_tables

    def points(*values) -> str:
        return "".join(f'<c:pt idx="{i}"><c:v>{v}</c:v></c:pt>' for i, v in enumerate(values) if v is not None)

    def numbers(fmt: str, *values, tag: str = "val") -> str:
        return f"<c:{tag}><c:numRef><c:numCache><c:formatCode>{fmt}</c:formatCode>{points(*values)}</c:numCache></c:numRef></c:{tag}>"

    def series(name: str, categories: str, *more: str) -> str:
        return f"<c:ser><c:tx><c:v>{name}</c:v></c:tx>{categories}{''.join(more)}</c:ser>"

    def chart(*parts: str, title: str = "") -> str:
        return (f'<c:chartSpace xmlns:c="{CHART}" xmlns:a="{_A}"><c:chart>{title}<c:plotArea>{"".join(parts)}</c:plotArea>'
                "</c:chart></c:chartSpace>")

    # quarters of two years: a label that repeats keeps its figures; the levels read together
    quarters = ("<c:cat><c:multiLvlStrRef><c:multiLvlStrCache><c:lvl>" + points("Q1", "Q2", "Q1", "Q2") + "</c:lvl><c:lvl>"
                + '<c:pt idx="0"><c:v>2023</c:v></c:pt><c:pt idx="2"><c:v>2024</c:v></c:pt></c:lvl></c:multiLvlStrCache>'
                "</c:multiLvlStrRef></c:cat>")
    title = '<c:title><c:tx><c:rich><a:p><a:r><a:t>Sales (</a:t></a:r><a:r><a:t>€m)</a:t></a:r></a:p></c:rich></c:tx></c:title>'
    space = chart("<c:barChart>" + series("Sales | EUR", quarters, numbers("General", 10, 11, 20, 0.30000000000000004))
                  + "</c:barChart>", title=title)
    assert chart_tables(etree.fromstring(space)) == ("Sales (€m)", [[
        "|  | Sales / EUR |", "|---|", "| 2023 Q1 | 10 |", "| 2023 Q2 | 11 |", "| 2024 Q1 | 20 |", "| 2024 Q2 | 0.3 |"]])
    # dates, times, durations, quoted text and a date past the year 9999
    hours = numbers("m/d/yyyy h:mm", 45292.5, 45292.75, tag="cat")
    space = chart("<c:lineChart>" + series("Start", hours, numbers("h:mm", 0.5, 0.75))
                  + series("Took", hours, numbers("[h]:mm:ss", 1.5, None)) + series("Days", hours, numbers('0 "days"', 3, 2958000))
                  + series("Day", hours, numbers("mmm yy", 44927, 2958466)) + "</c:lineChart>")
    assert chart_tables(etree.fromstring(space))[1] == [[
        "|  | Start | Took | Days | Day |", "|---|", "| 2024-01-01 12:00 | 12:00 | 36:00:00 | 3 days | 2023-01 |",  # (a month format shows no day: none is made up)
        "| 2024-01-01 18:00 | 18:00 |  | 2958000 days | 2958466 |"]]
    # a scatter chart's series with other x values: a table each; a bubble chart's sizes: a column
    xy = chart("<c:bubbleChart>" + series("A", numbers("General", 1, 2, tag="xVal"), numbers("General", 5, 6, tag="yVal"),
                                         numbers("General", 500, 900, tag="bubbleSize"))
               + series("B", numbers("General", 1, 1, tag="xVal"), numbers("General", 7, 8, tag="yVal")) + "</c:bubbleChart>")
    assert chart_tables(etree.fromstring(xy))[1] == [["|  | A | A (size) |", "|---|", "| 1 | 5 | 500 |", "| 2 | 6 | 900 |"],
                                                     ["|  | B |", "|---|", "| 1 | 7 |", "| 1 | 8 |"]]
    assert chart_tables(etree.fromstring(chart())) == ("", [])


def test_a_deck_table_s_merged_cell_is_written_in_each_cell_it_covers(tmp_path):
    # a region merged down its rows had been read in its first row only, and a header over two
    # columns had named one: the rows below it read one cell short, under the wrong names
    def build(deck) -> None:
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = "Sales"
        table = slide.shapes.add_table(5, 4, Inches(1), Inches(2), Inches(6), Inches(3)).table
        rows = [("Region", "City", "Sales", ""), ("North", "Oslo", "5", "6"), ("", "Bergen", "7", "8"),
                ("South", "Kristiansand", "9", "10"), ("Figures in thousands", "", "", "")]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        table.cell(0, 2).merge(table.cell(0, 3))
        table.cell(1, 0).merge(table.cell(2, 0))
        table.cell(4, 0).merge(table.cell(4, 3))

    text = load(_deck(tmp_path / "sales.pptx", build)).text
    assert ("| Region | City | Sales | Sales |\n|---|\n| North | Oslo | 5 | 6 |\n| North | Bergen | 7 | 8 |\n"
            "| South | Kristiansand | 9 | 10 |\n| Figures in thousands |") in text


def test_a_deck_table_s_note_merged_over_two_rows_is_written_once(tmp_path):
    def build(deck) -> None:
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = "Costs"
        table = slide.shapes.add_table(4, 3, Inches(1), Inches(2), Inches(6), Inches(3)).table
        for c, value in enumerate(("Item", "Q1", "Q2")):
            table.cell(0, c).text = value
        table.cell(1, 0).text = "Note: provisional"
        table.cell(1, 0).merge(table.cell(2, 2))
        for c, value in enumerate(("Rent", "100", "110")):
            table.cell(3, c).text = value

    text = load(_deck(tmp_path / "costs.pptx", build)).text
    assert text.count("Note: provisional") == 1 and "| Rent | 100 | 110 |" in text
