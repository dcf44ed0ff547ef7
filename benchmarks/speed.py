"""Indexing throughput against raw `SentenceTransformer.encode`, and search latency, in one run.

Indexing: the whole pipeline (`rebuild_index`: load, chunk, embed, save, with the configured
encoder, ONNX by default) over the xquad_en documents, against the LangChain-tutorial pipeline on
the same files (read, 1,000-character chunks overlapping by 200, `SentenceTransformer.encode`,
a flat FAISS index written to disk) and against raw `encode` of exactly the texts the pipeline
embeds (its sentences) and of the chunk texts, measured in the same process with the same threads. Latency: `retrieve()` on the
article, after a warm-up, p50/p95 over the questions below (repeated), and `ask()` on the same
questions in the same run, as ratios to retrieve()'s p50 (the answer model's cost).

    python benchmarks/speed.py
    python benchmarks/speed.py --latency-only

Cold start: fresh processes of `python -m assistant ask` and `search` on the shipped index against
`python -c "import sentence_transformers"`, medians of three runs, in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.ingest.chunking import chunk_document  # noqa: E402
from assistant.config import PROJECT_DIR, Settings  # noqa: E402
from assistant.ingest.documents import load  # noqa: E402
from assistant.ingest.embeddings import _load_model, make_embedder  # noqa: E402
from assistant.ingest.indexing import embedding_texts, rebuild_index  # noqa: E402
from assistant.answer.answering import ask  # noqa: E402
from assistant.search.retrieval import retrieve  # noqa: E402
from benchmarks.evaldata import materialise  # noqa: E402

QUESTIONS = [
    "How much did Huawei spend on research and development in 2018?",
    "Who is Ken Hu?",
    "What did Ken Hu say about the EU's cybersecurity work?",
    "How many researchers work at the Dongguan campus?",
    "What did George Soros say about Huawei?",
    "How many times did the cybersecurity lab veto a product?",
    "What does the Chinese State Security Law require?",
    "How many patents does Huawei hold?",
]


def raw_encode_seconds(texts: list[str], threads: int, batch_size: int) -> float:
    import torch

    model = _load_model()
    torch.set_num_threads(threads)
    began = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    return time.perf_counter() - began


def tutorial_seconds(files: list[str], workdir: Path, threads: int, batch_size: int) -> tuple[float, int]:
    """The LangChain RAG tutorial's indexing on `files`: read, 1,000/200-character chunks,
    `SentenceTransformer.encode`, a flat FAISS index saved to disk. (seconds, chunks)"""
    import faiss
    import torch

    model = _load_model()
    torch.set_num_threads(threads)
    began = time.perf_counter()
    chunks = []
    for path in files:
        text = Path(path).read_text("utf-8")
        chunks.extend(text[i:i + 1000] for i in range(0, max(len(text) - 200, 1), 800))
    vectors = model.encode(chunks, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    faiss.write_index(index, str(workdir / "tutorial.faiss"))
    return time.perf_counter() - began, len(chunks)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cold_start(runs: int = 3) -> None:
    """Wall time of fresh processes, median of `runs`: the CLI answering and searching on the
    shipped index, against importing sentence-transformers alone, in the same run."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_INDEX_DIR"] = str(PROJECT_DIR / "index")  # read only: answering never writes
    commands = {
        "python -c 'import sentence_transformers'": [sys.executable, "-c", "import sentence_transformers"],
        "python -m assistant ask": [sys.executable, "-m", "assistant", "ask", QUESTIONS[0]],
        "python -m assistant search": [sys.executable, "-m", "assistant", "search", QUESTIONS[1]],
    }
    subprocess.run(commands["python -m assistant ask"], cwd=PROJECT_DIR, env=env, capture_output=True)  # warm disk cache
    times = {}
    for name, command in commands.items():
        runs_s = []
        for _ in range(runs):
            began = time.perf_counter()
            done = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
            runs_s.append(time.perf_counter() - began)
            if done.returncode:
                raise SystemExit(f"{name} failed: {done.stderr[-500:]}")
        times[name] = statistics.median(runs_s)
    base = times["python -c 'import sentence_transformers'"]
    for name, seconds in times.items():
        print(f"cold start: {name:<42} {seconds:5.2f} s  {seconds / base:.2f}x the sentence-transformers import")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-only", action="store_true", help="skip the indexing comparison (minutes): latency and cold start only")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    embedder = make_embedder(settings)
    if not args.latency_only:
        indexing(settings, embedder)
    latency(settings, embedder)
    cold_start()
    return 0


def indexing(settings: Settings, embedder) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = materialise("xquad_en", Path(tmp) / "docs")
        chunks = [c for path in sorted(corpus.doc_of) for c in chunk_document(load(path), settings.chunk_size, settings.chunk_overlap)]
        _, sentence_texts = embedding_texts(chunks, settings.title_in_embedding)
        chunk_texts = [c.text for c in chunks]
        _load_model()
        raw_encode_seconds(sentence_texts[:64], embedder.index_threads, settings.embed_batch_size)  # warm-up

        embedder.embed(sentence_texts[:64])  # warm-up of the configured encoder
        files = sorted(corpus.doc_of)
        tutorial, tutorial_chunks = tutorial_seconds(files, Path(tmp), embedder.index_threads, settings.embed_batch_size)
        raw_sent = raw_encode_seconds(sentence_texts, embedder.index_threads, settings.embed_batch_size)
        began = time.perf_counter()
        report = rebuild_index([str(corpus.folder)], Path(tmp) / "index", settings=settings, embedder=embedder)
        pipeline = time.perf_counter() - began
        tutorial_2, _ = tutorial_seconds(files, Path(tmp), embedder.index_threads, settings.embed_batch_size)
        tutorial = (tutorial + tutorial_2) / 2
        raw_sent_2 = raw_encode_seconds(sentence_texts, embedder.index_threads, settings.embed_batch_size)
        raw_chunk = raw_encode_seconds(chunk_texts, embedder.index_threads, settings.embed_batch_size)
        raw = (raw_sent + raw_sent_2) / 2

        n_chunks, n_sent = report.chunks, len(sentence_texts)
        print(f"indexing xquad_en ({len(corpus.doc_of)} files, {n_chunks} chunks, {n_sent} sentences; "
              f"{embedder.index_threads} torch threads)")
        print(f"  encoder: {settings.encoder} ({embedder.model_name})")
        print(f"  LangChain-tutorial pipeline      {tutorial:6.1f} s  ({tutorial_chunks} chunks of 1,000/200 characters; "
              f"runs {tutorial_2:.1f} s and the first)")
        print(f"  pipeline rebuild_index           {pipeline:6.1f} s  {n_chunks / pipeline:6.1f} chunks/s  {n_sent / pipeline:6.1f} sentences/s")
        print(f"  raw encode, same sentence texts  {raw:6.1f} s  {n_chunks / raw:6.1f} chunks/s  {n_sent / raw:6.1f} sentences/s"
              f"  (runs: {raw_sent:.1f} s, {raw_sent_2:.1f} s)")
        print(f"  raw encode, the chunk texts      {raw_chunk:6.1f} s  {n_chunks / raw_chunk:6.1f} chunks/s")
        print(f"  pipeline overhead vs raw encode of the same texts: {100 * (pipeline / raw - 1):+.1f}%")
        print(f"  pipeline time / raw encode of the chunk texts: {pipeline / raw_chunk:.2f}x")
        print(f"  pipeline time / LangChain-tutorial pipeline: {pipeline / tutorial:.2f}x (target: at most 0.5x)")



def latency(settings: Settings, embedder) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        rebuild_index([str(PROJECT_DIR / "documents")], index_dir, settings=settings, embedder=embedder)
        # ask() as configured (candidates read side by side on an idle machine), and reading one
        # candidate at a time (what each question gets on a loaded server); the two settings
        # differ only at answer time, so they share one loaded index (`retrieval.same_load`).
        one_at_a_time = {"settings": settings.replace(answer_workers=1)}
        calls = {"retrieve()": (retrieve, {"settings": settings}), "ask()": (ask, {"settings": settings}),
                 "ask() reading one candidate at a time": (ask, one_at_a_time)}
        for q in QUESTIONS:  # warm-up: index load, BM25 build, answer model load, first query
            for call, kwargs in calls.values():
                call(q, index_dir=index_dir, embedder=embedder, **kwargs)
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(25):
            for q in QUESTIONS:
                for name, (call, kwargs) in calls.items():
                    began = time.perf_counter()
                    call(q, index_dir=index_dir, embedder=embedder, **kwargs)
                    times[name].append((time.perf_counter() - began) * 1000)
        base = statistics.median(times["retrieve()"])
        for name, values in times.items():
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            chosen = calls[name][1]["settings"]
            workers = f", answer workers {chosen.answer_workers or os.cpu_count()}" if name.startswith("ask") else ""
            print(f"{name} latency on the article ({len(values)} queries, {settings.query_threads} query thread{workers}): "
                  f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {max(values):.1f} ms; "
                  f"p50 {p50 / base:.2f}x and p95 {p95 / base:.2f}x retrieve()'s p50")


if __name__ == "__main__":
    raise SystemExit(main())
