"""The index folder at 10k, 100k and 1M sentences: build, add, search, recall, memory, disk.

Corpus: real sentences (the documents of ../shared/traindata, split by the project's sentence
splitter; used as text only, nothing is fitted here), packed six to a chunk and 300 to a
document (about ten pages). Vectors: for 10k sentences, the real model's (the configured
encoder); beyond, synthetic: each a real vector plus Gaussian noise with the real vectors'
per-dimension spread, normalised (cosine about 0.8 to its source), so the data keeps the
clustered shape of real embeddings. Said so in every figure.

Per size, in one run: build (commit of the whole corpus into an empty folder), add one 300-sentence
document (commit only; its embedding time is printed apart), then in a fresh process: load, dense
top-10 search p50/p95 over 200 queries (real held-out sentences' vectors), recall@10 against exact
search, what a process builds in memory before its first hybrid search (BM25 over every chunk) and
at its first question (the speller's document words), the hybrid search p50/p95, resident memory after load and searches, and bytes on disk
that a load reads (the live generation and the segments it lists; the previous generation is
kept beside them until the next save).

    python benchmarks/scale.py                    # 10k, 100k, 1M
    python benchmarks/scale.py --sizes 10000,100000
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

TRAINDATA = Path(__file__).resolve().parents[2] / "shared" / "traindata"
PER_CHUNK, PER_DOC, QUERIES, REAL = 6, 300, 200, 10_000


def real_sentences(n: int) -> list[str]:
    from assistant.ingest.sentences import split_sentences

    out = []
    for path in sorted(TRAINDATA.glob("*/docs.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            text = json.loads(line)["text"]
            out.extend(" ".join(text[s:e].split()) for s, e in split_sentences(text))
            if len(out) >= n:
                return [t for t in out if t][:n]
    return [t for t in out if t]


def corpus(texts: list[str], n: int, first_doc: int = 0):
    """Chunks of `n` sentences (texts cycled), six per chunk, 300 per document."""
    from assistant.ingest.chunking import Chunk, chunk_id
    from assistant.store.snapshot import FileEntry, now

    chunks, files = [], []
    for d in range((n + PER_DOC - 1) // PER_DOC):
        source = f"/synthetic/doc{first_doc + d:05}.txt"
        count, offset, position = min(PER_DOC, n - d * PER_DOC), 0, 0
        for c in range(0, count, PER_CHUNK):
            spans, parts = [], []
            for i in range(d * PER_DOC + c, d * PER_DOC + min(c + PER_CHUNK, count)):
                sentence = texts[i % len(texts)]
                spans.append((offset, offset + len(sentence)))
                parts.append(sentence)
                offset += len(sentence) + 1
            text = " ".join(parts)
            start, end = spans[0][0], spans[-1][1]
            chunks.append(Chunk(id=chunk_id(source, start, end, text), source=source, position=position,
                                start=start, end=end, text=text, sentences=tuple(spans)))
            position += 1
        files.append(FileEntry(source, f"{d:064x}", position, now(), now()))
    return chunks, files


def manifest(files, model: str):
    from assistant.store.snapshot import Manifest

    return Manifest(model=model, dimension=384, chunk_size=1200, chunk_overlap=200, title_in_embedding=False,
                    files=tuple(files))


def synthetic(real: np.ndarray, n: int, rng) -> np.ndarray:
    if n <= len(real):
        return real[:n].copy()
    spread = real.std(axis=0)
    out = np.empty((n, real.shape[1]), np.float32)
    for begin in range(0, n, 100_000):
        rows = np.arange(begin, min(n, begin + 100_000))
        block = real[rows % len(real)] + 0.75 * rng.standard_normal((len(rows), real.shape[1])).astype(np.float32) * spread
        out[rows] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def measure(folder: str, queries_file: str) -> dict:
    """In a fresh process: load, search, memory."""
    from assistant.config import Settings
    from assistant.search.retrieval import Searcher
    from assistant.store import open_store
    from benchmarks.stores import RandomEmbedder, rss_mib

    began = time.perf_counter()
    snapshot = open_store(folder, Settings()).load()
    loaded = time.perf_counter() - began
    data = json.loads(Path(queries_file).read_text())
    vectors, texts = np.asarray(data["vectors"], dtype=np.float32), data["texts"]
    dense, rows = [], []
    for i in range(len(vectors)):
        t0 = time.perf_counter()
        _, found = snapshot.search(vectors[i:i + 1], 10)
        dense.append((time.perf_counter() - t0) * 1000)
        rows.append(found[0].tolist())
    began = time.perf_counter()
    searcher = Searcher(snapshot, RandomEmbedder(), Settings())  # BM25 is built in memory from the chunks
    lexical = time.perf_counter() - began
    began = time.perf_counter()
    searcher.spelled(texts[0])  # the first question gathers the documents' words (search/spelling.py)
    speller = time.perf_counter() - began
    hybrid = []
    for i in range(len(vectors)):
        t0 = time.perf_counter()
        searcher.search_many([texts[i]], k=10, vectors=vectors[i:i + 1])
        hybrid.append((time.perf_counter() - t0) * 1000)
    return {"load_s": round(loaded, 1), "bm25_build_s": round(lexical, 1), "speller_build_s": round(speller, 1),
            "dense_p50_ms": round(float(np.percentile(dense, 50)), 1),
            "dense_p95_ms": round(float(np.percentile(dense, 95)), 1),
            "hybrid_p50_ms": round(float(np.percentile(hybrid, 50)), 1),
            "hybrid_p95_ms": round(float(np.percentile(hybrid, 95)), 1),
            "rss_mib": round(rss_mib()), "rows": rows, "vector_index": snapshot.manifest.vector_index}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        sizes = [int(x) for x in args.sizes.split(",")]
        if min(sizes) < 1:
            raise ValueError
    except ValueError:
        parser.error(f"--sizes {args.sizes}: expected comma-separated whole numbers of 1 or more")
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return 0
    from assistant.config import Settings
    from assistant.ingest.embeddings import make_embedder
    from assistant.store import open_store

    settings = Settings.from_env()
    embedder = make_embedder(settings)
    texts = real_sentences(REAL + QUERIES + PER_DOC)
    began = time.perf_counter()
    real = embedder.embed(texts)
    print(f"real vectors: {len(texts)} traindata sentences with {embedder.model_name} in {time.perf_counter() - began:.1f} s",
          flush=True)
    corpus_real, query_vectors, extra_real = real[:REAL], real[REAL:REAL + QUERIES], real[REAL + QUERIES:]
    corpus_texts, query_texts, extra_texts = texts[:REAL], texts[REAL:REAL + QUERIES], texts[REAL + QUERIES:]
    began = time.perf_counter()
    embedder.embed(extra_texts)
    add_embedding = time.perf_counter() - began
    rng = np.random.default_rng(0)
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="assistant-scale-") as tmp:
            folder = f"{tmp}/index"
            store = open_store(folder, settings)
            chunks, files = corpus(corpus_texts, n)
            vectors = synthetic(corpus_real, n, rng)
            began = time.perf_counter()
            with store.lock(60):
                store.commit(None, manifest(files, embedder.model_name), set(), chunks, vectors)
            build = time.perf_counter() - began
            base = store.load()
            new_chunks, new_files = corpus(extra_texts, PER_DOC, first_doc=len(files))
            began = time.perf_counter()
            with store.lock(60):
                store.commit(base, manifest(files + new_files, embedder.model_name), {f.source for f in files},
                             new_chunks, extra_real)
            add = time.perf_counter() - began
            del base
            queries = Path(tmp) / "queries.json"
            queries.write_text(json.dumps({"vectors": query_vectors.tolist(), "texts": query_texts}))
            out = subprocess.run([sys.executable, __file__, "--measure", folder, str(queries)], capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr[-3000:])
            m = json.loads(out.stdout.strip().splitlines()[-1])
            everything = np.concatenate([vectors, extra_real])
            exact = np.argsort(-(query_vectors @ everything.T), axis=1)[:, :10]
            recall = float(np.mean([len(set(r) & set(e)) / 10 for r, e in zip(m.pop("rows"), exact.tolist())]))
            live = Path(folder) / (Path(folder) / "CURRENT").read_text().split()[0]
            listed = json.loads((live / "manifest.json").read_text()).get("segments", ())
            needed = {live} | {Path(folder) / seg["dir"] for seg in listed}  # what a load reads
            disk = sum(p.stat().st_size for d in needed for p in d.rglob("*") if p.is_file())
            print(json.dumps({"sentences": n, "vectors": "real" if n <= REAL else "synthetic around real",
                              "build_s": round(build, 1), "add_300_sentences_s": round(add, 2),
                              "its_embedding_s": round(add_embedding, 2), **m, "recall_at_10": round(recall, 3),
                              "disk_mib": round(disk / (1 << 20))}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
