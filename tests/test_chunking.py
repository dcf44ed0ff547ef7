"""chunk_document invariants over ordinary and awkward documents, plus a property test."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from assistant.ingest.chunking import Chunk, chunk_document, chunk_id
from assistant.ingest.documents import PAGE_RUN_ON, PAGE_SEPARATOR, Document, Page, join_pages, load
from tests.fakes import make_pdf


def make_doc(text: str, source: str = "docs/sample.txt", pages: tuple[Page, ...] = ()) -> Document:
    return Document(
        source=source, text=text, sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        title="Sample", pages=pages,
    )


def check_invariants(doc: Document, chunks: list[Chunk], size: int, overlap: int) -> None:
    """Everything chunk_document promises, asserted for one document."""
    text = doc.text
    if not text.strip():
        assert chunks == []
        return
    assert chunks, "a document with text must give at least one chunk"
    segments = [(p.start, p.end, p.number) for p in doc.pages] or [(0, len(text), None)]
    covered = bytearray(len(text))
    for i, c in enumerate(chunks):
        assert c.position == i
        assert c.source == doc.source and c.title == doc.title
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start:c.end] == c.text
        assert len(c.text) <= size
        assert not c.text[0].isspace(), "chunks start on non-whitespace"
        # Holds one page's sentences: its page starts before it, and the only page breaks between
        # that page's start and the chunk's end are ones a sentence runs over (never a blank line).
        own = [s for s, e, n in segments if n == c.page]
        assert len(own) == 1 and own[0] <= c.start, (c.start, c.end, c.page)
        for (_, before_end, _), (after_start, _, _) in zip(segments, segments[1:]):
            if own[0] < before_end and after_start < c.end:
                assert text[before_end:after_start] == PAGE_RUN_ON, (c.start, c.end, c.page)
        # Sentence spans: non-empty, inside the chunk, ordered, first/last align with the chunk.
        assert c.sentences
        assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end
            assert text[s:e].strip()
        for (_, e1), (s2, _) in zip(c.sentences, c.sentences[1:]):
            assert e1 <= s2
        covered[c.start:c.end] = b"\x01" * (c.end - c.start)
    # Order and overlap.
    for a, b in zip(chunks, chunks[1:]):
        assert a.start < b.start and a.end < b.end
        if a.page == b.page:
            assert a.end - b.start <= overlap, "overlap larger than configured"
        else:
            assert a.end <= b.start
    # Coverage: every non-whitespace character is in some chunk.
    uncovered = [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]
    assert not uncovered, f"uncovered characters at {uncovered[:10]}: {[text[i] for i in uncovered[:10]]}"
    # Ids: deterministic, unique, derived from provenance.
    again = chunk_document(doc, size, overlap)
    assert [c.id for c in again] == [c.id for c in chunks]
    assert again == chunks
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        assert c.id == chunk_id(c.source, c.start, c.end, c.text)


def chunked(text: str, size: int = 300, overlap: int = 60, **kwargs) -> tuple[Document, list[Chunk]]:
    doc = make_doc(text, **kwargs)
    chunks = chunk_document(doc, size, overlap)
    check_invariants(doc, chunks, size, overlap)
    return doc, chunks


SENTENCES = [
    "The committee met on Tuesday to review the budget.",
    "Dr. Smith presented figures showing 14.6 billion in spending.",
    "Nobody objected!",
    "Was the plan approved?",
    "Several members asked for a second review of the numbers in the appendix.",
    "The vote was postponed until the next session of the board.",
]


def prose(n: int, seed: int = 0) -> str:
    rnd = random.Random(seed)
    paragraphs, current = [], []
    for _ in range(n):
        current.append(rnd.choice(SENTENCES))
        if rnd.random() < 0.2:
            paragraphs.append(" ".join(current))
            current = []
    paragraphs.append(" ".join(current))
    return "\n\n".join(p for p in paragraphs if p)


# --- edge cases --------------------------------------------------------------------------


def test_single_character():
    _, chunks = chunked("a")
    assert [(c.start, c.end, c.text) for c in chunks] == [(0, 1, "a")]
    assert chunks[0].sentences == ((0, 1),)


def test_single_emoji():
    _, chunks = chunked("\U0001F600")
    assert [c.text for c in chunks] == ["\U0001F600"]


def test_surrounding_whitespace_is_not_chunked():
    doc, chunks = chunked("\n\n   One sentence only.   \n\n")
    assert [c.text for c in chunks] == ["One sentence only."]
    assert chunks[0].start == doc.text.index("One")


def test_whitespace_only_document_gives_no_chunks():
    chunked(" \n\t\r\n ")


def test_emoji_heavy_text():
    text = " ".join(
        f"Party {i} \U0001F389\U0001F38A\U0001F973 with family \U0001F468\u200d\U0001F469\u200d\U0001F467 and flags \U0001F1EB\U0001F1F7!"
        for i in range(60)
    )
    _, chunks = chunked(text, size=120, overlap=30)
    assert len(chunks) > 5
    assert "".join(c.text for c in chunks).count("\U0001F389") >= 60


def test_text_without_spaces_or_punctuation_longer_than_size():
    text = "abcdefghij" * 100  # 1000 characters, one "word"
    _, chunks = chunked(text, size=300, overlap=60)
    assert [len(c.text) for c in chunks] == [300, 300, 300, 100]
    assert "".join(c.text for c in chunks) == text


def test_long_sentence_is_cut_at_word_boundaries():
    words = [f"word{i:03d}" for i in range(200)]
    text = " ".join(words) + "."
    _, chunks = chunked(text, size=100, overlap=20)
    assert len(chunks) > 10
    for c in chunks:
        # Every piece starts at a word start and ends at a word end.
        assert c.start == 0 or text[c.start - 1] == " "
        assert c.end == len(text) or text[c.end] == " "
    assert set(" ".join(c.text for c in chunks).replace(".", "").split()) == set(words)


def test_windows_line_endings():
    text = "Heading line\r\n\r\n" + "\r\n".join(SENTENCES * 8) + "\r\n"
    _, chunks = chunked(text)
    assert len(chunks) > 3
    assert any("\r\n" in c.text for c in chunks)  # offsets are into the unnormalised text


def test_markdown_with_headings():
    text = "\n\n".join(
        f"## Section {i}\n\n" + " ".join(SENTENCES[(i + j) % len(SENTENCES)] for j in range(4)) for i in range(12)
    )
    doc, chunks = chunked("# Handbook\n\n" + text)
    assert len(chunks) > 5
    heads = {doc.text[s:e] for c in chunks for s, e in c.sentences if doc.text[s:e].startswith("#")}
    assert "# Handbook" in heads and "## Section 11" in heads


def test_overlap_repeats_trailing_sentences():
    doc, chunks = chunked(prose(200, seed=3).replace("\n\n", " "), size=300, overlap=120)
    overlaps = [a.end - b.start for a, b in zip(chunks, chunks[1:]) if a.end > b.start]
    assert overlaps, "with room for it, consecutive chunks should share sentences"
    for a, b in zip(chunks, chunks[1:]):
        if a.end > b.start:
            assert b.sentences[0] in a.sentences  # the overlap is whole sentences


def test_zero_overlap_gives_disjoint_chunks():
    _, chunks = chunked(prose(150, seed=4), size=250, overlap=0)
    for a, b in zip(chunks, chunks[1:]):
        assert a.end <= b.start


def test_no_chunk_lies_inside_its_predecessor():
    text = "The first sentence is here. Short one. " + (
        "A long sentence that nearly fills a whole chunk by itself, really long."
    )
    doc = make_doc(text)
    chunks = chunk_document(doc, 80, 20)
    # Today: [0:38] 'The first sentence is here. Short one.', [28:38] 'Short one.', [39:110] ...
    for a, b in zip(chunks, chunks[1:]):
        assert b.end > a.end, f"chunk {b.text!r} adds nothing to {a.text!r}"

@pytest.mark.parametrize("size, overlap", [(0, 0), (-5, 0), (100, -1), (100, 100), (100, 150)])
def test_bad_size_or_overlap_is_refused(size, overlap):
    with pytest.raises(ValueError, match="chunk size"):
        chunk_document(make_doc("Some text."), size, overlap)


def test_ids_depend_on_source():
    text = prose(30, seed=5)
    a = chunk_document(make_doc(text, source="a.txt"), 300, 60)
    b = chunk_document(make_doc(text, source="b.txt"), 300, 60)
    assert [c.text for c in a] == [c.text for c in b]
    assert not {c.id for c in a} & {c.id for c in b}


def test_labels():
    _, chunks = chunked(prose(40, seed=6), source="folder/notes.txt")
    assert [c.label for c in chunks[:2]] == ["notes.txt \u00b61", "notes.txt \u00b62"]


def test_five_megabyte_document():
    text = prose(105_000, seed=1)
    assert len(text) > 5_000_000
    _, chunks = chunked(text, size=1200, overlap=200)
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    assert len(chunks) > len(text) // 1200


# --- pages -------------------------------------------------------------------------------


def paged_document(page_texts: list[str], source: str = "book.pdf") -> Document:
    text, pages = join_pages(page_texts)  # how the PDF loader lays pages out
    return make_doc(text, source=source, pages=pages)


def test_a_page_ending_on_a_word_no_sentence_ends_with_runs_on_before_a_capital():
    # "… and then notify the" / "Northwind incident desk by …" had been cut in two, the second half
    # quoted without its subject
    pages = ["Drivers must collect the names of all witnesses, and then notify the", "Northwind incident desk within two hours.",
             "The depot opens at six and closes at ten every day of the week in winter", "Opening hours change in May."]
    doc = paged_document(pages)
    assert [doc.text[a.end:b.start] for a, b in zip(doc.pages, doc.pages[1:])] == [PAGE_RUN_ON, PAGE_SEPARATOR, PAGE_SEPARATOR]


def test_chunks_never_cross_pages():
    # Each page ends a sentence: without page segments the chunker would pack them together.
    page_texts = [prose(12, seed=n) for n in range(5)]
    doc = paged_document(page_texts)
    chunks = chunk_document(doc, 300, 60)
    check_invariants(doc, chunks, 300, 60)
    assert {c.page for c in chunks} == {1, 2, 3, 4, 5}
    assert [c.page for c in chunks] == sorted(c.page for c in chunks)
    assert chunks[0].label == "book.pdf p. 1"
    assert all(not any(p.start < c.start < p.end < c.end for p in doc.pages) for c in chunks)


def test_a_sentence_over_a_page_break_is_whole_and_of_the_page_it_starts_on():
    # "… has since tested every" / "product the company sells." had been two sentences, quoted in halves
    pages = ["The lab opened in May. It has since tested every", "product the company sells. Costs fell.",
             "Sales rose.", "Revenue grew by a third, its annual report says, and in the year to March,",
             "Paris led.", "Staff numbers stayed flat."]
    doc = paged_document(pages)
    assert [doc.text[a.end:b.start] for a, b in zip(doc.pages, doc.pages[1:])] == \
        [PAGE_RUN_ON, PAGE_SEPARATOR, PAGE_SEPARATOR, PAGE_RUN_ON, PAGE_SEPARATOR]
    chunks = chunk_document(doc, 1200, 200)
    check_invariants(doc, chunks, 1200, 200)
    by_page = {c.page: [doc.text[s:e] for s, e in c.sentences] for c in chunks}
    assert by_page == {1: ["The lab opened in May.", "It has since tested every\nproduct the company sells."],
                       2: ["Costs fell."], 3: ["Sales rose."],
                       4: ["Revenue grew by a third, its annual report says, and in the year to March,\nParis led."],
                       6: ["Staff numbers stayed flat."]}  # page 5 starts no sentence: it has no chunk of its own
    # a sentence longer than a chunk that runs over the break is cut into pieces, each of the page it starts on
    long = paged_document(["Intro. " + "word " * 80 + "runs on", "and on " * 40 + "to its end. Then page two."])
    chunks = chunk_document(long, 300, 60)
    check_invariants(long, chunks, 300, 60)
    for c in chunks:
        assert next(p.number for p in long.pages if p.start <= c.start <= p.end) == c.page
    assert {c.page for c in chunks} == {1, 2} and long.text[chunks[-1].start:chunks[-1].end].endswith("Then page two.")


@pytest.mark.parametrize("before, after", [
    ("Sales grew in every region, as the chart shows.\nFigure 3: Revenue by region in all markets, 2019 to 2023",
     "The board approved a dividend of 40 cents per share."),  # a caption, then a new paragraph
    ("The outlook is stable across all of the markets we serve today.\n- Costs fell in every one of the regions", "and more."),
    ("The outlook is stable across all of the markets we serve in.\n| Region | Sales |", "and more."),  # a table row
    ("Its factories in Europe and Asia all run on the new software,\n1 Audited in 2024", "including the new ones."),
    ("The chairman said: „Wir sind mit dem Jahr sehr zufrieden.“", "die Dividende steigt."),
])
def test_a_page_whose_sentence_does_not_plainly_run_on_is_set_off_by_a_blank_line(before, after):
    # a caption or heading over 60 characters had been glued to the next page's first sentence and cited by its page
    doc = paged_document([before, after])
    assert doc.text[doc.pages[0].end:doc.pages[1].start] == PAGE_SEPARATOR
    assert [c.page for c in chunk_document(doc, 1200, 200)] == [1, 2]



def test_small_pages_give_one_chunk_each():
    doc = paged_document(["Page one text.", "Page two text.", "Page three text."])
    chunks = chunk_document(doc, 1200, 200)
    check_invariants(doc, chunks, 1200, 200)
    assert [(c.page, c.text) for c in chunks] == [(1, "Page one text."), (2, "Page two text."), (3, "Page three text.")]


def test_real_pdf_chunks_carry_page_numbers(tmp_path):
    path = tmp_path / "r.pdf"
    path.write_bytes(make_pdf([
        ["Alpha sentence on the first page.", "Another alpha line."],
        ["Beta sentence on the second page."],
        [],
        ["Delta sentence on the fourth page."],
    ]))
    doc = load(path)
    chunks = chunk_document(doc, 300, 60)
    check_invariants(doc, chunks, 300, 60)
    by_page = {c.page: c.text for c in chunks}
    assert set(by_page) == {1, 2, 4}
    assert "Beta" in by_page[2] and "Delta" in by_page[4] and "Alpha" not in by_page[2]


# --- property test -----------------------------------------------------------------------

ALPHABET = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789") + [
    " ", " ", " ", ".", "!", "?", "\n", "\n", "\r", "\t", "\u00a0", '"', "\u201d", "(", ")",
    "\U0001F600", "\U0001F389", "\u00e9", "\u4e2d", "\u200d",
]


_WORD = st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=12)
_SEPARATOR = st.sampled_from([" ", ". ", "! ", "? ", "\n", "\n\n", ".\n", " \r\n", ".  ", "\u00a0", '. "', "\t"])
# Raw character soup, and text with word/sentence structure (so that sentences, overlaps and
# long-sentence cuts actually happen).
TEXTS = st.one_of(
    st.text(alphabet=st.sampled_from(ALPHABET), max_size=600),
    st.lists(st.tuples(_WORD, _SEPARATOR), max_size=120).map(lambda pairs: "".join(w + s for w, s in pairs)),
)


@hyp_settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=TEXTS,
    size=st.integers(min_value=1, max_value=120),
    overlap_share=st.floats(min_value=0.0, max_value=0.95),
)
def test_property_invariants_hold_for_random_text(text, size, overlap_share):
    overlap = min(size - 1, int(size * overlap_share))
    doc = make_doc(text)
    check_invariants(doc, chunk_document(doc, size, overlap), size, overlap)


@hyp_settings(max_examples=60)
@given(
    page_texts=st.lists(TEXTS.filter(str.strip), min_size=1, max_size=5),
    size=st.integers(min_value=5, max_value=80),
)
def test_property_invariants_hold_for_random_pages(page_texts, size):
    page_texts = [t.strip() for t in page_texts]
    doc = paged_document(page_texts)
    check_invariants(doc, chunk_document(doc, size, size // 4), size, size // 4)


def test_a_sentence_holding_a_run_longer_than_a_chunk_keeps_the_start_of_the_run_with_its_words():
    # cut at the last space before the run, the piece was "The checksum is", and an answer quoted
    # it, confidently, without the value
    run = "3f9a" * 350  # 1,400 characters without a space
    text = f"The checksum is {run} and it was published in May. Other words follow here."
    chunks = chunk_document(Document(source="x.txt", text=text, sha256="0" * 64, title=""), 1200, 0)
    first = chunks[0].text
    assert first.startswith("The checksum is 3f9a3f9a") and len(first) == 1200
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert "".join(text[s:e] for c in chunks for s, e in c.sentences).replace(" ", "") == text.replace(" ", "")
    # ordinary long sentences are still cut between words
    words = " ".join(["word"] * 400) + "."
    (piece, *_), = [c.sentences for c in chunk_document(Document(source="y.txt", text=words, sha256="0" * 64, title=""), 300, 0)][:1]
    assert words[piece[1] - 1] == "d" and words[piece[1]] == " "


@pytest.mark.parametrize("unit", ["e\u0301", "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466", "\u0915\u094D\u0937",
                                  "\U0001F1EB\U0001F1F7", "o" + "\u0301" * 90])
def test_a_long_run_is_cut_between_characters_as_read_never_inside_one(unit):
    # a quote had started with a lone combining accent, or ended on a zero-width joiner
    import regex

    text = "The key is " + unit * 900 + " and it was written by Anouk."
    chunks = chunk_document(Document(source="k.txt", text=text, sha256="0" * 64, title=""), 1200, 0)
    assert len(chunks) > 1
    bounds = {m.end() for m in regex.finditer(r"\X", text)} | {0}
    for c in chunks:
        assert c.start in bounds and c.end in bounds and text[c.start:c.end] == c.text


@pytest.mark.parametrize("space", ["\t", "\u00a0", "\u3000"])
def test_a_long_sentence_is_cut_at_any_space_not_only_a_plain_one(space):
    # words joined by tabs or no-break spaces had been cut mid-word ("read" | "ing")
    text = space.join(f"{i:05d}{space}reading" for i in range(400)) + "."
    chunks = chunk_document(Document(source="t.txt", text=text, sha256="0" * 64, title=""), 1200, 0)
    assert len(chunks) > 1
    whole = lambda word: word == "reading" or (word.isdigit() and len(word) == 5)  # noqa: E731
    for c in chunks:
        words = c.text.rstrip(".").split(space)
        assert whole(words[0]) and whole(words[-1]), (words[0], words[-1])


def test_a_cut_at_a_space_leaves_no_space_at_the_end_of_a_piece():
    # a cut at the last space of "agreed\r\nthat" had left "agreed\r" as a sentence's end
    text = "The committee reviewed the proposal in detail and agreed\r\nthat the budget for the coming year should rise by four percent."
    for c in chunk_document(Document(source="c.txt", text=text, sha256="0" * 64, title=""), 60, 0):
        assert c.text == c.text.strip() and all(not text[e - 1].isspace() for _, e in c.sentences)
