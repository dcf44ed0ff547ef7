"""Generated answers: ask an OpenAI-compatible language model, then keep only what the passages support.

`generate()` sends the retrieved passages, fenced as quoted data, and the question to the model
(LangChain's `ChatOpenAI`, imported lazily), streams the reply through `on_token`, and then
verifies it: every sentence must end with `[n]` markers, and each cited passage must support the
sentence, by shared content words or by embedding similarity to one of the passage's sentences.
Unsupported sentences and markers are dropped; the survivors' markers are renumbered into
`Citation`s whose quotes are passage sentences located by offset in the source text, never text
the model wrote. Deciding when to call it, and falling back to an extractive answer when it
raises `GenerationError`, is left to the caller.
"""

from __future__ import annotations

import html
import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from assistant.answer import prompts
from assistant.answer.types import Citation
from assistant.config import Settings, url_login, without_login
from assistant.search.lexical import tokenize
from assistant.search.retrieval import Hit
from assistant.ingest.sentences import split_sentences

# A sentence is supported by a cited passage when at least LEXICAL_SUPPORT of its distinct
# content words occur in the passage, or when it is close in meaning to one of the passage's
# sentences (cosine >= SIMILARITY_SUPPORT) and still shares LEXICAL_FLOOR of its content words
# with the passage. With all-MiniLM-L6-v2, a paraphrase of a passage sentence scores about 0.8
# and an unrelated claim under 0.4, so the similarity route admits rewordings while the floor
# keeps a fluent but off-topic sentence out.
LEXICAL_SUPPORT = 0.5
SIMILARITY_SUPPORT = 0.6
LEXICAL_FLOOR = 0.25

_MESSAGE_MAX = 200  # characters of an underlying error kept in a GenerationError message

# [1], [1, 2], [1; 2], a range [2-3] or [1–2], [Passage 1] (and [1][2], which is two markers).
_ITEM = r"(?:passages?\s*)?\d+(?:\s*[-–—]\s*\d+)?"
_MARKER = re.compile(rf"\[\s*({_ITEM}(?:\s*[,;]\s*{_ITEM})*)\s*\]", re.IGNORECASE)
# Markers written after the full stop ("... in 1889.[1] Next"): moved before it, so the sentence
# splitter ends the sentence after them.
_MARKERS_AFTER_STOP = re.compile(rf"([.!?]+['\"’”)]*)((?:\s*\[\s*{_ITEM}(?:\s*[,;]\s*{_ITEM})*\s*\])+)", re.IGNORECASE)
_RANGE_MAX = 20  # passages a range marker may name
_LIST_BULLET = re.compile(r"^(?:[-*•]|\d+[.)])\s+")
_FINAL_STOP = re.compile(r"[.!?]+$")
_PASSAGE_TAG = re.compile(r"<(\s*/?\s*passage)", re.IGNORECASE)
# A document's own reference mark ("in 1889.[2]"), shown to the model as "[^2]": copied as "[2]", it
# had been read as a marker citing passage 2
_REFERENCE = re.compile(r"\[(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\]")


class GenerationError(Exception):
    """The language model could not give a verified answer; the message is one line saying why."""


def generate(
    question: str,
    hits: list[Hit],
    settings: Settings,
    embedder,
    on_token: Callable[[str], None] | None = None,
    history=None,
) -> tuple[str, tuple[Citation, ...]]:
    """A cited answer to `question` from `hits`, written by the configured language model.

    `on_token(piece)` receives the raw reply as it streams; the returned text is the verified
    one, with markers renumbered to match the citations. `history` holds earlier turns, as
    (question, answer) pairs or chat messages (`followup.history_pairs`). Returns `(prompts.NO_ANSWER, ())` when the model says the passages
    do not hold the answer; raises `GenerationError` when the model cannot be used or no sentence
    of its reply is supported by the passages."""
    if not settings.llm_base_url:
        raise GenerationError("no language model configured (set ASSISTANT_LLM_BASE_URL)")
    if not settings.llm_model:
        raise GenerationError("no language model name configured (set ASSISTANT_LLM_MODEL)")
    if not hits:
        raise GenerationError("no passages to answer from")
    from assistant.answer.followup import history_pairs

    reply = _complete(_messages(question, hits, history_pairs(history)), settings, on_token).strip()
    if not reply:
        raise GenerationError(f"the language model at {without_login(settings.llm_base_url)} returned an empty reply")
    if _is_no_answer(reply):
        return prompts.NO_ANSWER, ()
    return _verify(reply, hits, embedder)


# --- the prompt ---------------------------------------------------------------------------


def _messages(question: str, hits: list[Hit], history: list[tuple[str, str]]):
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    passages = "\n\n".join(
        prompts.ANSWER_PASSAGE.format(
            n=n,
            source=html.escape(hit.label or hit.source, quote=True),
            title=html.escape(hit.title, quote=True),
            text=_REFERENCE.sub(r"[^\1]", _PASSAGE_TAG.sub(r"&lt;\1", hit.text)),
        )
        for n, hit in enumerate(hits, 1)
    )
    messages = [SystemMessage(prompts.ANSWER_SYSTEM)]
    for asked, answered in history:
        messages += [HumanMessage(asked), AIMessage(answered)]
    messages.append(HumanMessage(prompts.ANSWER_TEMPLATE.format(passages=passages, question=question.strip())))
    return messages


# --- the model call -----------------------------------------------------------------------


def _complete(messages, settings: Settings, on_token: Callable[[str], None] | None) -> str:
    """The model's whole reply, streamed; the call as a whole may take at most llm_timeout s.

    The stream is read on a worker thread so the deadline holds even while a read blocks; the
    worker's own reads time out after llm_timeout too, so an abandoned worker ends soon after."""
    from langchain_openai import ChatOpenAI

    model = ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=0,
        max_tokens=settings.llm_max_tokens,
        temperature=0,
    )
    events: queue.Queue = queue.Queue()
    abandoned = threading.Event()

    def read() -> None:
        try:
            for chunk in model.stream(messages):
                if abandoned.is_set():
                    return
                events.put(("piece", _content(chunk.content)))
            events.put(("done", None))
        except BaseException as exc:  # handed to the caller's thread
            events.put(("error", exc))

    threading.Thread(target=read, name="generate-stream", daemon=True).start()
    deadline = time.monotonic() + settings.llm_timeout
    pieces: list[str] = []
    try:
        while True:
            try:
                kind, value = events.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                raise _timed_out(settings) from None
            if kind == "done":
                return "".join(pieces)
            if kind == "error":
                raise _failure(value, settings) from value
            if value:
                pieces.append(value)
                if on_token:
                    on_token(value)
    finally:
        abandoned.set()


def _content(content) -> str:
    """A chunk's text; some servers send content as a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)
    raise TypeError(f"unexpected message content of type {type(content).__name__}")


def _timed_out(settings: Settings) -> GenerationError:
    return GenerationError(
        f"the language model at {without_login(settings.llm_base_url)} did not answer within {settings.llm_timeout:g} s"
    )


def _failure(exc: BaseException, settings: Settings) -> GenerationError:
    """One line saying what went wrong with the call, the key and the URL's login left out (a
    server may echo the Authorization header; these notices reach every chat user)."""
    import openai

    url = without_login(settings.llm_base_url)
    if isinstance(exc, openai.APITimeoutError):
        return _timed_out(settings)
    if isinstance(exc, openai.APIConnectionError):
        return GenerationError(f"cannot reach the language model at {url}: {_brief(_root(exc), settings)}")
    if isinstance(exc, openai.APIStatusError):
        detail = re.sub(r"^Error code: \d+ - ", "", _brief(exc, settings))
        return GenerationError(f"the language model at {url} answered HTTP {exc.status_code}: {detail}")
    if isinstance(exc, (openai.APIResponseValidationError, ValueError, KeyError, TypeError, AttributeError)):
        return GenerationError(f"malformed reply from the language model at {url}: {_brief(exc, settings)}")
    return GenerationError(f"the language model call to {url} failed: {_brief(exc, settings)}")


def _root(exc: BaseException) -> BaseException:
    """The innermost cause (the socket error under the client's and LangChain's wrappers)."""
    seen = {id(exc)}
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        exc = inner
    return exc


def _brief(exc: BaseException, settings: Settings) -> str:
    text = str(exc)
    secrets = [settings.llm_api_key, settings.llm_api_key.strip(), url_login(settings.llm_base_url)]
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "(hidden)")
    text = re.sub(r"\b(Bearer|Basic)\s+[^\s'\"]+", r"\1 (hidden)", text)  # an Authorization header repeated back
    text = " ".join(text.split()) or type(exc).__name__
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)  # a server's escape sequences stay inert
    return text if len(text) <= _MESSAGE_MAX else text[: _MESSAGE_MAX - 1] + "…"


def _is_no_answer(text: str) -> bool:
    return _plain(text) == _plain(prompts.NO_ANSWER)


def _plain(text: str) -> str:
    return text.replace("’", "'").strip().strip("\"'*` ").rstrip(".").casefold()


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    """One sentence of the reply: its text without markers and the passages it cites (0-based)."""

    text: str
    cited: tuple[int, ...]


def _verify(reply: str, hits: list[Hit], embedder) -> tuple[str, tuple[Citation, ...]]:
    everything = _claims(reply, len(hits))
    claims = [c for c in everything if c.cited]
    passages = {i: _Passage.of(hits[i]) for i in sorted({i for c in claims for i in c.cited})}
    claim_vectors, sentence_vectors = _embed(claims, passages, embedder)

    sentences: list[str] = []
    citations: dict[tuple[int, int], Citation] = {}  # (passage, quote start) -> citation
    kept: set[str] = set()
    for claim, vector in zip(claims, claim_vectors):
        said = _plain(claim.text)
        if said in kept:
            continue  # a sentence said again adds nothing (a reply repeating one line 60 times)
        words = set(tokenize(claim.text))
        claim_numbers = frozenset(_numbers(claim.text))
        quotes: dict[int, tuple[int, int]] = {}
        for i in claim.cited:
            quote = passages[i].support(words, vector, sentence_vectors[i], claim_numbers)
            if quote is not None:
                quotes[i] = quote
        if not _holds(claim.text, claim_numbers, [passages[i] for i in quotes], [hits[i].text[s:e] for i, (s, e) in quotes.items()]):
            continue
        markers = []
        for i, quote in quotes.items():
            key = (i, quote[0])
            if key not in citations:
                s, e = quote
                hit = hits[i]
                citations[key] = Citation(
                    len(citations) + 1, hit, hit.text[s:e], hit.start + s, hit.start + e
                )
            if citations[key].n not in markers:
                markers.append(citations[key].n)
        sentences.append(_with_markers(claim.text, markers))
        kept.add(said)

    if not sentences:
        if any(_is_no_answer(claim.text) for claim in everything):
            return prompts.NO_ANSWER, ()
        raise GenerationError("no sentence of the model's answer was supported by the passages")
    return " ".join(sentences), tuple(citations.values())


def _claims(reply: str, passage_count: int) -> list[_Claim]:
    """The reply's sentences, with markers to no passage removed."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: " " + m.group(2).strip() + m.group(1), reply)
    claims = []
    for s, e in split_sentences(text):
        sentence = text[s:e]
        cited: list[int] = []
        for match in _MARKER.finditer(sentence):
            for item in re.split(r"\s*[,;]\s*", match.group(1)):
                first, _, last = re.sub(r"(?i)passages?\s*", "", item).replace("–", "-").replace("—", "-").partition("-")
                low, high = sorted((int(first), int(last or first)))
                for n in range(low, min(high, low + _RANGE_MAX - 1) + 1):
                    if 1 <= n <= passage_count and n - 1 not in cited:
                        cited.append(n - 1)
        plain = _MARKER.sub("", sentence)
        plain = re.sub(r"\(\s*(?:(?:see|cf\.?|e\.g\.,?)\s*)?\)", "", plain, flags=re.IGNORECASE)  # "(see [3])" emptied of its marker
        plain = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(plain.split()))
        plain = _LIST_BULLET.sub("", plain).strip()
        if plain:
            claims.append(_Claim(plain, tuple(cited)))
    return claims


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NEGATION = re.compile(r"\b(?:not(?!\s+only\b)|no|never|nothing|none|neither|nor|without|cannot)\b|n['’]t\b", re.IGNORECASE)


def _holds(claim: str, numbers: frozenset[str], passages: list["_Passage"], quotes: list[str]) -> bool:
    """Whether what the claim cites can bear it: the cited passages hold every number it states
    (in one sentence or several), and a quoted sentence negates where the claim does and not
    where it does not. Word
    overlap and meaning alone passed "spent 99 billion" and "is not 330 metres" on sentences
    saying otherwise."""
    if not quotes:
        return False
    written = set().union(*(held for passage in passages for held in passage.numbers))
    negated = bool(_NEGATION.search(claim))  # and a quote that says it the same way round
    return numbers <= written and any(bool(_NEGATION.search(q)) == negated for q in quotes)


def _numbers(text: str) -> set[str]:
    """The numbers written in `text` in digits, thousands separators dropped ("1,500" is "1500")."""
    return {re.sub(r",(?=\d{3}\b)", "", n) for n in _NUMBER.findall(text)}


@dataclass(frozen=True)
class _Passage:
    """A cited passage: its content words and its sentences' spans within `hit.text`."""

    words: frozenset[str]
    texts: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    numbers: tuple[frozenset[str], ...]  # per sentence, the numbers it writes in digits

    @classmethod
    def of(cls, hit: Hit) -> "_Passage":
        spans = tuple(split_sentences(hit.text))
        words = frozenset(tokenize(hit.text)) | frozenset(tokenize(hit.title))
        texts = tuple(hit.text[s:e] for s, e in spans)
        return cls(words, texts, spans, tuple(frozenset(_numbers(t)) for t in texts))

    def support(self, words: set[str], vector: np.ndarray, sentence_vectors: np.ndarray, numbers: frozenset[str] = frozenset()):
        """The span of the sentence that best supports a claim, or None when none does; where the
        claim has `numbers`, the best of the sentences holding one of them (the one that says it)."""
        if not words or not self.spans:
            return None
        lexical = len(words & self.words) / len(words)
        similarities = sentence_vectors @ vector
        holding = np.array([bool(numbers & held) for held in self.numbers])
        if holding.any():
            similarities = np.where(holding, similarities, -np.inf)
        best = int(np.argmax(similarities))
        supported = lexical >= LEXICAL_SUPPORT or (
            similarities[best] >= SIMILARITY_SUPPORT and lexical >= LEXICAL_FLOOR
        )
        return self.spans[best] if supported else None


def _embed(claims: list[_Claim], passages: dict[int, _Passage], embedder):
    """Claim vectors and, per passage, its sentences' vectors, from one embedder call."""
    texts = [c.text for c in claims]
    for passage in passages.values():
        texts.extend(passage.texts)
    if not texts:
        return [], {}
    vectors = np.asarray(embedder.embed_queries(texts), dtype=np.float32)
    claim_vectors = vectors[: len(claims)]
    by_passage, row = {}, len(claims)
    for i, passage in passages.items():
        by_passage[i] = vectors[row : row + len(passage.texts)]
        row += len(passage.texts)
    return claim_vectors, by_passage


def _with_markers(sentence: str, numbers: list[int]) -> str:
    """`sentence` with its markers before the final full stop: "It opened in 1889 [1][2]." """
    markers = "".join(prompts.MARKER.format(n=n) for n in numbers)
    stop = _FINAL_STOP.search(sentence)
    if stop:
        return f"{sentence[: stop.start()].rstrip()} {markers}{stop.group()}"
    return f"{sentence} {markers}"
