"""The three ways to run all-MiniLM-L6-v2, measured in one run on the same sentences.

For each encoder (`torch`: sentence-transformers; `onnx`: the ONNX Runtime export, fp32;
`onnx-int8`: the same, quantised per channel):

- indexing throughput: every sentence the pipeline embeds for the xquad_en and clapnq_dev
  documents (title in front, as indexed), sentences per second on all cores, after a warm-up;
- query latency: one question embedded on one thread, p50 over the answerable questions;
- retrieval quality (dev split): hit@1 and hit@5 of the default hybrid search and of dense alone,
  with an index built from that encoder's vectors;
- agreement: mean and minimum cosine between each encoder's sentence vectors and torch's.

    python benchmarks/encoders.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.ingest.chunking import chunk_document  # noqa: E402
from assistant.ingest.documents import load  # noqa: E402
from assistant.ingest.embeddings import ENCODERS, make_embedder  # noqa: E402
from assistant.ingest.indexing import collect, embedding_texts, sync  # noqa: E402
from assistant.search.retrieval import Searcher  # noqa: E402
from assistant.store import open_store  # noqa: E402
from benchmarks.evaldata import materialise  # noqa: E402
from benchmarks.retrieval import evaluate  # noqa: E402

SETS = ("xquad_en", "clapnq_dev")


class Remembering:
    """An encoder that answers from vectors it computed before (the timing pass), else computes."""

    def __init__(self, inner, known: dict[str, np.ndarray]):
        self.inner, self.known = inner, known
        self.model_name, self.dimension = inner.model_name, inner.dimension

    def embed(self, texts, progress=None, threads=None):
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:
            self.known.update(zip(missing, self.inner.embed(missing)))
        if progress:
            progress(len(texts))
        return np.stack([self.known[t] for t in texts]) if texts else np.empty((0, self.dimension), np.float32)

    def embed_queries(self, queries):
        return self.inner.embed_queries(list(queries))


def sentences_of(folder: Path, settings: Settings) -> list[str]:
    files, _, _ = collect([folder])
    chunks = [c for f in files for c in chunk_document(load(f), settings.chunk_size, settings.chunk_overlap)]
    return embedding_texts(chunks, settings.title_in_embedding)[1]


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout
        return out.stdout.strip() + ("+changes" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)  # no options: --help, or a usage error
    at = commit()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpora = {name: materialise(name, work / name) for name in SETS}
        base = Settings.from_env()
        texts = list(dict.fromkeys(t for c in corpora.values() for t in sentences_of(c.folder, base)))
        questions = [q.question for c in corpora.values() for q in c.questions if q.answerable]
        reference = None
        for encoder in ENCODERS[::-1]:  # torch first: the reference the others are compared with
            settings = base.replace(encoder=encoder)
            embedder = make_embedder(settings)
            embedder.embed(texts[:64])  # warm-up: load, first run
            began = time.perf_counter()
            vectors = embedder.embed(texts)
            seconds = time.perf_counter() - began
            query_ms = []
            for q in questions[:200]:
                t0 = time.perf_counter()
                embedder.embed_queries([q])
                query_ms.append((time.perf_counter() - t0) * 1000)
            reference = vectors if reference is None else reference
            agreement = (vectors * reference).sum(axis=1)
            row = {"split": "dev", "commit": at, "encoder": encoder, "sentences": len(texts),
                   "sentences_per_s": round(len(texts) / seconds, 1), "query_p50_ms": round(float(np.median(query_ms)), 1),
                   "cosine_to_torch_mean": round(float(agreement.mean()), 4), "cosine_to_torch_min": round(float(agreement.min()), 4)}
            remembering = Remembering(embedder, dict(zip(texts, vectors)))
            for name, corpus in corpora.items():
                where = work / f"index-{encoder}-{name}"
                sync([str(corpus.folder)], where, settings, remembering, prune=True)
                searcher = Searcher(open_store(where).load(), remembering, settings)
                for mode in ("hybrid", "dense"):
                    m = evaluate(corpus, searcher, mode)
                    row[f"{name}_{mode}_hit@1"] = round(m["hit@1"], 3)
                    row[f"{name}_{mode}_hit@5"] = round(m["hit@5"], 3)
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
