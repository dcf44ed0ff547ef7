"""The persisted index: round trips, exact search, manifest, integrity checks, incremental updates,
crash safety and writer serialisation. Everything runs on the torch-free HashEmbedder."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.chunking import Chunk, chunk_document
from assistant.config import Settings
from assistant.ingest.documents import RESAVE, load
from assistant.store.index import (
    CHUNKS,
    CURRENT,
    FORMAT_VERSION,
    MANIFEST,
    REBUILD_COMMAND,
    VECTORS,
    Index,
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    Manifest,
)
from assistant.ingest.indexing import BAD_NAME, EXCLUDED, GONE_KEPT, add_documents, embedding_texts, rebuild_index, remove_documents
from assistant.search.retrieval import Searcher, retrieve
from assistant.store.snapshot import IndexProblem, rebuild_command
from tests.fakes import HashEmbedder, make_pdf

PROJECT = Path(__file__).resolve().parent.parent

TOPICS = {
    "apples.txt": "Apple orchards cover the northern valley. Farmers harvest apples in September. "
    "Cider presses run through October. Frost in April can ruin the apple blossom. "
    "Most apples are sold to supermarkets in the capital. Orchard workers earn a seasonal wage. "
    "Bees pollinate the trees in spring. Old varieties are grafted onto hardy rootstock. "
    "Storage barns keep the fruit cool until March. Export buyers prefer the red varieties.",
    "rockets.md": "# Rocket engines\n\nLiquid rocket engines burn kerosene and oxygen. "
    "The turbopump feeds propellant at high pressure. Nozzles expand the exhaust gas. "
    "Engine tests happen on a vertical stand. Reusable boosters land on a barge at sea.\n\n"
    "## Guidance\n\nGimbals steer the thrust during ascent. The flight computer checks sensors many times a second. "
    "Telemetry streams to the ground station.",
    "taxes.txt": "The new tax law raises the income threshold. Small businesses get a deduction for equipment. "
    "Filing opens in January and closes in April. Late filers pay a penalty of five percent. "
    "Tax advisers expect fewer audits next year. Pensioners keep their existing allowance. "
    "Charities may reclaim tax on donations. The treasury publishes guidance notes in March. "
    "Online filing is free for most households.",
}
QUERIES = ["apple harvest", "rocket engine turbopump", "tax penalty for late filing", "orchard wage", "zebra"]


def write_corpus(folder: Path, files: dict[str, str] = TOPICS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def snapshot(index: Index, settings: Settings, queries=QUERIES, mode: str = "hybrid") -> list:
    """Search results as plain tuples (scores included) for exact comparison."""
    results = Searcher(index, HashEmbedder(), settings).search_many(queries, k=5, mode=mode)
    return [[(h.chunk_id, h.source, h.start, h.end, h.page, h.score) for h in hits] for hits in results]


def sources(index_dir) -> list[str]:
    return sorted(f.source for f in Index.load(index_dir).manifest.files)


def chunk_sources(index_dir) -> list[str]:
    return [c.source for c in Index.load(index_dir).chunks]


def dir_state(index_dir: Path) -> dict:
    return {
        p.relative_to(index_dir).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in index_dir.rglob("*") if p.is_file() and not p.name.startswith(".lock")
    }


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    write_corpus(folder)
    return folder


@pytest.fixture
def built(corpus, tmp_path, settings, embedder) -> Path:
    index_dir = tmp_path / "index"
    report = rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    assert sorted(report.added) == sorted(str(corpus / n) for n in TOPICS)
    return index_dir


# --- round trip and exact search -------------------------------------------------------------


def test_save_load_search_is_identical(corpus, tmp_path, settings):
    embedder = HashEmbedder()
    chunks: list[Chunk] = []
    for name in sorted(TOPICS):
        chunks += chunk_document(load(corpus / name), settings.chunk_size, settings.chunk_overlap)
    _, texts = embedding_texts(chunks, settings.title_in_embedding)
    manifest = Manifest(model=embedder.model_name, dimension=embedder.dimension, chunk_size=settings.chunk_size,
                        chunk_overlap=settings.chunk_overlap, title_in_embedding=settings.title_in_embedding)
    index = Index(manifest, chunks, embedder.embed(texts))
    before = {mode: snapshot(index, settings, mode=mode) for mode in ("hybrid", "dense", "bm25")}
    assert before["hybrid"][0] and before["hybrid"][0][0][1].endswith("apples.txt")

    generation = index.save(tmp_path / "saved")
    loaded = Index.load(tmp_path / "saved", embedder.model_name, embedder.dimension)

    assert loaded.generation == generation
    assert loaded.chunks == chunks
    assert np.array_equal(loaded.vectors, index.vectors)
    assert loaded.keys == index.keys
    for mode, results in before.items():
        assert snapshot(loaded, settings, mode=mode) == results


def test_faiss_top_k_matches_numpy_brute_force():
    rng = np.random.default_rng(1234)
    n, dim = 400, 64
    text = " ".join(f"Sentence number {i} is here." for i in range(n))
    from assistant.ingest.documents import Document

    doc = Document(source="s.txt", text=text, sha256="0" * 64, title="")
    chunks = chunk_document(doc, 60, 0)
    keys = {(c.source, s, e) for c in chunks for s, e in c.sentences}
    assert len(keys) == n
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    manifest = Manifest(model="m", dimension=dim, chunk_size=60, chunk_overlap=0, title_in_embedding=False)
    index = Index(manifest, chunks, vectors)

    queries = rng.standard_normal((7, dim)).astype(np.float32)
    brute = queries @ vectors.T
    best_first = -np.sort(-brute, axis=1)
    for k in (1, 10, 57, n, n + 50):
        scores, rows = index.search(queries, k)
        kk = min(k, n)
        assert rows.shape == scores.shape == (7, kk)
        for q in range(7):
            assert len(set(rows[q].tolist())) == kk and rows[q].min() >= 0
            # FAISS's rows are a true top-k: their brute-force scores are the k best, in order
            # (robust to float ties), and FAISS reports those same scores.
            assert np.allclose(brute[q, rows[q]], best_first[q, :kk], atol=1e-5)
            assert np.allclose(scores[q], brute[q, rows[q]], atol=1e-5)
        expected_rows = np.argsort(-brute, axis=1, kind="stable")[:, :kk]
        assert (rows == expected_rows).mean() > 0.99


def test_empty_index_searches_to_nothing(tmp_path):
    manifest = Manifest(model="m", dimension=8, chunk_size=10, chunk_overlap=0, title_in_embedding=False)
    index = Index(manifest, [], np.empty((0, 8), np.float32))
    scores, rows = index.search(np.ones(8, np.float32), 5)
    assert scores.shape == (1, 0) and rows.shape == (1, 0)
    index.save(tmp_path / "empty")
    assert Index.load(tmp_path / "empty").chunks == []


# --- manifest and format ------------------------------------------------------------------


def test_manifest_describes_the_index(built, corpus, settings, embedder):
    generation = (built / CURRENT).read_text().split()[0]
    data = json.loads((built / generation / MANIFEST).read_text("utf-8"))
    assert data["format_version"] == FORMAT_VERSION == 1
    assert data["model"] == "hash-embedder" and data["dimension"] == 64
    assert data["chunk_size"] == 300 and data["chunk_overlap"] == 60
    assert data["title_in_embedding"] is True
    assert data["roots"] == [str(corpus)]
    files = {f["source"]: f for f in data["files"]}
    assert set(files) == {str(corpus / n) for n in TOPICS}
    index = Index.load(built)
    for source, entry in files.items():
        assert entry["sha256"] == hashlib.sha256(Path(source).read_bytes()).hexdigest()
        assert entry["chunks"] == sum(c.source == source for c in index.chunks) > 0
        assert entry["added"] and entry["updated"]
    for name in (CHUNKS, VECTORS):
        assert data["checksums"][name] == hashlib.sha256((built / generation / name).read_bytes()).hexdigest()
    pointer_sha = (built / CURRENT).read_text().split()[1]
    assert pointer_sha == hashlib.sha256((built / generation / MANIFEST).read_bytes()).hexdigest()
    # chunks.jsonl is plain JSON lines whose offsets index the source text.
    rows = [json.loads(line) for line in (built / generation / CHUNKS).read_text("utf-8").splitlines()]
    assert len(rows) == len(index.chunks)
    for row in rows:
        assert load(row["source"]).text[row["start"]:row["end"]] == row["text"]


def test_no_pickle_anywhere(built):
    for path in built.rglob("*"):
        if path.is_file() and path.stat().st_size:
            assert not path.read_bytes().startswith(b"\x80"), f"{path} looks like a pickle"
    # The code (not the prose: index.py's docstring proudly says "pickle-free") never pickles.
    banned = {"pickle", "cPickle", "cloudpickle", "dill", "joblib", "allow_dangerous_deserialization",
              "save_local", "load_local", "torch.load", "np.load", "numpy.load", "allow_pickle"}
    checked = 0
    for path in sorted((PROJECT / "assistant").rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
                if isinstance(node.value, ast.Name):
                    names.add(f"{node.value.id}.{node.attr}")
            elif isinstance(node, ast.keyword) and node.arg:
                names.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.update({alias.name, alias.name.split(".")[0]})
                if isinstance(node, ast.ImportFrom) and node.module:
                    names.add(node.module.split(".")[0])
        assert not names & banned, f"{path.name} uses {sorted(names & banned)}"
        checked += 1
    assert checked >= 25


def test_missing_index(tmp_path):
    # the commands it names rebuild this folder, not the default index ("--index" where the CLI takes it)
    with pytest.raises(IndexMissing) as info:
        Index.load(tmp_path / "nothing here")
    quoted = f"'{tmp_path / 'nothing here'}'"
    # a new store of one's own: add the documents first (a rebuild given no path had filled it with the default corpus)
    assert str(info.value).endswith(f"no index yet; run `python -m assistant --index {quoted} index add PATH` with the documents "
                                    f"to index (`python -m assistant --index {quoted} index rebuild` indexes the default corpus)")


def test_a_rebuild_command_in_a_message_parses_as_written(tmp_path):
    import shlex

    from assistant.config import DEFAULT_INDEX_DIR
    from assistant.interfaces import cli

    assert rebuild_command(DEFAULT_INDEX_DIR) == REBUILD_COMMAND
    assert rebuild_command("milvus:///data/a b.db") == "python -m assistant --index 'milvus:///data/a b.db' index rebuild"
    words = shlex.split(rebuild_command(tmp_path / "an index"))
    assert words[:3] == ["python", "-m", "assistant"]
    args = cli._parser().parse_args(words[3:])  # before: "--index" after the command, which the CLI refused
    assert (args.index_dir, args.command, args.verb) == (str(tmp_path / "an index"), "index", "rebuild")


@pytest.mark.parametrize("kwargs", [{"model": "other"}, {"dimension": 999}])
def test_incompatible_model_or_dimension_is_refused(built, kwargs):
    with pytest.raises(IndexIncompatible) as info:
        Index.load(built, **kwargs)
    message = str(info.value)
    assert rebuild_command(built) in message and "\n" not in message
    assert ("'other'" in message) if "model" in kwargs else ("999" in message)
    Index.load(built, model="hash-embedder", dimension=64)  # the right ones are accepted


def _rewrite_manifest(index_dir: Path, change) -> None:
    """Edit the live manifest and re-point CURRENT at its new checksum, so only `change` differs."""
    generation = (index_dir / CURRENT).read_text().split()[0]
    path = index_dir / generation / MANIFEST
    data = json.loads(path.read_text("utf-8"))
    change(data)
    raw = (json.dumps(data, indent=2) + "\n").encode()
    path.write_bytes(raw)
    (index_dir / CURRENT).write_text(f"{generation} {hashlib.sha256(raw).hexdigest()}\n")


def test_newer_format_version_is_refused(built, embedder, settings):
    _rewrite_manifest(built, lambda data: data.update(format_version=99))
    with pytest.raises(IndexIncompatible) as info:
        Index.load(built)
    assert "version 99" in str(info.value) and rebuild_command(built) in str(info.value)
    with pytest.raises(IndexIncompatible):
        retrieve("apples", index_dir=built, embedder=embedder, settings=settings)


def test_rewritten_manifest_with_same_version_still_loads(built):
    # Control for the test above: the rewrite itself does not break anything.
    _rewrite_manifest(built, lambda data: None)
    assert len(Index.load(built).chunks) > 0


def test_newer_format_with_extra_field_is_incompatible_not_corrupt(built):
    _rewrite_manifest(built, lambda data: data.update(format_version=3, shards=["a", "b"]))
    with pytest.raises(IndexIncompatible, match="version 3"):
        Index.load(built)


def test_wrong_model_at_query_time_is_refused(built, settings):
    class OtherEmbedder(HashEmbedder):
        model_name = "another-model"

    with pytest.raises(IndexIncompatible, match="another-model"):
        retrieve("apples", index_dir=built, embedder=OtherEmbedder(), settings=settings)


# --- integrity ------------------------------------------------------------------------------


def _live(index_dir: Path) -> Path:
    return index_dir / (index_dir / CURRENT).read_text().split()[0]


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])


def _edit_manifest(path: Path) -> None:
    path.write_text(path.read_text("utf-8").replace('"chunk_size": 300', '"chunk_size": 301'), "utf-8")


@pytest.mark.parametrize(
    "name, damage",
    [
        (VECTORS, _flip_byte),
        (VECTORS, _truncate),
        (CHUNKS, _truncate),
        (CHUNKS, _flip_byte),
        (MANIFEST, _edit_manifest),
        (VECTORS, Path.unlink),
        (CHUNKS, Path.unlink),
    ],
    ids=["flip-vectors", "truncate-vectors", "truncate-chunks", "flip-chunks", "edit-manifest",
         "delete-vectors", "delete-chunks"],
)
def test_tampering_is_detected(built, embedder, settings, name, damage):
    target = _live(built) / name
    original = target.read_bytes()
    damage(target)
    assert not target.exists() or target.read_bytes() != original

    with pytest.raises(IndexCorrupt) as info:
        Index.load(built)
    message = str(info.value)
    assert name in message and rebuild_command(built) in message and "\n" not in message
    # The query path refuses too, rather than serving a damaged index.
    with pytest.raises(IndexCorrupt):
        retrieve("apple harvest", index_dir=built, embedder=embedder, settings=settings)


@pytest.mark.parametrize("content", ["", "garbage\n", "gen-x\n", "../etc 0000\n", "gen-missing " + "0" * 64 + "\n"])
def test_bad_current_pointer_is_corrupt(built, content):
    (built / CURRENT).write_text(content)
    with pytest.raises(IndexCorrupt, match="rebuild"):
        Index.load(built)


def test_corrupt_index_add_refuses_and_rebuild_recovers(built, corpus, settings, embedder):
    _flip_byte(_live(built) / VECTORS)
    extra = corpus.parent / "extra.txt"
    extra.write_text("An extra document about sailing boats.", "utf-8")
    with pytest.raises(IndexCorrupt):
        add_documents([extra], index_dir=built, settings=settings, embedder=embedder)
    report = rebuild_index([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert len(report.added) == 3
    assert sources(built) == sorted(str(corpus / n) for n in TOPICS)


# --- incremental updates ---------------------------------------------------------------------


def _sentences_of(path: Path, settings: Settings, source: str | None = None) -> int:
    chunks = chunk_document(load(path, source=source), settings.chunk_size, settings.chunk_overlap)
    return len(embedding_texts(chunks, settings.title_in_embedding)[0])


def test_a_sentence_held_more_than_once_in_one_add_is_embedded_once(corpus, tmp_path, settings, embedder):
    # three copies of a folder had embedded every sentence three times (reuse worked only across runs)
    copies = tmp_path / "copies"
    for name in ("a", "b", "c"):
        shutil.copytree(corpus, copies / name)
    report = add_documents([copies], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    once = sum(_sentences_of(corpus / n, settings) for n in TOPICS)
    assert embedder.texts_embedded == report.embedded == once and report.reused == 2 * once
    hits = {h.source for h in retrieve("when do farmers harvest apples", k=1, index_dir=tmp_path / "index", settings=settings,
                                        embedder=embedder)}
    assert len(hits) == 1 and Path(hits.pop()).name == "apples.txt"


def test_adding_again_embeds_and_writes_nothing(corpus, tmp_path, settings, embedder):
    index_dir = tmp_path / "index"
    first = add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    total = sum(_sentences_of(corpus / n, settings) for n in TOPICS)
    assert embedder.texts_embedded == total and embedder.calls == 1
    assert first.chunks == len(Index.load(index_dir).chunks) and first.embedded == embedder.texts_embedded
    state = dir_state(index_dir)

    again = add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)

    assert embedder.texts_embedded == total and embedder.calls == 1
    assert sorted(again.unchanged) == sorted(str(corpus / n) for n in TOPICS)
    assert not again.changed and again.embedded == 0 and again.chunks == first.chunks
    assert dir_state(index_dir) == state  # CURRENT and every file untouched

    rebuilt = rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    assert not rebuilt.changed and embedder.texts_embedded == total
    assert dir_state(index_dir) == state


def test_modified_file_alone_is_reembedded(built, corpus, settings, embedder):
    before = Index.load(built)
    embedder.texts_embedded = 0
    target = corpus / "taxes.txt"
    target.write_text(TOPICS["taxes.txt"] + " A brand new rule about crypto assets applies from June.", "utf-8")

    report = add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)

    assert report.updated == (str(target),)
    assert sorted(report.unchanged) == sorted(str(corpus / n) for n in ("apples.txt", "rockets.md"))
    # of its sentences only the new one is embedded: the others keep their stored vectors
    assert _sentences_of(target, settings) == 10 and embedder.texts_embedded == 1 and report.reused == 9
    after = Index.load(built)
    assert after.generation != before.generation
    # Untouched documents keep identical chunks and vectors.
    for name in ("apples.txt", "rockets.md"):
        src = str(corpus / name)
        old = [c for c in before.chunks if c.source == src]
        new = [c for c in after.chunks if c.source == src]
        assert old == new
        keys = [(c.source, s, e) for c in old for s, e in c.sentences]
        assert np.array_equal(before.vectors_of(keys), after.vectors_of(keys))
    new_text = " ".join(c.text for c in after.chunks if c.source == str(target))
    assert "crypto assets" in new_text
    entry = {f.source: f for f in after.manifest.files}[str(target)]
    assert entry.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    assert entry.added == {f.source: f for f in before.manifest.files}[str(target)].added


def test_deleted_file_is_pruned_by_rebuild_but_kept_by_add(built, corpus, settings, embedder):
    gone = corpus / "rockets.md"
    gone.unlink()
    report = add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert report.removed == () and str(gone) in chunk_sources(built)
    assert (str(gone), GONE_KEPT) in report.skipped  # and says so

    report = rebuild_index([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert report.removed == (str(gone),)
    assert str(gone) not in chunk_sources(built)
    assert str(gone) not in sources(built)
    hits = retrieve("rocket engine turbopump", index_dir=built, embedder=embedder, settings=settings, k=10)
    assert hits and all(h.source != str(gone) for h in hits)


def test_rebuild_without_paths_uses_recorded_roots(built, corpus, settings, embedder):
    (corpus / "apples.txt").unlink()
    report = rebuild_index(index_dir=built, settings=settings, embedder=embedder)
    assert report.removed == (str(corpus / "apples.txt"),)


def test_a_rebuild_given_a_path_that_is_not_there_changes_nothing(built, corpus, tmp_path, settings, embedder, capsys):
    """A typo in a rebuild's paths used to prune every document and exit 0."""
    from assistant.interfaces import cli

    before, state = sources(built), dir_state(built)
    typo = tmp_path / "corpsu"
    report = rebuild_index([typo], index_dir=built, settings=settings, embedder=embedder)
    assert not (report.added or report.updated or report.removed) and report.chunks == len(Index.load(built).chunks)
    [(path, reason)] = report.failed
    # (an absolute path: the working folder is not named, as it does not matter)
    assert path == str(typo) and reason.startswith("no such file or directory; nothing was rebuilt")
    report = rebuild_index([corpus / "apples.txt", typo], index_dir=built, settings=settings, embedder=embedder)
    assert [f[0] for f in report.failed] == [str(typo)] and not report.removed  # one good path does not let the rest go
    assert sources(built) == before and dir_state(built) == state and Index.load(built).manifest.roots == (str(corpus),)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")  # a broken link is not there either (it used to prune everything too)
    assert [f[0] for f in rebuild_index([link], index_dir=built, settings=settings, embedder=embedder).failed] == [str(link)]
    assert sources(built) == before and dir_state(built) == state
    assert cli.main(["--index-dir", str(built), "index", "rebuild", str(typo)]) == 1  # was 0
    assert f"failed: {typo}: no such file or directory" in capsys.readouterr().err
    assert sources(built) == before


def test_a_relative_root_seen_from_another_working_folder_prunes_nothing(corpus, tmp_path, settings, embedder, monkeypatch):
    """A root recorded as given ("corpus", relative) cannot be found from another working folder:
    the rebuild from there used to empty the index."""
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    rebuild_index(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder)
    before = sources(index_dir)
    assert Index.load(index_dir).manifest.roots == ("corpus",) and len(before) == len(TOPICS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # the index says where its relative paths are named from: a change from here is refused (a
    # same-named folder here had replaced the indexed one)
    assert Index.load(index_dir).manifest.base == str(tmp_path)
    changed = settings.replace(chunk_size=150, chunk_overlap=30)  # a new recipe cannot reuse them either way
    for chosen in (settings, changed):
        with pytest.raises(IndexProblem) as refused:
            rebuild_index(index_dir=index_dir, settings=chosen, embedder=embedder)
        assert str(refused.value) == (f"{index_dir}: names its documents relative to {tmp_path}, not to this folder ({elsewhere}); "
                                      f"run index commands on it from {tmp_path}")
        assert sources(index_dir) == before
    monkeypatch.chdir(tmp_path)
    assert not rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder).failed  # from where it was given


def test_a_removed_file_is_no_longer_a_root_and_a_deleted_root_refuses_until_removed(corpus, tmp_path, settings, embedder):
    index_dir = tmp_path / "index"
    upload = tmp_path / "uploads" / "page.md"
    write_corpus(upload.parent, {"page.md": "# Page\n\nThe ferry leaves at noon."})
    rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    add_documents([upload], index_dir=index_dir, settings=settings, embedder=embedder)
    assert Index.load(index_dir).manifest.roots == (str(corpus), str(upload))
    remove_documents([str(upload)], index_dir=index_dir, settings=settings, embedder=embedder)
    upload.unlink()
    assert Index.load(index_dir).manifest.roots == (str(corpus),)  # was kept: every rebuild then failed on it
    report = rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder)
    assert not report.failed and not report.removed
    # a file added by name, then deleted (or a folder unmounted): the rebuild keeps it and says how to go on
    gone = tmp_path / "gone.md"
    write_corpus(tmp_path, {"gone.md": "# Gone\n\nA note."})
    add_documents([gone], index_dir=index_dir, settings=settings, embedder=embedder)
    gone.unlink()
    before = sources(index_dir)
    [(path, reason)] = rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder).failed
    assert path == str(gone) and "the 1 document indexed from it is kept" in reason and "index remove SOURCE" in reason
    assert sources(index_dir) == before and Index.load(index_dir).manifest.roots == (str(corpus), str(gone))
    remove_documents([str(gone)], index_dir=index_dir, settings=settings, embedder=embedder)  # the way on
    report = rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder)
    assert not report.failed and Index.load(index_dir).manifest.roots == (str(corpus),)


def test_a_removed_file_stays_out_until_it_is_added_by_name(corpus, tmp_path, settings, embedder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    apples = os.path.realpath(corpus / "apples.txt")
    rebuild_index(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder)
    remove_documents([str(corpus / "apples.txt")], index_dir=index_dir, settings=settings, embedder=embedder)  # another spelling
    assert Index.load(index_dir).manifest.excluded == (apples,)  # resolved: it holds from any working folder
    for again, found in ((lambda: rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder), "corpus/apples.txt"),
                         (lambda: rebuild_index(["corpus/"], index_dir=index_dir, settings=settings, embedder=embedder), "corpus/apples.txt"),
                         (lambda: add_documents(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder), "corpus/apples.txt"),
                         (lambda: add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder), str(corpus / "apples.txt"))):
        report = again()
        assert not report.changed and report.skipped == ((found, EXCLUDED),)  # named as the folder reached it
        assert sources(index_dir) == ["corpus/rockets.md", "corpus/taxes.txt"]
    assert "removed from the index on request" in report.summary()
    from assistant.config import PROJECT_DIR

    info = subprocess.run([sys.executable, "-m", "assistant", "--index", str(index_dir), "index", "info"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert f"{apples}  left out: removed on request (index add {apples} brings it back)" in info.stdout
    # named under another spelling, it is indexed again, and stays
    assert add_documents([apples], index_dir=index_dir, settings=settings, embedder=embedder).added == (apples,)
    assert Index.load(index_dir).manifest.excluded == ()
    assert not rebuild_index(["corpus", apples], index_dir=index_dir, settings=settings, embedder=embedder).changed
    assert len(sources(index_dir)) == 3
    # a file of that name is passed by while it is there, even one made anew; once it is gone, a save forgets it
    remove_documents([apples], index_dir=index_dir, settings=settings, embedder=embedder)
    (corpus / "apples.txt").unlink()
    write_corpus(corpus)
    assert rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder).skipped == (("corpus/apples.txt", EXCLUDED),)
    (corpus / "apples.txt").unlink()
    (corpus / "pears.txt").write_text("Pears ripen late.", "utf-8")
    assert rebuild_index(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder).added == ("corpus/pears.txt",)
    assert Index.load(index_dir).manifest.excluded == ()
    write_corpus(corpus)  # apples.txt is a new file now
    assert rebuild_index(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder).added == ("corpus/apples.txt",)
    # and ends when no recorded folder holds it any more
    remove_documents(["corpus/taxes.txt"], index_dir=index_dir, settings=settings, embedder=embedder)
    rebuild_index(["corpus/rockets.md"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert Index.load(index_dir).manifest.excluded == ()
    assert "corpus/taxes.txt" in rebuild_index(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder).added
    assert "excluded" not in json.loads((index_dir / Index.load(index_dir).generation / "manifest.json").read_text())  # older readers


def test_a_file_removed_through_a_link_in_another_folder_stays_out(tmp_path, settings, embedder):
    first, second = tmp_path / "first", tmp_path / "second"
    write_corpus(first)
    (second / "notes.txt").parent.mkdir()
    (second / "notes.txt").write_text("Notes on the harbour.", "utf-8")
    (second / "link.txt").symlink_to(first / "apples.txt")
    index_dir = tmp_path / "index"
    rebuild_index([first, second], index_dir=index_dir, settings=settings, embedder=embedder)
    assert remove_documents([str(second / "link.txt")], index_dir=index_dir, settings=settings, embedder=embedder).removed == (
        str(first / "apples.txt"),)
    for _ in range(2):  # the second folder alone still reaches it, through the link: it stays out every time
        report = rebuild_index([second], index_dir=index_dir, settings=settings, embedder=embedder)
        assert report.skipped == ((str(second / "link.txt"), EXCLUDED),) and not report.added
    assert sources(index_dir) == [str(second / "notes.txt")]


def _a_folder_and_one_elsewhere(tmp_path: Path, inside: str, outside: str) -> tuple[Path, Path]:
    """docs/<inside> and elsewhere/<outside>, a document each."""
    docs, elsewhere = tmp_path / "docs", tmp_path / "elsewhere"
    for folder, name, text in ((docs, inside, "Apples grow in the valley."), (elsewhere, outside, "Boats race round the island.")):
        folder.mkdir()
        (folder / name).write_text(text, "utf-8")
    return docs, elsewhere


def test_a_link_removed_from_the_only_folder_that_holds_it_stays_out(tmp_path, settings, embedder):
    # the link's target lies outside every recorded folder; the folder reaches it through the link
    docs, shared = _a_folder_and_one_elsewhere(tmp_path, "notes.txt", "policy.txt")
    (docs / "policy.txt").symlink_to(shared / "policy.txt")
    index_dir = tmp_path / "index"
    add_documents([docs], index_dir=index_dir, settings=settings, embedder=embedder)
    remove_documents([str(docs / "policy.txt")], index_dir=index_dir, settings=settings, embedder=embedder)
    for _ in range(2):
        report = rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder)
        assert report.skipped == ((str(docs / "policy.txt"), EXCLUDED),) and not report.added
    assert sources(index_dir) == [str(docs / "notes.txt")]


def test_a_removal_from_another_working_folder_than_the_index_s_relative_paths_is_refused(corpus, tmp_path, settings, embedder, monkeypatch):
    # "corpus/apples.txt" named from another folder is another file: removed there, it could not be kept out
    index_dir = tmp_path / "index"
    monkeypatch.chdir(tmp_path)
    add_documents(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder)
    before = sources(index_dir)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # "corpus" and its files are not there from here
    with pytest.raises(IndexProblem, match=f"names its documents relative to {tmp_path}, not to this folder"):
        remove_documents(["corpus/apples.txt"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert sources(index_dir) == before
    monkeypatch.chdir(tmp_path)
    assert remove_documents(["corpus/taxes.txt"], index_dir=index_dir, settings=settings, embedder=embedder).skipped == ()


def test_a_folder_that_cannot_be_read_is_never_pruned(tmp_path, settings, embedder, monkeypatch):
    from assistant.ingest.indexing import UNREADABLE

    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("Apples grow in the valley.", "utf-8")
    (docs / "sub" / "b.txt").write_text("Boats race round the island.", "utf-8")
    index_dir = tmp_path / "index"
    rebuild_index([docs], index_dir=index_dir, settings=settings, embedder=embedder)
    before = sources(index_dir)
    real_scandir = os.scandir

    def denied(folder):  # what listing a folder without read permission raises (root would not see it)
        if os.path.basename(os.fspath(folder)) in {"sub", "docs"} and os.fspath(folder) in blocked:
            raise PermissionError(13, "Permission denied", os.fspath(folder))
        return real_scandir(folder)

    monkeypatch.setattr(os, "scandir", denied)
    for blocked in ({str(docs / "sub")}, {str(docs)}):  # a subfolder, then the recorded folder itself
        report = rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder)
        (folder, why), = report.failed
        assert folder in blocked and why.startswith(f"{UNREADABLE} (Permission denied); nothing was rebuilt")
        assert not report.changed and sources(index_dir) == before
        added = add_documents([docs], index_dir=index_dir, settings=settings, embedder=embedder)
        assert [f for f, w in added.failed if w.startswith(UNREADABLE)] == sorted(blocked) and not added.removed
        assert not any("no documents in it" in why for _, why in added.skipped)
    assert sources(index_dir) == before


def test_different_spellings_of_a_path_never_duplicate(corpus, tmp_path, settings, embedder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    first = add_documents(["corpus/apples.txt"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert first.added == ("corpus/apples.txt",)
    count = len(Index.load(index_dir).chunks)
    for spelling in ["./corpus/apples.txt", "corpus//apples.txt", "corpus/../corpus/apples.txt",
                     str(tmp_path / "corpus" / "apples.txt")]:
        report = add_documents([spelling], index_dir=index_dir, settings=settings, embedder=embedder)
        assert report.unchanged == ("corpus/apples.txt",), spelling
        assert not report.added and not report.updated
    assert len(Index.load(index_dir).chunks) == count
    assert sources(index_dir) == ["corpus/apples.txt"]
    # A changed file given by another spelling updates the existing entry in place.
    (corpus / "apples.txt").write_text(TOPICS["apples.txt"] + " Pears grow here too.", "utf-8")
    report = add_documents([str(tmp_path / "corpus" / "apples.txt")], index_dir=index_dir, settings=settings, embedder=embedder)
    assert report.updated == ("corpus/apples.txt",)
    assert set(chunk_sources(index_dir)) == {"corpus/apples.txt"}
    # And the folder given relatively still maps onto the same entry.
    report = add_documents(["./corpus"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert "corpus/apples.txt" in report.unchanged
    assert sources(index_dir).count("corpus/apples.txt") == 1


def test_same_file_twice_in_one_call_is_indexed_once(corpus, tmp_path, settings, embedder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    add_documents(["corpus/apples.txt", str(tmp_path / "corpus" / "apples.txt")],
                  index_dir=index_dir, settings=settings, embedder=embedder)
    assert len(sources(index_dir)) == 1


def test_folder_with_bad_and_unsupported_files(corpus, tmp_path, settings, embedder):
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    (corpus / "data.json").write_text("{\"a\": 1}\n")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03 binary \x00 data" * 10)
    (corpus / "latin1.txt").write_bytes("d\u00e9j\u00e0 vu".encode("latin-1"))
    (corpus / "empty.md").write_bytes(b"")
    (corpus / ".hidden.txt").write_text("Hidden files are ignored.")
    (corpus / "nested").mkdir()
    (corpus / "nested" / "deep.txt").write_text("A nested note about glaciers melting.", "utf-8")
    index_dir = tmp_path / "index"

    report = add_documents([corpus, tmp_path / "does-not-exist.txt"], index_dir=index_dir, settings=settings, embedder=embedder)

    good = sorted([str(corpus / n) for n in TOPICS] + [str(corpus / "nested" / "deep.txt")])
    assert sorted(report.added) == good
    assert sources(index_dir) == good
    failed = dict(report.failed)
    assert set(failed) == {str(corpus / "binary.txt"), str(corpus / "latin1.txt"), str(corpus / "empty.md"),
                           str(tmp_path / "does-not-exist.txt")}
    assert "binary" in failed[str(corpus / "binary.txt")]
    assert "UTF-8" in failed[str(corpus / "latin1.txt")]
    assert "empty" in failed[str(corpus / "empty.md")]
    assert "no such file" in failed[str(tmp_path / "does-not-exist.txt")]
    skipped = dict(report.skipped)
    assert set(skipped) == {str(corpus / "photo.jpg"), str(corpus / "data.json")}
    assert all("not a supported document type" in reason for reason in skipped.values())
    (corpus / "minutes.doc").write_bytes(b"\xd0\xcf\x11\xe0 an old Word file")  # a document to save anew: says how
    again = dict(add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder).skipped)
    assert again[str(corpus / "minutes.doc")].startswith("the legacy Word format .doc is not supported: save it as .docx")
    summary = report.summary()
    assert f"failed: {corpus / 'binary.txt'}: " in summary and f"skipped: {corpus / 'photo.jpg'}: " in summary


def test_named_pipes_links_and_empty_folders_are_reported_and_never_block(corpus, tmp_path, settings, embedder):
    os.mkfifo(corpus / "pipe.txt")  # reading it would wait for a writer forever
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    (tmp_path / "empty.txt").mkdir()
    index_dir = tmp_path / "index"
    done = []
    worker = threading.Thread(daemon=True, target=lambda: done.append(add_documents(
        [corpus, tmp_path / "loop.txt", tmp_path / "empty.txt"], index_dir=index_dir, settings=settings, embedder=embedder)))
    worker.start()
    worker.join(timeout=60)
    assert done, "indexing hung"
    report = done[0]
    assert sorted(report.added) == sorted(str(corpus / n) for n in TOPICS)
    failed = dict(report.failed)
    assert failed[str(corpus / "pipe.txt")] == "not a regular file (a named pipe)"
    assert "symbolic link loop" in failed[str(tmp_path / "loop.txt")]
    assert "no documents in it" in dict(report.skipped)[str(tmp_path / "empty.txt")]


def test_a_write_to_a_new_folder_that_writes_nothing_leaves_no_folder(tmp_path, capsys):
    # a mistyped --index had been left behind holding only the writer's lock
    from assistant.interfaces import cli

    typo = tmp_path / "typo" / "index"
    assert cli.main(["--index", str(typo), "index", "remove", str(tmp_path / "a.txt")]) == 1
    assert cli.main(["--index", str(typo), "index", "add", str(tmp_path / "missing.txt")]) == 1
    assert not (tmp_path / "typo").exists()
    (tmp_path / "a.txt").write_text("Apples are red.", encoding="utf-8")
    assert cli.main(["--index", str(typo), "index", "add", str(tmp_path / "a.txt")]) == 0  # one that writes keeps it
    assert (typo / "CURRENT").is_file()
    capsys.readouterr()


def test_a_file_name_with_a_line_break_stays_on_its_line_in_the_cli(tmp_path, capsys):
    # `index info` and `search` had broken a file's or a hit's line in two at the name's line break
    from assistant.interfaces import cli

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "new\nline.txt").write_text("Pears ripen in September.", encoding="utf-8")
    index_dir = str(tmp_path / "index")
    assert cli.main(["--index", index_dir, "index", "add", str(folder)]) == 0
    capsys.readouterr()
    assert cli.main(["--index", index_dir, "index", "info"]) == 0
    info = capsys.readouterr().out.splitlines()
    assert len(info) == 2 and info[1].startswith(f"  {folder}/new\\nline.txt  1 chunks")
    assert cli.main(["--index", index_dir, "search", "When do pears ripen?", "-k", "1"]) == 0
    found = capsys.readouterr().out.splitlines()
    assert len(found) == 2 and "new\\nline.txt" in found[0] and found[1].strip() == "Pears ripen in September."
    # the title the file's name gives (its stem) too: "fox\nadded: fake" had printed as two lines
    (folder / "new\nline.txt").unlink()
    (folder / "fox\nadded: fake.txt").write_text("The quick fox jumps.", encoding="utf-8")
    assert cli.main(["--index", index_dir, "index", "rebuild", str(folder)]) == 0
    capsys.readouterr()
    assert cli.main(["--index", index_dir, "search", "quick fox", "-k", "1"]) == 0
    found = capsys.readouterr().out.splitlines()
    assert len(found) == 2 and found[0].startswith("[1] fox\\nadded: fake — fox\\nadded: fake.txt")


def _lock_held(index_dir: Path) -> tuple[threading.Thread, threading.Event]:
    """Another writer holding `index_dir`'s lock (in a thread) until the event returned is set."""
    from assistant.store.snapshot import writer_lock

    holding, release = threading.Event(), threading.Event()

    def holder():
        with writer_lock(index_dir):  # (a new folder: made for the lock, and nothing written)
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    assert holding.wait(10)
    return thread, release


def test_a_held_lock_gives_up_with_the_holders_pid(corpus, tmp_path, settings, embedder):
    from assistant.store.snapshot import IndexBusy

    index_dir = tmp_path / "index"
    thread, release = _lock_held(index_dir)
    try:
        began = time.monotonic()
        with pytest.raises(IndexBusy) as info:
            add_documents([corpus], index_dir=index_dir, settings=settings.replace(lock_timeout=0.5), embedder=embedder)
        assert time.monotonic() - began < 10
        message = str(info.value)
        assert f"process {os.getpid()}" in message and "\n" not in message
    finally:
        release.set()
        thread.join(10)
    report = add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)  # free again
    assert len(report.added) == len(TOPICS)


def test_a_writer_waiting_on_a_new_folder_takes_the_lock_when_the_first_one_leaves_it_unused(corpus, tmp_path, settings, embedder):
    """A writer that made the index's folder and wrote nothing removes it, lock and all: a writer
    waiting on that lock had failed with "No such file or directory: …/.lock" (an audit)."""
    index_dir = tmp_path / "new" / "index"
    thread, release = _lock_held(index_dir)  # made the folders; writes nothing
    threading.Timer(0.5, release.set).start()
    report = add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)  # waits, then writes
    thread.join(10)
    assert len(report.added) == len(TOPICS) and sources(index_dir) == sorted(report.added)


def test_a_writer_that_waits_for_the_lock_says_so_at_once_with_progress(corpus, tmp_path, settings, embedder, capsys):
    """The CLI's writers show progress: one waiting on another printed nothing for up to a minute."""
    index_dir = tmp_path / "index"
    thread, release = _lock_held(index_dir)
    threading.Timer(0.5, release.set).start()
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder, progress=True)
    thread.join(10)
    waited = [line for line in capsys.readouterr().err.splitlines() if "waiting for" in line]
    assert waited == [f"{index_dir}: waiting for process {os.getpid()} (an indexing run) to finish, at most {settings.lock_timeout:g} s …"]
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder, progress=True)  # the lock free: no such line
    assert "waiting for" not in capsys.readouterr().err


FULL_DISK_CHILD = r"""
import resource, sys
from assistant.config import Settings
from assistant.ingest.indexing import add_documents
from assistant.store.index import Index
from tests.fakes import HashEmbedder

first, second, index_dir, most = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
settings = Settings.from_env(chunk_size=300, chunk_overlap=60)
add_documents([first], index_dir=index_dir, settings=settings, embedder=HashEmbedder())
resource.setrlimit(resource.RLIMIT_FSIZE, (most, most))  # no file may grow past this: a disk that is full
try:
    add_documents([second], index_dir=index_dir, settings=settings, embedder=HashEmbedder())
except Exception as err:
    print(type(err).__name__, err)
print(len(Index.load(index_dir).manifest.files), "files")
"""


@pytest.mark.parametrize("most", [2_000, 200_000])  # the chunks file, then the vectors (FAISS's own write error)
def test_a_save_that_runs_out_of_room_says_so_in_one_line_and_leaves_the_index_as_it_was(tmp_path, most):
    write_corpus(tmp_path / "first", {"a.txt": "Alpha is the first subject. It has facts."})
    write_corpus(tmp_path / "second", {f"b{i}.txt": f"Beta {i} is a subject. " * 40 for i in range(40)})
    index_dir = tmp_path / "index"
    done = subprocess.run([sys.executable, "-c", FULL_DISK_CHILD, str(tmp_path / "first"), str(tmp_path / "second"), str(index_dir), str(most)],
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.splitlines() == [f"IndexProblem {index_dir}: cannot save the index (File too large); it is unchanged", "1 files"], done.stderr
    assert not list(index_dir.glob(".tmp-*"))


def test_an_index_this_user_may_not_read_or_lock_says_so_not_to_rebuild(corpus, tmp_path, settings, embedder, monkeypatch):
    """Permissions are the fix, not a rebuild (advised before, and it cannot write there either);
    a lock's owner file that cannot be written is one line, not a raw errno (an audit)."""
    index_dir = tmp_path / "index"
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    live = (index_dir / "CURRENT").read_text("utf-8").split()[0]
    read_text, read_bytes, write_text = Path.read_text, Path.read_bytes, Path.write_text

    def denied(real, names):
        def call(self, *args, **kwargs):
            if self.name in names:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *args, **kwargs)
        return call

    for name in ("CURRENT", "manifest.json"):
        monkeypatch.setattr(Path, "read_text", denied(read_text, {name}))
        monkeypatch.setattr(Path, "read_bytes", denied(read_bytes, {name}))
        with pytest.raises(IndexProblem) as info:
            Index.load(index_dir)
        where = index_dir / "CURRENT" if name == "CURRENT" else index_dir / live / name
        assert str(info.value) == f"{where}: cannot be read (Permission denied); let this user read the index folder {index_dir} and what it holds"
    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(Path, "write_text", denied(write_text, {".lock.owner"}))
    with pytest.raises(IndexProblem, match=r"cannot write the lock's owner file .*\.lock\.owner \(Permission denied\)$"):
        add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    monkeypatch.setattr(Path, "write_text", write_text)
    assert add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder).unchanged  # the lock was let go


def test_one_damaged_pdf_does_not_abort_a_rebuild(corpus, tmp_path, settings, embedder):
    pdf = make_pdf([["A page about lighthouses."]])
    (corpus / "damaged.pdf").write_bytes(pdf.replace(b"/FlateDecode", b"/FlateDecodX"))
    report = rebuild_index([corpus], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    assert str(corpus / "damaged.pdf") in dict(report.failed)
    assert len(report.added) == len(TOPICS)


def test_pdf_in_the_index_keeps_page_numbers(tmp_path, settings, embedder):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "manual.pdf").write_bytes(make_pdf([
        ["Installation requires a screwdriver."], ["Maintenance means oiling the hinge."], ["Warranty lasts two years."],
    ]))
    index_dir = tmp_path / "index"
    add_documents([folder], index_dir=index_dir, settings=settings, embedder=embedder)
    hits = retrieve("warranty years", index_dir=index_dir, embedder=embedder, settings=settings, k=1)
    assert hits[0].page == 3 and hits[0].label == "manual.pdf p. 3"
    assert load(folder / "manual.pdf").text[hits[0].start:hits[0].end] == hits[0].text


def test_file_that_becomes_undecodable_is_dropped_and_the_failure_says_so(built, corpus, settings, embedder):
    # its earlier text had gone on being quoted as what the file says (an emptied file's secret too)
    target = corpus / "apples.txt"
    target.write_bytes(b"Apples \xff\xfe broken now")
    embedder.texts_embedded = 0
    report = add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert dict(report.failed) == {
        str(target): f"not valid UTF-8 (byte 0xff at offset 7); {RESAVE}; its version indexed before was dropped from the index"}
    assert report.removed == (str(target),) and embedder.texts_embedded == 0
    assert not [c for c in Index.load(built).chunks if c.source == str(target)]
    assert all(h.source != str(target) for h in retrieve("apple harvest", index_dir=built, embedder=embedder, settings=settings, k=5))
    target.write_text("", "utf-8")  # emptied: failed again, nothing more to drop
    report = rebuild_index([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert dict(report.failed) == {str(target): "empty file"} and not report.removed


def test_changing_chunk_size_rechunks_everything_and_embeds_only_new_sentences(built, corpus, settings, embedder):
    before = Index.load(built)
    chunks_before = len(before.chunks)
    embedder.texts_embedded = 0
    smaller = settings.replace(chunk_size=150, chunk_overlap=30)
    # Name one file only: the others must be re-chunked too, not kept with stale chunking.
    report = add_documents([corpus / "apples.txt"], index_dir=built, settings=smaller, embedder=embedder)
    assert sorted(report.updated) == sorted(str(corpus / n) for n in TOPICS)
    # a sentence cut anew by the smaller chunks is embedded; the others keep their vectors
    known = set(embedding_texts(before.chunks, settings.title_in_embedding)[1])
    wanted = set()
    for name in TOPICS:
        wanted |= set(embedding_texts(chunk_document(load(corpus / name), 150, 30), smaller.title_in_embedding)[1])
    assert wanted & known
    assert embedder.texts_embedded == report.embedded == len(wanted - known) and report.reused == len(wanted & known)
    index = Index.load(built)
    assert index.manifest.chunk_size == 150 and index.manifest.chunk_overlap == 30
    assert all(len(c.text) <= 150 for c in index.chunks)
    assert len(index.chunks) > chunks_before
    expected = []
    for name in sorted(TOPICS):
        expected += [c.id for c in chunk_document(load(corpus / name), 150, 30)]
    assert sorted(c.id for c in index.chunks) == sorted(expected)


def test_other_embedding_model_reembeds_everything(built, corpus, settings):
    class Other(HashEmbedder):
        model_name = "hash-embedder-v2"

    other = Other()
    report = add_documents([corpus], index_dir=built, settings=settings, embedder=other)
    assert sorted(report.updated) == sorted(str(corpus / n) for n in TOPICS)
    assert other.texts_embedded == sum(_sentences_of(corpus / n, settings) for n in TOPICS)
    assert Index.load(built, model="hash-embedder-v2").manifest.model == "hash-embedder-v2"


def test_add_under_a_new_recipe_that_cannot_reread_a_document_changes_nothing(built, corpus, tmp_path, settings, embedder):
    # a stray setting (another chunk size or model) had re-read the index and dropped what an add
    # keeps: a document gone from its folder, or one that cannot be read now
    (corpus / "apples.txt").unlink()
    extra = tmp_path / "extra.txt"
    extra.write_text("Pears ripen in August.", encoding="utf-8")
    before = dir_state(built)
    report = add_documents([extra], index_dir=built, settings=settings.replace(chunk_size=200), embedder=embedder)
    assert not report.changed and dir_state(built) == before
    assert [source for source, _ in report.failed] == [str(corpus / "apples.txt"), str(extra)]
    assert "nothing was changed" in report.failed[0][1] and "index rebuild" in report.failed[0][1]
    assert "built with chunk size 300; the settings ask for chunk size 200" in report.failed[0][1]  # names what differs
    assert report.failed[1][1].startswith("not done: the index was built with chunk size 300")  # what was asked for
    # with the same recipe the add goes on, keeping the gone document
    report = add_documents([extra], index_dir=built, settings=settings, embedder=embedder)
    assert report.added == (str(extra),) and str(corpus / "apples.txt") in sources(built) and not report.recipe


def test_add_under_a_new_recipe_says_every_document_was_read_again(built, corpus, settings, embedder):
    report = add_documents([corpus / "apples.txt"], index_dir=built, settings=settings.replace(chunk_size=200), embedder=embedder)
    assert len(report.updated) == len(TOPICS) and "chunk size" in report.recipe
    assert report.summary().splitlines()[1].startswith("note: every document was read again: the index was built with")
    again = add_documents([corpus / "apples.txt"], index_dir=built, settings=settings.replace(chunk_size=200), embedder=embedder)
    assert not again.recipe and "note:" not in again.summary()


def test_file_dropped_on_recipe_change_is_reported_removed(built, corpus, settings, embedder):
    (corpus / "apples.txt").write_bytes(b"Apples \xff broken")
    report = add_documents([corpus], index_dir=built, settings=settings.replace(chunk_size=200), embedder=embedder)
    assert str(corpus / "apples.txt") not in sources(built)
    assert str(corpus / "apples.txt") in report.removed


def test_remove_documents(built, corpus, settings, embedder):
    target = str(corpus / "rockets.md")
    embedder.texts_embedded = 0
    report = remove_documents([target], index_dir=built, settings=settings, embedder=embedder)
    assert report.removed == (target,)
    assert embedder.texts_embedded == 0
    assert target not in chunk_sources(built) and target not in sources(built)
    assert len(sources(built)) == 2

    report = remove_documents("never-indexed.txt", index_dir=built, settings=settings, embedder=embedder)
    assert report.failed == (("never-indexed.txt", "not in the index"),) and not report.changed
    # removed twice: says it was removed before (it had said only "not in the index", while
    # `index info` lists it as removed on request)
    report = remove_documents([target], index_dir=built, settings=settings, embedder=embedder)
    assert report.failed == ((target, "not in the index: it was removed before"),)

    with pytest.raises(ValueError, match="at least one"):
        remove_documents([], index_dir=built, settings=settings, embedder=embedder)
    with pytest.raises(ValueError, match="at least one"):
        add_documents([], index_dir=built, settings=settings, embedder=embedder)


def test_remove_by_another_spelling(corpus, tmp_path, settings, embedder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    add_documents(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder)
    report = remove_documents([str(tmp_path / "corpus" / "taxes.txt")], index_dir=index_dir, settings=settings, embedder=embedder)
    assert report.removed == ("corpus/taxes.txt",)
    assert sources(index_dir) == ["corpus/apples.txt", "corpus/rockets.md"]


def test_removing_everything_leaves_a_loadable_empty_index(built, corpus, settings, embedder):
    remove_documents([str(corpus / n) for n in TOPICS], index_dir=built, settings=settings, embedder=embedder)
    assert Index.load(built).chunks == []
    assert retrieve("apples", index_dir=built, embedder=embedder, settings=settings) == []


def test_file_over_the_size_limit_is_refused(corpus, tmp_path, settings, embedder):
    report = add_documents([corpus], index_dir=tmp_path / "index",
                           settings=settings.replace(max_file_mb=0.0001), embedder=embedder)
    failed = dict(report.failed)
    assert str(corpus / "apples.txt") in failed and "too large" in failed[str(corpus / "apples.txt")]


def test_nothing_to_index_writes_nothing(tmp_path, settings, embedder):
    folder = tmp_path / "only-junk"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"\x00")
    report = add_documents([folder], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    assert report.chunks == 0 and not report.changed and report.skipped
    assert not (tmp_path / "index" / CURRENT).exists()


def test_old_generations_are_garbage_collected(built, corpus, settings, embedder):
    for i in range(4):
        (corpus / "apples.txt").write_text(TOPICS["apples.txt"] + f" Version {i}.", "utf-8")
        add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)
    generations = {p.name for p in built.glob("gen-*")}
    live = json.loads((_live(built) / MANIFEST).read_text())
    needed = {_live(built).name} | {seg["dir"] for seg in live.get("segments", ())}
    # what the live generation reads, plus one predecessor (and its segments) for readers still on it
    assert needed <= generations and len(generations - needed) <= 1 + len(needed)
    assert not list(built.glob(".tmp-*")) and not (built / (CURRENT + ".tmp")).exists()
    rebuild_index([corpus], index_dir=built, settings=settings.replace(chunk_size=250), embedder=embedder)
    rebuild_index([corpus], index_dir=built, settings=settings.replace(chunk_size=250), embedder=embedder)
    (corpus / "apples.txt").write_text(TOPICS["apples.txt"] + " Compacted.", "utf-8")
    add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)  # a recipe change: one segment
    assert len(list(built.glob("gen-*"))) == 2


def test_gc_keeps_the_generation_that_was_live_before_the_switch(built, corpus, settings, embedder, monkeypatch):
    import datetime as real_dt
    import types

    import assistant.store.index as ix

    class FrozenDatetime(real_dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return real_dt.datetime(2030, 1, 1, 12, 0, 0, tzinfo=tz)

    tokens = iter(["ffffffff", "eeeeeeee", "dddddddd"])  # random tokens that happen to sort backwards
    monkeypatch.setattr(ix, "_dt", types.SimpleNamespace(datetime=FrozenDatetime, timezone=real_dt.timezone))
    monkeypatch.setattr(ix, "secrets", types.SimpleNamespace(token_hex=lambda n: next(tokens)))
    live_before = None
    for i in range(3):
        live_before = _live(built).name
        (corpus / "apples.txt").write_text(TOPICS["apples.txt"] + f" Version {i}.", "utf-8")
        add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert _live(built).name.endswith("dddddddd")
    assert (built / live_before).is_dir(), f"{live_before} (live until the last save) was deleted"


# --- writers ---------------------------------------------------------------------------------


def test_concurrent_writers_are_serialised(tmp_path, settings):
    folder = tmp_path / "many"
    paths = write_corpus(folder, {f"doc{i}.txt": f"Document {i} is about subject{i}. It has facts." for i in range(6)})
    index_dir = tmp_path / "index"
    errors = []

    def worker(path):
        try:
            add_documents([path], index_dir=index_dir, settings=settings, embedder=HashEmbedder(delay=0.05))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sources(index_dir) == sorted(str(p) for p in paths)
    assert len(Index.load(index_dir).chunks) == len(paths)


def test_a_rebuild_that_waited_for_another_writer_rebuilds_what_that_writer_added(tmp_path, settings, embedder):
    """A rebuild given no path reads the index's folders once it holds the lock: read before the
    wait, it pruned every document the writer it waited for had just added (found by an audit)."""
    first = write_corpus(tmp_path / "first", {"a.txt": "Alpha is the first subject. It has facts."})
    second = write_corpus(tmp_path / "second", {"b.txt": "Beta is the second subject. It has facts."})
    index_dir = tmp_path / "index"
    add_documents([tmp_path / "first"], index_dir=index_dir, settings=settings, embedder=embedder)
    added = []
    writer = threading.Thread(target=lambda: added.append(add_documents(
        [tmp_path / "second"], index_dir=index_dir, settings=settings, embedder=HashEmbedder(delay=1.0))))
    writer.start()
    deadline = time.monotonic() + 30
    while not (index_dir / ".lock.owner").exists() and time.monotonic() < deadline:  # the writer holds the lock
        time.sleep(0.01)
    report = rebuild_index(None, index_dir, settings=settings, embedder=embedder)
    writer.join(timeout=60)
    assert added and list(added[0].added) == [str(p) for p in second]
    assert not report.removed
    assert sources(index_dir) == sorted(str(p) for p in first + second)


def test_a_file_saved_between_its_hash_and_its_read_is_stored_with_the_hash_of_the_text_read(tmp_path, settings, embedder, monkeypatch):
    """The hash stored is that of the text indexed: a file saved again right after it was hashed
    had been stored with the old hash beside the new text, and never read again (an audit)."""
    from assistant.ingest import indexing

    paths = write_corpus(tmp_path / "docs", {"gate.txt": "The gate code is 4411."})
    index_dir = tmp_path / "index"
    real_hash, saves = indexing.file_sha256, ["The gate code is 9999."]

    def hash_then_save(path):
        digest = real_hash(path)
        if saves:
            Path(path).write_text(saves.pop(), encoding="utf-8")  # another program saves the file now
        return digest

    monkeypatch.setattr(indexing, "file_sha256", hash_then_save)
    add_documents([tmp_path / "docs"], index_dir=index_dir, settings=settings, embedder=embedder)
    stored = {f.source: f.sha256 for f in Index.load(index_dir).manifest.files}
    assert stored[str(paths[0])] == hashlib.sha256(paths[0].read_bytes()).hexdigest()
    assert "9999" in Index.load(index_dir).chunks[0].text

    # a file that changes at every read is reported and its version indexed before is kept
    def always_saving(path):
        digest = real_hash(path)
        Path(path).write_text(f"The gate code is {time.monotonic_ns()}.", encoding="utf-8")
        return digest

    monkeypatch.setattr(indexing, "file_sha256", always_saving)
    paths[0].write_text("The gate code is 1234.", encoding="utf-8")
    report = add_documents([tmp_path / "docs"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert [why.split(";")[0] for _, why in report.failed] == ["kept changing while it was read (3 reads)"]
    assert "its version indexed before is kept" in report.failed[0][1] and "9999" in Index.load(index_dir).chunks[0].text


# --- crash safety ---------------------------------------------------------------------------

CHILD = r"""
import os, sys, time
from pathlib import Path

import faiss

import assistant.store.index as ix
from assistant.config import Settings
from assistant.ingest.indexing import add_documents, rebuild_index
from tests.fakes import HashEmbedder

corpus, index_dir, target, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
mode = sys.argv[5]
count = 0


def mark(name):
    # Announce a step, then wait: for as long as it takes to be killed at the target step.
    global count
    count += 1
    sys.stdout.write(f"{count} {name}\n")
    sys.stdout.flush()
    time.sleep(600 if count == target else pause)


def slow_write(path, data):
    with open(path, "wb") as handle:
        half = len(data) // 2
        handle.write(data[:half])
        handle.flush()
        mark("half-written " + Path(path).name)
        handle.write(data[half:])
        handle.flush()
        os.fsync(handle.fileno())
    mark("written " + Path(path).name)


ix._write = slow_write
real_write_index = faiss.write_index


def write_index(index, path):
    mark("writing vectors")
    real_write_index(index, path)
    mark("written vectors")


faiss.write_index = write_index
for name in ("rename", "replace"):
    def wrapped(src, dst, _real=getattr(os, name), _name=name):
        target_name = "generation" if Path(dst).name.startswith("gen-") else Path(dst).name
        mark(f"before {_name} {target_name}")
        _real(src, dst)
        mark(f"after {_name} {target_name}")
    setattr(os, name, wrapped)
real_gc = ix._collect_garbage


def gc(root, keep):
    mark("collecting garbage")
    real_gc(root, keep)


ix._collect_garbage = gc


class SlowEmbedder(HashEmbedder):
    def embed(self, texts, progress=None, threads=None):
        mark("embedding")
        return super().embed(texts, progress, threads)


mark("ready")
write = rebuild_index if mode == "rebuild" else add_documents
report = write([corpus], index_dir=index_dir, settings=Settings.from_env(chunk_size=300, chunk_overlap=60),
               embedder=SlowEmbedder(delay=pause))
mark("done")
"""


def _new_corpus_text(i: int) -> str:
    return " ".join(f"Document {i} sentence {j} discusses topic{(i * j) % 23} and item{i % 7}." for j in range(10))


def _run_child(corpus: Path, index_dir: Path, target: int, pause: float, kill_after: float | None,
               log: Path, mode: str = "rebuild") -> tuple[list[str], float]:
    """Run CHILD and SIGKILL it at step `target`, or `kill_after` seconds after it is ready
    (neither: let it finish). Returns the steps it announced before dying, and the seconds
    from "ready" to its end."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "ASSISTANT_INDEX_DIR": str(index_dir)}
    lines: list[str] = []
    ready_at = time.monotonic()
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(corpus), str(index_dir), str(target), str(pause), mode],
            cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=err, text=True,
        )
        watchdog = threading.Timer(120, proc.kill)  # a hung child fails the test, not the suite
        watchdog.start()
        try:
            while True:
                line = proc.stdout.readline()
                if not line:
                    break
                lines.append(line.split(" ", 1)[1].strip())
                if lines[-1] == "ready":
                    ready_at = time.monotonic()
                    if kill_after is not None:
                        time.sleep(kill_after)
                        break
                if len(lines) == target:
                    break
        finally:
            watchdog.cancel()
            proc.kill()  # SIGKILL: no cleanup handlers run
            proc.wait(timeout=30)
            lines += [line.split(" ", 1)[1].strip() for line in proc.stdout.read().splitlines()]
            proc.stdout.close()
    return lines, time.monotonic() - ready_at


@pytest.mark.parametrize("mode", ["rebuild", "add"])
def test_rebuild_killed_at_any_moment_leaves_a_working_index(tmp_path, settings, mode):
    """`rebuild`: most files changed, some removed, many added. `add`: only new files, written as
    one more segment beside the untouched old one. Killed anywhere, either way."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, {f"f{i:03d}.txt": f"Old document {i} about topic{i % 5}. It is short." for i in range(20)})
    pristine = tmp_path / "pristine"
    rebuild_index([corpus], index_dir=pristine, settings=settings, embedder=HashEmbedder())
    queries = ["topic3 item2 discusses", "old document short", "sentence 4 topic11"]
    old = snapshot(Index.load(pristine), settings, queries)
    if mode == "rebuild":  # the new corpus: most files changed, some removed, many added (195 files)
        for i in range(0, 20, 4):
            (corpus / f"f{i:03d}.txt").unlink()
        write_corpus(corpus, {f"f{i:03d}.txt": _new_corpus_text(i) for i in range(1, 200) if i % 4 or i >= 20})
    else:  # 180 files added to the 20
        write_corpus(corpus, {f"f{i:03d}.txt": _new_corpus_text(i) for i in range(20, 200)})

    # One slowed-down run to completion gives the expected new index, the list of steps and
    # how long a rebuild takes.
    complete = tmp_path / "complete"
    shutil.copytree(pristine, complete)
    steps, duration = _run_child(corpus, complete, target=0, pause=0.03, kill_after=None, log=tmp_path / "complete.log",
                                 mode=mode)
    assert steps[-1] == "done", (tmp_path / "complete.log").read_text()
    new = snapshot(Index.load(complete), settings, queries)
    assert new != old
    assert len(Index.load(complete).manifest.files) == (195 if mode == "rebuild" else 200)
    if mode == "add":
        assert len(Index.load(complete).manifest.segments) == 2  # the old files untouched, one new segment
    assert any(s.startswith("half-written") for s in steps)
    # White-box: with today's save (CURRENT.tmp + os.replace) the first step that must find the
    # new index live is the one right after the replace.
    switch = steps.index("after replace CURRENT") + 1 if "after replace CURRENT" in steps else None

    outcomes = []
    leftovers = tmp_path / "leftovers"  # repeated crashes in one directory before the switch
    shutil.copytree(pristine, leftovers)
    # Every step (the child waits at its target step until killed) ...
    kills = [("step", n, None) for n in range(1, len(steps))]
    # ... and kills at times spread over a slowed-down run, landing wherever they land.
    kills += [("time", 0, round(duration * share, 3)) for share in (0.1, 0.3, 0.5, 0.7, 0.85, 0.95)]
    for kind, target, delay in kills:
        if kind == "step" and switch and target < switch:
            index_dir = leftovers
        else:
            index_dir = tmp_path / f"killed-{kind}-{target}-{delay}"
            shutil.copytree(pristine, index_dir)
        log = tmp_path / f"child-{kind}-{target}-{delay}.log"
        pause = 0.0 if kind == "step" else 0.03
        lines, _ = _run_child(corpus, index_dir, target=target, pause=pause, kill_after=delay, log=log, mode=mode)
        assert lines and lines[0] == "ready", log.read_text()
        assert set(lines) <= set(steps), lines
        if kind == "step":
            assert lines == steps[:target], (lines, steps)
        index = Index.load(index_dir)  # never raises: the old or the new index is live
        result = snapshot(index, settings, queries)
        assert result in (old, new), (kind, target, delay, lines[-1])
        outcome = "new" if result == new else "old"
        outcomes.append((kind, lines[-1], outcome))
        # Before CURRENT is replaced the old index is live; from then on, the new one. (A timed
        # kill may land between the replace and its announcement.)
        if switch and (kind == "step" or len(lines) != switch - 1):
            assert outcome == ("new" if len(lines) >= switch else "old"), outcomes[-1]

    assert {o for _, _, o in outcomes} == {"old", "new"}
    by_step = [o for kind, _, o in outcomes if kind == "step"]
    assert by_step == sorted(by_step, key=lambda o: o == "new"), "old, then new, never back"
    if switch is None:
        return
    # The repeated crashes left temporaries behind; a later successful save removes them.
    assert list(leftovers.glob(".tmp-*"))
    report = rebuild_index([corpus], index_dir=leftovers, settings=settings, embedder=HashEmbedder())
    assert report.changed
    assert snapshot(Index.load(leftovers), settings, queries) == new
    assert not list(leftovers.glob(".tmp-*"))
    assert not (leftovers / (CURRENT + ".tmp")).exists()
    assert len(list(leftovers.glob("gen-*"))) <= 2


def test_recipe_change_keeps_added_dates_and_roots(built, corpus, settings, embedder):
    before = {f.source: f.added for f in Index.load(built).manifest.files}
    roots = Index.load(built).manifest.roots
    time.sleep(1.1)  # dates have one-second resolution
    add_documents([corpus / "apples.txt"], index_dir=built, settings=settings.replace(chunk_size=150, chunk_overlap=30), embedder=embedder)
    manifest = Index.load(built).manifest
    assert {f.source: f.added for f in manifest.files} == before
    assert all(f.updated > f.added for f in manifest.files)
    assert manifest.roots[: len(roots)] == roots


def test_rebuild_with_paths_records_exactly_those_roots(built, corpus, tmp_path, settings, embedder):
    other = tmp_path / "other"
    write_corpus(other, {"notes.md": "# Notes\n\nThe meeting moved to Friday."})
    rebuild_index([other], index_dir=built, settings=settings, embedder=embedder)
    assert Index.load(built).manifest.roots == (str(other),)
    assert sources(built) == [str(other / "notes.md")]


def test_a_rebuild_records_its_paths_even_when_no_document_changed(corpus, tmp_path, settings, embedder):
    # the folder was not recorded ("0 added … 1 unchanged"), so a later rebuild missed its new files
    index_dir = tmp_path / "index"
    add_documents([corpus / "apples.txt"], index_dir=index_dir, settings=settings, embedder=embedder)
    report = rebuild_index([corpus / "apples.txt", corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    assert Index.load(index_dir).manifest.roots == (str(corpus / "apples.txt"), str(corpus))
    report = rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    assert not (report.added or report.removed) and Index.load(index_dir).manifest.roots == (str(corpus),)
    write_corpus(corpus, {"emu.md": "# Emu\n\nThe emu runs at 50 km/h."})
    assert rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder).added == (str(corpus / "emu.md"),)
    state = dir_state(index_dir)
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)  # nothing new: nothing written
    assert dir_state(index_dir) == state


def test_a_document_moved_or_renamed_is_dropped_from_its_old_path_when_its_new_one_is_added(built, corpus, tmp_path, settings, embedder):
    # the index had gone on citing the old path, which no longer exists, over the live copy
    (corpus / "apples.txt").rename(corpus / "fruit.txt")
    report = add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert report.added == (str(corpus / "fruit.txt"),) and report.removed == (str(corpus / "apples.txt"),)
    assert str(corpus / "apples.txt") not in sources(built)
    moved = tmp_path / "moved"
    corpus.rename(moved)  # a folder moved: adding its new place drops the old paths of what it holds
    report = add_documents([moved], index_dir=built, settings=settings, embedder=embedder)
    assert set(report.removed) == {s for s in report.removed if s.startswith(str(corpus))} and len(report.removed) == len(report.added)
    assert all(s.startswith(str(moved)) for s in sources(built))
    # the folder once recorded is dropped from the roots once it is gone and holds nothing indexed
    assert not rebuild_index(index_dir=built, settings=settings, embedder=embedder).failed
    assert Index.load(built).manifest.roots == (str(moved),)


def test_a_relative_source_not_found_from_another_working_folder_is_not_dropped_as_moved(corpus, tmp_path, settings, embedder, monkeypatch):
    # recorded as "corpus/apples.txt" from one folder, it was "gone" from another, and a copy added
    # there dropped it
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    add_documents(["corpus"], index_dir=index_dir, settings=settings, embedder=embedder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(corpus / "apples.txt", elsewhere / "copy.txt")
    monkeypatch.chdir(elsewhere)
    with pytest.raises(IndexProblem, match=f"names its documents relative to {tmp_path}"):  # (changes refused from here)
        add_documents([elsewhere / "copy.txt"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert os.path.join("corpus", "apples.txt") in sources(index_dir)
    monkeypatch.chdir(tmp_path)  # from where it was named: the copy is added, the original kept
    report = add_documents([elsewhere / "copy.txt"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert not report.removed and os.path.join("corpus", "apples.txt") in sources(index_dir)


def test_a_same_named_folder_in_another_working_folder_never_replaces_the_indexed_one(tmp_path, settings, embedder, monkeypatch):
    # "index add docs" from a second project had replaced the first project's docs/a.txt (and a
    # rebuild there, the whole folder): the index now knows where its relative paths are named from
    first, second = tmp_path / "first", tmp_path / "second"
    write_corpus(first / "docs", {"a.txt": "Apples grow in the valley.", "b.txt": "Pears grow on the hill."})
    write_corpus(second / "docs", {"a.txt": "Boats race round the island."})
    index_dir = tmp_path / "index"
    monkeypatch.chdir(first)
    add_documents(["docs"], index_dir=index_dir, settings=settings, embedder=embedder)
    before = Index.load(index_dir).chunks
    monkeypatch.chdir(second)
    for change in (lambda: add_documents(["docs"], index_dir=index_dir, settings=settings, embedder=embedder),
                   lambda: add_documents([second / "docs"], index_dir=index_dir, settings=settings, embedder=embedder),
                   lambda: rebuild_index(index_dir=index_dir, settings=settings, embedder=embedder)):
        with pytest.raises(IndexProblem, match=f"names its documents relative to {first}, not to this folder"):
            change()
        assert Index.load(index_dir).chunks == before
    # the folder moved (a project renamed): its relative paths are read from where it is now
    monkeypatch.chdir(tmp_path)
    first.rename(tmp_path / "first-moved")
    monkeypatch.chdir(tmp_path / "first-moved")
    assert add_documents(["docs"], index_dir=index_dir, settings=settings, embedder=embedder).unchanged == (
        "docs/a.txt", "docs/b.txt")
    (tmp_path / "first-moved" / "docs" / "b.txt").write_text("Pears grow on the hill in May.", "utf-8")
    assert add_documents(["docs"], index_dir=index_dir, settings=settings, embedder=embedder).updated == ("docs/b.txt",)
    assert Index.load(index_dir).manifest.base == str(tmp_path / "first-moved")  # saved with where it is now
    # an index of absolute paths only records no such folder: usable from anywhere
    absolute = tmp_path / "absolute-index"
    add_documents([tmp_path / "first-moved" / "docs"], index_dir=absolute, settings=settings, embedder=embedder)
    assert Index.load(absolute).manifest.base == ""
    assert add_documents([second / "docs"], index_dir=absolute, settings=settings, embedder=embedder).added == (
        str(second / "docs" / "a.txt"),)


def test_relative_paths_named_from_the_project_folder_record_no_folder_and_lock_no_one_out(tmp_path, settings, embedder, monkeypatch):
    # the shipped index's "documents" are the project's: an index made there records no base, and a
    # command from elsewhere had stamped its own folder on it, refusing the project's folder after
    import assistant.config

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    write_corpus(project / "documents", {"a.txt": "Apples grow in the valley."})
    write_corpus(elsewhere / "notes", {"n.txt": "Boats race round the island."})
    monkeypatch.setattr(assistant.config, "PROJECT_DIR", project)
    index_dir = tmp_path / "index"
    monkeypatch.chdir(project)
    add_documents(["documents"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert Index.load(index_dir).manifest.base == ""
    monkeypatch.chdir(elsewhere)
    add_documents(["notes"], index_dir=index_dir, settings=settings, embedder=embedder)
    assert Index.load(index_dir).manifest.base == ""  # not stamped with this folder
    monkeypatch.chdir(project)
    assert add_documents(["documents"], index_dir=index_dir, settings=settings, embedder=embedder).unchanged == ("documents/a.txt",)


def test_a_relative_source_renamed_in_its_folder_is_dropped_when_its_new_name_is_added(corpus, tmp_path, settings, embedder, monkeypatch):
    # added as "corpus/apples.txt" and renamed beside itself: its folder is found from here without
    # it, so it is gone (it had stayed indexed, and citable, under the name no file has)
    monkeypatch.chdir(tmp_path)
    index_dir = tmp_path / "index"
    add_documents([os.path.join("corpus", "apples.txt")], index_dir=index_dir, settings=settings, embedder=embedder)
    (corpus / "apples.txt").rename(corpus / "fruit.txt")
    report = add_documents([os.path.join("corpus", "fruit.txt")], index_dir=index_dir, settings=settings, embedder=embedder)
    assert report.removed == (os.path.join("corpus", "apples.txt"),)
    assert sources(index_dir) == [os.path.join("corpus", "fruit.txt")]


def test_a_file_name_that_is_not_utf8_fails_alone(corpus, tmp_path, settings, embedder, capsys):
    from assistant.interfaces import cli

    odd = os.fsdecode(os.fsencode(str(corpus)) + b"/caf\xe9.txt")
    with open(odd, "w", encoding="utf-8") as handle:
        handle.write("The cafe sells croissants.")
    index_dir = tmp_path / "index"
    report = add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    assert dict(report.failed) == {f"{corpus}/caf\\xe9.txt": BAD_NAME}  # the whole call had failed
    assert len(report.added) == len(TOPICS)
    assert cli.main(["--index", str(index_dir), "index", "add", odd]) == 1
    assert f"failed: {corpus}/caf\\xe9.txt: {BAD_NAME}" in capsys.readouterr().err


def test_an_index_is_not_written_into_a_folder_of_other_files(corpus, settings, embedder):
    with pytest.raises(IndexProblem, match=r"holds other files \(apples\.txt, .*\), not an index"):
        add_documents([corpus], index_dir=corpus, settings=settings, embedder=embedder)
    assert sorted(p.name for p in corpus.iterdir()) == sorted(TOPICS)


def test_a_folder_named_twice_is_read_once_and_not_called_empty(corpus, tmp_path, settings, embedder):
    # "index add docs docs/" had said "skipped: docs/: a folder with no documents in it"
    report = add_documents([corpus, str(corpus) + "/", corpus / "apples.txt"], index_dir=tmp_path / "index", settings=settings,
                           embedder=embedder)
    assert len(report.added) == len(TOPICS) and not report.skipped and not report.failed


def test_reading_a_folder_of_other_files_as_an_index_says_it_is_none(corpus, capsys):
    # it had said "no index yet; run `… index rebuild`", which the writer then refuses for that folder
    from assistant.interfaces import cli

    with pytest.raises(IndexProblem, match=r"not an index: it holds other files \(apples\.txt, .*\); give a new or empty folder"):
        Index.load(corpus)
    assert cli.main(["--index", str(corpus), "ask", "What do apples taste like?"]) == 1
    err = capsys.readouterr().err
    assert "not an index" in err and "rebuild" not in err and len(err.strip().splitlines()) == 1


def test_remove_prints_its_report_as_json(built, corpus, capsys):
    from assistant.interfaces import cli

    assert cli.main(["--index", str(built), "index", "remove", str(corpus / "apples.txt"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == [str(corpus / "apples.txt")]


def test_an_unsupported_file_named_and_in_a_folder_is_reported_once(corpus, tmp_path, settings, embedder):
    (corpus / "notes.rst").write_text("Notes", "utf-8")
    report = add_documents([corpus / "notes.rst", corpus], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    assert [f[0] for f in report.failed] == [str(corpus / "notes.rst")]
    assert str(corpus / "notes.rst") not in [s[0] for s in report.skipped]


def test_a_changed_chunker_rechunks_unchanged_files(built, corpus, settings, embedder, monkeypatch):
    import assistant.ingest.indexing as indexing

    monkeypatch.setattr(indexing, "CHUNKER_VERSION", indexing.CHUNKER_VERSION + 1)
    report = add_documents([corpus], index_dir=built, settings=settings, embedder=embedder)
    assert sorted(report.updated) == sorted(str(corpus / n) for n in TOPICS) and not report.unchanged
    assert Index.load(built).manifest.chunker_version == indexing.CHUNKER_VERSION


def test_the_default_index_starts_as_a_copy_of_the_shipped_one_in_an_ignored_folder(tmp_path, monkeypatch):
    import assistant.config as config
    from assistant.store.index import seed_default

    root = Path(__file__).resolve().parent.parent
    for default in (config.DEFAULT_INDEX_DIR, config.DEFAULT_UPLOADS_DIR):
        ignored = subprocess.run(["git", "check-ignore", "-q", str(default / "x")], cwd=root)
        assert ignored.returncode == 0, f"{default} is not ignored by git"
    defaults = Settings()
    assert (defaults.index_dir, defaults.corpus_dir) == (str(config.DEFAULT_INDEX_DIR), str(config.DEFAULT_UPLOADS_DIR))

    shipped_before = {p: p.read_bytes() for p in config.SHIPPED_INDEX_DIR.rglob("*") if p.is_file() and not p.name.startswith(".lock")}
    target = tmp_path / "var" / "index"
    monkeypatch.setattr(config, "DEFAULT_INDEX_DIR", target)
    index = Index.load(target)  # seeds, then loads
    shipped = Index.load(config.SHIPPED_INDEX_DIR)
    assert index.chunks == shipped.chunks and index.manifest.files == shipped.manifest.files
    assert seed_default(target) is False  # once only
    (target / "CURRENT").unlink()  # as if a seed had stopped between its two renames
    assert seed_default(target) is True and Index.load(target).chunks == shipped.chunks
    assert not seed_default(tmp_path / "elsewhere") and not (tmp_path / "elsewhere").exists()
    assert {p: p.read_bytes() for p in shipped_before} == shipped_before  # the shipped index untouched


def test_the_default_index_s_recorded_folders_are_found_from_another_working_folder(tmp_path, monkeypatch):
    # the shipped index records "documents" as the project names it: the app started from another
    # folder had failed to rebuild ("documents: no such file or directory; nothing was rebuilt")
    import assistant.config as config
    from assistant.ingest.indexing import rebuild_roots

    target = tmp_path / "var" / "index"
    monkeypatch.setattr(config, "DEFAULT_INDEX_DIR", target)
    assert Index.load(target).manifest.roots == ("documents",)  # (seeded from the shipped index)
    monkeypatch.chdir(tmp_path)
    assert rebuild_roots(target, Settings(index_dir=str(target))) == [str(config.PROJECT_DIR / "documents")]
    (tmp_path / "documents").mkdir()  # one found from here is that one, as given
    assert rebuild_roots(target, Settings(index_dir=str(target))) == ["documents"]


def test_a_rebuild_of_the_default_index_takes_the_shipped_documents_and_the_uploads(tmp_path, monkeypatch):
    import assistant.config as config
    from assistant.ingest.indexing import default_roots

    uploads = tmp_path / "var" / "documents"
    monkeypatch.setattr(config, "DEFAULT_UPLOADS_DIR", uploads)
    settings = Settings(corpus_dir=str(uploads))
    assert default_roots(settings) == [str(config.SHIPPED_DOCUMENTS_DIR)]
    uploads.mkdir(parents=True)
    assert default_roots(settings) == [str(config.SHIPPED_DOCUMENTS_DIR), str(uploads)]
    assert default_roots(Settings(corpus_dir=str(tmp_path / "mine"))) == [str(tmp_path / "mine")]


# --- the index type chosen by size ----------------------------------------------------------------


def test_beyond_the_exact_limit_the_vectors_are_quantised_and_an_add_keeps_the_training(corpus, tmp_path, embedder):
    import faiss

    settings = Settings.from_env(chunk_size=300, chunk_overlap=60, exact_max_sentences=10)
    index_dir = tmp_path / "index"
    exact_dir = tmp_path / "exact"
    rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    rebuild_index([corpus], index_dir=exact_dir, settings=settings.replace(exact_max_sentences=10_000), embedder=embedder)
    index, exact = Index.load(index_dir), Index.load(exact_dir)
    n = len(index.keys)
    assert n > 10 and index.manifest.vector_index["type"] == "IVF,SQ8" and index.manifest.vector_index["trained_on"] == n
    assert index.manifest.format_version == 2 and exact.manifest.format_version == 1 and not exact.manifest.vector_index
    assert isinstance(faiss.read_index(str(_live(index_dir) / VECTORS)), faiss.IndexIVFScalarQuantizer)
    # one byte per dimension (plus ids and the coarse centroids), against four for float32
    assert (_live(index_dir) / VECTORS).stat().st_size < (_live(exact_dir) / VECTORS).stat().st_size / 2
    decoded = index.sentence_vectors(range(n))
    assert ((decoded * exact.vectors).sum(axis=1) > 0.99).all()
    # the corpus is small enough for every list to be probed: the ranking is the exact one
    assert [[h[0] for h in r[:1]] for r in snapshot(index, settings)] == [[h[0] for h in r[:1]] for r in snapshot(exact, settings)]

    extra = corpus / "whales.txt"
    extra.write_text("Blue whales sing at low frequencies. Whale song travels far under water.", "utf-8")
    add_documents([extra], index_dir=index_dir, settings=settings, embedder=embedder)
    grown = Index.load(index_dir)
    assert grown.manifest.vector_index["trained_on"] == n  # the training was reused, not repeated
    assert retrieve("whale song", index_dir=index_dir, settings=settings, embedder=embedder, k=1)[0].source == str(extra)

    remove_documents([str(corpus / n) for n in TOPICS], index_dir=index_dir, settings=settings, embedder=embedder)
    small = Index.load(index_dir)
    assert len(small.keys) <= 10 and not small.manifest.vector_index and small.manifest.format_version == 1


# --- adds that cost what they add: segments ---------------------------------------------------------


def _files_state(index_dir: Path) -> dict:
    return {p.relative_to(index_dir).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in index_dir.glob("gen-*/*") if p.name != MANIFEST}


def test_an_add_writes_only_the_new_documents_and_reads_back_as_a_full_rewrite_would(built, corpus, tmp_path, settings, embedder):
    before = _files_state(built)
    big = {f"extra{i}.txt": " ".join(f"Sentence {j} of extra document {i} about topic{i}." for j in range(40)) for i in range(3)}
    extra = write_corpus(tmp_path / "more", big)
    add_documents(extra, index_dir=built, settings=settings, embedder=embedder)
    live = _live(built)
    manifest = json.loads((live / MANIFEST).read_text())
    assert manifest["format_version"] == 2 and len(manifest["segments"]) == 2
    # the files already written are untouched; the new generation holds only the new documents
    assert {k: v for k, v in _files_state(built).items() if k in before} == before
    assert {json.loads(line)["source"] for line in (live / CHUNKS).read_text().splitlines()} == {str(p) for p in extra}
    # and what loads is what a full rewrite of the same files gives
    full = tmp_path / "full"
    rebuild_index([corpus, *extra], index_dir=full, settings=settings, embedder=embedder)
    segmented, rewritten = Index.load(built), Index.load(full)
    assert sorted(c.id for c in segmented.chunks) == sorted(c.id for c in rewritten.chunks)
    queries = QUERIES + ["topic1 extra document", "Sentence 7 of extra document 2"]
    assert _ranked(segmented, settings, queries) == _ranked(rewritten, settings, queries)


def _ranked(index: Index, settings: Settings, queries) -> list:
    """The scored hits of each query, as a set: chunks tied at score 0 fill the last places in
    chunk order, which differs between a segmented index and a rewrite in file order."""
    return [sorted((h[0], round(h[5], 5)) for h in hits if h[5] > 0) for hits in snapshot(index, settings, queries)]


def test_removals_and_updates_mark_old_segments_and_compaction_folds_them(built, corpus, tmp_path, settings, embedder):
    extra = write_corpus(tmp_path / "more", {"bees.txt": "Bees make honey. Hives hold one queen.",
                                             "owls.txt": "Owls hunt at night. Barn owls nest in barns."})
    add_documents(extra, index_dir=built, settings=settings, embedder=embedder)
    remove_documents([str(extra[0])], index_dir=built, settings=settings, embedder=embedder)
    manifest = json.loads((_live(built) / MANIFEST).read_text())
    assert all(str(extra[0]) in seg["dropped"] for seg in manifest["segments"][:-1])
    assert (_live(built) / CHUNKS).read_text() == ""  # a removal writes no chunk
    loaded = Index.load(built)
    assert str(extra[0]) not in {c.source for c in loaded.chunks} and str(extra[1]) in {c.source for c in loaded.chunks}
    assert len(loaded.keys) == len(loaded.vectors)
    for i in range(10):  # updates drop the old version each time: compaction folds the segments back
        (corpus / "taxes.txt").write_text(TOPICS["taxes.txt"] + f" Revision {i}.", "utf-8")
        add_documents([corpus / "taxes.txt"], index_dir=built, settings=settings, embedder=embedder)
        manifest = json.loads((_live(built) / MANIFEST).read_text())
        assert len(manifest.get("segments", ())) <= 8
    final = Index.load(built)
    assert "Revision 9." in " ".join(c.text for c in final.chunks if c.source == str(corpus / "taxes.txt"))
    assert "Revision 8." not in " ".join(c.text for c in final.chunks)
    full = tmp_path / "full"
    rebuild_index([corpus, extra[1]], index_dir=full, settings=settings, embedder=embedder)
    assert _ranked(final, settings, QUERIES) == _ranked(Index.load(full), settings, QUERIES)


def test_a_damaged_older_segment_is_reported_and_a_failed_append_leaves_the_index_as_it_was(built, corpus, tmp_path, settings, embedder, monkeypatch):
    extra = write_corpus(tmp_path / "more", {"bees.txt": "Bees make honey. Hives hold one queen."})
    add_documents(extra, index_dir=built, settings=settings, embedder=embedder)
    token = (built / CURRENT).read_text()
    more = write_corpus(tmp_path / "more2", {"owls.txt": "Owls hunt at night."})
    import assistant.store.index as ix

    monkeypatch.setattr(ix.os, "replace", _fail_replace)
    with pytest.raises(IndexProblem, match=r"cannot save the index \(disk full\); it is unchanged$"):
        add_documents(more, index_dir=built, settings=settings, embedder=embedder)
    monkeypatch.undo()
    assert (built / CURRENT).read_text() == token
    assert sorted({c.source for c in Index.load(built).chunks}) == sorted([*(str(corpus / n) for n in TOPICS), str(extra[0])])
    oldest = json.loads((_live(built) / MANIFEST).read_text())["segments"][0]["dir"]
    _flip_byte(built / oldest / VECTORS)
    with pytest.raises(IndexCorrupt, match=f"{oldest}.*checksum mismatch"):
        Index.load(built)


def _fail_replace(*args, **kwargs):
    raise OSError("disk full")


def test_adds_to_a_quantised_index_are_exact_segments_searched_with_it(corpus, tmp_path, embedder):
    """Past the exact limit an add still writes only itself: an exact segment after the
    approximate one; search merges both and skips what was dropped from the approximate one."""
    settings = Settings.from_env(chunk_size=300, chunk_overlap=60, exact_max_sentences=10)
    index_dir = tmp_path / "index"
    rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    first = _live(index_dir).name
    extra = write_corpus(tmp_path / "more", {"whales.txt": "Blue whales sing at low frequencies. Whale song travels far.",
                                             "bees.txt": "Bees make honey. A hive holds one queen."})
    add_documents(extra, index_dir=index_dir, settings=settings, embedder=embedder)
    remove_documents([str(corpus / "rockets.md")], index_dir=index_dir, settings=settings, embedder=embedder)
    manifest = json.loads((_live(index_dir) / MANIFEST).read_text())
    assert manifest["segments"][0]["dir"] == first and manifest["segments"][0]["vector_index"]["type"] == "IVF,SQ8"
    assert str(corpus / "rockets.md") in manifest["segments"][0]["dropped"]
    index = Index.load(index_dir)
    assert index._delta is not None and len(index.keys) == len(index.vectors)
    full = tmp_path / "full"
    rebuild_index([corpus / "apples.txt", corpus / "taxes.txt", *extra], index_dir=full,
                  settings=settings.replace(exact_max_sentences=10_000), embedder=embedder)
    exact = Index.load(full)
    assert sorted(c.id for c in index.chunks) == sorted(c.id for c in exact.chunks)
    queries = QUERIES + ["whale song", "bees honey queen"]
    got = [[h[0] for h in hits[:1]] for hits in snapshot(index, settings, queries)]
    assert got == [[h[0] for h in hits[:1]] for hits in snapshot(exact, settings, queries)]
    assert all(h.source != str(corpus / "rockets.md") for h in retrieve("rocket engine turbopump", index_dir=index_dir,
                                                                        settings=settings, embedder=embedder, k=10))
    decoded = index.sentence_vectors(range(len(index.keys)))
    by_key = dict(zip(exact.keys, exact.vectors))
    assert all(float(v @ by_key[k]) > 0.99 for k, v in zip(index.keys, decoded))


def test_exact_segments_beside_a_quantised_one_stay_small_or_are_folded_in(corpus, tmp_path, embedder):
    settings = Settings.from_env(chunk_size=300, chunk_overlap=60, exact_max_sentences=10)
    index_dir = tmp_path / "index"
    rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    trained = Index.load(index_dir).manifest.vector_index["trained_on"]
    small = write_corpus(tmp_path / "small", {"owls.txt": "Owls hunt at night. Barn owls nest in barns."})
    add_documents(small, index_dir=index_dir, settings=settings, embedder=embedder)
    assert len(Index.load(index_dir).manifest.segments) == 2 and Index.load(index_dir).exact_rows == 2
    big = write_corpus(tmp_path / "big", {"ants.txt": " ".join(f"Ant colony fact number {i} is here." for i in range(12))})
    add_documents(big, index_dir=index_dir, settings=settings, embedder=embedder)
    folded = Index.load(index_dir)  # 2 + 12 exact sentences would pass the limit of 10: one segment again
    assert not folded.manifest.segments and folded.exact_rows == 0 and folded.quantised
    assert folded.manifest.vector_index["trained_on"] == trained  # rewritten into the trained index
    hits = retrieve("ant colony fact", index_dir=index_dir, settings=settings, embedder=embedder, k=1)
    assert hits[0].source == str(big[0])


def test_text_with_unicode_line_separators_is_stored_and_read_back(tmp_path, settings, embedder):
    # JSON leaves U+2028, U+2029 and U+0085 unescaped; a reader splitting rows at them could not
    # load the index again (and rebuilding failed on it as well)
    docs = tmp_path / "docs"
    docs.mkdir()
    text = "The pump is rated for 40 bar.\u2028Its warranty lasts five years.\u2029Parts ship in a week.\u0085Service is free."
    (docs / "pump.txt").write_text(text, encoding="utf-8")
    rebuild_index([str(docs)], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    index = Index.load(tmp_path / "index")
    assert "".join(c.text for c in index.chunks).count("\u2028") == 1
    hit = retrieve("warranty years", index_dir=tmp_path / "index", settings=settings, embedder=embedder)[0]
    assert hit.text == text[hit.start : hit.end] and "\u2029" in hit.text
    add_documents([str(docs)], index_dir=tmp_path / "index", settings=settings, embedder=embedder)  # loads the saved index again


def test_an_unreadable_chunk_row_is_a_corrupt_index(built):
    root = built
    generation = (root / CURRENT).read_text().split()[0]
    rows = (root / generation / CHUNKS).read_bytes()
    manifest = json.loads((root / generation / MANIFEST).read_text())
    broken = rows.replace(b'"text"', b'"txet"', 1)
    (root / generation / CHUNKS).write_bytes(broken)
    manifest["checksums"][CHUNKS] = hashlib.sha256(broken).hexdigest()
    (root / generation / MANIFEST).write_text(json.dumps(manifest))
    (root / CURRENT).write_text(f"{generation} {hashlib.sha256((root / generation / MANIFEST).read_bytes()).hexdigest()}")
    with pytest.raises(IndexCorrupt, match="unreadable chunk"):
        Index.load(root)


def test_the_recorded_folders_are_read_from_an_index_of_another_format(built, corpus):
    from assistant.store.index import recorded_paths

    root = built
    generation = (root / CURRENT).read_text().split()[0]
    manifest = json.loads((root / generation / MANIFEST).read_text())
    manifest["format_version"] = 99
    (root / generation / MANIFEST).write_text(json.dumps(manifest))
    assert recorded_paths(root) == {}  # its checksum no longer matches: nothing is trusted
    (root / CURRENT).write_text(f"{generation} {hashlib.sha256((root / generation / MANIFEST).read_bytes()).hexdigest()}")
    with pytest.raises(IndexIncompatible):
        Index.load(root)
    assert recorded_paths(root) == {"roots": [str(corpus)]}  # ("excluded" is written only when there are some)


def test_errors_and_reports_naming_a_path_with_a_line_break_stay_on_one_line(tmp_path, settings, embedder, capsys):
    from assistant.interfaces import cli

    from assistant.ingest.indexing import one_line

    assert len(one_line("a\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i\u2028j\u2029k").splitlines()) == 1  # every break splitlines knows
    odd = tmp_path / "new\nline"
    assert cli.main(["--index", str(odd), "index", "info"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "new\\nline" in err and "no index yet" in err  # the reason is not cut off
    odd.mkdir()
    (odd / "a\rb.txt").write_text("", "utf-8")  # empty: fails to load, named in the summary
    summary = add_documents([odd], index_dir=tmp_path / "index", settings=settings, embedder=embedder).summary()
    assert summary.count("\n") == 1 and "new\\nline/a\\rb.txt: " in summary


def test_a_link_to_a_folder_inside_a_folder_is_named_as_not_followed(tmp_path, settings, embedder):
    from assistant.ingest.indexing import LINKED_FOLDER

    docs, elsewhere = _a_folder_and_one_elsewhere(tmp_path, "a.txt", "b.txt")
    (docs / "more").symlink_to(elsewhere, target_is_directory=True)
    report = add_documents([docs], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    assert report.added == (str(docs / "a.txt"),) and report.skipped == ((str(docs / "more"), LINKED_FOLDER),)
    named = add_documents([docs / "more"], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    assert named.added == (str(docs / "more" / "b.txt"),)  # named, it is followed


def test_a_rebuild_of_an_index_whose_current_file_is_damaged_reads_the_folders_its_newest_manifest_records(built, corpus, settings, embedder):
    # CURRENT damaged: the rebuild had indexed the default corpus (the shipped article and the
    # default uploads) into this store and collected the generation that still said what was there
    (built / CURRENT).write_text("gen-bogus abc", "utf-8")
    with pytest.raises(IndexCorrupt):
        Index.load(built)
    report = rebuild_index(index_dir=built, settings=settings, embedder=embedder)
    assert sorted(report.added) == sorted(str(corpus / n) for n in TOPICS)
    assert {f.source for f in Index.load(built).manifest.files} == {str(corpus / n) for n in TOPICS}


def test_a_rebuild_given_no_folder_never_fills_a_store_with_the_default_corpus(built, corpus, tmp_path, settings, embedder):
    from assistant.ingest.indexing import remove_documents

    # its manifest altered (not trusted): the store stays as it is, and the error asks for folders
    generation = (built / CURRENT).read_text().split()[0]
    manifest = json.loads((built / generation / MANIFEST).read_text())
    (built / generation / MANIFEST).write_text(json.dumps(manifest | {"format_version": 99}))
    with pytest.raises(IndexProblem) as err:
        rebuild_index(index_dir=built, settings=settings, embedder=embedder)
    message = str(err.value)
    assert "\n" not in message and "recorded folders cannot be read" in message and f"--index {built} index rebuild PATH" in message
    assert (built / generation).is_dir()
    # every document removed (each added by name): nothing recorded to rebuild from
    lone = tmp_path / "lone"
    one = write_corpus(tmp_path / "one", {"owls.txt": "Owls hunt at night."})[0]
    add_documents([one], index_dir=lone, settings=settings, embedder=embedder)
    remove_documents([str(one)], index_dir=lone, settings=settings, embedder=embedder)
    with pytest.raises(IndexProblem, match="records no folder"):
        rebuild_index(index_dir=lone, settings=settings, embedder=embedder)
    assert Index.load(lone).manifest.files == ()
    # no index there at all: a rebuild starts from the default corpus, as before
    from assistant.ingest.indexing import default_roots, rebuild_roots

    assert rebuild_roots(tmp_path / "new", settings) == default_roots(settings)


def test_the_cli_exits_1_when_any_path_fails_with_the_failures_on_stderr_and_the_rest_indexed(corpus, tmp_path, capsys):
    # one typo among several paths had exited 0 with its "failed:" line on stdout: a script could not tell
    from assistant.interfaces import cli

    index_dir = tmp_path / "cli-index"
    typo = tmp_path / "reprot.md"
    assert cli.main(["--index", str(index_dir), "index", "add", str(corpus / "apples.txt"), str(typo)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("1 added, 0 updated") and "failed:" not in out
    assert err.strip().splitlines()[-1] == f"failed: {typo}: no such file or directory"  # after the progress bar
    assert {f.source for f in Index.load(index_dir).manifest.files} == {str(corpus / "apples.txt")}
    assert cli.main(["--index", str(index_dir), "index", "remove", str(corpus / "apples.txt"), str(typo)]) == 1
    assert f"failed: {typo}: " in capsys.readouterr().err
    assert cli.main(["--index", str(index_dir), "index", "add", str(corpus / "apples.txt")]) == 0


def test_an_index_command_stopped_by_ctrl_c_says_what_the_index_holds(corpus, tmp_path, capsys, monkeypatch):
    # a bare "interrupted" had left the index's state to guess
    import assistant.ingest.embeddings as embeddings
    from assistant.interfaces import cli
    from tests.fakes import HashEmbedder

    class Interrupted(HashEmbedder):
        def embed(self, texts, *args, **kwargs):
            raise KeyboardInterrupt  # Ctrl-C while the sentences are embedded

    index_dir = tmp_path / "cli-index"
    assert cli.main(["--index", str(index_dir), "index", "add", str(corpus / "apples.txt")]) == 0
    monkeypatch.setattr(embeddings, "default_embedder", lambda settings: Interrupted())
    assert cli.main(["--index", str(index_dir), "index", "add", str(corpus)]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "interrupted: an index is saved whole or not at all, so it holds what it held before this command")
    assert {f.source for f in Index.load(index_dir).manifest.files} == {str(corpus / "apples.txt")}


def test_the_cli_writes_what_a_terminal_would_act_on_in_documents_and_names_as_escapes(tmp_path, capsys):
    # the citation line, the related passages, search results and file names had sent a document's
    # escape sequences raw (window title, clear screen, colours), and a CRLF file showed \x0d
    from assistant.interfaces import cli

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vault\x1b[31m.txt").write_bytes(
        "The Voss vault code is 4471 \x1b]0;PWNED\x07\x1b[2J and it was set in 2019 by \u202eEva.\r\n"
        "The Voss vault lies in Geneva,\r\nbeside the lake.\r\n".encode("utf-8"))
    store = str(tmp_path / "s")
    assert cli.main(["--index", store, "index", "add", str(docs)]) == 0
    for command in (["search", "Voss vault code"], ["ask", "What is the Voss vault code?"],
                    ["ask", "Where does the Voss vault lie?"], ["ask", "What colour is the moon?"], ["index", "info"]):
        capsys.readouterr()
        assert cli.main(["--index", store, *command]) == 0
        out = capsys.readouterr().out
        assert "Voss" in out or "vault" in out
        assert not set(out) & {"\x1b", "\x07", "\r", "\u202e"}, (command, out)
    assert "\\x1b]0;PWNED" in cli._shown("\x1b]0;PWNED") and cli._shown("a\r\nb\rc") == "a\nb\nc"


def test_the_cli_takes_index_after_the_command_too_and_refuses_an_empty_one(corpus, tmp_path, capsys):
    # the README's "move a corpus to Milvus" example put --index after the command, which was refused;
    # --index "" (an unset shell variable) had used the default index
    from assistant.interfaces import cli

    store = tmp_path / "after"
    assert cli.main(["index", "add", str(corpus / "apples.txt"), "--index", str(store)]) == 0
    assert {f.source for f in Index.load(store).manifest.files} == {str(corpus / "apples.txt")}
    capsys.readouterr()
    assert cli.main(["search", "apples", "--index", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["source"] == str(corpus / "apples.txt")
    assert cli.main(["index", "--index", str(store), "info", "--json"]) == 0  # between "index" and its verb too
    assert [f["source"] for f in json.loads(capsys.readouterr().out)["files"]] == [str(corpus / "apples.txt")]
    assert cli.main(["--index", "", "index", "info"]) == 2
    assert capsys.readouterr().err.strip() == "python -m assistant: --index: empty; give a folder path or a milvus:// address"


def test_removing_a_folder_says_it_is_a_folder_and_how_many_documents_lie_under_it(built, corpus, settings, embedder):
    from assistant.ingest.indexing import FOLDER_NOT_REMOVED

    # it had said "not in the index" while three of its documents were
    report = remove_documents([str(corpus)], index_dir=built, settings=settings, embedder=embedder)
    assert list(report.failed) == [(str(corpus), FOLDER_NOT_REMOVED.format(n=len(TOPICS)))] and not report.removed
    assert "3 indexed under it" in report.failed[0][1]
    assert list(remove_documents([str(corpus / "nothing.txt")], index_dir=built, settings=settings, embedder=embedder).failed) == [
        (str(corpus / "nothing.txt"), "not in the index")]


def test_the_shipped_index_is_never_written(tmp_path, capsys):
    # `--index index` (the shipped folder) had added documents into the tracked index/
    from assistant import config
    from assistant.interfaces import cli

    before = {p: p.read_bytes() for p in config.SHIPPED_INDEX_DIR.rglob("*") if p.is_file()}
    note = tmp_path / "note.txt"
    note.write_text("A note that must not reach the shipped index.", "utf-8")
    assert cli.main(["--index", str(config.SHIPPED_INDEX_DIR), "index", "add", str(note)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {config.SHIPPED_INDEX_DIR}: the shipped index is never written (using the assistant leaves the "
                   "clone clean); index into the working index (leave out --index) or another folder")
    after = {p: p.read_bytes() for p in config.SHIPPED_INDEX_DIR.rglob("*") if p.is_file()}
    assert after == before


def test_the_roots_a_path_lies_in_are_found_by_its_folders_as_checking_every_root_would(tmp_path, monkeypatch):
    # removing half of 1,000 files added by name (a recorded root each) checked every root against
    # every removed file: 22 s; the lookup walks up each path's folders instead
    import random

    from assistant.ingest.indexing import _Paths, _under

    monkeypatch.chdir(tmp_path)
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    rng = random.Random(5)
    parts = ["a", "b", "real", "link", "deep", "x.txt", "y.md"]
    paths = {os.path.join(*(rng.choice(parts) for _ in range(rng.randint(1, 4)))) for _ in range(300)}
    paths |= {str(tmp_path / p) for p in list(paths)[:100]} | {".", str(tmp_path), "/"}
    roots = sorted(paths)[::3]
    lookup = _Paths(roots)
    for path in sorted(paths):
        assert {r for r in lookup.around(path) if _under(path, r)} == {r for r in roots if _under(path, r)}, path


def test_a_summary_names_at_most_twenty_skipped_files_and_counts_the_rest(tmp_path, settings, embedder):
    # a folder of 1,500 .json files printed 1,500 "skipped:" lines at every add, the summary line scrolled away
    from assistant.ingest.indexing import SKIPPED_SHOWN

    folder = write_corpus(tmp_path / "docs", {"owls.txt": "Owls hunt at night."})[0].parent
    for i in range(SKIPPED_SHOWN + 5):
        (folder / f"data-{i:02d}.json").write_text("{}", "utf-8")
    report = add_documents([folder], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    assert len(report.skipped) == SKIPPED_SHOWN + 5
    lines = report.summary().split("\n")
    assert lines[0].startswith("1 added") and len(lines) == 1 + SKIPPED_SHOWN + 1
    assert lines[-1] == "skipped: 5 more (the whole list: --json, or Report.skipped)"
    # a file kept out on request is named before the files that are not documents
    remove_documents([str(folder / "owls.txt")], index_dir=tmp_path / "index", settings=settings, embedder=embedder)
    again = add_documents([folder], index_dir=tmp_path / "index", settings=settings, embedder=embedder).summary().split("\n")
    assert again[1] == f"skipped: {folder / 'owls.txt'}: {EXCLUDED}" and again[-1] == "skipped: 6 more (the whole list: --json, or Report.skipped)"
