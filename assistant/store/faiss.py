"""The local store: an index folder in the FAISS format of `index.py` (generations, CURRENT,
checksums, no pickle). A commit writes a whole new generation and switches CURRENT in one rename,
so a crash leaves the old or the new index, never neither."""

from __future__ import annotations

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.store.index import Index, Manifest, Snapshot, current_token, sentence_keys, writer_lock


class FaissStore:
    def __init__(self, path: str):
        self.name = str(path)

    def __repr__(self) -> str:
        return f"FaissStore({self.name!r})"

    def token(self) -> str | None:
        return current_token(self.name)

    def load(self, model: str | None = None, dimension: int | None = None) -> Index:
        return Index.load(self.name, model, dimension)

    def lock(self, timeout: float):
        return writer_lock(self.name, timeout)

    def commit(self, base: Snapshot | None, manifest: Manifest, keep: set[str],
               chunks: list[Chunk], vectors: np.ndarray) -> None:
        kept = [c for c in base.chunks if c.source in keep] if base is not None else []
        kept_keys = sentence_keys(kept)
        old = base.vectors_of(kept_keys) if kept_keys else np.empty((0, manifest.dimension), np.float32)
        # rows follow sentence_keys(kept + chunks): kept sentences first, then the new ones
        Index(manifest, kept + list(chunks), np.concatenate([old, vectors]) if len(old) else vectors).save(self.name)
