"""Framed questions: the same question with conversational words around it.

People write "Hi! Who is Ken Hu? Thanks!" as often as "Who is Ken Hu?". The traindata's
questions are bare, and the model reads the extra words as part of what is asked: on the dev
split, framing costs the shipped model 0.04 answerability AUC and triples its false refusals.
`framed` puts a greeting or request in front, thanks or a plea behind, or both. Two disjoint sets
of framings: `TRAIN` makes training questions (`train.py --framed N`, each trained toward the
teacher's logit for the question as asked: the framing should change nothing), `HELD_OUT` only
measures, so a model is not credited for the very framings it was trained on.

    python training/framing.py --model models/answer --dev-questions 0   # the dev split's questions as asked and framed
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@dataclass(frozen=True)
class Framings:
    before: tuple[str, ...]
    after: tuple[str, ...]


TRAIN = Framings(
    before=("Could you tell me ", "Do you know ", "I'd like to know: ", "Question - ", "So, ", "OK so ", "Hello, ",
            "One more thing: ", "Tell me, ", "Just curious: ", "Help! ", "Hi there. ", "Quick one: ", "Sorry, ",
            "Good morning! ", "I need to know: "),
    after=(" Thx.", " Thanks a lot!", " Many thanks.", " Does anyone know?", " Appreciate it.", " ty", " Please.",
           " Anyone?", " I can't find it.", " :)", " Thank you so much!", " Please reply.", " Thanks, John",
           " I'm confused."),
)
HELD_OUT = Framings(
    before=("Can you tell me: ", "Quick question: ", "I was wondering, ", "Please answer this: ", "Hi! ", "Hey, "),
    after=(" Thanks!", " Thank you.", " Any idea?", " Please help.", " Cheers", " Thanks in advance!"),
)


def framed(question: str, framings: Framings, rng: random.Random) -> str:
    """`question` with words before it (2 in 5), after it (2 in 5) or both (1 in 5)."""
    kind = rng.random()
    before = rng.choice(framings.before) if kind < 0.4 or kind >= 0.8 else ""
    after = rng.choice(framings.after) if kind >= 0.4 else ""
    return before + question + after


def measure(scorer, items, false_refusal: float = 0.05, bridge_chars: int = 0, seed: int = 0) -> dict:
    """Best sentence and answerability AUC (train.py `evaluate`) of the dev questions `items` as
    asked and framed with `HELD_OUT`, the latter at the threshold that refuses `false_refusal` of
    them as asked: how much of that share the framing adds."""
    from training.rewording import measure_changed

    return measure_changed(scorer, items, lambda question, rng: framed(question, HELD_OUT, rng), "framed",
                           false_refusal, bridge_chars, seed)


def main(argv=None) -> int:
    """The dev split's questions as asked and framed, for a model folder (see `measure`)."""
    from training import dev_check

    def framed_questions(model, dev, embed):
        """The dev split's questions as asked and framed with the held-out framings (model probabilities)."""
        return measure(model.scores, dev, bridge_chars=model.card.candidate_bridge_chars)

    return dev_check.main(framed_questions, argv)


if __name__ == "__main__":
    raise SystemExit(main())
