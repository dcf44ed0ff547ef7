"""Typing slips read as the documents' words (search/spelling.py), and through retrieve() and ask()."""

from __future__ import annotations

import threading

import pytest

from assistant.search.spelling import LazySpeller, Speller

DOCUMENTS = ["The tray is dishwasher safe. Turbopumps feed propellant at high pressure. It should last.",
             "The humidifier runs quietly; the reviewer recommends it. Gusto machines brew espresso.",
             "Write to help@acmebank.com or call parse_config with --verbose. Édouard Martin leads Paris’s team. "
             "The McDonald tray ships today."]


@pytest.fixture(scope="module")
def speller():
    return Speller(DOCUMENTS)


@pytest.mark.parametrize("typed, read", [
    ("Is the tray dishwaster safe?", "Is the tray dishwasher safe?"),  # a letter changed
    ("Which propellnt?", "Which propellant?"),  # left out
    ("What feeds the turbopumpps?", "What feeds the turbopumps?"),  # added
    ("Do Gustom machines brew?", "Do Gusto machines brew?"),
    ("Which propellnat?", "Which propellant?"),  # two neighbours swapped
    ("Dishwaster safe?", "Dishwasher safe?"),  # the case as typed
    ("Is it “dishwaster” (safe)?", "Is it “dishwasher” (safe)?"),  # between quotes or brackets
    ("Is it „dishwaster“ or «dishwaster»？", "Is it „dishwasher“ or «dishwasher»？"),  # German, French, full-width
    ("The dishwaster—is it safe?", "The dishwasher—is it safe?"),  # a dash between words
])
def test_a_slip_one_edit_from_a_document_word_is_read_as_it(speller, typed, read):
    assert speller.correct(typed) == read


@pytest.mark.parametrize("kept", [
    "Is the tray oven safe?",  # English words, though one edit from none of the documents
    "Is it safer than the dishwashers?",  # an English word one edit from a document word ("safe")
    "What about molding in the tray?",  # English by its stem ("mold")
    "Who reccomends it?",  # two edits from "recommends"
    "Does the humidifer run quietly?",  # its stem is an English word's: the price of never misreading "molding"
    "Is the tray unsafe?",  # two edits from "safe": never read as it
    "Why shouldn't the tray go in?",  # a contraction ("shouldn" is one edit from "should")
    "Is it the reviewer's tray or the reviewers' tray?",  # possessives
    "Is the TRAY or the GUSTOM safe?",  # all capitals: an acronym, or shouted
    "Do the turbopump's pumps feed it?",
    "What does a turbopump feed?",  # a form of a document word ("turbopumps"), by stem
    "Is it the hum or the tra?",  # shorter than 4 letters
    "Is model X42 or 1080p better?",  # digits are not letters
    "Is help@acmebak.com the address?",  # words inside a larger token: an address,
    "Is portal.acmebak.com the site?",  # a domain,
    "Does parse_confg read it, with --verbos?",  # code,
    "Is the tray dish-washr safe?",  # a hyphenated compound
    "Is it https://example.com/dishwaster?",
    "Who leads Pariss?",  # one edit from the documents' possessive "Paris’s" only: never read as it
    "Who is Jorge McDonnald?",  # capitals inside a word: a name whose casing would be lost
    "Who is \u00c9douard Martin?",  # accents, composed or
    "Who is E\u0301douard Martin?",  # decomposed (as pasted from some systems) are the same word
    "",
])
def test_words_that_are_known_or_far_from_any_document_word_stay_as_typed(speller, kept):
    assert speller.correct(kept) == kept


def test_a_question_mostly_of_unknown_words_is_read_as_typed():
    # a question in another language is not one of slips: "Wie viel hat …" had read "viel" as "view"
    speller = Speller(["The view from the hill is wide.", "How much did the company spend on research?"])
    assert speller.correct("Wie viel hat die Firma für Forschung ausgegeben?") == "Wie viel hat die Firma für Forschung ausgegeben?"
    assert speller.correct("How much is the viel?") == "How much is the view?"  # mostly known: a slip
    assert speller.correct("the viel?") == "the view?" and speller.correct("viel?") == "view?"  # too few words to tell
    assert speller.correct("Wie viel kostet?") == "Wie viel kostet?"
    # slips count as known words: more of them do not make a question foreign (two of three had stayed as typed)
    assert speller.correct("researhc compnay spend?") == "research company spend?"


def test_the_lazy_speller_is_built_once_at_the_first_question_even_from_many_threads():
    built = []

    def texts():
        built.append(1)
        return DOCUMENTS

    lazy = LazySpeller(texts)
    assert not built
    threads = [threading.Thread(target=lazy.correct, args=("Is the tray dishwaster safe?",)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == [1] and lazy.correct("dishwaster") == "dishwasher"


def test_documents_with_decomposed_accents_give_their_composed_words():
    decomposed = Speller(["Le cafe\u0301 de \u00c9douard ferme."])
    assert decomposed.correct("Who runs the caf\u00e9?") == "Who runs the caf\u00e9?"
    assert decomposed.correct("Who is \u00c9douardd?") == "Who is \u00c9douard?"


def test_many_threads_read_slips_as_one_thread_does():
    # symspellpy's lookup reuses buffers between calls; unguarded, a few of 50,000 reads from six
    # threads came back wrong (3 or 4 in each of two runs here), so the test reads that many
    import re
    import sys
    from pathlib import Path

    text = next((Path(__file__).resolve().parents[1] / "documents").glob("*.txt")).read_text("utf-8")
    speller = Speller([text])
    words = sorted({w.lower() for w in re.findall(r"[a-z]{7,}", text)})[:400]
    slips = [w[:i] + w[i + 1] + w[i] + w[i + 2:] for w in words for i in range(1, len(w) - 2)]
    alone = {q: speller.correct(q) for q in slips}
    assert sum(alone[q] != q for q in slips) > len(slips) / 2
    wrong = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can
    try:
        def read():
            for _ in range(5):
                wrong.extend(q for q in slips if speller.correct(q) != alone[q])

        threads = [threading.Thread(target=read) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []


def test_retrieve_and_ask_read_slips_unless_spelling_is_off(tmp_path, embedder):
    from assistant.answer.answering import ask
    from assistant.config import Settings
    from assistant.ingest.indexing import add_documents
    from assistant.search.retrieval import retrieve

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "kettle.txt").write_text("The kettle boils water in ninety seconds. Its handle stays cool.", "utf-8")
    (folder / "toaster.txt").write_text("The toaster browns bread evenly. Its crumb tray slides out.", "utf-8")
    settings = Settings.from_env(chunk_size=150, chunk_overlap=30)
    index_dir = tmp_path / "index"
    add_documents([folder], index_dir=index_dir, settings=settings, embedder=embedder)
    for spelling, found in ((True, ["kettle.txt"]), (False, [])):
        chosen = settings.replace(spelling=spelling)
        hits = retrieve("ketle", 2, index_dir, mode="bm25", settings=chosen, embedder=embedder)
        assert [h.source.rsplit("/", 1)[-1] for h in hits] == found
    # ask() searches and reads the question as the documents spell it: the same as typed right
    right = ask("How fast does the kettle boil water?", index_dir=index_dir, settings=settings, embedder=embedder)
    slipped = ask("How fast does the ketle boil watre?", index_dir=index_dir, settings=settings, embedder=embedder)
    assert (slipped.text, slipped.confidence) == (right.text, right.confidence)
    # and says how it read it: in the answer, the chat, the API
    from assistant.interfaces.render import answer_html, answer_json

    assert slipped.read_as == "How fast does the kettle boil water?" and right.read_as == ""
    shown = answer_html(slipped)
    assert 'class="qa-read-as"' in shown and "“How fast does the kettle boil water?”" in shown and "qa-read-as" not in answer_html(right)
    assert answer_json(slipped)["read_as"] == slipped.read_as and answer_json(right)["read_as"] == ""
    off = ask("How fast does the ketle boil watre?", index_dir=index_dir, settings=settings.replace(spelling=False), embedder=embedder)
    assert off.read_as == ""
    # a language model, where one is set, reads the question as it was read
    from tests.llm_server import FakeLLMServer

    with FakeLLMServer(reply=lambda messages: "The documents don't say.") as server:
        generated = settings.replace(llm_base_url=server.base_url, llm_model="fake", llm_timeout=5)
        ask("How fast does the <b>ketle</b> boil watre?", index_dir=index_dir, settings=generated, embedder=embedder)
        asked = server.last_messages[-1]["content"]
    assert "How fast does the kettle boil water?" in asked and "ketle" not in asked
