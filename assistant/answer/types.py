"""What `ask()` returns: an `Answer` whose every claim carries a `Citation` into a passage.

`Citation.quote` is verbatim text of the cited passage's source at `quote_start:quote_end`; the
answer text is built from those quotes (extractive) or checked against them (generated), never
the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.search.retrieval import Hit


RELATED = 3  # closest passages offered with a refusal


@dataclass(frozen=True)
class Citation:
    """Marker `[n]` in the answer text, pointing at `hit`; `quote` is the supporting text."""

    n: int
    hit: Hit = field(repr=False)  # the whole passage: left out of the repr
    quote: str
    quote_start: int
    quote_end: int


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # with inline markers [1], [2] ...; the refusal phrase when abstained
    citations: tuple[Citation, ...]
    abstained: bool
    hits: tuple[Hit, ...] = field(repr=False)  # everything retrieved, best first (not in the repr: whole passages)
    query: str = ""  # what was searched (the question, rewritten for a follow-up)
    # or "generated", "overview" (a document's opening sentences, quoted: answer/overview.py), or
    # "conversation" (a reply to "hi" or "thanks": no claim, no citation)
    method: str = "extractive"
    notice: str = ""  # e.g. why a configured language model was not used
    confidence: float = 0.0  # the answerability score in [0, 1]
    # answered, but with a confidence (for a multi-part question: some answered part's) below the
    # level at which the answer model counts as sure (`Settings.answer_unsure_below`): right less often;
    # or with a part below the threshold whose best sentence another part's passage brought in
    unsure: bool = False
    read_as: str = ""  # the question as searched and read when its typing slips were read otherwise, else ""
    # when abstaining: in each related passage the model read, the sentence it found closest to an
    # answer (n: the passage's place in `related`, from 1), so that a reader sees it first
    closest: tuple[Citation, ...] = field(default=(), repr=False)

    @property
    def related(self) -> tuple[Hit, ...]:
        """When abstaining: the closest passages, offered as related reading, not as an answer."""
        return self.hits[:RELATED] if self.abstained else ()
