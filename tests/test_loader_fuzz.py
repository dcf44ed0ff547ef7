"""Random and mutated bytes through every loader: the only exception ever raised is `LoadError`
(one line), a file that loads has text whose offsets are its own, and no input hangs: each
example runs under a deadline."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assistant.config import SUPPORTED_SUFFIXES
from assistant.ingest.documents import LoadError, load
from tests.fakes import make_pdf

def _docx() -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_heading("Lighthouses", level=1)
    document.add_paragraph("A page about lighthouses.", style="List Bullet")
    document.add_table(rows=1, cols=2).cell(0, 0).text = "Harbor Point"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pptx() -> bytes:
    import io

    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Lighthouses"
    slide.placeholders[1].text = "A page about lighthouses."
    slide.notes_slide.notes_text_frame.text = "Harbor Point."
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _xlsx() -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Lighthouse", "Height"])
    book.active.append(["Harbor Point", 31.5])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SEEDS = {
    ".txt": "Plain text.\r\nSecond line, café.\n".encode("utf-8"),
    ".md": b"# Title\n\nSome *markdown* text.\n",
    ".markdown": b"Some *markdown* text.\n\n- an item\n",
    ".html": b"<html><head><title>T</title></head><body><p>Hello <b>world</b></p><script>x()</script></body></html>",
    ".htm": b"<p>Short &amp; sweet</p>",
    ".pdf": make_pdf([["A page about lighthouses."], ["Second page."]]),
    ".docx": _docx(),
    ".pptx": _pptx(),
    ".xlsx": _xlsx(),
    ".xlsm": _xlsx(),
    ".csv": b'Name,Staff\r\n"Lyon, FR",14\r\nParis,40\r\n',
    ".tsv": b"Name\tStaff\nLyon\t14\n",
    ".eml": b"From: Ana <ana@example.org>\nSubject: Lighthouses\nContent-Type: multipart/alternative; boundary=b\n\n--b\n"
            b"Content-Type: text/plain; charset=utf-8\n\nA page about lighthouses.\n--b\nContent-Type: text/html\n\n<p>Harbor</p>\n--b--\n",
}


def _mutate(seed: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data[at:at + cut] = insert
    return bytes(data)


edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 8), st.binary(max_size=8)), max_size=6)


def _check(tmp_path, suffix: str, data: bytes) -> None:
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        document = load(path)
    except LoadError as err:
        assert "\n" not in str(err) and str(err).startswith(str(path))
        return
    assert document.text.strip()
    for page in document.pages:
        assert 0 <= page.start <= page.end <= len(document.text)


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_random_bytes_load_or_raise_load_error(tmp_path, suffix, data):
    _check(tmp_path, suffix, data)


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=edits, prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
def test_mutated_documents_load_or_raise_load_error(tmp_path, suffix, changes, prefix):
    _check(tmp_path, suffix, prefix + _mutate(SEEDS[suffix], changes))


def test_the_fuzz_covers_every_supported_type():
    assert set(SEEDS) == set(SUPPORTED_SUFFIXES)
