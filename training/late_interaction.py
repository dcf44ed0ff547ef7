"""A design tried and not built: a late-interaction reader (question and sentence encoded apart).

Why: the answer model reads each (question, candidate) pair through all 6 layers, 8 pairs a
question, about 5.7 ms a pair on 1 thread, while `retrieve()` takes about 3.3 ms: `ask()` runs at
13 to 15 times `retrieve()`'s p50 against a target of 5. A reader whose sentence side does not
depend on the question could compute it when indexing, and `ask()` would pay one encoding of the
question instead of 8 pair reads.

The design (ColBERT's MaxSim): the packaged MiniLM encodes the question and the candidate as the
answer model reads it (`pairs.read_as`: the sentence, then the end of the one before) apart; each
question token (no [CLS]/[SEP]) takes its highest cosine with the candidate's tokens, and the
mean of those is the score; the probability is sigmoid(a * score + b), a and b learned. It is
trained from the packaged MiniLM with `train.py`'s losses (binary cross-entropy plus 0.5 of the
listwise loss with its "none of these" option), one epoch, no teacher: the traindata train
split's pairs (3 own-document negatives and 1 near-topic one a question, the first `--max-pairs`)
and `--unanswerable-groups` answer-free groups. The shipped model had far more: a lineage of
fine-tunes (some on a GPU) and a soup, whose last step read 10,000 such pairs and 2,000 framed
groups towards a teacher's logits (its card). Then the reader is measured beside the shipped model
on the same dev questions (`train.evaluate`: best sentence of the own document, answerability AUC;
the shipped model's plain reading, without its bridge judges; the untrained reader by its raw
similarity, so its threshold is a similarity), and, with `--sets`, on answers.py's tuning sets:
each question is asked through the assistant with `--model`, the 8 candidates that model read
are read by the trained reader too, and the AUC of answerable against unanswerable questions is
given for the shipped confidence, the reader's best probability and their mean logit.

    python training/late_interaction.py --sets news_dev,tables_dev,manuals_dev,scope_dev,paraphrase_dev
        # ~45 min on 2 cores (training 29,758 pairs at about 13 pairs/s)

Measured (2026-12-07, commit dc6924f, this machine, 2 threads, the command above; the traindata dev
split's 300 questions, dev; the sets are tuning sets, dev), against the shipped F1 on the same
questions in the same run:

| reader | best sentence | answerability AUC | low-overlap best sentence / AUC |
|---|---|---|---|
| shipped (F1) | 0.890 | 0.872 | 0.806 / 0.758 |
| late interaction, untrained (the packaged MiniLM's tokens) | 0.657 | 0.603 | 0.418 / 0.512 |
| late interaction, trained (29,758 pairs, 2,284 s) | 0.830 | 0.839 | 0.642 / 0.711 |

On the tuning sets (answerable against unanswerable, AUC; shipped / late interaction / mean
logit): news_dev 0.751 / 0.635 / 0.704, tables_dev 0.836 / 0.684 / 0.825, manuals_dev 0.841 /
0.807 / 0.830, scope_dev 0.920 / 0.587 / 0.900, paraphrase_dev 0.418 / 0.488 / 0.464. Not built:
the rule written before the run asked for best sentence and AUC within 0.01 of the shipped model's
on the dev split (they fell short by 0.060 and 0.033), and as a second opinion it is below the
shipped model alone on four of the five tuning sets (all but paraphrase_dev, where both are below
0.5). Building it would also have meant storing every sentence's token vectors in the index (384
floats a token).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer.model import MODEL_DIR  # noqa: E402
from training.dev_check import model_at  # noqa: E402
from training.pairs import TRAINDATA, count_error, every_nth, questions, rate_error  # noqa: E402

QUESTION_TOKENS, TEXT_TOKENS = 64, 128
_CLS, _SEP = 101, 102  # the MiniLM vocabulary's [CLS] and [SEP]


def reader():
    """The untrained reader: the packaged MiniLM, a = 20 and b = -14 (a score of 0.7 reads as
    probability 0.5)."""
    import torch
    from transformers import AutoModel

    from training.train import base_path

    class Reader(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(base_path(), add_pooling_layer=False)
            self.a = torch.nn.Parameter(torch.tensor(20.0))
            self.b = torch.nn.Parameter(torch.tensor(-14.0))

        def _tokens(self, enc, content_only: bool):
            hidden = self.encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            mask = enc["attention_mask"].bool()
            if content_only:
                mask = mask & (enc["input_ids"] != _CLS) & (enc["input_ids"] != _SEP)
            return torch.nn.functional.normalize(hidden, dim=-1), mask

        def similarity(self, question, text):
            return maxsim(*self._tokens(question, True), *self._tokens(text, False))

        def forward(self, question, text):
            return self.a * self.similarity(question, text) + self.b

    return Reader()


def maxsim(question, question_mask, text, text_mask):
    """Each question token's highest cosine with the text's tokens (`question`, `text`: unit vectors,
    batch x tokens x dims), averaged over the question's tokens. A masked-out token (padding; on the
    question's side also [CLS] and [SEP]) counts for nothing."""
    best = (question @ text.transpose(1, 2)).masked_fill(~text_mask[:, None, :], -2.0).max(-1).values
    return (best * question_mask).sum(1) / question_mask.sum(1).clamp(min=1)


def encoded(tokenizer, texts: list[str], limit: int):
    return tokenizer(texts, truncation=True, max_length=limit, padding=True, return_tensors="pt")


def scorer(model, tokenizer, raw: bool = False):
    """`scorer(question, texts)`: the reader's probabilities (`raw`: its similarities) for `texts`."""
    import torch

    def score(question: str, texts) -> np.ndarray:
        with torch.no_grad():
            q = encoded(tokenizer, [question] * len(texts), QUESTION_TOKENS)
            t = encoded(tokenizer, list(texts), TEXT_TOKENS)
            out = model.similarity(q, t) if raw else torch.sigmoid(model(q, t))
        return out.numpy()

    return score


def fit(model, tokenizer, data: list[tuple], batch: int, lr: float, seed: int) -> dict:
    """Train `model` on `data` (train.py's pairs: question, text, label[, group]) for one epoch."""
    import torch

    from training.train import group_of, listwise_loss, one_epoch

    bce = torch.nn.BCEWithLogitsLoss()

    def loss_of(pairs):
        labels = torch.tensor([p[2] for p in pairs], dtype=torch.float32)
        logits = model(encoded(tokenizer, [p[0] for p in pairs], QUESTION_TOKENS), encoded(tokenizer, [p[1] for p in pairs], TEXT_TOKENS))
        return bce(logits, labels) + 0.5 * listwise_loss(logits, labels, [group_of(p) for p in pairs], null=True)

    # every weight decays as in train.py (a and b too: the measured run did so; a moved from 20 to 19.2)
    return one_epoch(model, [{"params": model.encoder.parameters(), "lr": lr}, {"params": [model.a, model.b], "lr": 1e-2}],
                     data, batch, seed, loss_of)


def on_sets(names: list[str], score, model_dir: Path) -> dict:
    """Per answers.py set: the AUC of its answerable against its unanswerable questions (those
    asked without history), for the shipped confidence, the reader's best probability over the
    candidates the shipped model read, and their mean logit."""
    from scipy.special import logit

    from assistant import Assistant
    from assistant.answer import extractive
    from assistant.config import Settings
    from benchmarks import answers

    read: list[list[str]] = []
    original = extractive.pair_texts

    def capturing(*args, **kwargs):
        texts = original(*args, **kwargs)
        read.append(texts)
        return texts

    out = {}
    extractive.pair_texts = capturing
    try:
        for name in names:
            with tempfile.TemporaryDirectory() as tmp:
                corpus = answers.corpus_of(name, Path(tmp), answers.ARTICLE_QUESTIONS)
                assistant = Assistant(Path(tmp) / "index", Settings.from_env().replace(answer_model_dir=str(model_dir)))
                assistant.add([corpus.folder])
                rows = []
                for q in corpus.questions:
                    if q.history:
                        continue
                    read.clear()
                    answer = assistant.ask(q.question)
                    mine = float(score(q.question, read[0]).max()) if read and read[0] else 0.0
                    rows.append((float(q.answerable), answer.confidence, mine))
            y, confidence, mine = (np.array(column) for column in zip(*rows))
            out[name] = {"split": answers.SPLITS[name], "questions": len(rows),
                         "auc_shipped": round(answers.auc(confidence, y), 4), "auc_late_interaction": round(answers.auc(mine, y), 4),
                         "auc_mean_logit": round(answers.auc(logit(np.clip(np.c_[confidence, mine], 1e-6, 1 - 1e-6)).sum(1), y), 4)}
    finally:
        extractive.pair_texts = original
    return out


def _sets_error(names: list[str]) -> str | None:
    """A design is decided on tuning sets: answers.py's dev sets written for this project, not its
    test sets and not ../shared/evaldata's (xquad_en, clapnq_dev), which are never tuned on."""
    from benchmarks.answers import SPLITS

    tuning = [name for name, split in SPLITS.items() if split == "dev" and name not in ("xquad_en", "clapnq_dev")]
    wrong = [name for name in names if name not in tuning]
    return f"error: --sets {','.join(wrong)}: not a tuning set (these are: {', '.join(tuning)})" if wrong else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_DIR, help="the answer model to measure beside it (default: the shipped one)")
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--max-pairs", type=int, default=24000, help="the train split's pairs trained on (0: all)")
    parser.add_argument("--unanswerable-groups", type=int, default=1500)
    parser.add_argument("--dev-questions", type=int, default=300, help="dev questions measured (0: all)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sets", default="", help="answers.py sets to measure on too, comma-separated (tuning sets only)")
    args = parser.parse_args(argv)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    error = count_error(("--max-pairs", args.max_pairs), ("--dev-questions", args.dev_questions), ("--threads", args.threads))
    if args.unanswerable_groups < 0:
        error = error or f"error: --unanswerable-groups {args.unanswerable_groups}: a count must be 0 (none) or more"
    error = error or (f"error: --batch {args.batch}: must be 1 or more" if args.batch < 1 else None) or rate_error("--lr", args.lr)
    error = error or _sets_error(sets)
    if error:
        print(error, file=sys.stderr)
        return 2
    if (shipped := model_at(args.model, threads=args.threads or os.cpu_count() or 1)) is None:
        return 2
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from training.train import _finite_or_null, base_path, evaluate, plain_recipe, training_data

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    dev = every_nth(questions(args.traindata, "dev", seed=args.seed), args.dev_questions)
    tokenizer = AutoTokenizer.from_pretrained(base_path())
    model = reader()
    model.eval()
    result = {"split": "dev (traindata): documents never trained on", "questions": len(dev),
              "shipped": evaluate(shipped.scores, dev, 0.05, bridge_chars=shipped.card.candidate_bridge_chars),
              "late_interaction_untrained": evaluate(scorer(model, tokenizer, raw=True), dev, 0.05)}
    data, _, _ = training_data(questions(args.traindata, "train", seed=args.seed), plain_recipe(args.max_pairs, args.unanswerable_groups, args.seed))
    result["training"] = fit(model, tokenizer, data, args.batch, args.lr, args.seed)
    result["late_interaction"] = evaluate(scorer(model, tokenizer), dev, 0.05)
    if sets:
        result["sets"] = on_sets(sets, scorer(model, tokenizer), args.model)
    print(json.dumps(_finite_or_null(result), indent=1), flush=True)  # NaN (no low-overlap question) as null
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
