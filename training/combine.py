"""Second stage: combine the cross-encoder with what the index already knows, then pick the threshold.

    python training/combine.py                 # updates models/answer/card.json ("combine", "threshold", "dev")

The cross-encoder alone (training/train.py) learned reviews and Reddit posts; on Wikipedia it
chose worse sentences than the bi-encoder's cosine. So a candidate's probability is a logistic
function of three signals, each available at question time without another model call:

- the cross-encoder's logit for (question, sentence with its context);
- the cosine of the question and the sentence vector the index holds (all-MiniLM-L6-v2, 6 layers);
- the share of the question's IDF-weighted stemmed words the sentence holds (the IDF of the
  collection the sentence belongs to).

Its four parameters are fitted on one half of the traindata dev split (documents the
cross-encoder never saw: its logit is not overconfident there); the figures reported in the card
come from the other half. Nothing from ../shared/evaldata is read.

The abstention threshold: the traindata one (refusing `--false-refusal` of the fitting half's
answerable questions) is recorded, but it does not transfer to news or Wikipedia text, where the
model's probabilities run higher than on reviews: it refuses almost nothing there (on the article
1 of 22 unanswerable questions, with or without the cosine and share signals; 2026-12-03, seen
data). So the shipped threshold is the highest that refuses at most `--false-refusal` of the
answerable questions in the project's own question files on the shipped article (SEEN_QUESTIONS,
`--threshold-questions`; seen data: figures on the article are in-sample).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answer.model import MODEL_DIR, AnswerModel, Combiner, sentence_of  # noqa: E402
from training.dev_check import model_at  # noqa: E402
from benchmarks.answers import ARTICLE_QUESTION_FILES  # noqa: E402
from benchmarks.retrieval import CachingEmbedder  # noqa: E402
from assistant.search.lexical import BM25, tokenize  # noqa: E402
from training.pairs import SETS, TRAINDATA, TrainQuestion, _read, questions, read_as, weight  # noqa: E402
from training.train import CardEdit, _write_card, evaluate  # noqa: E402


class Signals:
    """(logit, cosine, share) for a question's candidate texts, as extractive.py computes them."""

    def __init__(self, model: AnswerModel, traindata: Path):
        self.model = model
        self.embedder = CachingEmbedder()
        self.bm25 = BM25([d["text"] for name in SETS for d in _read(traindata / name / "docs.jsonl")])

    def __call__(self, question: str, texts: list[str]) -> np.ndarray:
        sentences = [sentence_of(t) for t in texts]
        cosines = self.embedder.embed(sentences) @ self.embedder.embed([question])[0]
        weights = {t: self.bm25.idf(t) for t in dict.fromkeys(tokenize(question))}
        total = sum(weights.values()) or 1.0
        shares = [sum(w for t, w in weights.items() if t in set(tokenize(s))) / total for s in sentences]
        return np.column_stack([self.model.logits(question, texts), cosines, shares])


def rows(signals: Signals, items: list[TrainQuestion], bridge_chars: int = 0, low_overlap_weight: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signals, labels and weights of every candidate of `items`: a question worded unlike its
    answer (`pairs.low_overlap`) weighs `low_overlap_weight`, the others 1."""
    x, y, w = [], [], []
    for q in items:
        texts = [read_as(q.question, s, bridge_chars) for s in q.positives + q.negatives + q.near]
        x.append(signals(q.question, texts))
        y.extend([1.0] * len(q.positives) + [0.0] * (len(texts) - len(q.positives)))
        w.extend([weight(q, low_overlap_weight)] * len(texts))
    return np.vstack(x), np.array(y), np.array(w)


def halves(count: int, seed: int) -> tuple[list[int], list[int]]:
    """Indices of the dev split's two halves: the one the logistic layer is fitted on, and the
    one its figures are measured on (a seeded shuffle)."""
    order = np.random.default_rng(seed).permutation(count).tolist()
    return order[: count // 2], order[count // 2 :]


def seen_questions(files: list[Path]) -> list[dict]:
    """The rows of the seen article question files, in order."""
    return [json.loads(line) for f in files for line in f.read_text("utf-8").splitlines() if line.strip()]


SEEN_QUESTIONS = ARTICLE_QUESTION_FILES  # seen questions on the shipped article (see benchmarks/answers.py)


def seen_confidences(model_dir: Path, files: list[Path]) -> list[tuple[float, bool]]:
    """(confidence, answerable) of every question in `files`, asked through the product's ask()
    (abstention off) on a fresh index of the shipped article."""
    import tempfile

    from assistant.answer.answering import ask
    from assistant.config import PROJECT_DIR, Settings
    from assistant.ingest.indexing import rebuild_index

    items = seen_questions(files)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(abstain_threshold=0.0, answer_model_dir=str(model_dir))
        rebuild_index([str(PROJECT_DIR / "documents")], Path(tmp) / "index", settings=settings)
        return [(ask(q["question"], index_dir=Path(tmp) / "index", settings=settings).confidence, q["answerable"]) for q in items]


def rule_threshold(answerable: np.ndarray, false_refusal: float) -> float:
    """The highest threshold that refuses at most `false_refusal` of these answerable confidences
    (it refuses exactly the floor(false_refusal * n) lowest), never below 0: a probability, as a
    card's threshold must be."""
    ordered = np.sort(answerable)
    return max(0.0, float(ordered[int(np.floor(false_refusal * len(ordered)))]) - 1e-6)


def article_threshold(combiner: Combiner, model_dir: Path, files: list[Path], false_refusal: float) -> dict:
    """The highest threshold that refuses at most `false_refusal` of the answerable questions in
    `files` (questions on the shipped article), asked through the product's ask()."""
    card_path = model_dir / "card.json"
    card = json.loads(card_path.read_text("utf-8"))
    card["combine"] = {"weights": combiner.weights, "bias": combiner.bias}
    _write_card(model_dir, card)  # ask() reads the new weights
    return seen_threshold(model_dir, files, false_refusal)


def seen_threshold(model_dir: Path, files: list[Path], false_refusal: float) -> dict:
    """`article_threshold` for the model as its card stands (combiner and pre-filter included)."""
    scores = seen_confidences(model_dir, files)
    pos = np.array([c for c, a in scores if a])
    neg = np.array([c for c, a in scores if not a])
    threshold = rule_threshold(pos, false_refusal)
    return {"on": "seen questions on the shipped article: " + ", ".join(f.name for f in files),
            "answerable": len(pos), "unanswerable": len(neg), "threshold": round(threshold, 6),
            "answerable_refused": round(float((pos < threshold).mean()), 4),
            "unanswerable_refused": round(float((neg < threshold).mean()), 4) if len(neg) else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--false-refusal", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold-questions", type=Path, nargs="*", default=SEEN_QUESTIONS,
                        help="questions on the shipped article (seen data) that set the abstention threshold; none: the traindata dev half's")
    parser.add_argument("--bridge", type=int,
                        help="characters of each candidate's bridge the model reads (assistant/answer/bridge.py; 0: none), recorded on the card first (default: the card's)")
    parser.add_argument("--low-overlap-weight", type=float, default=1.0,
                        help="weight of a question worded unlike its answer (pairs.low_overlap) in the fit, against 1 for the others")
    args = parser.parse_args(argv)
    if not args.low_overlap_weight > 0:
        print(f"error: --low-overlap-weight {args.low_overlap_weight}: must be above 0", file=sys.stderr)
        return 2
    if not 0.0 <= args.false_refusal < 1.0:
        print(f"error: --false-refusal {args.false_refusal}: must be at least 0 and below 1", file=sys.stderr)
        return 2
    if args.bridge is not None and args.bridge < 0:
        print(f"error: --bridge {args.bridge}: a character count must be 0 (none) or more", file=sys.stderr)
        return 2
    began = time.time()
    with CardEdit(args.model) as edit:  # a run that fails or stops leaves the card as it was
        code = _fit(args, argv, began)
        if code == 0:
            edit.done()
    return code


def _fit(args, argv, began: float) -> int:
    from sklearn.linear_model import LogisticRegression

    if args.bridge is not None:
        card_path = args.model / "card.json"
        try:
            card = json.loads(card_path.read_text("utf-8"))
        except (OSError, ValueError) as err:
            print(f"error: --model {args.model}: cannot read its card.json ({err})", file=sys.stderr)
            return 2
        card["bridge_chars"] = args.bridge
        _write_card(args.model, card)
    if (model := model_at(args.model)) is None:
        return 2
    if model.card.judges_with_bridge:
        print(f"error: --model {args.model}: its card's bridge_for \"answerability\" is not what combine.py fits "
              "(it reads every candidate with its bridge); measure such a model with training/pipeline.py", file=sys.stderr)
        return 2
    bridge_chars = model.card.bridge_chars
    signals = Signals(model, args.traindata)
    dev = questions(args.traindata, "dev", seed=args.seed)
    fitting, measuring = halves(len(dev), args.seed)
    fit_half = [dev[i] for i in fitting]
    test_half = [dev[i] for i in measuring]
    x, y, weight = rows(signals, fit_half, bridge_chars, args.low_overlap_weight)
    regression = LogisticRegression(C=1.0).fit(x, y, sample_weight=weight)
    combiner = Combiner(dict(zip(Combiner.SIGNALS, map(float, regression.coef_[0]))), float(regression.intercept_[0]))

    def combined(question, texts):
        return combiner.probabilities(signals(question, texts))

    fitted = evaluate(combined, fit_half, args.false_refusal, bridge_chars=bridge_chars)
    threshold = fitted["threshold"]
    calibration = {"on": "traindata dev split, the half used to fit", "threshold": threshold}
    if args.threshold_questions:
        # The traindata threshold refuses almost nothing on news or Wikipedia text (see the
        # docstring), so one number is set on the product's own seen questions.
        calibration = article_threshold(combiner, args.model, args.threshold_questions, args.false_refusal)
        calibration["traindata_threshold"] = threshold
        threshold = calibration["threshold"]
    measured = evaluate(combined, test_half, args.false_refusal, threshold=threshold, bridge_chars=bridge_chars)
    alone = evaluate(lambda q, t: signals(q, t)[:, 0], test_half, args.false_refusal, bridge_chars=bridge_chars)
    cosine = evaluate(lambda q, t: signals(q, t)[:, 1], test_half, args.false_refusal, bridge_chars=bridge_chars)
    for name, figures in (("combined", measured), ("cross-encoder alone", alone), ("cosine alone", cosine)):
        print(json.dumps({"split": "dev (traindata, held-out half)", "design": name} | figures), flush=True)
    card_path = args.model / "card.json"
    card = json.loads(card_path.read_text("utf-8"))
    card["combine"] = {"weights": combiner.weights, "bias": combiner.bias,
                       "fitted_on": f"traindata dev split, half of it ({len(fit_half)} questions)",
                       "command": "python training/combine.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    card["threshold"] = threshold
    card["threshold_chosen"] = calibration
    card["dev"] = measured | {"split": "dev: traindata documents never trained on, the half not used to fit; refusals at the shipped threshold (see threshold_chosen)",
                              "cross_encoder_alone": alone, "cosine_alone": cosine}
    card["wall_seconds_combine"] = round(time.time() - began, 1)
    _write_card(args.model, card)
    print(f"updated {card_path} in {card['wall_seconds_combine']} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
