"""Questions to ranked `Hit`s: dense (FAISS) and BM25 rankings fused by weighted reciprocal rank.

`Searcher` wraps one loaded `Index`; `searcher_for(index_dir)` keeps one per index directory per
process and reloads it only when the index's CURRENT pointer changes, so the index loads once and
a rebuild is seen by the next query (settings that differ only at search time share it).
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.ingest.documents import HTML_TAG, html_visible_text
from assistant.config import MOST_K, Settings
from assistant.store.snapshot import Snapshot
from assistant.search.spelling import LazySpeller
from assistant.search.lexical import BM25
from assistant.store import is_milvus, named_or_default, open_store

MODES = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: the chunk's text and provenance, and its fused score."""

    text: str
    source: str
    start: int
    end: int
    page: int | None
    score: float
    label: str
    chunk_id: str
    position: int
    title: str = ""

    @classmethod
    def of(cls, chunk: Chunk, score: float) -> "Hit":
        return cls(
            text=chunk.text, source=chunk.source, start=chunk.start, end=chunk.end,
            page=chunk.page, score=float(score), label=chunk.label, chunk_id=chunk.id,
            position=chunk.position, title=chunk.title,
        )


_WORD = re.compile(r"[^\W_]")  # a letter or digit, of any script
MAX_QUESTION_CHARS = 10_000  # a question, not a document: past this, reading it is the slow part


def checked_question(question) -> str:
    """`question` as a search or an answer takes it, or a one-line ValueError saying why not: not
    a string, nothing visible in it (only spaces, control or format characters such as zero-width
    spaces), no word in it (a letter or digit of any script outside HTML markup: "???", an emoji
    alone, "<b>???</b>"), longer than MAX_QUESTION_CHARS, or not valid Unicode (an unpaired surrogate, which no
    encoder can read)."""
    if not isinstance(question, str):  # e.g. a chain's input dict reaching a retriever
        raise ValueError(f"question: expected a string, got {type(question).__name__}")
    if not any(unicodedata.category(ch)[0] not in "CZ" for ch in question):
        raise ValueError("question: must be a non-empty string")
    if not _WORD.search(question):
        raise ValueError(f"question: no words in it, only punctuation or symbols ({question.strip()[:40]!r})")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"question: too long ({len(question):,} characters; at most {MAX_QUESTION_CHARS:,})")
    if HTML_TAG.search(question) and not _WORD.search(html_visible_text(question)):  # "<b>???</b>"
        raise ValueError(f"question: no words in it, only markup, punctuation or symbols ({question.strip()[:40]!r})")
    if error := unicode_error(question):
        raise ValueError(f"question: {error}")
    return question


def unicode_error(text: str) -> str | None:
    """Why `text` is not valid Unicode text (an unpaired surrogate, at which character), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return f"holds an unpaired surrogate at character {err.start}, which is not valid Unicode text"
    return None


def checked(k, mode: str) -> tuple[int, str]:
    """`k` and `mode` as a search takes them, or a one-line ValueError naming the bad one."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= MOST_K:
        shown = repr(k) if len(repr(k)) <= 24 else repr(k)[:20] + "…"  # (a 309-digit number had been written out)
        raise ValueError(f"k={shown}: must be a whole number from 1 to {MOST_K}")
    return int(k), mode


class Searcher:
    """Hybrid search over one index.

    Dense side: the query is matched against every sentence vector (FAISS, exact); a chunk scores
    the best of its sentences. Lexical side: BM25 over each chunk's title and text. Fusion
    `minmax` (the default, tuned on ../shared/evaldata) rescales both sides to [0, 1] over the
    candidates and mixes them with `dense_weight`; `rrf` is weighted reciprocal rank fusion.
    """

    def __init__(self, index: Snapshot, embedder, settings: Settings, shares: "Searcher | None" = None):
        """`shares`: a searcher of the same index whose settings differ only at search time
        (`same_load`); its BM25 and chunk rows are reused instead of built again."""
        self.index, self.embedder, self.settings = index, embedder, settings
        if shares is not None:
            self.bm25, self.chunk_row, self.speller = shares.bm25, shares.chunk_row, shares.speller
        else:
            self.bm25 = BM25([_lexical_text(c) for c in index.chunks], settings.bm25_k1, settings.bm25_b)
            self.chunk_row = {c.id: i for i, c in enumerate(index.chunks)}
            self.speller = LazySpeller(lambda: (c.text for c in index.chunks))  # built at the first question

    def spelled(self, question: str) -> str:
        """`question` with its typing slips read as the documents' words (search/spelling.py);
        as typed when the `spelling` setting is off."""
        if not self.settings.spelling or not self.index.chunks:
            return question
        return self.speller.correct(question)

    def search(self, query: str, k: int | None = None, mode: str = "hybrid") -> list[Hit]:
        return self.search_many([query], k, mode)[0]

    def search_many(
        self, queries: Sequence[str], k: int | None = None, mode: str = "hybrid", vectors: np.ndarray | None = None
    ) -> list[list[Hit]]:
        """Hits for each query; `vectors` are the queries' embeddings when the caller has them."""
        k, mode = checked(self.settings.k if k is None else k, mode)
        if not self.index.chunks or not queries:
            return [[] for _ in queries]
        dense = self.dense_scores(queries, vectors) if mode != "bm25" else [None] * len(queries)
        results = []
        for query, dense_scores in zip(queries, dense):
            lexical = self.lexical_scores(query) if mode != "dense" else None
            if mode == "dense":
                scored = dense_scores
            elif mode == "bm25":
                scored = {int(i): float(lexical[i]) for i in _top(lexical, self.settings.candidates) if lexical[i] > 0}
            else:
                scored = self._fuse(dense_scores, lexical)
            results.append([Hit.of(self.index.chunks[i], score) for i, score in self._distinct(scored, k)])
        return results

    def _distinct(self, scored: dict[int, float], k: int) -> list[tuple[int, float]]:
        """The `k` best chunks, best first, a chunk whose text is a better one's passed over: copies
        of a document had filled the results with one passage (3 of 5 hits). Of copies, one whose file
        is still on disk is kept before one whose file is gone (the deleted copy had been quoted, "gone",
        while an identical one was there)."""
        best, at = [], {}  # at: text -> its place in best
        for i, score in sorted(scored.items(), key=lambda item: (-item[1], item[0])):
            text = self.index.chunks[i].text
            if text not in at:
                if len(best) == k:
                    break
                at[text] = len(best)
                best.append((i, score))
            elif _gone(self.index.chunks[best[at[text]][0]].source) and not _gone(self.index.chunks[i].source):
                best[at[text]] = (i, best[at[text]][1])  # the copy that is there, at the place the text earned
        return best

    def lexical_scores(self, query: str) -> np.ndarray:
        """A BM25 score per chunk: the store's own full-text search where it has one, else bm25s."""
        scores = self.index.lexical_scores(query, self.settings.candidates)
        return self.bm25.scores(query) if scores is None else scores

    def embed(self, queries: Sequence[str]) -> np.ndarray:
        return self.embedder.embed_queries(list(queries))

    def dense_scores(self, queries: Sequence[str], vectors: np.ndarray | None = None) -> list[dict[int, float]]:
        """Per query, {chunk row: best sentence similarity} for the chunks of the top sentences."""
        depth = min(len(self.index.keys), max(4 * self.settings.candidates, 200))
        vectors = self.embed(queries) if vectors is None else vectors
        _search_threads(self.settings.query_threads)
        scores, rows = self.index.search(vectors, depth)
        out = []
        for q_scores, q_rows in zip(scores, rows):
            chunk_scores: dict[int, float] = {}
            for score, row in zip(q_scores, q_rows):
                if row < 0:
                    continue
                for ci in self.index.row_chunks[row]:
                    if ci not in chunk_scores:  # rows come best first
                        chunk_scores[ci] = float(score)
            out.append(chunk_scores)
        return out

    def _fuse(self, dense: dict[int, float], lexical: np.ndarray) -> dict[int, float]:
        s = self.settings
        dense_ranked = sorted(dense, key=lambda i: -dense[i])[: s.candidates]
        lexical_ranked = [int(i) for i in _top(lexical, s.candidates) if lexical[i] > 0]
        candidates = set(dense_ranked) | set(lexical_ranked)
        if s.fusion == "rrf":
            fused = dict.fromkeys(candidates, 0.0)
            for weight, ranked in ((s.dense_weight, dense_ranked), (1.0 - s.dense_weight, lexical_ranked)):
                for rank, i in enumerate(ranked):
                    fused[i] += weight / (s.rrf_k + rank + 1)
            return fused
        floor = min(dense.values()) if dense else 0.0  # chunks with no top sentence
        top = max(dense.values()) if dense else 0.0
        spread = (top - floor) or 1.0
        lex_top = float(lexical.max()) if len(lexical) and lexical.max() > 0 else 1.0
        return {
            i: s.dense_weight * (dense.get(i, floor) - floor) / spread
            + (1.0 - s.dense_weight) * float(lexical[i]) / lex_top
            for i in candidates
        }


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest scores, best first."""
    n = min(n, len(scores))
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


def _lexical_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


# --- one searcher per index directory per process -----------------------------------------

_cache: dict[tuple, tuple[str, Searcher]] = {}
_cache_lock = threading.Lock()

# Settings read only when searching or answering, never when a store is loaded or BM25 is built.
# Searchers whose settings differ in nothing else share one loaded index (any other field, and
# any field added later, loads its own).
_SEARCH_TIME = frozenset({"k", "candidates", "fusion", "dense_weight", "rrf_k", "abstain_threshold", "spelling"})


def same_load(a: Settings, b: Settings) -> bool:
    """Whether `a` and `b` load a store into the same searcher state (index and BM25)."""
    def loaded(settings: Settings) -> dict:
        return {name: value for name, value in vars(settings).items()
                if name not in _SEARCH_TIME and not name.startswith(("answer_", "llm_"))}

    return loaded(a) == loaded(b)


def _store_key(index_dir: str | os.PathLike) -> str:
    return str(index_dir) if is_milvus(str(index_dir)) else str(Path(index_dir).resolve())


def searcher_for(index_dir: str | os.PathLike, settings: Settings, embedder) -> Searcher:
    """The cached searcher of the store `index_dir` (a folder or a milvus:// address), reloaded
    when the store has been changed since. Settings that differ only at search or answer time
    (`same_load`) get searchers of their own over one loaded index, so alternating them costs no
    reload; a store is held loaded once."""
    path = _store_key(index_dir)
    store = open_store(path, settings)
    key = (path, settings, id(embedder))
    token = store.token()
    with _cache_lock:
        cached = _cache.get(key)
        if cached and cached[0] == token and token is not None:
            return cached[1]
        current = [searcher for (p, other, e), (t, searcher) in _cache.items()
                   if p == path and e == id(embedder) and t == token and token is not None and same_load(other, settings)]
        if current:
            searcher = Searcher(current[0].index, embedder, settings, shares=current[0])
        else:
            index = store.load(embedder.model_name, embedder.dimension)
            searcher = Searcher(index, embedder, settings)
            for stale in [k for k in _cache if k[0] == path]:
                del _cache[stale]  # one loaded index per store: an old one would hold a stale index
        _cache[key] = (store.token() if token is None else token, searcher)
        return searcher


def forget(index_dir: str | os.PathLike | None = None) -> None:
    """Drop cached searchers (all, or one directory's)."""
    with _cache_lock:
        if index_dir is None:
            _cache.clear()
        else:
            path = _store_key(index_dir)
            for key in [k for k in _cache if k[0] == path]:
                del _cache[key]


def _gone(source: str) -> bool:
    """Whether an indexed file is known to be gone (an absolute path not there; a relative one is
    looked for from the working folder, which may not be the one it was named from)."""
    return os.path.isabs(source) and not os.path.exists(source)


def _search_threads(threads: int) -> None:
    """FAISS's OpenMP threads for this thread's searches, as `Settings.query_threads` says (0: all
    cores). OpenMP keeps the count per calling thread, so an indexing thread keeps its own. FAISS
    had used every core for each question's search: on a busy machine a search of 15,000 sentences
    took 5.3 ms at the median and 24 ms at the 95th percentile, against 0.9 and 5.0 ms with one."""
    import faiss

    faiss.omp_set_num_threads(threads or os.cpu_count() or 1)


def retrieve(
    question: str,
    k: int | None = None,
    index_dir: str | os.PathLike | None = None,
    *,
    mode: str = "hybrid",
    settings: Settings | None = None,
    embedder=None,
    searcher: Searcher | None = None,
) -> list[Hit]:
    """The `k` passages of the index that best match `question`, best first. `searcher` (an
    `Assistant`'s own) replaces the process's cached one for `index_dir`."""
    from assistant.ingest.embeddings import default_embedder

    checked_question(question)
    if searcher is None:
        settings = Settings.given(settings)
        searcher = searcher_for(named_or_default(index_dir, settings), settings, embedder or default_embedder(settings))
    return searcher.search(searcher.spelled(question), k, mode)
