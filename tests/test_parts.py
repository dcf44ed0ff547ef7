"""Multi-part questions: where a question splits into parts, and where it stays whole."""

from __future__ import annotations

import pytest

from assistant.answer.parts import MAX_PARTS, question_parts


@pytest.mark.parametrize(
    "question, parts",
    [
        ("When was the bridge opened, and who designed it?", ["When was the bridge opened?", "who designed it?"]),
        ("Who runs the museum and where is it?", ["Who runs the museum?", "where is it?"]),
        ("When was it founded? Who runs it today?", ["When was it founded?", "Who runs it today?"]),
        ("What does the fee cover; does it include parking?", ["What does the fee cover?", "does it include parking?"]),
        ("How long is the river, how deep is it and is it navigable?", ["How long is the river?", "how deep is it?", "is it navigable?"]),
        ("How old is the lighthouse, what does the museum cost, and when did the cafe open?",  # a list of three
         ["How old is the lighthouse?", "what does the museum cost?", "when did the cafe open?"]),
        ("Who designed the tower, which opened in 1889, and how tall is it?",  # a relative clause stays with its part
         ["Who designed the tower, which opened in 1889?", "how tall is it?"]),
        ("When was it built, where is it, and how tall is it?", ["When was it built?", "where is it?", "how tall is it?"]),
        ("What happened in 1889, when it opened, and how tall is it?",  # "when it" is a clause
         ["What happened in 1889, when it opened?", "how tall is it?"]),
    ],
)
def test_coordinated_questions_split_into_their_parts(question, parts):
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "What are the pros and cons of the plan?",  # "and" between nouns
        "Which cats and dogs are allowed inside?",
        "Who won and why?",  # a part under three words cannot be read alone
        "How much did the company spend on research in 2018?",
        "Why did the council and the mayor disagree?",
        "Who is the engineer, who designed the bridge over the river?",  # a comma before "who" alone: one question
    ],
)
def test_single_questions_stay_whole(question):
    assert question_parts(question) == [question]


def test_a_question_of_more_parts_than_the_most_is_read_whole():
    # 357 parts, each searched and read, had held a core for 40 s
    listed = " ".join(f"Who designed bridge number {i}?" for i in range(MAX_PARTS))
    assert len(question_parts(listed)) == MAX_PARTS
    pasted = " ".join(f"Who designed bridge number {i}?" for i in range(MAX_PARTS + 1))
    assert question_parts(pasted) == [pasted]
    assert question_parts(("and who is he " * 720)[:10000]) == [("and who is he " * 720)[:10000]]


def test_the_setting_switches_the_splitting_off(monkeypatch):
    from assistant.config import Settings

    assert Settings.from_env().answer_parts is True
    monkeypatch.setenv("ASSISTANT_ANSWER_PARTS", "0")
    assert Settings.from_env().answer_parts is False
