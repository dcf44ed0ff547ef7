"""The shipped answer model: loading checks (one-line errors naming the rebuild command), the
scoring contract, and what its probability does to ask() (abstention, the threshold knob)."""

from __future__ import annotations

import json
import os
import shutil
import signal

import numpy as np
import pytest

from assistant.answer import model as answer_model
from assistant.interfaces import cli
from assistant.answer.model import MODEL_DIR, REBUILD, AnswerModel, ModelError, pair_text
from assistant.answer.answering import ask, plain_question
from assistant.ingest.indexing import add_documents
from assistant.answer.prompts import NO_ANSWER


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(MODEL_DIR, target)
    return target


def _one_line(err: Exception) -> str:
    text = str(err)
    assert "\n" not in text
    return text


def test_pair_text_puts_the_sentence_first_and_keeps_the_end_of_the_one_before():
    assert pair_text("It holds 3,000 paintings.") == "It holds 3,000 paintings."
    assert pair_text("It holds 3,000 paintings.", "The museum\nopened in 1990.") == (
        "It holds 3,000 paintings. [SEP] The museum opened in 1990."
    )
    long = pair_text("Short.", "x" * 500 + " the end.")
    assert long.startswith("Short. [SEP] …") and long.endswith("the end.")
    assert len(long) < 200


def test_pair_text_adds_the_start_of_the_bridge_only_for_a_model_that_reads_one():
    sentence, previous, bridge = "It holds 3,000 paintings.", "The museum opened in 1990.", "The Kunsthalle  museum\nsits by the river."
    assert pair_text(sentence, previous, bridge) == pair_text(sentence, previous)  # bridge_chars 0: no bridge
    assert pair_text(sentence, previous, bridge, 16) == f"{sentence} [SEP] {previous} [SEP] The Kunsthalle m"
    assert pair_text(sentence, "", bridge, 200) == f"{sentence} [SEP] The Kunsthalle museum sits by the river."
    assert pair_text(sentence, previous, "", 200) == pair_text(sentence, previous)


def test_a_card_with_a_negative_bridge_is_refused_and_none_reads_no_bridge(model_copy):
    assert AnswerModel(model_copy).card.bridge_chars == json.loads((model_copy / "card.json").read_text("utf-8")).get("bridge_chars", 0)
    card = json.loads((model_copy / "card.json").read_text("utf-8"))
    (model_copy / "card.json").write_text(json.dumps(card | {"bridge_chars": -5}), "utf-8")
    with pytest.raises(ModelError, match="bridge_chars") as err:
        AnswerModel(model_copy)
    assert REBUILD in _one_line(err.value)


@pytest.mark.parametrize("change, named", [({"bridge_for": "everything"}, "bridge_for 'everything'"),
                                           ({"bridge_for": "answerability", "judge_candidates": 0}, "judge_candidates 0"),
                                           ({"bridge_for": "answerability", "judge_skip_above": 0}, "judge_skip_above 0"),
                                           ({"bridge_for": "answerability", "judge_skip_above": 1.5}, "judge_skip_above 1.5"),
                                           ({"bridge_for": "answerability", "judge_skip_above": "often"}, "judge_skip_above 'often'"),
                                           ({"bridge_for": "answerability", "judge_skip_above": True}, "judge_skip_above True")])
def test_a_card_with_an_unknown_bridge_reader_or_no_judge_is_refused(model_copy, change, named):
    card = json.loads((model_copy / "card.json").read_text("utf-8"))
    (model_copy / "card.json").write_text(json.dumps(card | {"bridge_chars": 160} | change), "utf-8")
    with pytest.raises(ModelError, match=named) as err:
        AnswerModel(model_copy)
    assert REBUILD in _one_line(err.value)


def test_the_threshold_in_force_is_the_settings_override_else_the_cards():
    from assistant.config import Settings

    model = AnswerModel(MODEL_DIR)
    assert model.threshold_for(Settings()) == model.threshold
    assert model.threshold_for(Settings().replace(abstain_threshold=0.9)) == 0.9


def test_the_shipped_model_loads_with_its_card():
    model = AnswerModel(MODEL_DIR)
    card = json.loads((MODEL_DIR / "card.json").read_text("utf-8"))
    assert model.threshold == card["threshold"] and 0.0 < model.threshold < 1.0
    assert set(card["files"]) == {"model.onnx", "tokenizer.json"}
    assert card["dev"]["split"].startswith("dev") and card["commit"] and card["command"].startswith(("python training/train.py", "python training/soup.py"))
    assert sum(f.stat().st_size for f in MODEL_DIR.iterdir()) < 50 * 2**20


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json", "card.json"])
def test_a_missing_file_is_one_line_naming_the_rebuild_command(model_copy, name):
    (model_copy / name).unlink()
    with pytest.raises(ModelError) as err:
        AnswerModel(model_copy)
    message = _one_line(err.value)
    assert name in message and REBUILD in message


def test_an_altered_model_file_is_refused(model_copy):
    with open(model_copy / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="checksum") as err:
        AnswerModel(model_copy)
    assert REBUILD in _one_line(err.value)


def test_an_unreadable_card_is_refused(model_copy):
    (model_copy / "card.json").write_text("{not json", "utf-8")
    with pytest.raises(ModelError, match="card") as err:
        AnswerModel(model_copy)
    assert REBUILD in _one_line(err.value)


def _card_with(model_copy, change: dict) -> None:
    card = json.loads((model_copy / "card.json").read_text("utf-8"))
    (model_copy / "card.json").write_text(json.dumps(card | change), "utf-8")


@pytest.mark.parametrize("change, named", [
    ({"threshold": float("nan")}, "threshold nan is not a finite number"),
    ({"threshold": float("inf")}, "threshold inf is not a finite number"),
    ({"threshold": "0.3"}, "threshold '0.3' is not a finite number"),
    ({"threshold": True}, "threshold True is not a finite number"),
    ({"threshold": 5}, "threshold 5.0 is not a probability from 0 to 1"),
    ({"threshold": -1}, "threshold -1.0 is not a probability from 0 to 1"),
    ({"combine": {"weights": {"logit": float("nan"), "cosine": 1.0, "share": 1.0}, "bias": 0.0}}, "combine weight logit nan"),
    ({"combine": {"weights": {"logit": 1.0, "cosine": "inf", "share": 1.0}, "bias": 0.0}}, "combine weight cosine 'inf'"),
    ({"files": {}}, "do not list model.onnx, tokenizer.json"),
])
def test_a_card_with_a_threshold_or_combiner_that_is_no_finite_probability_or_no_checksums_is_refused(model_copy, change, named):
    # a NaN threshold had failed every answered question with "min() arg is an empty sequence";
    # 5 refused everything and -1 nothing; no listed checksums loaded any model.onnx unchecked
    _card_with(model_copy, change)
    with pytest.raises(ModelError, match=named) as err:
        AnswerModel(model_copy)
    assert REBUILD in _one_line(err.value)


@pytest.mark.parametrize("content", ["[1, 2]", "null", '"hi"'])
def test_a_card_that_is_json_but_no_object_is_refused(model_copy, content):
    (model_copy / "card.json").write_text(content, "utf-8")
    with pytest.raises(ModelError, match="not an object") as err:
        AnswerModel(model_copy)
    assert REBUILD in _one_line(err.value)


def test_a_model_folder_that_does_not_exist_names_the_setting_that_chose_it(tmp_path):
    from assistant.config import Settings

    missing = tmp_path / "typo"
    with pytest.raises(ModelError, match="no answer model folder there") as err:
        AnswerModel(missing)
    assert str(missing) in _one_line(err.value) and "train.py" not in str(err.value)  # a typo, not a 94-minute training
    with pytest.raises(ModelError) as err:
        answer_model.configured(Settings(answer_model_dir=str(missing)))
    message = _one_line(err.value)
    assert message.startswith(f"{missing}: no answer model folder there") and "ASSISTANT_ANSWER_MODEL_DIR or Settings(answer_model_dir=…)" in message
    import assistant

    assert assistant.ModelError is ModelError  # catchable from the package, like LoadError


def test_an_unreadable_card_or_model_file_is_a_model_error_naming_it(model_copy):
    for name in ("card.json", "model.onnx"):
        path = model_copy / name
        path.chmod(0)
        try:
            if os.access(path, os.R_OK):
                pytest.skip("this user reads files without permission (root)")
            with pytest.raises(ModelError, match="cannot read") as err:
                AnswerModel(model_copy)
            assert name in _one_line(err.value)
        finally:
            path.chmod(0o644)


def test_scores_are_probabilities_one_per_text_whatever_the_batch():
    model = answer_model.load()
    question = "How many paintings does the museum hold?"
    texts = [
        pair_text("It holds 3,000 paintings.", "The museum opened in 1990."),
        pair_text("The museum opened in 1990."),
        pair_text("Tickets can be bought online, and the café on the ground floor serves lunch until three.", "It holds 3,000 paintings."),
    ]
    together = model.scores(question, texts)
    assert together.shape == (3,) and ((together > 0) & (together < 1)).all()
    alone = np.array([model.scores(question, [t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)  # companions never change a score
    assert model.scores(question, []).shape == (0,)
    # The sentence that answers outranks the ones that only share the topic.
    assert together[0] == together.max()


def test_reading_stops_at_the_first_candidate_that_reaches_stop():
    model = answer_model.load()
    question = "How many paintings does the museum hold?"
    texts = [
        pair_text("The museum opened in 1990."),
        pair_text("It holds 3,000 paintings.", "The museum opened in 1990."),
        pair_text("Tickets can be bought online, and the café on the ground floor serves lunch until three."),
    ]
    signals = ([0.5, 0.6, 0.3], [0.5, 0.5, 0.0])
    every = model.probabilities(question, texts, *signals)
    assert every.shape == (3,) and int(np.argmax(every)) == 1
    stopped = model.probabilities(question, texts, *signals, stop=every[1])
    np.testing.assert_allclose(stopped, every[:2])  # the answer was read, the sentence after it not
    np.testing.assert_allclose(model.probabilities(question, texts, *signals, stop=every.max() + 1e-3), every)
    np.testing.assert_allclose(model.probabilities(question, texts[1:], signals[0][1:], signals[1][1:], stop=0.01), every[1:2])


def test_reading_side_by_side_gives_the_same_scores_and_stops_alike():
    from concurrent.futures import ThreadPoolExecutor

    alone, side_by_side = answer_model.load(workers=1), answer_model.load(workers=3)
    assert (alone.workers, side_by_side.workers) == (1, 3)
    question = "How many paintings does the museum hold?"
    sentences = ["The museum opened in 1990.", "It holds 3,000 paintings.", "Tickets can be bought online.",
                 "The café on the ground floor serves lunch until three, and on Sundays until five.",
                 "Its director is Ana Ruiz.", "Most of the paintings are Dutch.", "Entry is free on Mondays."]
    texts = [pair_text(s, sentences[i - 1] if i else "") for i, s in enumerate(sentences)]
    signals = ([0.5] * 7, [0.2] * 7)
    expected = alone.logits(question, texts)
    np.testing.assert_array_equal(side_by_side.logits(question, texts), expected)
    every = alone.probabilities(question, texts, *signals)
    np.testing.assert_array_equal(side_by_side.probabilities(question, texts, *signals), every)
    for stop in [*every, every.max() + 1e-3]:  # the same prefix is read, whatever the round width
        np.testing.assert_array_equal(side_by_side.probabilities(question, texts, *signals, stop=stop),
                                      alone.probabilities(question, texts, *signals, stop=stop))
    # questions read at the same time (each then reads one pair at a time) get the same scores
    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(lambda _: side_by_side.logits(question, texts), range(8)):
            np.testing.assert_array_equal(got, expected)


def test_a_question_read_while_another_is_reads_one_pair_at_a_time():
    model = answer_model.load(workers=2)
    with model._width() as first:
        with model._width() as second:
            assert (first, second) == (2, 1)
    with model._width() as later:
        assert later == 2  # the other question is done
    with answer_model.load(workers=1)._width() as single:
        assert single == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_process_reads_side_by_side_without_hanging():
    """A pre-forking server loads the model, then forks: the parent's worker threads do not exist
    in the child, which must read with its own (here it would wait forever)."""
    model = answer_model.load(workers=2)
    question, texts = "How many paintings does the museum hold?", [pair_text("It holds 3,000 paintings."), pair_text("It opened in 1990.")]
    expected = model.logits(question, texts)
    pid = os.fork()
    if pid == 0:  # the child: give up after 30 s rather than hang the suite
        signal.alarm(30)
        os._exit(0 if np.array_equal(model.logits(question, texts), expected) else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_all_cores_are_split_among_the_pairs_read_side_by_side(monkeypatch):
    """threads=0 means all cores: with several workers each pair gets its share, not all of them
    (every worker asking for all cores at once made ask() 1.9x slower on 2 cores)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 8)

    def threads(model):
        return model.session.get_session_options().intra_op_num_threads

    assert threads(answer_model.AnswerModel(threads=0, workers=4)) == 2
    assert threads(answer_model.AnswerModel(threads=0, workers=0)) == 1  # one worker per core
    assert threads(answer_model.AnswerModel(threads=0, workers=1)) == 8  # one at a time: all cores
    assert threads(answer_model.AnswerModel(threads=3, workers=4)) == 3  # a count given is kept
    # between pairs its idle threads sleep rather than spin, leaving the cores to the other workers
    options = answer_model.AnswerModel(threads=2, workers=1).session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_answer_workers_out_of_range_is_one_line(monkeypatch):
    from assistant.config import Settings

    for value in ("-1", "many"):
        monkeypatch.setenv("ASSISTANT_ANSWER_WORKERS", value)
        with pytest.raises(ValueError, match="ASSISTANT_ANSWER_WORKERS") as err:
            Settings.from_env()
        _one_line(err.value)


def test_ask_stops_reading_early_but_never_below_the_abstention_threshold(museum_index, settings, embedder, monkeypatch):
    from assistant.answer import extractive

    calls = []
    original = extractive.candidates

    def spy(*args, **kwargs):
        found = original(*args, **kwargs)
        calls.append((args[6], len(found)))  # (question, vector, hits, searcher, model, limit, stop, threshold)
        return found

    monkeypatch.setattr(extractive, "candidates", spy)
    question = "How many paintings does the museum hold?"
    early = ask(question, index_dir=museum_index, settings=settings.replace(answer_stop=0.5), embedder=embedder)
    every = ask(question, index_dir=museum_index, settings=settings.replace(answer_stop=1.0), embedder=embedder)
    assert early.text == every.text and early.confidence == every.confidence and not early.abstained
    assert calls[1][0] is None and calls[0][0] == 0.5
    assert calls[0][1] < calls[1][1]  # fewer sentences read, same answer
    ask(question, index_dir=museum_index, settings=settings.replace(answer_stop=0.5, abstain_threshold=0.99), embedder=embedder)
    assert calls[2][0] == 0.99  # stopping below the threshold could refuse an answer a later sentence holds


def test_answer_stop_out_of_range_is_one_line(monkeypatch):
    from assistant.config import Settings

    for value in ("0", "1.5", "often"):
        monkeypatch.setenv("ASSISTANT_ANSWER_STOP", value)
        with pytest.raises(ValueError, match="ASSISTANT_ANSWER_STOP") as err:
            Settings.from_env()
        _one_line(err.value)


@pytest.mark.parametrize(
    "question, sentences, answer",
    [
        ("When did the bridge open?",
         ["The bridge spans the river at its widest point.", "It opened to traffic in 1932.", "Tolls were abolished later."], 1),
        ("Who designed the bridge?",
         ["The bridge spans the river at its widest point.", "Its engineer, Maria Lopez, drew the plans in a year.", "Tolls were abolished later."], 1),
        ("Why were the tolls abolished?",
         ["Tolls were abolished because the loans had been repaid.", "The bridge spans the river.", "It opened in 1932."], 0),
    ],
)
def test_the_answering_sentence_scores_highest(question, sentences, answer):
    model = answer_model.load()
    texts = [pair_text(s, sentences[i - 1] if i else "") for i, s in enumerate(sentences)]
    assert int(np.argmax(model.scores(question, texts))) == answer


@pytest.fixture
def museum_index(tmp_path, settings, embedder):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "museum.txt").write_text(
        "The city museum opened in 1990 in a former railway station.\n\n"
        "It holds 3,000 paintings, most of them from the nineteenth century.\n\n"
        "Tickets can be bought online; the café on the ground floor serves lunch.\n",
        "utf-8",
    )
    index_dir = tmp_path / "index"
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    return index_dir


def test_a_sentence_that_asks_or_a_heading_is_never_quoted_as_the_answer(tmp_path, settings, embedder):
    # the model finds a sentence echoing the question near certain to answer it: an FAQ's question
    # line, a Markdown heading, notes asking the same thing had been quoted as the answer (0.96)
    from assistant.answer.extractive import states_something

    from assistant.search.lexical import tokenize

    asked = set(tokenize("Can I share my folders with others?"))
    assert not states_something("Q: Can I share folders?", asked) and not states_something("Share folders with others?", asked)
    assert not states_something("### Is the lock waterproof") and not states_something("#")
    assert states_something("Can I share folders with the Alpine 2 app?", asked)  # a question holding more may answer
    assert states_something("You can share folders with others.", asked) and states_something("#5 is the winner.")
    assert states_something("Why? Because it rained.", asked) and states_something("Sizes: S, M, L")
    assert states_something("# of beds: 120", asked, markdown=False)  # a plain text file has no headings
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "faq.md").write_text(
        "# Questions about the museum\n\n"
        "### Can visitors bring dogs into the museum?\n\nOnly guide dogs are allowed inside.\n\n"
        "Q: How many volunteers guide the tours?\nA: Twelve volunteers guide the tours each week.\n", "utf-8")
    index_dir = tmp_path / "index"
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    for question in ("Can visitors bring dogs into the museum?", "How many volunteers guide the tours?"):
        answer = ask(question, index_dir=index_dir, settings=settings, embedder=embedder)
        assert all(states_something(c.quote, set(tokenize(question))) for c in answer.citations), (question, answer.text)
        assert question not in answer.text


def test_ask_answers_from_the_model_and_abstains_below_the_threshold(museum_index, settings, embedder):
    answer = ask("How many paintings does the museum hold?", index_dir=museum_index, settings=settings, embedder=embedder)
    assert not answer.abstained and "3,000 paintings" in answer.text
    assert answer.confidence >= answer_model.load().threshold
    off_topic = ask("Who won the 1998 football world cup?", index_dir=museum_index, settings=settings, embedder=embedder)
    assert off_topic.abstained and off_topic.text == NO_ANSWER and off_topic.citations == ()
    assert off_topic.confidence < answer_model.load().threshold
    assert off_topic.related  # the closest passages, offered as reading


def test_a_follow_up_is_searched_with_the_earlier_turn_but_scored_as_asked(museum_index, settings, embedder, monkeypatch):
    from assistant.answer import extractive

    read = []
    original = extractive.candidates

    def spy(question, *args, **kwargs):
        read.append(question)
        return original(question, *args, **kwargs)

    monkeypatch.setattr(extractive, "candidates", spy)
    follow = ask("How many paintings does it hold?", history=[("When did the city museum open?", "In 1990.")],
                 index_dir=museum_index, settings=settings, embedder=embedder)
    assert "city museum" in follow.query  # retrieval reads the earlier question too
    assert read == ["How many paintings does it hold?"]  # the model reads one question, as trained
    assert not follow.abstained and "3,000 paintings" in follow.text


def test_the_threshold_setting_overrides_the_cards(museum_index, settings, embedder):
    question = "Who won the 1998 football world cup?"
    never = ask(question, index_dir=museum_index, settings=settings.replace(abstain_threshold=0.0), embedder=embedder)
    assert not never.abstained and never.citations
    always = ask("How many paintings does the museum hold?", index_dir=museum_index,
                 settings=settings.replace(abstain_threshold=1.0), embedder=embedder)
    assert always.abstained


def test_an_answer_below_the_sure_level_is_marked_unsure(museum_index, settings, embedder, monkeypatch, capsys):
    from assistant.interfaces.render import answer_html, answer_json, escape
    from assistant.answer.prompts import UNSURE

    question = "How many paintings does the museum hold?"
    plain = ask(question, index_dir=museum_index, settings=settings, embedder=embedder)
    level = answer_model.load().card.judge_skip_above
    assert level and not plain.abstained
    assert plain.unsure == (plain.confidence < level)  # unset: the card's sure level
    marked = ask(question, index_dir=museum_index, settings=settings.replace(answer_unsure_below=1.0), embedder=embedder)
    never = ask(question, index_dir=museum_index, settings=settings.replace(answer_unsure_below=0.0), embedder=embedder)
    assert marked.unsure and not never.unsure
    assert (marked.text, marked.citations, marked.confidence) == (never.text, never.citations, never.confidence)  # a mark, nothing else
    assert escape(UNSURE) in answer_html(marked) and escape(UNSURE) not in answer_html(never)
    assert answer_json(marked)["unsure"] is True and answer_json(never)["unsure"] is False
    refused = ask("Who won the 1998 football world cup?", index_dir=museum_index,
                  settings=settings.replace(answer_unsure_below=1.0), embedder=embedder)
    assert refused.abstained and not refused.unsure  # a refusal is not an unsure answer
    from assistant.config import Settings
    from assistant.ingest import embeddings

    monkeypatch.setattr(embeddings, "default_embedder", lambda settings=None: embedder)  # the index's (hash) embedder
    monkeypatch.setenv("ASSISTANT_ANSWER_UNSURE_BELOW", "1")
    assert cli.main(["--index-dir", str(museum_index), "ask", question]) == 0
    out, err = capsys.readouterr()
    assert "3,000 paintings" in out and f"note: {UNSURE}" in err
    monkeypatch.setenv("ASSISTANT_ANSWER_UNSURE_BELOW", "1.5")
    with pytest.raises(ValueError, match="ASSISTANT_ANSWER_UNSURE_BELOW=1.5: expected a probability from 0 to 1"):
        Settings.from_env()


def test_abstain_threshold_from_the_environment(monkeypatch):
    from assistant.config import Settings

    assert Settings.from_env().abstain_threshold is None
    monkeypatch.setenv("ASSISTANT_ABSTAIN_THRESHOLD", "0.25")
    assert Settings.from_env().abstain_threshold == 0.25
    monkeypatch.setenv("ASSISTANT_ABSTAIN_THRESHOLD", "high")
    with pytest.raises(ValueError, match="ASSISTANT_ABSTAIN_THRESHOLD"):
        Settings.from_env()


def test_a_long_question_is_read_by_its_last_tokens_instead_of_failing(museum_index, settings, embedder):
    from assistant.answer.model import MAX_TOKENS, QUESTION_TOKENS

    model = answer_model.load()
    short = "How many paintings does the museum hold?"
    assert model.clipped(short) == short
    preamble = "I visited the town last spring with my family and we walked along the river for hours. " * 12
    long_question = preamble + short
    assert len(model._question_tokens.encode(long_question, add_special_tokens=False).ids) > MAX_TOKENS  # longer than a whole pair
    kept = model.clipped(long_question)
    assert kept.endswith(short) and long_question.endswith(kept)
    assert len(model._question_tokens.encode(kept, add_special_tokens=False).ids) == QUESTION_TOKENS
    assert model.scores(long_question, ["It holds 3,000 paintings."]).shape == (1,)  # was a tokenizer error
    answer = ask(long_question, index_dir=museum_index, settings=settings, embedder=embedder)
    assert answer.abstained or answer.citations


def test_markup_around_a_question_does_not_change_the_answer(museum_index, settings, embedder):
    plain = "How many paintings does the museum hold?"
    assert plain_question(f"<script>alert('x')</script> {plain}") == plain
    assert plain_question(f"<b>{plain}</b>") == plain
    assert plain_question("Is 3 < 4 and 5 > 2?") == "Is 3 < 4 and 5 > 2?"  # comparison signs are not markup
    marked = ask(f"<script>document.location='x'</script> <i>{plain}</i>", index_dir=museum_index, settings=settings, embedder=embedder)
    alone = ask(plain, index_dir=museum_index, settings=settings, embedder=embedder)
    assert marked.text == alone.text and not marked.abstained
    core = plain.rstrip("?")
    for pasted in (f"**{core}**?", f"`{plain}`", f"> {plain}", f"- {plain}", f"# {plain}", f"{core}???!", f"“{plain}”",
                   f'"{plain}"', f"How many *paintings* does the museum hold?"):
        assert plain_question(pasted) == plain, pasted  # Markdown and symbols around the words (a bold question was refused)
        again = ask(pasted, index_dir=museum_index, settings=settings, embedder=embedder)
        assert (again.text, again.confidence) == (alone.text, alone.confidence)
    assert plain_question("Who did that!?") == "Who did that?"  # a run of marks keeps its question mark
    # without its mark a question is read as one ("…hold" and "…hold?" had been given different answers)
    assert plain_question(core) == plain and plain_question("Tell me the 3 facts!") == "Tell me the 3 facts!"
    bare = ask(core, index_dir=museum_index, settings=settings, embedder=embedder)
    assert (bare.text, bare.confidence) == (alone.text, alone.confidence)
    # a Markdown link reads as its text ("Who is [Ken Hu](javascript:alert(1))?" was refused)
    assert plain_question("What does [the law](http://x) say?") == "What does the law say?"
    assert plain_question("Who is [Ken Hu](javascript:alert(1))?") == "Who is Ken Hu?"
    for linked in ('Who is [Ken Hu](javascript:alert(1) "title")?', 'Who is [Ken Hu](https://example.com/ken "title")?',
                   "Who is [Ken Hu](javascript:alert((1)))?", "Who is ![Ken Hu](javascript:alert(1))?"):
        assert plain_question(linked) == "Who is Ken Hu?", linked
    assert plain_question("What does arr[i](x) return?") == "What does arr[i](x) return?"  # an index, then a call: not a link
    assert plain_question("Is [x](y unclosed?") == "Is [x](y unclosed?"
    linked = ask("How many [paintings](https://example.org/p) does the museum hold?", index_dir=museum_index, settings=settings, embedder=embedder)
    assert (linked.text, linked.confidence) == (alone.text, alone.confidence)
    # full-width and styled letters read as plain ones (the embedder and the model had read them as unknown tokens)
    for styled in ("Ｈｏｗ　ｍａｎｙ　ｐａｉｎｔｉｎｇｓ　ｄｏｅｓ　ｔｈｅ　ｍｕｓｅｕｍ　ｈｏｌｄ？", "How many 𝐩𝐚𝐢𝐧𝐭𝐢𝐧𝐠𝐬 does the museum hold?"):
        assert plain_question(styled) == plain, styled
        again = ask(styled, index_dir=museum_index, settings=settings, embedder=embedder)
        assert (again.text, again.confidence) == (alone.text, alone.confidence)
    assert plain_question(f"\x1b[1;31m{plain}\x1b[0m") == plain  # a coloured prompt's codes (refused, where plain was answered)
    for kept in ("What is 5*3*4?", "Who wrote snake_case?", "What is [x](y z)?", "1. Who is Ken?",
                 "“Trust” is what?", "What is C++?", "Was it 5 > 3?", "What is the ?? operator?"):
        assert plain_question(kept) == kept  # no words dropped or joined: the question stays as typed


def test_words_said_again_and_again_are_read_once(museum_index, settings, embedder):
    # "a" a hundred times had been answered with confidence 0.83 (on the article), where "a" is refused
    assert plain_question("a " * 100) == "a?" and plain_question("x y z " * 40) == "x y z?"
    for asked in ("Is it very very good?", "Is the PIN 1 1 1 1?", "What does the song 'Yeah Yeah Yeah' say?", "Does it go A, A, A, B?"):
        assert plain_question(asked) == asked  # a few times is how people talk and what they ask about
    plain = "How many paintings does the museum hold?"
    assert plain_question(plain.replace("many", "many many many many many")) == plain
    for nonsense in ("a " * 100, "he she it they " * 10):
        assert ask(nonsense, index_dir=museum_index, settings=settings, embedder=embedder).abstained


def test_a_broken_model_is_one_line_from_ask_and_the_cli(museum_index, model_copy, settings, embedder, monkeypatch, capsys):
    (model_copy / "model.onnx").unlink()
    with pytest.raises(ModelError):
        ask("How many paintings?", index_dir=museum_index, settings=settings.replace(answer_model_dir=str(model_copy)), embedder=embedder)
    monkeypatch.setenv("ASSISTANT_ANSWER_MODEL_DIR", str(model_copy))
    assert cli.main(["--index-dir", str(museum_index), "ask", "How many paintings?"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and REBUILD in err


def test_a_question_stating_a_number_no_passage_states_is_refused_with_related_reading(museum_index, settings, embedder):
    question = "How many paintings did the museum hold in 2005?"  # the document states 1990 and 3,000, never 2005
    refused = ask(question, index_dir=museum_index, settings=settings, embedder=embedder)
    assert refused.abstained and refused.text == NO_ANSWER and refused.related
    assert refused.notice == "No passage found states 2005."  # said plainly: what the documents lack
    assert refused.closest and "3,000 paintings" in refused.closest[0].quote  # still the closest reading offered
    unchecked = ask(question, index_dir=museum_index, settings=settings.replace(answer_numbers=False), embedder=embedder)
    assert not unchecked.abstained and "3,000 paintings" in unchecked.text  # what the model alone would have said
    assert refused.confidence < unchecked.confidence * 0.2
    assert unchecked.notice == ""
    stated = ask("How many paintings did the museum hold in 1990?", index_dir=museum_index, settings=settings, embedder=embedder)
    assert not stated.abstained and "3,000 paintings" in stated.text and stated.notice == ""
    # a refusal for another reason names no number that a passage does state
    assert ask("Who won the 1990 football world cup?", index_dir=museum_index, settings=settings, embedder=embedder).notice == ""


def test_a_follow_up_or_a_part_stating_a_number_no_passage_states_is_refused_alone(museum_index, settings, embedder):
    follow = ask("And in 2005?", history=[("How many paintings does the museum hold?", "It holds 3,000 paintings [1]")],
                 index_dir=museum_index, settings=settings, embedder=embedder)
    assert follow.abstained and follow.notice == "No passage found states 2005."
    both = ask("When did the museum open, and how many paintings did it hold in 2005?", index_dir=museum_index, settings=settings, embedder=embedder)
    assert not both.abstained and "opened in 1990" in both.text and "3,000" not in both.text  # the part it answers, alone
    assert both.notice == "The documents do not say: “how many paintings did it hold in 2005?”"


def test_a_number_the_documents_opening_states_is_stated_for_all_its_passages(tmp_path, settings, embedder):
    corpus = tmp_path / "report"
    corpus.mkdir()
    (corpus / "report.txt").write_text(
        "Quellbrook Ferries: annual report 2031.\n\nThe year brought new routes and a new fleet.\n\n"
        "Passenger numbers rose by 14% to 2.3 million over the year, the highest the company has carried.\n", "utf-8")
    index_dir = tmp_path / "index"
    add_documents([corpus], index_dir=index_dir, settings=settings.replace(chunk_size=100, chunk_overlap=0), embedder=embedder)
    chosen = settings.replace(chunk_size=100, chunk_overlap=0)
    scoped = ask("By how much did passenger numbers rise in 2031?", index_dir=index_dir, settings=chosen, embedder=embedder)
    assert not scoped.abstained and "14%" in scoped.text  # 2031 is in the opening passage, not the one quoted
    assert "2031" not in scoped.citations[0].hit.text
    other = ask("By how much did passenger numbers rise in 2030?", index_dir=index_dir, settings=chosen, embedder=embedder)
    assert other.abstained and other.notice == "No passage found states 2030."
