"""Loaders: exact text for .txt/.md, visible text for HTML, per-page text for PDF, clear errors."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest

from assistant.ingest.documents import PAGE_SEPARATOR, Document, LoadError, html_visible_text, load
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
    assert "one" in lines and "two" in lines  # block elements become line breaks
    assert text == text.strip()


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
    # elements whose end tag may be left out are not hidden ("<p hidden>" closed by the next <p>
    # would hide all that follows), and a hidden element that is never closed keeps its text
    assert "P_HIDDEN" in text and "LI_KEPT" in text
    assert html_visible_text("<div hidden><div>x</div><p>Visible after.</p>") == "x\nVisible after."
