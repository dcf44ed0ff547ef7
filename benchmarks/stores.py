"""The two stores side by side on a synthetic corpus: FAISS index folder and Milvus Lite.

Each store gets the same synthetic chunks (one sentence each, text drawn from a fixed vocabulary,
vectors random unit 384-d: the real model is not run, so the figures are the store's own) and is
measured in fresh processes, one after the other, in the same run:

- commit: writing the whole corpus into an empty store;
- add: committing one more 30-chunk document into the full store;
- load: opening the store in a new process (what a server start or a CLI call pays);
- search: dense top-200 sentences and the full hybrid search (bm25s + dense, fused), p50/p95
  over 200 queries, after 5 warm-up queries;
- memory: resident set of the process (and of its child processes: Milvus Lite runs one)
  after loading and searching, in MiB.

    python benchmarks/stores.py                  # 100,000 chunks
    python benchmarks/stores.py --chunks 20000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

DIMENSION = 384
WORDS = [f"w{i}" for i in range(5000)]


class RandomEmbedder:
    """Stands in for the model when a store is measured: fixed unit vectors from a seed."""

    model_name = "synthetic"
    dimension = DIMENSION

    def embed(self, texts, progress=None, threads=None):
        return unit(np.random.default_rng(len(texts)), len(texts))

    def embed_queries(self, texts):
        return self.embed(texts)


def unit(rng, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIMENSION)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def chunks_of(source: str, n: int, rng):
    from assistant.ingest.chunking import Chunk, chunk_id

    out, offset = [], 0
    for i in range(n):
        text = " ".join(rng.choice(WORDS, 12)) + "."
        start, end = offset, offset + len(text)
        out.append(Chunk(text=text, source=source, start=start, end=end, page=None,
                         id=chunk_id(source, start, end, text), position=i, sentences=((start, end),)))
        offset = end + 1
    return out


def manifest_for(files):
    from assistant.store.snapshot import Manifest

    return Manifest(model="synthetic", dimension=DIMENSION, chunk_size=1200, chunk_overlap=200,
                    title_in_embedding=False, files=tuple(files))


def rss_mib() -> float:
    """Resident memory of this process and its children (MiB), from /proc."""
    pids, total = [os.getpid()], 0
    for pid in list(pids):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        pids.extend(int(c) for c in children)
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def build(store_name: str, n: int) -> dict:
    """In a fresh process: commit n chunks (100 files), then add one 30-chunk file."""
    from assistant.store.snapshot import FileEntry, now
    from assistant.store import open_store

    rng = np.random.default_rng(0)
    store = open_store(store_name)
    per_file = n // 100
    chunks = [c for f in range(100) for c in chunks_of(f"/synthetic/doc{f:03}.txt", per_file, rng)]
    files = [FileEntry(f"/synthetic/doc{f:03}.txt", "0" * 64, per_file, now(), now()) for f in range(100)]
    vectors = unit(rng, len(chunks))
    began = time.perf_counter()
    with store.lock(60):
        store.commit(None, manifest_for(files), set(), chunks, vectors)
    committed = time.perf_counter() - began
    base = store.load()
    extra = chunks_of("/synthetic/extra.txt", 30, rng)
    began = time.perf_counter()
    with store.lock(60):
        store.commit(base, manifest_for(files + [FileEntry("/synthetic/extra.txt", "1" * 64, 30, now(), now())]),
                     {f.source for f in files}, extra, unit(rng, 30))
    added = time.perf_counter() - began
    return {"commit_s": round(committed, 1), "add_30_chunks_s": round(added, 2)}


def measure(store_name: str) -> dict:
    """In a fresh process: load the store, then search it."""
    from assistant.config import Settings
    from assistant.search.retrieval import Searcher
    from assistant.store import open_store

    began = time.perf_counter()
    snapshot = open_store(store_name).load()
    loaded = time.perf_counter() - began
    searcher = Searcher(snapshot, RandomEmbedder(), Settings())
    rng = np.random.default_rng(1)
    queries = unit(rng, 205)
    texts = [" ".join(rng.choice(WORDS, 6)) for _ in range(205)]
    dense, hybrid = [], []
    for i in range(205):
        t0 = time.perf_counter()
        snapshot.search(queries[i:i + 1], 200)
        t1 = time.perf_counter()
        searcher.search_many([texts[i]], k=10, vectors=queries[i:i + 1])
        t2 = time.perf_counter()
        if i >= 5:
            dense.append((t1 - t0) * 1000)
            hybrid.append((t2 - t1) * 1000)
    return {"chunks": len(snapshot.chunks), "load_s": round(loaded, 1),
            "dense_p50_ms": round(float(np.percentile(dense, 50)), 1), "dense_p95_ms": round(float(np.percentile(dense, 95)), 1),
            "hybrid_p50_ms": round(float(np.percentile(hybrid, 50)), 1), "hybrid_p95_ms": round(float(np.percentile(hybrid, 95)), 1),
            "rss_mib": round(rss_mib())}


def in_subprocess(step: str, store_name: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--step", step, "--store-name", store_name, "--chunks", str(n)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{step} on {store_name} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--step", choices=("build", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--store-name", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(build(args.store_name, args.chunks) if args.step == "build" else measure(args.store_name)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for kind, name in (("faiss", f"{tmp}/index"), ("milvus-lite", f"milvus://{tmp}/index.db")):
            result = {"store": kind, **in_subprocess("build", name, args.chunks), **in_subprocess("measure", name, args.chunks)}
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
