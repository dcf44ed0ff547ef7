"""Swapped-question negatives: a question altered so that its answer sentence no longer answers it.

The hard unanswerable case is a passage on the right topic that says something close to, but not,
what was asked ("How long does the charger last?" against "The battery lasts ten hours"). The
traindata has no such questions, so they are made: one content word that the question shares with
its answer sentence is replaced by a related word (a near neighbour in the packaged MiniLM's
word-embedding table: "battery" -> "cord", "loop" -> "hook") that occurs nowhere in the question's
document. Neighbours that look like a form of the same word (sharing its first four letters) are
skipped, and so is a swapped question whose sentence vector stays too close to the original's
(`max_similarity`): it probably still asks the same thing (a synonym), and would be a false
negative. The (swapped question, answer sentence) pair is then a negative for training.

    python training/swaps.py --model models/answer     # the dev split's swapped questions: AUC, original vs swapped
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer.bridge import STOP  # noqa: E402
from training.pairs import TrainQuestion, read_as  # noqa: E402

_WORD = re.compile(r"[A-Za-z]{3,}")
# endings of adverbs, participles and adjectives: swapping those mostly gives a synonym or a broken
# question; things (nouns) give the near-miss questions wanted
_NOT_NOUNS = ("ly", "ed", "ing", "ful", "ous", "ive", "able", "ible")


@dataclass(frozen=True)
class Swap:
    question: TrainQuestion
    text: str  # the swapped question
    word: str  # the word replaced
    replacement: str


class Neighbours:
    """Nearest whole words in a BERT word-embedding table (cosine), letters only, 3+ characters."""

    def __init__(self, model_dir: Path):
        from safetensors.numpy import load_file

        weights = load_file(str(Path(model_dir) / "model.safetensors"))
        table = next(v for k, v in weights.items() if k.endswith("word_embeddings.weight"))
        vocab = (Path(model_dir) / "vocab.txt").read_text("utf-8").split("\n")[: len(table)]
        keep = [i for i, w in enumerate(vocab) if w.isalpha() and w.islower() and len(w) >= 3 and w not in STOP]
        self.words = [vocab[i] for i in keep]
        self.row = {w: i for i, w in enumerate(self.words)}
        vectors = table[keep].astype(np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def __call__(self, word: str, count: int) -> list[str]:
        i = self.row.get(word.lower())
        if i is None:
            return []
        # the two nearest are most often synonyms or other forms of the word: skipped
        order = np.argsort(-(self.vectors @ self.vectors[i]))[3 : count * 4 + 3]
        stem = word.lower()[:4]
        return [self.words[j] for j in order if not self.words[j].startswith(stem) and not word.lower().startswith(self.words[j][:4])
                and not self.words[j].endswith(_NOT_NOUNS)][:count]


def anchors(question: str, sentence: str) -> list[str]:
    """The question's content words that its answer sentence also holds (whole words)."""
    low = sentence.lower()
    return [w for w in _WORD.findall(question) if w.lower() not in STOP and not w.lower().endswith(_NOT_NOUNS)
            and re.search(rf"\b{re.escape(w.lower())}\b", low)]


def swapped(items: list[TrainQuestion], neighbours: Neighbours, embed, rng: random.Random,
            candidates: int = 10, max_similarity: float = 0.85, per_question: int = 1) -> list[Swap]:
    """At most `per_question` swapped questions per item, each swapping a different anchor
    (the longest first), for the items with a usable anchor and replacement.
    `embed(texts)`: unit sentence vectors, for the synonym check."""
    drafts: list[Swap] = []
    for q in items:
        document = " ".join(s.text for s in q.positives + q.negatives).lower()
        words = sorted(set(anchors(q.question, q.positives[0].text)), key=lambda w: (-len(w), w))
        made = 0
        for word in words[: per_question + 1]:  # the longest anchors: most often the thing asked about
            options = [r for r in neighbours(word, candidates) if not re.search(rf"\b{r}", document)]
            if options:
                replacement = rng.choice(options)
                if word[0].isupper():
                    replacement = replacement.capitalize()
                text = re.sub(rf"\b{re.escape(word)}\b", replacement, q.question, count=1)
                drafts.append(Swap(q, text, word, replacement))
                made += 1
                if made == per_question:
                    break
    if not drafts:
        return []
    before = embed([d.question.question for d in drafts])
    after = embed([d.text for d in drafts])
    similarity = (before * after).sum(1)
    return [d for d, s in zip(drafts, similarity) if s <= max_similarity]


def measure(scorer, items: list[TrainQuestion], embed, seed: int = 0, bridge_chars: int = 0) -> dict:
    """How well `scorer(question, texts)` tells a question from its swapped version, each read
    against the question's own document and near-topic sentences (the best score counts, as for
    answerability): the AUC, original against swapped. `items`: dev questions. `bridge_chars`:
    the model's; each wording gets its own bridges (`pairs.read_as`)."""
    from benchmarks.answers import auc
    from assistant.ingest.embeddings import model_path

    found = swapped(items, Neighbours(model_path()), embed, random.Random(seed))
    original, altered = [], []
    for s in found:
        sentences = s.question.positives + s.question.negatives + s.question.near
        original.append(float(np.max(scorer(s.question.question, [read_as(s.question.question, c, bridge_chars) for c in sentences]))))
        altered.append(float(np.max(scorer(s.text, [read_as(s.text, c, bridge_chars) for c in sentences]))))
    labels = np.r_[np.ones(len(original)), np.zeros(len(altered))]
    return {"swapped_questions": len(found), "swapped_auc": round(auc(np.r_[original, altered], labels), 4) if found else None}


def main(argv=None) -> int:
    """Measure a model folder on the dev split's swapped questions (see `measure`)."""
    from training import dev_check

    def swapped_questions(model, dev, embed):
        """The dev split's swapped questions: AUC, original against swapped (model logits)."""
        return measure(model.logits, dev, embed, bridge_chars=model.card.candidate_bridge_chars)  # as the candidates are read

    return dev_check.main(swapped_questions, argv)


if __name__ == "__main__":
    raise SystemExit(main())
