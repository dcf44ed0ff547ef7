"""The pre-filter: which sentences of the retrieved passages the answer model reads.

Reading a candidate costs one pass of the cross-encoder, so only `Settings.answer_candidates` of
the retrieved passages' sentences are read. They are chosen by a score of what the index already
holds, with no model call: the question's cosine with the stored vector of the sentence and of
its neighbours, the share of the question's IDF-weighted words it holds, its passage's retrieval
rank and score, and where it stands in the passage (`FEATURES`). `training/prefilter.py` fits
the weights of that score as a conditional logit (a softmax over each training question's
candidates, from the product's own retrieval over the training split) and records them in the
answer model's card (`"prefilter"`). A card without them ranks by the hand-set score used before:
the cosine plus half the word share (`stock`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = (
    "cosine",  # the stored sentence vector's cosine with the question
    "share",  # share of the question's IDF-weighted words in the sentence
    "cosine_previous",  # the document's sentence before (the sentence's own cosine when none)
    "cosine_next",  # the document's sentence after (likewise)
    "has_previous",  # 1 if the document has a sentence before
    "has_next",  # 1 if it has one after
    "passage_rank",  # retrieval rank of its passage (0 = best)
    "passage_score",  # its passage's retrieval score
    "log_length",  # log of its length in characters
    "opens_passage",  # 1 if it starts its passage
    "position",  # where it starts in its passage, 0 to 1
    "cosine_below_passage_best",  # its cosine minus the best cosine of its passage
    "cosine_times_share",
)
# Only differences within a question's candidates count (the fit is a softmax over them), so a
# feature shifted by a constant per question, such as the cosine minus the best candidate's,
# would add nothing; its passage's best is not constant across passages, so it stays.
STOCK_LEXICAL = 0.5  # the hand-set score: cosine + STOCK_LEXICAL * share


def stock(features: np.ndarray) -> np.ndarray:
    """The score used before the fitted one: cosine plus half the word share."""
    return features[:, 0] + STOCK_LEXICAL * features[:, 1]


@dataclass(frozen=True)
class Prefilter:
    """A linear score over the standardised `FEATURES` (fitted by `training/prefilter.py`)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self):
        sizes = {len(self.mean), len(self.scale), len(self.weights)}
        if sizes != {len(FEATURES)}:
            raise ValueError(f"expected {len(FEATURES)} values per field, got {sorted(sizes)}")
        if not all(np.isfinite(v) for v in self.mean + self.scale + self.weights) or min(self.scale) <= 0:
            raise ValueError("values must be finite and scales positive")

    @classmethod
    def from_card(cls, raw: dict) -> "Prefilter":
        """From the card's "prefilter" section; names must be `FEATURES`, in that order."""
        if list(raw["features"]) != list(FEATURES):
            raise ValueError("its features are not this version's")
        return cls(*(tuple(float(v) for v in raw[field]) for field in ("mean", "scale", "weights")))

    def scores(self, features: np.ndarray) -> np.ndarray:
        standardised = (np.asarray(features, dtype=np.float64) - np.array(self.mean)) / np.array(self.scale)
        return standardised @ np.array(self.weights)


def features(cosines, shares, neighbours, ranks, passage_scores, lengths, opens, positions) -> np.ndarray:
    """One row of `FEATURES` per candidate. `neighbours`: (cosine before or None, cosine after or
    None) per candidate; the rest are per-candidate sequences in `FEATURES`' sense."""
    cosines = np.asarray(cosines, dtype=np.float64)
    shares = np.asarray(shares, dtype=np.float64)
    ranks = np.asarray(ranks)
    if not len(cosines):
        return np.zeros((0, len(FEATURES)))
    passage_best = {r: cosines[ranks == r].max() for r in set(ranks.tolist())}
    before = np.array([c if b is None else b for c, (b, _) in zip(cosines, neighbours)], dtype=np.float64)
    after = np.array([c if a is None else a for c, (_, a) in zip(cosines, neighbours)], dtype=np.float64)
    return np.column_stack([
        cosines, shares, before, after,
        [b is not None for b, _ in neighbours], [a is not None for _, a in neighbours],
        ranks, passage_scores,
        np.log(np.maximum(np.asarray(lengths, dtype=np.float64), 1.0)), opens, positions,
        cosines - np.array([passage_best[r] for r in ranks.tolist()]), cosines * shares,
    ]).astype(np.float64)


def scores(features: np.ndarray, prefilter: Prefilter | None) -> np.ndarray:
    """The candidates' pre-filter scores: the fitted ones, or `stock` without a fit."""
    return stock(features) if prefilter is None else prefilter.scores(features)
