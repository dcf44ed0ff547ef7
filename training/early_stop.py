"""How far down the pre-filter does the answer model need to read? (`ASSISTANT_ANSWER_STOP`)

    python training/early_stop.py            # 1,000 traindata dev questions, ~3 min on 2 cores

For each dev question, its own document's sentences and the near-topic ones (as in
training/train.py's `evaluate`) are put in the order extractive.py's pre-filter gives them
(the stock pre-filter score, `prefilter.stock`, of combine.py's `Signals`), the first `--candidates` are kept,
and the model reads them in that order until one's probability (the card's combiner) reaches P.
For each P: best sentence of the own document, answerability AUC (answerable: the pool;
unanswerable: the same pool without the answer sentences, read the same way) and the sentences
read per question. P = 1 reads all: the baseline. Every pair is scored once; the int8 model scores
a pair the same alone or in company, so the figures are what ask() would do.
How 0.9 was picked (the grid values within 0.002 of reading all on both; of those, the one that
kept every seen article answer) and why the default still reads all (no faster on the article
with the shipped model): README, Training the answer model, "Where reading stops".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answer.prefilter import STOCK_LEXICAL  # noqa: E402
from assistant.answer.model import MODEL_DIR  # noqa: E402
from benchmarks.answers import auc  # noqa: E402
from training.combine import Signals  # noqa: E402
from training.dev_check import model_at  # noqa: E402
from training.pairs import TRAINDATA, questions  # noqa: E402

STOPS = (1.0, 0.5, 0.6, 0.7, 0.8, 0.9)


def read_until(order: list[int], probabilities: np.ndarray, stop: float) -> tuple[int | None, int]:
    """(the best candidate read, how many were read), reading `order` until one reaches `stop`
    (a stop of 1 or more reads them all)."""
    best = None
    for read, i in enumerate(order, 1):
        if best is None or probabilities[i] > probabilities[best]:
            best = i
        if stop < 1.0 and probabilities[best] >= stop:
            return best, read
    return best, len(order)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--questions", type=int, default=1000, help="dev questions (0: all)")
    parser.add_argument("--candidates", type=int, default=8, help="sentences the pre-filter keeps (ASSISTANT_ANSWER_CANDIDATES)")
    args = parser.parse_args(argv)
    if (model := model_at(args.model, threads=1)) is None:
        return 2
    if model.card.combiner is None:
        raise SystemExit(f"{args.model}: the card has no combiner; run `python training/combine.py` first")
    signals = Signals(model, args.traindata)
    items = questions(args.traindata, "dev")[: args.questions or None]
    results = {stop: {"top1": 0.0, "pos": [], "neg": [], "read": []} for stop in STOPS}
    for q in items:
        pool = list(q.positives) + list(q.negatives) + list(q.near)
        x = signals(q.question, [s.text for s in pool])
        probabilities = model.card.combiner.probabilities(x)
        order = [int(i) for i in np.argsort(-(x[:, 1] + STOCK_LEXICAL * x[:, 2]), kind="stable")]
        positives, own = len(q.positives), len(q.positives) + len(q.negatives)
        for stop, r in results.items():
            best, read = read_until([i for i in order if i < own][: args.candidates], probabilities, stop)
            r["top1"] += best < positives
            r["read"].append(read)
            best, _ = read_until(order[: args.candidates], probabilities, stop)
            r["pos"].append(probabilities[best])
            best, _ = read_until([i for i in order if i >= positives][: args.candidates], probabilities, stop)
            r["neg"].append(probabilities[best] if best is not None else 0.0)
    for stop, r in results.items():
        pos, neg = np.array(r["pos"]), np.array(r["neg"])
        print(json.dumps({"split": "dev (traindata)", "stop": stop, "questions": len(items),
                          "top1_sentence": round(r["top1"] / max(len(items), 1), 4),
                          "answerability_auc": round(auc(np.r_[pos, neg], np.r_[np.ones(len(pos)), np.zeros(len(neg))]), 4),
                          "sentences_read": round(float(np.mean(r["read"])), 2) if r["read"] else 0.0}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
