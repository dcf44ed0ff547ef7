"""Does an earlier question in front of a question change what the answer model picks?

    python training/prefixed.py            # 300 traindata dev questions, ~1-2 min on 2 cores

For dev questions whose document has another question, scores the question's own sentences (and
the near-topic ones) three ways: the question alone; another question of the same document in
front of it (what a follow-up's search query looks like); the larger of the two per sentence.
Prints best-sentence accuracy and answerability AUC for each (training/train.py's `evaluate`).
Why `ask()` gives the answer model the question as asked and the earlier turn only to retrieval.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answer.model import MODEL_DIR  # noqa: E402
from training.dev_check import model_at  # noqa: E402
from training.pairs import TRAINDATA, questions  # noqa: E402
from training.train import evaluate  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if (model := model_at(args.model, threads=1)) is None:  # before the data is read
        return 2
    items = questions(args.traindata, split="dev")
    by_doc = collections.defaultdict(list)
    for q in items:
        by_doc[q.positives[0].doc_id].append(q)
    rng = random.Random(args.seed)
    chosen = [q for q in items if len(by_doc[q.positives[0].doc_id]) > 1]
    rng.shuffle(chosen)
    chosen = chosen[: args.questions]
    earlier = {q.question: rng.choice([o for o in by_doc[q.positives[0].doc_id] if o.id != q.id]).question for q in chosen}
    cache: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    def scores(question: str, texts: list[str]) -> np.ndarray:  # each pair is scored once
        key = (question, tuple(texts))
        if key not in cache:
            cache[key] = model.scores(question, texts)
        return cache[key]

    readings = {
        "alone": lambda q, texts: scores(q, texts),
        "earlier question in front": lambda q, texts: scores(f"{earlier[q]} {q}", texts),
        "larger of the two": lambda q, texts: np.maximum(scores(q, texts), scores(f"{earlier[q]} {q}", texts)),
    }
    for name, scorer in readings.items():
        print(json.dumps({"split": "dev (traindata)", "reading": name} | evaluate(scorer, chosen, 0.05)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
