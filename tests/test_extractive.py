"""Sentence choice in the extractive answer, with the hash embedder: what counts as the kind of
answer a question asks for, and how a sentence borrows its topic from the one before it."""

from __future__ import annotations

import pytest

from assistant import extractive
from assistant.extractive import question_type
from assistant.indexing import add_documents
from assistant.retrieval import searcher_for


@pytest.mark.parametrize(
    "question, kind",
    [
        ("How many rotating CEOs does it have?", "quantity"),
        ("How large is the campus?", "quantity"),
        ("When did he speak?", "time"),
        ("Who founded the firm?", "person"),
        ("Which cities' streets does the campus copy?", "place"),
        ("Which country banned it?", "place"),
        ("Which citizens complained?", "other"),
        ("Why did trust fall?", "reason"),
    ],
)
def test_question_type(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        # A date holds digits but is no count.
        ("How many rotating CEOs does it have?", "The CEO spoke on Tuesday (16 April) in Shenzhen.", 0.0),
        ("How many rotating CEOs does it have?", "Ken Hu is one of its three rotating CEOs.", 1.0),
        ("How many people work there?", "In 2018 the staff moved to the new site.", 0.0),
        ("How many people work there?", "In 2018, 20,000 people worked there.", 1.0),
        ("How many soldiers landed?", "On 6 June, 10 marines and 3 separate units landed.", 1.0),
        ("How many soldiers landed?", "They landed on June 6th, the Sept. 4 report said.", 0.0),
        ("How many soldiers landed?", "Only 3 may land, the 5 May order said.", 1.0),
        # A price is no size; a size is.
        ("How large is the campus?", "The campus cost $1.5 billion to build.", 0.0),
        ("How large is the campus?", "It covers an area bigger than 365 football fields.", 1.0),
        ("How far is the lab from the city?", "The lab, built for 40 million euros, is near the city.", 0.0),
        # ... but a price answers "how much".
        ("How much did the campus cost?", "The campus cost $1.5 billion to build.", 1.0),
        ("How long did the works last?", "The works ran from 2016 to 2018.", 1.0),
    ],
)
def test_what_counts_as_an_amount(question, sentence, expected):
    assert extractive._type_match(question_type(question), sentence, question) == expected


@pytest.fixture
def campus_index(tmp_path, settings, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "visit.txt").write_text(
        "The firm's research campus lies in a quiet valley. Its lights never go out.\n\n"
        "Building the research campus cost the firm $1.5 billion, a spokesman said.\n\n"
        "Inside the research campus, appearances deceive. In an area bigger than 365 football "
        "fields, visitors walk along copies of old European streets.\n",
        "utf-8",
    )
    index_dir = tmp_path / "index"
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    return searcher_for(index_dir, settings, embedder)


def _found(searcher, question: str) -> list[extractive.Candidate]:
    vector = searcher.embed([question])
    hits = searcher.search_many([question], 5, vectors=vector)[0]
    return extractive.candidates(question, vector[0], hits, searcher)[0]


def _best(searcher, question: str) -> extractive.Candidate:
    return _found(searcher, question)[0]


def test_a_sentence_borrows_the_question_words_of_the_sentence_before(campus_index):
    by_text = {c.text: c for c in _found(campus_index, "How large is the research campus?")}
    size = next(c for t, c in by_text.items() if t.startswith("In an area bigger"))
    lights = next(c for t, c in by_text.items() if t.startswith("Its lights"))
    # Neither sentence names the campus; both follow a sentence that does. The framing word
    # "large" is not counted, so each gets CARRY of the campus words' weight from its predecessor.
    assert size.cover == pytest.approx(extractive.CARRY) and lights.cover == pytest.approx(extractive.CARRY)
    # The size sentence holds a size; the $1.5 billion sentence names the campus but holds a price.
    assert size.type_match == 1.0
    price = next(c for t, c in by_text.items() if t.startswith("Building"))
    assert price.type_match == 0.0 and price.cover == pytest.approx(1.0)


def test_according_to_is_framing_not_a_word_to_find(campus_index):
    best = _best(campus_index, "According to a spokesman, what did building the research campus cost?")
    assert best.text.startswith("Building the research campus cost")
    assert best.cover == pytest.approx(1.0)


def test_a_reference_to_the_documents_is_not_a_word_to_find(campus_index):
    best = _best(campus_index, "What did building the research campus cost, according to the documents?")
    assert best.text.startswith("Building the research campus cost")
    assert best.cover == pytest.approx(1.0)
