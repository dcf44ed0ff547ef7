"""The offline answer: pick the retrieved sentences that answer the question, or abstain.

Every sentence of every retrieved passage is scored from signals that need no language model:
its embedding similarity to the question (the vectors are already in the index), how much of the
question's weighted vocabulary it covers (partly credited from the sentence before), whether it
holds the kind of answer the question asks for (a number for "how many", a date for "when", a
name for "who"...), and its passage's rank.
The best sentence and those of its passage that score nearly as well, in reading order, become
the answer, each followed by its citation marker.

Whether to answer at all is a separate decision: a logistic model over the best sentence's
signals gives an answerability score in [0, 1]; below `Settings.abstain_threshold` the assistant
says `prompts.NO_ANSWER`. Its weights were fitted by `benchmarks/answers.py --fit` and are
constants here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .answer import Citation
from .lexical import acronyms, tokenize
from .prompts import MARKER
from .retrieval import Hit, Searcher

# Sentence ranking weights (benchmarks/answers.py).
W_COSINE, W_COVER, W_TYPE, W_RANK = 0.5, 0.5, 0.2, 0.15
# A further sentence joins the answer when it comes from the best sentence's passage and scores
# within JOIN_MARGIN of it. Sentences of other passages never join: on xquad_en that cost more
# citation precision (0.95 -> 0.93) than it gained in answer accuracy (benchmarks/answers.py).
JOIN_MARGIN = 0.4
# Words sharing their first PREFIX letters count as the same word for coverage ("founded" and
# "founder", "research" and "researchers"), a crude stemmer where BM25's stays strict.
PREFIX = 6
# A sentence also gets CARRY of the weight of the question words that only its predecessor
# holds: what sets a sentence's topic often stands in the sentence before ("The museum opened
# in 1990. It holds 3,000 paintings." answers "How many paintings does the museum hold?").
CARRY = 0.7
# Answerability: logistic weights over Signals fields, and the bias.
ANSWERABILITY_WEIGHTS = {
    "cosine": 4.25, "cover": 2.64, "type_match": 0.43, "passage_cover": 2.41, "missing": 1.18,
    "aspect_cover": 1.13, "aspect_best": 1.48, "plain_best": 4.05, "title_cosine": -1.75,
}
ANSWERABILITY_BIAS = -8.18

_NUMBER = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|dozen)\b", re.I)
_YEAR_OR_DATE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})\b|\b(?:january|february|march|april|may|june|july|august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|century|decade|yesterday|today|ago)\b",
    re.I,
)
# Dates are not amounts: "5 March" or "in 1990" does not answer "how many" or "how large".
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|(?-i:May)|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
_DATE_NUMBER = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    r"|\b(?:1[5-9]\d\d|20\d\d)s?\b",
    re.I,
)
# The adjectives of "how ...?" questions: counts, sizes, and spans (of time or age).
_COUNT, _SIZE, _SPAN = "much|many", "far|big|large|tall|high|wide|deep|heavy", "long|old"
_AMOUNT_QUESTION = re.compile(rf"\bhow (?:{_COUNT}|{_SIZE})\b", re.I)
# ... and prices are not sizes: "$2 million" does not answer "how large" or "how far".
_MONEY = re.compile(
    r"[$€£¥]\s?\d[\d,.]*(?:\s*(?:thousand|million|billion|trillion|bn|m)\b)?"
    r"|\b\d[\d,.]*\s*(?:(?:thousand|million|billion|trillion)\s+)?(?:dollars|euros|pounds|yuan|usd|eur)\b",
    re.I,
)
_MEASURE_QUESTION = re.compile(rf"\bhow (?:{_SIZE}|{_SPAN})\b", re.I)
# Words that frame a question rather than name what it is about: the adjective of "how much /
# many / large / far ..." (the answer holds an amount, not the word), "according to", and a
# reference to the documents themselves ("in the article", "according to the documents").
_FRAMING = re.compile(
    rf"\bhow ({_COUNT}|{_SIZE}|{_SPAN}|often)\b"
    r"|\b(according)(?= to\b)"
    r"|\b(?:in|from|by|to) (?:the|this|these|your) (articles?|documents?|texts?|passages?|reports?|files?|sources?)\b",
    re.I,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z\-]+")


@dataclass(frozen=True)
class Signals:
    """What decides whether to answer, for the best candidate sentence."""

    cosine: float  # best sentence's similarity to the question
    cover: float  # share of the question's weighted words in the best sentence
    type_match: float  # 1 if it holds the asked-for kind of answer, 0 if not, 0.5 if not typed
    passage_cover: float  # share of the question's weighted words in the best passage
    missing: float  # rarest question word found in no retrieved passage (its idf, scaled)
    aspect_cover: float  # like `cover`, over the question words that are not in the document's title
    aspect_best: float  # the best `aspect_cover` of any candidate sentence
    plain_best: float  # similarity of the best sentence embedded alone (no title in front)
    title_cosine: float  # similarity of the best sentence's document title alone

    def answerability(self) -> float:
        z = ANSWERABILITY_BIAS + sum(w * getattr(self, name) for name, w in ANSWERABILITY_WEIGHTS.items())
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Candidate:
    hit_rank: int
    hit: Hit
    start: int  # offsets into the source text
    end: int
    text: str
    score: float
    cosine: float
    cover: float
    type_match: float
    aspect: float


def question_type(question: str) -> str:
    q = question.lower().strip()
    if re.search(r"\bhow (?:much|many|long|far|old|big|large|often|tall|high)\b|\bwhat (?:percentage|number|amount|proportion)\b", q):
        return "quantity"
    if re.search(r"\bwhen\b|\bwhat (?:year|date|day|month|time|century)\b|\bwhich year\b", q):
        return "time"
    if re.search(r"^who\b|\bwho (?:is|was|are|were|did|does)\b|\bwhich (?:person|company|organi[sz]ation)\b", q):
        return "person"
    if re.search(r"^where\b|\bwhich (?:countr(?:y|ies)|cit(?:y|ies)|places?)\b|\bin what (?:country|city)\b", q):
        return "place"
    if re.search(r"^why\b|\bwhat (?:is|was) the reason\b", q):
        return "reason"
    return "other"


def _type_match(kind: str, sentence: str, question: str) -> float:
    if kind == "quantity":
        if _AMOUNT_QUESTION.search(question):
            sentence = _DATE_NUMBER.sub(" ", sentence)
        if _MEASURE_QUESTION.search(question):
            sentence = _MONEY.sub(" ", sentence)
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "time":
        return 1.0 if _YEAR_OR_DATE.search(sentence) else 0.0
    if kind in ("person", "place"):
        asked = {w.lower() for w in re.findall(r"[A-Za-z\-]+", question)}
        names = [m for m in _CAPITALISED.findall(sentence) if m.lower() not in asked]
        return 1.0 if names else 0.0
    if kind == "reason":
        return 1.0 if re.search(r"\b(?:because|since|due to|so that|in order to|as a result|therefore|thus|reason)\b", sentence, re.I) else 0.5
    return 0.5


def candidates(question: str, query_vector: np.ndarray, hits: list[Hit], searcher: Searcher) -> tuple[list[Candidate], Signals]:
    """All sentences of `hits`, best first, and the answerability signals.

    The stored sentence vectors carry their document's title, which makes every sentence of an
    on-topic document look relevant. To tell "on topic" from "answers it", the best sentence and
    its document's title are also embedded on their own (two short texts, one model call)."""
    index = searcher.index
    row_of = searcher.chunk_row
    framing = set(tokenize(" ".join(w for m in _FRAMING.finditer(question) for w in m.groups() if w)))
    q_tokens = [t for t in dict.fromkeys(tokenize(question)) if t not in framing]
    weights = {t: searcher.bm25.idf(t) for t in q_tokens}
    total = sum(weights.values()) or 1.0
    kind = question_type(question)
    short_forms = {a: words for a, words in acronyms(question).items() if a not in weights}
    found: list[Candidate] = []
    seen: set[tuple[str, int, int]] = set()
    passage_cover = 0.0
    present: set[str] = set()
    for rank, hit in enumerate(hits):
        ci = row_of.get(hit.chunk_id)
        if ci is None:
            continue
        chunk = index.chunks[ci]
        hit_tokens = _expand(set(tokenize(hit.text)), short_forms)
        title_tokens = set(tokenize(hit.title))
        aspect_total = sum(w for t, w in weights.items() if t not in title_tokens)
        present |= hit_tokens
        passage_cover = max(passage_cover, sum(w for t, w in weights.items() if _present(t, hit_tokens)) / total)
        rows = index.chunk_rows[ci]
        cosines = index.vectors[list(rows)] @ query_vector if rows else np.empty(0)
        before: set[str] = set()
        for (s, e), cosine in zip(chunk.sentences, cosines):
            text = chunk.text[s - chunk.start : e - chunk.start]
            tokens = _expand(set(tokenize(text)), short_forms)
            context, before = before, tokens
            key = (chunk.source, s, e)
            if key in seen:
                continue
            seen.add(key)
            own = sum(w for t, w in weights.items() if _present(t, tokens)) / total
            added = sum(w for t, w in weights.items() if _present(t, context) and not _present(t, tokens)) / total
            cover = own + CARRY * added
            aspect = (sum(w for t, w in weights.items() if _present(t, tokens) and t not in title_tokens) / aspect_total) if aspect_total else cover
            type_match = _type_match(kind, text, question)
            score = W_COSINE * float(cosine) + W_COVER * cover + W_TYPE * type_match + W_RANK / (1 + rank)
            found.append(Candidate(rank, hit, s, e, text, score, float(cosine), cover, type_match, aspect))
    found.sort(key=lambda c: -c.score)
    missing_idf = max((w for t, w in weights.items() if not _present(t, present)), default=0.0)
    if not found:
        return [], Signals(0.0, 0.0, 0.0, 0.0, min(missing_idf, 10.0) / 10.0, 0.0, 0.0, 0.0, 0.0)
    best = found[0]
    plain = searcher.embed([best.text, best.hit.title or best.hit.label]) @ query_vector
    signals = Signals(
        best.cosine, best.cover, best.type_match, passage_cover, min(missing_idf, 10.0) / 10.0,
        best.aspect, max(c.aspect for c in found), float(plain[0]), float(plain[1]),
    )
    return found, signals


def _expand(tokens: set[str], short_forms: dict[str, tuple[str, ...]]) -> set[str]:
    """The text's words plus what they stand for: acronyms ("R&D" -> research, development)
    and word prefixes (see PREFIX), so the question's words can be looked up in it."""
    for short, words in short_forms.items():
        if short in tokens:
            tokens |= set(words)
    return tokens | {"\x00" + t[:PREFIX] for t in tokens if len(t) >= PREFIX}


def _present(token: str, tokens: set[str]) -> bool:
    return token in tokens or (len(token) >= PREFIX and "\x00" + token[:PREFIX] in tokens)


def compose(found: list[Candidate], max_sentences: int) -> tuple[str, tuple[Citation, ...]]:
    """The answer text (verbatim sentences with markers) and its citations."""
    if not found:
        return "", ()
    best = found[0]
    chosen = [best]
    for cand in found[1:]:
        if len(chosen) >= max_sentences:
            break
        if cand.hit.chunk_id == best.hit.chunk_id and cand.score >= best.score - JOIN_MARGIN and not _redundant(cand, chosen):
            chosen.append(cand)
    chosen.sort(key=lambda c: c.start)  # reading order
    citations = tuple(Citation(n=1, hit=c.hit, quote=c.text, quote_start=c.start, quote_end=c.end) for c in chosen)
    return " ".join(f"{c.quote} {MARKER.format(n=c.n)}" for c in citations), citations


def _redundant(cand: Candidate, chosen: list[Candidate]) -> bool:
    tokens = set(tokenize(cand.text))
    for other in chosen:
        if other.hit.source == cand.hit.source and not (cand.end <= other.start or other.end <= cand.start):
            return True
        theirs = set(tokenize(other.text))
        if tokens and len(tokens & theirs) / len(tokens) > 0.7:
            return True
    return False
