"""The bridge: what else of its passage the answer model reads with a candidate sentence.

A question worded unlike its answer often names its subject in another sentence of the passage
("What did the company's founder think of it?" against "He called it a mistake."). The bridge is
the passage's other sentence (not the candidate, not the one before it, which the model already
reads) that shares the most of the question's content words; the model reads its first
`bridge_chars` characters after the candidate's usual context. Whether a model reads a bridge,
and how much, is recorded on its card (`bridge_chars`); training and inference both choose it here.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset("a an the of to in on for and or is are was were be it this that with what how who why when where which does do did i my you your".split())


def words(text: str) -> set[str]:
    """The content words of `text`: lower-cased letters and digits, a few function words left out."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOP}


def word_share(question: str, text: str) -> float:
    """Share of the question's content words that `text` holds."""
    asked = words(question)
    return len(asked & words(text)) / len(asked) if asked else 0.0


def choose(question: str, others: Iterable[str]) -> str:
    """The one of `others` sharing the most of the question's content words (the first of equals),
    or "" when none shares any."""
    best, best_share = "", 0.0
    for text in others:
        share = word_share(question, text)
        if share > best_share:
            best, best_share = text, share
    return best


def of(question: str, passage: Sequence[str], position: int, left_out: Iterable[int] = ()) -> str:
    """The bridge of `passage[position]`: `choose` over the passage's other sentences, leaving out
    the one before it (already read as its context) and the places in `left_out`."""
    skipped = {position, position - 1, *left_out}
    return choose(question, (text for i, text in enumerate(passage) if i not in skipped))
