"""A document assistant that answers from your files and cites the passage behind every claim.

Public API (imported lazily, so `import assistant` is fast)::

    bot = assistant.Assistant(store="index-folder")     # config in, verbs out: ask, retrieve,
                                                        # add, rebuild, remove, documents, as_retriever
    answer = assistant.ask("question")                  # Answer: text with [n], citations
    hits = assistant.retrieve("question", k=5)          # list[Hit]
    report = assistant.add_documents(["new.pdf", "folder/"])
    report = assistant.rebuild_index(["documents/"])
    retriever = assistant.as_retriever(k=4)             # a LangChain BaseRetriever
"""

from __future__ import annotations

import importlib

from assistant import config as _config  # noqa: F401  (sets the offline environment first)

_EXPORTS = {
    "Assistant": "facade",
    "ask": "answer.answering",
    "Answer": "answer.types",
    "Citation": "answer.types",
    "retrieve": "search.retrieval",
    "Hit": "search.retrieval",
    "add_documents": "ingest.indexing",
    "rebuild_index": "ingest.indexing",
    "remove_documents": "ingest.indexing",
    "Report": "ingest.indexing",
    "Cancelled": "ingest.indexing",
    "as_retriever": "interfaces.langchain",
    "Settings": "config",
    "LoadError": "ingest.documents",
    "IndexProblem": "store.snapshot",
    "ModelError": "answer.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
