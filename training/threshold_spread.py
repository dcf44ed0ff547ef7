"""How firmly do the seen article questions pin the abstention threshold?

    python training/threshold_spread.py                # ~1 min: the shipped model on the shipped article
    python training/threshold_spread.py --model DIR    # another answer model folder

Asks the seen article question files (training.combine.SEEN_QUESTIONS) through ask() (abstention
off), prints the lowest answerable confidences, the unanswerable ones, and a bootstrap (2,000
resamples of the answerable questions) of the threshold `training/combine.py` would pick (its
`rule_threshold`: the highest refusing at most 5% of them).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answer.model import MODEL_DIR  # noqa: E402
from training.combine import SEEN_QUESTIONS, rule_threshold, seen_confidences  # noqa: E402
from training.dev_check import model_at  # noqa: E402


def main(argv=None, false_refusal: float = 0.05, resamples: int = 2000) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    if model_at(args.model) is None:  # checked before the minute of asking
        return 2
    scored = seen_confidences(args.model, SEEN_QUESTIONS)
    pos = np.sort([c for c, a in scored if a])
    neg = np.sort([c for c, a in scored if not a])
    rng = np.random.default_rng(0)
    picks = [rule_threshold(rng.choice(pos, len(pos)), false_refusal) for _ in range(resamples)]
    print(json.dumps({
        "split": "seen (article questions)", "answerable": len(pos), "unanswerable": len(neg),
        "lowest_answerable": [round(float(c), 3) for c in pos[:6]],
        "unanswerable_confidences": [round(float(c), 3) for c in neg],
        "threshold_bootstrap_5_50_95": [round(float(v), 3) for v in np.percentile(picks, [5, 50, 95])],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
