"""The bridge: the other sentence of a candidate's passage that the answer model also reads."""

from __future__ import annotations

from assistant.answer import bridge


def test_the_bridge_is_the_sentence_sharing_most_of_the_questions_content_words():
    others = ["The weather was fine.", "Maria Lopez founded the bakery in 1990.", "The bakery sells bread."]
    assert bridge.choose("What did the founder of the bakery, Maria Lopez, say?", others) == others[1]


def test_function_words_do_not_count_and_no_shared_word_means_no_bridge():
    assert bridge.words("What is the price of it?") == {"price"}
    assert bridge.choose("What is the price?", ["It is what it is.", "The weather was fine."]) == ""
    assert bridge.choose("", ["Anything."]) == ""


def test_of_equal_sentences_the_first_is_the_bridge():
    assert bridge.choose("Which lamp?", ["The lamp is red.", "A lamp, too."]) == "The lamp is red."
