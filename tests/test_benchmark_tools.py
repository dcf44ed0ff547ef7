"""The statistics the answer benchmark reports: the abstention fit and the ranking AUC."""

from __future__ import annotations

import numpy as np

from benchmarks.answers import auc, fit


def test_auc_counts_pairs_ranked_right_and_ties_as_half():
    labels = np.array([1, 1, 0, 0])
    assert auc(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 1.0
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 0.0
    assert auc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5
    assert auc(np.array([0.9, 0.3, 0.5, 0.1]), labels) == 0.75
    assert np.isnan(auc(np.array([0.9, 0.8]), np.array([1, 1])))


def test_fit_learns_the_direction_and_balances_the_classes():
    rng = np.random.default_rng(0)
    # 300 answerable around (1, 0), 30 unanswerable around (-1, 0); the second feature is noise.
    pos = rng.normal([1.0, 0.0], 0.5, size=(300, 2))
    neg = rng.normal([-1.0, 0.0], 0.5, size=(30, 2))
    samples = [(tuple(x), 1) for x in pos] + [(tuple(x), 0) for x in neg]
    w, b = fit(samples)
    assert w[0] > 1.0 and abs(w[1]) < 0.5 * w[0]
    # Class balance: despite 10:1, the boundary stays near the midpoint between the classes.
    assert abs(-b / w[0]) < 0.3
