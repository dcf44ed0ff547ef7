"""The statistics the benchmarks and the training report: ranking AUC and the dev-split threshold."""

from __future__ import annotations

import numpy as np

from benchmarks.answers import auc
from training.pairs import Sentence, TrainQuestion
from training.train import evaluate


def test_auc_counts_pairs_ranked_right_and_ties_as_half():
    labels = np.array([1, 1, 0, 0])
    assert auc(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 1.0
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 0.0
    assert auc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5
    assert auc(np.array([0.9, 0.3, 0.5, 0.1]), labels) == 0.75
    assert np.isnan(auc(np.array([0.9, 0.8]), np.array([1, 1])))


def _question(i: int) -> TrainQuestion:
    def s(text):
        return Sentence(f"d{i}", 0, len(text), text)

    return TrainQuestion(f"q{i}", f"q{i}", ("x",), (s(f"answer {i}"),), (s(f"other {i}"), s(f"more {i}")), (s(f"near {i}"),))


def test_evaluate_picks_the_threshold_for_the_stated_false_refusal_rate():
    items = [_question(i) for i in range(100)]

    def scorer(question, texts):
        i = int(question[1:])
        # Answer sentences score 0.5..0.99 by question; everything else 0.3, except in the last
        # ten questions, where an on-topic sentence outscores the answer.
        own = 0.5 + 0.49 * i / 99
        return np.array([own if t.startswith("answer") else (0.995 if i >= 90 and t.startswith("other") else 0.3) for t in texts])

    figures = evaluate(scorer, items, false_refusal=0.05)
    assert figures["questions"] == 100
    assert figures["top1_sentence"] == 0.9
    assert abs(figures["false_refusal"] - 0.05) <= 0.011
    # Unanswerable: the best of the answer-free sentences; 0.3 for 90 questions, refused.
    assert figures["unanswerable_refused"] == 0.9
    assert 0.5 < figures["threshold"] < 0.6


def test_the_followup_set_is_well_formed():
    """Every follow-up names an earlier question and a stand-alone wording; answerable rows give
    evidence holding an answer (at its offsets in the xquad_en document, where the evaluation
    data is present); unanswerable rows give neither answers nor evidence; ids are unique."""
    import json
    from pathlib import Path

    from benchmarks.answers import FOLLOWUP_QUESTIONS
    from benchmarks.evaldata import EVALDATA

    rows = [json.loads(line) for line in FOLLOWUP_QUESTIONS.read_text("utf-8").splitlines()]
    docs = {}
    if (Path(EVALDATA) / "xquad_en" / "docs.jsonl").is_file():
        for line in (Path(EVALDATA) / "xquad_en" / "docs.jsonl").read_text("utf-8").splitlines():
            doc = json.loads(line)
            docs[doc["id"]] = doc["text"]
    assert len(rows) >= 60 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["history"] and all(h.strip() for h in row["history"]), row["id"]
        assert row["standalone"].strip() and row["question"].strip(), row["id"]
        if row["kind"] != "switch":
            assert row["standalone"] != row["question"], row["id"]
        if not row["answerable"]:
            assert row["answers"] == [] and row["evidence"] == [], row["id"]
            continue
        evidence = row["evidence"][0]
        assert any(a in evidence["text"] for a in row["answers"]), row["id"]
        if docs:
            assert docs[evidence["doc_id"]][evidence["start"]:evidence["end"]] == evidence["text"], row["id"]


def test_the_speed_benchmark_refuses_an_unknown_option_instead_of_running_everything(capsys):
    import pytest

    from benchmarks import speed

    with pytest.raises(SystemExit) as stop:
        speed.main(["--latency_only"])  # a typo used to run the minutes-long indexing comparison
    assert stop.value.code == 2
    assert "unrecognized arguments: --latency_only" in capsys.readouterr().err
