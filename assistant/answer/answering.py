"""`ask()`: question (and conversation) in, cited `Answer` out.

Retrieves with the follow-up-aware query, decides whether the passages answer the question, and
answers extractively (the default, offline) or, when a language model endpoint is configured,
with the model's verified answer, falling back to the extractive one on any failure.
"""

from __future__ import annotations

import os
import re
from typing import Callable, Sequence

from assistant.answer import model as answer_model, extractive
from assistant.answer.types import Answer
from assistant.config import Settings
from assistant.answer.followup import contextualize
from assistant.answer.prompts import NO_ANSWER
from assistant.search.retrieval import searcher_for


def ask(
    question: str,
    history: Sequence | None = None,
    k: int | None = None,
    index_dir: str | os.PathLike | None = None,
    *,
    settings: Settings | None = None,
    embedder=None,
    on_token: Callable[[str], None] | None = None,
    searcher=None,
) -> Answer:
    """Answer `question` from the indexed documents, citing the passage behind every sentence.
    `searcher` (an `Assistant`'s own) replaces the process's cached one for `index_dir`."""
    from assistant.ingest.embeddings import default_embedder

    if not isinstance(question, str) or not question.strip():
        raise ValueError("question: must be a non-empty string")
    settings = settings or Settings.from_env()
    embedder = embedder or default_embedder(settings)
    model = answer_model.load(settings.answer_model_dir, settings.query_threads)
    searcher = searcher or searcher_for(index_dir or settings.index_dir, settings, embedder)
    plain = plain_question(question)
    query = contextualize(plain, history)
    vectors = searcher.embed([query] if query == plain else [query, plain])
    hits = searcher.search_many([query], k or settings.answer_k, vectors=vectors[:1])[0]
    # The answer model reads the question as asked, not the follow-up's search query: it was
    # trained on single questions, and an earlier question in front of a later one makes it pick
    # the earlier one's answer (training dev split: best sentence 0.777 -> 0.390, README).
    threshold = model.threshold if settings.abstain_threshold is None else settings.abstain_threshold
    # Reading stops at a sentence this likely to answer (never below the abstention threshold, so
    # stopping early cannot turn an answer into a refusal); 1 reads every candidate.
    stop = None if settings.answer_stop >= 1 else max(settings.answer_stop, threshold)
    found = extractive.candidates(plain, vectors[-1], hits, searcher, model, settings.answer_candidates, stop)
    confidence = extractive.answerability(found)
    base = dict(question=question, hits=tuple(hits), query=query, confidence=confidence)
    if not found or confidence < threshold:
        return Answer(text=NO_ANSWER, citations=(), abstained=True, **base)
    text, citations = extractive.compose(found, settings.answer_max_sentences)
    extracted = Answer(text=text, citations=citations, abstained=False, **base)
    if not settings.llm_base_url:
        return extracted
    return _generated_or(extracted, question, hits, settings, embedder, on_token, history)


_MARKUP = re.compile(r"</?[A-Za-z!][^>]*>")


def plain_question(question: str) -> str:
    """The question as a reader sees it: HTML markup (tags, and scripts or styles with their
    content) removed, so markup pasted around a question does not change the answer."""
    if not _MARKUP.search(question):
        return question
    from assistant.ingest.documents import html_visible_text

    plain = " ".join(html_visible_text(question).split())
    return plain or question


def _generated_or(extracted: Answer, question, hits, settings, embedder, on_token, history) -> Answer:
    from dataclasses import replace

    from assistant.answer.generation import GenerationError, generate

    try:
        text, citations = generate(question, hits, settings, embedder, on_token=on_token, history=history)
    except GenerationError as err:
        return replace(extracted, notice=f"Language model not used ({err}); showing the extractive answer.")
    if text == NO_ANSWER:
        return replace(extracted, text=NO_ANSWER, citations=(), abstained=True, method="generated")
    return replace(extracted, text=text, citations=citations, method="generated")
