"""retrieve(): the three modes, k, argument checking, cache invalidation, and the LangChain retriever."""

from __future__ import annotations

import pytest

import assistant
from assistant.search import retrieval
from assistant.ingest.documents import load
from assistant.store.index import Index, IndexMissing
from assistant.ingest.indexing import add_documents, rebuild_index, remove_documents
from assistant.search.retrieval import Hit, Searcher, checked_question, retrieve, searcher_for
from tests.fakes import HashEmbedder

CORPUS = {
    "apples.txt": "Apple orchards\n\nApple orchards cover the northern valley. Farmers harvest apples in September. "
    "Cider presses run through October. Frost in April can ruin the apple blossom. "
    "Most apples are sold to supermarkets in the capital. Orchard workers earn a seasonal wage.",
    "rockets.md": "# Rocket engines\n\nLiquid rocket engines burn kerosene and oxygen. "
    "The turbopump feeds propellant at high pressure. Nozzles expand the exhaust gas. "
    "Engine tests happen on a vertical stand. Reusable boosters land on a barge at sea.",
    "taxes.txt": "Tax reform\n\nThe new tax law raises the income threshold. Small businesses get a deduction for equipment. "
    "Filing opens in January and closes in April. Late filers pay a penalty of five percent. "
    "Tax advisers expect fewer audits next year.",
    "ships.txt": "Container shipping\n\nContainer ships carry most of the world's trade. The largest vessels hold "
    "twenty thousand containers. Ports dredge channels so that ships can dock. Fuel is the biggest cost "
    "for a shipping line. Slow steaming saves fuel on long routes.",
}


@pytest.fixture
def settings():
    """Smaller chunks than conftest's, so each short document gives two or three."""
    from assistant.config import Settings

    return Settings.from_env(chunk_size=150, chunk_overlap=30)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def index_dir(corpus, tmp_path, settings, embedder):
    target = tmp_path / "index"
    add_documents([corpus], index_dir=target, settings=settings, embedder=embedder)
    return target


def ask(question, index_dir, settings, embedder, **kwargs):
    return retrieve(question, index_dir=index_dir, settings=settings, embedder=embedder, **kwargs)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize(
    "question, expected",
    [
        ("turbopump propellant pressure", "rockets.md"),
        ("penalty for late filers", "taxes.txt"),
        ("when do farmers harvest apples", "apples.txt"),
        ("container ships fuel", "ships.txt"),
    ],
)
def test_each_mode_finds_the_right_document(index_dir, settings, embedder, mode, question, expected):
    hits = ask(question, index_dir, settings, embedder, k=3, mode=mode)
    assert hits and hits[0].source.endswith(expected)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk_id for h in hits}) == len(hits)


def test_hits_point_into_the_loaded_text(index_dir, corpus, settings, embedder):
    index = Index.load(index_dir)
    ids = {c.id: c for c in index.chunks}
    for mode in ("hybrid", "dense", "bm25"):
        for hit in ask("apples frost blossom", index_dir, settings, embedder, k=5, mode=mode):
            assert isinstance(hit, Hit)
            assert load(hit.source).text[hit.start:hit.end] == hit.text
            chunk = ids[hit.chunk_id]
            assert (chunk.source, chunk.start, chunk.end, chunk.position) == (hit.source, hit.start, hit.end, hit.position)
            assert hit.page is None and hit.label == f"{hit.source.rsplit('/', 1)[1]} \u00b6{hit.position + 1}"
            assert hit.title == load(hit.source).title


def test_k_is_respected(index_dir, settings, embedder):
    total = len(Index.load(index_dir).chunks)
    assert total >= 6
    for k in (1, 2, 5):
        assert len(ask("apples and ships", index_dir, settings, embedder, k=k)) == k
        assert len(ask("apples and ships", index_dir, settings, embedder, k=k, mode="dense")) == k
        assert len(ask("apples and ships", index_dir, settings, embedder, k=k, mode="bm25")) <= k
    # More than there is: everything, once.
    hits = ask("apples and ships", index_dir, settings, embedder, k=total + 10, mode="dense")
    assert len(hits) == total and len({h.chunk_id for h in hits}) == total
    # Default k comes from the settings (the cache is keyed by them; forget() only for a clean start).
    retrieval.forget(index_dir)
    assert len(ask("apples", index_dir, settings.replace(k=3), embedder)) == 3
    assert len(Searcher(Index.load(index_dir), embedder, settings.replace(k=2)).search("apples")) == 2


def test_dense_score_is_the_best_sentence_similarity(index_dir, settings, embedder):
    question = "harvest apples in September"
    hits = ask(question, index_dir, settings, embedder, k=4, mode="dense")
    index = Index.load(index_dir)
    by_id = {c.id: c for c in index.chunks}
    q = HashEmbedder.vector(question)
    for hit in hits:
        chunk = by_id[hit.chunk_id]
        sims = [float(HashEmbedder.vector(f"{chunk.title}\n{chunk.text[s - chunk.start:e - chunk.start]}") @ q)
                for s, e in chunk.sentences]
        assert hit.score == pytest.approx(max(sims), abs=1e-5)


def test_bm25_needs_a_query_word_that_occurs(index_dir, settings, embedder):
    assert ask("zeppelin", index_dir, settings, embedder, mode="bm25") == []
    assert ask("the and of", index_dir, settings, embedder, mode="bm25") == []  # stop words only
    hits = ask("kerosene", index_dir, settings, embedder, k=5, mode="bm25")
    assert hits and all("kerosene" in h.text.lower() for h in hits)
    # Singular/plural meet ("engines" -> "engine").
    assert ask("engine", index_dir, settings, embedder, k=1, mode="bm25")[0].source.endswith("rockets.md")


def test_building_keyword_search_writes_nothing_to_a_console_that_logs(caplog):
    # bm25s sets its logger to DEBUG when imported: where the root logger had a handler, each index
    # built wrote "DEBUG:bm25s:Building index from IDs" to the app's console
    import logging

    from assistant.search.lexical import BM25

    with caplog.at_level(logging.DEBUG):
        BM25(["Kerosene feeds the engine.", "Oxygen is the oxidiser."])
    assert not [r for r in caplog.records if r.name.startswith("bm25s")]


def test_keyword_search_reads_a_word_as_one_however_its_characters_were_typed(tmp_path, settings, embedder):
    # an accent typed as a separate mark, a soft hyphen, a zero-width space or a ligature had split
    # a word, so keyword search found nothing (1 of 30 decomposed café documents first)
    from assistant.search.lexical import tokenize

    assert tokenize("He\u0301le\u0300ne Me\u0301lisande") == tokenize("Hélène Mélisande") == ["hélène", "mélisand"]
    assert tokenize("infor\u00admation harbour\u200bview roof\u2060top pro\ufb01t ＡＢＣ") == tokenize("information harbourview rooftop profit abc")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "nfd.txt").write_text("Me\u0301lisande Lefe\u0300vre runs the cafe\u0301 by the harbour.\n", "utf-8")
    (docs / "lig.txt").write_text("The pro\ufb01t of the bakery doubled.\n", "utf-8")
    (docs / "other.txt").write_text("Bees make honey in the hive.\n", "utf-8")
    store = tmp_path / "index"
    rebuild_index([docs], index_dir=store, settings=settings, embedder=embedder)
    assert ask("Mélisande Lefèvre", store, settings, embedder, k=1, mode="bm25")[0].source.endswith("nfd.txt")
    assert ask("profit", store, settings, embedder, k=1, mode="bm25")[0].source.endswith("lig.txt")


def test_keyword_search_finds_chinese_and_japanese_text_by_pairs_of_characters(tmp_path, settings, embedder):
    # a clause without spaces had been one token that no question matched
    from assistant.search.lexical import tokenize

    assert tokenize("仓库存放") == ["仓库", "库存", "存放"] and tokenize("東京 in May") == ["東京", "may"]
    assert "60" in tokenize("第60号仓库") and tokenize("山") == ["山"]
    docs = tmp_path / "docs"
    docs.mkdir()
    fruit = ["苹果", "香蕉", "橙子", "葡萄", "梨子"]
    (docs / "cang.txt").write_text("".join(f"第{i}号仓库存放了{100 + i}箱{fruit[i % 5]}。\n" for i in range(1, 60)), "utf-8")
    (docs / "fuji.txt").write_text("富士山は日本で最も高い山です。標高は三千七百七十六メートルです。\n", "utf-8")
    store = tmp_path / "index"
    rebuild_index([docs], index_dir=store, settings=settings, embedder=embedder)
    assert ask("富士山の標高は？", store, settings, embedder, k=1, mode="bm25")[0].source.endswith("fuji.txt")
    hit = ask("哪个仓库存放了葡萄？", store, settings, embedder, k=1, mode="bm25")[0]
    assert "葡萄" in hit.text


def test_a_word_broken_at_a_line_end_is_found_and_embedded_whole_and_quoted_as_written(tmp_path, settings, embedder):
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.documents import load
    from assistant.ingest.indexing import embedding_texts

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.txt").write_text("The target for infor-\nmation sharing with the towns was met in\nMarch.\n", "utf-8")
    (docs / "other.txt").write_text("Bees make honey in the hive.\n", "utf-8")
    store = tmp_path / "index"
    rebuild_index([docs], index_dir=store, settings=settings, embedder=embedder)
    hit = ask("information sharing", store, settings, embedder, k=1, mode="bm25")[0]
    assert hit.source.endswith("report.txt") and "infor-\nmation" in hit.text
    chunks = chunk_document(load(docs / "report.txt"), settings.chunk_size, settings.chunk_overlap)
    assert "information sharing" in embedding_texts(chunks, False)[1][0]


def test_hybrid_scores_are_fused_into_unit_range(index_dir, settings, embedder):
    hits = ask("apple cider october", index_dir, settings, embedder, k=10)
    assert all(0.0 <= h.score <= 1.0 + 1e-9 for h in hits)
    assert hits[0].score == pytest.approx(max(h.score for h in hits))


def test_rrf_fusion(index_dir, settings, embedder):
    s = settings.replace(fusion="rrf")
    hits = Searcher(Index.load(index_dir), embedder, s).search("turbopump propellant", k=3)
    assert hits[0].source.endswith("rockets.md")
    # Weighted reciprocal rank: at best first on both sides.
    assert hits[0].score <= s.dense_weight / (s.rrf_k + 1) + (1 - s.dense_weight) / (s.rrf_k + 1) + 1e-12


def test_search_many_equals_search(index_dir, settings, embedder):
    searcher = Searcher(Index.load(index_dir), embedder, settings)
    questions = ["apples", "rocket engines", "tax threshold", "ports dredge channels"]
    assert searcher.search_many(questions, k=3) == [searcher.search(q, k=3) for q in questions]


@pytest.mark.parametrize("k", [0, -1, -100, 101, 100_000_000])
def test_bad_k_is_a_value_error(index_dir, settings, embedder, k):
    # the same bounds as the k setting (a k of a hundred million had been taken)
    with pytest.raises(ValueError, match=rf"k={k}: must be a whole number from 1 to 100"):
        ask("apples", index_dir, settings, embedder, k=k)
    with pytest.raises(ValueError) as huge:  # (its 309 digits had been written out)
        ask("apples", index_dir, settings, embedder, k=int(1e308))
    assert str(huge.value) == f"k={str(int(1e308))[:20]}…: must be a whole number from 1 to 100"


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\u200b\u200b\u200b", "\u00a0\u2028\x00"])
def test_empty_question_is_a_value_error(index_dir, settings, embedder, question):
    with pytest.raises(ValueError, match="question: must be a non-empty string"):
        ask(question, index_dir, settings, embedder)


@pytest.mark.parametrize("question, kind", [(None, "NoneType"), (42, "int"), ({"question": "apples"}, "dict"), (b"apples", "bytes")])
def test_a_question_that_is_not_a_string_is_named_by_its_type(index_dir, settings, embedder, question, kind):
    # a chain's input dict reaching the retriever had been told it "must be a non-empty string"
    with pytest.raises(ValueError, match=f"^question: expected a string, got {kind}$"):
        ask(question, index_dir, settings, embedder)


@pytest.mark.parametrize("question", ["???", " ... ", "\U0001F914", "-_-", "¿?"])
def test_a_question_without_a_word_is_one_line_not_a_search(index_dir, settings, embedder, question):
    with pytest.raises(ValueError, match="^question: no words in it, only punctuation or symbols"):
        ask(question, index_dir, settings, embedder)
    with pytest.raises(ValueError, match="^question: no words in it"):
        retrieve(question, index_dir=index_dir, settings=settings, embedder=embedder)
    for worded in ("2+2?", "¿Qué?", "Ωμέγα?", "東京?"):  # a digit or a letter of any script is a word
        assert checked_question(worded) == worded


@pytest.mark.parametrize("question", ["<b>???</b>", "<p>!!!</p>", "<i>\U0001F642</i>", "<script>alert(1)</script>?"])
def test_a_question_of_markup_without_a_word_is_one_line_not_a_search(index_dir, settings, embedder, question):
    with pytest.raises(ValueError, match="^question: no words in it, only markup, punctuation or symbols"):
        ask(question, index_dir, settings, embedder)
    with pytest.raises(ValueError, match="^question: no words in it"):
        retrieve(question, index_dir=index_dir, settings=settings, embedder=embedder)
    assert checked_question("<b>Who</b> picks apples?") == "<b>Who</b> picks apples?"
    with pytest.raises(ValueError, match="^question: too long"):  # the length is checked before any markup is read
        checked_question("<a" * 100_000)


def test_a_question_that_is_not_valid_unicode_is_one_line_naming_it(index_dir, settings, embedder):
    """An unpaired surrogate (what a broken client can send) reached the encoder as a TypeError."""
    from assistant.answer.answering import ask as answer

    with pytest.raises(ValueError) as bad:
        ask("apples\ud800", index_dir, settings, embedder)
    assert str(bad.value) == "question: holds an unpaired surrogate at character 6, which is not valid Unicode text"
    with pytest.raises(ValueError, match="^question: holds an unpaired surrogate at character 0"):
        answer("\udc00 apples?", index_dir=index_dir, settings=settings, embedder=embedder)
    with pytest.raises(ValueError, match="^history: turn 2 holds an unpaired surrogate"):
        answer("And pears?", history=[("apples?", "yes"), ("pears\ud800?", "")], index_dir=index_dir, settings=settings, embedder=embedder)
    assert ask("apples \U0001F34E", index_dir, settings, embedder)  # a paired one (an emoji) is fine


def test_a_question_longer_than_a_question_is_one_line_before_any_work(tmp_path, settings, embedder):
    from assistant.search.retrieval import MAX_QUESTION_CHARS

    with pytest.raises(ValueError, match=f"^question: too long \\({MAX_QUESTION_CHARS + 1:,} characters; at most"):
        retrieve("a" * (MAX_QUESTION_CHARS + 1), index_dir=tmp_path / "none", settings=settings, embedder=embedder)
    with pytest.raises(ValueError, match="^question: must be a non-empty string"):  # checked before the index is looked for
        assistant.Assistant(tmp_path / "none", settings=settings, embedder=embedder).retrieve("")
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("k, mode, message", [(0, "hybrid", "k=0: must be a whole number"), ("2", "hybrid", "k='2'"),
                                             (True, "hybrid", "k=True"), (2, "semantic", "mode 'semantic'")])
def test_a_langchain_retriever_with_a_bad_k_or_mode_is_refused_when_made(k, mode, message):
    from assistant.interfaces.langchain import AssistantRetriever

    with pytest.raises(ValueError) as bad:
        assistant.as_retriever(k=k, mode=mode)
    assert str(bad.value).startswith(message) and "\n" not in str(bad.value)  # one line from the function
    with pytest.raises(ValueError, match=message.split(":")[0].replace("(", r"\(")):
        AssistantRetriever(k=k, mode=mode)  # made directly: pydantic's report, the same reason


def test_unknown_mode_is_a_value_error(index_dir, settings, embedder):
    with pytest.raises(ValueError, match="mode 'semantic'"):
        ask("apples", index_dir, settings, embedder, mode="semantic")


def test_missing_index_says_what_to_run(tmp_path, settings, embedder):
    with pytest.raises(IndexMissing, match=f"python -m assistant --index {tmp_path / 'no-index'} index rebuild"):
        ask("apples", tmp_path / "no-index", settings, embedder)


def test_default_index_dir_comes_from_the_environment(_isolated_index, corpus, embedder):
    # The autouse fixture points ASSISTANT_INDEX_DIR at a temporary directory.
    assistant.add_documents([corpus], embedder=embedder)
    assert (_isolated_index / "CURRENT").is_file()
    hits = assistant.retrieve("kerosene oxygen", k=1, embedder=embedder)
    assert hits[0].source.endswith("rockets.md")


def test_searcher_is_cached_until_the_index_changes(index_dir, corpus, settings, embedder):
    first = searcher_for(index_dir, settings, embedder)
    assert searcher_for(index_dir, settings, embedder) is first
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)  # no change
    assert searcher_for(index_dir, settings, embedder) is first
    (corpus / "new.txt").write_text("A note on volcanoes erupting.", "utf-8")
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    assert searcher_for(index_dir, settings, embedder) is not first


def test_settings_that_differ_only_when_searching_share_one_loaded_index(index_dir, corpus, settings, embedder, monkeypatch):
    from assistant.store.faiss import FaissStore

    loads = []
    original = FaissStore.load
    monkeypatch.setattr(FaissStore, "load", lambda self, *a, **kw: loads.append(1) or original(self, *a, **kw))
    first = searcher_for(index_dir, settings, embedder)
    other = settings.replace(k=2, answer_workers=1, dense_weight=0.3)
    second = searcher_for(index_dir, other, embedder)
    assert len(loads) == 1  # the second settings reuse the loaded index
    assert second is not first and second.settings == other and second.index is first.index and second.bm25 is first.bm25
    assert len(second.search("kerosene oxygen")) == 2  # its own search-time settings apply
    for _ in range(3):  # alternating costs no reload
        assert searcher_for(index_dir, settings, embedder) is first and searcher_for(index_dir, other, embedder) is second
    assert len(loads) == 1
    reweighted = searcher_for(index_dir, settings.replace(bm25_k1=0.9), embedder)  # BM25 is built with it: its own load
    assert len(loads) == 2 and reweighted.bm25 is not first.bm25
    (corpus / "new.txt").write_text("A note on volcanoes erupting.", "utf-8")
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    fresh = searcher_for(index_dir, other, embedder)  # a changed index is loaded again, for every settings
    assert fresh.index is not first.index and any(c.source.endswith("new.txt") for c in fresh.index.chunks)
    assert searcher_for(index_dir, settings, embedder).index is fresh.index


def test_retrieve_sees_changes_immediately(index_dir, corpus, tmp_path, settings, embedder):
    assert not any("zeppelin" in h.text.lower() for h in ask("zeppelin airship", index_dir, settings, embedder, k=10))
    (corpus / "zeppelins.txt").write_text("Zeppelin airships\n\nThe zeppelin airship crossed the Atlantic in 1924.", "utf-8")
    add_documents([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    hits = ask("zeppelin airship", index_dir, settings, embedder, k=1)
    assert hits[0].source == str(corpus / "zeppelins.txt")

    (corpus / "zeppelins.txt").unlink()
    rebuild_index([corpus], index_dir=index_dir, settings=settings, embedder=embedder)
    assert all(h.source != str(corpus / "zeppelins.txt") for h in ask("zeppelin airship", index_dir, settings, embedder, k=10))

    remove_documents([str(corpus / "rockets.md")], index_dir=index_dir, settings=settings, embedder=embedder)
    assert all("rockets" not in h.source for h in ask("rocket turbopump", index_dir, settings, embedder, k=10))

    # A rebuild into a different spelling of the same directory is seen too.
    rebuild_index([corpus], index_dir=str(index_dir) + "/./", settings=settings.replace(chunk_size=100), embedder=embedder)
    assert all(len(h.text) <= 100 for h in ask("apples", index_dir, settings, embedder, k=10))


def test_retrieve_honours_settings_passed_on_later_calls(index_dir, settings, embedder):
    assert len(ask("apples", index_dir, settings.replace(k=1), embedder)) == 1
    assert len(ask("apples", index_dir, settings.replace(k=4), embedder)) == 4


@pytest.mark.slow
def test_langchain_retriever_with_the_real_model(corpus, tmp_path):
    from langchain_core.documents import Document as LCDocument
    from langchain_core.retrievers import BaseRetriever

    target = tmp_path / "real-index"
    report = assistant.rebuild_index([corpus], index_dir=target)
    assert len(report.added) == len(CORPUS)
    from assistant.ingest.embeddings import default_embedder

    assert Index.load(target).manifest.model == default_embedder().model_name

    retriever = assistant.as_retriever(k=2, index_dir=target)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("What feeds propellant to a liquid rocket engine?")

    assert len(docs) == 2 and all(isinstance(d, LCDocument) for d in docs)
    assert docs[0].metadata["source"] == str(corpus / "rockets.md")
    for doc in docs:
        meta = doc.metadata
        assert {"source", "start", "end", "page", "score", "label", "chunk_id"} <= set(meta)
        assert doc.page_content == load(meta["source"]).text[meta["start"]:meta["end"]]
        assert doc.id == meta["chunk_id"]
        assert meta["page"] is None and isinstance(meta["score"], float)
        assert meta["label"].startswith(meta["source"].rsplit("/", 1)[1])
    assert docs[0].metadata["score"] >= docs[1].metadata["score"]
    # Same answer as retrieve() with the default (real) embedder.
    hits = assistant.retrieve("What feeds propellant to a liquid rocket engine?", k=2, index_dir=target)
    assert [h.chunk_id for h in hits] == [d.metadata["chunk_id"] for d in docs]


def test_search_piped_into_a_reader_that_stops_early_ends_quietly(index_dir, settings, embedder, monkeypatch, capsys):
    """`python -m assistant search ... --json | head -3` ended with "error: [Errno 32] Broken pipe"."""
    import os
    import sys

    from assistant.ingest import embeddings
    from assistant.interfaces import cli

    monkeypatch.setattr(embeddings, "default_embedder", lambda settings=None: embedder)  # the index's (hash) embedder
    read, write = os.pipe()
    os.close(read)  # the reader has gone
    monkeypatch.setattr(sys, "stdout", os.fdopen(write, "w", buffering=1))
    assert cli.main(["--index-dir", str(index_dir), "search", "apples", "--json"]) == 141  # 128 + SIGPIPE, as a shell reports it
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_copies_of_a_document_give_their_passage_once_and_the_next_one_takes_the_place(tmp_path, settings, embedder, mode):
    # byte-identical copies had filled the results: 3 of 5 hits were one passage
    docs = tmp_path / "docs"
    docs.mkdir()
    text = "The harbour crane lifts forty tonnes. It was installed in 1987 by the port authority."
    for name in ("crane.txt", "copy of crane.txt", "crane (2).txt"):
        (docs / name).write_text(text, "utf-8")
    (docs / "dock.txt").write_text("The dry dock repairs ships. The harbour crane serves the dry dock too.", "utf-8")
    index_dir = tmp_path / "index"
    add_documents([docs], index_dir=index_dir, settings=settings, embedder=embedder)
    hits = retrieve("How much does the harbour crane lift?", 2, index_dir, mode=mode, settings=settings, embedder=embedder)
    assert len(hits) == 2 and len({h.text for h in hits}) == 2
    assert {h.source.rsplit("/", 1)[-1] for h in hits} & {"crane.txt", "copy of crane.txt", "crane (2).txt"}
    assert any(h.source.endswith("dock.txt") for h in hits)


def test_a_search_uses_the_query_threads_for_faiss_in_its_own_thread_only(index_dir, settings, embedder):
    # FAISS had used every core for each question's search: 5.3 against 0.9 ms at the median on a busy machine
    import threading

    import faiss

    before = faiss.omp_get_max_threads()
    seen = {}

    def search(threads: int) -> None:
        ask("penalty for late filers", index_dir, settings.replace(query_threads=threads), embedder, k=1, mode="dense")
        seen[threads] = faiss.omp_get_max_threads()

    for threads in (1, 2):
        worker = threading.Thread(target=search, args=(threads,))
        worker.start()
        worker.join()
    assert seen == {1: 1, 2: 2}
    assert faiss.omp_get_max_threads() == before  # OpenMP keeps the count per thread: this one's is untouched


def test_of_identical_copies_the_one_still_on_disk_is_returned(tmp_path, settings, embedder):
    # the deleted copy had been returned (and quoted, "gone") while an identical one was there
    text = "Harbour seals rest on the sandbanks at low tide."
    for folder in ("x", "y"):
        (tmp_path / "dup" / folder).mkdir(parents=True)
        (tmp_path / "dup" / folder / "a.txt").write_text(text, encoding="utf-8")
    index_dir = tmp_path / "index"
    add_documents([tmp_path / "dup"], index_dir=index_dir, settings=settings, embedder=embedder)
    first = ask("harbour seals sandbanks", index_dir, settings, embedder, k=2)
    assert len(first) == 1 and first[0].source == str(tmp_path / "dup" / "x" / "a.txt")  # one of the copies
    (tmp_path / "dup" / "x" / "a.txt").unlink()  # an add keeps a file gone from its folder
    (hit,) = ask("harbour seals sandbanks", index_dir, settings, embedder, k=2)
    assert hit.source == str(tmp_path / "dup" / "y" / "a.txt") and hit.score == first[0].score
