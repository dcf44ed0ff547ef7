"""What every store shares: the recipe and files of an index (`Manifest`, `FileEntry`), a loaded
view of it (`Snapshot`: every chunk in memory and the maps between chunks and sentence rows, with
`search` and `sentence_vectors` left to the backend), the `IndexProblem` errors, each a line
naming the command that fixes it, and the writer lock.
"""

from __future__ import annotations

import functools

import contextlib
import datetime as _dt
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.ingest.chunking import Chunk

FORMAT_VERSION = 1  # the manifest's format when nothing newer is needed (exact vectors, one segment)
REBUILD_COMMAND = "python -m assistant index rebuild"


def is_default_index(store) -> bool:
    """Whether `store` names the default index folder (var/index)."""
    from assistant.config import DEFAULT_INDEX_DIR

    name = os.fspath(store)
    return "://" not in name and os.path.abspath(name) == os.path.abspath(DEFAULT_INDEX_DIR)


def rebuild_command(store) -> str:
    """The command that rebuilds the store `store` names: `REBUILD_COMMAND` for the default index
    folder, else with `--index` (before the command, where the CLI takes it) naming the store."""
    import shlex

    if is_default_index(store):
        return REBUILD_COMMAND
    return f"python -m assistant --index {shlex.quote(os.fspath(store))} index rebuild"


def no_index_yet(store) -> str:
    """The one-line message for a store that holds no index yet: the commands that make one. For
    a store of the user's own, adding their documents first (a rebuild given no path indexes the
    default corpus, which a new store had been filled with by following the advice)."""
    rebuild = rebuild_command(store)
    add = f"{rebuild.removesuffix(' rebuild')} add PATH"
    if is_default_index(store):
        return f"{store}: no index yet; run `{rebuild}` or `{add}`"
    return f"{store}: no index yet; run `{add}` with the documents to index (`{rebuild}` indexes the default corpus)"


class IndexProblem(Exception):
    """The index cannot be used. The message is one line and says what to run."""


class IndexMissing(IndexProblem):
    pass


class IndexIncompatible(IndexProblem):
    pass


class IndexCorrupt(IndexProblem):
    pass


@dataclass(frozen=True)
class FileEntry:
    """One indexed file as the manifest records it."""

    source: str
    sha256: str
    chunks: int
    added: str
    updated: str


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    title_in_embedding: bool
    chunker_version: int = 1
    files: tuple[FileEntry, ...] = ()
    roots: tuple[str, ...] = ()
    # documents removed on request (resolved paths) that a recorded folder still holds: adding or
    # rebuilding through the folder passes them by; naming one brings it back (`ingest.indexing.sync`)
    excluded: tuple[str, ...] = ()
    # the working folder its relative paths (sources, roots) were named from, where that was not the
    # project's folder (whose relative paths the shipped index records); "" otherwise, or unknown
    base: str = ""
    format_version: int = FORMAT_VERSION
    created: str = ""
    checksums: dict = field(default_factory=dict)
    # {} : exact search over float32 vectors (format 1); else the approximate index's recipe,
    # e.g. {"type": "IVF,SQ8", "nlist": 4096, "nprobe": 64, "trained_on": 1000000} (format 2)
    vector_index: dict = field(default_factory=dict)
    # () : this generation's chunks.jsonl and vectors.faiss hold everything. Else the segments,
    # oldest first, each {"dir": generation folder, "chunks": count, "checksums": {file: sha256},
    # "dropped": [sources whose chunks there are no longer live]} (format 2); the last one is
    # this generation's own files. An add writes only its segment; see `Index.save_delta`.
    segments: tuple = ()

    def to_json(self) -> dict:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        data["roots"] = list(self.roots)
        data["excluded"] = list(self.excluded)
        data["segments"] = [dict(seg) for seg in self.segments]
        # absent when empty: an index without them stays readable by older versions
        for name in ("vector_index", "segments", "excluded", "base"):
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        data = dict(data)
        data["files"] = tuple(FileEntry(**f) for f in data.get("files", ()))
        data["roots"] = tuple(data.get("roots", ()))
        data["excluded"] = tuple(data.get("excluded", ()))
        data["segments"] = tuple(data.get("segments", ()))
        return cls(**data)


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def sentence_keys(chunks: list[Chunk]) -> list[tuple[str, int, int]]:
    """The distinct sentences of `chunks` as (source, start, end), in order of first appearance."""
    return list(dict.fromkeys((c.source, s, e) for c in chunks for s, e in c.sentences))


class Ragged:
    """A list of integer lists kept as two arrays: item i is `values[starts[i]:starts[i + 1]]`."""

    def __init__(self, starts: np.ndarray, values: np.ndarray):
        self.starts, self.values = starts, values

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: int) -> list[int]:
        return self.values[self.starts[i]:self.starts[i + 1]].tolist()


class Snapshot:
    """A loaded, read-only view of a store: the manifest, every chunk, and the distinct sentences
    (`keys`, numbered in `sentence_keys` order) with the maps between chunks and sentence rows.
    Chunk texts live in memory (they are small next to the vectors); how sentence vectors are
    kept and searched is the store's: `search` and `sentence_vectors` are what a backend supplies.
    """

    def __init__(self, manifest: Manifest, chunks: list[Chunk], generation: str = ""):
        self.keys = sentence_keys(chunks)
        self.manifest = manifest
        self.chunks = chunks
        self.generation = generation
        row = {key: i for i, key in enumerate(self.keys)}  # while building; `row_of` needs less
        # chunk -> its sentence rows, and sentence row -> the chunks that contain it, as flat
        # integer arrays (lists of lists cost ~190 MB more at a million sentences)
        lengths = np.fromiter((len(c.sentences) for c in chunks), np.int64, len(chunks))
        rows = np.fromiter((row[(c.source, s, e)] for c in chunks for s, e in c.sentences), np.int64, int(lengths.sum()))
        self.chunk_rows = Ragged(np.concatenate([[0], np.cumsum(lengths)]), rows)
        order = np.argsort(rows, kind="stable")
        owners = np.repeat(np.arange(len(chunks), dtype=np.int64), lengths)[order]
        self.row_chunks = Ragged(np.searchsorted(rows[order], np.arange(len(self.keys) + 1)), owners)
        # A document's sentences are consecutive rows in reading order: its first row and the
        # rows' starts find any of them (a dict of a million tuples would keep ~60 MB more).
        self._first_row: dict[str, int] = {}
        for i, (source, _, _) in enumerate(self.keys):
            self._first_row.setdefault(source, i)
        self._starts = np.fromiter((k[1] for k in self.keys), np.int64, len(self.keys))

    @functools.cached_property
    def file_sha256(self) -> dict[str, str]:
        """Each indexed document's content hash as indexed, by source."""
        return {f.source: f.sha256 for f in self.manifest.files}

    def row_of(self, key: tuple[str, int, int]) -> int | None:
        """The vector row of sentence key (source, start, end), or None."""
        first = self._first_row.get(key[0])
        if first is None:
            return None
        last = self._last_row(key[0], first)
        i = first + int(np.searchsorted(self._starts[first:last], key[1]))
        return i if i < last and self.keys[i] == key else None

    def rows_of_sources(self, sources: set[str]) -> np.ndarray:
        """The rows of every sentence of `sources`, in row order."""
        return np.fromiter((r for r, key in enumerate(self.keys) if key[0] in sources), np.int64)

    def sentence(self, row: int) -> tuple[Chunk, str]:
        """The first chunk that holds sentence `row`, and the sentence's text."""
        chunk = self.chunks[self.row_chunks[row][0]]
        _, start, end = self.keys[row]
        return chunk, chunk.text[start - chunk.start : end - chunk.start]

    def document_rows(self, source: str) -> range:
        """The rows of `source`'s sentences, in reading order (empty for a document without one)."""
        first = self._first_row.get(source)
        return range(0) if first is None else range(first, self._last_row(source, first))

    def _last_row(self, source: str, first: int) -> int:
        """One past the last row of `source` (its rows are consecutive from `first`)."""
        lo, hi = first, len(self.keys)
        while lo < hi:  # rows of `source` come first in [first, hi): find where they stop
            mid = (lo + hi) // 2
            if self.keys[mid][0] == source:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact top-k sentences by inner product: (scores, sentence rows), each (queries, k);
        a row is -1 where fewer than k were found."""
        raise NotImplementedError

    def sentence_vectors(self, rows) -> np.ndarray:
        """The stored vectors of sentence rows, in that order."""
        raise NotImplementedError

    def lexical_scores(self, query: str, n: int) -> np.ndarray | None:
        """A lexical score per chunk from the store's own full-text search (0 outside its top
        `n`), or None when the store has none and the in-memory BM25 (`search/lexical.py`) is used."""
        return None

    def vectors_of(self, keys: list[tuple[str, int, int]]) -> np.ndarray:
        """Stored vectors for sentence keys (all must be present)."""
        if not keys:
            return np.empty((0, self.manifest.dimension), np.float32)
        return self.sentence_vectors([self.row_of(k) for k in keys])


def check_compatible(manifest: Manifest, root: Path, model: str | None, dimension: int | None) -> None:
    if model is not None and manifest.model != model:
        raise IndexIncompatible(
            f"{root}: index built with embedding model {manifest.model!r}, this assistant uses {model!r}; run `{rebuild_command(root)}`"
        )
    if dimension is not None and manifest.dimension != dimension:
        raise IndexIncompatible(
            f"{root}: index has {manifest.dimension}-d vectors, the model gives {dimension}-d; run `{rebuild_command(root)}`"
        )


class IndexBusy(IndexProblem):
    """Another writer held the index's lock for longer than the wait allowed."""


LOCK_TIMEOUT_S = 60.0


@contextlib.contextmanager
def writer_lock(index_dir: str | os.PathLike, timeout: float = LOCK_TIMEOUT_S, lock_file: str | os.PathLike | None = None,
                waiting=None):
    """Exclusive lock for one writer at a time (readers never need it). Gives up after `timeout`
    seconds with `IndexBusy`, naming the process that holds it. The lock is `index_dir`/.lock
    unless `lock_file` names another (its owner file is beside it, `.owner` appended).
    `waiting(line)` hears once that the lock is held and this writer waits (the CLI had printed
    nothing for up to a minute)."""
    from filelock import FileLock, Timeout

    root = Path(index_dir)
    path = Path(lock_file) if lock_file is not None else root / ".lock"
    owner = path.with_name(path.name + ".owner")
    deadline = time.monotonic() + timeout
    try:
        while True:
            made = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]  # folders made for the lock
            try:  # a lock file that cannot be made is said at once (it had been waited on, then called held)
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
            except OSError as err:
                raise IndexProblem(f"{index_dir}: cannot write the lock file {path} ({err.strerror or err})") from None
            lock = FileLock(path, timeout=max(0.0, deadline - time.monotonic()))
            try:
                if waiting is not None:
                    try:
                        lock.acquire(timeout=0)
                    except Timeout:
                        waiting(f"{index_dir}: waiting for {_holder(owner)} (an indexing run) to finish, at most {timeout:g} s …")
                        waiting = None
                        lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
                else:
                    lock.acquire()
            except FileNotFoundError:
                # the writer before gave up a folder it had made and wrote nothing: its lock and
                # folder went with it while this one waited (it had failed, "No such file or directory")
                if time.monotonic() > deadline:
                    raise Timeout(str(path)) from None
                continue
            if _is_current(lock, path):
                break
            lock.release()  # the file locked was removed meanwhile: the lock is the one there now
    except Timeout:
        raise IndexBusy(f"{index_dir}: index is locked by {_holder(owner)} (an indexing run); "
                        f"gave up after {timeout:g} s: wait for it to finish, or stop it") from None
    try:
        try:
            owner.write_text(f"{os.getpid()}\n", "ascii")
        except OSError as err:  # (a lock file left in a folder made read-only since)
            raise IndexProblem(f"{index_dir}: cannot write the lock's owner file {owner} ({err.strerror or err})") from None
        _held[os.path.abspath(path)] = threading.get_ident()
        yield
    finally:
        _held.pop(os.path.abspath(path), None)
        with contextlib.suppress(OSError):
            owner.unlink()
        unused = False
        if made:  # a write that wrote nothing (a typo for --index, a file not there) leaves no folder behind
            with contextlib.suppress(OSError):
                if os.listdir(path.parent) == [path.name]:
                    path.unlink()  # while still held: a writer waiting then locks a new file, never this one
                    unused = True
        lock.release()
        if unused:
            with contextlib.suppress(OSError):  # (not where a waiting writer has made its lock there since)
                for folder in made:
                    folder.rmdir()


def _holder(owner: Path) -> str:
    """Who holds a lock, as its owner file says: "process N", else "another process"."""
    try:
        return f"process {int(owner.read_text('ascii').split()[0])}"
    except (OSError, ValueError, IndexError):
        return "another process"


def _is_current(lock, path: Path) -> bool:
    """Whether the file `lock` holds is the one at `path` now (not one removed while it was waited on)."""
    fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
    if fd is None:
        return True
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


_held: dict[str, int] = {}  # lock file -> the thread of this process that holds it


def held_here(lock_file: str | os.PathLike) -> bool:
    """Whether the calling thread holds the writer lock `lock_file` (a writer reading its own store
    must not wait for itself)."""
    return _held.get(os.path.abspath(lock_file)) == threading.get_ident()  # one spelling ("a//b" is "a/b")
