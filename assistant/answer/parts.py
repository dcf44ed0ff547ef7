"""Multi-part questions: "When was it founded, and who runs it?" is two questions.

The answer model scores a sentence against the whole question it reads, so for a two-part
question the sentence answering one part wins and the other part's sentence, often in another
passage, is left out. A question whose clauses are joined as questions (", and" or ";" before a
question word or auxiliary, or a "?" followed by another question; in such a question, also a comma
before one: a list of questions) is split into its parts, and
each part is answered on its own (`answering.ask`). Coordination of two interrogative clauses is
English syntax, not a pattern of any document; a part under MIN_WORDS words ("and why?") is
too short to read alone, so such a question stays whole, as does one of more than MAX_PARTS parts.
"""

from __future__ import annotations

import re

MIN_WORDS = 3
# Each part is searched and read on its own, so a pasted list of hundreds of questions had held a
# core for a minute; more parts than this and the question is read whole, as one.
MAX_PARTS = 6
_OPENERS = (
    "what|which|who|whom|whose|when|where|why|how|"
    "is|are|was|were|do|does|did|has|have|had|can|could|will|would|should"
)
_BOUNDARY = re.compile(rf"(?:\?\s+|\s*;\s*(?:and\s+)?|,?\s+and\s+)(?=(?:{_OPENERS})\b)", re.I)


# In a list of questions ("How long is it, what does it cost, and when does it open?") a comma
# before a question word is a boundary too, where the list ends in a joined question; not before
# a word that also opens a relative clause ("the tower, which opened in 1889, and ...": who,
# whom, whose, which), which keeps its clause, nor before "when" or "where" unless an auxiliary
# follows ("where is it" asks; "where it stands" is a clause).
_AUXILIARIES = "is|are|was|were|do|does|did|has|have|had|can|could|will|would|should"
_LIST_OPENERS = f"what|why|how|{_AUXILIARIES}|(?:when|where)\\s+(?:{_AUXILIARIES})"  # "when does it", not "when it"
_LIST_COMMA = re.compile(rf",\s+(?=(?:{_LIST_OPENERS})\b)", re.I)


def question_parts(question: str) -> list[str]:
    """The question's parts, in order; the question alone when it has one part."""
    pieces = _BOUNDARY.split(question.strip())
    if len(pieces) > 1:
        pieces = [part for piece in pieces for part in _LIST_COMMA.split(piece)]
    pieces = [p.strip(" ,;") for p in pieces]
    pieces = [p for p in pieces if p]
    if not 2 <= len(pieces) <= MAX_PARTS or any(len(re.findall(r"\w+", p)) < MIN_WORDS for p in pieces):
        return [question]
    return [p if p.endswith("?") else f"{p}?" for p in pieces]
