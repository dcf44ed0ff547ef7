"""Fits the pre-filter (`assistant/answer/prefilter.py`): which retrieved sentences the model reads.

The answer model reads only `Settings.answer_candidates` (8) of the ~40 sentences of the retrieved
passages; a sentence the pre-filter drops can never be the answer. This asks every train question
through the product's own retrieval over an index of all train documents (as `mined.py` does),
takes each candidate's row of `prefilter.FEATURES` (what the index already holds: cosines of the
sentence and its neighbours, word share, passage rank and score, position) and fits a linear
score as a conditional logit: a softmax over each question's candidates that puts its mass on the
sentences overlapping the question's evidence. Then it measures recall@k on the dev split
(documents never fitted on, asked through their own index): how often an answer sentence is
among the first k kept, for the stock score (cosine + half the word share) and the fitted one,
and writes the weights and both figures into the model's card (`"prefilter"`).
Only ../shared/traindata is read.

    python training/prefilter.py                        # ~5 min on 2 cores (~3 of it indexing)
    python training/prefilter.py --model DIR --dry-run  # figures only, the card untouched
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer import extractive, prefilter  # noqa: E402
from assistant.answer.model import MODEL_DIR, REQUIRED_FILES, Card, ModelError, verify_files  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.ingest.embeddings import make_embedder  # noqa: E402
from assistant.search.retrieval import Searcher, searcher_for  # noqa: E402
from training import dev_index  # noqa: E402
from training.pairs import TRAINDATA, TrainQuestion, count_error, every_nth, questions, weight  # noqa: E402
from training.train import CardEdit, _write_card, commit  # noqa: E402

CUTOFFS = (1, 2, 4, 6, 8, 12)


def candidate_rows(items: list[TrainQuestion], searcher: Searcher, settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, question number) of every candidate of every question in `items`, as
    the product gathers them: retrieval's `answer_k` passages, all their sentences. A candidate
    is positive when it overlaps the question's evidence in its own document."""
    tables, labels, owners = [], [], []
    for number, q in enumerate(items):
        vector = searcher.embed([q.question])
        hits = searcher.search_many([q.question], settings.answer_k, vectors=vector)[0]
        found, table = extractive.with_features(q.question, vector[0], hits, searcher)
        tables.append(table)
        labels.append([dev_index.holds_evidence(q, c) for c in found])
        owners.append(np.full(len(found), number))
    return np.vstack(tables), np.concatenate(labels).astype(bool), np.concatenate(owners)


def fit(features: np.ndarray, labels: np.ndarray, owners: np.ndarray, epochs: int = 300, seed: int = 0,
        question_weights: np.ndarray | None = None) -> prefilter.Prefilter:
    """The conditional logit: weights over the standardised features that maximise, per question
    with an answer among its candidates, the softmax mass on its answer sentences (full batch,
    Adam; deterministic for a seed). `question_weights` (per question number, default 1) weigh
    each question's term of the loss."""
    import torch

    torch.manual_seed(seed)
    mean, scale = features.mean(0), features.std(0)
    scale[scale == 0] = 1.0
    answered = [n for n in np.unique(owners) if labels[owners == n].any()]
    if not answered:
        raise ValueError("no question has an answer sentence among its candidates: nothing to fit")
    keep = np.isin(owners, answered)
    x = torch.tensor((features[keep] - mean) / scale, dtype=torch.float32)
    y = torch.tensor(labels[keep], dtype=torch.float32)
    group = torch.tensor(np.searchsorted(answered, owners[keep]))
    weights = torch.zeros(features.shape[1], requires_grad=True)
    optimiser = torch.optim.Adam([weights], lr=1e-2, weight_decay=1e-4)
    groups = len(answered)
    weight = torch.ones(groups) if question_weights is None else torch.tensor(np.asarray(question_weights, dtype=np.float32)[answered])
    for _ in range(epochs):
        z = x @ weights
        top = torch.zeros(groups).scatter_reduce(0, group, z, "amax", include_self=False).detach()
        e = torch.exp(z - top[group])
        mass = torch.log(torch.zeros(groups).index_add(0, group, e * y)) - torch.log(torch.zeros(groups).index_add(0, group, e))
        loss = -(weight * mass).sum() / weight.sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return prefilter.Prefilter(tuple(mean.tolist()), tuple(scale.tolist()), tuple(weights.detach().double().tolist()))


def recall(scores: np.ndarray, labels: np.ndarray, owners: np.ndarray, questions_asked: int) -> dict[str, float]:
    """Share of the questions asked whose answer sentence is among the first k by `scores`
    (ties: the candidate met first, as the product's stable sort)."""
    found = {k: 0 for k in CUTOFFS}
    for number in np.unique(owners):
        mine = owners == number
        ranked = labels[mine][np.argsort(-scores[mine], kind="stable")]
        for k in CUTOFFS:
            found[k] += bool(ranked[:k].any())
    return {f"@{k}": round(v / questions_asked, 4) for k, v in found.items()}


def threshold_of(model_dir: Path, false_refusal: float = 0.05) -> dict:
    """The card's "threshold" and "threshold_chosen" by the shipped rule (`combine.seen_threshold`):
    the highest that refuses at most `false_refusal` of the seen article questions, asked through ask()."""
    from training.combine import SEEN_QUESTIONS, seen_threshold

    chosen = seen_threshold(model_dir, SEEN_QUESTIONS, false_refusal)
    earlier = Card.read(model_dir).raw.get("threshold_chosen", {})
    return {"threshold": chosen["threshold"], "threshold_chosen": earlier | chosen | {"after": "training/prefilter.py"}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--model", type=Path, default=MODEL_DIR, help="the answer model whose card gets the weights")
    parser.add_argument("--questions", type=int, default=0, help="train questions fitted on (0: all)")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--workdir", type=Path, help="keep the train and dev documents and their indexes here")
    parser.add_argument("--dry-run", action="store_true", help="print the figures, leave the card as it is")
    parser.add_argument("--low-overlap-weight", type=float, default=1.0,
                        help="weight of a question worded unlike its answer (pairs.low_overlap) in the fit, against 1 for the others")
    args = parser.parse_args(argv)
    if not args.low_overlap_weight > 0:
        print(f"error: --low-overlap-weight {args.low_overlap_weight}: must be above 0", file=sys.stderr)
        return 2
    if error := count_error(("--questions", args.questions)):
        print(error, file=sys.stderr)
        return 2
    if args.epochs < 1:
        print(f"error: --epochs {args.epochs}: must be 1 or more", file=sys.stderr)
        return 2
    try:  # the card as written: its pre-filter, stale or not, is replaced
        raw = json.loads((args.model / "card.json").read_text("utf-8"))
        raw["files"], raw["threshold"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"error: --model {args.model}: no readable answer model card there ({type(err).__name__}: {err})", file=sys.stderr)
        return 2
    try:  # the threshold is chosen through ask(): the model files must be there (its old pre-filter may be stale)
        if not args.dry_run:  # a dry run only fits and prints
            verify_files(args.model, {name: raw["files"].get(name) for name in REQUIRED_FILES})
    except (ModelError, AttributeError) as err:
        print(f"error: --model {args.model}: {err}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    settings = Settings.from_env()
    embedder = make_embedder(settings)
    train = questions(args.traindata, split="train")
    train = every_nth(train, args.questions)
    dev = questions(args.traindata, split="dev")
    with tempfile.TemporaryDirectory() as scratch:
        work = args.workdir or Path(scratch)
        fitted_on = candidate_rows(train, searcher_for(dev_index.build(train, args.traindata, work / "train", settings, embedder),
                                                       settings, embedder), settings)
        measured_on = candidate_rows(dev, searcher_for(dev_index.build(dev, args.traindata, work / "dev", settings, embedder),
                                                       settings, embedder), settings)
    try:
        weights = np.array([weight(q, args.low_overlap_weight) for q in train])
        ranker = fit(*fitted_on, epochs=args.epochs, question_weights=weights)
    except ValueError as err:
        print(f"error: --traindata {args.traindata}: {err}", file=sys.stderr)
        return 2
    features, labels, owners = measured_on
    figures = {"split": "dev (traindata documents never fitted on)", "questions": len(dev),
               "stock": recall(prefilter.stock(features), labels, owners, len(dev)),
               "fitted": recall(ranker.scores(features), labels, owners, len(dev)),
               "reachable": round(len({int(n) for n in owners[labels]}) / len(dev), 4)}
    print(json.dumps(figures))
    if args.dry_run:
        return 0
    command = "python training/prefilter.py " + " ".join(sys.argv[1:] if argv is None else argv)
    raw["prefilter"] = {
        "features": list(prefilter.FEATURES), "mean": list(ranker.mean), "scale": list(ranker.scale), "weights": list(ranker.weights),
        "fitted_on": f"traindata train split, {len(train)} questions, {len(fitted_on[0])} candidates (answer_k={settings.answer_k})",
        "dev": figures, "command": command, "commit": commit(), "wall_seconds": round(time.perf_counter() - began),
    }
    with CardEdit(args.model) as edit:  # a run that fails or stops leaves the card as it was
        _write_card(args.model, raw)
        # the abstention threshold is read off the seen article questions through ask(), whose
        # candidates the pre-filter picks: chosen again by the same rule (training/combine.py)
        raw.update(threshold_of(args.model))
        raw["wall_seconds_prefilter"] = round(time.perf_counter() - began)
        _write_card(args.model, raw)
        edit.done()
    print(f"wrote the pre-filter into {args.model / 'card.json'} (threshold {raw['threshold']:.4f}) in "
          f"{time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
