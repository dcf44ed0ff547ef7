"""Two runs on the same questions, question by question: is the gap more than the questions drawn?

    python benchmarks/answers.py --rows /tmp/a.jsonl                                  # model A
    ASSISTANT_ANSWER_MODEL_DIR=DIR python benchmarks/answers.py --rows /tmp/b.jsonl   # model B
    python benchmarks/compare.py /tmp/a.jsonl /tmp/b.jsonl

For every set both files hold, B's figure minus A's (accuracy, answerable and unanswerable
questions refused, answerability AUC) with the standard error of the difference from a paired
bootstrap: the set's questions are drawn again with replacement (1,000 times), each drawn
question keeping both runs' outcomes, so what the two runs share cancels. A set whose questions
differ between the files is refused in one line. `training/pipeline.py` compares its dev-split
runs the same way (`paired`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

import numpy as np

FIGURES = ("accuracy", "answerable_refused", "unanswerable_refused", "answerability_auc")


def paired(statistic: Callable[[np.ndarray], float], a: np.ndarray, b: np.ndarray, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """`statistic(b) - statistic(a)` and its paired-bootstrap standard error: `a` and `b` hold one
    row per question, in the same order; each resample draws the same questions from both."""
    if len(a) != len(b):
        raise ValueError(f"paired runs need the same questions ({len(a)} against {len(b)})")
    gap = statistic(b) - statistic(a)
    if np.isnan(gap):  # a figure the set cannot have (no unanswerable question, say)
        return gap, float("nan")
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        pick = rng.integers(0, len(a), len(a))
        draws.append(statistic(b[pick]) - statistic(a[pick]))
    return gap, float(np.nanstd(draws))


def _figure(name: str) -> Callable[[np.ndarray], float]:
    """A set's figure from its rows (columns: answerable, right, refused, confidence)."""
    from sklearn.metrics import roc_auc_score

    def figure(rows: np.ndarray) -> float:
        answerable = rows[:, 0] > 0
        if name == "accuracy":
            return float(rows[answerable, 1].mean()) if answerable.any() else float("nan")
        if name == "answerable_refused":
            return float(rows[answerable, 2].mean()) if answerable.any() else float("nan")
        if name == "unanswerable_refused":
            return float(rows[~answerable, 2].mean()) if (~answerable).any() else float("nan")
        if answerable.all() or not answerable.any():
            return float("nan")
        return float(roc_auc_score(answerable, rows[:, 3]))

    return figure


def read_rows(path: Path) -> dict[str, list[dict]]:
    """The rows of an `answers.py --rows` file, by set, in order."""
    sets: dict[str, list[dict]] = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            sets.setdefault(row["set"], []).append(row)
    return sets


def compare(a: dict[str, list[dict]], b: dict[str, list[dict]], resamples: int = 1000) -> list[dict]:
    """Per set both runs hold: each figure's difference (b - a) and its standard error."""
    out = []
    for name in [s for s in a if s in b]:
        if [r["question"] for r in a[name]] != [r["question"] for r in b[name]]:
            raise ValueError(f"set {name}: the two runs asked different questions")
        table_a, table_b = (np.array([[r["answerable"], r["right"], r["refused"], r["confidence"]] for r in rows], dtype=float)
                            for rows in (a[name], b[name]))
        row = {"set": name, "questions": len(table_a), "resamples": resamples}
        for figure in FIGURES:
            gap, error = paired(_figure(figure), table_a, table_b, resamples)
            if not np.isnan(gap):
                row[figure] = round(float(gap), 4)
                row[f"{figure}_se"] = round(error, 4)
        out.append(row)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path, help="rows of the first run (answers.py --rows)")
    parser.add_argument("b", type=Path, help="rows of the second run, compared with the first")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.resamples < 1:
        print(f"error: --resamples {args.resamples}: must be 1 or more", file=sys.stderr)
        return 2
    runs = []
    for path in (args.a, args.b):
        try:
            runs.append(read_rows(path))
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(f"error: {path}: not rows of answers.py --rows ({type(err).__name__}: {(str(err).splitlines() or [''])[0]})", file=sys.stderr)
            return 2
    a, b = runs
    try:
        rows = compare(a, b, args.resamples)
    except (ValueError, KeyError) as err:
        print(f"error: {args.a} against {args.b}: {err}", file=sys.stderr)
        return 2
    if not rows:
        print(f"error: {args.a} and {args.b} share no set", file=sys.stderr)
        return 2
    for row in rows:
        print(json.dumps({"b_minus_a": f"{args.b} - {args.a}"} | row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
