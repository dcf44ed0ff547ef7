"""How well an overview stands for its document: the share of the document's crowd questions whose
answer lies in the sentences an overview quotes (`answer/overview.py`), on the training data's dev
split (SQuADShifts Amazon reviews and Reddit posts of more sentences than are quoted; no summaries
exist here, so the questions people asked of a document stand for what it says).

Compared in one run: the opening sentences (shipped: `overview.pick`), the sentences nearest the
mean of the document's sentence vectors, the same with maximal marginal relevance (0.3), and
sentences drawn at random (seed 0) from those an overview may quote.

    python benchmarks/overview.py                  # 3 sentences, every dev document
    python benchmarks/overview.py --sentences 1    # one sentence, as for each of several documents
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer import overview  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.ingest.embeddings import default_embedder  # noqa: E402
from assistant.ingest.sentences import BLANK_LINE, split_sentences  # noqa: E402
from benchmarks.answers import commit  # noqa: E402
from training.pairs import SETS, TRAINDATA, _read, split_of  # noqa: E402


def central(vectors: np.ndarray, pool: list[int], k: int, novelty: float) -> list[int]:
    """The `k` of `pool` nearest the mean vector, each next one also unlike those chosen (`novelty`)."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    centre = unit.mean(axis=0)
    relevance = unit @ (centre / max(float(np.linalg.norm(centre)), 1e-12))
    picked: list[int] = []
    left = list(pool)
    while left and len(picked) < k:
        def value(i: int) -> float:
            return (1 - novelty) * relevance[i] - novelty * max((float(unit[i] @ unit[j]) for j in picked), default=0.0)
        best = max(left, key=value)
        picked.append(best)
        left.remove(best)
    return sorted(picked)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=3, help="sentences an overview quotes (default 3)")
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    args = parser.parse_args(argv)
    if args.sentences < 1:
        parser.error(f"--sentences {args.sentences}: give 1 or more")
    if not all((args.traindata / name / "docs.jsonl").is_file() for name in SETS):
        parser.error(f"--traindata {args.traindata}: no SQuADShifts training data there")
    embedder = default_embedder(Settings.from_env())
    rng = random.Random(0)
    k = args.sentences
    print(f"overview coverage, dev split of {args.traindata} (training data), {k} sentence(s), commit {commit()}")
    for name in SETS:
        docs = {d["id"]: d for d in _read(args.traindata / name / "docs.jsonl")}
        asked: dict[str, list[list[dict]]] = {}
        for q in _read(args.traindata / name / "qa.jsonl"):
            if q.get("answer_spans"):
                asked.setdefault(q["answer_spans"][0]["doc_id"], []).append(q["answer_spans"])
        covered: dict[str, list[float]] = {}
        for doc_id in sorted(asked):
            doc = docs[doc_id]
            if split_of(f"{name}/{doc.get('group') if name.endswith('amazon') else doc_id}") != "dev":
                continue
            text = doc["text"]
            spans = split_sentences(text)
            if len(spans) <= k:
                continue
            texts = [text[s:e] for s, e in spans]
            paragraphs = [0]
            for (_, end), (start, _) in zip(spans, spans[1:]):
                paragraphs.append(paragraphs[-1] + bool(BLANK_LINE.search(text, end, start)))
            vectors = np.asarray(embedder.embed_documents(texts), np.float32)
            pool = [i for i, t in enumerate(texts) if not overview._passed_over(t, "", False)] or list(range(len(texts)))
            chosen = {
                "opening (shipped)": overview.pick(texts, k, paragraphs=paragraphs),
                "most central": central(vectors, pool, k, 0.0),
                "most central, MMR 0.3": central(vectors, pool, k, 0.3),
                "random": sorted(rng.sample(pool, min(k, len(pool)))),
            }
            for label, rows in chosen.items():
                hits = [any(spans[i][0] < sp["end"] and sp["start"] < spans[i][1] for i in rows for sp in q) for q in asked[doc_id]]
                covered.setdefault(label, []).append(sum(hits) / len(hits))
        for label, shares in covered.items():
            print(f"  {name:20s} {label:22s} {len(shares):4d} documents  coverage {np.mean(shares):.3f} "
                  f"± {np.std(shares) / np.sqrt(len(shares)):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
