"""The whole answer path on the training data's dev split: retrieval, pre-filter, model, threshold.

`train.py` and `combine.py` measure the model on each question's own candidate sentences; this
asks the dev questions through `ask()` against an index of all dev documents (`dev_index.py`),
so retrieval among similar reviews and the pre-filter count too. Per question: answered
correctly (a reference answer in the text), refused, the share of its quotes on the question's
evidence (`quote_precision`); and once more with the question's own
document removed from the results (the other reviews of the product stay: an on-topic
unanswerable case), its answerability, for the refusal rate and the AUC. Compares answer models
(`--model`) and pre-filter sizes (`--candidates`) on data that is not the evaluation sets.

Where answers are lost: `retrieved` is the share of questions whose evidence is in a retrieved
passage, `kept` the share whose evidence is among the candidates the model reads, and
`accuracy_when_kept` the accuracy on those alone (what reading decides). Many questions of this
data were written for one review ("Where is the writer from?") and name nothing that finds it
among ~400 others, so `retrieved` caps the accuracy well below 1 whatever the model.

    python training/pipeline.py                          # ~2 min on 2 cores, the index built once
    python training/pipeline.py --candidates 8,6,4 --model models/answer
    python training/pipeline.py --slips                  # every question asked with typing slips (training/typos.py)

With several runs (models or sizes), each after the first also reports `versus_first`: its
accuracy and AUC minus the first's, with each difference's standard error from a paired bootstrap
over the questions (1,000 resamples), so a gap can be told from the questions drawn.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer import extractive, model as answer_model  # noqa: E402
from assistant.answer.answering import ask  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.ingest.embeddings import make_embedder  # noqa: E402
from assistant.search.retrieval import searcher_for  # noqa: E402
from benchmarks.answers import answerability_without, auc, holds  # noqa: E402
from benchmarks.compare import paired  # noqa: E402
from training import dev_index  # noqa: E402
from training.pairs import TRAINDATA, count_error, every_nth, low_overlap, questions  # noqa: E402


def measure(items, index_dir: Path, settings: Settings, embedder, earlier=None) -> tuple[dict, np.ndarray]:
    """The figures over all of `items`, and under `low_overlap` over the questions worded unlike
    their answer (`pairs.low_overlap`, the hard case for a reader): where those are lost; and the
    per-question table they come from (see `figures`). `earlier`: each question's earlier
    question in the conversation (`--after`; None: asked alone)."""
    model = answer_model.configured(settings)
    threshold = model.threshold_for(settings)
    searcher = searcher_for(index_dir, settings, embedder)
    rows = []  # per question: right, refused, retrieved, kept, confidence, held-out confidence, quotes, quotes on its evidence
    for q in items:
        history = [(earlier[q.id], "")] if earlier else None
        answer = ask(q.question, history, index_dir=index_dir, settings=settings, embedder=embedder)
        reached, read = evidence_reached(replace(q, question=searcher.spelled(q.question)), searcher, model, settings)  # as ask() reads it
        own = dev_index.file_name(q.positives[0].doc_id)
        held_out = answerability_without(q.question, lambda h: Path(h.source).name == own, searcher, model, settings)
        on_evidence = [Path(c.hit.source).name == own and any(c.quote_start < p.end and p.start < c.quote_end for p in q.positives)
                       for c in answer.citations]
        rows.append((not answer.abstained and holds(answer.text, q.answers), answer.abstained, reached, read, answer.confidence,
                     held_out, len(on_evidence), sum(on_evidence)))
    table = np.array(rows, dtype=np.float64).reshape(-1, 8)
    low = np.array([low_overlap(q) for q in items], dtype=bool)
    return figures(table, threshold) | {"threshold": round(threshold, 4), "low_overlap": figures(table[low], threshold)}, table


def versus(table: np.ndarray, first: np.ndarray, resamples: int = 1000, seed: int = 0) -> dict:
    """This run's accuracy and AUC minus the first run's, on the same questions, with the standard
    error of each difference from a paired bootstrap over the questions (`benchmarks.compare.paired`):
    whether a gap between two models is more than the questions drawn."""
    def accuracy(rows: np.ndarray) -> float:
        return float(rows[:, 0].mean())

    def auc_of(rows: np.ndarray) -> float:  # answered against held out, as `figures`
        return auc(np.r_[rows[:, 4], rows[:, 5]], np.r_[np.ones(len(rows)), np.zeros(len(rows))])

    (gap, gap_se), (auc_gap, auc_se) = (paired(f, first, table, resamples, seed) for f in (accuracy, auc_of))
    return {"accuracy": round(gap, 4), "accuracy_se": round(gap_se, 4), "auc": round(auc_gap, 4), "auc_se": round(auc_se, 4),
            "resamples": resamples}


def figures(table: np.ndarray, threshold: float) -> dict:
    """`measure`'s figures for some of its rows (only the count for none)."""
    if not len(table):
        return {"questions": 0}
    right, refused, retrieved, kept, pos, neg = table.T[:6]
    return {
        "questions": len(table),
        "accuracy": round(float(right.mean()), 4),
        "refused": round(float(refused.mean()), 4),
        "held_out_refused": round(float((neg < threshold).mean()), 4),
        "auc": round(auc(np.r_[pos, neg], np.r_[np.ones(len(pos)), np.zeros(len(neg))]), 4),
        "retrieved": round(float(retrieved.mean()), 4),
        "kept": round(float(kept.mean()), 4),
        "accuracy_when_kept": round(float(right[kept > 0].mean()), 4) if kept.any() else None,
    } | _quoted(table)


def _quoted(table: np.ndarray) -> dict:
    """The share of the answers' quotes (sentences) that overlap their question's evidence: an
    answer is right when one of its quotes holds a reference answer, however many others it joins
    (a sentence about another thing included); this counts what those others cost."""
    if table.shape[1] < 8 or not table[:, 6].sum():
        return {}
    return {"quote_precision": round(float(table[:, 7].sum() / table[:, 6].sum()), 4)}


def evidence_reached(q, searcher, model, settings: Settings) -> tuple[bool, bool]:
    """Whether `q`'s evidence is in a passage `ask()` retrieves for it, and among the candidates
    its pre-filter keeps for the model (the same search and pre-filter, without reading)."""
    vector = searcher.embed([q.question])
    hits = searcher.search_many([q.question], settings.answer_k, vectors=vector)[0]
    found = extractive.sentences(q.question, vector[0], hits, searcher, model.card.prefilter)
    marks = [dev_index.holds_evidence(q, c) for c in found]
    return any(marks), any(marks[: settings.answer_candidates])


def earlier_questions(items, kind: str) -> dict:
    """For `--after`: each question's earlier question (by question id). "other": the question
    half the split away whose review is of another product (its group); "same": the next other
    question on the same review, where there is one."""
    def group(q):
        return q.positives[0].doc_id.rsplit("#", 1)[0]

    earlier = {}
    if kind == "same":
        by_doc: dict = {}
        for q in items:
            by_doc.setdefault(q.positives[0].doc_id, []).append(q)
        for same in by_doc.values():
            for i, q in enumerate(same):
                if len(same) > 1:
                    earlier[q.id] = same[(i + 1) % len(same)].question
        return earlier
    n = len(items)
    for i, q in enumerate(items):
        for step in range(n // 2, n // 2 + n):
            other = items[(i + step) % n]
            if group(other) != group(q):
                earlier[q.id] = other.question
                break
    return earlier


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--model", type=Path, nargs="+", default=[answer_model.MODEL_DIR], help="answer model folders")
    parser.add_argument("--candidates", default="8", help="comma-separated pre-filter sizes")
    parser.add_argument("--questions", type=int, default=600, help="dev questions asked (every n-th)")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here")
    parser.add_argument("--after", choices=("other", "same"),
                        help="ask each question after an earlier one: another product's dev question (a change of topic), or "
                             "another question on the same review (a conversation about it; questions without one are left out)")
    parser.add_argument("--slips", action="store_true",
                        help="ask every question with the held-out typing slips of training/typos.py (seed 0): retrieval and reading both")
    args = parser.parse_args(argv)
    try:
        sizes = [int(x) for x in args.candidates.split(",")]
        if min(sizes) < 1:
            raise ValueError
    except ValueError:
        print(f"error: --candidates {args.candidates}: expected comma-separated whole numbers of 1 or more", file=sys.stderr)
        return 2
    if error := count_error(("--questions", args.questions)):
        print(error, file=sys.stderr)
        return 2
    settings = Settings.from_env()
    for model_dir in args.model:  # before the index is built, not after minutes of it; measure() reuses the load
        try:
            answer_model.configured(replace(settings, answer_model_dir=str(model_dir)))
        except answer_model.ModelError as err:
            print(f"error: --model {model_dir}: {err}", file=sys.stderr)
            return 2
    items = questions(args.traindata, split="dev")
    asked = every_nth(items, args.questions)
    if args.slips:
        import random

        from training.typos import HELD_OUT, typoed

        rng = random.Random(0)
        asked = [replace(q, question=typoed(q.question, HELD_OUT, rng)) for q in asked]
    earlier = None
    if args.after:
        earlier = earlier_questions(items, args.after)
        asked = [q for q in asked if q.id in earlier]
    embedder = make_embedder(settings)
    first = None  # the first run's table: every later run reports its differences from it
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = dev_index.build(items, args.traindata, args.workdir or Path(scratch), settings, embedder)
        for model_dir in args.model:
            for size in sizes:
                began = time.perf_counter()
                chosen = replace(settings, answer_model_dir=str(model_dir), answer_candidates=size)
                found, table = measure(asked, index_dir, chosen, embedder, earlier)
                row = {"split": "dev (traindata, documents never trained on)", "model": str(model_dir), "candidates": size,
                       "slips": args.slips, "after": args.after} | found
                if first is None:
                    first = table
                else:
                    row["versus_first"] = versus(table, first)
                print(json.dumps(row | {"seconds": round(time.perf_counter() - began, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
