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
