"""How firmly do the seen article questions pin the abstention threshold?

    python training/threshold_spread.py      # ~1 min: the shipped model on the shipped article

Asks both article question files through ask() (abstention off), prints the lowest answerable
confidences, the unanswerable ones, and a bootstrap (2,000 resamples of the answerable questions)
of the threshold `training/combine.py` would pick: the highest refusing at most 5% of them.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answer.answering import ask  # noqa: E402
from assistant.config import PROJECT_DIR, Settings  # noqa: E402
from assistant.ingest.indexing import rebuild_index  # noqa: E402
from training.combine import SEEN_QUESTIONS  # noqa: E402


def main(false_refusal: float = 0.05, resamples: int = 2000) -> int:
    items = [json.loads(line) for f in SEEN_QUESTIONS for line in f.read_text("utf-8").splitlines() if line.strip()]
    settings = Settings.from_env(abstain_threshold=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        rebuild_index([str(PROJECT_DIR / "documents")], Path(tmp) / "index", settings=settings)
        scored = [(ask(q["question"], index_dir=Path(tmp) / "index", settings=settings).confidence, q["answerable"]) for q in items]
    pos = np.sort([c for c, a in scored if a])
    neg = np.sort([c for c, a in scored if not a])
    rng = np.random.default_rng(0)
    picks = [np.sort(rng.choice(pos, len(pos)))[int(false_refusal * len(pos))] for _ in range(resamples)]
    print(json.dumps({
        "split": "seen (article questions)", "answerable": len(pos), "unanswerable": len(neg),
        "lowest_answerable": [round(float(c), 3) for c in pos[:6]],
        "unanswerable_confidences": [round(float(c), 3) for c in neg],
        "threshold_bootstrap_5_50_95": [round(float(v), 3) for v in np.percentile(picks, [5, 50, 95])],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
