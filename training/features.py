"""The design not shipped, measured on the same dev split: a model over frozen features.

    python training/features.py --questions 3000     # train questions per set; prints dev figures

Features of a (question, sentence) pair come from vectors the index already holds or could hold
(all-MiniLM-L6-v2, as indexed): the element-wise product and absolute difference of the question
and sentence vectors, the cosines of the question with the sentence and with the sentence before
it, the share of the question's stemmed words in the sentence, the sentence's length, whether it
holds a digit, and the question's wh-word. A gradient-boosted classifier (scikit-learn) is
trained on the same pairs as the cross-encoder (training/pairs.py) and scored with the same
`evaluate` as training/train.py on the same dev questions as the shipped cross-encoder alone
(design 1, `models/answer/`) and two baselines: the cosine alone and the word share alone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer.model import MODEL_DIR, AnswerModel, sentence_of  # noqa: E402
from assistant.search.lexical import tokenize  # noqa: E402
from benchmarks.retrieval import CachingEmbedder  # noqa: E402
from training.pairs import TRAINDATA, count_error, every_nth, pairs, questions  # noqa: E402
from training.train import evaluate  # noqa: E402

_WH = ("who", "when", "where", "why", "how many", "how much", "how", "which", "what")


def _parts(text: str) -> tuple[str, str]:
    sentence = sentence_of(text)
    return sentence, text[len(sentence):].removeprefix(" [SEP] ").lstrip("…")


class Featurizer:
    def __init__(self, embedder: CachingEmbedder):
        self.vectors = embedder.embed

    def __call__(self, question: str, texts: list[str]) -> np.ndarray:
        parts = [_parts(t) for t in texts]
        q = self.vectors([question])[0]
        s = self.vectors([p[0] for p in parts])
        prev = self.vectors([p[1] or p[0] for p in parts])
        q_tokens = set(tokenize(question))
        lowered = question.lower()
        wh = [float(lowered.startswith(w) or f" {w} " in lowered) for w in _WH]
        rows = []
        for (sentence, _), sv, pv in zip(parts, s, prev):
            share = len(q_tokens & set(tokenize(sentence))) / max(1, len(q_tokens))
            rows.append(np.concatenate([q * sv, np.abs(q - sv), [q @ sv, q @ pv, share, len(sentence) / 200,
                                        float(bool(re.search(r"\d", sentence)))], wh]))
        return np.array(rows, dtype=np.float32)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--dev-questions", type=int, default=1000)
    parser.add_argument("--false-refusal", type=float, default=0.05)
    args = parser.parse_args(argv)
    if error := count_error(("--questions", args.questions), ("--dev-questions", args.dev_questions)):
        print(error, file=sys.stderr)
        return 2
    from sklearn.ensemble import HistGradientBoostingClassifier

    began = time.time()
    featurize = Featurizer(CachingEmbedder())
    train_items = questions(args.traindata, "train", args.questions)
    dev_items = every_nth(questions(args.traindata, "dev"), args.dev_questions)
    data = pairs(train_items)
    by_question: dict[str, list[tuple[str, float]]] = {}
    for q, t, y in data:
        by_question.setdefault(q, []).append((t, y))
    x, y = [], []
    for q, rows in by_question.items():
        x.append(featurize(q, [t for t, _ in rows]))
        y.extend(label for _, label in rows)
    model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, random_state=0)
    model.fit(np.vstack(x), np.array(y))
    shipped = AnswerModel(MODEL_DIR, threads=2)
    results = {
        "design 1: shipped cross-encoder alone (logit)": evaluate(shipped.logits, dev_items, args.false_refusal),
        "design 2: frozen features + gradient boosting": evaluate(lambda q, ts: model.predict_proba(featurize(q, ts))[:, 1], dev_items, args.false_refusal),
        "cosine alone": evaluate(lambda q, ts: featurize(q, ts)[:, 768], dev_items, args.false_refusal),
        "word share alone": evaluate(lambda q, ts: featurize(q, ts)[:, 770], dev_items, args.false_refusal),
    }
    for name, figures in results.items():
        print(json.dumps({"split": "dev (traindata)", "design": name, "train_pairs": len(data)} | figures), flush=True)
    print(f"{time.time() - began:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
