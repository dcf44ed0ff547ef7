"""`Assistant`: the whole product behind one object with verbs.

Configuration goes into the constructor (which store, which settings, which embedder); data goes
into the calls. The module-level functions (`assistant.ask`, `assistant.retrieve`,
`assistant.add_documents`, ...) stay as they were: they share one searcher per store per process
(the default instance), while each `Assistant` keeps its own, reloaded when its store changes::

    from assistant import Assistant
    bot = Assistant(store="/data/my-index")            # a folder: the FAISS index format
    bot = Assistant(store="milvus:///data/index.db")    # Milvus Lite; milvus://host:19530 a server
    bot.add(["report.pdf", "notes/"])
    answer = bot.ask("What did the report conclude?")
    hits = bot.retrieve("conclusion", k=3)
    bot.documents()                                     # what is indexed
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Sequence

from assistant.config import Settings


class Assistant:
    """Questions, retrieval and indexing over one store (an index folder or Milvus)."""

    def __init__(self, store: str | os.PathLike | None = None, settings: Settings | None = None, embedder=None):
        from assistant.store import open_store

        if embedder is not None and not all(hasattr(embedder, name) for name in ("embed", "model_name", "dimension")):
            raise ValueError(f"embedder: expected an embedder (embed(texts), model_name, dimension), got {type(embedder).__name__}")
        if store is not None and not isinstance(store, (str, os.PathLike)):
            raise ValueError(f"store: expected an index folder or a milvus:// address, got {type(store).__name__}")
        self.settings = Settings.given(settings)
        self._store = open_store(store if store is not None else self.settings.index_dir, self.settings)
        self.store = self._store.name
        self._embedder = embedder  # None: the packaged all-MiniLM-L6-v2, loaded on first use
        self._loaded: tuple[str | None, object] | None = None  # (store token, this assistant's Searcher)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Assistant(store={self.store!r})"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        """An assistant is a handle on its store and what it has loaded (the index, the models):
        a copy of something holding one, such as its LangChain retriever, shares it."""
        return self

    @property
    def embedder(self):
        if self._embedder is None:
            from assistant.ingest.embeddings import default_embedder

            self._embedder = default_embedder(self.settings)
        return self._embedder

    def searcher(self):
        """This assistant's own `Searcher` over its store (no cache shared with other instances),
        loaded on first use and again whenever the store has changed since."""
        from assistant.search.retrieval import Searcher

        token = self._store.token()
        with self._lock:
            if self._loaded is None or token is None or self._loaded[0] != token:
                snapshot = self._store.load(self.embedder.model_name, self.embedder.dimension)
                self._loaded = (token, Searcher(snapshot, self.embedder, self.settings))
            return self._loaded[1]

    def ask(self, question: str, history: Sequence | None = None, k: int | None = None,
            on_token: Callable[[str], None] | None = None):
        """A cited `Answer` (or the refusal with related passages)."""
        from assistant.answer import smalltalk
        from assistant.answer.answering import ask, checked_on_token
        from assistant.store.snapshot import IndexMissing

        checked_on_token(on_token)  # before the index is loaded

        if isinstance(question, str) and smalltalk.kind(question):  # "hi", "what documents do you have?": even with no index
            try:
                searcher = self.searcher()
            except IndexMissing:
                searcher = None
            return ask(question, history, k, self.store, settings=self.settings, embedder=self.embedder, searcher=searcher)
        return self._read(lambda searcher: ask(question, history, k, self.store, settings=self.settings, embedder=self.embedder,
                                               on_token=on_token, searcher=searcher))

    def retrieve(self, question: str, k: int | None = None, mode: str = "hybrid") -> list:
        """The `k` best passages (`Hit`), best first; `mode`: hybrid, dense or bm25."""
        from assistant.search.retrieval import checked_question, retrieve

        checked_question(question)  # before the index is loaded
        return self._read(lambda searcher: retrieve(question, k, mode=mode, searcher=searcher))

    def _read(self, call):
        """`call(searcher)`, and once more with the store loaded again if it was changed while
        being read: a Milvus commit is several calls, so a question read while one deletes rows
        can find some of its passages gone (the folder store never changes under a reader)."""
        from assistant.store.snapshot import IndexCorrupt

        searcher = self.searcher()
        try:
            return call(searcher)
        except IndexCorrupt:
            if self._store.token() == self._loaded[0]:
                raise  # nothing changed: the damage is real
            return call(self.searcher())

    def add(self, paths, progress: bool = False, cancel=None):
        """Index new and changed files (folders too); the rest is untouched. A `Report`."""
        from assistant.ingest.indexing import add_documents

        return add_documents(paths, self.store, settings=self.settings, embedder=self.embedder, progress=progress, cancel=cancel)

    def rebuild(self, paths=None, progress: bool = False):
        """Make the index hold exactly `paths` (default: the recorded folders; for a store with no
        index yet, the default corpus, `Settings.corpus_dir`), pruning the rest."""
        from assistant.ingest.indexing import rebuild_index

        return rebuild_index(paths, self.store, settings=self.settings, embedder=self.embedder, progress=progress)

    def remove(self, sources):
        """Drop documents by their indexed source path."""
        from assistant.ingest.indexing import remove_documents

        return remove_documents(sources, self.store, settings=self.settings, embedder=self.embedder)

    def documents(self) -> tuple:
        """The indexed files (`FileEntry`: source, sha256, chunks, added, updated); () when none.
        Read from this assistant's searcher: no reload while the store is unchanged."""
        from assistant.store.snapshot import IndexMissing

        try:
            return self.searcher().index.manifest.files
        except IndexMissing:
            return ()

    def ensure_index(self, progress: bool = False, say: Callable[[str], None] | None = None):
        """Rebuild the store from its recorded folders (or the default corpus) when it is missing,
        unreadable or made with another recipe; the `Report`, or None when it was fine."""
        from assistant.ingest.indexing import ensure_index

        return ensure_index(self.store, settings=self.settings, embedder=self.embedder, progress=progress, say=say,
                            searcher=self.searcher)

    def as_retriever(self, k: int = 4, mode: str = "hybrid"):
        """A LangChain `BaseRetriever` over this assistant's store, settings and embedder."""
        from assistant.interfaces.langchain import AssistantRetriever
        from assistant.search.retrieval import checked

        checked(k, mode)  # a one-line error here rather than pydantic's report
        return AssistantRetriever(k=k, mode=mode, assistant=self)
