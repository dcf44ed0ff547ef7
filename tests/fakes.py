"""Test doubles shared by the test modules and by subprocesses (`from tests.fakes import ...`)."""

from __future__ import annotations

import hashlib
import re
from typing import Callable, Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """A deterministic, torch-free stand-in for the sentence embedder.

    Each lower-cased word token is hashed (sha256, so independent of PYTHONHASHSEED) to one of
    `dimension` coordinates with a sign; a text's vector is the L2-normalised sum of its tokens'.
    Texts sharing words therefore score higher than unrelated ones, which is enough to test
    ranking. A text without word tokens gets a fixed unit vector. `calls` counts `embed` calls
    and `texts_embedded` the texts passed to them.
    """

    model_name = "hash-embedder"
    dimension = 64

    def __init__(self, delay: float = 0.0):
        self.delay = delay  # seconds to sleep per call (used to slow a subprocess down)
        self.calls = 0
        self.texts_embedded = 0

    @classmethod
    def vector(cls, text: str) -> np.ndarray:
        vec = np.zeros(cls.dimension, dtype=np.float64)
        for token in _WORD.findall(text.lower()):
            digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
            slot = int.from_bytes(digest[:4], "little") % cls.dimension
            vec[slot] += 1.0 if digest[4] & 1 else -1.0
        norm = np.linalg.norm(vec)
        if norm == 0.0:
            vec = np.zeros(cls.dimension, dtype=np.float64)
            vec[0] = 1.0
            return vec.astype(np.float32)
        return (vec / norm).astype(np.float32)

    def embed(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
        threads: int | None = None,
    ) -> np.ndarray:
        if self.delay:
            import time

            time.sleep(self.delay)
        texts = list(texts)
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self.vector(text)
        if progress:
            progress(len(texts))
        return out

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embed(queries)


def make_pdf(pages: Sequence[Sequence[str]]) -> bytes:
    """A real PDF (fpdf2, core font Helvetica) with one page per item, one text line per string.

    Lines must be ASCII and short enough not to wrap (under ~90 characters)."""
    from fpdf import FPDF

    import datetime

    pdf = FPDF()
    pdf.set_creation_date(datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))  # same bytes every run
    pdf.set_font("Helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
