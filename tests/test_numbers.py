"""The numbers a question states and whether a passage states them (answer/numbers.py)."""

from __future__ import annotations

import pytest

from assistant.answer.numbers import missing, stated, unstated, values


@pytest.mark.parametrize("question, required", [
    ("Who set the course record of 2:04:09 in 2022?", ((2, 2), (4, 4), (9, 9), (2022, 2022))),
    ("Who won the Women 55-59 category?", ((55, 55), (59, 59))),
    ("What was the yield per 1,000 acres?", ((1000, 1000),)),
    ("Who finished 11th?", ((11, 11),)),
    ("Is COVID-19 covered?", ((19, 19),)),
    ("What changed in the 1990s?", ((1990, 1999),)),
    ("How much does the Fold 350 cost, and the Fold 350 Pro?", ((350, 350),)),  # once
    ("Who won the race?", ()),
    ("What about 2021?", ((2021, 2021),)),  # the follow-up's subject, not a round figure
    ("What changed in the 1990's?", ((1990, 1999),)),
    ("What are the top 10?", ()),
    ("What was the 2019 revenue?", ((2019, 2019),)),  # a year, not a count of what is asked for
    ("Which 5G bands does it use?", ((5, 5),)),
    ("Which 3rd-party apps work?", ((3, 3),)),
])
def test_a_questions_numbers_are_required_as_values(question, required):
    assert stated(question) == required


@pytest.mark.parametrize("question", [
    "Did more than 100 people attend?", "Does it cost over $5?", "Were there at least 3 winners?",
    "Is it about 30 km long?", "What grew between 2010 and 2015?", "Can it hold up to 20 kg?",
    "What 2 other appliances share the outlet?", "Which are the top 5 models?", "Name 3 of its uses.",
    "Which songs of the '90s?", "What did she do in her 80s?",
    "What happened in " + "7" * 4400 + "?",  # no figure anyone asks about (and no int() of 4,400 digits)
])
def test_a_number_that_bounds_or_rounds_requires_nothing(question):
    assert stated(question) == ()


def test_a_passages_numbers_include_its_number_words():
    assert values("Twenty-five runners, the eleventh time, 2,500 units at 2:03:15, three dozen") == {25, 20, 5, 11, 2500, 2, 3, 15, 12}


def test_a_number_is_unstated_only_where_no_text_states_it():
    required = stated("Who won the 55-59 category in 2022?")
    assert unstated(required, "The 55-59 category went to Ana Ruiz.", "It was the 2021 race.")
    assert not unstated(required, "The 55-59 category went to Ana Ruiz.", "It was the 2022 race.")
    assert not unstated(stated("Who came 3rd?"), "She came third.")
    assert not unstated(stated("What changed in the 1990s?"), "In 1994 the line was extended.")
    assert unstated(stated("What changed in the 1990s?"), "In 2004 the line was extended.")
    assert not unstated((), "no number at all")


def test_the_numbers_no_text_states_are_named_as_the_question_writes_them():
    question = "Who won the 55-59 category at the 2,500 m race in the 1990s, and over 10 times?"
    assert missing(question, ["The 55-59 category, 2500 m.", "In 1994."]) == []
    assert missing(question, ["The 55-60 category.", "In 2004."]) == ["55-59", "2,500", "1990s"]  # the word holding each, once
    assert missing("Who won?", []) == []
    assert missing("What cost $1.5 billion in 2:04:09, or 1000 and 1,000?", ["nothing"]) == ["$1.5", "2:04:09", "1000"]


def test_a_passage_states_a_date_or_a_scaled_figure_however_it_writes_it():
    assert not unstated(stated("What happened on 2022-03-05?"), "On 5 March 2022 the line opened.")
    assert not unstated(stated("Did it cost 1,500,000 dollars?"), "It cost 1.5 million dollars.")
    assert unstated(stated("Did it cost 1,500,000 dollars?"), "It cost 2.5 million dollars.")
