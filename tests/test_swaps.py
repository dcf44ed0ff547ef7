"""Swapped-question negatives (training/swaps.py): which word is swapped, for what, and when not."""

from __future__ import annotations

import random

import numpy as np
import pytest

from training.pairs import Sentence, TrainQuestion
from training.swaps import Kinds, Neighbours, anchors, document_swapped, swapped


def _question(question: str, answer_sentence: str, other: str = "Shipping took a week.") -> TrainQuestion:
    return TrainQuestion("q1", question, ("x",), (Sentence("d", 0, 1, answer_sentence),), (Sentence("d", 2, 3, other),), ())


def _distinct(texts):
    """Unit vectors that differ from text to text (similarity well below the synonym cut)."""
    out = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=16) for t in texts])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_anchors_are_content_words_the_answer_sentence_also_holds():
    assert anchors("How long does the battery last?", "The battery lasts ten hours.") == ["battery"]
    # stop words, short words, adverbs and participles are never anchors
    assert anchors("Was it quickly charged?", "It was quickly charged overnight.") == []


def test_the_longest_shared_word_is_replaced_by_a_neighbour_the_document_lacks():
    item = _question("How long does the Battery last on the trail?", "The Battery lasts ten hours on the trail.", "The charger is small.")
    options = {"battery": ["charger", "cord"], "trail": ["road"]}
    found = swapped([item], lambda word, count: options.get(word.lower(), []), _distinct, random.Random(0))
    # "charger" occurs in the document, so "cord" is the only choice; the capital is kept
    assert [(s.word, s.replacement, s.text) for s in found] == [("Battery", "Cord", "How long does the Cord last on the trail?")]


def test_more_swaps_per_question_swap_different_words():
    item = _question("How long does the battery last on the trail?", "The battery lasts ten hours on the trail.")
    options = {"battery": ["cord"], "trail": ["road"]}
    found = swapped([item], lambda word, count: options.get(word.lower(), []), _distinct, random.Random(0), per_question=2)
    assert sorted(s.text for s in found) == ["How long does the battery last on the road?", "How long does the cord last on the trail?"]


def test_a_swap_that_stays_too_similar_is_dropped_as_a_probable_synonym():
    item = _question("How long does the battery last?", "The battery lasts ten hours.")

    def same(texts):
        return np.ones((len(texts), 4)) / 2.0

    assert swapped([item], lambda word, count: ["cord"], same, random.Random(0)) == []
    assert len(swapped([item], lambda word, count: ["cord"], _distinct, random.Random(0))) == 1


def test_a_question_without_a_shared_word_or_a_usable_neighbour_gives_nothing():
    unrelated = _question("Who sold it?", "The battery lasts ten hours.")
    no_options = _question("How long does the battery last?", "The battery lasts ten hours.")
    assert swapped([unrelated, no_options], lambda word, count: [], _distinct, random.Random(0)) == []


def test_neighbours_skip_forms_of_the_word_and_its_two_nearest(tmp_path):
    from safetensors.numpy import save_file

    words = ["[PAD]", "battery", "batteries", "power", "energy", "charger", "batty", "cord", "lamp", "the", "##ery"]
    angles = {"battery": 0.0, "batteries": 0.01, "power": 0.02, "energy": 0.03, "charger": 0.2, "batty": 0.25, "cord": 0.3, "lamp": 1.4}
    table = np.zeros((len(words), 2), dtype=np.float32)
    for i, w in enumerate(words):
        a = angles.get(w, 3.0)
        table[i] = [np.cos(a), np.sin(a)]
    save_file({"embeddings.word_embeddings.weight": table}, str(tmp_path / "model.safetensors"))
    (tmp_path / "vocab.txt").write_text("\n".join(words) + "\n", "utf-8")
    near = Neighbours(tmp_path)
    # the two nearest ("batteries", "power") are skipped, and so is "batty" (the same first four letters)
    assert near("battery", 3) == ["energy", "charger", "cord"]
    assert near("Battery", 3) == ["energy", "charger", "cord"]
    assert near("unknownword", 2) == []
    assert "the" not in near.words and "##ery" not in near.words


@pytest.mark.slow
def test_swaps_from_the_packaged_word_table_name_a_different_thing():
    from assistant.ingest.embeddings import model_path

    near = Neighbours(model_path())
    options = near("battery", 10)
    assert len(options) == 10 and all(not o.startswith("batt") for o in options)


def test_a_number_the_answer_sentence_shares_is_swapped_for_one_of_its_form_the_document_lacks():
    from training.swaps import number_swapped

    item = _question("What did the 5 lb roast weigh in 2011?", "The 5 lb roast weighed 10 in 2011.", "It cost 15 and 2 in 2012.")
    found = number_swapped([item], random.Random(0), per_question=3)
    # the first shared number is swapped; 10, 15 and 2 are in the document, so 50 is the one left
    assert [(s.word, s.replacement, s.text) for s in found] == [("5", "50", "What did the 50 lb roast weigh in 2011?")]


def test_years_stay_years_and_written_numbers_keep_their_commas_and_places():
    from training.swaps import other_numbers

    rng = random.Random(0)
    assert all(abs(int(y) - 2011) <= 3 and y != "2011" for y in other_numbers("2011", rng))
    thousands = other_numbers("1,500", rng)
    assert "1,500" not in thousands and all(n == f"{int(n.replace(',', '')):,}" for n in thousands) and any("," in n for n in thousands)
    assert all(len(n.partition(".")[2]) == 2 and n != "3.09" for n in other_numbers("3.09", rng))


def test_a_question_whose_numbers_its_answer_lacks_or_that_are_parts_of_words_gives_no_number_swap():
    from training.swaps import number_swapped

    elsewhere = _question("What happened in 2011?", "The roast weighed ten pounds.", "It was bought in 2011.")
    in_a_word = _question("Is the v2 model quieter?", "The v2 model is quieter.")
    a_version = _question("Does 1.2.3 fix it?", "Version 1.2.3 fixes it.")
    assert number_swapped([elsewhere, in_a_word, a_version], random.Random(0), per_question=2) == []


def _kinds(word):
    """A stand-in for `Kinds`: these nouns and names, nothing else."""
    return {"battery": "noun", "charger": "noun", "chargers": "noun", "cable": "noun", "trail": "noun",
            "Garmin": "name", "Anker": "name"}.get(word)


def test_a_document_swap_takes_a_word_of_the_same_kind_from_another_sentence_the_answer_lacks():
    item = _question("How long does the Garmin battery last?", "The Garmin battery lasts ten hours.",
                     "The charger and the cable came from Anker, quickly.")
    found = document_swapped([item], _distinct, random.Random(0), kind=_kinds, per_question=2)
    # the noun for a noun, the name for a name; "quickly" (no kind) is never a replacement
    assert {(s.word, s.replacement) for s in found} <= {("battery", "charger"), ("battery", "cable"), ("Garmin", "Anker")}
    assert {s.word for s in found} == {"battery", "Garmin"}
    assert all(s.text == item.question.replace(s.word, s.replacement) for s in found)


def test_a_document_swap_never_uses_a_word_the_answer_as_read_holds():
    # "charger" is in the sentence before the answer, which the model reads with it: not a near miss
    item = _question("How long does the battery last?", "The battery lasts ten hours.", "The charger is small.")
    read = lambda question, sentence: sentence.text + " [SEP] The charger is small."  # noqa: E731
    assert document_swapped([item], _distinct, random.Random(0), kind=_kinds, read=read) == []
    assert [s.replacement for s in document_swapped([item], _distinct, random.Random(0), kind=_kinds)] == ["charger"]


def test_a_document_swap_too_similar_to_the_question_is_dropped():
    item = _question("How long does the battery last?", "The battery lasts ten hours.", "The charger is small.")
    assert document_swapped([item], lambda texts: np.ones((len(texts), 4)) / 2.0, random.Random(0), kind=_kinds) == []


def test_a_document_swap_never_uses_a_form_of_an_answer_word_nor_a_sentence_opener_for_a_name():
    # "chargers" in the answer: "charger" would still be answered by it
    item = _question("How much does the battery weigh?", "The battery and the chargers weigh 2 lb.", "The charger is black.")
    assert document_swapped([item], _distinct, random.Random(0), kind=_kinds) == []
    # "Anker" only opens a sentence there: a capitalised opener is no name
    item = _question("Is the Garmin battery good?", "The Garmin battery is good.", "Anker makes the cable.")
    assert [s.replacement for s in document_swapped([item], _distinct, random.Random(0), kind=_kinds, per_question=2)] == ["cable"]
    # a word said twice in the question is not swapped (the swap would leave it there); no swaps asked, none made
    item = _question("Does the battery beat the old battery?", "The battery beats it.", "The charger is small.")
    assert document_swapped([item], _distinct, random.Random(0), kind=_kinds) == []
    item = _question("How long does the battery last?", "The battery lasts ten hours.", "The charger is small.")
    assert document_swapped([item], _distinct, random.Random(0), kind=_kinds, per_question=0) == []


def test_kinds_tell_nouns_and_names_from_words_that_can_be_verbs_or_openers():
    kinds = Kinds()
    assert kinds("oven") == "noun" and kinds("Vitamix") == "name" and kinds("Poland") == "name"
    assert kinds("taste") is None and kinds("open") is None and kinds("lid") is None  # can be a verb, an adjective; short
    assert kinds("Then") is None and kinds("Although") is None and kinds("Whether") is None  # sentence openers
