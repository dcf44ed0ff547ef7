"""Typing slips in a question, read as the documents' words.

A slip ("dishwaster", "advertsied") matches nothing in BM25, splits into word pieces the models
rarely saw, and turns answerable questions into refusals. A question word of 4 or more letters
that is neither a word of the indexed documents nor an English word (the frequency dictionary
that symspellpy ships), nor, by Snowball stem, a form of either ("molding" of "mold",
"kardashians" of a document's "kardashian"), nor a contraction, a possessive, an acronym (all
capitals: "CITA") or a word with capitals inside ("McDonnald", "iPhnoe": a name whose casing would be
lost), nor part of a larger token (an address, a domain, code, a hyphenated compound: only a word
between spaces, quotes, brackets or closing punctuation is read otherwise), and is one edit
(a letter added, left out, changed, or two neighbours swapped) from a word of the documents is
read as that word, the most frequent one when several are (symspellpy's lookup; never a possessive),
unless the question (of three words or more) is mostly of words neither known nor slips: another language.
One edit only: two would turn "unsafest" into "safest". Everything else in the question stays as
typed. Words are compared in their composed Unicode form, so an accent typed as a letter and a
combining mark ("e" + U+0301) is the same word as the accented letter.
Measured on the training data's dev split (training/README.md, "Typing slips").
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable

# letters (with their combining accents: text pasted from some systems keeps "é" as "e" + U+0301),
# with an apostrophe inside ("shouldn't")
_LETTERS = r"(?:[^\W\d_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])+"
_WORD = re.compile(_LETTERS + r"(?:['’]" + _LETTERS + r")*")
# A word is read otherwise only where it stands alone: between spaces or dashes, with nothing
# around it but quotes, brackets and closing punctuation (full-width too). A word inside a larger token (an address, a domain, a
# file name, code, a hyphenated compound: "help@acmebak.com", "load_confg", "--verbos") stays as
# typed: reading "acmebak" as a document's "acmebank" would answer about another address.
_OPENING = "\"'“‘„‚«‹(\[{¿¡"
_CLOSING = "\"'”’“»›)\]}.,;:!?…？！。，、；："
_STANDALONE = re.compile(rf"(?<![^\s—–])([{re.escape(_OPENING)}]*)(" + _WORD.pattern + rf")(?=[{re.escape(_CLOSING)}]*(?:[\s—–]|$))")
JUDGED_FROM = 3  # words a question needs before most of them unknown leaves it as typed (one or two tell nothing)
MIN_LETTERS = 4  # shorter words are too often another word one edit away
MAX_WORDS = 100_000  # the most frequent document words a slip is read as (at 100,000: ~100 MB, ~4 s to build here)


class Speller:
    """Reads the slips of a question as words of `texts` (the indexed documents)."""

    def __init__(self, texts: Iterable[str], max_words: int = MAX_WORDS):
        from symspellpy import SymSpell

        counts = Counter(word.lower() for text in texts for word in _WORD.findall(unicodedata.normalize("NFC", text)))
        self._known = set(counts)
        self._known_stems = set(_stems(list(counts)))
        self._lookup = SymSpell(max_dictionary_edit_distance=1, prefix_length=7)
        self._lock = threading.Lock()  # symspellpy's lookup reuses buffers: one question at a time
        for word, count in counts.most_common(max_words):
            # a 4-letter slip may be a 3-letter word with a letter added; never read as a possessive
            if len(word) >= MIN_LETTERS - 1 and "'" not in word and "’" not in word:
                self._lookup.create_dictionary_entry(word, count)

    def correct(self, text: str) -> str:
        """`text` with each slip read as its document word (see the module docstring); as typed
        where, of JUDGED_FROM words or more, fewer than half are known (`_known_word`) or slips of
        known words: a question in another language ("Wie viel hat …": "viel" had been read as a
        document's "view") or of words the documents do not use is not one of slips."""
        words = [m.group(2) for m in _STANDALONE.finditer(text)]
        read = [self._word(word) for word in words]
        # a word read otherwise (a slip) counts as known: a question with more slips is no more foreign
        known = sum(1 for word, as_read in zip(words, read) if as_read != word or self._known_word(word))
        if len(words) >= JUDGED_FROM and 2 * known < len(words):
            return text
        readings = iter(read)
        return _STANDALONE.sub(lambda m: m.group(1) + next(readings), text)

    def _known_word(self, word: str) -> bool:
        """Whether `word` is a document word, an English word, or a form of either."""
        lower = unicodedata.normalize("NFC", word).lower()
        if lower in self._known:
            return True
        stem = _stem(lower)
        return _is_english(lower, stem) or stem in self._known_stems

    def _word(self, word: str) -> str:
        lower = unicodedata.normalize("NFC", word).lower()
        if len(lower) < MIN_LETTERS or "'" in word or "’" in word or word.isupper() or not word[1:].islower():
            return word  # short, a contraction or possessive, an acronym, capitals inside ("McDonnald", "iPhnoe")
        if self._known_word(word):
            return word
        from symspellpy import Verbosity

        with self._lock:
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
