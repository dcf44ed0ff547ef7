"""The store contract, run against both stores: the FAISS index folder and Milvus Lite.

Each test builds a small corpus on the torch-free HashEmbedder through the public functions with
`index_dir=` set to the store's name, so the same indexing, retrieval and answering code runs on
both; where the stores differ by design (crash safety), the test says what each one promises.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.store.snapshot import IndexBusy, IndexCorrupt, IndexMissing, IndexProblem
from assistant.ingest.indexing import EXCLUDED, add_documents, rebuild_index, remove_documents
from assistant.search.retrieval import retrieve
from assistant.store import is_milvus, open_store
from tests.fakes import HashEmbedder
from tests.test_index import QUERIES, TOPICS, write_corpus

STORES = ("faiss", "milvus")


def store_name(kind: str, folder: Path) -> str:
    return str(folder / "index") if kind == "faiss" else f"milvus://{folder / 'index.db'}"


@pytest.fixture(params=STORES)
def store(request, tmp_path) -> str:
    return store_name(request.param, tmp_path)


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    write_corpus(folder)
    return folder


def results(store: str, settings, embedder, queries=QUERIES, mode="hybrid") -> list:
    return [[(h.chunk_id, h.source, h.start, h.end, round(h.score, 5))
             for h in retrieve(q, 5, store, mode=mode, settings=settings, embedder=embedder)] for q in queries]


def indexed(store: str, settings) -> list[str]:
    return sorted(f.source for f in open_store(store, settings).load().manifest.files)


def test_store_names_are_parsed_and_bad_ones_refused_in_one_line(tmp_path):
    assert not is_milvus(str(tmp_path)) and type(open_store(tmp_path)).__name__ == "FaissStore"
    lite = open_store(f"milvus://{tmp_path}/a.db")
    assert type(lite).__name__ == "MilvusStore" and lite.lite_path == f"{tmp_path}/a.db"
    assert open_store("milvus://db.example:19530").uri == "http://db.example:19530"
    assert open_store("milvus+https://db.example:443").uri == "https://db.example:443"
    for bad, why in (("milvus://relative.db", "absolute file path"), ("milvus+https://", "expected milvus+https://host:port"), ("milvus:///", "absolute file path"),
                     ("milvus:///data/dir/", "absolute file path"), ("s3://bucket/x", "unknown store address"),
                     ("  ", "give a folder path"), ("milvus:/x", "unknown store address"), ("milvus:x.db", "unknown store address"),
                     ("Milvus+http:/h:1", "unknown store address"), ("milvus:///data/folder", "ends in .db")):
        with pytest.raises(ValueError) as err:
            open_store(bad)
        assert why in str(err.value) and "\n" not in str(err.value)


def test_both_stores_retrieve_and_answer_identically(corpus, tmp_path, settings, embedder):
    names = [store_name(kind, tmp_path) for kind in STORES]
    for name in names:
        report = rebuild_index([corpus], name, settings=settings, embedder=embedder)
        assert len(report.added) == 3 and report.chunks > 3
    for mode in ("hybrid", "dense", "bm25"):
        faiss, milvus = (results(name, settings, embedder, mode=mode) for name in names)
        assert faiss == milvus and any(faiss)
    bots = [Assistant(name, settings, embedder) for name in names]
    for question in ("When do farmers harvest apples?", "What do late filers pay?", "Who won the football match?",
                     "What are these documents about?"):
        a, b = (bot.ask(question) for bot in bots)
        assert (a.text, a.abstained, [c.quote for c in a.citations]) == (b.text, b.abstained, [c.quote for c in b.citations])
    assert a.method == "overview" and len(a.citations) == 3  # the last: one opening sentence of each document
    snapshots = [open_store(name, settings).load() for name in names]
    assert snapshots[0].chunks == snapshots[1].chunks
    rows = list(range(len(snapshots[0].keys)))
    assert np.allclose(snapshots[0].sentence_vectors(rows), snapshots[1].sentence_vectors(rows), atol=1e-6)


def test_empty_store_is_missing_in_one_line(store, settings, embedder):
    with pytest.raises(IndexMissing) as err:
        retrieve("apples", 3, store, settings=settings, embedder=embedder)
    assert "index rebuild" in str(err.value) and "\n" not in str(err.value)
    assert Assistant(store, settings, embedder).documents() == ()


def test_adding_again_embeds_nothing_and_keeps_the_state(store, corpus, settings, embedder):
    first = add_documents([corpus], store, settings=settings, embedder=embedder)
    embedded, token = embedder.texts_embedded, open_store(store, settings).token()
    again = add_documents([corpus], store, settings=settings, embedder=embedder)
    assert not again.changed and again.chunks == first.chunks and embedder.texts_embedded == embedded
    assert open_store(store, settings).token() == token


def test_a_modified_file_alone_is_reembedded_and_the_rest_kept(store, corpus, settings, embedder):
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    before = open_store(store, settings).load()
    target = corpus / "taxes.txt"
    target.write_text(TOPICS["taxes.txt"] + " A brand new rule about crypto assets applies from June.", "utf-8")
    embedder.texts_embedded = 0
    report = add_documents([corpus], store, settings=settings, embedder=embedder)
    assert report.updated == (str(target),) and len(report.unchanged) == 2
    after = open_store(store, settings).load()
    assert after.generation != before.generation
    for name in ("apples.txt", "rockets.md"):
        keys = [k for k in before.keys if k[0] == str(corpus / name)]
        assert [c for c in before.chunks if c.source == keys[0][0]] == [c for c in after.chunks if c.source == keys[0][0]]
        assert np.array_equal(before.vectors_of(keys), after.vectors_of(keys))
    assert "crypto assets" in " ".join(c.text for c in after.chunks if c.source == str(target))
    assert len(after.chunks) == sum(f.chunks for f in after.manifest.files) == report.chunks
    hits = retrieve("crypto assets rule", 3, store, settings=settings, embedder=embedder)
    assert hits[0].source == str(target)


def test_remove_and_rebuild_prune(store, corpus, settings, embedder):
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    report = remove_documents([str(corpus / "apples.txt")], store, settings=settings, embedder=embedder)
    assert report.removed == (str(corpus / "apples.txt"),)
    assert indexed(store, settings) == sorted(str(corpus / n) for n in ("rockets.md", "taxes.txt"))
    assert all(h.source != str(corpus / "apples.txt")
               for h in retrieve("apple harvest orchard", 10, store, settings=settings, embedder=embedder))
    (corpus / "rockets.md").unlink()
    report = rebuild_index(None, store, settings=settings, embedder=embedder)  # the recorded roots
    # the removed file is still in the recorded folder: the rebuild passes it by, and says so
    assert report.removed == (str(corpus / "rockets.md"),) and not report.added
    assert report.skipped == ((str(corpus / "apples.txt"), EXCLUDED),)
    assert open_store(store, settings).load().manifest.excluded == (str(corpus / "apples.txt"),)
    report = add_documents([corpus / "apples.txt"], store, settings=settings, embedder=embedder)  # by name: back
    assert report.added == (str(corpus / "apples.txt"),)
    assert open_store(store, settings).load().manifest.excluded == ()
    assert not rebuild_index(None, store, settings=settings, embedder=embedder).changed
    assert indexed(store, settings) == sorted(str(corpus / n) for n in ("apples.txt", "taxes.txt"))
    remove_documents([str(corpus / "apples.txt"), str(corpus / "taxes.txt")], store, settings=settings, embedder=embedder)
    assert open_store(store, settings).load().chunks == []
    assert retrieve("apple", 3, store, settings=settings, embedder=embedder) == []


def test_a_file_that_is_no_longer_text_is_dropped_and_the_rest_kept(store, corpus, settings, embedder):
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    before = results(store, settings, embedder)
    (corpus / "taxes.txt").write_bytes(b"\xff\xfe\x00\xd8" * 50)  # not text any more: its old text is not what it says
    report = add_documents([corpus], store, settings=settings, embedder=embedder)
    assert [s for s, _ in report.failed] == [str(corpus / "taxes.txt")] and report.removed == (str(corpus / "taxes.txt"),)
    after = results(store, settings, embedder)
    assert all(row[1] != str(corpus / "taxes.txt") for rows in after for row in rows)
    kept = {row[:4] for rows in before for row in rows if row[1] != str(corpus / "taxes.txt")}
    assert {row[:4] for rows in after for row in rows} >= kept  # the other documents' passages as they were
    assert str(corpus / "taxes.txt") not in indexed(store, settings)


class Exploding(HashEmbedder):
    def embed(self, texts, progress=None, threads=None):
        raise RuntimeError("the embedder broke")


def test_nothing_is_lost_when_an_add_fails(store, corpus, settings, embedder, tmp_path):
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    before, token = results(store, settings, embedder), open_store(store, settings).token()
    extra = write_corpus(tmp_path / "more", {"boats.txt": "Sailing boats race around the island every summer."})
    with pytest.raises(RuntimeError):
        add_documents(extra, store, settings=settings, embedder=Exploding())
    assert open_store(store, settings).token() == token
    assert results(store, settings, embedder) == before


def test_a_sentence_embedded_as_written_before_chunker_5_is_embedded_again_as_read(store, tmp_path, settings, embedder, monkeypatch):
    # a word broken at a line end is embedded whole since chunker 5: an older index's vector of the
    # broken word must not be taken for it
    from assistant.ingest import indexing

    docs = write_corpus(tmp_path / "docs", {"r.txt": "The target for infor-\nmation sharing was met. Bees make honey."})[0].parent
    monkeypatch.setattr(indexing, "CHUNKER_VERSION", 4)
    monkeypatch.setattr(indexing, "as_read", str)  # how chunker 4 embedded it
    rebuild_index([str(docs)], store, settings=settings, embedder=embedder)
    monkeypatch.undo()
    report = rebuild_index([str(docs)], store, settings=settings, embedder=embedder)
    assert report.embedded == 1 and report.reused == 1  # the broken word's sentence again; the other kept


def test_a_changed_recipe_rereads_every_file_and_reembeds_when_the_vectors_differ(store, corpus, settings, embedder):
    first = rebuild_index([corpus], store, settings=settings, embedder=embedder)
    bigger = settings.replace(chunk_size=600, chunk_overlap=100)
    embedder.texts_embedded = 0
    report = add_documents([corpus / "apples.txt"], store, settings=bigger, embedder=embedder)
    assert len(report.updated) == 3 and embedder.texts_embedded == 0  # every file re-read under the new recipe
    assert open_store(store, bigger).load().manifest.chunk_size == 600
    assert results(store, bigger, embedder)[0][0][1] == str(corpus / "apples.txt")
    # without titles in front the embedded texts differ: every sentence is embedded again
    untitled = bigger.replace(title_in_embedding=not bigger.title_in_embedding)
    embedder.texts_embedded = 0
    report = add_documents([corpus / "apples.txt"], store, settings=untitled, embedder=embedder)
    assert len(report.updated) == 3 and embedder.texts_embedded == report.embedded == first.embedded and report.reused == 0


def test_a_held_lock_makes_a_writer_give_up(store, corpus, settings, embedder):
    held, release = threading.Event(), threading.Event()

    def hold():
        with open_store(store, settings).lock(5):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(IndexBusy) as err:
            add_documents([corpus], store, settings=settings.replace(lock_timeout=0.2), embedder=embedder)
        assert "locked by process" in str(err.value)
    finally:
        release.set()
        holder.join(10)
    assert add_documents([corpus], store, settings=settings, embedder=embedder).added


def test_a_commit_cut_short_is_detected_and_rebuild_recovers(store, corpus, settings, embedder, monkeypatch, tmp_path):
    """FAISS: a save interrupted before CURRENT moves leaves the previous index, as it was.
    Milvus: several calls are not one transaction; a commit cut short leaves the state marked
    "writing", the next load says so in one line, and a rebuild starts the store over."""
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    before = results(store, settings, embedder)
    extra = write_corpus(tmp_path / "more", {"boats.txt": "Sailing boats race around the island every summer."})
    if is_milvus(store):
        from assistant.store import milvus

        real = milvus._batched

        def crash(call, items):
            if items and isinstance(items[0], dict) and "vector" in items[0]:
                raise OSError("power cut")
            real(call, items)

        monkeypatch.setattr(milvus, "_batched", crash)
    else:
        import assistant.store.index as index_module

        monkeypatch.setattr(index_module.os, "replace", _fail)
    # (the folder store says so in one line: its index is as it was; Milvus's cut-short commit is said at the next load)
    with pytest.raises(Exception, match="power cut") as info:
        add_documents(extra, store, settings=settings, embedder=embedder)
    assert isinstance(info.value, OSError if is_milvus(store) else IndexProblem)
    monkeypatch.undo()
    from assistant.search.retrieval import forget

    forget()
    if is_milvus(store):
        with pytest.raises(IndexCorrupt) as err:
            open_store(store, settings).load()
        assert "interrupted" in str(err.value) and "index rebuild" in str(err.value)
        rebuild_index([corpus], store, settings=settings, embedder=embedder)
    assert results(store, settings, embedder) == before


def test_an_unreadable_store_is_rebuilt_from_its_recorded_folders_not_the_default_corpus(store, corpus, settings, embedder):
    """What the user indexed is in the manifest: a store whose chunks cannot be read any more (or
    in a format this version does not read) is rebuilt from it, exclusions kept."""
    from assistant.ingest.indexing import ensure_index
    from assistant.search.retrieval import forget

    add_documents([corpus], store, settings=settings, embedder=embedder)
    remove_documents([str(corpus / "apples.txt")], store, settings=settings, embedder=embedder)
    if is_milvus(store):  # a commit cut short
        opened = open_store(store, settings)
        opened._put_state({**opened._state(), "state": "writing"})
    else:
        for rows in Path(store).rglob("chunks.jsonl"):
            rows.write_bytes(rows.read_bytes()[:-20])
    forget()
    with pytest.raises(IndexCorrupt):
        open_store(store, settings).load()
    report = ensure_index(store, settings=settings, embedder=embedder)
    assert report is not None and report.skipped == ((str(corpus / "apples.txt"), EXCLUDED),)
    assert indexed(store, settings) == sorted(str(corpus / n) for n in TOPICS if n != "apples.txt")
    assert open_store(store, settings).load().manifest.roots == (str(corpus),)


def test_questions_asked_while_documents_are_added_are_answered(store, corpus, settings, embedder, tmp_path):
    """A Milvus commit is several calls: a reader used to find the state "writing" (an error that
    told it to rebuild) or rows gone. Readers now wait for this machine's writer, and read again."""
    bot = Assistant(store=store, settings=settings, embedder=embedder)
    bot.add([corpus])
    expected = [h.chunk_id for h in bot.retrieve("apple harvest", 3)]
    extra = tmp_path / "extra.txt"
    errors, answers, done = [], [], threading.Event()

    def writer():
        try:
            for i in range(25):
                extra.write_text(f"Ferry notes {i}. The ferry leaves at {i % 12 + 1} o'clock.", "utf-8")
                bot.add([extra])
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(f"add: {err!r}")
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set() or not answers:
        try:
            answers.append([h.chunk_id for h in bot.retrieve("apple harvest", 3)])
            bot.ask("When are apples harvested?")
            assert bot.documents()
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(f"read: {err!r}")
    thread.join()
    assert errors == [] and answers and all(a == expected for a in answers)


def as_a_new_process_finds(lite_file: Path) -> None:
    """Forget this process's Milvus Lite client, server and cached searchers for `lite_file`."""
    from milvus_lite.server_manager import server_manager_instance

    from assistant.search.retrieval import forget
    from assistant.store.milvus import close_clients

    close_clients()
    server_manager_instance.release_server(str(lite_file))
    forget()


def test_a_damaged_milvus_lite_file_is_one_line_and_a_rebuild_writes_it_anew(corpus, tmp_path, settings, embedder):
    from assistant.search.retrieval import forget

    store = store_name("milvus", tmp_path)
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    before = results(store, settings, embedder)
    as_a_new_process_finds(tmp_path / "index.db")
    damaged = sorted((tmp_path / "index.db" / "collections" / "assistant_chunks").rglob("*.parquet"))[0]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 32] = b"\xff" * 32
    damaged.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt) as err:
        open_store(store, settings).load()
    message = str(err.value)
    assert "Milvus Lite cannot read this file" in message and f"--index {store} index rebuild" in message and "\n" not in message
    report = rebuild_index([corpus], store, settings=settings, embedder=embedder)  # starts the file over
    assert sorted(report.added) == sorted(str(corpus / n) for n in TOPICS)
    forget()
    assert results(store, settings, embedder) == before


def test_a_damaged_milvus_lite_file_holding_other_collections_is_never_removed(corpus, tmp_path, settings, embedder):
    store = store_name("milvus", tmp_path)
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    client = open_store(store, settings).client
    client.create_collection("my_notes", dimension=2)  # the user's own, in the same file
    client.insert("my_notes", [{"id": 1, "vector": [0.1, 0.2]}])
    client.flush("my_notes")
    client.create_database("mine")  # and a database of theirs
    client.using_database("mine")
    client.create_collection("more_notes", dimension=2)
    client.using_database("default")
    as_a_new_process_finds(tmp_path / "index.db")
    damaged = sorted((tmp_path / "index.db" / "collections" / "assistant_chunks").rglob("*.parquet"))[0]
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 32] = b"\xff" * 32
    damaged.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="holds other collections \\(my_notes, database mine\\) that a rebuild must not remove"):
        rebuild_index([corpus], store, settings=settings, embedder=embedder)
    assert (tmp_path / "index.db" / "collections" / "my_notes").is_dir() and (tmp_path / "index.db" / "databases" / "mine").is_dir()


def test_a_writer_knows_its_own_lock_however_its_path_is_spelt(tmp_path):
    from assistant.store.snapshot import held_here, writer_lock

    spelt = f"{tmp_path}//index.db.lock"  # a store named milvus://{tmp}//index.db
    with writer_lock("store", 1, spelt):
        assert held_here(spelt) and held_here(f"{tmp_path}/index.db.lock") and held_here(f"{tmp_path}/./index.db.lock")
    assert not held_here(spelt)


def _fail(*args, **kwargs):
    raise OSError("power cut")


def test_the_facade_and_langchain_run_on_either_store(store, corpus, settings, embedder):
    bot = Assistant(store, settings, embedder)
    assert bot.add([corpus]).added
    assert sorted(f.source for f in bot.documents()) == sorted(str(corpus / n) for n in TOPICS)
    answer = bot.ask("When do farmers harvest apples?")
    assert not answer.abstained and "September" in answer.text
    assert answer.citations[0].hit.source == str(corpus / "apples.txt")
    docs = bot.as_retriever(k=2).invoke("The turbopump feeds propellant at high pressure")
    assert len(docs) == 2 and docs[0].metadata["source"] == str(corpus / "rockets.md")


WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from assistant.config import Settings
from assistant.ingest.indexing import rebuild_index
from tests.fakes import HashEmbedder
print(rebuild_index([sys.argv[3]], sys.argv[2], settings=Settings(chunk_size=300, chunk_overlap=60),
                    embedder=HashEmbedder()).summary())
"""


def test_a_milvus_lite_file_written_by_another_process_is_read_and_a_held_one_is_named(corpus, tmp_path, settings, embedder):
    """Milvus Lite opens collections released: a reader in a new process loads them. Milvus Lite
    serves one process per file: a second one gets one line saying so, not a stack trace."""
    import subprocess
    import sys

    from assistant.config import PROJECT_DIR

    store = f"milvus://{tmp_path / 'shared.db'}"
    done = subprocess.run([sys.executable, "-c", WRITER, str(PROJECT_DIR), store, str(corpus)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "3 added" in done.stdout, done.stderr[-2000:]
    hits = retrieve("The turbopump feeds propellant at high pressure", 3, store, settings=settings, embedder=embedder)
    assert hits[0].source == str(corpus / "rockets.md")
    held = subprocess.run([sys.executable, "-m", "assistant", "--index", store, "index", "info"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert held.returncode == 1 and held.stdout == ""
    assert held.stderr.strip().count("\n") == 0 and "another process has this Milvus Lite file open" in held.stderr
    # a rebuild of the recorded folders says so too (it had said the folders "cannot be read")
    held = subprocess.run([sys.executable, "-m", "assistant", "--index", store, "index", "rebuild"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert held.returncode == 1 and "another process has this Milvus Lite file open" in held.stderr, held.stderr


def test_a_milvus_collection_released_under_a_reader_is_loaded_again_not_called_damaged(corpus, tmp_path, settings, embedder):
    # two threads' first requests at once leave Milvus Lite's collection released; every read of the
    # process then said "cannot read this file ... run index rebuild" (a healthy store)
    from assistant.store import milvus

    store = store_name("milvus", tmp_path)
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    expected = results(store, settings, embedder)
    bot = Assistant(store=store, settings=settings, embedder=embedder)
    assert [[(h.chunk_id, h.source) for h in bot.retrieve(q, 3)] for q in QUERIES] == [[(h[0], h[1]) for h in r[:3]] for r in expected]
    client = open_store(store, settings).client
    for collection in (milvus.SENTENCES, milvus.CHUNKS, milvus.META):
        client.release_collection(collection)
    assert [[(h.chunk_id, h.source) for h in bot.retrieve(q, 3)] for q in QUERIES] == [[(h[0], h[1]) for h in r[:3]] for r in expected]
    milvus.close_clients()  # a fresh start: two threads' first use at once
    go, out = threading.Barrier(2), []
    bots = [Assistant(store=store, settings=settings, embedder=embedder) for _ in range(2)]

    def first(b):
        go.wait()
        out.append([h.chunk_id for h in b.retrieve(QUERIES[0], 3)])

    threads = [threading.Thread(target=first, args=(b,)) for b in bots]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert out == [[h[0] for h in expected[0][:3]]] * 2


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler for the test, whatever the process started with (a shell's
    background job, `pytest &`, starts ignoring Ctrl-C, and Python keeps that), and the process's
    own disposition back after."""
    import signal

    started = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, started)


def test_ctrl_c_during_a_milvus_commit_takes_effect_when_the_commit_has_ended(corpus, tmp_path, settings, embedder, monkeypatch, capsys,
                                                                           python_sigint):
    # a Ctrl-C in the middle of a commit had left the store "interrupted" until a rebuild embedded everything again
    import os
    import signal

    from assistant.store import milvus

    store = store_name("milvus", tmp_path)
    rebuild_index([corpus / "apples.txt"], store, settings=settings, embedder=embedder)
    real = milvus._batched
    sent = []

    def interrupted(call, items):
        if not sent:
            sent.append(os.kill(os.getpid(), signal.SIGINT))
        return real(call, items)

    monkeypatch.setattr(milvus, "_batched", interrupted)
    with pytest.raises(KeyboardInterrupt):
        add_documents([corpus], store, settings=settings, embedder=embedder)
    assert sent and "finishing the commit so that the store stays whole" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert indexed(store, settings) == sorted(str(corpus / n) for n in TOPICS)  # whole, and the new documents in
    # a program that ignores Ctrl-C (nohup) or handles it itself keeps doing so during a commit
    heard = []
    for disposition in (signal.SIG_IGN, lambda signum, frame: heard.append(signum)):
        signal.signal(signal.SIGINT, disposition)
        try:
            sent.clear()
            (corpus / "apples.txt").write_text(f"Apples, edited {len(heard)} {disposition!r}.", "utf-8")
            add_documents([corpus], store, settings=settings, embedder=embedder)  # no KeyboardInterrupt
            assert sent and signal.getsignal(signal.SIGINT) is disposition
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    assert heard == [signal.SIGINT]


def test_a_milvus_lite_collection_left_half_made_by_a_kill_is_made_again_by_the_rebuild(corpus, tmp_path, settings, embedder):
    # a process killed between Milvus Lite's making a collection's folder and writing its schema
    # left a file that every later add or rebuild failed on ("File exists"), for good
    from assistant.search.retrieval import forget

    store = store_name("milvus", tmp_path)
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    before = results(store, settings, embedder)
    as_a_new_process_finds(tmp_path / "index.db")
    for name in ("assistant_meta", "assistant_chunks"):
        (tmp_path / "index.db" / "collections" / name / "schema.json").unlink()
    with pytest.raises(IndexMissing, match="no index yet; run"):
        open_store(store, settings).load()
    report = rebuild_index([corpus], store, settings=settings, embedder=embedder)
    assert sorted(report.added) == sorted(str(corpus / n) for n in TOPICS)
    forget()
    assert results(store, settings, embedder) == before


def test_a_milvus_lite_file_whose_own_record_is_damaged_is_rebuilt_from_its_folders_without_naming_them(corpus, tmp_path, settings, embedder):
    # the error said "run index rebuild", and that rebuild refused: the folders were recorded only
    # in the damaged collection
    store = store_name("milvus", tmp_path)
    rebuild_index([corpus], store, settings=settings, embedder=embedder)
    as_a_new_process_finds(tmp_path / "index.db")
    for damaged in (tmp_path / "index.db" / "collections" / "assistant_meta").rglob("*.parquet"):
        damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="index rebuild"):
        open_store(store, settings).load()
    assert open_store(store, settings).recorded()["roots"] == [str(corpus)]
    report = rebuild_index(None, store, settings=settings, embedder=embedder)
    assert sorted(report.added) == sorted(str(corpus / n) for n in TOPICS) and not report.failed


def test_a_milvus_lite_path_in_a_folder_that_is_not_one_or_under_a_file_is_refused_in_one_line(corpus, tmp_path, settings, embedder):
    folder_index = tmp_path / "folder.db"
    rebuild_index([corpus / "apples.txt"], str(folder_index), settings=settings, embedder=embedder)
    documents = tmp_path / "documents.db"
    documents.mkdir()
    (documents / "notes.txt").write_text("Notes.", "utf-8")
    for path, why in ((folder_index, "is a folder index, not a Milvus Lite file; open it as --index"),
                      (documents, r"is a folder holding other files \(notes.txt\), not a Milvus Lite file")):
        with pytest.raises(IndexProblem, match=why):
            add_documents([corpus / "taxes.txt"], f"milvus://{path}", settings=settings, embedder=embedder)
    assert sorted(p.name for p in documents.iterdir()) == ["notes.txt"]
    with pytest.raises(ValueError, match="lies under .*apples.txt, a file, not a folder"):
        add_documents([corpus / "taxes.txt"], f"milvus://{corpus / 'apples.txt' / 'x.db'}", settings=settings, embedder=embedder)


def test_one_milvus_lite_file_reached_through_a_link_is_the_same_store(corpus, tmp_path, settings, embedder):
    # opened once by its path and once through a link to its folder, it had read as "another process"
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    add_documents([corpus / "apples.txt"], f"milvus://{tmp_path / 'real' / 's.db'}", settings=settings, embedder=embedder)
    linked = Assistant(store=f"milvus://{tmp_path / 'link' / 's.db'}", settings=settings, embedder=embedder)
    assert [f.source for f in linked.documents()] == [str(corpus / "apples.txt")]
    (tmp_path / "file-link.db").symlink_to(tmp_path / "real" / "s.db")  # a link to the file itself: the same store
    add_documents([corpus / "taxes.txt"], f"milvus://{tmp_path / 'file-link.db'}", settings=settings, embedder=embedder)
    assert len(linked.documents()) == 2 and not (tmp_path / "file-link.db.lock").exists()


def test_a_chunk_too_long_for_milvus_fails_its_file_alone_before_anything_is_embedded(corpus, tmp_path, settings, embedder):
    from assistant.store.milvus import VARCHAR_MAX

    huge = tmp_path / "wide" / "tokyo.txt"
    huge.parent.mkdir()
    huge.write_text("東京" * (VARCHAR_MAX // 5), "utf-8")  # one sentence of 3-byte characters, no place to cut but any
    wide = settings.replace(chunk_size=VARCHAR_MAX, chunk_overlap=0)
    embedder.texts_embedded = 0
    report = add_documents([huge, corpus / "apples.txt"], store_name("milvus", tmp_path), settings=wide, embedder=embedder)
    assert dict(report.failed) == {str(huge): f"a chunk of more than {VARCHAR_MAX:,} bytes does not fit a Milvus text field; "
                                               f"lower ASSISTANT_CHUNK_SIZE"}
    assert report.added == (str(corpus / "apples.txt"),) and embedder.texts_embedded < 100


def test_a_milvus_lite_path_that_cannot_be_a_store_says_why_and_reading_a_missing_one_creates_nothing(tmp_path, settings, embedder):
    # every failure to open had read "another process has this Milvus Lite file open", and
    # `index info` on a mistyped name had created a store folder there
    from assistant.interfaces import cli
    from assistant.store.snapshot import IndexProblem

    plain = tmp_path / "old.db"
    plain.write_text("a file", "utf-8")
    (tmp_path / "a.db").symlink_to(tmp_path / "b.db")
    (tmp_path / "b.db").symlink_to(tmp_path / "a.db")
    for name, why in ((plain, "is a file; Milvus Lite keeps a store in a folder"), (tmp_path / "a.db", "is a link that leads nowhere")):
        with pytest.raises(IndexProblem, match=why) as err:
            add_documents([tmp_path], f"milvus://{name}", settings=settings, embedder=embedder)
        assert not isinstance(err.value, IndexBusy)
    missing = tmp_path / "typo.db"
    assert cli.main(["--index", f"milvus://{missing}", "index", "info"]) == 1
    with pytest.raises(IndexMissing, match=r"no index yet; run `.* index add PATH` with the documents to index \(`.* index rebuild` indexes the default corpus\)$"):
        open_store(f"milvus://{missing}", settings).load()
    assert not missing.exists() and Assistant(store=f"milvus://{missing}", settings=settings, embedder=embedder).documents() == ()
    assert not missing.exists()


def test_a_folder_index_load_that_spans_two_saves_reads_the_new_generation(corpus, tmp_path, settings, embedder, monkeypatch):
    # a reader descheduled between reading CURRENT and its files found them collected by two saves
    # and called the healthy index damaged ("run index rebuild")
    from assistant.store import faiss
    from assistant.store.index import Index

    store = store_name("faiss", tmp_path)
    rebuild_index([corpus / "apples.txt"], store, settings=settings, embedder=embedder)
    real = Index.load.__func__
    raised = []

    def slow(cls, *args, **kwargs):
        if not raised:  # two saves happen while this load is under way
            raised.append(1)
            add_documents([corpus / "taxes.txt"], store, settings=settings, embedder=embedder)
            add_documents([corpus / "rockets.md"], store, settings=settings, embedder=embedder)
            raise IndexCorrupt(f"{store}/gen-x/manifest.json: missing or unreadable")
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(Index, "load", classmethod(slow))
    assert len(faiss.FaissStore(store).load().manifest.files) == 3 and raised

    def damaged(cls, *args, **kwargs):  # damage with CURRENT unchanged is reported
        raise IndexCorrupt("damaged")

    monkeypatch.setattr(Index, "load", classmethod(damaged))
    with pytest.raises(IndexCorrupt, match="damaged"):
        faiss.FaissStore(store).load()


def test_a_milvus_store_records_more_folders_than_one_text_field_holds(tmp_path, settings, embedder):
    # every file added by name is a recorded root; past 65,535 bytes of state the commit had failed
    # with pymilvus's own error after marking the store "writing", so every later load said
    # "interrupted", and the suggested rebuild indexed only what the last readable state recorded
    from assistant.store.milvus import STATE_PART_BYTES, _pieces

    deep = tmp_path / ("a-rather-long-folder-name-" * 7)
    names = {f"note-{i:03d}-{'x' * 40}.txt": f"Note {i} says the pump number {i} runs." for i in range(400)}
    files = write_corpus(deep, names)
    store = store_name("milvus", tmp_path)
    add_documents([str(f) for f in files], index_dir=store, settings=settings, embedder=embedder)
    snapshot = open_store(store, settings).load()
    assert len(snapshot.manifest.roots) == 400 and sum(len(r) for r in snapshot.manifest.roots) > 65_535
    assert len(snapshot.manifest.files) == 400
    more = write_corpus(tmp_path / "more", {"owls.txt": "Owls hunt at night."})
    add_documents(more, index_dir=store, settings=settings, embedder=embedder)  # a second long state replaces the first's parts
    assert len(indexed(store, settings)) == 401
    assert open_store(store, settings).recorded()["roots"][-1] == str(more[0])
    assert rebuild_index(index_dir=store, settings=settings, embedder=embedder).unchanged.__len__() == 401
    text = "é€😀" * 30_000
    assert "".join(_pieces(text, STATE_PART_BYTES)) == text
    assert all(len(p.encode()) <= STATE_PART_BYTES for p in _pieces(text, STATE_PART_BYTES))


def test_a_milvus_lite_file_named_without_its_scheme_is_refused_not_opened_as_a_folder_index(tmp_path, corpus, settings, embedder):
    # it had read as "no index yet", and an add wrote a folder index into the Milvus Lite file
    lite = tmp_path / "m.db"
    rebuild_index([corpus], f"milvus://{lite}", settings=settings, embedder=embedder)
    before = sorted(p.name for p in lite.iterdir())
    with pytest.raises(ValueError) as err:
        open_store(str(lite))
    assert str(err.value) == f"store: {lite} is a Milvus Lite file; open it as milvus://{lite}"
    with pytest.raises(ValueError):
        add_documents(corpus, index_dir=str(lite), settings=settings, embedder=embedder)
    assert sorted(p.name for p in lite.iterdir()) == before


def test_a_milvus_store_whose_first_build_was_cut_short_is_built_again_from_its_own_folders(tmp_path, settings, embedder, monkeypatch):
    # a rebuild without paths (what the app runs at start, and what the "interrupted" message
    # names) had filled it with the default corpus, the shipped article, instead of the folders
    # the cut-short build was indexing
    from assistant.ingest.indexing import ensure_index, rebuild_roots
    from assistant.store.milvus import MilvusStore

    docs = write_corpus(tmp_path / "docs", {"owls.txt": "Owls hunt at night. They are birds."})[0].parent
    mine = write_corpus(tmp_path / "mine", {"bees.txt": "Bees make honey. They live in hives."})[0].parent
    default = settings.replace(corpus_dir=str(docs))
    store = store_name("milvus", tmp_path)
    original = MilvusStore._create_data

    def cut_short(self, dimension):
        original(self, dimension)
        raise KeyboardInterrupt

    monkeypatch.setattr(MilvusStore, "_create_data", cut_short)
    with pytest.raises(KeyboardInterrupt):
        rebuild_index([str(mine)], index_dir=store, settings=default, embedder=embedder)
    monkeypatch.setattr(MilvusStore, "_create_data", original)
    assert open_store(store, default).recorded() == {"roots": [str(mine)], "excluded": []}
    assert rebuild_roots(store, default) == [str(mine)]
    assert list(ensure_index(store, settings=default, embedder=embedder).added) == [str(mine / "bees.txt")]


def test_an_edit_or_a_move_embeds_only_the_sentences_the_index_does_not_hold_yet(store, tmp_path, settings, embedder):
    # a one-word edit of a 7,489-sentence file had re-embedded all of it, and a renamed folder every file
    texts = []
    original = embedder.embed

    def counting(batch, *args, **kwargs):
        texts.extend(batch)
        return original(batch, *args, **kwargs)

    embedder.embed = counting
    sentences = [f"Fact number {i} says the pump {i} runs at {10 * i} bar." for i in range(40)]
    docs = tmp_path / "docs"
    write_corpus(docs, {"pumps.txt": " ".join(sentences)})
    rebuild_index([str(docs)], store, settings=settings, embedder=embedder)
    assert len(texts) == 40
    texts.clear()
    edited = sentences[:]
    edited[7] = "Fact number 7 says the pump 7 runs at 75 bar."
    (docs / "pumps.txt").write_text(" ".join(edited), "utf-8")
    report = add_documents([str(docs)], store, settings=settings, embedder=embedder)
    assert report.updated and len(texts) == 1 and texts[0].endswith(edited[7]) and report.reused == 39 and report.embedded == 1
    assert "(1 sentence embedded, 39 reused," in report.summary()
    texts.clear()
    moved = tmp_path / "moved"
    docs.rename(moved)
    report = rebuild_index([str(moved)], store, settings=settings, embedder=embedder)
    assert report.added and report.removed and texts == [] and report.reused == 40 and report.embedded == 0
    # the vectors are those a fresh index computes
    fresh = store_name("faiss", tmp_path / "fresh")
    rebuild_index([str(moved)], fresh, settings=settings, embedder=embedder)
    for name in (store, fresh):
        hits = retrieve("pump 7 runs at 75 bar", 3, name, mode="dense", settings=settings, embedder=embedder)
        assert hits[0].source == str(moved / "pumps.txt")
    mine, theirs = (open_store(n, settings).load() for n in (store, fresh))
    keys = sorted(mine.keys)
    np.testing.assert_allclose(mine.vectors_of(keys), theirs.vectors_of(keys), atol=1e-6)


def test_a_new_chunking_rechunks_every_document_but_embeds_only_new_sentences(store, tmp_path, settings, embedder, monkeypatch):
    # a chunker version bump (or a new chunk size) had re-embedded every sentence of every index
    from assistant.ingest import indexing

    docs = tmp_path / "docs"
    write_corpus(docs, TOPICS)
    first = rebuild_index([str(docs)], store, settings=settings, embedder=embedder)
    monkeypatch.setattr(indexing, "CHUNKER_VERSION", indexing.CHUNKER_VERSION + 1)
    smaller = settings.replace(chunk_size=settings.chunk_size // 2)
    embedder.texts_embedded = 0
    report = rebuild_index([str(docs)], store, settings=smaller, embedder=embedder)
    assert embedder.texts_embedded == 0 and report.embedded == 0 and report.reused == first.embedded
    again = open_store(store, smaller).load()
    assert again.manifest.chunker_version == indexing.CHUNKER_VERSION and report.chunks > first.chunks
    fresh = store_name("faiss", tmp_path / "fresh")
    rebuild_index([str(docs)], fresh, settings=smaller, embedder=HashEmbedder())
    theirs = open_store(fresh, smaller).load()
    keys = sorted(again.keys)
    assert keys == sorted(theirs.keys)
    np.testing.assert_allclose(again.vectors_of(keys), theirs.vectors_of(keys), atol=1e-6)
    # a new model's vectors are never taken
    other = HashEmbedder()
    other.model_name += "-other"
    rebuild_index([str(docs)], store, settings=smaller, embedder=other)
    assert other.texts_embedded == first.embedded
