"""The offline answer: the retrieved sentences that answer the question, or none.

Every sentence of the retrieved passages is a candidate. A cheap pre-filter (`answer/prefilter.py`)
keeps the `Settings.answer_candidates` most promising ones, by what the index already holds: their
stored vectors' similarity to the question and their neighbours', the share of the question's
rarer words they hold, and their passage's rank. The trained answer
model (`answer/model.py`) then reads each kept sentence with the end of the sentence before it and
gives a logit, which a small logistic layer (fitted by `training/combine.py`) combines with the
sentence's cosine and word share into the probability that it answers the question; a sentence
whose passage (or its document's opening) does not state a number the question states keeps a
tenth of it (`answer/numbers.py`).
The best probability is the question's answerability; with judge mode on the model's card (the shipped
one), the highest probability of the best candidates read once more with their bridge
(`answer/bridge.py`) is. Below the threshold the assistant says it does not know. Otherwise the best
sentence, and sentences of its passage that the model also finds answering, become the answer, in
reading order, each followed by its citation marker; a chosen sentence ending in a colon brings
the list it announces, two chosen items of one list the whole list, a chosen part of a quotation
the rest of it, a chosen table row its table's header row, and for a question asking who a
sentence opening with a personal pronoun the sentence before it; no sentence joins across a Markdown
heading. A Markdown heading, a sentence that only asks the question back, an FAQ's question line
before its answer line, a line without a word, a Markdown table's header row, or the document's
unpunctuated title is never a candidate. Another document that the
model finds answering nearly as well is named in the answer's notice (`rivals`).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, replace

import numpy as np

from assistant.answer.types import Citation
from assistant.config import MARKDOWN_SUFFIXES
from assistant.answer import bridge, numbers, prefilter
from assistant.answer.model import AnswerModel, pair_text
from assistant.ingest.documents import HTML_TAG
from assistant.ingest.sentences import (
    BLANK_LINE, HEADING_LINE, LINE_BREAK, SEPARATOR_ROW, is_list_item, is_table_row, list_item_kind, split_sentences, table_cells,
)
from assistant.search.lexical import tokenize
from assistant.answer.prompts import MARKER
from assistant.search.retrieval import Hit, Searcher

# A further sentence of the best sentence's passage joins the answer when the model gives it at
# least JOIN_SHARE of the best sentence's probability, and no Markdown heading stands between them.
# Sentences of other passages never join: they cost citation precision (a second passage is a
# second claim to check).
JOIN_SHARE = 0.5
# A candidate whose passage does not state a number that the question states ("in 2022", "the 55-59
# category") keeps this share of its probability: below the card's threshold (0.245) whatever it read,
# so it is not the answer (unless a threshold below 0.1 is set), and still in its order among the
# related passages offered with a refusal.
UNSTATED_SHARE = 0.1


@dataclass(frozen=True)
class Candidate:
    hit_rank: int
    hit: Hit
    start: int  # offsets into the source text
    end: int
    text: str
    score: float  # the model's probability that this sentence answers the question
    prefilter: float  # what the pre-filter ranked it by
    cosine: float = 0.0  # the stored sentence vector's similarity to the question
    share: float = 0.0  # share of the question's IDF-weighted words in the sentence
    judged: float | None = None  # on the best candidate: the highest probability of the candidates re-read with their bridges (card's bridge_for)


# A Markdown heading ("## Setup") states nothing, and neither does a sentence that asks ("…?") with
# no content word the question lacks: it is the question again (an FAQ's "Q: …?" line, a heading
# "### Is the lock waterproof?"), which the model finds near certain to answer it. Neither is a
# candidate; both stay in the passage, and in the context read with the sentence after them. A
# question that holds more ("Has anyone tried the Alpine 2 tent?") stays one: in forum posts such
# a sentence can hold the answer (on the dev split, dropping every asking sentence that shares
# most of the question's words lost 8 answers).
_ASKS = re.compile(r"\?[\s'\"’”)\]*_]*$")  # (in Markdown emphasis too: "**Do you offer refunds?**")
_HEADING = re.compile(r"#{1,6}(?:\s|$)")
_A_WORD = re.compile(r"\w")
_ITS_ANSWER = re.compile(r"\s*[*_]{0,3}(?:A|Answer)\s*[:.)]", re.I)  # an FAQ's "A:" (or "**A:**") after its "Q: …?"
_MARKDOWN = MARKDOWN_SUFFIXES


def states_something(text: str, question_words: set[str] | frozenset[str] = frozenset(), markdown: bool = True) -> bool:
    """Whether a sentence can answer a question whose content words (`lexical.tokenize`) are
    `question_words`: not a heading of a Markdown document, nor its HTML tags alone, nor a
    question made of those words only. (In a plain text file "# of beds: 120" is no heading.)"""
    if markdown and _HEADING.match(text):
        return False
    if not _A_WORD.search(text):  # a table's "|---|---|" or a lone "```": nothing to read
        return False
    if markdown and not _A_WORD.search(HTML_TAG.sub("", text)):  # a README's '<img src="logo.svg">': markup alone
        return False
    return not (_ASKS.search(text) and set(tokenize(text)) <= question_words)




def _table_header(cand: Candidate) -> bool:
    """A Markdown table's header row ("| Element | Symbol |", the line before "|---|---|"): it names
    the columns and says nothing (it had been the answer to "What is the symbol for dysprosium?");
    a chosen row still brings it (`_with_headers`)."""
    return is_table_row(cand.text) and bool(SEPARATOR_ROW.match(cand.hit.text, cand.end - cand.hit.start))


_UNDERLINE = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]{0,3}(?:=+|-+)[ \t]*(?:\r\n|\r|\n|$)")  # "Annual leave" / "-----"


def _underlined(cand: Candidate) -> bool:
    """A Markdown heading written over a line of "=" or "-" ("Parental leave" / "--------------"):
    it states nothing, as a "## " heading does (it had been quoted before its section's answer)."""
    return cand.hit.source.lower().endswith(_MARKDOWN) and bool(_UNDERLINE.match(cand.hit.text, cand.end - cand.hit.start))


def _asks_before_its_answer(cand: Candidate) -> bool:
    """An FAQ's question line followed by its "A:" line ("Q: Can I sync with Dropbox?" / "A: Not
    yet."): the answer is in the next line; the echo of the question, one word off, had been quoted
    in its place."""
    return bool(_ASKS.search(cand.text)) and bool(_ITS_ANSWER.match(cand.hit.text, cand.end - cand.hit.start))


_ENDS = re.compile(r"[.!?:;…]['\"’”)\]]*$")


def _is_title(cand: Candidate) -> bool:
    """Whether the sentence is its document's title, unpunctuated ("Effects of Green Tea Extract
    on Blood Pressure"): it names the topic, and had been quoted as the answer to "Were there any
    side effects?"."""
    title = (cand.hit.title or "").strip()
    return bool(title) and cand.text.strip() == title and not _ENDS.search(title)


def sentences(
    question: str, query_vector: np.ndarray, hits: list[Hit], searcher: Searcher, ranker: prefilter.Prefilter | None = None
) -> list[Candidate]:
    """Every distinct sentence of `hits` that states something (`states_something`) with its
    pre-filter score (`answer/prefilter.py`: the fitted `ranker`, or the stock score without one;
    model score not yet set), best first."""
    found, table = with_features(question, query_vector, hits, searcher)
    asked = set(tokenize(question))
    kept = [i for i, c in enumerate(found) if states_something(c.text, asked, c.hit.source.lower().endswith(_MARKDOWN))
            and not _asks_before_its_answer(c) and not _is_title(c) and not _table_header(c) and not _underlined(c)]
    found, table = [found[i] for i in kept], table[kept]
    scored = [replace(c, prefilter=float(p)) for c, p in zip(found, prefilter.scores(table, ranker))]
    scored.sort(key=lambda c: (-c.prefilter, c.hit_rank))
    return scored


def with_features(question: str, query_vector: np.ndarray, hits: list[Hit], searcher: Searcher) -> tuple[list[Candidate], np.ndarray]:
    """Every distinct sentence of `hits` in passage order (unscored), and its row of the
    pre-filter's `FEATURES` (what `training/prefilter.py` fits on)."""
    index = searcher.index
    q_tokens = list(dict.fromkeys(tokenize(question)))
    weights = {t: searcher.bm25.idf(t) for t in q_tokens}
    total = sum(weights.values()) or 1.0
    found: list[Candidate] = []
    rows_of: list[int] = []
    seen: set[tuple[str, int, int]] = set()
    ranked = [(rank, searcher.chunk_row[hit.chunk_id]) for rank, hit in enumerate(hits) if hit.chunk_id in searcher.chunk_row]
    rows = {r for _, ci in ranked for r in index.chunk_rows[ci]}
    neighbours = {n for r in rows for n in (r - 1, r + 1) if 0 <= n < len(index.keys) and index.keys[n][0] == index.keys[r][0]}
    wanted = sorted(rows | neighbours)
    # one read of the stored vectors for all passages (a round trip on a remote store)
    cosine_of = dict(zip(wanted, (index.sentence_vectors(wanted) @ query_vector).tolist())) if wanted else {}
    for rank, ci in ranked:
        hit, chunk = hits[rank], index.chunks[ci]
        for (s, e), row in zip(chunk.sentences, index.chunk_rows[ci]):
            key = (chunk.source, s, e)
            if key in seen:
                continue
            seen.add(key)
            text = chunk.text[s - chunk.start : e - chunk.start]
            tokens = set(tokenize(text))
            share = sum(w for t, w in weights.items() if t in tokens) / total
            found.append(Candidate(rank, hit, s, e, text, 0.0, 0.0, float(cosine_of[row]), share))
            rows_of.append(row)
    table = prefilter.features(
        [c.cosine for c in found], [c.share for c in found],
        [(cosine_of[r - 1] if r - 1 in neighbours else None, cosine_of[r + 1] if r + 1 in neighbours else None) for r in rows_of],
        [c.hit_rank for c in found], [c.hit.score for c in found], [c.end - c.start for c in found],
        [c.start <= c.hit.start for c in found], [(c.start - c.hit.start) / max(c.hit.end - c.hit.start, 1) for c in found],
    )
    return found, table


def previous_sentence(searcher: Searcher, source: str, start: int, end: int) -> str:
    """The sentence before (source, start, end) in its document, or "" for the first."""
    index = searcher.index
    row = index.row_of((source, start, end))
    if row is None or row == 0 or index.keys[row - 1][0] != source:
        return ""
    return index.sentence(row - 1)[1]


ROW_READ_MOST = 300  # characters: a row read with its columns' names past this is read as it stands (the model reads 128 tokens)
_TABLE_STARTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per loaded index: row -> its table's first row


def _table_start(index, row: int) -> int:
    """The first row of the table that sentence `row` (a table row) belongs to: up through the
    table rows on the lines right above it, in its document. Remembered per loaded index, so a
    long table is walked once."""
    known = _TABLE_STARTS.setdefault(index, {})
    walked, first = [], row
    while first not in known:
        walked.append(first)
        above = first - 1
        if above < 0 or index.keys[above][0] != index.keys[first][0] or not _next_line(index, above, first) \
                or not is_table_row(index.sentence(above)[1]):
            known[first] = first
            break
        first = above
    found = known[first]
    for visited in walked:
        known[visited] = found
    return found


def _header_row(index, row: int) -> int | None:
    """The row of the header of the table that sentence `row` (a table row) is a data row of:
    its first row, where a "|---|" line follows it; None for the header itself, the "|---|" line,
    or a row of a table without a header."""
    first = _table_start(index, row)
    return first if first + 1 < row and SEPARATOR_ROW.fullmatch(index.sentence(first + 1)[1]) else None


def _next_line(index, above: int, row: int) -> bool:
    """Whether sentence `row` is on the line right after sentence `above` (rows of one table are;
    a blank line or text between sets two tables apart)."""
    end, start = index.keys[above][2], index.keys[row][1]
    for c in (*index.row_chunks[row], *index.row_chunks[above]):
        chunk = index.chunks[c]
        if chunk.start <= end and start <= chunk.end:
            between = chunk.text[end - chunk.start : start - chunk.start]
            return not between.strip() and len(LINE_BREAK.findall(between)) == 1
    return start - end == 1


def as_table_row(searcher: Searcher, source: str, start: int, end: int, text: str, question: str = "") -> tuple[str, str] | None:
    """How the answer model reads a row of a table that has a header (a first row with a
    Markdown `|---|` line under it, as the loaders write a header that a page, Word document or
    deck marks): each cell after its column's name ("Plan: Team; Monthly price: 29 EUR; Users:
    10"), with the sentence before the table as the one before it. None for a sentence that is
    no such row, or one whose cells do not match the header's. A row that would read longer than
    `ROW_READ_MOST` (a wide sheet's) reads its first cell, the cells whose column names share a word
    with `question`, then the others in order while they fit (it had been read as bare cells, and
    "What is Bo Chen's parking spot?" refused on a 40-column sheet); without `question`, None. A row
    of cells alone does not say which figure is which (the model had given "| Lyon | 14 |" 0.005 for
    "How many staff work in Lyon?")."""
    index = searcher.index
    row = index.row_of((source, start, end)) if is_table_row(text) else None
    if row is None:
        return None
    first = _header_row(index, row)
    if first is None:
        return None
    names, cells = table_cells(index.sentence(first)[1]), table_cells(text)
    if len(names) != len(cells) or not any(names):
        return None
    parts = named_cells(names, cells)
    read = "; ".join(part for _, part in parts)
    if len(read) > ROW_READ_MOST:
        if not question:
            return None
        asked = set(tokenize(question))
        order = parts[:1] + [p for p in parts[1:] if asked & set(tokenize(names[p[0]]))] + parts[1:]
        kept, length = {}, -2
        for i, part in order:
            if i not in kept and length + 2 + len(part) <= ROW_READ_MOST:
                kept[i], length = part, length + 2 + len(part)
        read = "; ".join(kept[i] for i in sorted(kept))
    above = index.sentence(first - 1)[1] if first > 0 and index.keys[first - 1][0] == source else ""
    return read, ("" if is_table_row(above) else above)


def named_cells(names: list[str], cells: list[str]) -> list[tuple[int, str]]:
    """A row's filled cells, each after its column's name ("Plan: Team"), with its column: how the
    answer model reads a table row (`as_table_row`; training/tables.py writes its rows so too)."""
    return [(i, f"{name}: {cell}" if name else cell) for i, (name, cell) in enumerate(zip(names, cells)) if cell]


def passage_bridge(question: str, cand: Candidate, searcher: Searcher) -> str:
    """The candidate's bridge (`answer/bridge.py`): of the other sentences of its passage, not
    the one before it, the one sharing most of the question's words."""
    chunk = searcher.index.chunks[searcher.chunk_row[cand.hit.chunk_id]]
    passage = [chunk.text[s - chunk.start : e - chunk.start] for s, e in chunk.sentences]
    return bridge.of(question, passage, [s for s, _ in chunk.sentences].index(cand.start))


def pair_texts(kept: list[Candidate], searcher: Searcher, question: str = "", bridge_chars: int = 0) -> list[str]:
    """What the answer model reads for each candidate: its sentence with the end of the one before
    (a table row: with its columns' names, after the sentence before its table; `as_table_row`)
    and, for a model that reads one (`bridge_chars` on its card), the start of its bridge."""
    texts = []
    for c in kept:
        sentence, before = as_table_row(searcher, c.hit.source, c.start, c.end, c.text, question) or (
            c.text, previous_sentence(searcher, c.hit.source, c.start, c.end))
        texts.append(pair_text(sentence, before, passage_bridge(question, c, searcher) if bridge_chars else "", bridge_chars))
    return texts


def candidates(
    question: str, query_vector: np.ndarray, hits: list[Hit], searcher: Searcher, model: AnswerModel, limit: int,
    stop: float | None = None, threshold: float | None = None, check_numbers: bool = True,
) -> list[Candidate]:
    """The `limit` pre-filtered sentences of `hits`, scored by the answer model, best first.

    With `stop`, the model reads them in pre-filter order and stops at the first whose
    probability reaches `stop`; only the sentences read are returned. A model whose card sets
    `bridge_for` "answerability" reads them without a bridge, chooses by that, and then re-reads
    its `judge_candidates` best with their bridges: the highest of those probabilities is the
    question's answerability (`Candidate.judged` on the best). Where the plain best already
    reaches the card's `judge_skip_above`, or the `stop` that ended the reading, and the
    abstention `threshold` (the card's unless given), none is re-read (the plain probability is the
    answerability): the judges matter where the reading is unsure, and neither skipping them nor
    stopping early can turn an answer into a refusal. With `check_numbers`, a candidate whose passage does
    not state a number the question states keeps UNSTATED_SHARE of its probability (`numbers.py`),
    and the reading does not stop early."""
    kept = sentences(question, query_vector, hits, searcher, model.card.prefilter)[:limit]
    card = model.card
    required = numbers.stated(question) if check_numbers else ()
    if required:
        stop = None  # a sentence that reaches `stop` may still lack the number asked about: read them all
    texts = pair_texts(kept, searcher, question, card.candidate_bridge_chars)
    scores = model.probabilities(question, texts, [c.cosine for c in kept], [c.share for c in kept], stop)
    scores = _numbers_checked(scores, kept, texts, required, searcher)
    scored = [replace(c, score=float(p)) for c, p in zip(kept, scores)]
    scored.sort(key=lambda c: (-c.score, c.hit_rank))
    floor = model.threshold if threshold is None else threshold
    sure = [max(level, floor) for level in (card.judge_skip_above, stop) if level is not None]
    if card.judges_with_bridge and scored and all(scored[0].score < level for level in sure):
        judges = scored[: card.judge_candidates]
        texts = pair_texts(judges, searcher, question, card.bridge_chars)
        judged = _numbers_checked(model.probabilities(question, texts, [c.cosine for c in judges], [c.share for c in judges]),
                                  judges, texts, required, searcher)
        scored[0] = replace(scored[0], judged=float(judged.max()))
    return scored


def _numbers_checked(scores: np.ndarray, found: list[Candidate], texts: list[str], required, searcher: Searcher) -> np.ndarray:
    """`scores` with UNSTATED_SHARE of each where the candidate's passage, its document's title and
    opening passage (a year or version that scopes the whole document) and what the model read
    (`texts`) do not state every number the question `required` (`numbers.py`)."""
    if not required:
        return scores
    return np.array([p * UNSTATED_SHARE if numbers.unstated(required, c.hit.title, c.hit.text, t, document_opening(searcher, c.hit.source)) else p
                     for p, c, t in zip(scores, found, texts)], dtype=np.float64)


def document_opening(searcher: Searcher, source: str) -> str:
    """The first passage of `source` ("" where the index holds none of it): where a document says
    which year, version or model all of it is about."""
    rows = searcher.index.document_rows(source)
    return searcher.index.sentence(rows[0])[0].text if rows else ""


def rivals(found: list[Candidate], threshold: float, cited: set[str]) -> list[str]:
    """Sources, not among `cited`, of sentences that would have joined the answer had they been in
    its passage (above the abstention threshold and JOIN_SHARE of the best): named in the answer's
    notice, since they may say otherwise (an old and a new policy both answer "What is the hotel
    limit?", and the old one's sentence had been quoted alone, without a word about the new one)."""
    if not found:
        return []
    floor = max(threshold, JOIN_SHARE * found[0].score)
    return list(dict.fromkeys(c.hit.source for c in found[1:] if c.score >= floor and c.hit.source not in cited))


def answerability(found: list[Candidate]) -> float:
    """The probability that the best candidate answers the question (0 with no candidate): as
    read when chosen, or, for a model whose card sets `bridge_for` "answerability", the highest
    of the best candidates re-read with their bridges (`Candidate.judged`)."""
    if not found:
        return 0.0
    return found[0].score if found[0].judged is None else found[0].judged


def compose(parts: list[list[Candidate]], max_sentences: int, searcher: Searcher | None = None,
            question: str = "", several: bool = False) -> tuple[str, tuple[Citation, ...]]:
    """The answer text (verbatim sentences with markers) and its citations: for each part of the
    question (one list of scored candidates per part, see `answer/parts.py`), its best sentence
    and the sentences of the same passage the model also finds answering, in reading order (a
    table row with its table's header, from `searcher`'s index where it is in another passage; for
    a `question` asking who, a sentence opening with a personal pronoun with the sentence before it).
    For a question of `several` parts, a sentence joins across a heading too: its parts may ask
    about several sections ("What is the rent and how big is the deposit?").
    The quotes are joined by a space, or by a line break before and after a list item or table row."""
    chosen: list[Candidate] = []
    for found in parts:
        selected = _with_quotes_whole(_with_list_rest(
            _with_whole_lists(_with_what_follows(_faq_answers(_selection(found, max_sentences, several), max_sentences), max_sentences)), searcher))
        if _ASKS_WHO.search(question):
            selected = _with_antecedents(selected)
        for cand in sorted(_with_headers(selected, searcher), key=lambda c: c.start):
            if not _overlapping(cand, chosen) and not _said_already(cand, chosen):
                chosen.append(cand)
    markers: dict[str, int] = {}  # one marker per passage, numbered in order of first citation
    citations = tuple(
        Citation(n=markers.setdefault(c.hit.chunk_id, len(markers) + 1), hit=c.hit, quote=c.text, quote_start=c.start, quote_end=c.end)
        for c in chosen
    )
    return cited_text(citations), citations


def _said_already(cand: Candidate, chosen: list[Candidate]) -> bool:
    """Whether a sentence of prose says word for word what a chosen one says (a disclaimer a
    document repeats had been quoted twice in one answer). Table rows and list items are kept:
    two tables can share a header, two lists an item."""
    if _own_line(cand.text):
        return False
    words = cand.text.split()
    return any(c.text.split() == words for c in chosen)


def cited_text(citations, tidy: bool = False) -> str:
    """The answer text of `citations` (`joined`), a sentence that goes on the line of the quote
    before it in their passage (a list item's second sentence) staying on that line: it had been
    put on a line of its own, and read as a step of its own. `tidy`: each quote of prose with its
    spaces and line breaks as one space (for a terminal: a PDF's justified, wrapped lines had
    shown as "The  maximum  load" with breaks mid-sentence); the answer itself stays verbatim."""
    together = [i > 0 and _same_line(citations[i - 1], c) for i, c in enumerate(citations)]
    quotes = [(" ".join(c.quote.split()) if tidy and not _own_line(c.quote) else c.quote, c.n) for c in citations]
    return joined(quotes, together)


# A document's own reference mark where one stands: after a space or punctuation ("attacks [2].",
# "in 1889.[2]", "studies [3, 4]"), or a single number right after a word ("the tower[3] is");
# never code ("rows[0]", "m[1, 2]", "f[1](x)", "x[1].y"), a number from 0, or inside backticks
_REFERENCE_MARK = re.compile(
    r"(?<![\w\[`])\[([1-9]\d{0,2}(?:\s*[,;–-]\s*[1-9]\d{0,2})*)\]"
    r"|(?<=[^\W\d_])\[([1-9]\d{0,2})\](?![\w(\[]|\.\w)"
)
_CODE_SPAN = re.compile(r"`[^`]*`")


def as_written(quote: str) -> str:
    """A quote as an answer's text writes it: the document's own reference marks ("heart attacks
    [2].") as footnote marks ("[^2]"), which no reader takes for a citation marker (an API caller
    could not tell a document's "[2]" from the marker of citation 2); a table row or code as it
    stands. The citation keeps the quote verbatim."""
    if is_table_row(quote) or quote.lstrip().startswith(("```", "~~~")):
        return quote
    out, at = [], 0
    for code in [*_CODE_SPAN.finditer(quote), None]:
        end = code.start() if code else len(quote)
        out.append(_REFERENCE_MARK.sub(lambda m: f"[^{m.group(1) or m.group(2)}]", quote[at:end]))
        if code:
            out.append(code.group())
            at = code.end()
    return "".join(out)


def _same_line(before, after) -> bool:
    """Whether citation `after` follows `before` on the same line of the same passage."""
    if before.hit.chunk_id != after.hit.chunk_id or not before.quote_end <= after.quote_start:
        return False
    return not LINE_BREAK.search(before.hit.text, before.quote_end - before.hit.start, after.quote_start - before.hit.start)


def joined(quotes: list[tuple[str, int]], together: list[bool] | None = None) -> str:
    """Quotes, each with its marker, as one text: apart by a space, or on a line of its own where
    the quote or the one before is a list item, a table row or a code block, unless `together`
    says it goes on the line of the one before."""
    text = ""
    for i, (quote, n) in enumerate(quotes):
        if i:
            own = (_own_line(quote) or _own_line(quotes[i - 1][0])) and not (together and together[i])
            text += "\n" if own else " "
        text += f"{as_written(quote)} {MARKER.format(n=n)}"
    return text


def _own_line(quote: str) -> bool:
    """A list item, table row, code block or Markdown heading: a line of its own in an answer (a
    sheet's "# Contacts" heading had run on into the sentence after it)."""
    return (is_list_item(quote) or is_table_row(quote) or quote.lstrip().startswith(("```", "~~~"))  # (a code block)
            or bool(HEADING_LINE.match(quote)))


def _selection(found: list[Candidate], max_sentences: int, across_sections: bool = False) -> list[Candidate]:
    if not found:
        return []
    best = found[0]
    chosen = [best]
    for cand in found[1:]:
        if len(chosen) >= max_sentences:
            break
        # (a floor at the abstention threshold was tried: dev path accuracy 0.5986 against 0.6013, not kept)
        if (cand.hit.chunk_id == best.hit.chunk_id and cand.score >= JOIN_SHARE * best.score
                and not _overlapping(cand, chosen)
                and (across_sections or not _heading_between(best, cand))
                and not _faq_question(cand) and not _plain_heading(cand)):
            chosen.append(cand)
    return chosen


_ASKS_WHO = re.compile(r"\b(?:who|whom|whose)\b", re.I)
_PERSONAL = re.compile(r"[\s'\"‘“(\[*_]*(?:He|She|They|His|Her|Their|Him|Them)\b")


def _with_antecedents(selected: list[Candidate]) -> list[Candidate]:
    """`selected`, and before a sentence that opens with a personal pronoun ("He proposed …") the
    sentence before it in its passage and paragraph, which names whom it means: the answer to a
    question asking who names someone (a "who" question had been answered "He proposed …", the
    name one sentence before, unquoted). Only for such questions: for every question it cost 0.008
    of the dev path's quote precision and gained no answer (training/pipeline.py, 2026-12-06)."""
    out = list(selected)
    for cand in selected:
        if not _PERSONAL.match(cand.text):
            continue
        hit, at = cand.hit, cand.start - cand.hit.start
        before = [(s, e) for s, e in split_sentences(hit.text, 0, at) if e <= at]
        if not before:
            continue
        s, e = before[-1]
        if (BLANK_LINE.search(hit.text, e, at) or HEADING_LINE.match(hit.text, s)
                or is_list_item(hit.text[s:e]) or is_table_row(hit.text[s:e])):
            continue  # another paragraph, a heading, a list item or a row: not what the pronoun stands for
        antecedent = _sentence_of(cand, s, e)
        if not _overlapping(antecedent, out):
            out.append(antecedent)
    return out


def _sentence_of(cand: Candidate, s: int, e: int) -> Candidate:
    """The sentence at offsets `s:e` of `cand`'s passage, as a candidate of that passage (read with
    `cand`'s scores: it is chosen with it, not on its own)."""
    hit = cand.hit
    return replace(cand, start=hit.start + s, end=hit.start + e, text=hit.text[s:e], judged=None)


def _faq_question(cand: Candidate) -> bool:
    """A question on a line of its own in a Markdown document ("**Which payment methods do you
    accept?**"): an FAQ's next entry, not part of the answer beside it (in forum posts a question
    in the prose can hold the answer: joining none of them cost 0.004 of the dev path's accuracy)."""
    if not (cand.hit.source.lower().endswith(_MARKDOWN) and _ASKS.search(cand.text)):
        return False
    text, at, end = cand.hit.text, cand.start - cand.hit.start, cand.end - cand.hit.start
    return (at == 0 or text[at - 1] in "\r\n") and (end == len(text) or text[end] in "\r\n")


def _faq_answers(selected: list[Candidate], max_sentences: int) -> list[Candidate]:
    """`selected`, with a chosen FAQ question line (`_faq_question`) or plain-text heading
    (`_plain_heading`) replaced by what it heads: the `max_sentences` sentences after it in its
    paragraph, and the rest of a list they are in (LEAD_IN_MOST at most), up to the next question
    line or heading. The model finds the entry's question or the section's name closest to the
    user's question, and it had been quoted alone ("How do I cancel?" answered "**How do I cancel
    my membership?**", "What are the action items?" answered "Action items"). One with nothing
    after it in its passage stays as it is."""
    out: list[Candidate] = []
    for cand in selected:
        if not (_faq_question(cand) or _plain_heading(cand)):
            out.append(cand)
            continue
        hit, at = cand.hit, cand.end - cand.hit.start
        answer = []
        for s, e in split_sentences(hit.text, at)[:LEAD_IN_MOST]:
            follower = _sentence_of(cand, s, e)
            if ((answer and BLANK_LINE.search(hit.text, at, s)) or HEADING_LINE.match(hit.text, s) or _faq_question(follower)
                    or _plain_heading(follower) or (len(answer) >= max_sentences and not is_list_item(follower.text))):
                break
            answer.append(follower)
            at = e
        out += [c for c in answer if not _overlapping(c, out)] if answer else [cand]
    return out


HEADING_WORDS_MOST = 8


def _plain_heading(cand: Candidate) -> bool:
    """A short line of its own (HEADING_WORDS_MOST words at most) after a blank line (or at its
    passage's start), ending without punctuation, holding no colon ("Monthly rent: 1,250 EUR" states
    a value), not a table row or code, with text on the line after it: the heading of what follows
    ("Action items" over a list, "Security deposit" over its clause). It names a section and states
    nothing: it had been quoted as an answer, and joined to one. A line that opens with a section's
    number (`_SECTION_LABEL`: "9. Warranty and Support", and "Clause 4." before "Security
    deposit", which the sentence splitter parts) may have a blank line after it and text that is
    no code block or table, unless a line next to it opens with a number of the same kind
    (`_label_kind`): then it is an item of a list ("1. Milk" over "2. Eggs", "Step 1. Unplug the
    machine" over "Step 2. …"). Its name begins with a letter ("Room 4: 1,250 EUR" states a value),
    and after a colon only a word's label with a name in capitals heads a section ("PART E: HOW TO
    MAKE A CLAIM"; "Phase 2: Complete" states a status)."""
    return _heading_line(cand.hit.text, cand.start - cand.hit.start, cand.end - cand.hit.start)


def _heading_line(text: str, at: int, end: int) -> bool:
    """`_plain_heading` of the sentence at `at:end` of the passage `text`."""
    line = text[at:end].strip()
    line_start = _line_start(text, at)
    label = _SECTION_LABEL.fullmatch(text, line_start, at) if line_start < at else _SECTION_LABEL.match(line)
    if line_start < at and not label:
        return False  # the line goes on before it, with more than a section's number
    title = line[label.end():] if label and line_start == at else line
    if (not title or _ENDS.search(title) or len(title.split()) > HEADING_WORDS_MOST or is_table_row(line)
            or set(title) & _NOT_IN_HEADINGS or (is_list_item(line) and not label) or (label and not title[0].isalpha())):
        return False
    if label and label.group(0).rstrip().endswith(":") and not (label.group("word") and title.upper() == title):
        return False  # "PART E: HOW TO MAKE A CLAIM" names a part; "Phase 2: Complete", "CLI: run it" state something
    if (line_start > 0 and not _BLANK_BEFORE.search(text, 0, line_start)) or not (brk := _BREAK_AFTER.match(text, end)):
        return False
    following = _line_near(text, brk.end(), 1)
    if text[brk.end():brk.end() + 1] in ("", "\r", "\n") and not (
            label and following and not (following.startswith(("```", "~~~")) or is_table_row(following))):
        return False  # what it heads is on the next line, or, after a number, text after a blank line (not a step's code)
    if not label:
        return True
    kind = _label_kind(label)
    return not any(_label_kind(_SECTION_LABEL.match(near)) == kind for near in (_line_near(text, line_start, -1), following))


def _label_kind(label: re.Match | None) -> str | None:
    """What kind of number a section's label is: its word ("step", "section"), else "number" with
    its depth ("4." and "4.1." differ) or "letter" (letters and roman numerals); None for no label."""
    if label is None:
        return None
    if label.group("word"):
        return label.group("word").lower()
    mark = label.group("mark")
    return f"number {mark.count('.')}" if mark[0].isdigit() else "letter"


def _line_start(text: str, at: int) -> int:
    """Where the line holding offset `at` of `text` starts (after a "\n" or a lone "\r")."""
    return max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1


def _line_near(text: str, at: int, step: int) -> str:
    """The nearest line with text (without its spaces around) ending before `at` (`step` -1), or
    from `at` on (1)."""
    if step > 0:
        return next((line.group(1) for line in _TEXT_LINE.finditer(text, at)), "")
    end = at
    while end > 0:
        start = _line_start(text, end - 1)
        if text[start:end].strip():
            return text[start:end].strip()
        end = start
    return ""


# A section's number before its name on a heading line: "Clause 4. ", "Section 2.1: ", "PART E: ", "IV. ", "9. ", "B) "
_SECTION_LABEL = re.compile(r"[ \t]*(?:(?P<word>[A-Z][A-Za-z]{1,11})[ \t]+)?(?P<mark>\d{1,3}(?:\.\d{1,3})*|[IVXLC]{1,6}|[A-Z])[.:)][ \t]+")
_NOT_IN_HEADINGS = set(":`=(){}[]<>$;|\\")  # a value ("Rent: 1,250 EUR") or a line of code, not a heading
_BLANK_BEFORE = re.compile(r"(?:\r\n|\r|\n)[ \t]*(?:\r\n|\r|\n)[ \t]*$")
_BREAK_AFTER = re.compile(r"[ \t]*(?:" + LINE_BREAK.pattern + ")")


_SECTION_BREAK = re.compile(r"(?m)^[ \t]{0,3}(?:#{1,6}[ \t]|(?:=+|-+)[ \t]*\r?$)")  # "## …", or a heading's underline


def _heading_between(a: Candidate, b: Candidate) -> bool:
    """Whether a heading stands between two sentences of one passage: they are in different
    sections ("## Parental leave" had been joined to an answer on annual leave, and in a text file a
    sentence under "Section 3. Parental Leave" to one under "Section 4. Sick Leave"). A Markdown
    heading ("## …", or one underlined with "=" or "-"), or in any document a sentence
    `_plain_heading` takes for one, the later sentence itself included (a chosen heading
    "PART E: HOW TO MAKE A CLAIM" had brought the sentence above it)."""
    lo, hi = sorted((a, b), key=lambda c: c.start)
    text, start, end = a.hit.text, lo.end - a.hit.start, hi.start - a.hit.start
    if a.hit.source.lower().endswith(_MARKDOWN) and _SECTION_BREAK.search(text, start, end):
        return True
    # the later one too: a chosen heading's section does not take the sentence above it
    return any(_heading_line(text, s, e) for s, e in split_sentences(text, start, hi.end - a.hit.start))


_TEXT_LINE = re.compile(r"(?<![^\r\n])[ \t]*(\S(?:[^\r\n]*\S)?)")  # a whole line with text (group 1: without its spaces around)


_LEAD_IN = re.compile(r":[\s'\"’”)\]]*$")
LEAD_IN_MOST = 12  # sentences a lead-in brings at most (a list's items)


def _with_what_follows(selected: list[Candidate], max_sentences: int) -> list[Candidate]:
    """`selected`, and after a sentence that ends in a colon ("The cargo list was:") what it
    announces: the `max_sentences` sentences of its passage that follow it, and further ones to
    the end of their paragraph, LEAD_IN_MOST in all. The lead-in alone had been quoted without
    the list, then a list of 4 items with 3 of them."""
    out = list(selected)
    for cand in selected:
        if not _LEAD_IN.search(cand.text):
            continue
        hit = cand.hit
        at = cand.end - hit.start
        for i, (s, e) in enumerate(split_sentences(hit.text, at)[: max(LEAD_IN_MOST, max_sentences)]):
            if i >= max_sentences and BLANK_LINE.search(hit.text, at, s):
                break  # the list's paragraph has ended
            if HEADING_LINE.match(hit.text, s) and hit.source.lower().endswith(_MARKDOWN):
                break  # the next section: the lead-in announced nothing past it
            follower = _sentence_of(cand, s, e)
            if not _overlapping(follower, out):
                out.append(follower)
            at = e
    return out


def _list_spans(text: str) -> list[tuple[int, int, list[int]]]:
    """(start, end, where each item starts) in `text` of each bulleted or numbered list: a run of
    item lines of one kind (`list_item_kind`), blank lines between items allowed."""
    spans: list[tuple[int, int, list[int]]] = []
    at, current, kind = 0, None, None
    for line in text.splitlines(keepends=True):
        if is_list_item(line):
            this = list_item_kind(line)
            if current and this != kind:  # "1. Run setup." then "- Windows 95 is not supported.": two lists
                spans.append(current)
                current = None
            current = (current[0], at + len(line.rstrip()), current[2] + [at]) if current else (at, at + len(line.rstrip()), [at])
            kind = this
        elif line.strip() and current:
            spans.append(current)
            current = None
        at += len(line)
    return spans + [current] if current else spans


def _with_whole_lists(selected: list[Candidate]) -> list[Candidate]:
    """`selected`, and where sentences of two or more items of one list are chosen, that list's
    other items (LEAD_IN_MOST sentences at most; of a longer list, those between the first and last
    chosen, if that many): the model had chosen steps 2 and 4 of a five-step procedure."""
    out = list(selected)
    for hit in {c.hit.chunk_id: c.hit for c in selected}.values():
        mine = [c for c in selected if c.hit.chunk_id == hit.chunk_id]
        for start, end, items in _list_spans(hit.text):
            inside = [c for c in mine if start <= c.start - hit.start < end]
            chosen_items = {max(i for i in items if i <= c.start - hit.start) for c in inside}
            if len(chosen_items) < 2:
                continue
            spans = split_sentences(hit.text, start, end)
            if len(spans) > LEAD_IN_MOST:
                first, last = min(c.start for c in inside) - hit.start, max(c.end for c in inside) - hit.start
                spans = [(s, e) for s, e in spans if s >= first and e <= last]
            if len(spans) > LEAD_IN_MOST:
                continue  # a long stretch of a long list: the chosen items only
            for s, e in spans:
                item = _sentence_of(inside[0], s, e)
                if not _overlapping(item, out):
                    out.append(item)
    return out


def _with_list_rest(selected: list[Candidate], searcher: Searcher | None) -> list[Candidate]:
    """`selected`, and where a passage's chosen sentences end with a list that they bring (its
    lead-in, or two items or more) and nothing follows in the passage, the list's next items from
    `searcher`'s index, quoted from the passages that hold them: items of the same kind
    (`list_item_kind`) and the sentences that go on an item's line, LEAD_IN_MOST items in all. A
    list crossing a passage's end had been answered with the steps before the end only ("How do I
    install it?": 5 of 6). Where passages do not meet (no overlap), a sentence after the gap is
    taken to start a line."""
    if searcher is None:
        return selected
    out, index = list(selected), searcher.index
    for hit in {c.hit.chunk_id: c.hit for c in selected}.values():
        mine = [c for c in selected if c.hit.chunk_id == hit.chunk_id]
        last = max(mine, key=lambda c: c.end)
        at = last.start - hit.start
        line = hit.text[_line_start(hit.text, at) : last.end - hit.start]
        kind = list_item_kind(line)  # the item it is, or whose line it goes on
        if hit.text[last.end - hit.start :].strip() or not (kind or _LEAD_IN.search(last.text)):
            continue
        items = sum(is_list_item(c.text) for c in mine)
        if items < 2 and not any(_LEAD_IN.search(c.text) for c in mine):
            continue  # one item alone answers on its own (as in `_with_whole_lists`)
        row = index.row_of((hit.source, last.start, last.end))
        if row is None:
            continue
        for r in range(row + 1, index.document_rows(hit.source).stop):
            chunk, text = index.sentence(r)
            _, start, end = index.keys[r]
            goes_on = not LINE_BREAK.search(_gap_before(index, r, chunk))  # a sentence on an item's line
            if not goes_on:
                if not is_list_item(text) or kind not in (None, list_item_kind(text)) or items >= LEAD_IN_MOST:
                    break
                kind, items = list_item_kind(text), items + 1
            follower = replace(last, hit=Hit.of(chunk, last.hit.score), start=start, end=end, text=text, judged=None)
            if not _overlapping(follower, out):
                out.append(follower)
    return out


def _gap_before(index, row: int, holder) -> str:
    """The document's text between sentence `row` and the one before it, from a passage that holds
    it (`holder`, the first passage holding `row`, or the one holding the sentence before; "\n"
    where neither does: passages need not meet)."""
    _, _, previous_end = index.keys[row - 1]
    _, start, _ = index.keys[row]
    for chunk in (holder, index.sentence(row - 1)[0]):
        if chunk.start <= previous_end and start <= chunk.end:
            return chunk.text[previous_end - chunk.start : start - chunk.start]
    return "\n"


_OPEN_QUOTES, _CLOSE_QUOTES = "“„«", "”»"


def _with_quotes_whole(selected: list[Candidate]) -> list[Candidate]:
    """`selected`, and where a chosen sentence closes a quotation that a sentence before it in its
    paragraph opened (or opens one a sentence after it closes), those sentences: a speaker's
    quotation is one statement ("What did Ana Ruiz say about the budget?" had been answered with its
    second half, holding her name, and without the sentence on the budget)."""
    out = list(selected)
    for cand in selected:
        hit, text = cand.hit, cand.text
        straight_odd = text.count('"') % 2 == 1
        balance = sum(text.count(c) for c in _OPEN_QUOTES) - sum(text.count(c) for c in _CLOSE_QUOTES)
        if not (straight_odd or balance):
            continue
        begin = _paragraph_start(hit.text, cand.start - hit.start)
        finish = _paragraph_end(hit.text, cand.end - hit.start)
        spans = split_sentences(hit.text, begin, finish)
        here = next((i for i, (s, _) in enumerate(spans) if s == cand.start - hit.start), None)
        if here is None:
            continue
        backward = balance < 0 or (straight_odd and not text.lstrip().startswith('"'))
        step, other_end = (-1, _OPEN_QUOTES + '"') if backward else (1, _CLOSE_QUOTES + '"')
        i, needed = here + step, []
        while 0 <= i < len(spans) and len(needed) < LEAD_IN_MOST:
            s, e = spans[i]
            needed.append((s, e))
            if any(c in hit.text[s:e] for c in other_end):
                break
            i += step
        else:
            continue  # the quotation's other end is not in the paragraph: nothing is brought
        for s, e in needed:
            extra = _sentence_of(cand, s, e)
            if not _overlapping(extra, out):
                out.append(extra)
    return out


def _paragraph_start(text: str, at: int) -> int:
    """Where the paragraph holding `at` starts."""
    found = [m.end() for m in BLANK_LINE.finditer(text, 0, at)]
    return found[-1] if found else 0


def _paragraph_end(text: str, at: int) -> int:
    """Where the paragraph holding `at` ends."""
    found = BLANK_LINE.search(text, at)
    return found.start() if found else len(text)


def _with_headers(selected: list[Candidate], searcher: Searcher | None = None) -> list[Candidate]:
    """`selected`, and before a table row ("| Monthly pass | 55 | 62 |") its table's header: the
    first row, where a `|---|` line marks it one (a first row of data had been quoted as the
    header), from the passage, or, where the table starts before it, from the index (`searcher`:
    a row far down a long table had come without its header). A row of figures alone does not
    say which is which."""
    out = list(selected)
    for cand in selected:
        if not is_table_row(cand.text):
            continue
        header = _header_in_passage(cand)
        if header is None and searcher is not None:
            header = _header_in_index(cand, searcher)
        if header and not _overlapping(header, out):
            out.append(header)
    return out


def _header_in_passage(cand: Candidate) -> Candidate | bool | None:
    """The header row of `cand`'s table in its passage; False where its table has none (or `cand`
    is its first row); None where the table may start before the passage."""
    hit = cand.hit
    before = hit.text[: cand.start - hit.start]
    starts = [0, *(found.end() for found in LINE_BREAK.finditer(before))]  # any line ending: "\r" alone too
    lines = [LINE_BREAK.sub("", before[a:b]) for a, b in zip(starts, [*starts[1:], len(before)])]
    first = len(lines) - 1  # the candidate's own line; walk up while the lines above are rows
    while first > 0 and is_table_row(lines[first - 1]):
        first -= 1
    if first == 0 and hit.start > 0:
        return None
    if first >= len(lines) - 2 or not SEPARATOR_ROW.match(lines[first + 1] + "\n"):
        return False  # the first row itself, or a table without a header line under its first row
    start = hit.start + starts[first]
    row = lines[first].strip()
    start += len(lines[first]) - len(lines[first].lstrip())
    return replace(cand, start=start, end=start + len(row), text=row, judged=None)


def _header_in_index(cand: Candidate, searcher: Searcher) -> Candidate | None:
    """The header row of `cand`'s table from the index, in the passage that holds it."""
    index = searcher.index
    row = index.row_of((cand.hit.source, cand.start, cand.end))
    if row is None:
        return None
    first = _header_row(index, row)
    if first is None:
        return None
    chunk, text = index.sentence(first)
    _, start, end = index.keys[first]
    return replace(cand, hit=Hit.of(chunk, cand.hit.score), start=start, end=end, text=text, judged=None)


def _overlapping(cand: Candidate, chosen: list[Candidate]) -> bool:
    return any(o.hit.source == cand.hit.source and cand.start < o.end and o.start < cand.end for o in chosen)
