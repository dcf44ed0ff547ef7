"""The training data's dev split as the product sees a corpus: its documents as files, indexed.

Studies that must include retrieval and the pre-filter (`multipart.py`, `pipeline.py`) ask their
questions through `ask()` against this index. The dev split holds documents never trained on
(`pairs.split_of`); nothing from ../shared/evaldata is read.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.ingest.indexing import rebuild_index
from training.pairs import SETS, TrainQuestion, _read


def file_name(doc_id: str) -> str:
    """The file a dev document is written to (hits name it as their source)."""
    return re.sub(r"[^\w\-.]+", "_", doc_id) + ".txt"


def holds_evidence(q: TrainQuestion, candidate) -> bool:
    """Whether a retrieved candidate sentence (an `extractive.Candidate`) overlaps `q`'s evidence
    in its own document: the label of training on, and measuring, what the product reads."""
    own = file_name(q.positives[0].doc_id)
    return Path(candidate.hit.source).name == own and any(candidate.start < p.end and p.start < candidate.end for p in q.positives)


def build(items: list[TrainQuestion], traindata: Path, work: Path, settings, embedder) -> Path:
    """Writes the documents of `items` under `work/docs` and indexes them (incrementally) into
    `work/index`; returns the index folder."""
    folder = work / "docs"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {q.positives[0].doc_id for q in items}
    for name in SETS:
        for doc in _read(traindata / name / "docs.jsonl"):
            if doc["id"] in wanted:
                path = folder / file_name(doc["id"])
                if not path.exists():
                    path.write_text(doc["text"], "utf-8")
    index_dir = work / "index"
    rebuild_index([str(folder)], index_dir, settings=settings, embedder=embedder)
    return index_dir
