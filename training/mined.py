"""Training groups mined through the product's own path: what the answer model really reads.

`pairs.py` gives the model a question's own review sentences and reviews of the same product. In
the product it reads something else: the sentences the pre-filter keeps from the passages that
retrieval found among all documents. This indexes every train document (as `dev_index.py` does the
dev split), asks train questions through retrieval and the pre-filter, and writes each question's
kept candidates as one listwise group (a candidate is positive when it overlaps the question's own
evidence; a group whose candidates miss it is answer-free, which is what the product should then
say), and once more with the question's own document removed from the results (an on-topic group
without the answer). The groups are added to a pairs file of `train.py --save-pairs`; train on the
result with `train.py --pairs FILE --null`. Only the train split is read.

    python training/train.py --null --max-pairs 10000 --unanswerable-groups 1500 --save-pairs /tmp/base.jsonl.gz
    python training/mined.py --questions 800 --base /tmp/base.jsonl.gz --out /tmp/mined.jsonl.gz   # ~2 min, ~70 s of it indexing
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.answer import extractive  # noqa: E402
from assistant.answer.model import Card, sha256  # noqa: E402
from assistant.answer.prefilter import Prefilter  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.ingest.embeddings import make_embedder  # noqa: E402
from assistant.search.retrieval import Searcher, searcher_for  # noqa: E402
from benchmarks.answers import hits_without  # noqa: E402
from training import dev_index  # noqa: E402
from training.pairs import TRAINDATA, TrainQuestion, questions, read_pairs, write_pairs  # noqa: E402
from training.train import commit  # noqa: E402


def candidate_pairs(q: TrainQuestion, searcher: Searcher, settings: Settings, without_own: bool,
                    ranker: Prefilter | None = None) -> list[tuple[str, str, float]]:
    """(question, pair text, label) for the candidates the product would read for `q` (`ranker`:
    the answer model's pre-filter); with `without_own`, the question's own document is dropped
    from the results first."""
    own = dev_index.file_name(q.positives[0].doc_id)
    vector, hits = hits_without(q.question, lambda h: without_own and Path(h.source).name == own, searcher, settings)
    kept = extractive.sentences(q.question, vector, hits, searcher, ranker)[: settings.answer_candidates]
    labels = [dev_index.holds_evidence(q, c) for c in kept]
    return [(q.question, text, 1.0 if answers else 0.0) for text, answers in zip(extractive.pair_texts(kept, searcher), labels)]


def mined_groups(items: list[TrainQuestion], count: int, searcher: Searcher, settings: Settings, seed: int = 0) -> list[tuple]:
    """Listwise pairs (question, text, label, group) of `count` questions of `items`: each
    question's candidates as read, then its candidates without its own document."""
    chosen = random.Random(seed).sample(items, min(count, len(items)))
    ranker = Card.read(Path(settings.answer_model_dir)).prefilter
    out = []
    for q in chosen:
        for tag, without_own in (("mined", False), ("mined-free", True)):
            out.extend((*pair, f"{tag}:{q.id}") for pair in candidate_pairs(q, searcher, settings, without_own, ranker))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--questions", type=int, default=800, help="train questions mined (each gives two groups)")
    parser.add_argument("--base", type=Path, required=True, help="a pairs file of train.py --save-pairs to add the groups to")
    parser.add_argument("--out", type=Path, required=True, help="the pairs file to write (gzipped JSON lines)")
    parser.add_argument("--workdir", type=Path, help="keep the train documents and their index here")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.questions < 1:
        print(f"error: --questions {args.questions}: must be 1 or more", file=sys.stderr)
        return 2
    if args.out.resolve() == args.base.resolve():
        print(f"error: --out {args.out}: would overwrite --base; name another file", file=sys.stderr)
        return 2
    try:
        header, base = read_pairs(args.base)
    except ValueError as err:
        print(f"error: --base {err}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    settings = Settings.from_env()
    embedder = make_embedder(settings)
    items = questions(args.traindata, split="train")
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = dev_index.build(items, args.traindata, args.workdir or Path(scratch), settings, embedder)
        groups = mined_groups(items, args.questions, searcher_for(index_dir, settings, embedder), settings, args.seed)
    command = "python training/mined.py " + " ".join(sys.argv[1:] if argv is None else argv)
    mined = {"questions": args.questions, "seed": args.seed, "pairs": len(groups), "positives": int(sum(p[2] for p in groups)),
             "base": {"sha256": sha256(args.base)} | {k: v for k, v in header.items() if k != "pairs_file"}}
    write_pairs(args.out, base + groups, {"recipe": header.get("recipe", {}), "mined": mined, "pairs": len(base) + len(groups),
                                          "command": command, "commit": commit()})
    print(f"{args.out}: {len(base)} pairs of --base and {len(groups)} mined ({mined['positives']} positive) "
          f"in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
