"""Two-part questions made from the training data's dev split: does the answer hold both parts?

Two questions about one dev document whose answers lie in different sentences are joined as
one ("What did Q1 ask, and q2?"), the dev documents are indexed with the product's pipeline, and
`ask()` answers each joined question with the multi-part handling on and off
(`ASSISTANT_ANSWER_PARTS`, `assistant/answer/parts.py`). A joined question counts for "all
parts" when its answer holds a reference answer of each question, for "any part" when it holds
one. The two questions asked alone give the ceiling. Nothing here is fitted; the dev split is
the one train.py measures on (documents never trained on).

    python training/multipart.py                 # ~2 min on 2 cores (104 s measured, the index included)
    python training/multipart.py --pairs 40      # a quick look
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.answer.answering import ask  # noqa: E402
from assistant.answer.parts import question_parts  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.ingest.embeddings import make_embedder  # noqa: E402
from benchmarks.answers import holds  # noqa: E402
from training import dev_index  # noqa: E402
from training.pairs import TRAINDATA, TrainQuestion, questions  # noqa: E402


def joined(first: str, second: str) -> str:
    """Two questions asked as one: "First, and second?"."""
    return f"{first.strip().rstrip('?. ')}, and {second.strip()[:1].lower()}{second.strip()[1:]}"


def two_part(items: list[TrainQuestion], limit: int, seed: int = 0) -> list[tuple[TrainQuestion, TrainQuestion]]:
    """Up to `limit` pairs of questions on one document, at most one pair a document, whose
    answer sentences differ and neither of whose answers occurs in the other's sentences."""
    by_doc: dict[str, list[TrainQuestion]] = {}
    for q in items:
        by_doc.setdefault(q.positives[0].doc_id, []).append(q)
    rng = random.Random(seed)
    out = []
    for doc_id in sorted(by_doc):
        group = by_doc[doc_id][:]
        rng.shuffle(group)
        for i, a in enumerate(group):
            b = next((b for b in group[i + 1:] if _apart(a, b)), None)
            if b is not None:
                out.append((a, b))
                break
    rng.shuffle(out)
    return out[:limit]


def _apart(a: TrainQuestion, b: TrainQuestion) -> bool:
    spans_a = {(s.start, s.end) for s in a.positives}
    spans_b = {(s.start, s.end) for s in b.positives}
    if spans_a & spans_b:
        return False
    text_a = " ".join(s.text for s in a.positives).lower()
    text_b = " ".join(s.text for s in b.positives).lower()
    return not any(x.lower() in text_b for x in a.answers) and not any(x.lower() in text_a for x in b.answers)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--pairs", type=int, default=300, help="two-part questions to ask")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    items = questions(args.traindata, split="dev")
    pairs = two_part(items, args.pairs)
    settings = Settings.from_env()
    embedder = make_embedder(settings)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.workdir or Path(scratch)
        index_dir = dev_index.build(items, args.traindata, work, settings, embedder)
        results = {}
        for label, on in (("parts answered separately", True), ("whole question", False)):
            chosen = replace(settings, answer_parts=on)
            both = anyone = refused = split = 0
            for a, b in pairs:
                question = joined(a.question, b.question)
                split += on and len(question_parts(question)) > 1
                answer = ask(question, index_dir=index_dir, settings=chosen, embedder=embedder)
                refused += answer.abstained
                got_a, got_b = holds(answer.text, a.answers), holds(answer.text, b.answers)
                both += got_a and got_b
                anyone += got_a or got_b
            results[label] = {"all_parts": round(both / len(pairs), 4), "any_part": round(anyone / len(pairs), 4),
                              "refused": round(refused / len(pairs), 4)} | ({"split": round(split / len(pairs), 4)} if on else {})
        alone = [holds(ask(q.question, index_dir=index_dir, settings=settings, embedder=embedder).text, q.answers)
                 for pair in pairs for q in pair]
        results["each question alone"] = {"accuracy": round(sum(alone) / len(alone), 4)}
    print(json.dumps({"split": "dev (traindata, documents never trained on)", "two_part_questions": len(pairs),
                      "seconds": round(time.perf_counter() - began, 1), **results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
