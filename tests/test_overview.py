"""Overviews: "What is this article about?" and "Summarize it" get a document's opening sentences,
quoted with their citations, not a search that refuses (answer/overview.py, ask())."""

from __future__ import annotations

import pytest

import assistant
from assistant.answer import overview
from assistant.answer.prompts import OVERVIEW_NOTICE

POLICY = """# Travel policy

This policy explains how employees book and claim business travel. It applies to all staff.

## Hotels

The nightly hotel limit is 180 EUR in capital cities.
"""
NOTES = """Meeting notes, 3 March

A pump room photographed at dawn. [J. Smith]

Attendees: Ana, Bo, Chen.

Is the launch still on?

The team agreed to move the launch to May because the supplier is late. Bo will call the supplier on Monday. The budget stays as planned.
"""


@pytest.mark.parametrize("message", [
    "What is this article about?", "what's the document about", "What are these documents about?", "Summarize the article.",
    "Can you summarize the documents for me, please?", "Give me a summary", "A short summary please", "tl;dr?", "TLDR",
    "What are the key takeaways?", "What is the main point of the document?", "What's the gist?",
    "What does the report say?", "Give me an overview of the files", "TL;DR", "What was the document about?",
    "Give me the key takeaways", "Key points?", "Could you briefly summarize this document?", "Summarize everything",
])
def test_a_request_for_an_overview_of_the_documents_names_none_of_them(message):
    assert overview.request(message) == overview.Request("", False)


@pytest.mark.parametrize("message, obj", [
    ("Summarize travel_policy.md", "travel policy md"), ("What is the travel policy about?", "travel policy"),
    ("tl;dr of notes.txt", "notes txt"), ("Give me a summary of the meeting notes", "meeting notes"),
    ("What is the solar panels page about?", "solar panels"), ("Summarize the city council story", "city council"),
])
def test_a_request_for_an_overview_may_name_a_document(message, obj):
    assert overview.request(message) == overview.Request(obj, False)


@pytest.mark.parametrize("message", ["What is it about?", "Summarize it", "What is this about?"])
def test_a_pronoun_is_marked_for_it_names_a_document_only_first(message):
    assert overview.request(message) == overview.Request("", True)


@pytest.mark.parametrize("message", [
    "What does the article say about 5G?", "What is Huawei's plan?", "Who wrote it?", "hi", "What is this?",
    "Summary of the hotel limit rules and the booking steps for contractors in two lines please now", "",
    "What is the summary judgment procedure?", "How do I summarize a chapter?",
    "What does the warranty cover?",  # asks what is covered: searched (it had been given the warranty's opening)
])
def test_other_messages_ask_no_overview(message):
    assert overview.request(message) is None or overview.request(message).obj  # a named object must still name a document


def test_pick_takes_the_opening_prose_in_reading_order():
    texts = ["Meeting notes, 3 March", "A pump room photographed at dawn.", "[J. Smith]", "Attendees: Ana, Bo, Chen.",
             "Is the launch still on?", "The team agreed to move the launch to May.", "Bo will call the supplier.",
             "The budget stays as planned.", "Read more."]
    paragraphs = [0, 1, 1, 2, 3, 4, 4, 4, 5]
    # not the title, the caption whose paragraph holds its credit, the field line, the question or the fragment
    assert overview.pick(texts, 3, title="Meeting notes, 3 March", paragraphs=paragraphs) == [5, 6, 7]
    assert overview.pick(texts, 1, title="Meeting notes, 3 March", paragraphs=paragraphs) == [5]
    assert overview.pick(texts[:7], 3, title="Meeting notes, 3 March", paragraphs=paragraphs[:7]) == [5, 6]  # fewer, not padded
    # a document of list items and headings: its first items that say something
    items = ["# Setup", "- Install the package with pip.", "- Run the server on a port.", "- Open the page in a browser."]
    assert overview.pick(items, 2, markdown=True) == [1, 2]


def test_pick_passes_over_labels_tables_and_bold_questions_and_fills_up_with_clauses():
    # a heading line above the text in its paragraph (a PDF's "Abstract") leaves the text a candidate
    paper = ["Volume 12, Issue 3, 2024", "Groundwater Recharge in Semi-Arid Basins", "A. Martinez, B. Chen and C. Okafor",
             "Abstract", "We measured groundwater recharge in three basins over ten years.", "Recharge fell by a third."]
    assert overview.pick(paper, 3, paragraphs=[0, 1, 2, 3, 3, 3]) == [4, 5]
    readme = ["> **Note:** This project is in beta and may change.", "**How do I reset my password?**",
              "| Item | Cost |", "|---|---|", "| Hotel | 180 EUR |", "Acme syncs your notes across all your devices."]
    assert overview.pick(readme, 3, markdown=True) == [5]
    # one prose sentence, then the contract's numbered clauses
    contract = ["This agreement is made between Acme Ltd and Bolt GmbH.", "1. Acme shall deliver the pumps by May.",
                "2. Bolt shall pay within thirty days of delivery."]
    assert overview.pick(contract, 3, paragraphs=[0, 1, 1]) == [0, 1, 2]
    # a sentence ending in a note's mark is prose; a table alone: its header and first row, never its "|---|" line
    report = ["Berth fees rose in 2023.[1]", "Note 1: The figure excludes VAT.", "The authority employs 64 people."]
    assert overview.pick(report, 2) == [0, 2]  # (the note is a "Note 1:" label, not the opening)
    assert overview.pick(["| Product | Price |", "|---|", "| Anvil | 12 |", "| Kite | 9 |"], 3, markdown=True) == [0, 2, 3]


@pytest.fixture
def bot(tmp_path, settings, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "travel_policy.md").write_text(POLICY, "utf-8")
    (corpus / "notes.txt").write_text(NOTES, "utf-8")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    bot.add([corpus])
    return bot


def _verbatim(answer):
    for c in answer.citations:
        with open(c.hit.source, encoding="utf-8") as handle:
            assert handle.read()[c.quote_start:c.quote_end] == c.quote
        assert f"{c.quote} [{c.n}]" in answer.text


def test_an_overview_of_two_documents_quotes_each_one_s_opening(bot):
    answer = bot.ask("What are these documents about?")
    assert answer.method == "overview" and not answer.abstained and answer.notice == OVERVIEW_NOTICE
    assert answer.text.splitlines() == [  # in the index's order of documents, as "What documents do you have?" lists them
        "notes.txt: The team agreed to move the launch to May because the supplier is late. [1]",
        "travel_policy.md: This policy explains how employees book and claim business travel. [2]",
    ]
    _verbatim(answer)


def test_an_overview_of_a_named_document_quotes_its_opening_sentences(bot):
    for message in ("Summarize the meeting notes", "tl;dr of notes.txt", "What is notes about?"):
        answer = bot.ask(message)
        assert answer.method == "overview", message
        assert [c.quote for c in answer.citations] == [
            "The team agreed to move the launch to May because the supplier is late.",
            "Bo will call the supplier on Monday.", "The budget stays as planned."], message
        _verbatim(answer)
    policy = bot.ask("Summarize travel_policy.md")
    assert [c.quote for c in policy.citations] == [
        "This policy explains how employees book and claim business travel.", "It applies to all staff.",
        "The nightly hotel limit is 180 EUR in capital cities."]


def test_naming_no_document_or_saying_it_later_is_a_question(bot):
    assert bot.ask("Summarize the refund rules").method == "extractive"  # names no document: searched
    assert bot.ask("What is it about?").method == "overview"  # a first message: the documents
    assert bot.ask("What is it about?", history=[("Hi!", "Hello!")]).method == "overview"  # after a greeting too
    assert bot.ask("Thanks! What is this document about?").method == "overview"  # social words are not read
    later = bot.ask("What is it about?", history=[("Who will call the supplier?", "Bo will call the supplier on Monday. [1]")])
    assert later.method == "extractive"  # "it" is what was discussed


def test_an_overview_of_many_documents_asks_which_one(tmp_path, settings, embedder):
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(7):
        (corpus / f"report_{i}.txt").write_text(f"Report {i} finds that pump {i} runs well.", "utf-8")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    bot.add([corpus])
    answer = bot.ask("Summarize the documents")
    assert answer.method == "conversation" and not answer.citations
    assert answer.text.startswith("The index holds 7 documents: report_0.txt, ") and "“Summarize report_0.txt”" in answer.text
    one = bot.ask("Summarize report_3.txt")
    assert [c.quote for c in one.citations] == ["Report 3 finds that pump 3 runs well."]


def test_an_overview_says_when_its_document_changed_since_indexing(bot, tmp_path):
    (tmp_path / "docs" / "notes.txt").write_text(NOTES.replace("May", "June"), "utf-8")
    answer = bot.ask("Summarize notes.txt")
    assert answer.notice.startswith(OVERVIEW_NOTICE) and "notes.txt (changed)" in answer.notice


def test_a_slide_sheet_or_page_by_its_number_gets_that_page_s_opening(tmp_path, settings, embedder):
    from assistant.ingest.documents import load
    from assistant.interfaces.render import where
    from tests.test_sheets import _directory
    from tests.test_slides import _deck

    corpus = tmp_path / "docs"
    corpus.mkdir()
    _deck(corpus / "review.pptx")
    _directory(corpus / "directory.xlsx")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    bot.add([corpus])
    # "What's on slide 3?" had been searched, and refused
    for message in ("What's on slide 3?", "Summarize slide 3 of the deck", "What does slide 3 of review.pptx say?"):
        answer = bot.ask(message)
        assert answer.method == "overview" and answer.citations, message
        assert {where(c.hit) for c in answer.citations} == {"slide 3"}
        assert [c.quote for c in answer.citations] == ["# Stores", "| City | Staff |", "| Lyon | 14 |", "| Paris | 40 |",
                                                       "Figures as of 1 March."]  # as it reads: not its "|---|" line
        assert all(load(c.hit.source).text[c.quote_start:c.quote_end] == c.quote for c in answer.citations)
    answer = bot.ask("What is on sheet 2?")
    assert [c.quote for c in answer.citations] == ["# Budget 2024", "| Region | 2023 | 2024 |", "| North | 3.3 | 130 |"]
    assert answer.text == "# Budget 2024 [1]\n| Region | 2023 | 2024 | [1]\n| North | 3.3 | 130 | [1]"  # rows on lines
    answer = bot.ask("What's on the Budget 2024 sheet?")  # a sheet by its name
    assert [c.quote for c in answer.citations] == ["# Budget 2024", "| Region | 2023 | 2024 |", "| North | 3.3 | 130 |"]
    assert {where(c.hit) for c in bot.ask("What is on page 3 of the deck?").citations} == {"slide 3"}  # the noun says which
    assert bot.ask("What is on slide 9?").method != "overview"  # no such slide: a question to search
    assert bot.ask("What is on the balance sheet?").method != "overview"  # no sheet of that name: searched
    assert overview.request("What is on the menu?") is None
    # a page of two documents: each document's first rows, named
    _directory(corpus / "stock.xlsx")
    bot.add([corpus])
    answer = bot.ask("What does sheet 2 say?")
    assert answer.text.splitlines()[0].startswith(("directory.xlsx: # Budget 2024 [1]", "stock.xlsx: # Budget 2024 [1]"))
    assert len(answer.citations) == 6 and "| North | 3.3 | 130 |" in answer.text


def test_a_page_s_opening_does_not_end_on_a_heading():
    # a slide overview cut after its "## Notes" heading had ended on it, the note itself left out
    lines = ["# Volumes by hub", "| Hub | Parcels |", "| Hamburg | 251 |", "## Notes", "Growth came from Contoso."]

    class Index:
        def sentence(self, row):
            return None, lines[row]

    assert [lines[r] for r in overview.page_opening(Index(), list(range(5)), 4)] == lines[:3]
    assert [lines[r] for r in overview.page_opening(Index(), list(range(5)), 5)] == lines
    assert [lines[r] for r in overview.page_opening(Index(), [0], 1)] == lines[:1]  # a page of its heading alone keeps it
