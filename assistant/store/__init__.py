"""Where an index lives: one string names a store, and every store offers the same verbs.

- a folder path: the local FAISS index format (`store/faiss.py`, generations and checksums);
- ``milvus:///abs/path/file.db``: Milvus Lite, the embedded engine, in one file;
- ``milvus://host:19530`` (``milvus+https://host:443`` for TLS): a Milvus server or cluster,
  with the token from ``ASSISTANT_MILVUS_TOKEN`` (`store/milvus.py`).

Indexing (`ingest/indexing.py`) decides what changes; a store only loads a `Snapshot` and commits a
change (the chunks of the sources it keeps, plus new chunks with their sentence vectors).
"""

from __future__ import annotations

import os
import re
from typing import ContextManager, Protocol

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.store.snapshot import Manifest, Snapshot

MILVUS_SCHEMES = ("milvus://", "milvus+http://", "milvus+https://")


class Store(Protocol):
    name: str  # the string that names it (a folder path or a milvus URI)

    def token(self) -> str | None:
        """A cheap fingerprint of the committed state: it changes with every commit (None: empty)."""

    def load(self, model: str | None = None, dimension: int | None = None) -> Snapshot:
        """The committed state (raises `IndexMissing`, `IndexCorrupt`, `IndexIncompatible`)."""

    def recorded(self) -> dict | None:
        """The recorded folders and exclusions ({"roots": [...], "excluded": [...]}) as far as they
        can be read while `load` fails (chunks unreadable, another format version); {} if not;
        None where nothing was ever committed (a first build cut short)."""

    def lock(self, timeout: float, waiting=None) -> ContextManager:
        """Held by a writer across load-change-commit; `IndexBusy` after `timeout` seconds.
        `waiting(line)` hears once that another writer holds it and this one waits."""

    def refusal(self, chunks: list[Chunk]) -> str | None:
        """Why this store cannot hold a document's `chunks` (asked before they are embedded), or None."""

    def commit(self, base: Snapshot | None, manifest: Manifest, keep: set[str],
               chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Make the store hold `base`'s chunks of the sources in `keep` (none when `base` is None:
        start over) plus `chunks`, whose distinct sentences (in `snapshot.sentence_keys` order) have
        `vectors`; `manifest` describes the result. Either all of it becomes visible or, after a
        crash, the next load says so."""


def is_milvus(name: str) -> bool:
    return str(name).startswith(MILVUS_SCHEMES)


def _is_milvus_lite_file(path: str) -> bool:
    from assistant.store.milvus import lite_entries

    return "collections" in (lite_entries(path) or ())


def named_or_default(index_dir, settings):
    """The store a call names: `index_dir`, or with None the configured one. An empty name is
    refused, not read as "the default" (an unset variable would otherwise write there)."""
    if index_dir is None:
        return settings.index_dir
    if not isinstance(index_dir, (str, os.PathLike)) or not isinstance(os.fspath(index_dir), str):
        raise ValueError(f"index_dir: expected an index folder or a milvus:// address, got {type(index_dir).__name__}")
    if isinstance(index_dir, (str, os.PathLike)) and not os.fspath(index_dir).strip():
        raise ValueError("index_dir: empty; give a folder path or a milvus:// address (None for the configured index)")
    return index_dir


def _file_above(name: str) -> str | None:
    """The nearest existing folder above `name` when it is a file (the store could never be made)."""
    folder = os.path.dirname(os.path.abspath(name))
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None if os.path.isdir(folder) else folder


def open_store(name: str | os.PathLike, settings=None) -> Store:
    """The store that `name` names (see the module docstring)."""
    name = os.fspath(name)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("store: give a folder path or a milvus:// address")
    if is_milvus(name):
        from assistant.store.milvus import MilvusStore

        store = MilvusStore.from_uri(name, settings)
        if store.lite_path and (above := _file_above(store.lite_path)):
            raise ValueError(f"store: {store.lite_path} lies under {above}, a file, not a folder")
        return store
    if "://" in name or re.match(r"(?i)milvus(\+https?)?:", name):  # "milvus:/x" is a typo, not a folder
        raise ValueError(f"{name}: unknown store address; expected a folder path, milvus:///abs/file.db or milvus://host:port")
    if os.path.exists(name) and not os.path.isdir(name):
        raise ValueError(f"store: {name} is a file, not an index folder")
    above = _file_above(name)
    if above:
        raise ValueError(f"store: {name} lies under {above}, a file, not a folder")
    if _is_milvus_lite_file(name):  # a folder store there would put a second index beside Milvus's
        raise ValueError(f"store: {name} is a Milvus Lite file; open it as milvus://{os.path.abspath(name)}")
    from assistant.store.faiss import FaissStore

    return FaissStore(name, settings.exact_max_sentences) if settings is not None else FaissStore(name)
