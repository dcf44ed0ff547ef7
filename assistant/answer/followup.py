"""Follow-up questions: turn "What did he say about it?" into a query that stands on its own.

A question that leans on the conversation (a pronoun, a leading "and"/"what about", or very few
words) is searched together with the earlier question it follows, itself resolved the same way. A
question that names its own subject is searched as it is, so changing the topic costs nothing.
A question that only names another thing ("What about mothers?") can be read as the earlier
question asked of it (`substituted`), which `answering.ask` does when it is refused as asked.
"""

from __future__ import annotations

import json
import re
from typing import Sequence

from assistant.answer import smalltalk
from assistant.search.retrieval import MAX_QUESTION_CHARS, unicode_error

_ANAPHORA = re.compile(
    r"\b(?:he|she|it|they|him|her|them|his|hers|its|their|theirs|this|that|these|those|there|then|the same|the former|the latter)\b",
    re.I,
)
_CONTINUATION = re.compile(r"^\s*(?:and|also|but|so|what about|how about|why|what else|anything else|more)\b", re.I)
_MIN_WORDS = 3
# "What about mothers?", "And for managers?": the earlier question asked of something else
_ELLIPTICAL = re.compile(r"^\s*(?:(?:and|but|so)\s+)?(?:(?:what|how)\s+about|and(?:\s+(?:for|in|with|at|on))?)\s+(?P<other>[^?!.]+?)\s*[?!.]*\s*$", re.I)
_WH = re.compile(r"^(?:who|whom|whose|what|which|when|where|why|how)\b", re.I)
# "And do mothers get more?", "And is it paid?": a question of its own (an auxiliary or a pronoun first), not a thing named
_CLAUSE = re.compile(r"^(?:is|are|was|were|am|be|do|does|did|can|could|will|would|shall|should|may|might|must|has|have|had"
                     r"|it|he|she|they|we|i|you)\b", re.I)
ELLIPTICAL_WORDS_MOST = 5  # "And what did the report conclude about the budget?" is a question of its own
SPAN_WORDS_MOST = 4  # the longest run of the earlier question's words that the other thing may replace
EARLIER_WORDS_MOST = 40  # an earlier question's words looked at (each run of them is embedded)
TURNS_MOST = 10  # turns of the conversation `last_question` resolves
# the least cosine between the other thing and the words it replaces: "mothers" and "fathers" 0.65,
# "2017" and "2018" 0.74, "managers" and "staff" 0.57; "ZTE" is nearer "founded" (0.26) than
# "Huawei" (0.23) in "Who founded Huawei?", and such a question is read as it was before
SUBSTITUTE_LEAST = 0.4


def is_followup(question: str) -> bool:
    words = re.findall(r"\w+", question)
    return bool(_ANAPHORA.search(question) or _CONTINUATION.search(question) or len(words) < _MIN_WORDS)


def contextualize(question: str, history: Sequence | None) -> str:
    """The query to search for `question` given earlier turns, oldest first, in any form
    `history_pairs` reads."""
    standalone = ""
    for earlier in asked(history):  # "thanks!" is no context
        standalone = _combine(standalone, earlier)
    return _combine(standalone, question)


def asked(history: Sequence | None) -> list[str]:
    """The questions of earlier turns (in any form `history_pairs` reads) that ask something: not
    empty, nor social words alone ("thanks!")."""
    return [question for question, _ in history_pairs(history) if question.strip() and not smalltalk.kind(question)]


def _combine(context: str, question: str) -> str:
    question = question.strip()
    if context and is_followup(question):
        room = MAX_QUESTION_CHARS - len(question) - 1  # a long chain of follow-ups keeps its latest words
        if len(context) > room:
            tail = context[len(context) - max(room, 0):] if room > 0 else ""
            cut_word, space, rest = tail.partition(" ")
            context = rest if space and len(cut_word) <= 40 else tail  # from a word's start, where one is near
        return f"{context} {question}".strip()
    return question


def elliptical(question: str) -> str | None:
    """What a question that only names another thing ("What about mothers?", "And managers?")
    names, or None."""
    found = _ELLIPTICAL.match(question)
    if (not found or _WH.match(other := found.group("other")) or _CLAUSE.match(other)
            or len(re.findall(r"\w+", other)) > ELLIPTICAL_WORDS_MOST):
        return None
    return other


def substituted(question: str, earlier: str, embed) -> str | None:
    """The earlier question asked of what an elliptical `question` names instead: the run of its
    content words (at most SPAN_WORDS_MOST, starting and ending with a content word) nearest to it
    by the embedder's cosine replaced ("How much leave do fathers get?" + "What about mothers?" ->
    "How much leave do mothers get?"), or None where the question is not elliptical or nothing
    there is near enough (`SUBSTITUTE_LEAST`). `embed(texts)` gives unit vectors."""
    from assistant.search.lexical import STOPWORDS

    if (other := elliptical(question)) is None:
        return None
    other = re.sub(r"(?i)^(?:the|a|an)\s+", "", other)  # the earlier question's article stays: "the the class of 2021" had been read
    words = list(re.finditer(r"[\w'’-]+", earlier))[:EARLIER_WORDS_MOST]
    content = [w.group().lower() not in STOPWORDS and not _WH.match(w.group()) for w in words]
    spans = [(i, j) for i in range(len(words)) for j in range(i, min(i + SPAN_WORDS_MOST, len(words)))
             if content[i] and content[j]]
    if not spans:
        return None
    texts = [earlier[words[i].start():words[j].end()] for i, j in spans]
    vectors = embed([other] + texts)
    similarity = vectors[1:] @ vectors[0]
    best = int(similarity.argmax())
    if similarity[best] < SUBSTITUTE_LEAST or texts[best].lower() == other.lower():
        return None
    i, j = spans[best]
    return earlier[:words[i].start()] + other + earlier[words[j].end():]


def last_question(history: Sequence | None, embed) -> str:
    """The conversation's last question as it stands on its own: an elliptical one ("And
    mothers?") resolved against the one before (`substituted`), else that one; "" for none
    (among the last TURNS_MOST turns)."""
    resolved = ""
    for earlier in asked(history_pairs(history)[-TURNS_MOST:]):
        if resolved and elliptical(earlier):
            resolved = substituted(earlier, resolved, embed) or resolved
        else:
            resolved = earlier
    return resolved


ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant",
         "system": "other", "developer": "other", "tool": "other", "function": "other"}  # a chat message's role, as OpenAI and LangChain name it


def history_pairs(history) -> list[tuple[str, str]]:
    """Earlier turns as (question, answer) pairs, from pairs, chat messages or their JSON text."""
    try:
        return _pairs(history)
    except RecursionError:  # lists in lists thousands deep (12,000 "[" sent to the chat server's /ask)
        raise ValueError("nested too deeply; expected a list of (question, answer) pairs or chat messages") from None


def _pairs(history) -> list[tuple[str, str]]:
    if history is None or history == "":
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except ValueError as err:
            raise ValueError(f"not valid JSON ({err})") from None
    if not isinstance(history, (list, tuple)):
        raise ValueError(f"expected a list of (question, answer) pairs or chat messages, got {type(history).__name__}")
    if history and all(isinstance(t, (list, tuple)) and len(t) == 2 and isinstance(t[0], str) and t[0] in ROLES for t in history):
        # LangChain's ("human", text) messages: its role names, in lower case as it writes them (a
        # question "AI" or "Human" in a (question, answer) pair stays a question)
        history = [{"role": role, "content": text} for role, text in history]
    pairs: list[tuple[str, str]] = []
    pending: str | None = None
    for turn in history:
        if not isinstance(turn, (dict, list, tuple)) and isinstance(getattr(turn, "type", None), str) and hasattr(turn, "content"):
            # a LangChain message (HumanMessage, AIMessage, ...; a ChatMessage names its role; a
            # streamed chunk's type is its class name, "AIMessageChunk")
            kind = turn.type.removesuffix("MessageChunk").lower()
            turn = {"role": getattr(turn, "role", None) or kind, "content": turn.content}
        if isinstance(turn, dict):
            turn = _message_fields(turn)
            if "content" not in turn:
                raise ValueError(f"a message has no content: {_shown(turn)}")
            content = _message_text(turn["content"])
            named = turn.get("role", turn.get("type"))
            if named is None:
                raise ValueError(f"a message names no role (its role must be user or assistant, human or ai): {_shown(turn)}")
            role = ROLES.get(str(named).lower())  # a message says its role: any case
            if role is None:
                raise ValueError(f"a message's role must be user or assistant (human or ai), got {_shown(named)}")
            if role == "user":
                if pending is not None:
                    pairs.append((pending, ""))
                pending = content
            elif role == "assistant" and pending is not None:
                pairs.append((pending, content))
                pending = None
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            pairs.append((_pair_text(turn[0], "question"), _pair_text(turn[1], "answer")))
        else:
            raise ValueError(f"expected (question, answer) pairs or chat messages, got {_shown(turn)}")
    if pending is not None:
        pairs.append((pending, ""))
    for turn, pair in enumerate(pairs, start=1):
        for text in pair:
            if error := unicode_error(text):
                raise ValueError(f"turn {turn} {error}")
        if len(pair[0]) > MAX_QUESTION_CHARS:
            raise ValueError(f"turn {turn}: the question is too long ({len(pair[0]):,} characters; at most {MAX_QUESTION_CHARS:,})")
    return pairs


def _message_fields(message: dict) -> dict:
    """A chat message as a dict with its "role" (or LangChain's "type") and "content": as written,
    or from LangChain's serialised forms, `messages_to_dict`'s {"type", "data": {...}} and
    `langchain_core.load.dumps`'s {"lc": 1, "kwargs": {...}} (its `model_dump` is the plain form)."""
    if "role" in message or "content" in message:
        return message
    if isinstance(message.get("data"), dict):
        return {"type": message.get("type"), **message["data"]}
    if "lc" in message and isinstance(message.get("kwargs"), dict):
        kind = message["id"][-1] if isinstance(message.get("id"), list) and message["id"] else ""
        return {"type": str(kind).removesuffix("MessageChunk").removesuffix("Message").lower() or None, **message["kwargs"]}
    return message


def _pair_text(text, what: str) -> str:
    """A (question, answer) pair's text: a string, None for none, or an `Answer` (its text)."""
    from assistant.answer.types import Answer

    if isinstance(text, Answer):
        return text.text
    if text is not None and not isinstance(text, str):
        raise ValueError(f"a pair's {what} must be text, got {type(text).__name__} ({_shown(text)})")
    return text or ""


def _shown(value) -> str:
    """A value as a one-line error shows it: its repr, spaces folded, cut at 40 characters."""
    return " ".join(repr(value).split())[:40]


def _message_text(content) -> str:
    """A chat message's text: the string, or the texts of its parts (strings or {"text": ...};
    parts without text, such as files, are passed over)."""
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, tuple):
        return ""  # a file in Gradio's (path, alt text) form: no text to read
    if not isinstance(content, (dict, list)):
        raise ValueError(f"a message's text must be a string, got {type(content).__name__} ({_shown(content)})")
    parts = [content] if isinstance(content, dict) else content
    texts = []
    for part in parts:
        if isinstance(part, tuple):
            continue  # a file, (path, alt text): no text to read
        text = part.get("text") if isinstance(part, dict) else part
        if text is not None and not isinstance(text, str):
            raise ValueError(f"a message's text must be a string, got {type(text).__name__} ({_shown(text)})")
        if text:
            texts.append(text)
    return " ".join(texts)
