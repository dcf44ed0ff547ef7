"""The trained answer model: does this sentence answer the question?

A small cross-encoder (the first layers of all-MiniLM-L6-v2, fine-tuned by `training/train.py` on
SQuADShifts Amazon and Reddit questions with on-topic negatives) reads the question together with
a candidate sentence and the end of the sentence before it, and gives the probability that the
sentence holds the answer; a 4-weight logistic layer (`Combiner`, fitted by `training/combine.py`)
combines that logit with the sentence's stored-vector cosine and question-word share. The best
candidate's probability is the question's answerability, or, where the card sets judge mode
(`bridge_for` "answerability", set by `training/judge.py`), the highest probability of its best
candidates read once more with their bridge (`extractive.candidates`; not re-read where the plain
best already reaches the card's `judge_skip_above`).

It ships in `models/answer/` as an int8 ONNX graph with its tokenizer and a card (`card.json`:
training data, commit, command, dev figures, the combiner's weights, the abstention threshold and
the sha256 of every file). Loading checks the checksums; a missing or altered file is refused in
one line that names the command rebuilding it. Inference is onnxruntime and tokenizers only: no
torch import on the question path.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from assistant.answer.prefilter import Prefilter
from assistant.config import PROJECT_DIR
from assistant.ingest.sentences import as_read

MODEL_DIR = PROJECT_DIR / "models" / "answer"
REBUILD = "`python training/train.py`, then `python training/soup.py` (README: Training the answer model)"
PREFILTER_REFIT = "`python training/prefilter.py` (README: Training the answer model)"
CONTEXT_CHARS = 160  # how much of the previous sentence is read with a candidate
MAX_TOKENS = 128
REQUIRED_FILES = ("model.onnx", "tokenizer.json")  # each listed in the card with its checksum
# A question is read up to this many tokens, its last (the longest training question has 43), so
# a long one still leaves room for its candidate: the pair is cut to MAX_TOKENS from the candidate's side.
QUESTION_TOKENS = 64
_SEPARATOR = " [SEP] "
# A card's `bridge_for`: every candidate is read with its bridge, or candidates are read without
# one and the best (its `judge_candidates` best) are re-read with it, for the question's answerability.
BRIDGE_FOR = ("candidates", "answerability")


class ModelError(Exception):
    """The answer model's files are missing, altered or unreadable (one line, with the fix)."""


def pair_text(sentence: str, previous: str = "", bridge: str = "", bridge_chars: int = 0) -> str:
    """What the model reads for a candidate: the sentence, then the end of the one before it
    (where its subject is often named), then, for a model whose card sets `bridge_chars`, the
    start of its bridge (`answer/bridge.py`). Training and inference both build it here."""
    previous = " ".join(as_read(previous).split())
    if len(previous) > CONTEXT_CHARS:
        previous = "…" + previous[-CONTEXT_CHARS:]
    text = " ".join(as_read(sentence).split())
    bridge = " ".join(bridge.split())[:bridge_chars] if bridge_chars > 0 else ""
    for context in (previous, bridge):
        if context:
            text += _SEPARATOR + context
    return text


def sentence_of(pair: str) -> str:
    """The candidate sentence of a `pair_text` (without its context)."""
    return pair.partition(_SEPARATOR)[0]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Combiner:
    """A candidate's probability from the model's logit and two signals the index already has:
    a logistic function fitted by `training/combine.py` (weights recorded in the card)."""

    SIGNALS = ("logit", "cosine", "share")
    weights: dict
    bias: float

    def probabilities(self, signals: np.ndarray) -> np.ndarray:
        """`signals`: one row per candidate, columns in SIGNALS order."""
        w = np.array([self.weights[name] for name in self.SIGNALS], dtype=np.float64)
        z = np.asarray(signals, dtype=np.float64).reshape(-1, len(w)) @ w + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Card:
    """What `card.json` records about the shipped model."""

    files: dict  # file name -> sha256
    threshold: float  # answerability below this: abstain (how it was chosen: "threshold_chosen")
    combiner: Combiner | None  # None: the logit alone, through a sigmoid
    prefilter: Prefilter | None  # None: the stock pre-filter score (answer/prefilter.py)
    raw: dict
    bridge_chars: int = 0  # how much of a candidate's bridge the model reads (answer/bridge.py); 0: none
    bridge_for: str = "candidates"  # what reads the bridge: every candidate, or only "answerability" (BRIDGE_FOR)
    judge_candidates: int = 1  # for "answerability": how many of the best candidates are re-read with their bridge
    judge_skip_above: float | None = None  # for "answerability": a plain best this probable is not re-read (None: always)

    @property
    def candidate_bridge_chars(self) -> int:
        """How much of its bridge each candidate is read with: none in judge mode, where only the
        best candidates are re-read with it, for answerability (`bridge_for`)."""
        return self.bridge_chars if self.bridge_for == "candidates" else 0

    @property
    def judges_with_bridge(self) -> bool:
        return self.bridge_chars > 0 and self.bridge_for == "answerability"

    @classmethod
    def read(cls, model_dir: Path) -> "Card":
        path = model_dir / "card.json"
        if not model_dir.is_dir():
            raise ModelError(f"{model_dir}: no answer model folder there (the shipped one is {MODEL_DIR})")
        if not path.is_file():
            raise ModelError(f"{path}: answer model card missing; rebuild it with {REBUILD}")
        try:
            raw = json.loads(path.read_text("utf-8"))
        except OSError as err:
            raise ModelError(f"{path}: cannot read the answer model card ({err.strerror or err})") from None
        except ValueError as err:
            raise ModelError(f"{path}: unreadable answer model card ({err}); rebuild it with {REBUILD}") from None
        try:
            if not isinstance(raw, dict):
                raise ValueError(f"a JSON {type(raw).__name__}, not an object")
            combine = raw.get("combine")
            combiner = None
            if combine is not None:
                combiner = Combiner({n: _finite(combine["weights"][n], f"combine weight {n}") for n in Combiner.SIGNALS},
                                    _finite(combine["bias"], "combine bias"))
            files, threshold = dict(raw["files"]), _finite(raw["threshold"], "threshold")
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold {threshold} is not a probability from 0 to 1")
            missing = [name for name in REQUIRED_FILES if name not in files]
            if missing:
                raise ValueError(f"its files do not list {', '.join(missing)} with a checksum")
            bridge_chars = int(raw.get("bridge_chars", 0))
            if bridge_chars < 0:
                raise ValueError(f"bridge_chars {bridge_chars} is negative")
            bridge_for = raw.get("bridge_for", "candidates")
            if bridge_for not in BRIDGE_FOR:
                raise ValueError(f"bridge_for {bridge_for!r} is not one of {', '.join(BRIDGE_FOR)}")
            judge_candidates = int(raw.get("judge_candidates", 1))
            if judge_candidates < 1:
                raise ValueError(f"judge_candidates {judge_candidates} is below 1")
            skip = raw.get("judge_skip_above")
            if skip is not None and not (type(skip) in (int, float) and 0.0 < skip <= 1.0):
                raise ValueError(f"judge_skip_above {skip!r} is not a probability above 0")
        except (ValueError, KeyError, TypeError) as err:
            raise ModelError(f"{path}: unreadable answer model card ({err}); rebuild it with {REBUILD}") from None
        try:
            ranker = Prefilter.from_card(raw["prefilter"]) if raw.get("prefilter") is not None else None
        except (ValueError, KeyError, TypeError) as err:
            raise ModelError(f"{path}: unreadable pre-filter ({err}); refit it with {PREFILTER_REFIT}") from None
        return cls(files, threshold, combiner, ranker, raw, bridge_chars, bridge_for, judge_candidates,
                   None if skip is None else float(skip))


def verify_files(model_dir: Path, files: dict) -> None:
    """Each file of the card's `files` is there with its recorded sha256, else a ModelError."""
    for name, expected in files.items():
        path = model_dir / name
        if not path.is_file():
            raise ModelError(f"{path}: answer model file missing; rebuild it with {REBUILD}")
        try:
            actual = sha256(path)
        except OSError as err:
            raise ModelError(f"{path}: cannot read the answer model file ({err.strerror or err})") from None
        if actual != expected:
            raise ModelError(f"{path}: checksum does not match card.json; rebuild it with {REBUILD}")


def _finite(value, name: str) -> float:
    """A card's number: a JSON number (not a string or true/false) that is finite."""
    if type(value) not in (int, float) or not np.isfinite(value):
        raise ValueError(f"{name} {value!r} is not a finite number")
    return float(value)


class AnswerModel:
    """Scores (question, candidate) pairs with the shipped ONNX cross-encoder.

    `threads`: onnxruntime threads per pair (0: the cores, split among the workers). `workers`:
    pairs read side by side while no other question is being read (0: one per core); a question
    that starts while another is being read reads its pairs one after another, so a loaded server
    keeps one thread per question. Either way each pair runs alone, so its score is the same."""

    def __init__(self, model_dir: str | Path = MODEL_DIR, threads: int = 1, workers: int = 1):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        self.card = Card.read(self.model_dir)
        verify_files(self.model_dir, self.card.files)
        self.threshold = self.card.threshold
        self.tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        self._question_tokens = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))  # no truncation: see clipped()
        self.tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        self.workers = workers or os.cpu_count() or 1
        options = ort.SessionOptions()
        # threads=0 means all cores; pairs read side by side share them, one share each, or every
        # worker's pair would ask for all cores at once (measured: ask() 1.9x slower on 2 cores)
        options.intra_op_num_threads = threads or max(1, (os.cpu_count() or 1) // self.workers)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep between pairs
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            raise ModelError(f"{self.model_dir / 'model.onnx'}: cannot load ({str(err).splitlines()[0]}); rebuild it with {REBUILD}") from None
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, its pool)
        self._reading = 0  # questions being read now
        self._reading_lock = threading.Lock()

    def threshold_for(self, settings) -> float:
        """The abstention threshold in force: `settings.abstain_threshold` where set, else the card's."""
        return self.threshold if settings.abstain_threshold is None else settings.abstain_threshold

    def unsure_below_for(self, settings) -> float:
        """The confidence below which an answer is marked unsure: `settings.answer_unsure_below`
        where set, else the card's `judge_skip_above` (where its reading counts as sure), else 0."""
        if settings.answer_unsure_below is not None:
            return settings.answer_unsure_below
        return self.card.judge_skip_above or 0.0

    def logits(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """One logit per pair text (see `pair_text`).

        Each pair runs alone: the int8 graph quantises activations per call, so padding a pair
        to a batch's longest would shift its score (by up to 0.01 in probability). Alone, a
        sentence always gets the same score, whatever else was retrieved or however many pairs
        are read side by side (`workers`)."""
        with closing(self._rounds(question, texts, whole=True)) as rounds:
            return np.array([logit for batch in rounds for logit in batch], dtype=np.float32)

    @contextmanager
    def _width(self) -> Iterator[int]:
        """How many pairs this question reads side by side: `workers` while it is the only
        question being read, else 1."""
        with self._reading_lock:
            self._reading += 1
            alone = self._reading == 1
        try:
            yield self.workers if alone else 1
        finally:
            with self._reading_lock:
                self._reading -= 1

    def _executor(self) -> ThreadPoolExecutor:
        """The workers' pool of this process (a forked child gets its own: the parent's threads
        do not exist there, and work handed to them would wait forever)."""
        with self._reading_lock:
            if self._pool is None or self._pool[0] != os.getpid():
                self._pool = (os.getpid(), ThreadPoolExecutor(self.workers, thread_name_prefix="answer-model"))
            return self._pool[1]

    def _rounds(self, question: str, texts: Sequence[str], whole: bool) -> Iterator[list[float]]:
        """The logits of `texts` in order, a round at a time: one pair a round when reading alone
        on one thread; with several, all pairs in one round (`whole`) or as many as read side by
        side (so a reader that stops early has read at most one round too many)."""
        question = self.clipped(question)
        encoded = self.tokenizer.encode_batch([(question, t) for t in texts])
        with self._width() as width:
            if width == 1:
                for pair in encoded:
                    yield [self._logit(pair)]
                return
            step = max(len(encoded), 1) if whole else width
            pool = self._executor()
            for begin in range(0, len(encoded), step):
                yield list(pool.map(self._logit, encoded[begin : begin + step]))

    def clipped(self, question: str) -> str:
        """`question` as the model reads it: a shorter one whole, a longer one its last
        QUESTION_TOKENS tokens (the text from the start of the first one kept), since a long
        message usually ends with what it asks."""
        offsets = self._question_tokens.encode(question, add_special_tokens=False).offsets
        return question if len(offsets) <= QUESTION_TOKENS else question[offsets[-QUESTION_TOKENS][0]:]

    def _logit(self, encoded) -> float:
        feeds = {
            "input_ids": np.array([encoded.ids], dtype=np.int64),
            "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoded.type_ids], dtype=np.int64),
        }
        return float(np.asarray(self.session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]).reshape(-1)[0])

    def scores(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """The cross-encoder's own probability, per pair text, that it answers `question`."""
        return 1.0 / (1.0 + np.exp(-self.logits(question, texts)))

    def probabilities(
        self, question: str, texts: Sequence[str], cosines: Sequence[float], shares: Sequence[float], stop: float | None = None
    ) -> np.ndarray:
        """Probability per candidate that it answers `question`: the logit combined with the
        candidate's stored-vector cosine and question-word share (see `Combiner`).

        With `stop`, candidates are read in the order given and reading ends at the first whose
        probability reaches `stop`: the result then covers the candidates read, a prefix."""
        out: list[float] = []
        with closing(self._rounds(question, texts, whole=stop is None)) as rounds:
            logits = (logit for batch in rounds for logit in batch)
            for logit, cosine, share in zip(logits, cosines, shares):
                if self.card.combiner is None:
                    out.append(1.0 / (1.0 + np.exp(-logit)))
                else:
                    out.append(float(self.card.combiner.probabilities(np.array([[logit, cosine, share]]))[0]))
                if stop is not None and out[-1] >= stop:
                    break
        return np.array(out, dtype=np.float64)


_models: dict[str, AnswerModel] = {}
_lock = threading.Lock()


def configured(settings) -> AnswerModel:
    """The process-wide model that `settings` name (folder, threads per pair, workers)."""
    try:
        return load(settings.answer_model_dir, settings.query_threads, settings.answer_workers)
    except ModelError as err:
        if Path(settings.answer_model_dir).resolve() == MODEL_DIR.resolve():
            raise
        raise ModelError(f"{err} (the folder answer_model_dir names: ASSISTANT_ANSWER_MODEL_DIR or "
                         f"Settings(answer_model_dir=…))") from None  # a folder the setting chose


def load(model_dir: str | Path = MODEL_DIR, threads: int = 1, workers: int = 1) -> AnswerModel:
    """The process-wide model of `model_dir`, loaded (and checked) once per thread and worker count."""
    key = f"{Path(model_dir).resolve()}|{threads}|{workers}"
    with _lock:
        if key not in _models:
            _models[key] = AnswerModel(model_dir, threads, workers)
        return _models[key]
