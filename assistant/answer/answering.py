"""`ask()`: question (and conversation) in, cited `Answer` out.

A greeting, thanks or "what can you do?" alone gets a short reply without a search
(`answer/smalltalk.py`), and "What is this article about?" the document's opening sentences
(`answer/overview.py`). Retrieves with the follow-up-aware query (and, for a multi-part question,
each part's; a follow-up refused in its context is read in that of the turns before), decides
whether the passages answer the question (or which of its parts), and answers extractively (the default, offline) or, when a language model endpoint is configured,
with the model's verified answer, falling back to the extractive one on any failure. An answer
whose confidence is below the level at which the answer model counts as sure is marked `unsure`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from assistant.answer import model as answer_model, extractive, followup, numbers, overview, smalltalk
from assistant.answer.types import RELATED, Answer, Citation
from assistant.config import Settings
from assistant.answer.followup import contextualize, history_pairs
from assistant.answer.parts import question_parts
from assistant.answer.plain import plain_question
from assistant.answer.prompts import NO_ANSWER
from assistant.search.lexical import tokenize
from assistant.search.retrieval import checked_question, searcher_for
from assistant.store import named_or_default
from assistant.store.snapshot import IndexMissing


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

    checked_question(question)
    checked_on_token(on_token)
    try:
        history = history_pairs(history)  # checked before any work; each step below reads the pairs
    except ValueError as err:
        raise ValueError(f"history: {err}") from None
    if (kind := smalltalk.kind(question)) and kind != "documents" and (social := smalltalk.reply_to(kind, first=not history)):
        return Answer(question=question, text=social, citations=(), abstained=False, hits=(), method="conversation")  # no search
    settings = Settings.given(settings)
    embedder = embedder or default_embedder(settings)
    if kind == "documents":  # "what documents do you have?": the index's list, not a search
        try:
            searcher = searcher or searcher_for(named_or_default(index_dir, settings), settings, embedder)
            names = overview.shown_names([f.source for f in searcher.index.manifest.files])
        except IndexMissing:
            names = []
        return Answer(question=question, text=smalltalk.reply_to(kind, documents=names), citations=(), abstained=False,
                      hits=(), method="conversation")
    model = answer_model.configured(settings)
    searcher = searcher or searcher_for(named_or_default(index_dir, settings), settings, embedder)
    # "What is this article about?", "Summarize it": the document's opening sentences, not a
    # search (a pronoun names a document only as a conversation's first message)
    typed = plain_question(question)
    if (wanted := overview.request(typed)) and not (wanted.pronoun and followup.asked(history)):
        if (summary := overview.answer(question, wanted, searcher.index)) is not None:
            return replace(summary, notice=" ".join(filter(None, [summary.notice, _stale(summary.citations, searcher.index)])))
    plain = searcher.spelled(typed)  # typing slips read as the documents' words (search/spelling.py)
    query = contextualize(plain, history)
    # A multi-part question is answered part by part (answer/parts.py).
    parts = question_parts(plain) if settings.answer_parts else [plain]
    threshold = model.threshold_for(settings)
    # Reading stops at a sentence this likely to answer (never below the abstention threshold, so
    # stopping early cannot turn an answer into a refusal); 1 reads every candidate.
    stop = None if settings.answer_stop >= 1 else max(settings.answer_stop, threshold)
    k = settings.answer_k if k is None else k

    def read(query: str, history: list, asked: list[str] = parts) -> tuple[list, list, list[float]]:
        """The hits for `query`, and each part of the question (`asked`)'s scored candidates and answerability."""
        vectors, hits, part_hits = _search(searcher, query, asked, history, k)
        # The answer model reads the question as asked, not the follow-up's search query: it was
        # trained on single questions, and an earlier question in front of a later one makes it
        # pick the earlier one's answer (training dev split: best sentence 0.777 -> 0.390, README).
        found = [
            extractive.candidates(part, vectors[part], part_hits[i], searcher, model, settings.answer_candidates, stop, threshold,
                                  settings.answer_numbers)
            for i, part in enumerate(asked)
        ]
        return hits, found, [extractive.answerability(f) for f in found]

    hits, found, scores = read(query, history)
    if query != plain and max(scores) < threshold:
        # A follow-up refused in the context of the last turn ("Where did she die?" after a question
        # on a recipe) is read in the context of each earlier turn, latest first (two at most), and
        # answered in the first that answers it. Never on its own: read alone, "When did she marry?"
        # after a question on a chef had been answered with another woman's wedding.
        for earlier in followup.asked(history[:-1])[::-1][:2]:
            if (other := contextualize(plain, [(earlier, "")])) == query:
                continue
            retry = read(other, [(earlier, "")])
            if max(retry[2]) >= threshold:
                query, (hits, found, scores) = other, retry
                break
    read_as = plain if plain != typed else ""
    if max(scores) < threshold and len(parts) == 1 and (thing := followup.elliptical(plain)):
        # "What about mothers?" after "How much leave do fathers get?", refused as asked: the earlier
        # question asked of mothers, where the words it replaces are alike (answer/followup.py), if the
        # answer's first sentence names what the follow-up names anew ("What about interns?" after a
        # question on managers had been answered with the managers' rule, "What about the class of
        # 2021?" after one on the class of 2019 with the 2019 figure)
        earlier = followup.last_question(history, searcher.embed)
        new = set(tokenize(thing)) - set(tokenize(earlier))
        if new and (other := followup.substituted(plain, plain_question(earlier), searcher.embed)):
            retry = read(other, [], [other])
            if max(retry[2]) >= threshold and retry[1][0] and new & set(tokenize(retry[1][0][0].text)):
                query, parts, read_as, (hits, found, scores) = other, [other], other, retry
    confidence = max(scores)
    base = dict(question=question, hits=tuple(hits), query=query, confidence=confidence, read_as=read_as)
    if not any(found) or confidence < threshold:
        if settings.answer_numbers and (absent := numbers.missing(" ".join(parts), [
                text for h in hits for text in (h.title, h.text, extractive.document_opening(searcher, h.source))])):
            base["notice"] = f"No passage found states {_listed(absent)}."
        return Answer(text=NO_ANSWER, citations=(), abstained=True, closest=_closest(found, hits[:RELATED]), **base)
    answered = [f for f, score in zip(found, scores) if f and score >= threshold]
    text, citations = extractive.compose(answered, settings.answer_max_sentences, searcher, plain, several=len(parts) > 1)
    # a part below the threshold whose best sentence the answer quotes anyway (another part's
    # passage brought it) is one the answer may well answer: not one the documents "do not say"
    below = [(part, f) for part, f, score in zip(parts, found, scores) if score < threshold]
    unsure_parts = [part for part, f in below if f and _quoted(f[0], citations)]
    unanswered = [part for part, f in below if part not in unsure_parts]
    cited = {c.hit.source for c in citations}
    others = list(dict.fromkeys(s for f in answered for s in extractive.rivals(f, threshold, cited)))
    notes = [
        "The documents do not say: " + " ".join(f"“{part}”" for part in unanswered) if unanswered else "",
        "Not sure the quotes answer: " + " ".join(f"“{part}”" for part in unsure_parts) if unsure_parts else "",
        _also_bears(others, cited),
        _stale(citations, searcher.index),
    ]
    if any(notes):
        base["notice"] = " ".join(filter(None, notes))
    unsure = bool(unsure_parts) or min(score for f, score in zip(found, scores) if f and score >= threshold) < model.unsure_below_for(settings)
    extracted = Answer(text=text, citations=citations, abstained=False, unsure=unsure, **base)
    if not settings.llm_base_url:
        return extracted
    # the model reads the question as it was searched and read (markup gone, slips read as words)
    # the documents the extractive answer quotes or names: a model's answer that cites none of one is told of it
    bearing = list(dict.fromkeys([*(c.hit.source for c in citations), *others]))
    return _generated_or(extracted, plain, hits, settings, embedder, on_token, history, searcher.index, bearing)


def _listed(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def checked_on_token(on_token) -> None:
    """A one-line error for an `on_token` that cannot be called (it is called only once a language
    model streams, so a wrong one had gone unnoticed until then)."""
    if on_token is not None and not callable(on_token):
        raise ValueError(f"on_token: expected a function called with each piece of text, got {type(on_token).__name__}")


def _quoted(cand, citations) -> bool:
    """Whether a citation's quote overlaps the candidate sentence `cand` (same document)."""
    return any(c.hit.source == cand.hit.source and c.quote_start < cand.end and cand.start < c.quote_end for c in citations)


def _closest(found: list[list], related: list) -> tuple[Citation, ...]:
    """For each related passage, the sentence of it the model scored highest (when it read one)."""
    best: dict[str, object] = {}
    for cand in (c for part in found for c in part):
        if cand.hit.chunk_id not in best or cand.score > best[cand.hit.chunk_id].score:
            best[cand.hit.chunk_id] = cand
    return tuple(Citation(n=i, hit=hit, quote=best[hit.chunk_id].text, quote_start=best[hit.chunk_id].start,
                          quote_end=best[hit.chunk_id].end)
                 for i, hit in enumerate(related, start=1) if hit.chunk_id in best)


def _stale(citations, index) -> str:
    """A note naming the cited documents that changed on disk (or are gone) since they were
    indexed: their quotes are the indexed text, which the file may no longer hold at those offsets."""
    return stale_note([c.hit.source for c in citations], index)


def stale_note(sources, index) -> str:
    """A note naming those of `sources` (indexed documents) that changed on disk or are gone since
    `index` read them ("" when none): what is shown of them is the indexed text (`ask`'s answers,
    `search`'s passages)."""
    from assistant.ingest.documents import changed_since

    found = {}
    for source in dict.fromkeys(sources):
        if source in index.file_sha256 and (how := changed_since(source, index.file_sha256[source])):
            found[source] = how
    if not found:
        return ""
    names = ", ".join(f"{name} ({how})" for name, how in zip(overview.shown_names(list(found)), found.values()))
    # an add keeps a file gone from its folder (it may be unmounted): only a rebuild or a removal drops it
    fix = ("`index add` brings the index up to date" if "gone" not in found.values() else
           "`index rebuild` (or `index remove` of what is gone) brings the index up to date")
    return f"Quoted as indexed: {names} since; {fix}."


def _search(searcher, query: str, parts: list[str], history: list[tuple[str, str]], k: int):
    """Vectors of every text searched or read, the question's hits, and each part's hits.

    One part: the question's (or its follow-up query's) `k` hits. Several: each part is searched
    like a follow-up of the parts before it (so "and what did he say?" keeps its subject), its
    hits after the whole question's; the question's hits then include every part's."""
    searches = [query]
    if len(parts) > 1:
        searches = [contextualize(part, history + [(p, "") for p in parts[:i]]) for i, part in enumerate(parts)]
    texts = list(dict.fromkeys([query, *searches, *parts]))
    vectors = dict(zip(texts, searcher.embed(texts)))
    hits = searcher.search_many([query], k, vectors=vectors[query][None, :])[0]
    if len(parts) == 1:
        return vectors, hits, [hits]
    part_hits = [_merged(hits, h) for h in searcher.search_many(searches, k, vectors=np.stack([vectors[q] for q in searches]))]
    for extra in part_hits:
        hits = _merged(hits, extra)
    return vectors, hits, part_hits


def _merged(first: list, more: list) -> list:
    """`first`'s hits, then those of `more` not already among them."""
    seen = {h.chunk_id for h in first}
    return list(first) + [h for h in more if h.chunk_id not in seen]


def _also_bears(others: list[str], cited: set[str]) -> str:
    """The note naming documents that bear on the question (the answer model finds them answering
    nearly as well) that the answer does not cite."""
    shown = dict(zip(every := list(dict.fromkeys([*sorted(cited), *others])), overview.shown_names(every)))  # told apart from the cited too
    named = [shown[s] for s in others if s not in cited]
    return f"Also bears on this, not quoted: {', '.join(named)}." if named else ""


def _generated_or(extracted: Answer, question, hits, settings, embedder, on_token, history, index, bearing=()) -> Answer:
    """The language model's verified answer, or `extracted` (with its notes) when it fails;
    `bearing`: the documents the extractive answer quotes or names."""
    from assistant.answer.generation import GenerationError, generate

    try:
        text, citations = generate(question, hits, settings, embedder, on_token=on_token, history=history)
    except GenerationError as err:  # the extractive answer, with its own notes
        return replace(extracted, notice=" ".join(filter(None, [f"Language model not used ({err}); showing the extractive answer.", extracted.notice])))
    if text == NO_ANSWER:
        return replace(extracted, text=NO_ANSWER, citations=(), abstained=True, unsure=False, method="generated", notice="")
    # the extractive answer's notice (a part it could not answer) does not speak for the model's;
    # whether a document it cites changed since it was indexed does, and so does another document
    # that answers nearly as well, where the model's answer does not cite it
    notes = [_also_bears(list(bearing), {c.hit.source for c in citations}), _stale(citations, index)]
    return replace(extracted, text=text, citations=citations, method="generated", notice=" ".join(filter(None, notes)))
