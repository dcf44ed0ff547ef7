"""The persisted index: a versioned, self-describing, pickle-free directory, saved atomically.

Layout of an index directory::

    CURRENT                 "gen-<id> <sha256 of its manifest.json>": the live generation
    gen-<id>/manifest.json  format version, embedding model and dimension, chunking parameters,
                            each file's sha256, and the sha256 of the two files below
    gen-<id>/chunks.jsonl   one chunk a line (text, source, offsets, page, id)
    gen-<id>/vectors.faiss  faiss.write_index of an exact inner-product index with one vector
                            per distinct sentence of the chunks, in order of first appearance
                            (`sentence_keys`): sentences are what gets embedded and matched,
                            chunks are what gets shown and cited
    .lock, .lock.owner      held by a writer; the owner file names its pid

A save writes a new generation directory, fsyncs it, then replaces CURRENT in one rename, so a
crash at any moment leaves the old or the new index loadable, never neither. Loading verifies the
checksum chain and refuses an index made by another model, dimension or format version. What goes
into an index (which files, incremental updates) is `ingest/indexing.py`'s concern.

`Index` is the folder store's `Snapshot` (`store/snapshot.py`); beyond the exact limit its
vectors are the quantised index of `store/ann.py`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.ingest.documents import file_sha256 as _sha256_file
from assistant.store.ann import build_ann, prepare_ann
from assistant.store.snapshot import (FORMAT_VERSION, REBUILD_COMMAND, IndexCorrupt, IndexIncompatible, IndexMissing,
                                      IndexProblem, Manifest, Snapshot, check_compatible, no_index_yet, now, rebuild_command,
                                      sentence_keys)

ANN_FORMAT_VERSION = 2  # an approximate vector index, described by the manifest's `vector_index`
READ_VERSIONS = (FORMAT_VERSION, ANN_FORMAT_VERSION)
EXACT_MAX_SENTENCES = 200_000
MAX_SEGMENTS = 8  # an add that would make more rewrites the index into one (compaction)
MAX_DROPPED_SHARE = 0.25  # likewise when this share of the stored chunks is no longer live
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.faiss"


class Index(Snapshot):
    """The FAISS store's snapshot: chunks, their sentence vectors and the manifest, loaded from
    and saved to an index directory. Up to `EXACT_MAX_SENTENCES` sentences (a setting) the
    vectors are float32 in an exact inner-product index; beyond, an IVF index with 8-bit scalar
    quantisation (one byte per dimension), its parameters recorded in the manifest."""

    def __init__(self, manifest: Manifest, chunks: list[Chunk], vectors: np.ndarray | None, generation: str = "",
                 ann=None):
        super().__init__(manifest, chunks, generation)
        self._faiss = ann
        # an approximate first segment with later exact ones (see `_load_segments`): the live rows
        # of the first are rows 0.. of this index, `_row_to_ann` their ids in it, `_ann_to_row`
        # the way back (-1: dropped); the later segments' vectors are `_delta`, float32
        self._delta = self._row_to_ann = self._ann_to_row = None
        if ann is not None and vectors is not None:  # composite
            self._vectors = None
            return
        if ann is not None:  # loaded approximate index: vectors are decoded from it on demand
            self._vectors = None
            if ann.ntotal != len(self.keys):
                raise ValueError(f"{len(self.keys)} sentences but {ann.ntotal} vectors")
            return
        if len(self.keys) != len(vectors):
            raise ValueError(f"{len(self.keys)} sentences but {len(vectors)} vectors")
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, manifest.dimension)

    @property
    def quantised(self) -> bool:
        """Whether (some of) the vectors are decoded from the approximate index."""
        return self._vectors is None

    @property
    def approximate(self):
        """The approximate (IVF) index, or None for an exact one."""
        return self._faiss if self._vectors is None else None

    @property
    def exact_rows(self) -> int:
        """Sentence vectors held exactly beside an approximate first segment (0 without one)."""
        return 0 if self._delta is None else len(self._delta)

    @property
    def vectors(self) -> np.ndarray:
        """Every sentence vector (decoded from the approximate index when there is one)."""
        return self._vectors if self._vectors is not None else self.sentence_vectors(range(len(self.keys)))

    def sentence_vectors(self, rows) -> np.ndarray:
        rows = list(rows)
        if self._vectors is not None:
            return self._vectors[rows]
        if not rows:
            return np.empty((0, self.manifest.dimension), np.float32)
        rows = np.asarray(rows, dtype=np.int64)
        if self._delta is None:
            return self._faiss.reconstruct_batch(rows).astype(np.float32)
        first = len(self._row_to_ann)
        out = np.empty((len(rows), self.manifest.dimension), np.float32)
        approximate = rows < first
        if approximate.any():
            out[approximate] = self._faiss.reconstruct_batch(self._row_to_ann[rows[approximate]])
        out[~approximate] = self._delta[rows[~approximate] - first]
        return out

    def search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        query_vectors = np.ascontiguousarray(query_vectors, dtype=np.float32).reshape(-1, self.manifest.dimension)
        k = min(k, len(self.keys))
        if k == 0:
            empty = np.empty((len(query_vectors), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        if self._delta is not None:
            return self._search_composite(query_vectors, k)
        return self._faiss_index().search(query_vectors, k)

    def _search_composite(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The approximate segment (its dropped ids excluded by a selector) and the exact later
        ones, merged by score."""
        import faiss

        first = len(self._row_to_ann)
        params = faiss.SearchParametersIVF(sel=self._live_selector, nprobe=faiss.extract_index_ivf(self._faiss).nprobe)
        d1, i1 = self._faiss.search(queries, k, params=params)
        rows1 = np.where(i1 >= 0, self._ann_to_row[np.maximum(i1, 0)], -1)
        d1 = np.where(rows1 >= 0, d1, -np.inf)
        if len(self._delta):
            scores = queries @ self._delta.T
            take = min(k, scores.shape[1])
            i2 = np.argpartition(-scores, take - 1, axis=1)[:, :take]
            d2 = np.take_along_axis(scores, i2, axis=1)
            d, r = np.concatenate([d1, d2], axis=1), np.concatenate([rows1, i2 + first], axis=1)
        else:
            d, r = d1, rows1
        order = np.argsort(-d, axis=1, kind="stable")[:, :k]
        d, r = np.take_along_axis(d, order, axis=1), np.take_along_axis(r, order, axis=1)
        return d.astype(np.float32), np.where(np.isfinite(d), r, -1).astype(np.int64)

    def _faiss_index(self):
        if self._faiss is None:
            import faiss

            index = faiss.IndexFlatIP(self.manifest.dimension)
            index.add(self._vectors)
            self._faiss = index
        return self._faiss

    def _vector_index_for_save(self, exact_max: int) -> tuple[object, dict]:
        """The FAISS index to write and its manifest description ({} for exact)."""
        n = len(self.keys)
        if n <= exact_max:
            if self._vectors is None:  # shrunk below the limit: back to exact
                self._vectors = self.vectors
                self._faiss = None
            return self._faiss_index(), {}
        recipe = dict(self.manifest.vector_index)
        if (self._faiss is not None and self._vectors is None and self._delta is None and recipe
                and n <= 4 * recipe.get("trained_on", 0)):
            return self._faiss, recipe  # built by `with_vectors` on a trained index, or loaded unchanged
        return build_ann(self.vectors, self.manifest.dimension)

    # --- persistence --------------------------------------------------------------------

    # --- persistence --------------------------------------------------------------------

    def save(self, index_dir: str | os.PathLike, exact_max: int = EXACT_MAX_SENTENCES) -> str:
        """Write a new generation holding everything (one segment) and make it current
        atomically. Returns its name. The caller holds `writer_lock(index_dir)` across
        read-modify-save."""
        vector_index, recipe = self._vector_index_for_save(exact_max)
        manifest = replace(self.manifest, vector_index=recipe, segments=(),
                           format_version=ANN_FORMAT_VERSION if recipe else FORMAT_VERSION)
        generation, manifest = _publish(Path(index_dir), self.chunks, vector_index, manifest)
        self.manifest, self.generation, self._faiss = manifest, generation, vector_index
        return generation

    @classmethod
    def _load_segments(cls, root: Path, manifest: Manifest, generation: str) -> "Index":
        """Every segment's live chunks and vectors, oldest first: the order a full save writes."""
        chunks, parts, ann = [], [], None
        for i, seg in enumerate(manifest.segments):
            if i == 0 and seg.get("vector_index"):
                ann, ann_chunks, ann_live = _load_ann_segment(root, seg, manifest.dimension)
                chunks.extend(ann_chunks)
                continue
            seg_chunks, seg_vectors = _load_segment(root, seg["dir"], seg["checksums"], manifest.dimension)
            dropped = set(seg.get("dropped", ()))
            live = [c for c in seg_chunks if c.source not in dropped]
            keys = sentence_keys(seg_chunks)
            rows = [i for i, key in enumerate(keys) if key[0] not in dropped]
            chunks.extend(live)
            parts.append(seg_vectors[rows])
        vectors = np.concatenate(parts) if parts else np.empty((0, manifest.dimension), np.float32)
        if ann is None:
            return cls(manifest, chunks, vectors, generation)
        import faiss

        index = cls(manifest, chunks, vectors, generation, ann=ann)
        index._delta = np.ascontiguousarray(vectors, dtype=np.float32)
        index._ann_to_row = np.full(ann.ntotal, -1, dtype=np.int64)
        index._row_to_ann = np.flatnonzero(ann_live).astype(np.int64)
        index._ann_to_row[index._row_to_ann] = np.arange(len(index._row_to_ann))
        index._live_selector = faiss.IDSelectorBatch(index._row_to_ann)
        return index

    def segments_for_delta(self) -> list[dict]:
        """This index's segments as a later delta lists them (a one-segment index: itself)."""
        if self.manifest.segments:
            return [dict(seg) for seg in self.manifest.segments]
        segment = {"dir": self.generation, "chunks": len(self.chunks), "checksums": dict(self.manifest.checksums),
                   "dropped": []}
        if self.manifest.vector_index:
            segment["vector_index"] = dict(self.manifest.vector_index)
        return [segment]

    def stored_chunks(self) -> int:
        """Chunks written in this index's files, live or dropped."""
        return sum(seg["chunks"] for seg in self.manifest.segments) if self.manifest.segments else len(self.chunks)

    @classmethod
    def load(cls, index_dir: str | os.PathLike, model: str | None = None, dimension: int | None = None) -> "Index":
        """Load and verify the current generation; refuse one made for another model. The
        default index starts as a copy of the shipped one (`seed_default`)."""
        root = Path(index_dir)
        seed_default(root)
        generation, manifest_sha = read_current(root)
        gen_dir = root / generation
        manifest_bytes = _read(gen_dir / MANIFEST, root)
        if hashlib.sha256(manifest_bytes).hexdigest() != manifest_sha:
            raise IndexCorrupt(f"{gen_dir / MANIFEST}: checksum mismatch (truncated or tampered); run `{rebuild_command(root)}`")
        try:
            raw = json.loads(manifest_bytes)
            version = raw.get("format_version")
        except (ValueError, AttributeError) as err:
            raise IndexCorrupt(f"{gen_dir / MANIFEST}: unreadable ({err}); run `{rebuild_command(root)}`") from None
        if version not in READ_VERSIONS:  # checked before parsing: a newer format may have new fields
            raise IndexIncompatible(
                f"{root}: index format version {version}, this assistant reads versions "
                f"{' and '.join(map(str, READ_VERSIONS))}; run `{rebuild_command(root)}`"
            )
        try:
            manifest = Manifest.from_json(raw)
        except (ValueError, TypeError) as err:
            raise IndexCorrupt(f"{gen_dir / MANIFEST}: unreadable ({err}); run `{rebuild_command(root)}`") from None
        check_compatible(manifest, root, model, dimension)
        if manifest.segments:
            return cls._load_segments(root, manifest, generation)
        chunks = _verified_chunks(root, gen_dir, manifest.checksums)
        faiss_index = _read_vectors(gen_dir, chunks, manifest.dimension)
        expected = faiss_index.ntotal
        if manifest.vector_index:
            prepare_ann(faiss_index, manifest.vector_index)
            return cls(manifest, chunks, None, generation, ann=faiss_index)
        vectors = faiss_index.reconstruct_n(0, faiss_index.ntotal) if expected else np.empty((0, manifest.dimension), np.float32)
        index = cls(manifest, chunks, vectors, generation)
        index._faiss = faiss_index
        return index


def _verified_chunks(root: Path, folder: Path, checksums: dict) -> list[Chunk]:
    """The chunks of a generation folder, after checking both its files against `checksums`."""
    for name in (CHUNKS, VECTORS):
        if _sha256_file_or_raise(folder / name, root) != checksums.get(name):
            raise IndexCorrupt(f"{folder / name}: checksum mismatch (truncated or tampered); run `{rebuild_command(root)}`")
    text = _read(folder / CHUNKS, root).decode("utf-8", "surrogatepass")
    # One chunk a line, split at "\n" only: JSON escapes \n and \r inside strings but leaves
    # U+2028, U+2029 and U+0085, which str.splitlines() would also split at, cutting a row in two.
    try:
        return [_chunk_from_row(json.loads(line)) for line in text.split("\n") if line]
    except (ValueError, KeyError, TypeError) as err:
        raise IndexCorrupt(f"{folder / CHUNKS}: unreadable chunk ({err}); run `{rebuild_command(root)}`") from None


def _read_vectors(folder: Path, chunks: list[Chunk], dimension: int):
    """A generation folder's FAISS index, checked to hold one `dimension`-d vector per sentence."""
    import faiss

    index = faiss.read_index(str(folder / VECTORS))
    expected = len(sentence_keys(chunks))
    if index.ntotal != expected or index.d != dimension:
        raise IndexCorrupt(f"{folder}: {index.ntotal} vectors for {expected} sentences; run `{rebuild_command(folder.parent)}`")
    return index


def _load_segment(root: Path, folder: str, checksums: dict, dimension: int) -> tuple[list[Chunk], np.ndarray]:
    """The chunks and sentence vectors of one segment, checksums verified."""
    chunks = _verified_chunks(root, root / folder, checksums)
    flat = _read_vectors(root / folder, chunks, dimension)
    vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.empty((0, dimension), np.float32)
    return chunks, vectors


def _load_ann_segment(root: Path, seg: dict, dimension: int):
    """An approximate first segment: (its IVF index, its live chunks, the live mask of its ids)."""
    chunks = _verified_chunks(root, root / seg["dir"], seg["checksums"])
    ann = _read_vectors(root / seg["dir"], chunks, dimension)
    keys = sentence_keys(chunks)
    prepare_ann(ann, seg["vector_index"])
    dropped = set(seg.get("dropped", ()))
    live = np.array([key[0] not in dropped for key in keys], dtype=bool)
    return ann, [c for c in chunks if c.source not in dropped], live


def save_delta(index_dir: str | os.PathLike, manifest: Manifest, base: Index, keep: set[str], chunks: list[Chunk],
               vectors: np.ndarray) -> str:
    """Write only what a change brings: a generation whose own files hold `chunks` and their
    sentence `vectors`, and whose manifest (`manifest`, describing the result) lists `base`'s
    segments with the sources that leave (not in `keep`) marked dropped. The previous files stay
    as they are; a load reads every segment's live part. Returns the generation's name."""
    import faiss

    flat = faiss.IndexFlatIP(manifest.dimension)
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, manifest.dimension))
    leaving = {c.source for c in base.chunks} - keep
    segments = [dict(seg, dropped=sorted(set(seg.get("dropped", ())) | leaving)) for seg in base.segments_for_delta()]
    recipe = segments[0].get("vector_index", {})  # an approximate first segment stays the index's recipe
    manifest = replace(manifest, vector_index=recipe, segments=tuple(segments), format_version=ANN_FORMAT_VERSION)
    return _publish(Path(index_dir), chunks, flat, manifest, appended=True)[0]


def _publish(root: Path, chunks: list[Chunk], vector_index, manifest: Manifest, appended: bool = False) -> tuple[str, Manifest]:
    """Write `chunks` and `vector_index` into a new generation folder with `manifest` (its own
    files' checksums filled in; appended to its segments when `appended`), fsync it, switch
    CURRENT to it in one rename, and collect what no generation needs any more."""
    import faiss

    root.mkdir(parents=True, exist_ok=True)
    generation = f"gen-{_dt.datetime.now(_dt.timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        os.chmod(tmp, 0o755)
        chunk_lines = "".join(json.dumps(_chunk_row(c), ensure_ascii=False) + "\n" for c in chunks)
        _write(tmp / CHUNKS, chunk_lines.encode("utf-8", "surrogatepass"))
        faiss.write_index(vector_index, str(tmp / VECTORS))
        _fsync(tmp / VECTORS)
        checksums = {CHUNKS: _sha256_file(tmp / CHUNKS), VECTORS: _sha256_file(tmp / VECTORS)}
        segments = manifest.segments
        if appended:
            segments = (*segments, {"dir": generation, "chunks": len(chunks), "checksums": checksums, "dropped": []})
        manifest = replace(manifest, checksums=checksums, created=now(), segments=segments)
        manifest_bytes = (json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n").encode()
        _write(tmp / MANIFEST, manifest_bytes)
        _fsync_dir(tmp)
        os.rename(tmp, root / generation)
        _fsync_dir(root)
        previous = current_token(root)
        pointer = f"{generation} {hashlib.sha256(manifest_bytes).hexdigest()}\n".encode()
        _write(root / (CURRENT + ".tmp"), pointer)
        os.replace(root / (CURRENT + ".tmp"), root / CURRENT)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    keep = {generation} | {seg["dir"] for seg in segments}
    if previous and previous.split():
        keep.add(previous.split()[0])  # a reader may still be loading it, and the segments it lists
        keep |= _segment_dirs(root / previous.split()[0])
    _collect_garbage(root, keep)
    return generation, manifest


def _segment_dirs(gen_dir: Path) -> set[str]:
    try:
        return {seg["dir"] for seg in json.loads((gen_dir / MANIFEST).read_text("utf-8")).get("segments", ())}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()


def not_index_files(folder: str) -> str:
    """Names (at most three) of what a folder holds besides an index, for a folder with no index in
    it; "" for an index folder, an empty folder or one not there yet."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return ""
    if any(n == "CURRENT" or n.startswith("gen-") for n in names):
        return ""
    others = [n for n in names if not n.startswith(".")]  # (the lock, its owner, temporaries)
    return ", ".join(others[:3]) + (", …" if len(others) > 3 else "")


def read_current(root: Path) -> tuple[str, str]:
    """The live generation's name and its manifest's sha256."""
    try:
        text = (root / CURRENT).read_text("utf-8")
    except FileNotFoundError:
        if others := not_index_files(str(root)):
            raise IndexMissing(f"{root}: not an index: it holds other files ({others}); give a new or empty folder for "
                               f"the index") from None
        raise IndexMissing(no_index_yet(root)) from None
    except PermissionError as err:
        raise _not_permitted(root / CURRENT, err, root) from None
    except (OSError, UnicodeDecodeError) as err:
        raise IndexCorrupt(f"{root / CURRENT}: unreadable ({err}); run `{rebuild_command(root)}`") from None
    parts = text.split()
    if len(parts) != 2 or not parts[0].startswith("gen-") or "/" in parts[0] or len(parts[1]) != 64:
        raise IndexCorrupt(f"{root / CURRENT}: malformed; run `{rebuild_command(root)}`")
    return parts[0], parts[1]


def recorded_paths(index_dir: str | os.PathLike) -> dict:
    """The live manifest's recorded folders and exclusions ({"roots": [...], "excluded": [...]}),
    read from the manifest alone (its checksum verified), so that a rebuild of an index whose
    chunks or vectors are unreadable, or whose format this version does not read, still knows what
    the user indexed. When CURRENT itself is missing or unreadable, the newest generation whose
    manifest reads says it; {} when none can be read, or the live manifest was altered."""
    root = Path(index_dir)
    try:
        generation, manifest_sha = read_current(root)
    except IndexProblem:
        return _newest_recorded(root)
    try:
        data = (root / generation / MANIFEST).read_bytes()
    except OSError:
        return {}
    return _paths_of(data) if hashlib.sha256(data).hexdigest() == manifest_sha else {}  # altered: not trusted


def _newest_recorded(root: Path) -> dict:
    try:
        generations = sorted((p for p in root.glob("gen-*") if (p / MANIFEST).is_file()), key=lambda p: p.name, reverse=True)
    except OSError:
        return {}
    for folder in generations:  # named by their UTC time: the newest first
        try:
            if found := _paths_of((folder / MANIFEST).read_bytes()):
                return found
        except OSError:
            continue
    return {}


def _paths_of(data: bytes) -> dict:
    try:
        raw = json.loads(data)
        return {key: [str(p) for p in raw[key]] for key in ("roots", "excluded")
                if isinstance(raw.get(key), list) and all(isinstance(p, str) for p in raw[key])}
    except (ValueError, AttributeError):
        return {}


def current_token(index_dir: str | os.PathLike) -> str | None:
    """A cheap fingerprint of the live generation (None when there is no index)."""
    try:
        return (Path(index_dir) / CURRENT).read_text("utf-8")
    except OSError:
        return None


def seed_default(root: Path) -> bool:
    """When `root` is the default index folder (ignored by git) and holds no index yet, copy the
    project's shipped index (built from the shipped documents) into it, so that a fresh clone
    answers at once while everything the product writes stays out of the tracked files.
    Returns whether it copied."""
    from assistant.config import DEFAULT_INDEX_DIR, SHIPPED_INDEX_DIR

    if os.path.abspath(root) != os.path.abspath(DEFAULT_INDEX_DIR) or os.path.exists(root / CURRENT):
        return False
    try:
        generation, _ = read_current(Path(SHIPPED_INDEX_DIR))
    except IndexProblem:
        return False
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-seed-", dir=root))
    try:
        shutil.copytree(Path(SHIPPED_INDEX_DIR) / generation, staging / generation)
        shutil.copyfile(Path(SHIPPED_INDEX_DIR) / CURRENT, staging / CURRENT)
        if (root / CURRENT).exists():  # another process seeded it meanwhile
            return False
        if (root / generation).exists():  # left by a seed interrupted before CURRENT: unused
            shutil.rmtree(root / generation)
        os.replace(staging / generation, root / generation)
        os.replace(staging / CURRENT, root / CURRENT)
        return True
    except FileExistsError:
        return False
    except OSError:
        if (root / CURRENT).exists():
            return False
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- helpers ------------------------------------------------------------------------------

def _chunk_row(chunk: Chunk) -> dict:
    return asdict(chunk)


def _chunk_from_row(row: dict) -> Chunk:
    row["sentences"] = tuple(tuple(span) for span in row.get("sentences", ()))
    return Chunk(**row)


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync(path)


def _read(path: Path, root: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError as err:
        raise _not_permitted(path, err, root) from None
    except OSError as err:
        raise IndexCorrupt(f"{path}: missing or unreadable ({err.strerror}); run `{rebuild_command(root)}`") from None


def _sha256_file_or_raise(path: Path, root: Path) -> str:
    try:
        return _sha256_file(path)
    except PermissionError as err:
        raise _not_permitted(path, err, root) from None
    except OSError as err:
        raise IndexCorrupt(f"{path}: missing or unreadable ({err.strerror}); run `{rebuild_command(root)}`") from None


def _not_permitted(path: Path, err: OSError, root: Path) -> IndexProblem:
    """An index file this user may not read: the index is whole, so the fix is access, not a
    rebuild (which had been advised, and which cannot write there either)."""
    return IndexProblem(f"{path}: cannot be read ({err.strerror}); let this user read the index folder {root} and what it holds")


def _collect_garbage(root: Path, keep: set[str]) -> None:
    """Remove every generation but `keep` (the new one and the one it replaced) and temporaries."""
    for stale in [p for p in root.glob("gen-*") if p.is_dir() and p.name not in keep] + [
        p for p in root.glob(".tmp-*") if p.is_dir()
    ]:
        shutil.rmtree(stale, ignore_errors=True)
