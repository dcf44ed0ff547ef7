"""Follow-up questions: turn "What did he say about it?" into a query that stands on its own.

A question that leans on the conversation (a pronoun, a leading "and"/"what about", or very few
words) is searched together with the earlier question it follows, itself resolved the same way. A
question that names its own subject is searched as it is, so changing the topic costs nothing.
"""

from __future__ import annotations

import re
from typing import Sequence

_ANAPHORA = re.compile(
    r"\b(?:he|she|it|they|him|her|them|his|hers|its|their|theirs|this|that|these|those|there|then|the same|the former|the latter)\b",
    re.I,
)
_CONTINUATION = re.compile(r"^\s*(?:and|also|but|so|what about|how about|why|what else|anything else|more)\b", re.I)
_MIN_WORDS = 3


def is_followup(question: str) -> bool:
    words = re.findall(r"\w+", question)
    return bool(_ANAPHORA.search(question) or _CONTINUATION.search(question) or len(words) < _MIN_WORDS)


def contextualize(question: str, history: Sequence | None) -> str:
    """The query to search for `question` given earlier turns, oldest first: (question, answer)
    pairs, or chat messages ({"role": "user", "content": ...})."""
    standalone = ""
    for earlier in _questions(history or ()):
        standalone = _combine(standalone, earlier)
    return _combine(standalone, question)


def _combine(context: str, question: str) -> str:
    question = question.strip()
    if context and is_followup(question):
        return f"{context} {question}"
    return question


def _questions(history) -> list[str]:
    out = []
    for turn in history:
        if isinstance(turn, dict):
            if turn.get("role") == "user" and isinstance(turn.get("content"), str):
                out.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            out.append(turn[0])
    return [q for q in out if q.strip()]
