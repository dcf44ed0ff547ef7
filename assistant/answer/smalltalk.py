"""Social words: a greeting, thanks or an acknowledgement is not a question about the documents.

A message made of such words alone ("hi", "Thanks!", "ok 👍", "what can you do?") gets a short
reply (`reply`) instead of a search, which had answered "hi" with "The documents don't say." and
two passages, and "Who are you?" with a list of a meeting's attendees. Around a question, a
leading or trailing run of them ("Thanks! And part-time staff?", "Who wrote it? Thank you.") is
not part of what is asked (`without_social`): the answer model, trained on bare questions, read
"Thanks! And part-time staff?" at 0.10 and the bare follow-up at 0.82. Only a closed list of
phrases counts, only whole words followed by punctuation and a space (or by "and", "what
about"), so "Great Britain", "Hi-vis vests" or "Thanks to whom was the bridge built?" stay
questions. A request for help gets its reply only as a conversation's first message: later,
"How does this work?" asks about what was discussed.
"""

from __future__ import annotations

from typing import Sequence

import regex

from assistant.answer.prompts import SOCIAL_REPLIES

DOCUMENTS_NAMED = 10  # documents a reply names before "and N more"
_GREETING = r"hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day)|hi there|hello there|hey there"
_THANKS = (r"thanks?|thank you(?: (?:so|very) much)?|thanks (?:a lot|so much|again|in advance)|many thanks|thx|cheers"
           r"|much appreciated|appreciate it|thank u")
_ACK = (r"ok|okay|great|cool|perfect|awesome|excellent|got it|i see|alright|all right|understood|noted|wow|oh|ah|hmm+"
        r"|that helps|that helped|(?:that is |thats |very )?helpful")  # ("thanks, that helps" had been searched for and refused)
_BYE = r"bye|goodbye|bye bye|see you|see ya"
# said alone, these are answers to a question the assistant never asks; around a question they are
# part of it ("Good, bad or neutral?"), so they are replied to but never stripped
_ALONE_ONLY = r"good|fine|nice|yes|no|yep|nope|sure|right|interesting|makes sense|that makes sense"
_HELP = (r"help|help me|what can you do|what do you do|who are you|what are you|how does this work|how do you work"
         r"|how can you help|what is this|how do i use this|what should i ask")

_AROUND = f"(?:{_GREETING}|{_THANKS}|{_ACK}|{_BYE})"
_RUN = rf"\b{_AROUND}(?:[\s,]+{_AROUND})*\b"
_EMOJI = r"[:;]-?[)(DPp](?!\w)|<3|[\p{So}\p{Sk}\p{Cf}]"  # smileys and emoji (with their joiners and variation marks; "TL;DR" is none)
_MARK = rf"(?:{_EMOJI}|[,.!;:\u2013\u2014-])"  # a smiley before a colon: ":)" is one, not ":" and ")"
# a run, then marks and a space ("Hi-vis vests?" and "Cool-down?" are words; "Thanks :) who …" is not)
_LEADING = regex.compile(rf"\s*{_RUN}(?:\s*{_MARK})+\s+|\s*{_RUN}\s+(?=(?:and|but|so|what about|how about)\b)", regex.I)
_TRAILING = regex.compile(rf"(?<=[.!?,;])\s*{_RUN}(?:\s*{_MARK})*\s*$", regex.I)
_WORD = regex.compile(r"\w+")
# "ty" and "k" alone are thanks and an acknowledgement; around a question they are letters ("vitamins A, D, E, K")
# asking what the assistant holds: answered from the index's list of documents, not searched for
_DOCUMENTS = (r"(?:what|which) (?:documents|docs|files|sources) (?:do you have|are there|are indexed|have you got|can you see)"
              r"|(?:list|show)(?: me)? (?:the |your |all )?(?:documents|docs|files|sources)|what do you know about"
              r"|what is indexed|what can i ask(?: you)?(?: about)?|what are (?:the|your) (?:documents|files|sources)")
_KINDS = (("documents", _DOCUMENTS), ("help", _HELP), ("thanks", f"{_THANKS}|ty"), ("bye", _BYE), ("greeting", _GREETING), ("ack", f"{_ACK}|k|{_ALONE_ONLY}"))


_EVERY = "|".join(pattern for _, pattern in _KINDS)
_ONLY_SOCIAL = regex.compile(rf"(?:{_EVERY})(?: (?:{_EVERY}))*")  # over `bare` words
_KIND_OF = [(name, regex.compile(rf"(?:^| )(?:{pattern})(?: |$)")) for name, pattern in _KINDS]


def bare(message: str) -> str:
    """The message's words in lower case, single-spaced: punctuation, smileys and emoji gone."""
    text = regex.sub(_EMOJI, " ", message)
    return " ".join(_WORD.findall(text.lower().replace("’", "'").replace("'", "")))


def kind(message: str) -> str | None:
    """"documents", "help", "thanks", "bye", "greeting" or "ack" for a message of social words
    alone, else None. A message mixing them answers to its most specific kind (in that order)."""
    words = bare(message)
    if not words or not _ONLY_SOCIAL.fullmatch(words):
        return None
    return next((name for name, pattern in _KIND_OF if pattern.search(words)), None)


def reply(message: str, first: bool = True, documents: Sequence[str] = ()) -> str | None:
    """The reply to a message of social words alone (see `kind`), else None."""
    return reply_to(kind(message), first, documents)


def reply_to(found: str | None, first: bool = True, documents: Sequence[str] = ()) -> str | None:
    """The reply to a message of kind `found` (see `kind`; None: no reply); a request for help
    only as a conversation's `first` message (later, "How does this work?" asks about what was
    said); "what documents do you have?" names `documents` (file names, in the index's order)."""
    if found == "documents":
        if not documents:
            return SOCIAL_REPLIES["no documents"]
        many = len(documents) != 1
        return SOCIAL_REPLIES["documents"].format(n=len(documents), s="s" * many, names=listed(documents),
                                                  they_say="they say" if many else "it says")
    return SOCIAL_REPLIES[found] if found and (first or found != "help") else None


def listed(names: Sequence[str]) -> str:
    """The first DOCUMENTS_NAMED of `names`, then how many more: "a.txt, b.txt and 3 more"."""
    more = len(names) - DOCUMENTS_NAMED
    return ", ".join(names[:DOCUMENTS_NAMED]) + (f" and {more:,} more" if more > 0 else "")


def without_social(question: str) -> str:
    """`question` without a leading and a trailing run of greetings, thanks or acknowledgements
    (its first letter then a capital); unchanged where nothing with a word would be left."""
    text = question
    while (lead := _LEADING.match(text)) and _WORD.search(text, lead.end()):
        text = text[lead.end():]
        text = text[:1].upper() + text[1:]  # "Hey, who is …" reads as "Who is …", as questions are written
    if (tail := _TRAILING.search(text)) and _WORD.search(text[: tail.start()]):
        text = text[: tail.start()].rstrip(" ,;")
    return text if _WORD.search(text) else question
