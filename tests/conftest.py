"""Shared fixtures: a fake embedder, small-chunk settings, and isolation from the real index."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

import pytest

from tests.fakes import HashEmbedder

# Hypothesis keeps an example database and caches under ./.hypothesis by default: keep the
# working tree clean by pointing it at a throw-away directory and disabling the database.
try:
    from hypothesis import configuration as _hyp_configuration
    from hypothesis import settings as _hyp_settings

    _hyp_home = tempfile.mkdtemp(prefix="assistant-tests-hypothesis-")
    atexit.register(shutil.rmtree, _hyp_home, True)
    _hyp_configuration.set_hypothesis_home_dir(_hyp_home)
    _hyp_settings.register_profile("assistant-tests", database=None, deadline=None)
    _hyp_settings.load_profile("assistant-tests")
except ImportError:  # pragma: no cover - hypothesis is in requirements.txt
    pass


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: loads the real all-MiniLM-L6-v2 model (deselect with -m 'not slow')"
    )


@pytest.fixture(autouse=True)
def _isolated_index(tmp_path, monkeypatch):
    """No test may read or write the project's own index/ (or pick up a developer's settings)."""
    for name in list(os.environ):
        if name.startswith("ASSISTANT_"):
            monkeypatch.delenv(name)
    default_index = tmp_path / "default-index"
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(default_index))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "default-corpus"))
    from assistant.search import retrieval

    retrieval.forget()
    yield default_index
    retrieval.forget()
    if "assistant.store.milvus" in sys.modules:  # free the Milvus Lite files this test opened
        sys.modules["assistant.store.milvus"].close_clients()


@pytest.fixture
def settings():
    from assistant.config import Settings

    return Settings.from_env(chunk_size=300, chunk_overlap=60)


@pytest.fixture
def embedder():
    return HashEmbedder()


@pytest.fixture
def one_document(tmp_path, settings, embedder):
    """`index(text, chunk_size, name)`: the searcher of a fresh index holding one document of `text`
    (a file `name`, "document.txt" unless given), in chunks of `chunk_size` characters without
    overlap (the hash embedder)."""
    from assistant.ingest.indexing import add_documents
    from assistant.search.retrieval import searcher_for

    def index(text: str, chunk_size: int, name: str = "document.txt"):
        corpus = tmp_path / "one-document"
        corpus.mkdir()
        (corpus / name).write_bytes(text.encode("utf-8"))  # (as written: "\r\n" stays)
        chosen = settings.replace(chunk_size=chunk_size, chunk_overlap=0)
        add_documents([corpus], index_dir=tmp_path / "one-document-index", settings=chosen, embedder=embedder)
        return searcher_for(tmp_path / "one-document-index", chosen, embedder)

    return index
