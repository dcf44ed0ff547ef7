"""The LangChain edge: the index as a `BaseRetriever`, so it drops into any LangChain chain.

Each `Document` carries the hit's text as `page_content` and its provenance (`source`, `start`,
`end`, `page`, `score`, `label`, `chunk_id`) in `metadata`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import field_validator

from assistant.search.retrieval import checked, retrieve


class AssistantRetriever(BaseRetriever):
    """Hybrid retrieval over the assistant's index."""

    k: int = 4
    index_dir: str | None = None
    mode: str = "hybrid"
    assistant: Any = None  # an `Assistant`: its store, settings and embedder (index_dir is then unused)

    @field_validator("k", mode="before")
    @classmethod
    def _whole_k(cls, k):  # refused when made, not at the first query in a chain
        return checked(k, "hybrid")[0]  # the search's own rule (search/retrieval.py)

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, mode):
        return checked(1, mode)[1]

    def __setattr__(self, name, value):  # a field set later is checked as one given when made
        if name == "k":
            value = checked(value, "hybrid")[0]
        elif name == "mode":
            value = checked(1, value)[1]
        super().__setattr__(name, value)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, mode: str | None = None
    ) -> list[Document]:
        """The passages for `query`; `k` and `mode` given to `invoke` override the retriever's for
        that call, as LangChain's vector-store retrievers let them."""
        k, mode = checked(self.k if k is None else k, self.mode if mode is None else mode)
        if self.assistant is not None:
            hits = self.assistant.retrieve(query, k, mode)
        else:
            hits = retrieve(query, k=k, index_dir=self.index_dir, mode=mode)
        documents = []
        for hit in hits:
            metadata = asdict(hit)
            text = metadata.pop("text")
            documents.append(Document(page_content=text, metadata=metadata, id=hit.chunk_id))
        return documents

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, k: int | None = None, mode: str | None = None
    ) -> list[Document]:
        """The same off the event loop, `k` and `mode` too (LangChain's default took neither, so
        `ainvoke(query, k=3)` had failed with a TypeError)."""
        return await run_in_executor(None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), k=k, mode=mode)


def as_retriever(k: int = 4, index_dir: str | None = None, mode: str = "hybrid") -> AssistantRetriever:
    """A LangChain retriever over the index in `index_dir` (default: the configured one)."""
    checked(k, mode)  # one line here; constructing the model directly gets pydantic's report of the same
    return AssistantRetriever(k=k, index_dir=None if index_dir is None else str(index_dir), mode=mode)
