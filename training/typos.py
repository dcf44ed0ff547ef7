"""Questions with typing slips: the same question with a letter or two wrong.

People type "Who is the rotating chiarman?" as often as they spell it right. The model reads
word pieces, and a slip splits a word into pieces it rarely saw in training. `typoed` makes a slip
in one word of four or more letters (3 in 5) or in two (2 in 5), never in a word's first letter.
Two disjoint sets of slips: `TRAIN` (two neighbouring letters swapped, a letter left out) makes
training questions (`train.py --typos N`, each trained toward the teacher's logit for the question
as typed right: the slip should change nothing), `HELD_OUT` (a letter doubled, a letter replaced
by its neighbour on the keyboard) only measures, so a model is not credited for the very slips it
was trained on.

    python training/typos.py --model models/answer --dev-questions 0   # the dev split's questions as asked and with slips
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TRAIN = ("swap", "drop")
HELD_OUT = ("double", "neighbour")
_WORD = re.compile(r"[A-Za-z]{4,}")
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {row[i]: row[max(i - 1, 0):i] + row[i + 1:i + 2] for row in _ROWS for i in range(len(row))}


def typoed(question: str, slips: tuple[str, ...], rng: random.Random) -> str:
    """`question` with a slip of one of `slips` in one or two of its words of 4+ letters (the
    question itself when it has none)."""
    words = [m.span() for m in _WORD.finditer(question)]
    if not words:
        return question
    count = 1 if rng.random() < 0.6 or len(words) == 1 else 2
    for start, end in sorted(rng.sample(words, count), reverse=True):  # from the end: the spans stay right
        question = question[:start] + slipped(question[start:end], rng.choice(slips), rng) + question[end:]
    return question


def slipped(word: str, slip: str, rng: random.Random) -> str:
    """`word` (4+ letters) with one `slip` after its first letter."""
    i = rng.randrange(1, len(word) - 1)
    if slip == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:] if word[i] != word[i + 1] else word[:i] + word[i + 1:]
    if slip == "drop":
        return word[:i] + word[i + 1:]
    if slip == "double":
        return word[:i + 1] + word[i:]
    if slip == "neighbour":
        near = rng.choice(_NEIGHBOURS[word[i].lower()])
        return word[:i] + (near.upper() if word[i].isupper() else near) + word[i + 1:]
    raise ValueError(f"slip {slip!r}: expected one of {', '.join(TRAIN + HELD_OUT)}")


def measure(scorer, items, false_refusal: float = 0.05, bridge_chars: int = 0, seed: int = 0) -> dict:
    """Best sentence and answerability AUC (train.py `evaluate`) of the dev questions `items` as
    asked and with `HELD_OUT` slips, the latter at the threshold that refuses `false_refusal` of
    them as asked: how much of that share the slips add."""
    from training.rewording import measure_changed

    return measure_changed(scorer, items, lambda question, rng: typoed(question, HELD_OUT, rng), "typoed",
                           false_refusal, bridge_chars, seed)


def main(argv=None) -> int:
    """The dev split's questions as asked and with slips, for a model folder (see `measure`)."""
    from training import dev_check

    def typoed_questions(model, dev, embed):
        """The dev split's questions as asked and with the held-out slips (model probabilities)."""
        return measure(model.scores, dev, bridge_chars=model.card.candidate_bridge_chars)

    return dev_check.main(typoed_questions, argv)


if __name__ == "__main__":
    raise SystemExit(main())
