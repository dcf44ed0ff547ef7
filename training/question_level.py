"""A design tried and not built: answerability from the whole set of scored candidates.

The product takes a question's answerability to be its best candidate's probability. Could the
rest of the set say more (a best sentence that stands out from the second, the highest cosine of
any candidate, the best one's raw logit and word share)? A logistic regression over those
features is fitted on the half of the traindata dev split that `combine.py` fits on and measured
on the other half, against the best probability alone. Each question is read as in
`train.evaluate`: answerable = its own review's sentences plus the near-topic ones,
unanswerable = the same without the answer sentences; both cut to the 8 the pre-filter keeps.

    python training/question_level.py            # ~3 min on 2 cores; prints the AUC per feature set

Measured (commit 434683c, model 1a, dev): best probability 0.872; with the gap 0.871; with the
highest cosine 0.872; all five 0.873. Not built (the rule asked for +0.010).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer.prefilter import STOCK_LEXICAL  # noqa: E402
from assistant.answer.model import MODEL_DIR  # noqa: E402
from benchmarks.answers import auc  # noqa: E402
from training.combine import Signals, halves  # noqa: E402
from training.dev_check import model_at  # noqa: E402
from training.pairs import TRAINDATA, questions  # noqa: E402

FEATURES = ("best", "gap", "best_logit", "max_cosine", "best_share")
CANDIDATES = 8


def features(signals: np.ndarray, weights: np.ndarray, bias: float) -> list[float]:
    """`signals`: (logit, cosine, share) rows of a question's candidates; the set's features in
    FEATURES order, after the pre-filter's cut (z = the combined logit)."""
    kept = signals[np.argsort(-(signals[:, 1] + STOCK_LEXICAL * signals[:, 2]), kind="stable")[:CANDIDATES]]
    z = kept @ weights + bias
    order = np.argsort(-z)
    second = z[order[1]] if len(z) > 1 else z[order[0]] - 5.0
    return [z[order[0]], z[order[0]] - second, kept[order[0], 0], kept[:, 1].max(), kept[order[0], 2]]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if (model := model_at(args.model)) is None:
        return 2
    combiner = model.card.combiner
    if combiner is None:
        print(f"error: --model {args.model}: its card has no combiner; fit one with training/combine.py first", file=sys.stderr)
        return 2
    weights = np.array([combiner.weights[n] for n in combiner.SIGNALS])
    signals = Signals(model, args.traindata)
    dev = questions(args.traindata, "dev", seed=args.seed)
    fit_half = set(halves(len(dev), args.seed)[0])  # the half combine.py fits on
    x, y, fitted = [], [], []
    for i, q in enumerate(dev):
        rows = signals(q.question, [s.text for s in q.positives + q.negatives + q.near])
        sets = [(rows, 1)] + ([(rows[len(q.positives):], 0)] if len(rows) > len(q.positives) + 1 else [])
        for candidate_set, label in sets:
            x.append(features(candidate_set, weights, combiner.bias))
            y.append(label)
            fitted.append(i in fit_half)
    x, y, fitted = np.array(x), np.array(y), np.array(fitted)
    out = {"split": "dev (traindata): fitted on combine.py's half, measured on the other", "questions": len(dev),
           "best probability alone": round(auc(x[~fitted, 0], y[~fitted]), 4)}
    for columns in ([0, 1], [0, 3], [0, 1, 3], list(range(len(FEATURES)))):
        scaler = StandardScaler().fit(x[fitted][:, columns])
        regression = LogisticRegression().fit(scaler.transform(x[fitted][:, columns]), y[fitted])
        score = regression.decision_function(scaler.transform(x[~fitted][:, columns]))
        out[" + ".join(FEATURES[c] for c in columns)] = round(auc(score, y[~fitted]), 4)
    print(json.dumps(out, indent=1), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
