"""Training pairs for the answer model, from ../shared/traindata (SQuADShifts Amazon and Reddit).

Every document is split into sentences with the assistant's own splitter, so the model sees
sentences cut exactly as the index cuts them. For each question:

- positives: the sentences that hold a reference answer span;
- on-topic negatives: the other sentences of its own document, kept only when no reference
  answer occurs in them (so the question against its document minus the answer sentences is a
  realistic unanswerable case);
- near-topic negatives: the sentences of other reviews of the same product (Amazon `group`) or,
  for Reddit, of a few other posts, the ones sharing the most words with the question.

Documents (Amazon: whole product groups) are split into train and dev by a hash of their id, so
no dev question's document or product was seen in training. `questions()` gives the dev split's
questions with all candidate sentences, for measuring sentence choice and answerability.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from assistant.answer import bridge
from assistant.answer.bridge import word_share, words as _words
from assistant.answer.model import pair_text
from assistant.ingest.sentences import split_sentences

TRAINDATA = Path(__file__).resolve().parents[2] / "shared" / "traindata"
SETS = ("squadshifts_amazon", "squadshifts_reddit")
LOW_OVERLAP = 0.2  # worded unlike its answer: the answer sentence (with its context) holds at most this share of the question's content words


@dataclass(frozen=True)
class Sentence:
    doc_id: str
    start: int
    end: int
    text: str  # pair text: the sentence with its context (see answer_model.pair_text)
    passage: tuple[str, ...] = ()  # every sentence of its document, in order (for the bridge: answer/bridge.py)
    position: int = 0  # its place in `passage`


@dataclass(frozen=True)
class TrainQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    positives: tuple[Sentence, ...]
    negatives: tuple[Sentence, ...]  # own document, answer removed
    near: tuple[Sentence, ...]  # other documents of the same group (or similar posts)


def split_of(key: str, dev_share: float = 0.1) -> str:
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    return "dev" if digest / 0xFFFFFFFF < dev_share else "train"


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _sentences(doc: dict) -> list[Sentence]:
    text = doc["text"]
    spans = split_sentences(text)
    passage = tuple(text[s:e] for s, e in spans)
    out = []
    for i, (s, e) in enumerate(spans):
        out.append(Sentence(doc["id"], s, e, pair_text(passage[i], passage[i - 1] if i else ""), passage, i))
    return out


def read_as(question: str, s: Sentence, bridge_chars: int, answer_free: "TrainQuestion | None" = None) -> str:
    """What a model with `bridge_chars` on its card reads for `s` asked `question`: its pair text,
    with the bridge chosen from its document as the product chooses it from a passage
    (`answer/bridge.py`). With `answer_free` (the question whose answers `s`'s document is read
    without), sentences holding that question's answer are left out of the choice, so a group
    meant to hold no answer does not get one through its bridge."""
    if not bridge_chars or not s.passage:
        return s.text
    left_out = set()
    if answer_free:
        answers = [a.lower() for a in answer_free.answers]
        left_out = {p.position for p in answer_free.positives if p.doc_id == s.doc_id}
        left_out |= {i for i, t in enumerate(s.passage) if any(a in t.lower() for a in answers)}
    previous = s.passage[s.position - 1] if s.position else ""
    return pair_text(s.passage[s.position], previous, bridge.of(question, s.passage, s.position, left_out), bridge_chars)


def weight(q: "TrainQuestion", low_overlap_weight: float) -> float:
    """A question's weight in a fit that weighs those worded unlike their answer `low_overlap_weight`
    (`prefilter.py`, `combine.py` `--low-overlap-weight`), the others 1."""
    return low_overlap_weight if low_overlap(q) else 1.0


def low_overlap(q: TrainQuestion) -> bool:
    """Whether `q` is worded unlike its answer: no answer sentence (with its context) holds more
    than LOW_OVERLAP of its content words. About a quarter of the questions; the hard case for a
    reader, which cannot lean on echoed words (the paraphrases)."""
    return max(word_share(q.question, s.text) for s in q.positives) <= LOW_OVERLAP


def count_error(*flags: tuple[str, int]) -> str | None:
    """The one-line error for the first (flag, value) that is below 0, for question counts where
    0 means all (`every_nth`, `questions`' limit); None when every count is usable."""
    for flag, count in flags:
        if count < 0:
            return f"error: {flag} {count}: must be 0 (all) or more"
    return None


def rate_error(flag: str, value: float) -> str | None:
    """The one-line error for a learning rate or loss weight that is not a positive finite number."""
    return None if math.isfinite(value) and value > 0 else f"error: {flag} {value}: must be a positive finite number"


def every_nth(items: list, count: int) -> list:
    """`count` of `items`: every n-th from the start, n = len(items) // count (0: all). With more
    than half of the items asked for, n is 1 and these are the first `count`: the dev split's
    "1,000 questions" are 918 Amazon and 82 Reddit ones (the file order), not a balanced sample."""
    if count < 0:
        raise ValueError(f"{count}: a question count must be 0 (all) or more")
    return items[:: max(1, len(items) // count)][:count] if count else items


def questions(traindata: Path = TRAINDATA, split: str = "train", limit: int | None = None, seed: int = 0) -> list[TrainQuestion]:
    """The split's questions with their labelled candidate sentences."""
    rng = random.Random(seed)
    out: list[TrainQuestion] = []
    missing = [name for name in SETS if not (traindata / name / "docs.jsonl").is_file()]
    if missing:  # every script reads its questions here: one line, not a traceback
        raise SystemExit(f"error: --traindata {traindata}: no SQuADShifts training data there ({missing[0]}/docs.jsonl missing)")
    for name in SETS:
        docs = {d["id"]: d for d in _read(traindata / name / "docs.jsonl")}
        sentences = {doc_id: _sentences(d) for doc_id, d in docs.items()}
        by_group: dict[str, list[str]] = {}
        for doc_id, d in docs.items():
            by_group.setdefault(d.get("group") or "", []).append(doc_id)
        grouped = name.endswith("amazon")
        all_ids = sorted(docs)
        for q in _read(traindata / name / "qa.jsonl"):
            spans = q.get("answer_spans") or []
            if not spans:
                continue
            doc_id = spans[0]["doc_id"]
            doc = docs[doc_id]
            key = doc.get("group") if grouped else doc_id
            if split_of(f"{name}/{key}") != split:
                continue
            answers = tuple(a for a in q["answers"] if a.strip())
            lowered = [a.lower() for a in answers]
            own = sentences[doc_id]
            pos, neg = [], []
            for s in own:
                holds_span = any(sp["doc_id"] == doc_id and s.start < sp["end"] and sp["start"] < s.end for sp in spans)
                if holds_span:
                    pos.append(s)
                elif not any(a in doc["text"][s.start : s.end].lower() for a in lowered):
                    neg.append(s)
            if not pos:
                continue
            if grouped:
                others = [d for d in by_group[doc["group"]] if d != doc_id]
            else:
                others = [d for d in rng.sample(all_ids, min(30, len(all_ids))) if d != doc_id]
            q_words = _words(q["question"])
            pool = [
                s for d in others for s in sentences[d]
                if not any(a in docs[d]["text"][s.start : s.end].lower() for a in lowered)
            ]
            pool.sort(key=lambda s: -len(q_words & _words(docs[s.doc_id]["text"][s.start : s.end])))
            out.append(TrainQuestion(q["id"], q["question"], answers, tuple(pos), tuple(neg), tuple(pool[:4])))
            if limit and len(out) >= limit * (SETS.index(name) + 1):
                break
    return out


def pairs(items: list[TrainQuestion], negatives_own: int = 3, negatives_near: int = 1, seed: int = 0,
          bridge_chars: int = 0) -> list[tuple[str, str, float]]:
    """(question, sentence text, label) pairs: every positive, and per question a few on-topic
    negatives: the own-document ones sharing most words with the question plus one at random,
    and the closest near-topic ones. `bridge_chars`: each text as a model reading that much of its
    bridge reads it (`read_as`)."""
    rng = random.Random(seed)
    out = []
    for q in items:
        for s in q.positives:
            out.append((q.question, read_as(q.question, s, bridge_chars), 1.0))
        for s in _negatives(q, rng, negatives_own, negatives_near):
            out.append((q.question, read_as(q.question, s, bridge_chars), 0.0))
    rng.shuffle(out)
    return out


def _negatives(q: TrainQuestion, rng: random.Random, negatives_own: int, negatives_near: int) -> list[Sentence]:
    words = _words(q.question)
    ranked = sorted(q.negatives, key=lambda s: -len(words & _words(s.text)))
    chosen = ranked[: max(0, negatives_own - 1)]
    rest = ranked[len(chosen):]
    if rest and negatives_own:
        chosen.append(rng.choice(rest))
    return chosen + list(q.near[:negatives_near])


def unanswerable_groups(items: list[TrainQuestion], count: int, negatives_own: int = 3, negatives_near: int = 1,
                        seed: int = 0, bridge_chars: int = 0) -> list[tuple[str, str, float, str]]:
    """(question, sentence text, 0, group) for `count` questions drawn at random: the question
    against its own document with the answer sentences removed plus the near-topic ones (chosen
    as in `pairs`), kept together as one group that holds no answer, so that a listwise loss with
    a "none of these" option (train.py `--null`) learns to refuse it as a whole; without that
    option they are only more binary negatives."""
    rng = random.Random(seed + 1)
    out = []
    for q in rng.sample(items, min(count, len(items))):
        out.extend((q.question, read_as(q.question, s, bridge_chars, q), 0.0, f"{q.id}:none")
                   for s in _negatives(q, rng, negatives_own, negatives_near))
    return out


def low_overlap_groups(items: list[TrainQuestion], count: int, negatives_own: int = 3, negatives_near: int = 1,
                       seed: int = 0, bridge_chars: int = 0) -> list[tuple[str, str, float, str]]:
    """`answer_groups` for `count` questions drawn at random from those worded unlike their answer
    (`low_overlap`), on top of their ordinary pairs (`pairs`), so these questions weigh more."""
    rng = random.Random(seed + 2)
    hard = [q for q in items if low_overlap(q)]
    return answer_groups([(q, q.question) for q in rng.sample(hard, min(count, len(hard)))], "low", rng, negatives_own, negatives_near,
                         bridge_chars)


def answer_groups(asked: list[tuple[TrainQuestion, str]], tag: str, rng: random.Random, negatives_own: int = 3,
                  negatives_near: int = 1, bridge_chars: int = 0) -> list[tuple[str, str, float, str]]:
    """(question, sentence text, label, group) for each (item, the question text asked) as two
    groups: its answer sentences among its negatives (chosen as in `pairs`), and the same negatives
    without them (no answer). Trained with the "none of these" option (train.py `--null`), the pair
    of groups teaches the distinction the model is weakest at: an answer worded differently still
    answers, while the same on-topic sentences without it do not."""
    out = []
    for q, text in asked:
        negatives = _negatives(q, rng, negatives_own, negatives_near)
        out.extend((text, read_as(text, s, bridge_chars), 1.0, f"{q.id}:{tag}") for s in q.positives)
        out.extend((text, read_as(text, s, bridge_chars), 0.0, f"{q.id}:{tag}") for s in negatives)
        out.extend((text, read_as(text, s, bridge_chars, q), 0.0, f"{q.id}:{tag}-none") for s in negatives)
    return out


def write_pairs(path: Path, data: list[tuple], header: dict) -> None:
    """`data` (training pairs: question, sentence text, label, optional group) as gzipped JSON
    lines after one header line (how they were made), so a machine without the traindata, the
    embedder or this package's dependencies (a GPU box) can train on exactly these pairs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"pairs_file": 1} | header) + "\n")
        for pair in data:
            handle.write(json.dumps(list(pair), ensure_ascii=False) + "\n")


def read_pairs(path: Path) -> tuple[dict, list[tuple]]:
    """The header and pairs `write_pairs` wrote; ValueError (naming the file) for anything else."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "null")
            if not isinstance(header, dict) or header.get("pairs_file") != 1:
                raise ValueError("no pairs-file header")
            data = [tuple(json.loads(line)) for line in handle if line.strip()]
    except (OSError, EOFError, ValueError) as err:
        raise ValueError(f"{path}: not a training pairs file written by train.py --save-pairs ({err})") from None
    bad = next((p for p in data if len(p) not in (3, 4) or not all(isinstance(x, str) for x in p[:2])
                or p[2] not in (0.0, 1.0)), None)
    if bad is not None:
        raise ValueError(f"{path}: not a training pair: {str(bad)[:80]}")
    return header, data
