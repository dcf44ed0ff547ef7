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

What every store shares is here too: `Manifest` and `FileEntry` (the recipe and the files),
`Snapshot` (a loaded view: chunks and the maps between chunks and sentence rows), the
`IndexProblem` errors and the writer lock. `Index` is the folder store's snapshot.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.ingest.documents import file_sha256 as _sha256_file

FORMAT_VERSION = 1  # exact (flat) vectors
ANN_FORMAT_VERSION = 2  # an approximate vector index, described by the manifest's `vector_index`
READ_VERSIONS = (FORMAT_VERSION, ANN_FORMAT_VERSION)
EXACT_MAX_SENTENCES = 200_000
MAX_SEGMENTS = 8  # an add that would make more rewrites the index into one (compaction)
MAX_DROPPED_SHARE = 0.25  # likewise when this share of the stored chunks is no longer live
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.faiss"
REBUILD_COMMAND = "python -m assistant index rebuild"


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
        data["segments"] = [dict(seg) for seg in self.segments]
        for name in ("vector_index", "segments"):  # absent from a format 1 manifest, readable by older versions
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Manifest":
        data = dict(data)
        data["files"] = tuple(FileEntry(**f) for f in data.get("files", ()))
        data["roots"] = tuple(data.get("roots", ()))
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
    def vectors(self) -> np.ndarray:
        """Every sentence vector (decoded from the approximate index when there is one)."""
        return self._vectors if self._vectors is not None else self.sentence_vectors(range(len(self.keys)))

    def sentence_vectors(self, rows) -> np.ndarray:
        rows = list(rows)
        if self._vectors is not None:
            return self._vectors[rows]
        if not rows:
            return np.empty((0, self.manifest.dimension), np.float32)
        if self._delta is None:
            return np.vstack([self._faiss.reconstruct(int(r)) for r in rows]).astype(np.float32)
        first = len(self._row_to_ann)
        return np.vstack([self._faiss.reconstruct(int(self._row_to_ann[r])) if r < first else self._delta[r - first]
                          for r in rows]).astype(np.float32)

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
            raise IndexCorrupt(f"{gen_dir / MANIFEST}: checksum mismatch (truncated or tampered); run `{REBUILD_COMMAND}`")
        try:
            raw = json.loads(manifest_bytes)
            version = raw.get("format_version")
        except (ValueError, AttributeError) as err:
            raise IndexCorrupt(f"{gen_dir / MANIFEST}: unreadable ({err}); run `{REBUILD_COMMAND}`") from None
        if version not in READ_VERSIONS:  # checked before parsing: a newer format may have new fields
            raise IndexIncompatible(
                f"{root}: index format version {version}, this assistant reads versions "
                f"{' and '.join(map(str, READ_VERSIONS))}; run `{REBUILD_COMMAND}`"
            )
        try:
            manifest = Manifest.from_json(raw)
        except (ValueError, TypeError) as err:
            raise IndexCorrupt(f"{gen_dir / MANIFEST}: unreadable ({err}); run `{REBUILD_COMMAND}`") from None
        check_compatible(manifest, root, model, dimension)
        if manifest.segments:
            return cls._load_segments(root, manifest, generation)
        chunks = _verified_chunks(root, gen_dir, manifest.checksums)
        import faiss

        faiss_index = faiss.read_index(str(gen_dir / VECTORS))
        expected = len(sentence_keys(chunks))
        if faiss_index.ntotal != expected or faiss_index.d != manifest.dimension:
            raise IndexCorrupt(f"{gen_dir}: {faiss_index.ntotal} vectors for {expected} sentences; run `{REBUILD_COMMAND}`")
        if manifest.vector_index:
            _prepare_ann(faiss_index, manifest.vector_index)
            return cls(manifest, chunks, None, generation, ann=faiss_index)
        vectors = faiss_index.reconstruct_n(0, faiss_index.ntotal) if expected else np.empty((0, manifest.dimension), np.float32)
        index = cls(manifest, chunks, vectors, generation)
        index._faiss = faiss_index
        return index


def _verified_chunks(root: Path, folder: Path, checksums: dict) -> list[Chunk]:
    """The chunks of a generation folder, after checking both its files against `checksums`."""
    for name in (CHUNKS, VECTORS):
        if _sha256_file_or_raise(folder / name, root) != checksums.get(name):
            raise IndexCorrupt(f"{folder / name}: checksum mismatch (truncated or tampered); run `{REBUILD_COMMAND}`")
    text = _read(folder / CHUNKS, root).decode("utf-8", "surrogatepass")
    return [_chunk_from_row(json.loads(line)) for line in text.splitlines()]


def _load_segment(root: Path, folder: str, checksums: dict, dimension: int) -> tuple[list[Chunk], np.ndarray]:
    """The chunks and sentence vectors of one segment, checksums verified."""
    import faiss

    seg_dir = root / folder
    chunks = _verified_chunks(root, seg_dir, checksums)
    flat = faiss.read_index(str(seg_dir / VECTORS))
    expected = len(sentence_keys(chunks))
    if flat.ntotal != expected or flat.d != dimension:
        raise IndexCorrupt(f"{seg_dir}: {flat.ntotal} vectors for {expected} sentences; run `{REBUILD_COMMAND}`")
    vectors = flat.reconstruct_n(0, flat.ntotal) if expected else np.empty((0, dimension), np.float32)
    return chunks, vectors


def _load_ann_segment(root: Path, seg: dict, dimension: int):
    """An approximate first segment: (its IVF index, its live chunks, the live mask of its ids)."""
    import faiss

    seg_dir = root / seg["dir"]
    chunks = _verified_chunks(root, seg_dir, seg["checksums"])
    ann = faiss.read_index(str(seg_dir / VECTORS))
    keys = sentence_keys(chunks)
    if ann.ntotal != len(keys) or ann.d != dimension:
        raise IndexCorrupt(f"{seg_dir}: {ann.ntotal} vectors for {len(keys)} sentences; run `{REBUILD_COMMAND}`")
    _prepare_ann(ann, seg["vector_index"])
    dropped = set(seg.get("dropped", ()))
    live = np.array([key[0] not in dropped for key in keys], dtype=bool)
    return ann, [c for c in chunks if c.source not in dropped], live


def build_ann(vectors: np.ndarray, dimension: int, nlist: int | None = None) -> tuple[object, dict]:
    """An IVF index with 8-bit scalar quantisation of the vectors themselves (not residuals, so
    decoding and encoding again gives the same codes), trained on a sample: (index, recipe)."""
    import faiss

    n = len(vectors)
    # about 4 sqrt(n) lists, a power of two, with at least 39 training points each (FAISS's advice)
    nlist = nlist or int(max(1, min(65536, 2 ** round(np.log2(4 * np.sqrt(n))), n // 39)))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT, False)
    sample = vectors[np.random.default_rng(0).choice(n, min(n, 64 * nlist, 256_000), replace=False)]
    index.cp.niter = 10
    index.cp.min_points_per_centroid = 1  # small indexes (tests) train on fewer points; no warning on stderr
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    recipe = {"type": "IVF,SQ8", "nlist": nlist, "nprobe": min(nlist, max(32, nlist // 32)), "trained_on": n}
    _prepare_ann(index, recipe)
    return index, recipe


def ann_with(base_index, vectors: np.ndarray):
    """A copy of `base_index` (trained) holding exactly `vectors`: an add to a large index keeps
    its training instead of repeating it."""
    import faiss

    index = faiss.clone_index(base_index)
    index.reset()
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    ivf = faiss.extract_index_ivf(index)
    ivf.make_direct_map()
    ivf.nprobe = faiss.extract_index_ivf(base_index).nprobe
    return index


def _prepare_ann(index, recipe: dict) -> None:
    """Search settings of a loaded or built IVF index, and the map that decodes a vector by row."""
    import faiss

    ivf = faiss.extract_index_ivf(index)
    ivf.nprobe = int(recipe.get("nprobe", 32))
    ivf.make_direct_map()


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


def check_compatible(manifest: Manifest, root: Path, model: str | None, dimension: int | None) -> None:
    if model is not None and manifest.model != model:
        raise IndexIncompatible(
            f"{root}: index built with embedding model {manifest.model!r}, this assistant uses {model!r}; run `{REBUILD_COMMAND}`"
        )
    if dimension is not None and manifest.dimension != dimension:
        raise IndexIncompatible(
            f"{root}: index has {manifest.dimension}-d vectors, the model gives {dimension}-d; run `{REBUILD_COMMAND}`"
        )


def read_current(root: Path) -> tuple[str, str]:
    """The live generation's name and its manifest's sha256."""
    try:
        text = (root / CURRENT).read_text("utf-8")
    except FileNotFoundError:
        raise IndexMissing(f"{root}: no index yet; run `{REBUILD_COMMAND}` or `python -m assistant index add PATH`") from None
    except (OSError, UnicodeDecodeError) as err:
        raise IndexCorrupt(f"{root / CURRENT}: unreadable ({err}); run `{REBUILD_COMMAND}`") from None
    parts = text.split()
    if len(parts) != 2 or not parts[0].startswith("gen-") or "/" in parts[0] or len(parts[1]) != 64:
        raise IndexCorrupt(f"{root / CURRENT}: malformed; run `{REBUILD_COMMAND}`")
    return parts[0], parts[1]


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

    if (root / CURRENT).exists() or os.path.abspath(root) != os.path.abspath(DEFAULT_INDEX_DIR):
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


class IndexBusy(IndexProblem):
    """Another writer held the index's lock for longer than the wait allowed."""


LOCK_TIMEOUT_S = 60.0


@contextlib.contextmanager
def writer_lock(index_dir: str | os.PathLike, timeout: float = LOCK_TIMEOUT_S, lock_file: str | os.PathLike | None = None):
    """Exclusive lock for one writer at a time (readers never need it). Gives up after `timeout`
    seconds with `IndexBusy`, naming the process that holds it. The lock is `index_dir`/.lock
    unless `lock_file` names another (its owner file is beside it, `.owner` appended)."""
    from filelock import FileLock, Timeout

    root = Path(index_dir)
    path = Path(lock_file) if lock_file is not None else root / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = path.with_name(path.name + ".owner")
    try:
        lock = FileLock(path, timeout=timeout)
        lock.acquire()
    except Timeout:
        try:
            holder = f"process {int(owner.read_text('ascii').split()[0])}"
        except (OSError, ValueError, IndexError):
            holder = "another process"
        raise IndexBusy(f"{index_dir}: index is locked by {holder} (an indexing run); "
                        f"gave up after {timeout:g} s: wait for it to finish, or stop it") from None
    try:
        owner.write_text(f"{os.getpid()}\n", "ascii")
        yield
    finally:
        with contextlib.suppress(OSError):
            owner.unlink()
        lock.release()


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
    except OSError as err:
        raise IndexCorrupt(f"{path}: missing or unreadable ({err.strerror}); run `{REBUILD_COMMAND}`") from None


def _sha256_file_or_raise(path: Path, root: Path) -> str:
    try:
        return _sha256_file(path)
    except OSError as err:
        raise IndexCorrupt(f"{path}: missing or unreadable ({err.strerror}); run `{REBUILD_COMMAND}`") from None


def _collect_garbage(root: Path, keep: set[str]) -> None:
    """Remove every generation but `keep` (the new one and the one it replaced) and temporaries."""
    for stale in [p for p in root.glob("gen-*") if p.is_dir() and p.name not in keep] + [
        p for p in root.glob(".tmp-*") if p.is_dir()
    ]:
        shutil.rmtree(stale, ignore_errors=True)
