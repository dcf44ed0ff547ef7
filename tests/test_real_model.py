"""The real all-MiniLM-L6-v2 model: loads offline, embeds sensibly, answers the article's question."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

import assistant
from assistant.ingest import embeddings
from assistant.ingest.documents import load

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parent.parent
ARTICLE = PROJECT / "documents" / "000_6925d6d02227fd72.txt"
SEED_ARTICLE = Path("/work/shared/seed/000_6925d6d02227fd72.txt")
QUESTION = "How much did Huawei spend on research and development in 2018?"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails loudly."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_model_loads_and_embeds_without_network(no_network):
    # Force a fresh load inside this test even if another test already loaded the model (the
    # freshly loaded one is kept for the tests that follow).
    embeddings._model = None
    model = embeddings.MiniLMEmbeddings()

    query = model.embed_query("hello")

    assert embeddings._model is not None
    assert isinstance(query, list) and len(query) == 384 == model.dimension
    assert all(isinstance(x, float) for x in query)
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-4)

    texts = ["The cat sat on the mat.", "A kitten rested on the rug.", "Quarterly revenue rose by ten percent."]
    docs = np.array(model.embed_documents(texts))
    assert docs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    sims = docs @ docs.T
    assert sims[0, 1] > sims[0, 2] + 0.2 and sims[0, 1] > sims[1, 2] + 0.2  # meaning, not noise
    assert no_network == []
    assert model.model_name == "all-MiniLM-L6-v2"


def test_batch_embedding_keeps_input_order():
    # embed() sorts texts longest first internally; rows must come back in input order, across
    # several blocks (batch_size * 8 texts each), with progress reported for every text.
    model = embeddings.MiniLMEmbeddings(batch_size=2)
    texts = [("word " * n).strip() + f" number {n}." for n in (1, 40, 3, 25, 7, 60, 2, 18, 33, 5, 11, 4, 50, 9, 14, 6, 21, 8)]
    seen = []
    batch = model.embed(texts, progress=seen.append, threads=1)  # 1 thread: fast on a busy machine
    assert sum(seen) == len(texts) and len(seen) > 1
    one_by_one = np.stack([model.embed([t], threads=1)[0] for t in texts])
    assert batch.shape == (len(texts), 384) and batch.dtype == np.float32
    assert np.allclose(batch, one_by_one, atol=2e-3)
    assert (np.sum(batch * one_by_one, axis=1) > 0.9999).all()


def test_article_end_to_end(tmp_path):
    copy = tmp_path / "docs" / ARTICLE.name
    copy.parent.mkdir()
    shutil.copyfile(ARTICLE, copy)
    index_dir = tmp_path / "index"

    report = assistant.rebuild_index([copy], index_dir=index_dir)
    assert report.added == (str(copy),) and report.chunks > 1 and not report.failed

    hits = assistant.retrieve(QUESTION, index_dir=index_dir)
    assert len(hits) == assistant.Settings.from_env().k
    top = hits[0]
    assert "14.6 billion" in top.text
    assert top.source == str(copy)
    assert load(copy).text[top.start:top.end] == top.text
    assert top.label == f"{ARTICLE.name} \u00b6{top.position + 1}"

    # Dense and lexical sides each find it on their own too.
    for mode in ("dense", "bm25"):
        assert any("14.6 billion" in h.text for h in assistant.retrieve(QUESTION, k=3, index_dir=index_dir, mode=mode))


PLANS = """# Cloudbox plans and prices

Cloudbox offers three plans for teams of every size. Prices are in euros and exclude VAT.

| Plan | Monthly price | Storage | Users |
|---|---|---|---|
| Basic | 9 EUR | 50 GB | 1 |
| Team | 29 EUR | 1 TB | 10 |
| Enterprise | 99 EUR | 10 TB | Unlimited |

Annual billing saves two months on every plan.
"""


def test_a_table_row_answers_with_its_header_end_to_end(tmp_path):
    # read as cells alone ("| Team | 29 EUR | 1 TB | 10 |") the row had been refused (0.137)
    path = tmp_path / "docs" / "plans.md"
    path.parent.mkdir()
    path.write_text(PLANS, "utf-8")
    bot = assistant.Assistant(store=tmp_path / "index")
    bot.add([path])
    answer = bot.ask("How much does the Team plan cost per month?")
    assert answer.method == "extractive" and "29 EUR" in answer.text
    assert [c.quote for c in answer.citations] == ["| Plan | Monthly price | Storage | Users |", "| Team | 29 EUR | 1 TB | 10 |"]
    assert all(PLANS[c.quote_start:c.quote_end] == c.quote for c in answer.citations)


def test_a_csv_row_answers_end_to_end(tmp_path):
    names = ["Anna Keller", "Boris Novak", "Chloe Sato", "Dmitri Torres", "Elena Quist", "Farid Vogel", "Greta Xu"]
    rows = [f"{name},{['Finance', 'Legal', 'Sales'][i % 3]},{1200 + 37 * i},{['Lyon', 'Paris'][i % 2]}" for i, name in enumerate(names)]
    path = tmp_path / "docs" / "directory.csv"
    path.parent.mkdir()
    path.write_text("Name,Department,Phone extension,Office\n" + "\n".join(rows) + "\n", "utf-8")
    bot = assistant.Assistant(store=tmp_path / "index")
    bot.add([path])
    answer = bot.ask("What is the phone extension of Elena Quist?")
    assert "1348" in answer.text and "| Elena Quist | Legal | 1348 | Lyon |" in [c.quote for c in answer.citations]


def test_a_word_footnote_answers_end_to_end(tmp_path):
    from tests.test_documents import _p, _r, note, notes_docx, reference

    body = (_p(_r("The utility supplied 41 million cubic metres of water to 180,000 homes in 2024."), reference("footnote", 1),
               _r(" Leakage fell to 14% of the water supplied.")) + _p(_r("Prices rose by 3.2% in April."), reference("footnote", 2)))
    footnotes = (note("footnote", 1, "The accounts were audited by Keller and Partner in March 2025.")
                 + note("footnote", 2, "The rise was approved by the regional water regulator."))
    (tmp_path / "docs").mkdir()
    path = notes_docx(tmp_path / "docs" / "report.docx", body, footnotes)
    bot = assistant.Assistant(store=tmp_path / "index")
    bot.add([path])
    answer = bot.ask("Who audited the accounts?")  # a footnote's text, which had not been read
    assert "Keller and Partner" in answer.text
    assert [c.quote for c in answer.citations] == ["Note 1: The accounts were audited by Keller and Partner in March 2025."]


def test_shipped_article_matches_the_seed():
    if not SEED_ARTICLE.exists():
        pytest.skip(f"{SEED_ARTICLE} is not available here")
    assert ARTICLE.read_bytes() == SEED_ARTICLE.read_bytes()


ARTICLE_QUESTIONS = [QUESTION, "Who is Ken Hu?", "How many patents does Huawei hold?",
                     "What did Ken Hu say about the EU's cybersecurity work?", "What is the capital of France?"]


def test_the_onnx_encoder_gives_the_torch_vectors_and_the_same_hits(tmp_path):
    """fp32 ONNX is the same function as sentence-transformers (vectors within 1e-5, identical
    hits on the article); int8 stays close (cosine > 0.97 to torch) and finds the same top hit."""
    copy = tmp_path / "docs" / ARTICLE.name
    copy.parent.mkdir()
    shutil.copyfile(ARTICLE, copy)
    torch_model, onnx_model = embeddings.MiniLMEmbeddings(), embeddings.OnnxMiniLM()
    int8_model = embeddings.OnnxMiniLM(int8=True)
    texts = load(copy).text.split("\n")[:40] + ["", "x" * 3000, "Émile Zola — «J'accuse»"]
    reference = torch_model.embed(texts)
    assert np.abs(onnx_model.embed(texts) - reference).max() < 1e-5
    assert ((int8_model.embed(texts) * reference).sum(axis=1) > 0.97).all()
    assert onnx_model.model_name == torch_model.model_name != int8_model.model_name  # int8 is another recipe

    ids, scores = {}, {}
    for name, model in (("torch", torch_model), ("onnx", onnx_model), ("int8", int8_model)):
        bot = assistant.Assistant(tmp_path / f"index-{name}", embedder=model)
        bot.add([copy])
        results = [bot.retrieve(q, k=5) for q in ARTICLE_QUESTIONS]
        ids[name] = [[h.chunk_id for h in hits] for hits in results]
        scores[name] = np.array([[h.score for h in hits] for hits in results])
    assert ids["onnx"] == ids["torch"] and np.allclose(scores["onnx"], scores["torch"], atol=1e-4)
    assert [hits[0] for hits in ids["int8"]] == [hits[0] for hits in ids["torch"]]


def test_the_onnx_query_path_does_not_import_torch():
    import subprocess
    import sys

    embeddings.export_onnx()  # done once per checkout (this may import torch here, not below)
    code = ("import sys, assistant\n"
            "from assistant.ingest.embeddings import OnnxMiniLM\n"
            "v = OnnxMiniLM().embed_queries(['Who is Ken Hu?'])\n"
            "assert v.shape == (1, 384)\n"
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_query_sessions_sleep_between_calls_and_indexing_sessions_spin():
    """Idle onnxruntime threads spin after each call by default; at question time that took the
    cores from the answer model reading next, while indexing runs faster with it."""
    encoder = embeddings.OnnxMiniLM(int8=True, index_threads=2, query_threads=2)
    query = encoder.embed_queries(["Who is Ken Hu?"])
    indexed = encoder.embed(["Who is Ken Hu?"])
    assert np.allclose(query, indexed, atol=1e-6)  # the same vectors either way
    options = {key: session.get_session_options() for key, session in encoder._sessions.items()}
    assert options[(2, True)].get_session_config_entry("session.intra_op.allow_spinning") == "0"
    with pytest.raises(Exception, match="allow_spinning|does not have"):
        options[(2, False)].get_session_config_entry("session.intra_op.allow_spinning")
