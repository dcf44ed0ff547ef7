"""Elliptical follow-ups: "What about mothers?" after "How much leave do fathers get?" is the earlier
question asked of mothers (answer/followup.py: `elliptical`, `substituted`, `last_question`)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer.followup import elliptical, last_question, substituted

# unit vectors: each text points along its own axis, and the pairs named here lie near each other
ALIKE = {("mothers", "fathers"): 0.65, ("2017", "2018"): 0.74, ("managers", "staff"): 0.57, ("ZTE", "Huawei"): 0.23,
         ("adoptive parents", "mothers"): 0.5}


def embed(texts):
    axes = {}
    rows = []
    for text in texts:
        axes.setdefault(text, len(axes))
    for text in texts:
        vector = np.zeros(len(axes) + 1)
        vector[axes[text]] = 1.0
        rows.append(vector)
    first = texts[0]
    for i, text in enumerate(texts[1:], start=1):
        if (cosine := ALIKE.get((first, text))) is not None:  # the other thing, against the words it may replace
            rows[i] = cosine * rows[0] + np.sqrt(1 - cosine ** 2) * np.eye(len(axes) + 1)[len(axes)]
    return np.array(rows)


@pytest.mark.parametrize("question, other", [
    ("What about mothers?", "mothers"), ("And for managers?", "managers"), ("how about 2017", "2017"),
    ("And adoptive parents?", "adoptive parents"), ("So what about the ZTE board?", "the ZTE board"),
    ("What about this year?", "this year"),
])
def test_a_question_that_only_names_another_thing_is_elliptical(question, other):
    assert elliptical(question) == other


@pytest.mark.parametrize("question", [
    "And why?", "What about it, and who said so in the report last year?", "Who is Ken Hu?", "And when did he die?",
    "What about?", "And do mothers get more?", "And is it paid?", "And can we bring guests?",
])
def test_other_questions_are_not(question):
    assert elliptical(question) is None


def test_the_earlier_question_is_asked_of_the_other_thing_where_the_words_it_replaces_are_alike():
    assert substituted("What about mothers?", "How much paid leave do fathers get?", embed) == "How much paid leave do mothers get?"
    assert substituted("And in 2017?", "How much did Huawei spend on R&D in 2018?", embed) == "How much did Huawei spend on R&D in 2017?"
    assert substituted("How about managers?", "How many days do full-time staff get?", embed) == "How many days do full-time managers get?"
    # nothing near enough: as before, the question is read as asked
    assert substituted("What about ZTE?", "Who founded Huawei?", embed) is None
    assert substituted("Who founded it?", "Who founded Huawei?", embed) is None  # not elliptical
    assert substituted("What about mothers?", "Who?", embed) is None  # no content word to replace
    ALIKE[("class of 2021", "class of 2019")] = 0.9
    assert substituted("What about the class of 2021?", "How many did the class of 2019 have?", embed) == (
        "How many did the class of 2021 have?")  # one article, the earlier question's


def test_the_last_question_of_a_chain_of_elliptical_ones_stands_on_its_own():
    history = [("How much paid leave do fathers get?", "…"), ("What about mothers?", "…"), ("Thanks!", "…")]
    assert last_question(history, embed) == "How much paid leave do mothers get?"
    assert substituted("And adoptive parents?", last_question(history, embed), embed) == "How much paid leave do adoptive parents get?"
    assert last_question([], embed) == "" and last_question([("Who is Ken Hu?", "…")], embed) == "Who is Ken Hu?"
