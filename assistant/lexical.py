"""BM25 over chunk texts (bm25s), rebuilt from the stored chunks in memory: no re-embedding.

Tokens are lower-cased words with English stop words dropped and a light suffix stemmer, so
"spent"/"spend" stay apart but "networks"/"network" meet. Scores come back for every chunk, so
the fusion in `retrieval.py` can rank them however it likes.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not of off on once only or other our ours ourselves
    out over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves s t don""".split()
)


# Irregular verb forms, so "spent" meets "spend" and "sold" meets "sell".
_IRREGULAR = {
    past: base
    for base, forms in {
        "spend": "spent", "say": "said", "make": "made", "build": "built", "buy": "bought",
        "sell": "sold", "pay": "paid", "win": "won", "lose": "lost", "hold": "held", "lead": "led",
        "meet": "met", "begin": "began begun", "grow": "grew grown", "give": "gave given",
        "take": "took taken", "tell": "told", "think": "thought", "bring": "brought", "leave": "left",
        "keep": "kept", "run": "ran", "write": "wrote written", "become": "became", "come": "came",
        "go": "went gone", "see": "saw seen", "know": "knew known", "fall": "fell fallen",
        "rise": "rose risen", "choose": "chose chosen", "drive": "drove driven", "speak": "spoke spoken",
        "stand": "stood", "teach": "taught", "catch": "caught", "fight": "fought", "send": "sent",
        "mean": "meant", "feel": "felt", "deal": "dealt", "find": "found", "get": "got gotten",
        "hear": "heard", "lie": "lay lain", "shoot": "shot", "sing": "sang sung", "eat": "ate eaten",
        "draw": "drew drawn", "fly": "flew flown", "forget": "forgot forgotten", "freeze": "froze frozen",
        "break": "broke broken", "steal": "stole stolen", "wear": "wore worn", "sink": "sank sunk",
    }.items()
    for past in forms.split()
}


def _stem(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_SPLIT_ACRONYM = re.compile(r"\b([A-Za-z])\s?[&+/]\s?([A-Za-z])\b")  # R&D, R+D, P/E


def tokenize(text: str) -> list[str]:
    text = _SPLIT_ACRONYM.sub(r"\1\2", text)
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def acronyms(text: str) -> dict[str, tuple[str, ...]]:
    """Acronyms the words of `text` could stand for: {"rd": ("research", "development")} for
    "research and development" (2 to 4 consecutive words, joined by at most "and"/"of")."""
    words = [w for w in _WORD.findall(text.lower()) if w not in ("and", "of", "the", "for")]
    found = {}
    for size in (2, 3, 4):
        for i in range(len(words) - size + 1):
            group = words[i : i + size]
            if any(w in STOPWORDS for w in group):
                continue
            found["".join(w[0] for w in group)] = tuple(_stem(w) for w in group)
    return found


class BM25:
    """Okapi BM25 scores of a query against a fixed list of texts."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75):
        import bm25s

        self.size = len(texts)
        self._model = bm25s.BM25(k1=k1, b=b, method="lucene")
        tokenized = [tokenize(t) or ["\x00"] for t in texts]
        if texts:
            # bm25s wants a token per document; an empty one gets a placeholder.
            self._model.index(tokenized, show_progress=False)
        df: dict[str, int] = {}
        for tokens in tokenized:
            for token in set(tokens):
                df[token] = df.get(token, 0) + 1
        self._df = df

    def idf(self, token: str) -> float:
        """Inverse document frequency (BM25's, never negative); unseen words get the highest."""
        n = self._df.get(token, 0)
        return float(np.log(1.0 + (self.size - n + 0.5) / (n + 0.5)))

    def scores(self, query: str) -> np.ndarray:
        """A score per text (0 where no query word occurs)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        tokens = tokenize(query)
        tokens += [a for a in acronyms(query) if a not in tokens]
        tokens = [t for t in tokens if t in self._model.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)
