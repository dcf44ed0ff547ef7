"""Social words: a greeting, thanks or "what can you do?" alone gets a reply without a search, and
around a question they are not read (answer/smalltalk.py, answer/plain.py, ask())."""

from __future__ import annotations

import pytest

import assistant
from assistant.answer import smalltalk
from assistant.answer.followup import contextualize
from assistant.answer.plain import plain_question
from assistant.answer.prompts import SOCIAL_REPLIES


@pytest.mark.parametrize("message, kind", [
    ("hi", "greeting"), ("Hello there!", "greeting"), ("Thanks!", "thanks"), ("thank you so much :)", "thanks"),
    ("ok 👍", "ack"), ("Great.", "ack"), ("no", "ack"), ("Bye!", "bye"), ("What can you do?", "help"),
    ("Who are you?", "help"), ("hi, what can you do?", "help"), ("Thanks, bye", "thanks"),
    ("thanks, that helps", "thanks"), ("That's helpful!", "ack"),
])
def test_a_message_of_social_words_alone_is_of_its_kind(message, kind):
    assert smalltalk.kind(message) == kind
    assert smalltalk.reply(message) == SOCIAL_REPLIES[kind]


@pytest.mark.parametrize("message", [
    "Who is Ken Hu?", "Great Britain?", "Thanks to whom was the bridge built?", "Good, bad or neutral?", "history", "",
    "?", "hi, who is Ken Hu?", "What documents do you have about Huawei?", "What helps with jet lag?",
])
def test_a_message_with_other_words_is_a_question(message):
    assert smalltalk.kind(message) is None and smalltalk.reply(message) is None


@pytest.mark.parametrize("question, read", [
    ("Thanks! And part-time employees?", "And part-time employees?"),
    ("Great. What about part-time employees?", "What about part-time employees?"),
    ("ok, and part-time employees?", "And part-time employees?"),
    ("ok and part-time employees?", "And part-time employees?"),
    ("Hi! Who is Ken Hu? Thanks!", "Who is Ken Hu?"),
    ("Hey, who is Ken Hu?", "Who is Ken Hu?"),
    ("Who is Ken Hu? Thank you.", "Who is Ken Hu?"),
    ("Who wrote it? Thanks 🙏", "Who wrote it?"),
    ("Thanks :) who wrote the report?", "Who wrote the report?"),
    ("Thanks! :D When is the deadline?", "When is the deadline?"),
    ("Who wrote it, thanks", "Who wrote it?"),
    # the same words as part of the question stay
    ("Great Britain, what is its capital?", "Great Britain, what is its capital?"),
    ("Good, bad or neutral?", "Good, bad or neutral?"),
    ("Thanks to whom was the bridge built?", "Thanks to whom was the bridge built?"),
    ("History, what is it?", "History, what is it?"),
    ("Hi-vis vest requirements?", "Hi-vis vest requirements?"),
    ("Cool-down period after a workout?", "Cool-down period after a workout?"),
    ("Which foods contain vitamins A, D, E, K", "Which foods contain vitamins A, D, E, K?"),
    ("Who wrote it? ty", "Who wrote it? ty?"),  # one letter: kept, as typed
    ("Thanks!", "Thanks!"),  # nothing else: the message itself
])
def test_social_words_around_a_question_are_not_read(question, read):
    assert plain_question(question) == read


def test_a_social_turn_is_no_context_for_a_follow_up():
    history = [("Who is Ken Hu?", "A CEO."), ("Thanks!", SOCIAL_REPLIES["thanks"])]
    assert contextualize("And what did he say?", history) == "Who is Ken Hu? And what did he say?"


def test_a_request_for_help_is_replied_to_only_as_a_conversation_s_first_message():
    assert smalltalk.reply("How does this work?") == SOCIAL_REPLIES["help"]
    assert smalltalk.reply("How does this work?", first=False) is None  # asks about what was discussed
    assert smalltalk.reply("Thanks!", first=False) == SOCIAL_REPLIES["thanks"]


def test_ask_replies_to_a_greeting_without_searching_or_citing(tmp_path):
    # a store that does not exist: a greeting neither opens nor builds one
    answer = assistant.ask("Hi!", index_dir=tmp_path / "never-built")
    assert answer.text == SOCIAL_REPLIES["greeting"] and answer.method == "conversation"
    assert not answer.abstained and answer.citations == () and answer.hits == () and answer.related == ()
    assert not (tmp_path / "never-built").exists()


def test_asking_what_documents_there_are_lists_them_from_the_index(tmp_path, settings, embedder):
    # it had been searched, and answered "The documents don't say." with two passages
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for i in range(12):
        (corpus / f"note_{i:02d}.txt").write_text(f"Note {i} says the pump number {i} runs.", "utf-8")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    assert bot.ask("What documents do you have?").text == SOCIAL_REPLIES["no documents"]
    bot.add([corpus])
    answer = bot.ask("Which files are indexed?")
    assert answer.method == "conversation" and not answer.citations and not answer.abstained
    assert answer.text == ("The index holds 12 documents: " + ", ".join(f"note_{i:02d}.txt" for i in range(10))
                           + " and 2 more. Ask about anything they say.")
    assert bot.ask("What does note 3 say about the pump?").method == "extractive"  # a question about them is searched
    assert smalltalk.reply("What can I ask about?", documents=["a.txt"]) == (
        "The index holds 1 document: a.txt. Ask about anything it says.")


def test_documents_of_one_name_in_two_folders_are_told_apart(tmp_path, settings, embedder):
    # "The index holds 2 documents: notes.txt, notes.txt." had named neither
    from assistant.answer.overview import shown_names

    for folder in ("alpha", "beta"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(f"The {folder} team met on Monday.", "utf-8")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    bot.add([tmp_path / "alpha", tmp_path / "beta"])
    text = bot.ask("What documents do you have?").text
    assert "alpha/notes.txt" in text and "beta/notes.txt" in text
    assert shown_names(["/x/a/notes.txt", "/y/a/notes.txt", "/x/b.txt", "c.txt"]) == ["x/a/notes.txt", "y/a/notes.txt", "b.txt", "c.txt"]
    assert shown_names(["/x/a.txt", "/x/a.txt"]) == ["/x/a.txt", "/x/a.txt"]  # (one path twice: as far as it goes)
