"""The local store: an index folder in the FAISS format of `store/index.py` (generations, CURRENT,
checksums, no pickle). A commit writes a new generation and switches CURRENT in one rename, so a
crash leaves the old or the new index, never neither.

Up to `exact_max` sentence vectors the search is exact; beyond, an IVF index with 8-bit scalar
quantisation (`store/ann.py`), whose training later rewrites reuse while the index has not grown
more than fourfold. An add or removal writes only its own chunks and vectors, as one more exact
segment listed by the new manifest (sources that left are marked dropped in older segments), also
after an approximate first segment as long as the exact ones together stay within `exact_max`;
past `MAX_SEGMENTS` segments or a quarter of the stored chunks dropped, the commit rewrites
everything into one segment instead (compaction)."""

from __future__ import annotations

import os
import re

from dataclasses import replace

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.store.ann import ann_with
from assistant.store.index import (EXACT_MAX_SENTENCES, MAX_DROPPED_SHARE, MAX_SEGMENTS, Index, current_token, not_index_files,
                                    recorded_paths, save_delta)
from assistant.store.snapshot import IndexCorrupt, IndexProblem, Manifest, Snapshot, sentence_keys, writer_lock

LOAD_TRIES = 3  # loads of an index whose CURRENT moved on during them, before a damaged one is reported


class FaissStore:
    def __init__(self, path: str, exact_max: int = EXACT_MAX_SENTENCES):
        self.name = str(path)
        self.exact_max = exact_max

    def __repr__(self) -> str:
        return f"FaissStore({self.name!r})"

    def token(self) -> str | None:
        return current_token(self.name)

    def load(self, model: str | None = None, dimension: int | None = None) -> Index:
        """The current generation. A load that spans two saves finds the generation it began
        with collected (a save keeps one before it); then CURRENT has moved on and the new one is
        read, instead of calling a healthy index damaged."""
        for _ in range(LOAD_TRIES - 1):
            began = self.token()
            try:
                return Index.load(self.name, model, dimension)
            except IndexCorrupt:
                if began is None or self.token() in (None, began):
                    raise
        return Index.load(self.name, model, dimension)

    def recorded(self) -> dict:
        return recorded_paths(self.name)

    def lock(self, timeout: float, waiting=None):
        """The writer's lock; never for the shipped index (a clone stays as it was checked out)."""
        from assistant.config import SHIPPED_INDEX_DIR

        if os.path.realpath(self.name) == os.path.realpath(SHIPPED_INDEX_DIR):
            raise IndexProblem(f"{self.name}: the shipped index is never written (using the assistant leaves the clone "
                               f"clean); index into the working index (leave out --index) or another folder")
        if others := not_index_files(self.name):
            raise IndexProblem(f"store: {self.name} holds other files ({others}), not an index; give a new or empty folder "
                               f"for the index (the index had been written among the documents)")
        return writer_lock(self.name, timeout, waiting=waiting)

    def refusal(self, chunks: list[Chunk]) -> str | None:
        return None  # a folder index holds any chunk

    def commit(self, base: Snapshot | None, manifest: Manifest, keep: set[str],
               chunks: list[Chunk], vectors: np.ndarray) -> None:
        """(See `Store.commit`.) A save that fails to write (a full disk, a file size limit,
        permissions) is one line naming the index and the system's reason; the index is as it was,
        since nothing is live before CURRENT moves."""
        try:
            self._commit(base, manifest, keep, chunks, vectors)
        except (OSError, RuntimeError) as err:
            raise IndexProblem(f"{self.name}: cannot save the index ({_write_failure(err)}); it is unchanged") from None

    def _commit(self, base: Snapshot | None, manifest: Manifest, keep: set[str],
                chunks: list[Chunk], vectors: np.ndarray) -> None:
        kept = [c for c in base.chunks if c.source in keep] if base is not None else []
        kept_keys = sentence_keys(kept)
        if self._appendable(base, kept, chunks, len(kept_keys) + len(vectors)):
            save_delta(self.name, manifest, base, keep, list(chunks), vectors)  # writes the new part only
            return
        # the kept sentences are the base's rows of the kept sources, in the same order
        old = base.sentence_vectors(base.rows_of_sources(keep)) if kept_keys else np.empty((0, manifest.dimension), np.float32)
        # rows follow sentence_keys(kept + chunks): kept sentences first, then the new ones
        everything = np.concatenate([old, vectors]) if len(old) else np.asarray(vectors, dtype=np.float32)
        recipe = base.manifest.vector_index if isinstance(base, Index) else {}
        if recipe and base.quantised and self.exact_max < len(everything) <= 4 * recipe.get("trained_on", 0):
            index = Index(replace(manifest, vector_index=recipe), kept + list(chunks), None,
                          ann=ann_with(base.approximate, everything))
        else:
            index = Index(manifest, kept + list(chunks), everything)
        index.save(self.name, self.exact_max)

    def _appendable(self, base, kept: list[Chunk], chunks: list[Chunk], sentences: int) -> bool:
        """Whether a change can be written as one more segment: an exact index read from this
        folder, staying exact, with few segments and little dropped; else the whole index is
        rewritten, which is also the compaction."""
        if not isinstance(base, Index) or not base.generation:
            return False
        recipe = base.manifest.vector_index
        if recipe:  # approximate: exact segments join it while its training holds and they stay small
            if not self.exact_max < sentences <= 4 * recipe.get("trained_on", 0):
                return False
            if base.exact_rows + len(sentence_keys(chunks)) > self.exact_max:
                return False
        elif sentences > self.exact_max:
            return False
        if len(base.segments_for_delta()) + 1 > MAX_SEGMENTS:
            return False
        stored = base.stored_chunks() + len(chunks)
        return stored > 0 and 1 - (len(kept) + len(chunks)) / stored <= MAX_DROPPED_SHARE


def _write_failure(err: Exception) -> str:
    """Why a save failed, in a few words: the system's reason ("No space left on device", "File too
    large"); FAISS's write error ends with it in brackets. Any other error is not a failed write:
    it is raised as it is."""
    if isinstance(err, OSError):
        return err.strerror or str(err)
    found = re.search(r"write error in .*\(([^()]+)\)\s*$", str(err))
    if found is None:
        raise err
    return found.group(1)
