"""Shared by the benchmarks: the labelled sets in ../shared/evaldata, written out as document files.

Each evaluation document becomes a `.txt` file named after its title (as a user's files would be),
so the benchmark goes through the same loader, chunker and index as real use. `Corpus.doc_of`
maps a source back to the dataset's doc id, and `overlaps` tells whether a passage touches the
question's gold evidence.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

EVALDATA = Path(os.environ.get("EVALDATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "evaldata"))
SETS = {
    "xquad_en": ("xquad_en/docs.jsonl", "xquad_en/qa_sample.jsonl"),
    "clapnq_dev": ("clapnq_dev/docs.jsonl", "clapnq_dev/qa_split_dev.jsonl"),
}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[tuple[str, int, int], ...]  # (doc_id, start, end)
    answerable: bool
    history: tuple[str, ...] = ()  # earlier questions of the conversation, oldest first
    standalone: str = ""  # the question reworded to stand on its own (follow-up sets only)
    parts: tuple[tuple[str, ...], ...] = ()  # multi-part questions: each part's answers
    kind: str = ""  # the project's own sets: what kind of question (fact, trap, followup, ...), reported apart


@dataclass
class Corpus:
    name: str
    folder: Path
    doc_of: dict[str, str]  # source path -> doc id
    texts: dict[str, str]  # doc id -> text
    questions: list[Question]


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def materialise(name: str, folder: Path) -> Corpus:
    """Write the set's documents under `folder` and read its questions."""
    docs_file, qa_file = SETS[name]
    folder.mkdir(parents=True, exist_ok=True)
    doc_of, texts, used = {}, {}, set()
    for doc in _read_jsonl(EVALDATA / docs_file):
        stem = re.sub(r"[^\w\-,.() ]+", "_", doc.get("title") or doc["id"]).strip()[:100] or doc["id"]
        candidate, n = stem, 2
        while candidate.lower() in used:
            candidate, n = f"{stem} ({n})", n + 1
        used.add(candidate.lower())
        path = folder / f"{candidate}.txt"
        path.write_text(doc["text"], encoding="utf-8")
        doc_of[str(path)] = doc["id"]
        texts[doc["id"]] = doc["text"]
    return Corpus(name, folder, doc_of, texts, read_questions(EVALDATA / qa_file))


def read_questions(path: Path) -> list[Question]:
    """Questions in the evaldata format (see ../shared/evaldata/README.md)."""
    return [
        Question(
            id=q["id"],
            question=q["question"],
            answers=tuple(q.get("answers") or ()),
            evidence=tuple((e["doc_id"], e["start"], e["end"]) for e in q.get("evidence") or ()),
            answerable=bool(q.get("answerable", True)),
            history=tuple(q.get("history") or ()),
            standalone=q.get("standalone") or "",
            parts=tuple(tuple(p) for p in q.get("parts") or ()),
            kind=q.get("kind") or "",
        )
        for q in _read_jsonl(path)
    ]


def overlaps(corpus: Corpus, question: Question, source: str, start: int, end: int) -> bool:
    doc_id = corpus.doc_of.get(source)
    return any(d == doc_id and start < e and s < end for d, s, e in question.evidence)
