"""Retrieval quality on ../shared/evaldata: hit@1, hit@5 and MRR@10 for dense, BM25 and hybrid.

A question is a hit at k when one of the top-k passages overlaps its gold evidence. Only
answerable questions count. The documents go through the real pipeline (loader, chunker, index).
The project's test sets on xquad_en passages (`paraphrase`, `multipart`; see answers.py) can be
named in --sets too.

    python benchmarks/retrieval.py                       # the configured defaults
    python benchmarks/retrieval.py --chunks 400/100,600/150,800/200 --fusion
    python benchmarks/retrieval.py --rerank       # also hybrid top 10 reordered by the answer model
    python benchmarks/retrieval.py --store faiss,milvus,milvus-bm25   # the same figures on each store,
        # with indexing time (embeddings cached) and hybrid search p50/p95 measured in the same run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.ingest.embeddings import make_embedder  # noqa: E402
from assistant.ingest.indexing import sync  # noqa: E402
from assistant.store.snapshot import Snapshot  # noqa: E402
from assistant.store import open_store  # noqa: E402
from assistant.search.retrieval import MODES, Searcher  # noqa: E402
from benchmarks.evaldata import SETS, Corpus, materialise, overlaps, read_questions  # noqa: E402


class CachingEmbedder:
    """The configured encoder, remembering vectors by text, so a sweep embeds each text once."""

    def __init__(self, settings: Settings | None = None):
        self.inner = make_embedder(settings or Settings.from_env())
        self.model_name, self.dimension = self.inner.model_name, self.inner.dimension
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts, progress=None, threads=None):
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing, progress=None, threads=threads)):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts]) if texts else np.empty((0, self.dimension), np.float32)

    def embed_queries(self, queries):
        return self.embed(list(queries), threads=self.inner.query_threads)


def evaluate(corpus: Corpus, searcher: Searcher, mode: str) -> dict:
    questions = [q for q in corpus.questions if q.answerable]
    return _metrics(corpus, questions, searcher.search_many([q.question for q in questions], k=10, mode=mode))


def _metrics(corpus: Corpus, questions, results) -> dict:
    """hit@1, hit@5 and MRR@10 of ranked hits per question."""
    hit1 = hit5 = rr = 0.0
    for question, hits in zip(questions, results):
        ranks = [i for i, h in enumerate(hits) if overlaps(corpus, question, h.source, h.start, h.end)]
        first = ranks[0] if ranks else None
        hit1 += first == 0
        hit5 += first is not None and first < 5
        rr += 1.0 / (first + 1) if first is not None else 0.0
    n = len(questions)
    return {"hit@1": hit1 / n, "hit@5": hit5 / n, "mrr@10": rr / n, "n": n}


def evaluate_reranked(corpus: Corpus, searcher: Searcher, depth: int = 10, per_query: int = 32) -> dict:
    """Hybrid top `depth` reordered by the answer model: a passage scores its best sentence's
    probability (of the `per_query` pre-filtered sentences); passages with none keep their order
    behind the others."""
    from assistant.answer import model as answer_model, extractive

    model = answer_model.load(searcher.settings.answer_model_dir, 1)
    questions = [q for q in corpus.questions if q.answerable]
    vectors = searcher.embed([q.question for q in questions])
    results = searcher.search_many([q.question for q in questions], k=depth, mode="hybrid", vectors=vectors)
    reranked = []
    for question, vector, hits in zip(questions, vectors, results):
        found = extractive.candidates(question.question, vector, hits, searcher, model, per_query,
                                      check_numbers=searcher.settings.answer_numbers)
        best: dict[str, float] = {}
        for c in found:
            best[c.hit.chunk_id] = max(best.get(c.hit.chunk_id, 0.0), c.score)
        reranked.append(sorted(hits, key=lambda h: (-best.get(h.chunk_id, -1.0), hits.index(h))))
    return _metrics(corpus, questions, reranked)


def _fusion_label(settings: Settings) -> str:
    label = f"{settings.fusion} dense_weight={settings.dense_weight:g}"
    return label + (f" rrf_k={settings.rrf_k}" if settings.fusion == "rrf" else "")


STORES = {"faiss": "bm25s", "milvus": "bm25s", "milvus-bm25": "milvus"}  # store -> its lexical side


def build(corpus: Corpus, settings: Settings, embedder, workdir: Path, store: str = "faiss") -> Snapshot:
    name = f"index-{corpus.name}-{settings.chunk_size}-{settings.chunk_overlap}-{int(settings.title_in_embedding)}"
    where = str(workdir / name) if store == "faiss" else f"milvus://{workdir / store / name}.db"
    sync([str(corpus.folder)], where, settings, embedder, prune=True)
    return open_store(where, settings).load()


def search_latency(corpus: Corpus, searcher: Searcher) -> tuple[float, float]:
    """p50 and p95 milliseconds of one hybrid search (query vectors computed beforehand)."""
    questions = [q.question for q in corpus.questions if q.answerable]
    vectors = searcher.embed(questions)
    times = []
    for i, question in enumerate(questions):
        began = time.perf_counter()
        searcher.search_many([question], k=10, vectors=vectors[i:i + 1])
        times.append((time.perf_counter() - began) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def corpus_of(name: str, workdir: Path) -> Corpus:
    """An evaldata set, or a project test set written on xquad_en's documents."""
    from benchmarks.answers import TEST_SETS

    if name not in TEST_SETS:
        return materialise(name, workdir / name)
    corpus = materialise("xquad_en", workdir / name)
    corpus.name, corpus.questions = name, read_questions(TEST_SETS[name])
    return corpus


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ", ".join(SETS))
    parser.add_argument("--chunks", default=None, help="size/overlap pairs to compare, e.g. 400/100,800/200")
    parser.add_argument("--no-title", action="store_true", help="embed chunks without their document title")
    parser.add_argument("--fusion", action="store_true", help="also sweep the fusion weights and RRF constant")
    parser.add_argument("--rerank", action="store_true", help="also hybrid reranked by the answer model")
    parser.add_argument("--store", default="faiss", help="comma-separated: " + ", ".join(STORES))
    args = parser.parse_args(argv)
    stores = args.store.split(",")
    if unknown := [s for s in stores if s not in STORES]:
        parser.error(f"--store {unknown[0]}: expected one of {', '.join(STORES)}")
    from benchmarks.answers import TEST_SETS

    known = [*SETS, *TEST_SETS]
    if unknown := [name for name in args.sets.split(",") if name not in known]:
        parser.error(f"--sets {unknown[0]}: expected one of {', '.join(known)}")
    try:
        pairs = [tuple(int(x) for x in p.split("/")) for p in args.chunks.split(",")] if args.chunks else None
        if pairs and any(len(p) != 2 or p[0] < 1 or not 0 <= p[1] < p[0] for p in pairs):
            raise ValueError
    except ValueError:
        parser.error(f"--chunks {args.chunks}: expected size/overlap pairs such as 400/100,800/200 (overlap below size)")

    base = Settings.from_env(title_in_embedding=False if args.no_title else None)
    pairs = pairs or [(base.chunk_size, base.chunk_overlap)]
    embedder = CachingEmbedder(base)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        corpora = {name: corpus_of(name, workdir) for name in args.sets.split(",")}
        print(f"{'set':<11} {'chunks':>8} {'title':>5} {'mode':<7} {'hit@1':>6} {'hit@5':>6} {'mrr@10':>6}  fusion")
        for size, overlap, store, name in [(*p, st, n) for p in pairs for n in corpora for st in stores]:
            settings = base.replace(chunk_size=size, chunk_overlap=overlap, milvus_lexical=STORES[store])
            corpus = corpora[name]
            if store == stores[0] and len(stores) > 1:  # embed once, so each store's time is its own
                build(corpus, settings, embedder, workdir / "warm-up")
            began = time.perf_counter()
            index = build(corpus, settings, embedder, workdir, store)
            built = time.perf_counter() - began
            searcher = Searcher(index, embedder, settings)
            if len(stores) > 1:
                p50, p95 = search_latency(corpus, searcher)
                print(f"{name:<11} store {store}: indexed in {built:.1f} s (embeddings cached); "
                      f"hybrid search p50 {p50:.1f} ms, p95 {p95:.1f} ms")
            for mode in MODES:
                m = evaluate(corpus, searcher, mode)
                fusion = _fusion_label(settings) if mode == "hybrid" else ""
                print(f"{name:<11} {size:>4}/{overlap:<3} {int(settings.title_in_embedding):>5} {mode:<7} "
                      f"{m['hit@1']:6.3f} {m['hit@5']:6.3f} {m['mrr@10']:6.3f}  {fusion}{'' if len(stores) == 1 else ' on ' + store}")
            if args.rerank:
                m = evaluate_reranked(corpus, searcher)
                print(f"{name:<11} {size:>4}/{overlap:<3} {int(settings.title_in_embedding):>5} {'rerank':<7} "
                      f"{m['hit@1']:6.3f} {m['hit@5']:6.3f} {m['mrr@10']:6.3f}  hybrid top 10 by the answer model")
            print(f"{'':<11} ({len(index.chunks)} chunks, n={m['n']} questions, built in {built:.0f} s)")
            if args.fusion:
                variants = [("minmax", w, 60) for w in (0.4, 0.5, 0.6, 0.7, 0.8)]
                variants += [("rrf", w, rk) for w in (0.4, 0.5, 0.6) for rk in (5, 60)]
                for fusion_name, weight, rrf_k in variants:
                    s = settings.replace(fusion=fusion_name, dense_weight=weight, rrf_k=rrf_k)
                    m = evaluate(corpus, Searcher(index, embedder, s), "hybrid")
                    print(f"{name:<11} {size:>4}/{overlap:<3} {int(s.title_in_embedding):>5} {'hybrid':<7} "
                          f"{m['hit@1']:6.3f} {m['hit@5']:6.3f} {m['mrr@10']:6.3f}  {_fusion_label(s)}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
