"""Loaders: exact text for .txt/.md, visible text for HTML, per-page text for PDF, clear errors."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from assistant.ingest.documents import PAGE_SEPARATOR, Document, LoadError, html_text_and_title, html_visible_text, load
from assistant.ingest.sentences import SPAN_COPIES_MOST
from tests.fakes import make_pdf

TRICKY_TEXT = (
    "Caf\u00e9 \u201ccurly quotes\u201d and \u2018single\u2019 ones.\r\n"
    "Non\u00a0breaking\u00a0spaces, emoji \U0001F600\U0001F680 and a ZWJ family "
    "\U0001F468\u200d\U0001F469\u200d\U0001F467.\r\n"
    "\r\n"
    "Second paragraph \u2014 with an em dash, tabs\tand CJK \u4e2d\u6587.\r\n"
)


# --- plain text and markdown ---------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".md", ".TXT"])
def test_text_is_the_decoded_file_exactly(tmp_path, suffix):
    path = tmp_path / f"note{suffix}"
    data = TRICKY_TEXT.encode("utf-8")
    path.write_bytes(data)

    doc = load(path)

    assert isinstance(doc, Document)
    assert doc.text == data.decode("utf-8")
    assert "\r\n" in doc.text  # Windows line endings are not normalised away
    assert doc.text.count("\r\n") == TRICKY_TEXT.count("\r\n")
    assert "\u00a0" in doc.text and "\U0001F600" in doc.text and "\u201c" in doc.text
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.source == str(path)
    assert doc.pages == ()


def test_source_defaults_to_path_as_given_and_can_be_overridden(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("Hello there.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load("sub/a.txt").source == "sub/a.txt"
    assert load("sub/a.txt", source="custom-name").source == "custom-name"


def test_markdown_keeps_its_markup_and_title_comes_from_heading(tmp_path):
    text = "# Quarterly Report\n\nSome *emphasis* and a [link](http://example.com).\n\n## Details\n- item\n"
    path = tmp_path / "report.md"
    path.write_text(text, encoding="utf-8")
    doc = load(path)
    assert doc.text == text
    assert doc.title == "Quarterly Report"


def test_title_falls_back_to_file_stem_for_a_long_first_line(tmp_path):
    path = tmp_path / "long_first_line.txt"
    path.write_text("word " * 100 + "\nsecond line", encoding="utf-8")
    assert load(path).title == "long first line"


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_the_first_line_is_the_title_whatever_ends_it(tmp_path, end):
    path = tmp_path / "pump.txt"
    path.write_bytes(f"Pump Manual{end}{end}The pump is rated for 40 bar. It is quiet.{end}".encode())
    assert load(path).title == "Pump Manual"


@pytest.mark.parametrize("first, title", [
    ("The town hall of Aachen was completed in 1500. Its tower is 20 metres tall.", "towns"),
    ("I bought this for my son and he loves it.", "towns"),
    ("Is Huawei safe?", "Is Huawei safe?"),
    ("Acme Inc.", "Acme Inc."),
    ("Pump Manual", "Pump Manual"),
])
def test_a_first_line_of_prose_is_no_title(tmp_path, first, title):
    # a first sentence (or three) had been every citation's title and the prefix of every sentence's embedding
    path = tmp_path / "towns.txt"
    path.write_text(f"{first}\nThe mayor of Aachen is Anna Schulz.\n", encoding="utf-8")
    assert load(path).title == title


def test_utf8_bom_is_stripped(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfHello BOM world.")
    assert load(path).text == "Hello BOM world."


def test_offsets_of_a_file_with_bom_match_reading_it_as_utf8_sig(tmp_path):
    """The README's recipe for checking a citation reads with encoding='utf-8-sig'."""
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfFirst line.\r\nSecond line here.")
    document = load(path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        assert handle.read() == document.text
    start = document.text.index("Second")
    assert document.text[start:start + 6] == "Second"


def test_utf16_in_other_scripts_is_not_mistaken_for_garbage(tmp_path):
    for name, text in (("zh.txt", "华为正在努力重建在欧洲的信任。这是第二句。"), ("ru.txt", "Привет, мир. Это настоящий файл.")):
        path = tmp_path / name
        path.write_bytes(text.encode("utf-16"))
        assert load(path).text == text


def test_utf16_with_bom_is_decoded(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("Wide text \u00e9\U0001F600.".encode("utf-16"))  # with BOM
    assert load(path).text == "Wide text \u00e9\U0001F600."


@pytest.mark.parametrize("name, data, kind", [
    ("report.html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF file"),
    ("notes.txt", b"PK\x03\x04\x14\x00\x06\x00", "a ZIP package"),
    ("table.csv", b"\x89PNG\r\n\x1a\n", "a PNG image"),
])
def test_a_binary_file_under_a_text_file_s_name_is_told_by_its_kind(tmp_path, name, data, kind):
    # a PDF named .html had been told "not valid UTF-8 …; re-save it as UTF-8, e.g. iconv -f cp1252"
    (tmp_path / name).write_bytes(data + bytes(range(128, 256)))
    with pytest.raises(LoadError) as err:
        load(tmp_path / name)
    assert str(err.value).startswith(f"{tmp_path / name}: {kind}") and "not text, under a text file's name" in str(err.value)
    assert "iconv" not in str(err.value)


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-be"])
def test_utf32_with_bom_is_decoded_and_without_one_the_reason_says_so(tmp_path, encoding):
    path = tmp_path / "wider.txt"
    text = "Wider text \u00e9\U0001F600."
    path.write_bytes(text.encode(encoding) if encoding == "utf-32" else ("\ufeff" + text).encode(encoding))  # with its mark
    assert load(path).text == text
    path.write_bytes(text.encode("utf-16-le"))  # no mark: its NUL bytes read as binary
    with pytest.raises(LoadError, match="binary file .*needs its byte-order mark"):
        load(path)


# --- HTML --------------------------------------------------------------------------------


def test_html_keeps_visible_text_only(tmp_path):
    markup = """<!doctype html>
<html><head><title>Page Title</title>
<style>body { color: red; } .secret { display: none }</style>
<script>var hidden = "SCRIPT_SECRET"; document.write("<p>nope</p>");</script>
<meta name="description" content="META_SECRET"></head>
<body>
  <h1>Main&nbsp;Heading</h1>
  <p>First <b>bold</b> paragraph &amp; more.</p>
  <noscript>NOSCRIPT_SECRET</noscript>
  <ul><li>one</li><li>two</li></ul>
  <!-- COMMENT_SECRET -->
  <script type="application/json">{"JSON_SECRET": 1}</script>
  <p>Caf&eacute; &#8220;quoted&#8221;</p>
</body></html>"""
    path = tmp_path / "page.html"
    path.write_text(markup, encoding="utf-8")

    document = load(path)
    text = document.text

    for secret in ("SCRIPT_SECRET", "META_SECRET", "NOSCRIPT_SECRET", "COMMENT_SECRET", "JSON_SECRET", "color: red", "nope"):
        assert secret not in text
    assert "<" not in text and ">" not in text
    assert "Main Heading" in text  # &nbsp; became a plain space
    assert "First bold paragraph & more." in text
    assert "Caf\u00e9 \u201cquoted\u201d" in text
    assert "Page Title" not in text and document.title == "Page Title"  # the tab's title, once, as the title
    lines = text.split("\n")
    assert "- one" in lines and "- two" in lines  # block elements become line breaks; a list's items, Markdown's
    assert text == text.strip()


def test_html_reads_a_page_s_article_without_its_menus_banners_sidebars_and_footers():
    # a "Most read" sidebar's headline had been quoted as the answer, a footer's price cited to another article
    page = """<html><head><title>Tram line | Chronicle</title></head><body>
<div class="cookie">We use cookies to improve your experience.</div>
<header><nav><ul><li>News</li><li>Sign in</li></ul></nav><p>The Chronicle</p></header>
<main><article><h1>Council approves tram line</h1>
<p>The first trams will run in early 2029.</p></article>
<aside><h2>Most read</h2><ul><li>The tram will open in 2027, says minister</li></ul></aside></main>
<footer><p>Subscribers pay 9.99 euros a month.</p></footer></body></html>"""
    assert html_visible_text(page) == "# Council approves tram line\n\nThe first trams will run in early 2029."
    no_article = page.replace("<article>", "<div>").replace("</article>", "</div>")
    text = html_visible_text(no_article)  # <main> then, without its <aside>
    assert "early 2029" in text and "Most read" not in text and "cookies" not in text and "9.99" not in text
    plain = no_article.replace("<main>", "<div>").replace("</main>", "</div>")
    text = html_visible_text(plain)  # neither: the whole page, but never its menus, sidebars and footers
    assert "cookies" in text and "early 2029" in text and "Sign in" not in text and "Most read" not in text and "9.99" not in text
    # an article's own footer and aside are its text
    own = "<article><p>Story.</p><footer>By Ann, 3 May</footer><aside>Fact: 42 bridges.</aside></article><aside>Trending</aside>"
    assert html_visible_text(own) == "Story.\n\nBy Ann, 3 May\n\nFact: 42 bridges."
    # articles that are a small part of the main content (a post's comments) do not replace it
    post = ("<main><h1>How to prune roses</h1><p>" + "Cut each cane above an outward bud in late winter. " * 8 +
            "</p><section><article><p>Thanks!</p></article><article><p>Great tip.</p></article></section></main>")
    assert "Cut each cane" in html_visible_text(post) and "Thanks!" in html_visible_text(post)
    # other stories in <article>s outside <main> never replace it; a placeholder <main> is not the page;
    # a <main> that a template holds does not end the visible one
    more = post.replace("<section>", "</main><section>").replace("</section></main>", "</section>")
    assert "Cut each cane" in html_visible_text(more) and "Thanks!" not in html_visible_text(more)
    assert html_visible_text("<main id=app></main><div><h1>Hours</h1><p>We open at 9.</p></div>") == "# Hours\n\nWe open at 9."
    held = "<header>Banner</header><main><h1>Hours</h1><template><main>{{slot}}</main></template><p>We open at 9 and close at 5.</p></main>"
    assert html_visible_text(held) == "# Hours\n\nWe open at 9 and close at 5."


def test_html_source_line_breaks_read_as_spaces_and_tables_as_rows():
    # a paragraph wrapped in the source had been cut into sentences at every line end, "<br>" plus a
    # line break in the source made a paragraph break, and every table cell was a paragraph of its own
    wrapped = "<p>The council voted to extend the line to\nCentral Station. Work will start in\n2025.</p><pre>a\nb</pre>"
    assert html_visible_text(wrapped) == "The council voted to extend the line to Central Station. Work will start in 2025.\n\na\nb"
    # preformatted text keeps its spaces and tabs, as a browser shows them (indented code had read as "def f():\nreturn 1")
    code = "<p>Run   it:</p><pre>def f():\r\n    return  1\n\tx = 2</pre>"
    assert html_visible_text(code) == "Run it:\n\ndef f():\n    return  1\n\tx = 2"
    assert html_visible_text("<pre>a  \ue000b</pre>") == "a \ue000b"  # (a page holding the stand-ins: tidied as before)
    # a row with nothing in it is no line ("<tr></tr>" had written "|", a spacer row "| | |")
    spaced = "<table><tr><th>Plan</th><th>Price</th></tr><tr></tr><tr><td>Basic</td><td>5</td></tr><tr><td></td><td> </td></tr></table>"
    assert html_visible_text(spaced) == "| Plan | Price |\n|---|\n| Basic | 5 |"
    # a form's choices are no text of the page (their options had read run together, "Opt AOpt B More")
    assert html_visible_text("<p>Size: <select><option>Small</option><option selected>Large</option></select> in stock.</p>") == "Size: in stock."
    assert html_visible_text("<p>to the old town<br>\nin under twenty minutes</p>") == "to the old town\nin under twenty minutes"
    table = "<table><caption>Lines</caption><tr><th>Line<th>Opened</tr><tr><td><p>Line 1</p></td><td>1998</td></tr><tr><td>Line 2<td>2004</table>"
    assert html_visible_text(table) == "Lines\n\n| Line | Opened |\n|---|\n| Line 1 | 1998 |\n| Line 2 | 2004 |"  # <th>: a header
    assert html_visible_text("<table><td>a</td><td>b<br>c</td></table>") == "| a | b c |"
    # a <thead> row of <td> cells is the header too; a first row of <td> outside one is not
    thead = "<table><thead><tr><td>Line<td>Opened</thead><tbody><tr><td>Line 1<td>1998</tbody></table>"
    assert html_visible_text(thead) == "| Line | Opened |\n|---|\n| Line 1 | 1998 |"
    assert html_visible_text(thead.replace("thead", "tbody")) == "| Line | Opened |\n| Line 1 | 1998 |"
    # a "|" in a cell would part it: "/" in a table's row, itself where the table lays out a page
    piped = "<table><tr><th>Task<th>Command<tr><td>Page a log<td>journalctl -u app | less</table>"
    assert html_visible_text(piped) == "| Task | Command |\n|---|\n| Page a log | journalctl -u app / less |"
    assert html_visible_text("<table><tr><td><a href=/>Home</a> | News<td><h1>News</h1><p>Text.</p></table>") == "Home | News\n\nNews\n\nText."
    # a first row bold in every word is a header as a reader takes it; one with a word not bold is not
    bold = "<table><tr><td><b>Line</b><td><strong>Opened</strong><tr><td>Line 1<td>1998</table>"
    assert html_visible_text(bold) == "| Line | Opened |\n|---|\n| Line 1 | 1998 |"
    assert html_visible_text(bold.replace("<b>Line</b>", "<b>Line</b> no.")) == "| Line no. | Opened |\n| Line 1 | 1998 |"
    # a hidden sort key in a cell stays out of the row; a table no one sees leaves nothing
    assert html_visible_text('<table><tr><td>Berlin</td><td><span style="display:none">700636</span>3,645,000</td></tr></table>') == "| Berlin | 3,645,000 |"
    assert html_visible_text("<template><table><tr><td>{{a}}</td></tr></table></template><p>Prices.</p>") == "Prices."
    # a table that lays out a page (a cell of headings, lists, paragraphs) reads as paragraphs, not as one row
    layout = ("<table><tr><td><a href=/>Home</a><br><a href=/news>News</a></td><td><h1>Tram line approved</h1>"
              "<p>The first trams will run in 2029.</p><ul><li>Central Station</li><li>Old Town</li></ul></td></tr></table>")
    assert html_visible_text(layout) == "Home\nNews\n\nTram line approved\n\nThe first trams will run in 2029.\n\nCentral Station\n\nOld Town"
    nested = "<table><tr><td>A<table><tr><td>x</td><td>y</td></tr></table></td><td>B</td></tr></table>"
    assert html_visible_text(nested) == "A\n\n| x | y |\n\nB"


def test_html_cells_spanning_columns_or_rows_are_written_in_each_and_a_lone_note_once():
    # a region's name spanning its rows had been read in its first row only: the rows below read
    # "Bergen: 7" with no region, and a header spanning two columns named only the first of them
    spans = ("<table><tr><th>Region</th><th>City</th><th colspan=2>Sales</th></tr>"
             "<tr><td rowspan=3>North</td><td>Oslo</td><td>5</td><td>6</td></tr>"
             "<tr><td>Bergen</td><td>7</td><td>8</td></tr>"
             "<tr><td>Trondheim</td><td>9</td><td rowspan='2'>10</td></tr>"
             "<tr><td>South</td><td>Kristiansand</td><td>11</td></tr>"
             "<tr><td colspan=4>Figures in thousands</td></tr></table>")
    assert html_visible_text(spans) == (
        "| Region | City | Sales | Sales |\n|---|\n| North | Oslo | 5 | 6 |\n| North | Bergen | 7 | 8 |\n"
        "| North | Trondheim | 9 | 10 |\n| South | Kristiansand | 11 | 10 |\n| Figures in thousands |")
    # a rowspan past the table's last row fills no row; a spanned column at a row's end is filled
    assert html_visible_text("<table><tr><td rowspan=9>a<td>b<tr><td>c</table>") == "| a | b |\n| a | c |"
    assert html_visible_text("<table><tr><td>a<td rowspan=2>b<tr><td>c</table>") == "| a | b |\n| c | b |"
    # a long cell is written once, its other columns left empty; nonsense spans read as one
    note = "A note " * 40
    assert html_visible_text(f"<table><tr><td colspan=2>{note}<td>x</table>") == f"| {note.strip()} | | x |"
    assert html_visible_text("<table><tr><td colspan=x>a<td rowspan=-3>b<tr><td>c<td>d</table>") == "| a | b |\n| c | d |"
    # a table that lays out a page writes each cell's paragraphs once
    layout = ("<table><tr><td colspan=2><p>Intro one.</p><p>Intro two.</p></td></tr>"
              "<tr><td rowspan=2><h2>Left</h2><p>Body.</p></td><td>Right</td></tr><tr><td>Below</td></tr></table>")
    assert html_visible_text(layout) == "Intro one.\n\nIntro two.\n\nLeft\n\nBody.\n\nRight\n\nBelow"


def test_html_header_of_two_rows_is_one_row_each_column_named_by_both():
    # the second header row had been read as data, and a quarter's column was named by its year only
    grouped = ("<table><thead><tr><th rowspan=2>Region</th><th colspan=2>2023</th><th colspan=2>2024</th></tr>"
               "<tr><th>Q1</th><th>Q2</th><th>Q1</th><th>Q2</th></tr></thead>"
               "<tbody><tr><td>North</td><td>1</td><td>2</td><td>3</td><td>4</td></tr></tbody></table>")
    assert html_visible_text(grouped) == "| Region | 2023 Q1 | 2023 Q2 | 2024 Q1 | 2024 Q2 |\n|---|\n| North | 1 | 2 | 3 | 4 |"
    # a second row with a data cell is data; a table of header cells throughout is left as it is
    assert html_visible_text("<table><tr><th>A<th>B<tr><th>x<td>y</table>") == "| A | B |\n|---|\n| x | y |"
    every = "<table><tr><th>A<th>B<tr><th>x<th>y<tr><th>1<th>2</table>"
    assert html_visible_text(every) == "| A | B |\n|---|\n| x | y |\n| 1 | 2 |"


def test_html_spans_end_where_a_browser_ends_them_and_a_cell_of_several_lines_is_written_once():
    # (a review's cases) a row's only cell beside a span from above keeps the span in its column
    beside = ("<table><tr><th>Crop<th>Q1<th>Q2<th>Source<tr><td>Wheat<td>5<td>6<td rowspan=3>USDA"
              "<tr><td>Corn<td>7<td>8<tr><td colspan=3>Soy: not reported<tr><td>Rice<td>1<td>2<td>FAO</table>")
    assert html_visible_text(beside).splitlines()[4] == "| Soy: not reported | Soy: not reported | Soy: not reported | USDA |"
    # a span a wider cell covers is used up there, and a row group's spans end with it
    covered = ("<table><tr><th>Year<th>Event<th>Place<tr><td>2019<td>Fair<td rowspan=3>Lyon"
               "<tr><td>2020<td>Fair<tr><td colspan=3>2021: cancelled<tr><td>2022<td>Fair<td>Paris</table>")
    assert html_visible_text(covered).splitlines()[-2:] == ["| 2021: cancelled |", "| 2022 | Fair | Paris |"]
    groups = ("<table><thead><tr><th>Group<th>Item<th>Amount</thead><tbody><tr><td rowspan=3>Fixed<td>Rent<td>100"
              "<tr><td>Power<td>20</tbody><tbody><tr><td>Variable<td>Food<td>50</tbody></table>")
    assert html_visible_text(groups).splitlines()[-1] == "| Variable | Food | 50 |"
    # (and ends at a row group's end tag when no start tag of another follows)
    head = "<table><thead><tr><th rowspan=3>Name<th>Score<tr><th>Math</thead><tr><td>Ann<td>90</table>"
    assert html_visible_text(head) == "| Name | Score Math |\n|---|\n| Ann | 90 |"
    # a sidebar of lines spanning rows (a newsletter laid out in a table) is written once
    sidebar = ("<table><tr><td rowspan=3>In this issue:<br>Product news<br>Events<td>Our pump ships in May."
               "<tr><td>The fair opens on 12 April.<tr><td>Write to sales for prices.</table>")
    assert html_visible_text(sidebar).count("In this issue") == 1
    # a note across the table over two rows is written once; a number of 5,000 digits reads as the most
    note = "<table><tr><td>a<td>b<td>c<tr><td colspan=3 rowspan=2>Note: provisional<tr><tr><td>1<td>2<td>3</table>"
    assert html_visible_text(note).count("Note: provisional") == 1
    assert html_visible_text(f"<table><tr><td colspan={'9' * 5000}>a<td>b</table>").endswith("| a | b |")
    # a one-row <thead> over a body row of <th> cells is no header of two rows
    assert html_visible_text("<table><thead><tr><th>Name<th>Value</thead><tbody><tr><th>Alpha<th>1<tr><td>b<td>2</table>") == (
        "| Name | Value |\n|---|\n| Alpha | 1 |\n| b | 2 |")


def test_html_spans_beside_a_row_s_only_cell_a_short_two_line_cell_and_the_budget_given_back():
    # (a second review's cases) a row whose only own cell spans rows, beside a span from above, keeps its span
    rooms = ("<table><tr><th>Day<th>Time<th>Room<tr><td rowspan=3>Mon<td>9:00<td rowspan=2>A1"
             "<tr><td rowspan=2>10:00<tr><td>B2</table>")
    assert html_visible_text(rooms).splitlines()[-1] == "| Mon | 10:00 | B2 |"
    # a short cell of two lines ("Population<br>(2020)") is copied; three lines or two paragraphs are not
    header = ("<table><tr><th rowspan=2>City<th colspan=2>Population<br>(2020)<tr><th>Total<th>Density"
              "<tr><td>Springfield<td>120,000<td>1,500</table>")
    assert html_visible_text(header).splitlines()[0] == "| City | Population (2020) Total | Population (2020) Density |"
    # a note's reservation that it never writes is given back: later spans on a long page are still filled
    rows = "".join(f"<tr><td colspan=100><b>Section {i}</b><tr><td>item {i}<td>{i}.00" for i in range(1100))
    page = (f"<table><tr><th>Item<th>Price{rows}</table><table><tr><th>Region<th>City<tr><td rowspan=3>East<td>Boston"
            "<tr><td>Lowell<tr><td>Salem</table>")
    assert html_visible_text(page).splitlines()[-1] == "| East | Salem |"


def test_html_spanning_cells_fill_a_bounded_number_of_cells():
    # 100 cells spanning 100 columns and 1,000 rows over 5,000 empty rows: 24 KB of markup
    row = "".join(f"<td colspan=100 rowspan=1000>x{i}</td>" for i in range(100))
    text = html_visible_text("<table><tr>" + row + "</tr>" + "<tr>" * 5000 + "</table>")
    assert text.count("|") <= 101 + SPAN_COPIES_MOST + 5000  # the first row, the copies, each row's opening
    assert text.count("|") > SPAN_COPIES_MOST  # (the rows below are filled, up to the bound)


def test_pdf_running_headers_and_footers_are_left_out_and_pages_keep_their_numbers(tmp_path):
    # "... transfer of the laboratory services to the Confidential - for board members only 2" had been quoted
    from assistant.ingest.documents import without_running_lines

    bodies = ["The plant opened in May.", "Sales rose by a third.", "The board met twice.", "Costs fell."]
    pages = [["Northwind Annual Report 2023", body, f"Confidential - page {n}"] for n, body in enumerate(bodies, start=1)]
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(pages))
    document = load(path)
    expected = ["Northwind Annual Report 2023\n" + bodies[0], *bodies[1:]]  # the first page keeps its header: the title
    assert document.text.split(PAGE_SEPARATOR) == expected and document.title == "Northwind Annual Report 2023"
    assert [document.text[p.start:p.end] for p in document.pages] == expected and [p.number for p in document.pages] == [1, 2, 3, 4]
    # a line on only some pages stays; of a document of two pages, a line on both goes (a two-page
    # leaflet's "Page 1" had been glued into the sentence it split), and one on one page stays
    assert without_running_lines(["Intro\nA.", "Intro\nB.", "Other\nC.", "Other2\nD."]) == ["Intro\nA.", "Intro\nB.", "Other\nC.", "Other2\nD."]
    assert without_running_lines(["Head\nA.", "Head\nB."]) == ["Head\nA.", "B."]
    assert without_running_lines(["A. It is charged to the\nPage 1", "patient.\nPage 2"]) == ["A. It is charged to the", "patient."]
    assert without_running_lines(["Head\nA.", "Other\nB."]) == ["Head\nA.", "Other\nB."]
    assert without_running_lines(["Only page\nA."]) == ["Only page\nA."]
    assert without_running_lines(["A.\nPage 1 of 3", "B.\nPage 2 of 3", "C.\nPage 3 of 3"]) == ["A.", "B.", "C."]
    assert without_running_lines(["Head", "Head", "Head"]) == ["Head", "Head", "Head"]  # a page's only line is its text
    # two-line footers go; rows of figures, invoice numbers and dates that differ page by page stay
    two = [f"Body {c}.\nNorthwind Ltd - Confidential\nPage {n} of 3" for n, c in enumerate("ABC", start=1)]
    assert without_running_lines(two) == ["Body A.", "Body B.", "Body C."]
    rows = [f"Year\n{1990 + n}   3,{200 + n}   82.{n}%" for n in range(4)]
    assert without_running_lines(rows) == [rows[0]] + [r.split("\n")[1] for r in rows[1:]]  # the column header repeats: it goes
    invoices = [f"Invoice No. 2024-0{n}7\nTotal due: EUR 1,250.00" for n in range(1, 5)]
    assert all("Invoice No." in t for t in without_running_lines(invoices))
    # a bare page number that counts the pages goes ("7", "- 7 -"), on page 1 too, and a page's only line;
    # a number that stays, jumps, or is far from the page's place (a year a page) is text
    assert without_running_lines(["A. It is charged to the\n1", "patient.\n2", "C.\n3"]) == ["A. It is charged to the", "patient.", "C."]
    assert without_running_lines(["A.\n- 1 -", "B.\n- 2 -", "C.\n- 3 -", "D."]) == ["A.", "B.", "C.", "D."]
    assert without_running_lines(["Title page", "Online stores, in\n2", "Europe.\n3"]) == ["Title page", "Online stores, in", "Europe."]
    assert without_running_lines(["A runs on\n3", "4", "here.\n5"]) == ["A runs on", "", "here."]
    assert without_running_lines(["1\nReport\nA.", "2\nB.", "3\nC."]) == ["Report\nA.", "B.", "C."]
    assert without_running_lines(["A.\n2023", "B.\n2023", "C.\n2023"]) == ["A.\n2023", "B.\n2023", "C.\n2023"]
    assert without_running_lines(["A.\n5", "B.\n9", "C.\n12"]) == ["A.\n5", "B.\n9", "C.\n12"]
    assert without_running_lines(["2020\nA.", "2021\nB.", "2022\nC.", "2023\nD."]) == ["2020\nA.", "2021\nB.", "2022\nC.", "2023\nD."]


def test_html_leaves_out_what_the_browser_hides_by_attribute_and_never_more():
    # text in <div hidden> or style="display:none" had been indexed and cited as an answer
    from assistant.ingest.documents import html_visible_text

    markup = """<body><p>The zoo has 12 giraffes.</p>
<div hidden>HIDDEN_DIV the zoo has 999 giraffes. <div>NESTED_SECRET</div> <img src=x hidden> STILL_HIDDEN</div>
<span style="color:red; display: none !important">NONE_SECRET</span>
<div>Seen <span style="display:inline">INLINE_SHOWN</span> <br/> <input hidden> AFTER_VOID</div>
<p hidden>P_HIDDEN<p>NEXT_PARAGRAPH <li style="display:none">LI_KEPT
<div style="display: none;"><div style="display:none">DEEP</div>DEEP_TAIL</div>TAIL_SHOWN
<section style="visibility:hidden">VISIBILITY_KEPT <b style="visibility:visible">CHILD_SHOWN</b></section>
<div style="display:none; display:block">LAST_DISPLAY_WINS</div><div hidden="until-found">UNTIL_FOUND</div>
<nav><span hidden>MENU_HIDDEN</nav><h1>Annual report</h1><p>Ken Hu is the chairman.</p></body>"""
    text = html_visible_text(markup)
    for secret in ("HIDDEN_DIV", "NESTED_SECRET", "STILL_HIDDEN", "NONE_SECRET", "DEEP", "MENU_HIDDEN"):
        assert secret not in text, secret
    for shown in ("The zoo has 12 giraffes.", "INLINE_SHOWN", "AFTER_VOID", "NEXT_PARAGRAPH", "TAIL_SHOWN", "CHILD_SHOWN",
                  "LAST_DISPLAY_WINS", "UNTIL_FOUND", "Annual report", "Ken Hu is the chairman."):
        assert shown in text, shown
    # an element whose end tag may be left out ends where a browser ends it ("<p hidden>" at the next
    # <p>, not hiding all that follows), and a hidden element that is never closed keeps its text
    assert "P_HIDDEN" not in text and "LI_KEPT" in text
    assert html_visible_text("<div hidden><div>x</div><p>Visible after.</p>") == "x\nVisible after."


def test_hidden_items_rows_and_paragraphs_are_left_out_where_a_browser_ends_them():
    # a hidden <li>, <tr> or <p> had been read (and could be quoted): their end tag may be left out
    from assistant.ingest.documents import html_visible_text

    markup = ("<p hidden>Old price 10 EUR<p>Shown paragraph.<ul><li style='display:none'>Hidden item"
              "<li>Shown item</li><li hidden>Hidden with <ul><li>inner one<li>inner two</ul> still hidden<li>Next item</ul>"
              "<table><tr><th>Plan</th><th>Price</th></tr><tr style='display:none'><td>Retired</td><td>5</td></tr>"
              "<tr><td>Team</td><td>29</td></tr></table><p>End.</p>")
    assert html_visible_text(markup) == (
        "Shown paragraph.\n- Shown item\n- Next item\n\n| Plan | Price |\n|---|\n| Team | 29 |\n\nEnd.")
    # an element that ends inside the hidden one does not end it (its "z" had been shown)
    assert html_visible_text("<div><li hidden>x<div>y</div>z</li></div><p>After.</p>") == "After."


def test_a_pdf_title_comes_from_its_metadata_and_a_text_file_from_its_first_line(tmp_path):
    from pypdf import PdfReader, PdfWriter
    import io

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Body text about tides."]]))))
    writer.add_metadata({"/Title": "Tides of the North Sea"})
    buffer = io.BytesIO()
    writer.write(buffer)
    pdf = tmp_path / "scan_0042.pdf"
    pdf.write_bytes(buffer.getvalue())
    assert load(pdf).title == "Tides of the North Sea"
    plain = tmp_path / "notes_2024.txt"
    plain.write_text("Meeting notes\n\nWe met.\n")
    assert load(plain).title == "Meeting notes"
    # a declared title that is a file name is what a converter wrote: the first line is the title
    # then, its spacing tidied ("Microsoft Word - FINAL_report_v3.docx" had been every passage's title)
    for junk in ("Microsoft Word - FINAL_report_v3.docx", "scan0042.PDF"):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Review  of   Digital  Skills", "Body text about tides."]]))))
        writer.add_metadata({"/Title": junk})
        buffer = io.BytesIO()
        writer.write(buffer)
        pdf.write_bytes(buffer.getvalue())
        assert load(pdf).title == "Review of Digital Skills", junk


def test_htm_suffix_and_helper_agree(tmp_path):
    markup = "<div>Alpha</div><div>Beta <span>gamma</span></div>"
    path = tmp_path / "x.htm"
    path.write_text(markup, encoding="utf-8")
    assert load(path).text == html_visible_text(markup) == "Alpha\n\nBeta gamma"


def test_an_svg_title_is_a_tooltip_not_the_page_title():
    from assistant.ingest.documents import html_text_and_title

    markup = "<title>T &amp; co</title><p>Body</p><svg><title>tooltip</title><text>chart</text></svg>"
    assert html_text_and_title(markup) == ("Body", "T & co")


def test_unclosed_tags_at_the_end_are_text_and_read_once():
    import subprocess
    import sys

    from assistant.ingest.documents import html_text_and_title

    # past the last ">" nothing closes: from the first tag begun there a browser shows nothing (it
    # had been read as text, as the parser shows it); a "<" that begins no tag is text
    assert html_text_and_title("<p>Body</p><a <!-- </ <b 5 < 6") == ("Body", "")
    assert html_text_and_title("<p>Body</p> 5 < 6") == ("Body\n5 < 6", "")
    # a hang guard, not a timing: 200,000 unclosed tags read in a tenth of a second; the parser
    # alone read to the end from each (18 s for 20,000 here)
    code = "from assistant.ingest.documents import html_visible_text as v; assert v('<p>x</p>' + '<a ' * 200000).startswith('x')"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], check=True, timeout=60)


def test_html_with_only_invisible_content_is_an_error(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><head><script>x = 1</script></head><body>  </body></html>", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load(path)
    assert "empty.html" in str(info.value) and "no text" in str(info.value)



def test_html_without_closing_head_tag_keeps_the_body(tmp_path):
    path = tmp_path / "implicit.html"
    path.write_text(
        "<!doctype html><html><head><meta charset=utf-8><title>Notes</title>"
        "<body><p>The body paragraph must survive.</p></body></html>",
        encoding="utf-8",
    )
    assert "The body paragraph must survive." in load(path).text


def test_html_a_comment_or_tag_never_closed_runs_to_the_end_unshown_as_in_a_browser():
    # an unclosed comment's text (a TODO with an alarm code) had been read and quoted
    assert html_visible_text("<p>The office opens at nine.</p>\n<!-- TODO: the alarm code is 4711.\n</body></html>") == \
        "The office opens at nine."
    assert html_visible_text("<p>A</p><!-- closed --><p>B</p><!-- open <p>C</p>") == "A\n\nB"
    for tail in ("<a href=x", "<![CDATA[ code 4711", "<?php echo 4711", "</p"):  # begun after the last ">"
        assert html_visible_text(f"<p>A</p>{tail}") == "A"
    assert html_visible_text("<p>If 1 < 5</p> then x < y") == "If 1 < 5\nthen x < y"  # "<" before no tag is text
    assert html_visible_text("<script>var s = '<!--';</script><p>After</p>") == "After"  # a script's text, not a comment
    # not a comment left open (each had dropped the rest of the page): an empty comment, one inside
    # an attribute, one in a text area; and an old-style script comment does not hide a later open one
    for page, shown in (("<p>Intro.</p><!--><p>Code 1234.</p>", "Code 1234."), ("<p>Intro.</p><!---><p>Code 1234.</p>", "Code 1234."),
                        ('<p>Intro.</p><img alt="<!-- logo"><p>Code 1234.</p>', "Code 1234."),
                        ("<textarea>Type <!-- here</textarea><p>Code 1234.</p>", "Code 1234.")):
        assert shown in html_visible_text(page), page
    assert html_visible_text("<script><!-- x = 1; //--></script><p>A.</p><!-- TODO alarm 9999") == "A."


# --- PDF ---------------------------------------------------------------------------------

PDF_PAGES = [
    ["Annual report of the Example Company.", "Revenue grew by twelve percent."],
    ["Research spending reached four billion.", "Most of it went to networks."],
    ["The outlook for next year is stable."],
]


def test_pdf_text_and_pages(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(PDF_PAGES))

    doc = load(path)

    assert [p.number for p in doc.pages] == [1, 2, 3]
    for page, lines in zip(doc.pages, PDF_PAGES):
        page_text = doc.text[page.start:page.end]
        for line in lines:
            assert line in page_text
        assert page_text == page_text.strip()
    # Pages tile the text, joined by the separator, in order.
    assert doc.pages[0].start == 0 and doc.pages[-1].end == len(doc.text)
    for before, after in zip(doc.pages, doc.pages[1:]):
        assert doc.text[before.end:after.start] == PAGE_SEPARATOR
    assert "Research spending" not in doc.text[doc.pages[0].start:doc.pages[0].end]
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_pdf_sentence_over_a_page_break_is_read_whole_without_the_page_number(tmp_path):
    # "… has since tested every" / "product the company sells …" had been two sentences, quoted in
    # halves, and a bare footer number ("2") had stayed in the text between them
    import datetime

    from fpdf import FPDF

    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.documents import PAGE_RUN_ON

    class Numbered(FPDF):
        def footer(self):
            self.set_y(-15)
            self.cell(0, 10, str(self.page_no()), align="C")

    pdf = Numbered()
    pdf.set_creation_date(datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    sentence = "The laboratory opened in 2015 and has since tested every product the company sells in Europe."
    pdf.multi_cell(0, 6, " ".join([sentence] * 130))
    path = tmp_path / "lab.pdf"
    path.write_bytes(bytes(pdf.output()))
    document = load(path)
    breaks = [document.text[a.end:b.start] for a, b in zip(document.pages, document.pages[1:])]
    assert len(document.pages) >= 3 and PAGE_RUN_ON in breaks  # a page stops mid-sentence
    chunks = chunk_document(document, 1200, 200)
    read = [" ".join(document.text[s:e].split()) for c in chunks for s, e in c.sentences]
    assert set(read) == {sentence} and len(set(c.page for c in chunks)) >= 3


def test_pdf_blank_page_keeps_real_page_numbers(tmp_path):
    path = tmp_path / "gap.pdf"
    path.write_bytes(make_pdf([["First page words."], [], ["Third page words."]]))
    doc = load(path)
    assert [p.number for p in doc.pages] == [1, 3]
    assert doc.text[doc.pages[1].start:doc.pages[1].end] == "Third page words."


def test_pdf_without_text_is_an_error(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([[], []]))
    with pytest.raises(LoadError) as info:
        load(path)
    assert "scan.pdf" in str(info.value) and "no extractable text" in str(info.value)


# --- errors ------------------------------------------------------------------------------


def _bad_files(tmp_path):
    """(path, expected reason fragment) for every kind of unloadable input."""
    cases = []

    def add(name, data, reason):
        path = tmp_path / name
        path.write_bytes(data)
        cases.append((path, reason))

    add("empty.txt", b"", "empty file")
    add("blank.md", b"  \n\t\r\n  \n", "empty file")
    add("nbsp-only.txt", "\u00a0\u00a0\n".encode("utf-8"), "no text")
    add("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary")
    add("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "not valid UTF-8")
    add("report.docx", b"PK\x03\x04 not really a docx", "not a readable Word document (.docx)")
    add("report.doc", b"\xd0\xcf\x11\xe0 an old Word file", "the legacy Word format .doc is not supported: save it as .docx")
    add("noext", b"plain words", "unsupported file type")
    add("corrupt.pdf", bytes(random.Random(7).randrange(256) for _ in range(4096)), "not a readable PDF")
    add("truncated.pdf", make_pdf(PDF_PAGES)[:700], "not a readable PDF")
    add("ascii-after-bom.txt", b"\xff\xfe" + b"Plain text that only starts with the bytes of a UTF-16 mark.\n", "does not read as UTF-16")
    cases.append((tmp_path / "missing.txt", "no such file"))
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    cases.append((fifo, "not a regular file (a named pipe)"))
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    cases.append((loop, "symbolic link loop"))
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "gone.md")
    cases.append((dangling, "broken symbolic link"))
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    cases.append((folder, "is a directory"))
    return cases


def test_every_bad_input_raises_a_one_line_load_error(tmp_path):
    for path, reason in _bad_files(tmp_path):
        with pytest.raises(LoadError) as info:
            load(path)
        message = str(info.value)
        assert "\n" not in message and "\r" not in message, (path, message)
        assert path.name in message, message
        assert reason in message, (path, message)
        assert info.value.source == str(path)
        assert info.value.reason and info.value.reason in message


def test_pypdf_warnings_are_folded_into_the_one_line_reason(tmp_path, capfd, caplog):
    path = tmp_path / "truncated.pdf"
    path.write_bytes(make_pdf(PDF_PAGES)[:700])
    with pytest.raises(LoadError) as info:
        load(path)
    assert "pypdf: " in info.value.reason and "\n" not in str(info.value)
    assert info.value.reason.startswith("not a readable PDF, damaged or not a PDF (")
    junk = tmp_path / "junk.pdf"  # the browser had shown "(PdfStreamError: …); pypdf: invalid pdf header: b'\xba\xb5…'"
    junk.write_bytes(b"\xba\xb50\xdf\xe8" * 800)
    with pytest.raises(LoadError) as info:
        load(junk)
    assert "PdfStreamError" not in info.value.reason and "\\x" not in info.value.reason and "b'" not in info.value.reason
    assert capfd.readouterr().err == "" and not [r for r in caplog.records if r.name.startswith("pypdf")]


def test_invalid_utf8_reports_the_offending_byte(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good start \xff\xfe? no: \xc3\x28 invalid")
    # b"\xff\xfe" at offset 11 (not 0) is not a BOM; the first invalid byte is 0xff at 11.
    with pytest.raises(LoadError, match=r"0xff at offset 11"):
        load(path)


def test_a_directory_without_suffix_is_refused(tmp_path):
    folder = tmp_path / "plain-folder"
    folder.mkdir()
    with pytest.raises(LoadError) as info:
        load(folder)
    assert "plain-folder" in str(info.value)


def test_load_error_uses_the_given_source_name(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"")
    with pytest.raises(LoadError) as info:
        load(path, source="uploaded/original name.txt")
    assert str(info.value).startswith("uploaded/original name.txt: ")


def test_pdf_with_unsupported_stream_filter_raises_load_error(tmp_path):
    data = make_pdf(PDF_PAGES)
    assert b"/FlateDecode" in data
    path = tmp_path / "damaged.pdf"
    path.write_bytes(data.replace(b"/FlateDecode", b"/FlateDecodX"))  # same length: xref stays valid
    with pytest.raises(LoadError) as info:
        load(path)
    assert "damaged.pdf" in str(info.value)


def test_file_sha256_matches_hashlib(tmp_path):
    from assistant.ingest.documents import file_sha256

    data = os.urandom(3 * (1 << 20) + 17)  # spans several read blocks
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("text, title", [
    ("---\ntitle: \"Pump manual\"\nauthor: A\n---\n\n# Overview\n\nThe pump is rated for 40 bar.\n", "Pump manual"),
    ("---\nauthor: A\n---\n# Overview\n\nThe pump is rated for 40 bar.\n", "Overview"),  # front matter without a title
    ("```python\nprint(1)\n```\nThe pump is rated for 40 bar.\n", "print(1)"),  # the fence is not the title
    ("***\n\nPump manual\n\nThe pump is rated for 40 bar.\n", "Pump manual"),
    # as a reader sees it: a README's logo, badges and comments passed over, links' text, no emphasis or closing #s
    ('<p align="center">\n  <img src="logo.svg" alt="Logo">\n</p>\n\n<h1 align="center">Pump</h1>\n\nText.\n', "Pump"),
    ("[![Build](https://ci.example.com/b.svg)](https://ci.example.com)\n\n# Pump\n\nText.\n", "Pump"),
    ("<!-- markdownlint-disable MD033 -->\n# **Pump**: the [manual](https://example.com) ##\n\nText.\n", "Pump: the manual"),
    ('+++\ntitle = "Pump manual"\n+++\n\n# Changes\n', "Pump manual"),  # TOML front matter
])
def test_markdown_front_matter_fences_and_rules_are_not_titles(tmp_path, text, title):
    path = tmp_path / "pump.md"
    path.write_text(text, encoding="utf-8")
    assert load(path).title == title and load(path).text == text


def test_a_file_of_only_invisible_characters_is_empty(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\u200b\u200b\n\u2060\ufeff \u200d", encoding="utf-8")
    with pytest.raises(LoadError, match="no text"):
        load(path)


def test_a_pdf_whose_text_passes_the_limit_is_refused_as_it_does(tmp_path):
    # the size limit bounds bytes: a small PDF of one page repeated had unpacked to 80 million characters
    path = tmp_path / "long.pdf"
    path.write_bytes(make_pdf([["The quick brown fox jumps over the lazy dog, again and again."] * 40] * 6))
    whole = load(path)
    with pytest.raises(LoadError, match=r"more text than the size limit allows \(over 5,000 characters by page \d+ of \d+;"):
        load(path, max_chars=5000)
    assert load(path, max_chars=2 * len(whole.text)).text == whole.text


def test_html_end_tags_close_through_per_tag_counts_not_scans():
    # stray or nested end tags had each scanned (and copied) the open elements: 35 s for 330 KB of
    # nested tables, 38 s for 960 KB of unmatched ones; the counts make each a lookup
    from assistant.ingest.documents import _VisibleText

    parser = _VisibleText()
    parser.feed("<div><span><b>x</b>")
    assert parser.open == ["div", "span"] and parser.open_count == {"div": 1, "span": 1, "b": 0}
    parser.feed("</p></div>")  # a stray end tag changes nothing; an outer one closes what it holds
    assert parser.open == [] and not any(parser.open_count.values())
    nested = html_visible_text("<table><tr><td>" * 300 + "deep" + "</td></tr></table>" * 300)
    assert nested.split().count("deep") == 1
    assert html_visible_text("<span>" * 300 + "text" + "</div>" * 300).strip() == "text"
    assert "after" in html_visible_text("<div>" * 300 + "<div hidden>secret</div>after" + "</div>" * 300)


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_an_aes_encrypted_pdf_that_opens_without_a_password_is_read(tmp_path, algorithm):
    # refused as "damaged or not a PDF" while the cryptography package was not installed
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["The moon base has twelve rooms."]]))))
    writer.encrypt(user_password="", owner_password="owner-only", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "locked.pdf"
    path.write_bytes(buffer.getvalue())
    assert load(path).text == "The moon base has twelve rooms."
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret."]]))))
    writer.encrypt(user_password="reader", owner_password="owner", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(LoadError, match="encrypted PDF \\(a password is needed\\)"):
        load(path)


def test_an_html_term_and_its_definition_read_as_one_line():
    # "Heeling" alone had been quoted as the answer to "What is heeling?"
    page = ("<main><h1>Sailing terms</h1><dl>\n<dt>Jib</dt>\n<dd>A triangular sail.</dd>\n"
            "<dt>Boom</dt><dd>The pole along the sail.</dd><dd>A sudden noise.</dd></dl></main>")
    assert html_visible_text(page) == "# Sailing terms\n\nJib: A triangular sail.\n\nBoom: The pole along the sail.\n\nA sudden noise."


def test_a_pdf_page_of_more_drawing_instructions_than_the_most_is_refused_before_its_text_is_read(tmp_path):
    # a 128 KB one-page PDF of 41 MB of instructions had not been read after 300 s
    import zlib

    from assistant.ingest.documents import PAGE_CONTENT_MOST

    content = b"BT /F1 10 Tf 72 700 Td (" + b"A" * (PAGE_CONTENT_MOST + 1000) + b") Tj ET\n"
    stream = zlib.compress(content, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path = tmp_path / "dense.pdf"
    path.write_bytes(bytes(out))
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(LoadError, match=r"page 1 holds 4 MiB of drawing instructions, more than 4 MiB; not read"):
        load(path)


def _docx(path, build) -> Path:
    import docx

    document = docx.Document()
    build(document)
    document.save(path)
    return path


def _agreement(document) -> None:
    document.add_paragraph("Supplier agreement", style="Title")
    document.add_paragraph("This agreement is made between Acme Ltd and Bolt GmbH. It sets the terms of delivery.")
    document.add_heading("Delivery", level=1)
    document.add_paragraph("Acme shall deliver 40 pumps by 1 May.", style="List Number")
    document.add_paragraph("Late delivery costs 2% a week.", style="List Number")
    document.add_paragraph("Pumps are tested before delivery.", style="List Bullet")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Item", "Price", "Notes"), ("Pump P-40", "1,200 EUR", "each"), ("Service visit", "150 EUR", "")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(2, 1).merge(table.cell(2, 2))  # one cell over two columns: in each, as pandas reads a web page's
    document.add_paragraph("Payment is due within thirty days.")


def test_delimited_text_is_read_as_a_markdown_table(tmp_path):
    (tmp_path / "staff.csv").write_text('Name,Department,Extension\r\nFarid Vogel,Marketing,1642\r\n\r\n'
                                        '"Weber, Rosa","Finance |\nControlling",3656\r\n', "utf-8")
    document = load(tmp_path / "staff.csv")
    assert document.text == ("| Name | Department | Extension |\n|---|\n| Farid Vogel | Marketing | 1642 |\n"
                             "| Weber, Rosa | Finance / Controlling | 3656 |")  # quoted commas, line breaks and pipes kept in their cell
    (tmp_path / "prices.csv").write_text("Product;Price\nPump;1200\nValve;30\n", "utf-8")
    assert load(tmp_path / "prices.csv").text == "| Product | Price |\n|---|\n| Pump | 1200 |\n| Valve | 30 |"
    (tmp_path / "rows.tsv").write_text("Lyon\t14\nParis\t40\nNice\t9\n", "utf-8")  # a first row like the others: no header
    assert load(tmp_path / "rows.tsv").text == "| Lyon | 14 |\n| Paris | 40 |\n| Nice | 9 |"
    # a first row of text over text columns is a header by convention (csv.Sniffer had called it data)
    (tmp_path / "people.csv").write_text("Name,Department,Email,\nAnna Keller,Finance,ak@example.org,\n"
                                         "Boris Novak,Legal,,\n", "utf-8")  # a column empty in every row goes
    assert load(tmp_path / "people.csv").text == ("| Name | Department | Email |\n|---|\n| Anna Keller | Finance | ak@example.org |\n"
                                                  "| Boris Novak | Legal |  |")
    # Excel: its "sep=;" line names the delimiter; decimal commas under semicolons; Windows-1252 text
    (tmp_path / "excel.csv").write_bytes("sep=;\r\nProdukt;Preis\r\nPumpe für Öl;12,50\r\n".encode("cp1252"))
    assert load(tmp_path / "excel.csv").text == "| Produkt | Preis |\n|---|\n| Pumpe für Öl | 12,50 |"
    (tmp_path / "decimals.csv").write_text("Pumpe;12,50;3,20\nVentil;1,50;0,80\n", "utf-8")
    assert load(tmp_path / "decimals.csv").text == "| Pumpe | 12,50 | 3,20 |\n| Ventil | 1,50 | 0,80 |"
    # a row of years over other figures is a header, its corner cell empty or not; years over years are data
    (tmp_path / "sales.csv").write_text(",2022,2023\nNorth,120,135\nSouth,90,88\n", "utf-8")
    assert load(tmp_path / "sales.csv").text == "|  | 2022 | 2023 |\n|---|\n| North | 120 | 135 |\n| South | 90 | 88 |"
    (tmp_path / "regions.csv").write_text("Region,2022,2023\nNorth,120,135\n", "utf-8")
    assert load(tmp_path / "regions.csv").text == "| Region | 2022 | 2023 |\n|---|\n| North | 120 | 135 |"
    (tmp_path / "terms.csv").write_text("1999,2003\n2004,2008\n", "utf-8")
    assert load(tmp_path / "terms.csv").text == "| 1999 | 2003 |\n| 2004 | 2008 |"
    (tmp_path / "years.csv").write_text("2021,2022,2023\n120,135,150\n", "utf-8")  # years in every cell
    assert load(tmp_path / "years.csv").text == "| 2021 | 2022 | 2023 |\n|---|\n| 120 | 135 | 150 |"
    (tmp_path / "missions.csv").write_text("Apollo,2019,2021\nGemini,2020,ongoing\n", "utf-8")  # no figures below: data
    assert load(tmp_path / "missions.csv").text == "| Apollo | 2019 | 2021 |\n| Gemini | 2020 | ongoing |"
    # a cell past the csv module's 128 KiB is read (it had been refused: "field larger than field limit (131072)")
    (tmp_path / "huge.csv").write_text('id,note\n1,"' + "Long note. " * 20_000 + '"\n', "utf-8")
    assert load(tmp_path / "huge.csv").text.startswith("| id | note |\n|---|\n| 1 | Long note. Long note.")
    (tmp_path / "blank.csv").write_text(",,\n,,\n", "utf-8")
    with pytest.raises(LoadError, match="no text"):
        load(tmp_path / "blank.csv")


def test_a_word_document_is_read_as_markdown_in_reading_order(tmp_path):
    doc = load(_docx(tmp_path / "agreement.docx", _agreement))
    assert doc.title == "Supplier agreement" and doc.pages == ()
    assert doc.text == (
        "# Supplier agreement\n\nThis agreement is made between Acme Ltd and Bolt GmbH. It sets the terms of delivery.\n\n"
        "# Delivery\n\n1. Acme shall deliver 40 pumps by 1 May.\n2. Late delivery costs 2% a week.\n"
        "- Pumps are tested before delivery.\n\n"
        "| Item | Price | Notes |\n|---|\n| Pump P-40 | 1,200 EUR | each |\n| Service visit | 150 EUR | 150 EUR |\n\n"
        "Payment is due within thirty days.\n")


def test_a_word_document_s_title_property_comes_first(tmp_path):
    def build(document):
        document.core_properties.title = "Agreement 2026"
        _agreement(document)

    assert load(_docx(tmp_path / "a.docx", build)).title == "Agreement 2026"


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _raw_docx(path, body: str, main: str = "word/document.xml", more: dict | None = None) -> Path:
    """A .docx written by hand: `body` inside <w:body>, the main part at `main`."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                         f'Target="{main}"/></Relationships>')
        archive.writestr(main, f'<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body></w:document>')
        for name, data in (more or {}).items():
            archive.writestr(name, data)
    return path


def _p(*runs: str) -> str:
    return "<w:p>" + "".join(runs) + "</w:p>"


def _r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def test_a_word_document_reads_as_shown_tracked_changes_fields_controls_and_nested_tables_included(tmp_path):
    body = (
        # an insertion not yet accepted is shown, a deletion is not: the condition had been lost
        _p(_r("The deposit is refundable "), f"<w:ins w:id=\"1\" w:author=\"A\">{_r('only within 30 days of payment')}</w:ins>",
           f"<w:del w:id=\"2\" w:author=\"A\"><w:r><w:delText>at any time</w:delText></w:r></w:del>", _r(".")) +
        _p(_r("Payment is due to "), f"<w:fldSimple w:instr=\" MERGEFIELD Payee \">{_r('Acme Ltd')}</w:fldSimple>", _r(" by March."))
        + f"<w:sdt><w:sdtPr><w:alias w:val=\"Terms\"/></w:sdtPr><w:sdtContent>{_p(_r('Terms apply to all orders.'))}</w:sdtContent></w:sdt>"
        + "<w:tbl><w:tr><w:tc>" + _p(_r("Cafeteria")) + "<w:tbl><w:tr><w:tc>" + _p(_r("It opens at 7 am."))
        + "</w:tc></w:tr></w:tbl></w:tc><w:tc>" + _p(_r("Ground floor")) + "</w:tc></w:tr></w:tbl>"
        + _p('<w:r><w:drawing><w:txbxContent><w:p><w:r><w:t>A text box.</w:t></w:r></w:p></w:txbxContent></w:drawing></w:r>', _r("Last line."))
    )
    doc = load(_raw_docx(tmp_path / "terms.docx", body, main="word/document2.xml"))  # as Word Online names it
    assert doc.text == ("The deposit is refundable only within 30 days of payment.\n\nPayment is due to Acme Ltd by March.\n\n"
                        "Terms apply to all orders.\n\n| Cafeteria It opens at 7 am. | Ground floor |\n\nLast line.\n\nA text box.\n")
    assert doc.title == "terms"  # no title and a first line of prose: the file name, as for text
    table = "<w:tbl><w:tr><w:tc>" + _p(_r("City")) + "</w:tc><w:tc>" + _p(_r("Office manager")) + "</w:tc></w:tr></w:tbl>"
    assert load(_raw_docx(tmp_path / "office_managers.docx", table)).title == "office managers"  # not "| City | Office manager |"


_RELATIONSHIPS = 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
_MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def linked_docx(path, body: str, linked: dict[str, tuple[str, str]], more: dict | None = None) -> Path:
    """A .docx whose main part links to these parts: relationship id -> (its type's last word, its XML)."""
    rels = "".join(f'<Relationship Id="{rid}" Target="{kind}{rid}.xml" '
                   f'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}"/>'
                   for rid, (kind, _) in linked.items())
    parts = {f"word/{kind}{rid}.xml": xml for rid, (kind, xml) in linked.items()}
    parts["word/_rels/document.xml.rels"] = f'<?xml version="1.0"?><Relationships {_RELATIONSHIPS}>{rels}</Relationships>'
    return _raw_docx(path, body, more={**parts, **(more or {})})


def notes_docx(path, body: str, footnotes: str = "", endnotes: str = "", more: dict | None = None) -> Path:
    """A .docx whose main part links to a footnotes and an endnotes part holding these notes."""
    kinds = {"footnotes": footnotes, "endnotes": endnotes}
    return linked_docx(path, body, {f"rId{i}": (kind, f'<?xml version="1.0"?><w:{kind} {W}>{notes}</w:{kind}>')
                                    for i, (kind, notes) in enumerate(kinds.items())}, more)


def note(kind: str, note_id: int, *paragraphs: str) -> str:
    """A footnote or endnote ("footnote") of these paragraphs, its own number first as Word writes it."""
    first, *rest = paragraphs
    return (f'<w:{kind} w:id="{note_id}">' + _p(f"<w:r><w:{kind}Ref/></w:r>", _r(" " + first)) + "".join(_p(_r(t)) for t in rest)
            + f"</w:{kind}>")


def reference(kind: str, note_id: int, custom: str = "") -> str:
    """A run that refers to a note: numbered, or with the `custom` mark it writes (XML) after the reference."""
    return (f'<w:r><w:{kind}Reference w:id="{note_id}"' + (' w:customMarkFollows="1"' if custom else "") + "/>"
            + custom + "</w:r>")


def test_a_word_document_s_notes_follow_what_refers_to_them_and_text_boxes_their_paragraph(tmp_path):
    separators = ('<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
                  '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>')
    footnotes = (separators + note("footnote", 1, "The figure excludes VAT.") + note("footnote", 2, "Audited in March.", "Restated once.")
                 + note("footnote", 3, "Before bonuses.") + note("footnote", 4, "Never referred to."))
    endnotes = note("endnote", 1, "See the annex.")
    # a text box as Word writes it: a drawing (the first form) and the same box as VML (the fallback)
    box = (f'<w:r><mc:AlternateContent {_MC}><mc:Choice Requires="wps"><w:drawing><w:txbxContent>{_p(_r("Services grew fastest."))}'
           f'</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>{_p(_r("Services grew fastest."))}'
           "</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>")
    numbering = (f'<?xml version="1.0"?><w:numbering {W}><w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/>'
                 '</w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>')
    item = '<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr>'
    body = (_p(_r("Revenue rose 12% in 2023."), reference("footnote", 1), _r(" Costs fell"), reference("endnote", 1), _r("."))
            + _p(box)  # anchored in an empty paragraph
            + _p(item, _r("Lyon office"), reference("footnote", 3)) + _p(item, _r("Nice office"))
            + "<w:tbl><w:tr><w:tc>" + _p(_r("Lyon"), reference("footnote", 2)) + "</w:tc><w:tc>" + _p(_r("14")) + "</w:tc></w:tr>"
            + "<w:tr><w:tc>" + _p(_r("Nice")) + "</w:tc><w:tc>" + _p(_r("9")) + "</w:tc></w:tr></w:tbl>"
            + _p(_r("Margins held"), reference("footnote", 9), reference("footnote", 3, custom="<w:t>*</w:t>"), _r(" at 8%."),
                 reference("footnote", 1)))  # a note that is not there: no mark; one referred to again: no second copy
    doc = load(notes_docx(tmp_path / "report.docx", body, footnotes, endnotes, more={"word/numbering.xml": numbering}))
    assert doc.text == ("Revenue rose 12% in 2023.[^1] Costs fell[^2].\n\nNote 1: The figure excludes VAT.\n\nNote 2: See the annex.\n\n"
                        "Services grew fastest.\n\n- Lyon office[^3]\n- Nice office\n\nNote 3: Before bonuses.\n\n"
                        "| Lyon[^4] | 14 |\n| Nice | 9 |\n\nNote 4: Audited in March.\n\nRestated once.\n\nMargins held* at 8%.[^1]\n")
    # a custom mark ("†", or a symbol font's character) is the note's mark: its run writes it, and the note is not numbered
    body = _p(_r("Margins held"), reference("footnote", 3, custom="<w:t>†</w:t>"), _r(", before tax, at 8%."),
              reference("footnote", 1), _r(" Sales"), reference("endnote", 1, custom='<w:sym w:font="Symbol" w:char="F02A"/>'), _r(" rose."))
    assert load(notes_docx(tmp_path / "starred.docx", body, footnotes, endnotes)).text == (
        "Margins held†, before tax, at 8%.[^1] Sales* rose.\n\nNote †: Before bonuses.\n\nNote 1: The figure excludes VAT.\n\n"
        "Note *: See the annex.\n")
    # a note's table stays a table, and a note a note refers to follows it; a mark in a heading is not in the title
    footnotes += note("footnote", 5, "Rates:").replace("</w:footnote>", "<w:tbl><w:tr><w:tc>" + _p(_r("North"))
                                                    + "</w:tc><w:tc>" + _p(_r("5%"), reference("endnote", 1))
                                                    + "</w:tc></w:tr></w:tbl></w:footnote>")
    body = '<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr>' + _r("Annual report") + reference("footnote", 5) + "</w:p>"
    document = load(notes_docx(tmp_path / "nested.docx", body, footnotes, endnotes))
    assert document.text == "# Annual report[^1]\n\nNote 1: Rates:\n\n| North | 5%[^2] |\n\nNote 2: See the annex.\n"
    assert document.title == "Annual report"
    # a damaged notes part is read as absent: the body as before, its references without marks
    damaged = notes_docx(tmp_path / "damaged.docx", _p(_r("Revenue rose."), reference("footnote", 1)), footnotes)
    assert load(_raw_docx(tmp_path / "damaged.docx", _p(_r("Revenue rose."), reference("footnote", 1)),
                          more={"word/_rels/document.xml.rels": zip_read(damaged, "word/_rels/document.xml.rels"),
                                "word/footnotes.xml": "<w:footnotes"})).text == "Revenue rose.\n"
    # a document whose only text is in a text box is read
    assert load(_raw_docx(tmp_path / "poster.docx", _p(box))).text == "Services grew fastest.\n"


def test_a_word_document_s_chart_is_read_as_its_title_and_figures_after_its_paragraph(tmp_path):
    chart = "http://schemas.openxmlformats.org/drawingml/2006/chart"
    drawing = (f'<w:r><w:drawing><a:graphic xmlns:a="{_A}"><a:graphicData uri="{chart}"><c:chart xmlns:c="{chart}" '
               'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId7"/></a:graphicData>'
               "</a:graphic></w:drawing></w:r>")
    space = (f'<c:chartSpace xmlns:c="{chart}" xmlns:a="{_A}"><c:chart><c:title><c:tx><c:rich><a:p><a:r><a:t>Staff by city</a:t>'
             "</a:r></a:p></c:rich></c:tx></c:title><c:plotArea><c:barChart><c:ser><c:tx><c:strRef><c:strCache><c:pt idx=\"0\">"
             "<c:v>Staff</c:v></c:pt></c:strCache></c:strRef></c:tx><c:cat><c:strRef><c:strCache><c:pt idx=\"0\"><c:v>Lyon</c:v></c:pt>"
             "<c:pt idx=\"1\"><c:v>Paris</c:v></c:pt></c:strCache></c:strRef></c:cat><c:val><c:numRef><c:numCache><c:pt idx=\"0\">"
             "<c:v>14</c:v></c:pt><c:pt idx=\"1\"><c:v>40</c:v></c:pt></c:numCache></c:numRef></c:val></c:ser></c:barChart>"
             "<c:catAx><c:title><c:tx><c:rich><a:p><a:r><a:t>City</a:t></a:r></a:p></c:rich></c:tx></c:title></c:catAx>"
             "</c:plotArea></c:chart></c:chartSpace>")
    body = _p(_r("Headcount grew in both offices."), drawing) + _p(_r("Hiring continues."))
    document = load(linked_docx(tmp_path / "staff.docx", body, {"rId7": ("chart", space)}))
    assert document.text == ("Headcount grew in both offices.\n\nStaff by city\n\n| City | Staff |\n|---|\n| Lyon | 14 |\n"
                             "| Paris | 40 |\n\nHiring continues.\n")
    # a chart in a table's cell follows the table (its rows had been glued into the cell)
    table = "<w:tbl><w:tr><w:tc>" + _p(_r("Cities"), drawing) + "</w:tc><w:tc>" + _p(_r("2")) + "</w:tc></w:tr></w:tbl>"
    assert load(linked_docx(tmp_path / "cell.docx", table, {"rId7": ("chart", space)})).text == (
        "| Cities | 2 |\n\nStaff by city\n\n| City | Staff |\n|---|\n| Lyon | 14 |\n| Paris | 40 |\n")
    # a chart part that is missing or damaged is read as absent
    assert load(_raw_docx(tmp_path / "lost.docx", body)).text == "Headcount grew in both offices.\n\nHiring continues.\n"
    assert load(linked_docx(tmp_path / "damaged.docx", body, {"rId7": ("chart", "<c:chartSpace")})).text == (
        "Headcount grew in both offices.\n\nHiring continues.\n")


def zip_read(path, name: str) -> str:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode()


def test_a_word_cell_merged_over_columns_or_rows_is_written_in_each_and_a_lone_note_once(tmp_path):
    # a merged "Sales" over two columns had named only the first; a region merged down its rows had
    # been read in its first row only, the rows below with an empty cell
    def cell(text: str, props: str = "") -> str:
        return f"<w:tc><w:tcPr>{props}</w:tcPr>{_p(_r(text)) if text else '<w:p/>'}</w:tc>"

    def row(*cells: str) -> str:
        return "<w:tr>" + "".join(cells) + "</w:tr>"

    span, restart, down = '<w:gridSpan w:val="2"/>', '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    body = ("<w:tbl>" + row(cell("Region"), cell("City"), cell("Sales", span))
            + row(cell("North", restart), cell("Oslo"), cell("5"), cell("6"))
            + row(cell("", down), cell("Bergen"), cell("7"), cell("8"))
            + row(cell("South"), cell("Kristiansand"), cell("9"), cell("10"))
            + row(cell("Figures in thousands", '<w:gridSpan w:val="4"/>')) + "</w:tbl>")
    assert load(_raw_docx(tmp_path / "a.docx", body)).text == (
        "| Region | City | Sales | Sales |\n| North | Oslo | 5 | 6 |\n| North | Bergen | 7 | 8 |\n"
        "| South | Kristiansand | 9 | 10 |\n| Figures in thousands |\n")
    note = "A long note. " * 20  # a long cell once, its other columns empty; a span past Word's 63 columns, 63
    wide = "<w:tbl>" + row(cell(note.strip(), span), cell("x")) + row(cell("a", '<w:gridSpan w:val="9999"/>'), cell("b")) + "</w:tbl>"
    lines = load(_raw_docx(tmp_path / "b.docx", wide)).text.splitlines()
    assert lines[0] == f"| {note.strip()} |  | x |" and lines[1] == "| " + " | ".join(["a"] * 63 + ["b"]) + " |"


def test_a_word_merge_of_several_paragraphs_a_row_of_continuations_and_columns_left_empty(tmp_path):
    # (a review's cases) a CV's sidebar merged down three rows had been copied into each
    def cell(text: str, props: str = "", more: str = "") -> str:
        return f"<w:tc><w:tcPr>{props}</w:tcPr>{_p(_r(text)) if text else '<w:p/>'}{more}</w:tc>"

    restart, down = '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    cv = ("<w:tbl><w:tr>" + cell("Jane Doe", restart, _p(_r("jane@example.com"))) + cell("Experience") + "</w:tr><w:tr>"
          + cell("", down) + cell("Education") + "</w:tr></w:tbl>")
    assert load(_raw_docx(tmp_path / "cv.docx", cv)).text == "| Jane Doe jane@example.com | Experience |\n|  | Education |\n"
    # a row whose cells all go on a merge from above (a note's second row) adds nothing
    span = '<w:gridSpan w:val="3"/>'
    note = ("<w:tbl><w:tr>" + cell("a") + cell("b") + cell("c") + "</w:tr><w:tr>" + cell("Note: provisional", span + restart)
            + "</w:tr><w:tr>" + cell("", span + down) + "</w:tr><w:tr>" + cell("1") + cell("2") + cell("3") + "</w:tr></w:tbl>")
    assert load(_raw_docx(tmp_path / "note.docx", note)).text.count("Note: provisional") == 1
    # columns a row leaves empty before its first cell (w:gridBefore) keep the merges in their columns
    before = ("<w:tbl><w:tr>" + cell("") + cell("Plan") + cell("Actual") + '</w:tr><w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>'
              + cell("Budget", restart) + cell("Revenue", restart) + "</w:tr><w:tr>" + cell("Q1") + cell("", down) + cell("", down)
              + "</w:tr></w:tbl>")
    assert load(_raw_docx(tmp_path / "before.docx", before)).text.splitlines()[1:] == ["|  | Budget | Revenue |", "| Q1 | Budget | Revenue |"]


def test_a_word_header_of_two_rows_repeated_on_each_page_is_one_row_each_column_named_by_both(tmp_path):
    def cell(text: str, props: str = "") -> str:
        return f"<w:tc><w:tcPr>{props}</w:tcPr>{_p(_r(text)) if text else '<w:p/>'}</w:tc>"

    def row(*cells: str, header: bool = False) -> str:
        return "<w:tr>" + ("<w:trPr><w:tblHeader/></w:trPr>" if header else "") + "".join(cells) + "</w:tr>"

    span, restart, down = '<w:gridSpan w:val="2"/>', '<w:vMerge w:val="restart"/>', "<w:vMerge/>"
    heads = (row(cell("Region", restart), cell("2023", span), cell("2024", span), header=True)
             + row(cell("", down), cell("Q1"), cell("Q2"), cell("Q1"), cell("Q2"), header=True))
    data = row(cell("North"), cell("1"), cell("2"), cell("3"), cell("4"))
    assert load(_raw_docx(tmp_path / "a.docx", f"<w:tbl>{heads}{data}</w:tbl>")).text == (
        "| Region | 2023 Q1 | 2023 Q2 | 2024 Q1 | 2024 Q2 |\n|---|\n| North | 1 | 2 | 3 | 4 |\n")
    # a table whose third row repeats too is left as it is
    third = row(cell("x"), cell("1"), cell("2"), cell("3"), cell("4"), header=True)
    assert load(_raw_docx(tmp_path / "b.docx", f"<w:tbl>{heads}{third}{data}</w:tbl>")).text.startswith(
        "| Region | 2023 | 2023 | 2024 | 2024 |\n|---|\n| Region | Q1 | Q2 | Q1 | Q2 |\n")


def test_a_word_header_cell_over_two_columns_named_by_the_row_under_it_is_one_header_row(tmp_path):
    # "Daily allowance" over "Meals | Hotel", under an empty corner: the second row had been read
    # as data, and "| Berlin | EUR 45 | EUR 160 |" under "Daily allowance" twice
    def cell(text: str, props: str = "") -> str:
        return f"<w:tc><w:tcPr>{props}</w:tcPr>{_p(_r(text)) if text else '<w:p/>'}</w:tc>"

    look, span = '<w:tblPr><w:tblLook w:firstRow="1"/></w:tblPr>', '<w:gridSpan w:val="2"/>'
    heads = (f"<w:tr>{cell('City')}{cell('Daily allowance', span)}</w:tr>"
             f"<w:tr>{cell('')}{cell('Meals')}{cell('Hotel')}</w:tr>")
    data = f"<w:tr>{cell('Berlin')}{cell('EUR 45')}{cell('EUR 160')}</w:tr>"
    assert load(_raw_docx(tmp_path / "a.docx", f"<w:tbl>{look}{heads}{data}</w:tbl>")).text == (
        "| City | Daily allowance Meals | Daily allowance Hotel |\n|---|\n| Berlin | EUR 45 | EUR 160 |\n")
    # a second row with its first cell filled is data, as before
    filled = heads.replace(cell(''), cell('Paris'), 1)
    assert load(_raw_docx(tmp_path / "b.docx", f"<w:tbl>{look}{filled}{data}</w:tbl>")).text.startswith(
        "| City | Daily allowance | Daily allowance |\n|---|\n| Paris | Meals | Hotel |\n")


def test_a_word_table_s_first_row_bold_in_every_word_is_its_header(tmp_path):
    def bold(text: str, on: str = "") -> str:
        return f'<w:r><w:rPr><w:b{on}/></w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>'

    def table(*first: str) -> str:
        return ("<w:tbl><w:tr>" + "".join(f"<w:tc>{_p(cell)}</w:tc>" for cell in first) + "</w:tr><w:tr><w:tc>" + _p(_r("Anna"))
                + "</w:tc><w:tc>" + _p(_r("12")) + "</w:tc></w:tr></w:tbl>")

    assert load(_raw_docx(tmp_path / "a.docx", table(bold("Name"), bold("Ext")))).text == "| Name | Ext |\n|---|\n| Anna | 12 |\n"
    piped = load(_raw_docx(tmp_path / "piped.docx", table(_r("Page a log"), _r("journalctl -u app | less")))).text
    assert piped.startswith("| Page a log | journalctl -u app / less |\n")  # a "|" in a cell would part it
    styles = (f'<?xml version="1.0"?><w:styles {W}><w:style w:type="paragraph" w:styleId="Strong"><w:name w:val="Strong"/>'
              "<w:rPr><w:b/></w:rPr></w:style></w:styles>")
    styled = '<w:pPr><w:pStyle w:val="Strong"/></w:pPr>' + _r("Name")  # bold through its paragraph style
    assert load(_raw_docx(tmp_path / "b.docx", table(styled, bold("Ext")), more={"word/styles.xml": styles})).text.startswith(
        "| Name | Ext |\n|---|\n")
    for name, first in (("c.docx", (bold("Name") + _r(" no."), bold("Ext"))), ("d.docx", (bold("Name", ' w:val="0"'), bold("Ext")))):
        assert load(_raw_docx(tmp_path / name, table(*first))).text.startswith("| Name")
        assert "|---|" not in load(_raw_docx(tmp_path / name, table(*first))).text  # a word not bold: data



    numbering = (f'<?xml version="1.0"?><w:numbering {W}><w:abstractNum w:abstractNumId="0">'
                 '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/></w:lvl>'
                 '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/></w:lvl></w:abstractNum>'
                 '<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum>'
                 '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num></w:numbering>')

    def item(text, num, level=0):
        return (f'<w:p><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/>'
                f'</w:numPr></w:pPr>{_r(text)}</w:p>')

    body = (_p(_r("Claiming expenses:")) + item("Collect the receipts.", 1) + item("Fill in the form.", 1)
            + item("Sign it.", 1, 1) + item("Date it.", 1, 1) + item("Send it to finance.", 1) + item("Keep a copy.", 2))
    doc = load(_raw_docx(tmp_path / "steps.docx", body, more={"word/numbering.xml": numbering}))
    assert doc.text == ("Claiming expenses:\n\n1. Collect the receipts.\n2. Fill in the form.\n  a. Sign it.\n  b. Date it.\n"
                        "3. Send it to finance.\n- Keep a copy.\n")


def test_a_word_document_that_cannot_be_read_is_one_line_naming_it_and_why(tmp_path, monkeypatch):
    import zipfile

    from assistant.ingest import word

    (tmp_path / "renamed.docx").write_bytes(b"\xd0\xcf\x11\xe0 an old .doc, renamed" * 20)
    with zipfile.ZipFile(tmp_path / "other.docx", "w") as archive:
        archive.writestr("content.xml", "<x/>")
    _docx(tmp_path / "empty.docx", lambda document: document.add_paragraph("   "))
    future = bytearray(_docx(tmp_path / "future.docx", _agreement).read_bytes())  # a zip version of 9.1: NotImplementedError
    future[future.rfind(b"PK\x01\x02") + 6] = 91
    (tmp_path / "future.docx").write_bytes(bytes(future))
    _raw_docx(tmp_path / "entity.docx", _p(_r("&xxe;")))
    _docx(tmp_path / "big.docx", _agreement)
    for name, reason in (("renamed.docx", "not a readable Word document (.docx), damaged or of another kind"),
                         ("future.docx", "not a readable Word document (.docx), damaged or of another kind"),
                         ("other.docx", "not a Word document (.docx): no main document part inside"),
                         ("empty.docx", "no text in its body, text boxes or notes (headers and footers are not read)"),
                         ("entity.docx", "not a readable Word document (.docx), damaged")):
        with pytest.raises(LoadError) as err:
            load(tmp_path / name)
        assert str(err.value).startswith(f"{tmp_path / name}: {reason}") and "\n" not in str(err.value)
    with pytest.raises(LoadError, match="more text than the size limit allows"):
        load(tmp_path / "big.docx", max_chars=100)
    # the limit counts table rows too: 8,000 rows had loaded five times past it
    rows = "<w:tbl><w:tr><w:tc>" + _p(_r("A row of a long table, with words in it.")) + "</w:tc></w:tr></w:tbl>"
    _raw_docx(tmp_path / "table.docx", rows * 2000)
    with pytest.raises(LoadError, match="more text than the size limit allows"):
        load(tmp_path / "table.docx", max_chars=10_000)
    monkeypatch.setattr(word, "BODY_MOST", 1000)
    with pytest.raises(LoadError, match=r"its body unpacks to 0 MiB of XML, more than 0 MiB; not read"):
        load(tmp_path / "big.docx")
    # what the package unpacks to, in all, is bounded before anything is parsed (a 2 GiB thumbnail had taken 4 GiB)
    monkeypatch.setattr(word, "UNPACKED_MOST", 20_000)
    _raw_docx(tmp_path / "bomb.docx", _p(_r("Short.")), more={"docProps/thumbnail.jpeg": bytes(30_000)})
    with pytest.raises(LoadError, match=r"it unpacks to 0 MiB, more than 0 MiB; not read"):
        load(tmp_path / "bomb.docx")


def test_a_word_document_is_indexed_and_its_quotes_are_verbatim_in_its_text(tmp_path, settings, embedder):
    import assistant

    corpus = tmp_path / "docs"
    corpus.mkdir()
    path = _docx(corpus / "agreement.docx", _agreement)
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    report = bot.add([corpus])
    assert [Path(s).name for s in report.added] == ["agreement.docx"] and not report.failed
    text = load(path).text
    for hit in bot.retrieve("When is payment due?", k=3):
        assert text[hit.start:hit.end] == hit.text
    overview = bot.ask("Summarize the agreement")
    assert overview.method == "overview"
    assert [c.quote for c in overview.citations] == [
        "This agreement is made between Acme Ltd and Bolt GmbH.", "It sets the terms of delivery.", "Payment is due within thirty days."]


def test_a_word_document_reads_what_word_shows_and_no_more(tmp_path):
    strict = 'xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main"'
    hidden = '<w:r><w:rPr><w:vanish/></w:rPr><w:t>SECRET </w:t></w:r>'
    body = (_p(_r("Visible "), hidden, _r("end.")) +
            f'<w:moveFrom w:id="1" w:author="A">{_r("Moved away.")}</w:moveFrom>' +
            f'<w:customXml w:element="x">{_p(_r("Inside custom XML."))}</w:customXml>' +
            "<w:tbl><w:tr><w:tc>" + _p(_r("#5 item")) + "</w:tc></w:tr>" +
            "<w:sdt><w:sdtContent><w:tr><w:tc>" + _p(_r("A repeating row.")) + "</w:tc></w:tr></w:sdtContent></w:sdt></w:tbl>" +
            _p(_r("Left"), "<w:r><w:ptab/></w:r>", _r("Right")))
    styles = (f'<?xml version="1.0"?><w:styles {W}><w:style w:type="character" w:styleId="Secret"><w:name w:val="Secret"/>'
              '<w:rPr><w:vanish/></w:rPr></w:style><w:style w:type="character" w:styleId="Quiet"><w:basedOn w:val="Secret"/>'
              '</w:style><w:style w:type="paragraph" w:styleId="Unseen"><w:rPr><w:vanish/></w:rPr></w:style></w:styles>')
    body = (_p(_r("Shown "), '<w:r><w:rPr><w:rStyle w:val="Quiet"/></w:rPr><w:t>HIDDEN </w:t></w:r>', _r("too."))
            + '<w:p><w:pPr><w:pStyle w:val="Unseen"/></w:pPr>' + _r("A hidden paragraph.") + "</w:p>" + body)
    doc = load(_raw_docx(tmp_path / "shown.docx", body, more={"docProps/core.xml": "<broken", "word/styles.xml": styles}))  # a damaged part the text does not need
    assert doc.text == "Shown too.\n\nVisible end.\n\nInside custom XML.\n\n| #5 item |\n| A repeating row. |\n\nLeft Right\n"
    strict_doc = tmp_path / "strict.docx"
    _raw_docx(strict_doc, _p(_r("Strict Open XML text.")))
    import zipfile

    with zipfile.ZipFile(strict_doc) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace(W.encode(), strict.encode())
    with zipfile.ZipFile(strict_doc, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert load(strict_doc).text == "Strict Open XML text.\n"


def test_a_word_document_s_numbering_follows_overrides_formats_and_styles_and_bad_values_do_not_break_it(tmp_path):
    numbering = (f'<?xml version="1.0"?><w:numbering {W}>'
                 '<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="x"/><w:numFmt w:val="ordinal"/></w:lvl>'
                 '<w:lvl w:ilvl="1"><w:numFmt w:val="decimalZero"/></w:lvl></w:abstractNum>'
                 '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
                 '<w:num w:numId="2"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>'
                 '</w:numbering>')
    styles = (f'<?xml version="1.0"?><w:styles {W}><w:style w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>'
              '<w:style w:styleId="Chapter"><w:name w:val="Chapter Title"/><w:basedOn w:val="Heading1"/></w:style></w:styles>')

    def item(text, num, level="0"):
        return f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr></w:pPr>{_r(text)}</w:p>'

    body = ('<w:p><w:pPr><w:pStyle w:val="Chapter"/></w:pPr>' + _r("Chapter one") + "</w:p>" + item("First.", 1)
            + item("Sub.", 1, "1") + _p(_r("Between.")) + item("Fifth.", 2) + item("Sixth.", 2)
            + item("Deep.", 1, "-1") + item("Deeper.", 1, "1000000000"))
    doc = load(_raw_docx(tmp_path / "lists.docx", body, more={"word/numbering.xml": numbering, "word/styles.xml": styles}))
    # a level past Word's nine is the ninth; a level no list defines is a bullet; "x" starts at 1
    assert doc.text == ("# Chapter one\n\n1. First.\n  01. Sub.\n\nBetween.\n\n5. Fifth.\n6. Sixth.\n2. Deep.\n"
                        "                - Deeper.\n")


def test_a_cookie_or_consent_banner_is_no_part_of_a_page_s_text():
    # "We use cookies to improve your experience." had been a page's overview
    page = ('<html><body><div id="cookie-banner" class="cc-window"><p>We use cookies to improve your experience.</p>'
            '<button>Accept</button></div><h1>Solar panels</h1><p>Solar panels turn sunlight into electricity.</p>'
            '<section class="informed-consent"><p>Consent is given in writing.</p></section>'
            '<div class="cookie-recipe"><p>Bake the cookies for ten minutes.</p></div>'
            '<div class="gdpr-consent-container"><p>Manage your privacy choices.</p></div>'
            '<aside id="onetrust-consent-sdk"><p>Accept all</p></aside></body></html>')
    text, _ = html_text_and_title(page)
    assert text == ("# Solar panels\n\nSolar panels turn sunlight into electricity.\n\nConsent is given in writing.\n\n"
                    "Bake the cookies for ten minutes.")
    notice = '<html><body><main class="privacy-notice"><h1>Privacy notice</h1><p>We collect your email address.</p></main></body></html>'
    assert html_text_and_title(notice)[0] == "# Privacy notice\n\nWe collect your email address."  # the page itself is text


def test_a_word_document_s_list_numbers_follow_its_level_text():
    import io

    numbering = (f'<?xml version="1.0"?><w:numbering {W}><w:abstractNum w:abstractNumId="0">'
                 '<w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/><w:lvlText w:val="Article %1"/></w:lvl>'
                 '<w:lvl w:ilvl="1"><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2."/></w:lvl>'
                 '<w:lvl w:ilvl="2"><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>'
                 '</w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>')

    def item(text, level):
        return f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="1"/></w:numPr></w:pPr>{_r(text)}</w:p>'

    body = item("Delivery", 0) + item("Acme delivers by May.", 1) + item("Late delivery costs 2% a week.", 1) \
        + item("unless the port is closed;", 2) + item("Payment", 0) + item("Bolt pays in 30 days.", 1)
    buffer = io.BytesIO()
    _raw_docx(buffer, body, more={"word/numbering.xml": numbering})
    from assistant.ingest import word

    text, _ = word.docx_text(buffer.getvalue())
    assert text == ("Article 1 Delivery\n  1.1. Acme delivers by May.\n  1.2. Late delivery costs 2% a week.\n"
                    "    (a) unless the port is closed;\nArticle 2 Payment\n  2.1. Bolt pays in 30 days.\n")


def test_an_html_list_reads_as_a_markdown_list_one_item_a_line_numbered_as_shown(tmp_path):
    # each item had been a paragraph of its own without its number ("Discuss the request …"),
    # so a list was not read as one and an answer of several items ran them together on one line
    page = tmp_path / "policy.html"
    page.write_text(
        "<p>The company provides:</p>\n<ul>\n  <li>a laptop;</li>\n  <li>one monitor;</li>\n</ul>\n"
        "<ol><li>Ask your manager.</li><li>Fill in the form.\n<ul><li>attach the approval</li></ul></li>"
        "<li>Wait for HR. It answers within five days.</li></ol>\n"
        '<ol start="7"><li>Seven</li><li value="10">Ten</li><li>Eleven</li></ol>'
        '<ol reversed start="3"><li>Three</li><li>Two</li></ol><p>After the lists.</p>', encoding="utf-8")
    assert load(page).text == (
        "The company provides:\n\n- a laptop;\n- one monitor;\n\n"
        "1. Ask your manager.\n2. Fill in the form.\n- attach the approval\n3. Wait for HR. It answers within five days.\n\n"
        "7. Seven\n10. Ten\n11. Eleven\n\n3. Three\n2. Two\n\nAfter the lists.")
