"""Typing slips read as the documents' words (search/spelling.py), and through retrieve() and ask()."""

from __future__ import annotations

import threading

import pytest

from assistant.search.spelling import LazySpeller, Speller

DOCUMENTS = ["The tray is dishwasher safe. Turbopumps feed propellant at high pressure. It should last.",
             "The humidifier runs quietly; the reviewer recommends it. Gusto machines brew espresso."]


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
    "",
])
def test_words_that_are_known_or_far_from_any_document_word_stay_as_typed(speller, kept):
    assert speller.correct(kept) == kept


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
