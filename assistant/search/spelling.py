"""Typing slips in a question, read as the documents' words.

A slip ("dishwaster", "advertsied") matches nothing in BM25, splits into word pieces the models
rarely saw, and turns answerable questions into refusals. A question word of 4 or more letters
that is neither a word of the indexed documents nor an English word (the frequency dictionary
that symspellpy ships), nor, by Snowball stem, a form of either ("molding" of "mold",
"kardashians" of a document's "kardashian"), nor a contraction, a possessive or an acronym (all
capitals: "CITA"), and is one edit
(a letter added, left out, changed, or two neighbours swapped) from a word of the documents is
read as that word, the most frequent one when several are (symspellpy's lookup). One edit only:
two would turn "unsafest" into "safest". Everything else in the question stays as typed.
Measured on the training data's dev split (training/README.md, "Typing slips").
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from functools import lru_cache
from typing import Iterable

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")  # letters, with an apostrophe inside ("shouldn't")
MIN_LETTERS = 4  # shorter words are too often another word one edit away
MAX_WORDS = 100_000  # the most frequent document words a slip is read as (at 100,000: ~100 MB, ~4 s to build here)


class Speller:
    """Reads the slips of a question as words of `texts` (the indexed documents)."""

    def __init__(self, texts: Iterable[str], max_words: int = MAX_WORDS):
        from symspellpy import SymSpell

        counts = Counter(word.lower() for text in texts for word in _WORD.findall(text))
        self._known = set(counts)
        self._known_stems = set(_stems(list(counts)))
        self._lookup = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
        for word, count in counts.most_common(max_words):
            if len(word) >= MIN_LETTERS - 1:  # a 4-letter slip may be a 3-letter word with a letter added
                self._lookup.create_dictionary_entry(word, count)

    def correct(self, text: str) -> str:
        """`text` with each slip read as its document word (see the module docstring)."""
        return _WORD.sub(lambda m: self._word(m.group()), text)

    def _word(self, word: str) -> str:
        lower = word.lower()
        if len(word) < MIN_LETTERS or "'" in word or "’" in word or word.isupper():
            return word  # short, a contraction or possessive, an acronym
        if lower in self._known:
            return word
        stem = _stem(lower)
        if _is_english(lower, stem) or stem in self._known_stems:
            return word
        from symspellpy import Verbosity

        found = self._lookup.lookup(lower, Verbosity.TOP, max_edit_distance=1)
        if not found:
            return word
        return _cased_like(found[0].term, word)


class LazySpeller:
    """A `Speller` of `texts()`, built at the first `correct` (once, under a lock)."""

    def __init__(self, texts):
        self._texts, self._speller, self._lock = texts, None, threading.Lock()

    def correct(self, text: str) -> str:
        if self._speller is None:
            with self._lock:
                if self._speller is None:
                    self._speller = Speller(self._texts())
        return self._speller.correct(text)


def _cased_like(word: str, typed: str) -> str:
    """`word` capitalised when `typed` is (an all-capitals word is never read otherwise)."""
    return word[:1].upper() + word[1:] if typed[:1].isupper() else word


def _is_english(word: str, stem: str) -> bool:
    """Whether `word` (with its Snowball `stem`) is an English word or a form of one."""
    words, stems = _english()
    return word in words or stem in stems


@lru_cache(maxsize=1)
def _english() -> tuple[frozenset, frozenset]:
    """The words of symspellpy's English frequency dictionary and their stems."""
    import symspellpy

    path = os.path.join(os.path.dirname(symspellpy.__file__), "frequency_dictionary_en_82_765.txt")
    with open(path, encoding="utf-8") as handle:
        words = frozenset(line.split(maxsplit=1)[0] for line in handle if line.strip())
    return words, frozenset(_stems(list(words)))


_stem_lock = threading.Lock()  # a PyStemmer stemmer is not safe to share between threads


def _stem(word: str) -> str:
    with _stem_lock:
        return _stemmer().stemWord(word)


def _stems(words: list[str]) -> list[str]:
    with _stem_lock:
        return _stemmer().stemWords(words)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")
