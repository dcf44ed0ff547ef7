"""Configuration in one place: every setting, its default and what it does.

`Settings` is the only object that reads the environment (prefix `ASSISTANT_`). Other modules
take a `Settings` (or plain arguments) and never look at `os.environ` themselves. Importing this
module also switches off the network features of the Hugging Face and Gradio libraries, so the
assistant works offline by default.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

# Offline and private by default: no hub downloads, no telemetry, no analytics.
for _name, _value in (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("HF_HUB_DISABLE_TELEMETRY", "1"),
    ("GRADIO_ANALYTICS_ENABLED", "False"),
    ("TOKENIZERS_PARALLELISM", "false"),
):
    os.environ.setdefault(_name, _value)

ENV_PREFIX = "ASSISTANT_"
PROJECT_DIR = Path(__file__).resolve().parent.parent
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".pptx", ".xlsx", ".xlsm", ".csv", ".tsv", ".eml")
MARKDOWN_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".docx", ".pptx", ".xlsx", ".xlsm", ".csv", ".tsv")  # whose text, as loaded, is Markdown ("# " lines are headings)
MIB = 1 << 20  # the one unit of file sizes: what browsers and Gradio show as MiB / MB
# What the project ships (tracked by git, never written by the product) and where the product
# writes by default (var/, ignored by git): the default index starts as a copy of the shipped one.
SHIPPED_INDEX_DIR = PROJECT_DIR / "index"
SHIPPED_DOCUMENTS_DIR = PROJECT_DIR / "documents"
DEFAULT_INDEX_DIR = PROJECT_DIR / "var" / "index"
DEFAULT_UPLOADS_DIR = PROJECT_DIR / "var" / "documents"


def _doc(text: str, default, kind: type | None = None, secret: bool = False):
    return field(default=default, repr=not secret, metadata={"doc": text, "kind": kind or type(default)})


@dataclass(frozen=True)
class Settings:
    """All tunable behaviour. Override with `ASSISTANT_<NAME>` environment variables."""

    # Where things live
    index_dir: str = _doc(
        "The store: an index folder (FAISS; the default starts as a copy of the shipped index/), "
        "milvus:///abs/file.db (Milvus Lite) or milvus://host:19530 (a Milvus server).", str(DEFAULT_INDEX_DIR)
    )
    milvus_token: str = _doc("Token (or USER:PASSWORD) for a milvus:// or milvus+https:// store.", "", secret=True)
    milvus_lexical: str = _doc(
        "Lexical side of a Milvus store: 'bm25s' (the same in-memory BM25 as the FAISS store) or 'milvus' "
        "(Milvus's built-in BM25 full-text search).", "bm25s"
    )
    corpus_dir: str = _doc(
        "Folder that uploads are saved in (and deleted from on removal); `index rebuild` with no path "
        "and no recorded folders indexes it (the default: with the shipped documents/).",
        str(DEFAULT_UPLOADS_DIR),
    )

    # Chunking (characters; chosen by benchmarks/retrieval.py on ../shared/evaldata)
    chunk_size: int = _doc("Largest chunk, in characters (a longer sentence is split).", 1200)
    chunk_overlap: int = _doc("Characters of trailing sentences repeated in the next chunk.", 200)

    # Embedding
    encoder: str = _doc(
        "How all-MiniLM-L6-v2 runs: 'onnx' (ONNX Runtime fp32, no torch; exported once into var/models), "
        "'onnx-int8' (the same, quantised per channel: the fastest; chosen by benchmarks/encoders.py), "
        "or 'torch' (sentence-transformers). Changing it re-embeds the index.", "onnx-int8"
    )
    embed_batch_size: int = _doc("Chunks embedded per model call while indexing.", 32)
    index_threads: int = _doc("Torch threads while indexing (0: all cores).", 0)
    query_threads: int = _doc(
        "Threads for embedding a question, for searching its vectors (FAISS) and for each candidate the "
        "answer model reads (0: all cores, split among the answer workers). 1 keeps latency flat on a loaded server.", 1
    )

    # Retrieval (tuned by benchmarks/retrieval.py on ../shared/evaldata)
    k: int = _doc("Passages returned by retrieve().", 5)
    candidates: int = _doc("Candidates taken from each retriever before fusion.", 50)
    fusion: str = _doc("How dense and BM25 rankings combine: 'minmax' (scores) or 'rrf' (ranks).", "minmax")
    dense_weight: float = _doc("Share of the dense side in the fusion; BM25 gets the rest.", 0.6)
    rrf_k: int = _doc("Reciprocal rank fusion constant, for fusion='rrf'.", 60)
    bm25_k1: float = _doc("BM25 term-frequency saturation.", 1.2)
    bm25_b: float = _doc("BM25 length normalisation.", 0.75)
    exact_max_sentences: int = _doc(
        "Sentence vectors an index folder searches exactly (float32); beyond, an IVF index with 8-bit "
        "scalar quantisation (1 byte per dimension), its parameters recorded in the manifest.", 200_000
    )
    title_in_embedding: bool = _doc(
        "Embed each sentence with its document's title in front (stored text is unchanged).", True
    )

    # Answers
    answer_k: int = _doc("Passages retrieved to answer a question with ask().", 5)
    answer_max_sentences: int = _doc(
        "Most sentences an extractive answer quotes for each part of the question (its best sentence and others of the "
        "same passage that answer too); a multi-part question gets each part's best sentence, so up to this many per part.", 3
    )
    answer_candidates: int = _doc(
        "Sentences of the retrieved passages that the answer model reads (the pre-filter keeps the best).", 8
    )
    spelling: bool = _doc(
        "Read a question word that is neither a word of the documents nor an English word, and is one "
        "letter off a word of the documents, as that word (typing slips: search/spelling.py).", True
    )
    answer_parts: bool = _doc(
        "Answer each part of a multi-part question (\"When was it founded, and who runs it?\") on its own.", True
    )
    answer_stop: float = _doc(
        "The answer model reads the candidates in pre-filter order and stops at the first whose "
        "probability of answering reaches this (never below the abstention threshold); 1: read all.", 1.0
    )
    answer_numbers: bool = _doc(
        "A sentence whose passage does not state a number the question states (\"in 2022\", \"the Fold 350\") "
        "keeps a tenth of its probability, below the card's threshold, so it is not the answer (answer/numbers.py).", True
    )
    answer_workers: int = _doc(
        "Candidates the answer model reads side by side while no other question is being read (0: one "
        "per core); a question that arrives while another is read reads one at a time, so a loaded "
        "server keeps one thread per question. Each candidate still runs alone: scores do not change.", 0
    )
    answer_unsure_below: float | None = _doc(
        "An answer whose confidence is below this is marked unsure (`Answer.unsure`; the chat says the cited "
        "passage may not answer exactly this question); unset: the answer model card's `judge_skip_above`, the "
        "level at which its reading counts as sure (0.6); 0: never.", None, float
    )
    answer_model_dir: str = _doc(
        "The trained answer model (ONNX, tokenizer, card.json).", str(PROJECT_DIR / "models" / "answer")
    )
    abstain_threshold: float | None = _doc(
        "Answerability below which ask() says the documents don't say (0..1); unset: the threshold "
        "chosen on the training dev split and recorded in the model's card.json.", None, float
    )

    # Optional language model (any OpenAI-compatible server); unset = extractive answers only
    llm_base_url: str = _doc("OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama).", "")
    llm_model: str = _doc("Model name sent to the endpoint.", "")
    llm_api_key: str = _doc("API key for the endpoint (many local servers accept any).", "", secret=True)
    llm_timeout: float = _doc("Seconds to wait for the endpoint before falling back.", 60.0)
    llm_max_tokens: int = _doc("Most tokens the model may generate per answer.", 512)

    # Upload / input limits
    max_file_mb: float = _doc(
        "Largest document accepted, in MiB (1 MiB = 1,048,576 bytes, the unit the browser shows). 10 MiB "
        "of plain text is about 100,000 sentences: several minutes of indexing on a 2-core machine.", 10.0
    )
    lock_timeout: float = _doc(
        "Seconds an indexing call waits for another one holding the index before it gives up.", 60.0
    )

    # The browser chat (app.py; its flags override these)
    host: str = _doc("Address app.py binds; beyond loopback a login (auth) is required unless --no-auth.", "127.0.0.1")
    port: int = _doc("Port app.py serves on.", 7860)
    auth: str = _doc("Login app.py requires, USER:PASSWORD (empty: none).", "", secret=True)

    def __post_init__(self):
        def named(name: str) -> str:  # as the user gave it: an environment variable, or Settings' argument
            return f"{ENV_PREFIX}{name.upper()}" if name in _FROM_ENV.get() else f"Settings({name}=…) {name}"

        for f in fields(self):
            value, kind = getattr(self, f.name), f.metadata["kind"]
            if value is None and f.default is None:
                continue
            if kind is str and isinstance(value, os.PathLike):  # Settings(index_dir=Path(...))
                value = os.fspath(value)
                object.__setattr__(self, f.name, value)
            numeric = kind is float and type(value) is int  # 3 for 3.0 is fine; True for 1 is not
            if type(value) is not kind and not numeric:
                shown = "(hidden)" if not f.repr else repr(value)  # a secret is never echoed, even of the wrong type
                raise ValueError(f"{named(f.name)}={shown}: expected {_KIND_NAMES[kind]}, not {type(value).__name__}")
            if isinstance(value, float) and not math.isfinite(value):  # "inf" parses as a number, and overflowed clocks and sizes downstream
                raise ValueError(f"{named(f.name)}={value!r}: expected a finite number")
        for name, (ok, expected) in _RULES.items():
            value = getattr(self, name)
            if not ok(value):
                secret = not self.__dataclass_fields__[name].repr  # see _doc(secret=True)
                shown = "(hidden)" if secret else repr(without_login(value, "(hidden)@") if isinstance(value, str) else value)
                raise ValueError(f"{named(name)}={shown}: expected {expected}")
        if self.chunk_overlap >= self.chunk_size:
            default = self.__dataclass_fields__["chunk_overlap"].default
            if self.chunk_overlap == default and self.chunk_size != self.__dataclass_fields__["chunk_size"].default:
                # the size was set below the default overlap: the setting given is named, not the one left alone
                other = f"{ENV_PREFIX}CHUNK_OVERLAP" if "chunk_size" in _FROM_ENV.get() else "chunk_overlap"
                raise ValueError(f"{named('chunk_size')}={self.chunk_size}: expected more than the chunk overlap "
                                 f"({self.chunk_overlap}, its default; set {other} lower too)")
            raise ValueError(f"{named('chunk_overlap')}={self.chunk_overlap}: expected less than the chunk size ({self.chunk_size})")

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then `ASSISTANT_*` environment variables, then explicit overrides."""
        known = {ENV_PREFIX + f.name.upper() for f in fields(cls)}
        unknown = sorted(name for name in os.environ if name.startswith(ENV_PREFIX) and name not in known)
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            hint = f"did you mean {close[0]}?" if close else "the settings are listed in assistant/config.py"
            raise ValueError(f"{unknown[0]}: not a setting of this assistant; {hint}")
        values = {}
        for f in fields(cls):
            raw = os.environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and not raw.strip() and f.name in _PLACES:
                # a place set to nothing is a mistake (an unset shell variable), not the default:
                # `ASSISTANT_INDEX_DIR=$TYPO … index rebuild docs/` had rebuilt the working index
                raise ValueError(f"{ENV_PREFIX + f.name.upper()}={raw!r}: set but empty; unset it for the default "
                                 f"({f.default}) or give a path")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw, f.metadata["kind"])
        from_env = frozenset(values)
        values.update({k: v for k, v in overrides.items() if v is not None})
        token = _FROM_ENV.set(from_env - {k for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        finally:
            _FROM_ENV.reset(token)

    @classmethod
    def given(cls, settings) -> "Settings":
        """`settings` as a call was given them: the environment's (`from_env`) for None; anything
        but a `Settings` refused in one line (a dict had failed deep inside with an AttributeError)."""
        if settings is None:
            return cls.from_env()
        if not isinstance(settings, cls):
            raise ValueError(f"settings: expected an assistant.Settings (Settings(k=3) or Settings.from_env(k=3)), "
                             f"got {type(settings).__name__}")
        return settings

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


_FROM_ENV: contextvars.ContextVar[frozenset] = contextvars.ContextVar("settings_from_env", default=frozenset())  # names read from ASSISTANT_*
_KIND_NAMES = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
HOST = re.compile(r"[A-Za-z0-9._:%\[\]-]+")  # what a host name or an IP address (v4, v6, zone) is made of
_PLACES = ("index_dir", "corpus_dir", "answer_model_dir")  # settings naming a folder or store
MOST_K = 100  # passages one search may return (the k setting, and k per call)
MAX_THREADS = 256  # threads a setting may ask for: more only thrash (this machine has a few cores)


_URL_LOGIN = re.compile(r"^([A-Za-z][\w+.-]*://)?([^/]*)@")  # user:password@ before the host, to the last "@"


def url_login(url: str) -> str:
    """The login an address carries before its host ("user:password"), or ""."""
    found = _URL_LOGIN.match(url)
    return found.group(2) if found else ""


def without_login(url: str, shown: str = "") -> str:
    """`url` with its login left out (or written as `shown`, such as "(hidden)@")."""
    return _URL_LOGIN.sub(lambda m: (m.group(1) or "") + shown, url, count=1)


def _positive(v) -> bool:
    return v > 0


_PROBABILITY_OR_UNSET = (lambda v: v is None or 0.0 <= v <= 1.0, "a probability from 0 to 1 (or unset)")
_A_PLACE = (lambda v: bool(v.strip()), "a folder path (empty would mean the working folder)")
_RULES = {
    "index_dir": _A_PLACE,
    "corpus_dir": _A_PLACE,
    "answer_model_dir": _A_PLACE,
    "chunk_size": (_positive, "a positive number of characters"),
    "chunk_overlap": (lambda v: v >= 0, "0 or more characters"),
    "embed_batch_size": (_positive, "1 or more"),
    "index_threads": (lambda v: 0 <= v <= MAX_THREADS, f"0 (all cores) to {MAX_THREADS}"),
    "query_threads": (lambda v: 0 <= v <= MAX_THREADS, f"0 (all cores) to {MAX_THREADS}"),
    "k": (lambda v: 1 <= v <= MOST_K, f"1 to {MOST_K}"),
    "candidates": (_positive, "1 or more"),
    "encoder": (lambda v: v in ("onnx", "onnx-int8", "torch"), "'onnx', 'onnx-int8' or 'torch'"),
    "exact_max_sentences": (_positive, "1 or more"),
    "milvus_lexical": (lambda v: v in ("bm25s", "milvus"), "'bm25s' or 'milvus'"),
    "fusion": (lambda v: v in ("minmax", "rrf"), "'minmax' or 'rrf'"),
    "dense_weight": (lambda v: 0.0 <= v <= 1.0, "a share from 0 to 1"),
    "rrf_k": (_positive, "1 or more"),
    "bm25_k1": (lambda v: v >= 0, "0 or more"),
    "bm25_b": (lambda v: 0.0 <= v <= 1.0, "0 to 1"),
    "answer_k": (lambda v: 1 <= v <= MOST_K, f"1 to {MOST_K}"),
    "answer_max_sentences": (_positive, "1 or more"),
    "answer_candidates": (_positive, "1 or more"),
    "answer_workers": (lambda v: 0 <= v <= MAX_THREADS, f"0 (one per core) to {MAX_THREADS}"),
    "answer_stop": (lambda v: 0.0 < v <= 1.0, "a probability above 0, at most 1"),
    "abstain_threshold": _PROBABILITY_OR_UNSET,
    "answer_unsure_below": _PROBABILITY_OR_UNSET,
    "llm_timeout": (lambda v: 0 < v <= 86_400, "a positive number of seconds, at most a day (86400)"),
    "llm_max_tokens": (_positive, "1 or more"),
    "max_file_mb": (lambda v: 0 < v <= 1_048_576, "a positive size in MiB, at most 1048576 (1 TiB)"),
    "lock_timeout": (lambda v: 0 <= v <= 86_400, "0 to 86400 seconds"),
    "port": (lambda v: 1 <= v <= 65535, "a port from 1 to 65535"),
    "host": (lambda v: HOST.fullmatch(v) is not None, "a host name or IP address"),
    "auth": (lambda v: not v or (":" in v and all(v.partition(":")[::2])), "USER:PASSWORD"),
    "llm_base_url": (lambda v: not v or (re.match(r"(?i)https?://[^/\s]+", v) is not None and not re.search(r"\s", v)),
                     "an http:// or https:// address without spaces (empty: none)"),
    # a key read from a file keeps its line end, which an HTTP header refuses (the error then showed the key)
    "llm_api_key": (lambda v: not any(c.isspace() or not c.isprintable() for c in v),
                    "a key without spaces or line breaks (strip the line end of a key read from a file)"),
}


def _parse(name: str, raw: str, kind: type):
    try:
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        return kind(raw)
    except ValueError:
        what = {int: "a whole number", float: "a number", bool: "true or false"}.get(kind, kind.__name__)
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r}: expected {what}") from None
