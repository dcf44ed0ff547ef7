"""The Milvus store: the same index in Milvus collections, for corpora that outgrow one machine.

Addresses (`store.open_store`): ``milvus:///abs/path/file.db`` is Milvus Lite (the embedded
engine, one file); ``milvus://host:19530`` a Milvus server or cluster over plain HTTP/gRPC,
``milvus+https://host:443`` over TLS; the token comes from ``ASSISTANT_MILVUS_TOKEN``.

Three collections, named with the prefix ``assistant_``:

- ``assistant_chunks``: one row per chunk (its id, source, load order ``seq``, the chunk's fields
  as JSON and its text, which Milvus's built-in BM25 function turns into a sparse vector);
- ``assistant_sentences``: one row per distinct sentence (source, start, end) with its vector,
  searched exactly (FLAT index, inner product), as the FAISS store does;
- ``assistant_meta``: the state row (format version, recipe, commit id, clean or writing) and one
  row per indexed file (the manifest's entries).

A commit marks the state "writing", deletes the rows of the files that leave or change, inserts
the new ones, writes the file rows, flushes, and marks the state "clean" with a new commit id.
Milvus makes each of those calls durable (its write-ahead log), but not the set of them: a crash
in between leaves the state "writing", which the next load reports as one line naming
``index rebuild``, and a rebuild starts the collections over from the files. Readers keep the
chunk texts in memory (small next to the vectors) and read vectors from Milvus.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import signal
import sys
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.store.snapshot import (FORMAT_VERSION, FileEntry, IndexBusy, IndexCorrupt, IndexIncompatible, IndexMissing,
                                      IndexProblem, Manifest, Snapshot, check_compatible, held_here, no_index_yet, now, rebuild_command,
                                      sentence_keys, writer_lock)

PREFIX = "assistant_"
CHUNKS, SENTENCES, META = PREFIX + "chunks", PREFIX + "sentences", PREFIX + "meta"
STATE = "state"
STATE_PART = "statepart"  # rows holding a state longer than one VARCHAR (`_put_state`)
STATE_PART_BYTES = 60_000  # bytes of state per row, below VARCHAR_MAX
VARCHAR_MAX = 65535  # bytes: Milvus's longest VARCHAR
BATCH = 512  # rows per insert or delete call
# The lexical side's analyzer: words, lower-cased, English Snowball stems, English stop words
# dropped (close to lexical.py's bm25s tokenizer, not identical), as a Milvus server applies it;
# Milvus Lite 3.2 applies only the words and lower case (it passes the stemmer by and reads
# "_english_" as a word).
ANALYZER = {"tokenizer": "standard",
            "filter": ["lowercase", {"type": "stemmer", "language": "english"}, {"type": "stop", "stop_words": ["_english_"]}]}

_clients: dict[str, object] = {}
_clients_lock = threading.Lock()
_loaded: set[tuple[str, str]] = set()  # (uri, collection) known to be loaded
# A collection's first use in this process, one thread at a time: Milvus Lite opens a collection at
# its first request without a lock, and two threads' first requests at once had left it released
# ("call load() before search"), which read as a damaged file for the rest of the process.
_first_use = threading.Lock()
_RELEASED = ("is in state 'released'", "call load() before")


def _quiet() -> None:
    # Milvus Lite answers the iterator's timestamp request with "not implemented" (the iterator
    # then uses the client's clock) and gRPC logs that with a traceback each time
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    # a file another process holds is logged with a traceback before the error we turn into one line
    logging.getLogger("milvus_lite.server_manager").setLevel(logging.CRITICAL)
    # a store it cannot read is logged with a traceback by its servicer and again by pymilvus's
    # RPC wrapper, before the error we turn into one line; pymilvus also warns on every query
    # iterator against Milvus Lite (no server timestamp)
    logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)


def close_clients() -> None:
    """Close this process's Milvus connections (a Milvus Lite file is then free for another process)."""
    with _clients_lock:
        for client in _clients.values():
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        _clients.clear()
        with _first_use:
            _loaded.clear()


def parse(name: str) -> tuple[str, str | None]:
    """(the URI pymilvus connects to, the Milvus Lite file or None) for a store address."""
    if name.startswith("milvus:///"):
        path = name[len("milvus://"):]
        if not os.path.isabs(path) or path.endswith("/"):
            raise ValueError(f"{name}: Milvus Lite needs an absolute file path, e.g. milvus:///data/index.db")
        if not path.endswith(".db"):  # what Milvus Lite itself requires of a file name
            raise ValueError(f"{name}: a Milvus Lite file name ends in .db, e.g. milvus:///data/index.db")
        return path, path
    for scheme, http in (("milvus+https://", "https://"), ("milvus+http://", "http://"), ("milvus://", "http://")):
        if name.startswith(scheme):
            rest = name[len(scheme):]
            if rest.endswith(".db"):
                raise ValueError(f"{name}: Milvus Lite needs an absolute file path and three slashes, "
                                 f"e.g. milvus:///data/index.db")
            if not rest or rest.startswith("/"):
                raise ValueError(f"{name}: expected {scheme}host:port")
            return http + rest, None
    raise ValueError(f"{name}: not a milvus:// address")


LITE_ENTRIES = frozenset({"LOCK", "collections", "databases", ".database-staging"})  # what a Milvus Lite file (a folder) holds
WRITER_WAIT_S = 60.0  # how long a load waits for this machine's writer to finish its commit
READ_TRIES = 5  # reads of a store that a writer keeps changing before a load gives up


def lite_entries(path: str) -> set[str] | None:
    """The entries of the folder `path` when they are only what a Milvus Lite file holds; None
    for a folder holding anything else, or no folder."""
    try:
        entries = set(os.listdir(path))
    except OSError:
        return None
    return entries if entries <= LITE_ENTRIES else None


class _ChangedWhileRead(IndexCorrupt):
    """The state moved on while a load read the collections: not damage, a reason to read again."""


def _key_id(source: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{source}\x00{start}\x00{end}".encode("utf-8", "surrogatepass")).hexdigest()


class MilvusStore:
    def __init__(self, name: str, uri: str, lite_path: str | None, token: str = "", lexical: str = "bm25s"):
        self.name, self.uri, self.lite_path, self._token, self.lexical = name, uri, lite_path, token, lexical

    @classmethod
    def from_uri(cls, name: str, settings=None) -> "MilvusStore":
        uri, lite = parse(name)
        if lite:  # one client and lock per file, however it is reached (a link had read as "another process")
            uri = lite = os.path.realpath(lite)
        token = getattr(settings, "milvus_token", "") or ""
        lexical = getattr(settings, "milvus_lexical", "bm25s") or "bm25s"
        return cls(name, uri, lite, token, lexical)

    def __repr__(self) -> str:
        return f"MilvusStore({self.name!r})"

    # --- connection ---------------------------------------------------------------------------

    @property
    def client(self):
        with _clients_lock:
            client = _clients.get(self.uri)
            if client is None:
                from pymilvus import MilvusClient

                _quiet()  # after the import: pymilvus configures its loggers when imported

                if self.lite_path:
                    self._check_lite_place()
                    Path(self.lite_path).parent.mkdir(parents=True, exist_ok=True)
                # Milvus Lite's in-process server answers pymilvus's 10-second keepalive pings with
                # "too_many_pings" (logged by gRPC); 5 minutes is what gRPC servers accept by default
                options = {"grpc_options": {"grpc.keepalive_time_ms": 300_000}} if self.lite_path else {}
                try:
                    client = MilvusClient(self.uri, token=self._token, **options) if self._token else MilvusClient(self.uri, **options)
                except Exception as err:  # noqa: BLE001 - pymilvus raises several kinds
                    if self.lite_path and "Open local milvus failed" in str(err):
                        if os.path.isfile(self.lite_path):
                            raise IndexProblem(f"{self.name}: {self.lite_path} is a file; Milvus Lite keeps a store in a folder of "
                                               f"that name (a single-file store of an older Milvus Lite, or a damaged one, cannot be "
                                               f"read): move or delete the file to rebuild there, or name another path") from None
                        if not os.path.exists(self.lite_path):  # a broken link or a loop
                            raise IndexProblem(f"{self.name}: {self.lite_path} is a link that leads nowhere "
                                               f"(to a missing file or back to itself)") from None
                        if not os.access(self.lite_path, os.W_OK):
                            raise IndexProblem(f"{self.name}: Milvus Lite needs write access to {self.lite_path} even to "
                                               f"read it (a read-only folder or file system)") from None
                        raise IndexBusy(f"{self.name}: another process has this Milvus Lite file open (Milvus Lite "
                                        "serves one process at a time; stop it, or use a Milvus server)") from None
                    raise IndexProblem(f"{self.name}: cannot connect to Milvus ({_first_line(err)})") from None
                _clients[self.uri] = client
            return client

    def _check_lite_place(self) -> None:
        """A Milvus Lite file path that cannot be a store: a folder that holds other things (a
        folder index named *.db, documents), which had been written into. (One under a file is
        refused by `open_store`.)"""
        if os.path.isdir(self.lite_path) and lite_entries(self.lite_path) is None:
            names = sorted(os.listdir(self.lite_path))
            if "CURRENT" in names or any(n.startswith("gen-") for n in names):
                raise IndexProblem(f"{self.name}: {self.lite_path} is a folder index, not a Milvus Lite file; open it as "
                                   f"--index {self.lite_path}")
            raise IndexProblem(f"{self.name}: {self.lite_path} is a folder holding other files ({', '.join(names[:3])}), "
                               f"not a Milvus Lite file")

    @contextlib.contextmanager
    def _reading(self):
        """Milvus's own errors while reading as one line: for a Milvus Lite file, damage that a
        rebuild repairs (it starts the file over); for a server, what the server said."""
        from pymilvus.exceptions import MilvusException

        try:
            yield
        except MilvusException as err:
            reason = getattr(err, "message", "") or _first_line(err)
            if any(words in reason for words in _RELEASED):  # released meanwhile: loaded again, read again
                self._forget_loaded()
                raise _ChangedWhileRead(f"{self.name}: a collection was released while it was read") from None
            if self.lite_path:
                raise IndexCorrupt(f"{self.name}: Milvus Lite cannot read this file ({reason}); "
                                   f"run `{rebuild_command(self.name)}`") from None
            raise IndexProblem(f"{self.name}: Milvus could not read the store ({reason})") from None

    def _exists(self, collection: str) -> bool:
        with self._reading():
            return self._exists_and_loaded(collection)

    def _exists_and_loaded(self, collection: str) -> bool:
        """Whether `collection` exists; an existing one is loaded for search and query (Milvus
        keeps collections released when a server, or a Milvus Lite file, is opened again)."""
        client = self.client
        if (self.uri, collection) in _loaded:
            return client.has_collection(collection)
        with _first_use:
            if not client.has_collection(collection):
                return False
            if (self.uri, collection) not in _loaded:
                state = str(client.get_load_state(collection).get("state", ""))
                if "Loaded" not in state:
                    client.load_collection(collection)
                _loaded.add((self.uri, collection))
        return True

    def _forget_loaded(self) -> None:
        with _first_use:
            for key in [key for key in _loaded if key[0] == self.uri]:
                _loaded.discard(key)

    def read(self, call):
        """`call()` (a search or query of a loaded snapshot) with Milvus's errors as one line; once
        more after loading again a collection found released."""
        try:
            with self._reading():
                return call()
        except _ChangedWhileRead:
            for collection in (SENTENCES, CHUNKS):
                self._exists(collection)  # loads it again
            with self._reading():
                return call()

    # --- reading ------------------------------------------------------------------------------

    def _state(self) -> dict | None:
        if not self._exists(META):
            return None
        with self._reading():
            rows = self.client.query(META, ids=[STATE], output_fields=["json"])
            if not rows:
                return None
            state = json.loads(rows[0]["json"])
            if not (isinstance(state, dict) and "parts" in state):
                return state
            parts = {r["id"]: r["json"] for r in self.client.query(META, ids=list(state["parts"]), output_fields=["id", "json"])}
        text = "".join(parts.get(i, "") for i in state["parts"])
        if hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != state.get("sha256"):
            raise _ChangedWhileRead(f"{self.name}: the store's state changed while it was read")
        return json.loads(text)

    def _no_index_yet(self) -> str:
        return no_index_yet(self.name)

    def _no_lite_file(self) -> bool:
        """A Milvus Lite file that is not there: readers say so without creating it (connecting does)."""
        return bool(self.lite_path) and not os.path.lexists(self.lite_path)

    def token(self) -> str | None:
        if self._no_lite_file():
            return None
        try:
            state = self._state()
        except IndexProblem:
            return None
        return None if state is None else f"{state.get('commit')} {state.get('state')}"

    def recorded(self) -> dict | None:
        if self._no_lite_file():
            return None
        try:
            state = self._state()
            if state is None or not ("manifest" in state or "writing" in state):
                return None  # never committed, nor begun to be: nothing was recorded
            manifest = state.get("manifest") or state.get("writing") or {}
        except IndexBusy:
            raise
        except (IndexProblem, ValueError, AttributeError):
            return self._recorded_copy()
        return {key: [str(p) for p in manifest[key]] for key in ("roots", "excluded")
                if isinstance(manifest.get(key), list) and all(isinstance(p, str) for p in manifest[key])}

    def load(self, model: str | None = None, dimension: int | None = None) -> "MilvusSnapshot":
        """The committed state. A commit is several calls, not one transaction: read while one is
        being written (by this machine's writer, who holds the lock), the state waits for it to
        end (at most WRITER_WAIT_S) and is read again; with no writer, "writing" means a run was
        cut short."""
        if self._no_lite_file():
            raise IndexMissing(self._no_index_yet())
        for _ in range(READ_TRIES):
            try:
                return self._load(model, dimension)
            except IndexCorrupt as err:
                if not (isinstance(err, _ChangedWhileRead) or self._waited_for_writer()):
                    raise
        raise IndexBusy(f"{self.name}: the store changed {READ_TRIES} times while it was read (indexing runs one "
                        f"after another); try again when they are done")

    def _waited_for_writer(self) -> bool:
        """Whether a writer of this machine held the lock (then this waited until it let go)."""
        from filelock import FileLock, Timeout

        if held_here(self._lock_path()):
            return False  # this thread is the writer (a rebuild reading what it starts over)
        lock = FileLock(self._lock_path())
        try:
            lock.acquire(timeout=0)
        except Timeout:
            pass
        else:
            lock.release()
            return False
        with self.lock(WRITER_WAIT_S):  # IndexBusy, naming the writer, past the wait
            return True

    def _load(self, model: str | None, dimension: int | None) -> "MilvusSnapshot":
        state = self._state()
        if state is None or not self._exists(CHUNKS) or not self._exists(SENTENCES):
            raise IndexMissing(self._no_index_yet())
        if state.get("state") != "clean":
            raise IndexCorrupt(f"{self.name}: an indexing run was interrupted before it finished; "
                               f"run `{rebuild_command(self.name)}`")
        if state.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatible(f"{self.name}: index format version {state.get('format_version')}, this assistant "
                                    f"reads version {FORMAT_VERSION}; run `{rebuild_command(self.name)}`")
        files = [FileEntry(**json.loads(r["json"])) for r in self._all(META, ["json"], 'kind == "file"')]
        manifest = Manifest.from_json({**state["manifest"], "files": [asdict(f) for f in sorted(files, key=lambda f: f.source)]})
        check_compatible(manifest, self.name, model, dimension)
        rows = sorted(self._all(CHUNKS, ["seq", "row", "text"]), key=lambda r: r["seq"])
        chunks = [_chunk_from(r) for r in rows]
        if len(chunks) != sum(f.chunks for f in files):
            if (self._state() or {}).get("commit") != state.get("commit"):
                raise _ChangedWhileRead(self.name)  # a writer began after the state was read: read again
            raise IndexCorrupt(f"{self.name}: {len(chunks)} chunks stored, the manifest lists "
                               f"{sum(f.chunks for f in files)}; run `{rebuild_command(self.name)}`")
        return MilvusSnapshot(manifest, chunks, state["commit"], self, [r["seq"] for r in rows])

    def _all(self, collection: str, fields: list[str], where: str = "") -> list[dict]:
        with self._reading():
            iterator = self.client.query_iterator(collection, batch_size=10_000, filter=where, output_fields=fields)
            out = []
            try:
                while batch := iterator.next():
                    out.extend(batch)
            finally:
                iterator.close()
            return out

    # --- writing ------------------------------------------------------------------------------

    def lock(self, timeout: float, waiting=None):
        return writer_lock(self.name, timeout, self._lock_path(), waiting)

    def _lock_path(self) -> str:
        if self.lite_path:
            return self.lite_path + ".lock"
        # A server has no lock of ours: this serialises the writers of this machine only.
        digest = hashlib.sha1(self.uri.encode()).hexdigest()[:16]
        return str(Path(tempfile.gettempdir()) / f"assistant-milvus-{digest}.lock")

    def commit(self, base: Snapshot | None, manifest: Manifest, keep: set[str],
               chunks: list[Chunk], vectors: np.ndarray) -> None:
        with _interrupt_after(self.name):
            self._commit(base, manifest, keep, chunks, vectors)

    def refusal(self, chunks: list[Chunk]) -> str | None:
        for chunk in chunks:
            if len(_lexical_text(chunk).encode("utf-8", "surrogatepass")) > VARCHAR_MAX:
                return (f"{chunk.source}: a chunk of more than {VARCHAR_MAX:,} bytes does not fit a Milvus text field; "
                        f"lower ASSISTANT_CHUNK_SIZE")
        return None

    def _commit(self, base: Snapshot | None, manifest: Manifest, keep: set[str],
                chunks: list[Chunk], vectors: np.ndarray) -> None:
        keys = sentence_keys(chunks)
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} sentences but {len(vectors)} vectors")
        texts = [_lexical_text(c) for c in chunks]
        if why := self.refusal(chunks):  # (asked per document before embedding; this is the last guard)
            raise IndexProblem(why)
        if base is None:  # starting over: a Milvus Lite file that Milvus cannot read is written anew
            try:
                for name in (META, CHUNKS, SENTENCES):
                    self._exists(name)
                self._state()
            except IndexCorrupt:
                if not self._start_lite_file_over():
                    raise
        state = self._state()  # None: no meta collection yet, or no state row in it
        client = self.client
        if state is None and not self._exists(META):
            self._create_meta()
        commit = f"{now()}-{secrets.token_hex(4)}"
        # what this run records, kept while it writes: a first build cut short is then rebuilt from
        # its own folders (it had been rebuilt from the default corpus, the shipped article)
        self._put_state({**(state or {}), "state": "writing", "commit": commit,
                         "writing": {"roots": list(manifest.roots), "excluded": list(manifest.excluded)}})
        if base is None:  # start over: the recipe (model, dimension, chunking) may have changed
            for name in (CHUNKS, SENTENCES):
                if client.has_collection(name):
                    client.drop_collection(name)
                with _first_use:
                    _loaded.discard((self.uri, name))
            gone_files = [r["id"] for r in self._all(META, ["id"], 'kind == "file"')]
            _batched(lambda ids: client.delete(META, ids=ids), gone_files)
            self._create_data(manifest.dimension)
            next_seq = 0
        else:
            next_seq = int((state or {}).get("next_seq", 0))
            leaving = {c.source for c in base.chunks if c.source not in keep}
            leaving |= {f.source for f in base.manifest.files if f.source not in keep}
            _batched(lambda ids: client.delete(CHUNKS, ids=ids), [c.id for c in base.chunks if c.source in leaving])
            _batched(lambda ids: client.delete(SENTENCES, ids=ids),
                     [_key_id(*k) for k in base.keys if k[0] in leaving])
            _batched(lambda ids: client.delete(META, ids=ids), [_file_id(s) for s in leaving])
        _batched(lambda rows: client.insert(CHUNKS, rows), [
            {"id": c.id, "source": c.source, "seq": next_seq + i, "row": json.dumps(_row_of(c), ensure_ascii=False), "text": t}
            for i, (c, t) in enumerate(zip(chunks, texts))
        ])
        vectors = np.asarray(vectors, dtype=np.float32)
        _batched(lambda rows: client.insert(SENTENCES, rows), [
            {"id": _key_id(*k), "source": k[0], "start": k[1], "end": k[2], "vector": v.tolist()}
            for k, v in zip(keys, vectors)
        ])
        fresh = {c.source for c in chunks} | {f.source for f in manifest.files if f.source not in keep}
        _batched(lambda rows: client.upsert(META, rows), [
            {"id": _file_id(f.source), "kind": "file", "json": json.dumps(asdict(f), ensure_ascii=False), "dummy": [0.0, 0.0]}
            for f in manifest.files if f.source in fresh
        ])
        for name in (CHUNKS, SENTENCES, META):
            client.flush(name)
        recipe = manifest.to_json()
        recipe.pop("files")
        recipe["created"] = now()
        self._put_state({"state": "clean", "commit": commit, "format_version": FORMAT_VERSION,
                         "manifest": recipe, "next_seq": next_seq + len(chunks)})
        client.flush(META)
        self._keep_recorded(manifest)

    def _recorded_path(self) -> str | None:
        return self.lite_path + ".recorded.json" if self.lite_path else None

    def _keep_recorded(self, manifest: Manifest) -> None:
        """A Milvus Lite file's recorded folders, also in a small file beside it: where the file's
        own record cannot be read (damaged), `index rebuild` still knows what to read (the error
        had named that command, which then refused for want of the folders)."""
        path = self._recorded_path()
        if path is None:
            return
        with contextlib.suppress(OSError):  # a copy: the store itself is written
            temporary = f"{path}.{os.getpid()}.tmp"
            Path(temporary).write_text(json.dumps({"roots": list(manifest.roots), "excluded": list(manifest.excluded)},
                                                  ensure_ascii=False), "utf-8")
            os.replace(temporary, path)

    def _recorded_copy(self) -> dict:
        """The recorded folders kept beside a Milvus Lite file (`_keep_recorded`), or {}."""
        path = self._recorded_path()
        try:
            data = json.loads(Path(path).read_text("utf-8")) if path else {}
        except (OSError, ValueError):
            return {}
        return {key: data[key] for key in ("roots", "excluded")
                if isinstance(data, dict) and isinstance(data.get(key), list) and all(isinstance(p, str) for p in data[key])}

    def _start_lite_file_over(self) -> bool:
        """A rebuild of a Milvus Lite file that Milvus cannot read: remove the file (a folder of
        Milvus Lite's own entries holding this store's collections and no other) so that the
        rebuild writes it anew from the documents. False when it is not such a file."""
        import shutil

        if not self.lite_path or lite_entries(self.lite_path) is None:
            return False  # not only what Milvus Lite writes: never removed
        collections, databases = Path(self.lite_path, "collections"), Path(self.lite_path, "databases")
        others = sorted({p.name for p in collections.iterdir()} - {CHUNKS, SENTENCES, META}) if collections.is_dir() else []
        others += [f"database {p.name}" for p in sorted(databases.iterdir())] if databases.is_dir() else []  # ours use the default one
        if others:  # someone else's collections too: never removed
            raise IndexCorrupt(f"{self.name}: Milvus Lite cannot read this file, and it holds other collections "
                               f"({', '.join(others[:3])}) that a rebuild must not remove; repair or move it by hand")
        close_clients()
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(self.lite_path)  # its in-process server holds the old state
        shutil.rmtree(self.lite_path)
        return True

    def _put_state(self, state: dict) -> None:
        """Write the state row. One VARCHAR holds at most VARCHAR_MAX bytes, and the recorded
        folders grow with every file added by name: a longer state is written as parts first
        (rows of their own, under new ids), then the state row naming them and their checksum,
        then the parts of earlier states go; a reader never sees a state row without its parts."""
        text = json.dumps(state, ensure_ascii=False)
        data = text.encode("utf-8", "surrogatepass")
        dummy = [0.0, 0.0]
        if len(data) <= STATE_PART_BYTES:
            row, ids = text, []
        else:
            pieces = _pieces(text, STATE_PART_BYTES)
            tag = secrets.token_hex(6)
            ids = [f"{STATE_PART}-{tag}-{i}" for i in range(len(pieces))]
            _batched(lambda rows: self.client.upsert(META, rows),
                     [{"id": i, "kind": STATE_PART, "json": piece, "dummy": dummy} for i, piece in zip(ids, pieces)])
            self.client.flush(META)
            row = json.dumps({"parts": ids, "sha256": hashlib.sha256(data).hexdigest()})
        self.client.upsert(META, [{"id": STATE, "kind": STATE, "json": row, "dummy": dummy}])
        stale = [r["id"] for r in self._all(META, ["id"], f'kind == "{STATE_PART}"') if r["id"] not in ids]
        _batched(lambda gone: self.client.delete(META, ids=gone), stale)

    def _clear_half_made(self, collection: str) -> None:
        """A Milvus Lite collection's folder left without its schema (a process killed while
        creating it): Milvus Lite reads the collection as absent but cannot create it again ("File
        exists"), which had left the store unusable for good. Removed before it is created."""
        import shutil

        folder = Path(self.lite_path, "collections", collection) if self.lite_path else None
        if folder is not None and folder.is_dir() and not (folder / "schema.json").exists():
            shutil.rmtree(folder)

    def _create_meta(self) -> None:
        from pymilvus import DataType

        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("kind", DataType.VARCHAR, max_length=16)
        schema.add_field("json", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
        params = self.client.prepare_index_params()
        params.add_index(field_name="dummy", index_type="FLAT", metric_type="L2")
        self._clear_half_made(META)
        self.client.create_collection(META, schema=schema, index_params=params, consistency_level="Strong")

    def _create_data(self, dimension: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self.client
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("source", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("seq", DataType.INT64)
        schema.add_field("row", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("text", DataType.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True, analyzer_params=ANALYZER)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        params = client.prepare_index_params()
        params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self._clear_half_made(CHUNKS)
        client.create_collection(CHUNKS, schema=schema, index_params=params, consistency_level="Strong")

        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("source", DataType.VARCHAR, max_length=VARCHAR_MAX)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        params = client.prepare_index_params()
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")  # exact, as the FAISS store
        self._clear_half_made(SENTENCES)
        client.create_collection(SENTENCES, schema=schema, index_params=params, consistency_level="Strong")


class MilvusSnapshot(Snapshot):
    """Chunks in memory; sentence vectors searched and read in Milvus."""

    def __init__(self, manifest: Manifest, chunks: list[Chunk], generation: str, store: MilvusStore, seqs: list[int]):
        super().__init__(manifest, chunks, generation)
        self.store = store
        self._chunk_of_seq = {seq: i for i, seq in enumerate(seqs)}

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        query_vectors = np.asarray(query_vectors, dtype=np.float32).reshape(-1, self.manifest.dimension)
        k = min(k, len(self.keys))
        scores = np.full((len(query_vectors), k), -np.inf, dtype=np.float32)
        rows = np.full((len(query_vectors), k), -1, dtype=np.int64)
        if k == 0 or not len(query_vectors):
            return scores, rows
        found = self.store.read(lambda: self.store.client.search(
            SENTENCES, data=[v.tolist() for v in query_vectors], limit=k, anns_field="vector",
            search_params={"metric_type": "IP"}, output_fields=["source", "start", "end"]))
        for q, hits in enumerate(found):
            j = 0
            for hit in hits:
                e = hit["entity"]
                row = self.row_of((e["source"], e["start"], e["end"]))
                if row is None:  # written after this snapshot was loaded
                    continue
                scores[q, j], rows[q, j] = hit["distance"], row
                j += 1
        return scores, rows

    def sentence_vectors(self, rows) -> np.ndarray:
        rows = list(rows)
        if not rows:
            return np.empty((0, self.manifest.dimension), np.float32)
        ids = [_key_id(*self.keys[r]) for r in rows]
        got = {r["id"]: r["vector"] for r in self.store.read(lambda: self.store.client.query(SENTENCES, ids=ids, output_fields=["vector"]))}
        missing = [i for i in ids if i not in got]
        if missing:
            raise IndexCorrupt(f"{self.store.name}: {len(missing)} sentence vectors missing; "
                               f"run `{rebuild_command(self.store.name)}`")
        return np.asarray([got[i] for i in ids], dtype=np.float32)

    def lexical_scores(self, query: str, n: int) -> np.ndarray | None:
        if self.store.lexical != "milvus":
            return None
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        if not self.chunks or not query.strip():
            return scores
        found = self.store.read(lambda: self.store.client.search(
            CHUNKS, data=[query], anns_field="sparse", limit=min(n, len(self.chunks)),
            search_params={"metric_type": "BM25"}, output_fields=["seq"]))
        for hit in found[0]:
            ci = self._chunk_of_seq.get(hit["entity"]["seq"])
            if ci is not None:
                scores[ci] = abs(hit["distance"])  # Milvus Lite reports BM25 scores negated
        return scores


# --- helpers ------------------------------------------------------------------------------


@contextlib.contextmanager
def _interrupt_after(name: str):
    """Ctrl-C while a commit writes (several calls, not one transaction) takes effect when it has
    ended: cut short, the store reads as interrupted until a rebuild embeds everything again. A
    second Ctrl-C stops at once. Only in the main thread, where Python delivers signals."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield  # elsewhere, or where the program handles or ignores Ctrl-C itself: as it does
        return
    caught: list[int] = []

    def later(signum, frame):
        if caught:
            raise KeyboardInterrupt
        caught.append(signum)
        print(f"{name}: finishing the commit so that the store stays whole; press Ctrl-C again to stop now "
              f"(the store then needs `{rebuild_command(name)}`)", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, later)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt

def _lexical_text(chunk: Chunk) -> str:
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


def _row_of(chunk: Chunk) -> dict:
    row = asdict(chunk)
    row.pop("text")  # in its own field
    return row


def _chunk_from(record: dict) -> Chunk:
    row = json.loads(record["row"])
    title = row.get("title", "")
    text = record["text"]
    row["text"] = text[len(title) + 1:] if title and text.startswith(title + "\n") else text
    row["sentences"] = tuple(tuple(span) for span in row.get("sentences", ()))
    return Chunk(**row)


def _file_id(source: str) -> str:
    return "file-" + hashlib.sha1(source.encode("utf-8", "surrogatepass")).hexdigest()


def _batched(call, items: list) -> None:
    for i in range(0, len(items), BATCH):
        call(items[i:i + BATCH])


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _pieces(text: str, limit: int) -> list[str]:
    """`text` cut into pieces of at most `limit` UTF-8 bytes each, never inside a character."""
    data, pieces, start = text.encode("utf-8", "surrogatepass"), [], 0
    while start < len(data):
        end = min(len(data), start + limit)
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
            end -= 1
        pieces.append(data[start:end].decode("utf-8", "surrogatepass"))
        start = end
    return pieces
