"""BM25 over chunk texts (bm25s), rebuilt from the stored chunks in memory: no re-embedding.

Tokens are lower-cased words of two or more characters (bm25s's default token pattern), bm25s's
English stop words dropped, stemmed by the Snowball
English stemmer (PyStemmer), so "networks"/"network" and "researchers"/"research" meet. Scores
come back for every chunk, so the fusion in `search/retrieval.py` can rank them however it likes.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Sequence

import numpy as np
import regex

from assistant.ingest.sentences import as_read

_WORD = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenization's default token_pattern
_stemmer = None
_stemmer_lock = threading.Lock()


def _stem_words(words: list[str]) -> list[str]:
    global _stemmer
    if _stemmer is None:
        import Stemmer

        with _stemmer_lock:
            _stemmer = _stemmer or Stemmer.Stemmer("english")
    with _stemmer_lock:  # a PyStemmer object is not safe to share between threads
        return _stemmer.stemWords(words)


def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


STOPWORDS = _stopwords()


# Stems already computed, word -> stem (a stem depends on its word alone). Building BM25 over a
# corpus stems each distinct word once instead of at every occurrence (measured here: BM25 over
# 20,000 chunks in 1.45 s against 2.0 s). Bounded: past this many words, new ones are stemmed
# without being kept.
STEM_CACHE_WORDS = 200_000
_stem_cache: dict[str, str] = {}


# Characters that join or mark a word without being part of it: a soft hyphen, zero-width spaces
# and joiners, a word joiner, a byte-order mark. Left in, they split a word in two for `_WORD`.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


# Chinese, Japanese and Korean are written without spaces between words: a run of their characters
# is read as its overlapping pairs of characters ("仓库存放" as 仓库, 库存, 存放), as Lucene's CJK
# analyzer does; with `_WORD` alone a whole clause had been one token, found by no question.
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]+")


def tokenize(text: str) -> list[str]:
    """Stemmed content words of `text`, in order, read in one Unicode form (NFKC: an accent typed as
    a separate mark, a ligature such as "ﬁ", full-width letters) without invisible joiners, so a
    word is one token however it was typed (an accent typed apart had split "Hélène" in three)."""
    text = as_read(text)
    if text.isascii():
        return _stemmed(text.lower())
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).lower()
    if not _CJK.search(text):
        return _stemmed(text)
    # pairs of Chinese, Japanese or Korean characters are no English words: not stemmed (nor kept
    # in the stem cache, which a Chinese corpus's million pairs had filled)
    out: list[str] = []
    at = 0
    for run in _CJK.finditer(text):
        out += _stemmed(text[at : run.start()])
        chars = run.group()
        out += [chars] if len(chars) == 1 else [chars[i : i + 2] for i in range(len(chars) - 1)]
        at = run.end()
    return out + _stemmed(text[at:])


def _stemmed(text: str) -> list[str]:
    """The stemmed content words of lower-cased `text` (`_WORD`, stop words dropped)."""
    words = [w for w in _WORD.findall(text) if w not in STOPWORDS]
    cache = _stem_cache
    missing = [w for w in dict.fromkeys(words) if w not in cache]
    if not missing:
        return [cache[w] for w in words]
    found = dict(zip(missing, _stem_words(missing)))
    if len(cache) < STEM_CACHE_WORDS:
        cache.update(found)  # entries are only ever added, so readers in other threads stay right
    return [cache[w] if w in cache else found[w] for w in words]


class BM25:
    """Okapi BM25 scores of a query against a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75):
        import bm25s

        # bm25s sets its own logger to DEBUG when imported: wherever the root logger has a handler
        # (some library's logging.warning() adds one), each index built wrote "DEBUG:bm25s:Building index from IDs"
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.size = len(texts)
        self._model = bm25s.BM25(k1=k1, b=b, method="lucene")
        # Token ids, not token strings, per document: the strings of a million-sentence corpus
        # would take over half a GB while the index is built; an id is one shared int.
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(token, len(vocab)) for token in (tokenize(t) or ["\x00"])] for t in texts]
        df = [0] * len(vocab)
        for doc in ids:
            for token_id in set(doc):
                df[token_id] += 1
        self._df = {token: df[i] for token, i in vocab.items()}
        if texts:
            # bm25s wants a token per document; an empty one gets a placeholder. (It adds its
            # own empty token to the vocabulary it is given: a copy.)
            self._model.index((ids, dict(vocab)), show_progress=False)

    def idf(self, token: str) -> float:
        """Inverse document frequency (BM25's, never negative); unseen words get the highest."""
        n = self._df.get(token, 0)
        return float(np.log(1.0 + (self.size - n + 0.5) / (n + 0.5)))

    def scores(self, query: str) -> np.ndarray:
        """A score per text (0 where no query word occurs)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        tokens = [t for t in tokenize(query) if t in self._model.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)
