"""`Assistant`: the whole product behind one object with verbs.

Configuration goes into the constructor (which store, which settings, which embedder); data goes
into the calls. The module-level functions (`assistant.ask`, `assistant.retrieve`,
`assistant.add_documents`, ...) stay as they were, each a call on the defaults::

    from assistant import Assistant
    bot = Assistant(store="/data/my-index")            # a folder: the FAISS index format
    bot.add(["report.pdf", "notes/"])
    answer = bot.ask("What did the report conclude?")
    hits = bot.retrieve("conclusion", k=3)
    bot.documents()                                     # what is indexed
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

from assistant.config import Settings


class Assistant:
    """Questions, retrieval and indexing over one store (today: an index folder)."""

    def __init__(self, store: str | os.PathLike | None = None, settings: Settings | None = None, embedder=None):
        self.settings = settings or Settings.from_env()
        self.store = str(store if store is not None else self.settings.index_dir)
        self._embedder = embedder  # None: the packaged all-MiniLM-L6-v2, loaded on first use

    @property
    def embedder(self):
        if self._embedder is None:
            from assistant.ingest.embeddings import default_embedder

            self._embedder = default_embedder(self.settings)
        return self._embedder

    def ask(self, question: str, history: Sequence | None = None, k: int | None = None,
            on_token: Callable[[str], None] | None = None):
        """A cited `Answer` (or the refusal with related passages)."""
        from assistant.answer.answering import ask

        return ask(question, history, k, self.store, settings=self.settings, embedder=self.embedder, on_token=on_token)

    def retrieve(self, question: str, k: int | None = None, mode: str = "hybrid") -> list:
        """The `k` best passages (`Hit`), best first; `mode`: hybrid, dense or bm25."""
        from assistant.search.retrieval import retrieve

        return retrieve(question, k, self.store, mode=mode, settings=self.settings, embedder=self.embedder)

    def add(self, paths, progress: bool = False, cancel=None):
        """Index new and changed files (folders too); the rest is untouched. A `Report`."""
        from assistant.ingest.indexing import add_documents

        return add_documents(paths, self.store, settings=self.settings, embedder=self.embedder, progress=progress, cancel=cancel)

    def rebuild(self, paths=None, progress: bool = False):
        """Make the index hold exactly `paths` (default: the recorded folders), pruning the rest."""
        from assistant.ingest.indexing import rebuild_index

        return rebuild_index(paths, self.store, settings=self.settings, embedder=self.embedder, progress=progress)

    def remove(self, sources):
        """Drop documents by their indexed source path."""
        from assistant.ingest.indexing import remove_documents

        return remove_documents(sources, self.store, settings=self.settings, embedder=self.embedder)

    def documents(self) -> tuple:
        """The indexed files (`FileEntry`: source, sha256, chunks, added, updated); () when none.
        Read from the cached searcher, as questions are: no reload while the index is unchanged."""
        from assistant.store.index import IndexMissing
        from assistant.search.retrieval import searcher_for

        try:
            return searcher_for(self.store, self.settings, self.embedder).index.manifest.files
        except IndexMissing:
            return ()

    def as_retriever(self, k: int = 4, mode: str = "hybrid"):
        """A LangChain `BaseRetriever` over this assistant's store, settings and embedder."""
        from assistant.interfaces.langchain import AssistantRetriever

        return AssistantRetriever(k=k, mode=mode, assistant=self)
