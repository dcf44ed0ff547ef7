"""`Assistant`: one object per store; the embedder and settings given are the ones used, and two
assistants on two stores never see each other's documents."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.config import Settings
from tests.fakes import HashEmbedder


def _write(folder, files: dict[str, str]):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    return folder


def test_the_verbs_work_on_the_store_given_with_the_embedder_given(tmp_path):
    embedder = HashEmbedder()
    settings = Settings(chunk_size=300, chunk_overlap=60)
    docs = _write(tmp_path / "docs", {"owls.txt": "Owls hunt at night. Barn owls nest in old barns.\n",
                                      "bees.txt": "Bees make honey in hives. A hive holds one queen.\n"})
    bot = Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    assert bot.documents() == ()
    report = bot.add([docs])
    assert len(report.added) == 2 and embedder.calls >= 1
    assert sorted(f.source for f in bot.documents()) == sorted(str(docs / n) for n in ("bees.txt", "owls.txt"))
    calls = embedder.calls
    hits = bot.retrieve("Where do barn owls nest?", k=1)
    assert hits[0].source.endswith("owls.txt") and embedder.calls > calls
    answer = bot.ask("Where do barn owls nest?")
    assert answer.abstained or answer.citations[0].hit.source.endswith("owls.txt")
    documents = bot.as_retriever(k=1).invoke("How many queens does a hive hold?")
    assert documents[0].metadata["source"].endswith("bees.txt")
    # k given per call is used, as LangChain's vector-store retrievers do (it had been passed over);
    # a field set later is checked; a deep copy shares the assistant (it had failed on its lock)
    retriever = bot.as_retriever(k=1)
    assert len(retriever.invoke("hives and barns", k=2)) == 2 and len(retriever.invoke("hives and barns")) == 1
    import asyncio  # (the async calls took no k or mode: a TypeError)

    assert len(asyncio.run(retriever.ainvoke("hives and barns", k=2))) == 2 and len(asyncio.run(retriever.ainvoke("hives and barns"))) == 1
    assert len(asyncio.run(retriever.abatch(["hives", "barns"], k=2))[1]) == 2
    for name, value, message in (("k", 0, "k=0: must be a whole number"), ("mode", "nonsense", "mode 'nonsense'")):
        with pytest.raises(ValueError, match=f"^{message}"):
            setattr(retriever, name, value)
    with pytest.raises(ValueError, match="^k=0: must be a whole number"):
        retriever.invoke("hives", k=0)
    import copy

    twin = copy.deepcopy(retriever)
    assert twin.assistant is bot and twin.k == 1
    assert [d.id for d in twin.invoke("hives and barns")] == [d.id for d in retriever.invoke("hives and barns")]
    assert repr(bot) == f"Assistant(store={str(tmp_path / 'store')!r})"
    assert bot.remove([str(docs / "bees.txt")]).removed == (str(docs / "bees.txt"),)
    (docs / "owls.txt").unlink()
    report = bot.rebuild()  # the recorded folder again: the deleted file goes, the removed one stays out
    assert report.removed == (str(docs / "owls.txt"),) and not report.added
    assert [source for source, _ in report.skipped] == [str(docs / "bees.txt")] and bot.documents() == ()
    assert bot.add([docs / "bees.txt"]).added == (str(docs / "bees.txt"),)  # named: back in
    assert [f.source for f in bot.documents()] == [str(docs / "bees.txt")]


def test_two_assistants_on_two_stores_stay_apart(tmp_path):
    settings = Settings(chunk_size=300, chunk_overlap=60)
    a = Assistant(store=tmp_path / "a", settings=settings, embedder=HashEmbedder())
    b = Assistant(store=tmp_path / "b", settings=settings, embedder=HashEmbedder())
    a.add([_write(tmp_path / "da", {"tides.txt": "Tides follow the moon.\n"})])
    b.add([_write(tmp_path / "db", {"dunes.txt": "Dunes move with the wind.\n"})])
    assert [h.source for h in a.retrieve("moon tides")] == [str(tmp_path / "da" / "tides.txt")]
    assert [h.source for h in b.retrieve("moon tides")] == [str(tmp_path / "db" / "dunes.txt")]


def test_an_assistant_keeps_its_own_searcher_and_sees_changes_made_by_another(tmp_path):
    """No state shared through the module cache: each instance loads its store itself, and a
    change committed by anyone (here a second instance) is seen by the next question."""
    from assistant.search import retrieval

    settings = Settings(chunk_size=300, chunk_overlap=60)
    docs = _write(tmp_path / "docs", {"owls.txt": "Owls hunt at night.\n"})
    a = Assistant(store=tmp_path / "s", settings=settings, embedder=HashEmbedder())
    b = Assistant(store=tmp_path / "s", settings=settings, embedder=HashEmbedder())
    a.add([docs])
    assert [h.source for h in b.retrieve("owls hunt")] == [str(docs / "owls.txt")]
    first = b.searcher()
    assert b.searcher() is first and a.searcher() is not first  # loaded once per instance
    assert not retrieval._cache  # the process-wide cache of the module functions is untouched
    _write(docs, {"bees.txt": "Bees make honey.\n"})
    a.add([docs])
    assert b.searcher() is not first and b.retrieve("bees honey")[0].source == str(docs / "bees.txt")
    assert b.ensure_index() is None  # current: nothing rebuilt


def test_arguments_of_the_wrong_kind_are_one_line_naming_them(tmp_path):
    import pytest

    stray = tmp_path / "notes.txt"
    stray.write_text("not an index", "utf-8")
    made = [
        (lambda: Assistant(store=5), "store: expected an index folder or a milvus:// address, got int"),
        (lambda: Assistant(settings={"k": 3}), "settings: expected an assistant.Settings"),
        (lambda: Assistant(store=stray), f"store: {stray} is a file, not an index folder"),
        (lambda: Assistant(store=stray / "sub" / "x"), f"store: {stray / 'sub' / 'x'} lies under {stray}, a file, not a folder"),
    ]
    bot = Assistant(tmp_path / "index", settings=Settings.from_env(chunk_size=300, chunk_overlap=60), embedder=HashEmbedder())
    called = [
        (lambda: bot.add([5]), "paths: 5 is not a path (a string or os.PathLike)"),
        (lambda: bot.add(None), "paths: expected a path or a list of paths, got NoneType"),
        (lambda: bot.add(b"notes.txt"), "paths: expected a path or a list of paths, got bytes"),
        (lambda: bot.remove(None), "sources: expected a path or a list of paths, got NoneType"),
        # read as "." an empty path had indexed the working folder
        (lambda: bot.add([""]), "paths: '' is an empty path"),
        (lambda: bot.add(""), "paths: '' is an empty path"),
        (lambda: bot.rebuild([tmp_path, ""]), "paths: '' is an empty path"),
        (lambda: bot.add([tmp_path], cancel=True), "cancel: expected a threading.Event, got bool"),
    ]
    import assistant

    emptied = [  # an empty index_dir (an unset variable) had meant the configured index, and written there
        (lambda: assistant.add_documents([stray], index_dir=""), "index_dir: empty"),
        (lambda: assistant.rebuild_index([tmp_path], index_dir=" "), "index_dir: empty"),
        (lambda: assistant.remove_documents([stray], index_dir=""), "index_dir: empty"),
        (lambda: assistant.retrieve("notes", index_dir=""), "index_dir: empty"),
        (lambda: assistant.ask("What are the notes?", index_dir=""), "index_dir: empty"),
    ]
    called += emptied
    called += [  # the module's verbs check what the constructor checks (each had failed deep inside)
        (lambda: assistant.ask("What are the notes?", settings={"k": 3}), "settings: expected an assistant.Settings"),
        (lambda: assistant.retrieve("notes", settings={"k": 3}), "settings: expected an assistant.Settings"),
        (lambda: assistant.add_documents([stray], settings={"k": 1}), "settings: expected an assistant.Settings"),
        (lambda: assistant.ask("What are the notes?", index_dir=3), "index_dir: expected an index folder or a milvus:// address, got int"),
        (lambda: assistant.retrieve("notes", index_dir=b"/tmp"), "index_dir: expected an index folder or a milvus:// address, got bytes"),
        (lambda: assistant.remove_documents([stray], index_dir=3.5), "index_dir: expected an index folder or a milvus:// address, got float"),
        (lambda: Assistant(store=tmp_path / "index", embedder="x"), "embedder: expected an embedder (embed(texts), model_name, dimension), got str"),
        (lambda: bot.ask("What are the notes?", on_token=5), "on_token: expected a function called with each piece of text, got int"),
        # an empty folder had meant the working folder: a rebuild walked it, a search read it as the store
        (lambda: Settings(index_dir=""), "Settings(index_dir=…) index_dir='': expected a folder path"),
        (lambda: Settings(corpus_dir=" "), "Settings(corpus_dir=…) corpus_dir=' ': expected a folder path"),
    ]
    for call, message in made + called:  # each was a TypeError, AttributeError or FileExistsError from deep inside
        with pytest.raises(ValueError) as bad:
            call()
        assert str(bad.value).startswith(message) and "\n" not in str(bad.value)
    assert stray.read_text("utf-8") == "not an index" and not (tmp_path / "index").exists()  # nothing written
