"""An overview: "What is this article about?", "Summarize it", "tl;dr" ask what a document says as
a whole, which no one sentence answers to the answer model, so the search path refused them all
("The documents don't say." on the default corpus).

`request` recognises such a message: a closed list of phrasings whose object is empty, a generic
noun ("the article", "these documents"), a pronoun ("it", as a conversation's first message only:
later it is what was discussed) or a document's name or title ("Summarize travel_policy.md");
anything else ("Summarize the refund policy") is a question and is searched. A page, slide or
sheet by its number ("What's on slide 3?", "Summarize page 4 of the report") gets that page's
first sentences as they read, its heading and table rows included (`page_opening`). `answer` quotes the
document's opening sentences, where news, encyclopedia articles, papers and READMEs say what they
are about (`pick`: prose first, list items where prose runs short; headings, titles, questions,
table rows, fragments and a caption with its credit passed over). With several documents and none named, each of the first
`DOCUMENTS_OVERVIEWED` gets its first such sentence; past that the reply asks which one.

Chosen over the sentences nearest the mean of the document's sentence vectors (with and without
maximal marginal relevance) by the share of a document's crowd questions whose answer lies in the
quoted sentences (`benchmarks/overview.py`, training data's dev split: 176 reviews and 189 posts
of 4+ sentences; 2026-12-06, the rules as they stand): for 3 sentences the opening 0.562 / 0.580
(Amazon / Reddit), the most central 0.522 / 0.573, with marginal relevance 0.495 / 0.551, at random
0.474 / 0.537; for one, the opening and the most central are level (0.248 / 0.243 against 0.225 /
0.260). Reading no vectors, the opening also costs nothing on a remote store.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass

import regex

from assistant.answer.extractive import joined, states_something
from assistant.answer.smalltalk import bare, listed
from assistant.answer.prompts import OVERVIEW_NOTICE, OVERVIEW_WHICH
from assistant.answer.types import Answer, Citation
from assistant.config import MARKDOWN_SUFFIXES
from assistant.ingest.sentences import BLANK_LINE, HEADING_LINE, is_list_item, is_table_row
from assistant.search.retrieval import Hit

OVERVIEW_SENTENCES = 3  # sentences an overview of one document quotes
PAGE_SENTENCES = 6  # sentences an overview of one page, slide or sheet quotes (a slide's title, a table's first rows)
DOCUMENTS_OVERVIEWED = 5  # documents an overview of the whole index covers, one sentence each
OPENING_ROWS_MOST = 200  # sentences of a document looked through for its opening ones
WORDS_LEAST = 4  # a shorter sentence is a fragment (a caption's credit, "Read more.")

_POLITE = r"(?:please|pls|can you|could you|would you|will you|can u|i want you to|i would like you to|id like you to)"
_HOW = r"(?:briefly|quickly|shortly|just)"
_AFTER = r"(?:please|pls|for me|briefly|quickly|in short|in brief|in a few sentences|in one sentence)"
_DOC_NOUN = (r"(?:article|document|doc|file|text|paper|report|page|story|piece|post|essay|book|pdf|content|material"
             r"|source|corpus|collection|index|deck|presentation|slideshow|spreadsheet|workbook)s?")
_GENERIC = (rf"(?:(?:this|the|that|these|those|your|my|all the|all|all of the|all your|each|every)\s)?{_DOC_NOUN}"
            r"|everything|all|all of it|all of them|the whole thing")
_PRONOUN = r"it|them|they|this|that"
_AIM = (r"(?:main|key|central|most important|important|general|overall|big)\s(?:point|idea|takeaway|message|topic|theme"
        r"|argument|finding|conclusion|story|subject)s?|gist|summary|overview|synopsis|tldr|tl dr|recap|short version")
_BEFORE = rf"(?:{_POLITE}\s)?(?:{_HOW}\s)?"
_END = rf"(?:\s{_AFTER})*"
# each over the message's bare words (`smalltalk.bare`: lower case, no punctuation); `obj` is what is to be summarised, if said
_ASKS = [regex.compile(p) for p in (
    rf"{_BEFORE}(?:summari[sz]e|sum up|recap|outline)(?:\s(?P<obj>.+?))?{_END}",
    rf"{_BEFORE}(?:give|tell|show)(?:\sme)?\s(?:a|an|the)\s(?:short\s|brief\s|quick\s)?(?:{_AIM})(?:\sof\s(?P<obj>.+?))?{_END}",
    rf"(?:(?:a|an|the)\s)?(?:short\s|brief\s|quick\s)?(?:{_AIM})(?:\sof\s(?P<obj>.+?))?{_END}",
    rf"(?:what|whats)(?:\s(?:is|are|was|were))?\s(?P<obj>.+?)\s(?:all\s)?about{_END}",
    rf"(?:what|whats)(?:\s(?:is|are|was|were))?\s(?:the\s)?(?:{_AIM})(?:\sof\s(?P<obj>.+?))?{_END}",
    rf"(?:what|which)\s(?:topics?|subjects?)\sdo(?:es)?\s(?P<obj>.+?)\s(?:cover|discuss|deal with|talk about)",
    # not "cover": "What does the warranty cover?" asks for the cover, which the search finds
    rf"what\sdo(?:es)?\s(?P<obj>.+?)\s(?:say|talk about)(?:\sin general)?",
    # a page, slide or sheet: "What's on slide 3?", "What's in sheet Staff?" (not "What is on the menu?", which is searched)
    rf"(?:what|whats)(?:\s(?:is|are))?\s(?:on|in)\s(?P<obj>(?:the\s)?(?:(?:slide|page|sheet|p)\s?\d{{1,4}}|sheet\s\S)(?:.+)?"
    rf"|.+\s(?:sheet|tab)(?:\s(?:of|in|from)\s.+)?){_END}",
)]
# a page, slide or sheet by its number, or a sheet by its name, perhaps of a document ("slide 3",
# "page 4 of the report", "sheet Staff", "the Suppliers sheet of the budget")
_OF = r"(?:\s(?:of|in|from)\s(?P<doc>.+))?"
_PAGE = regex.compile(rf"(?:the\s)?(?P<kind>slide|page|sheet|p)\s?(?P<which>\d{{1,4}}){_OF}")
_SHEET = regex.compile(rf"(?:the\s)?(?:sheet\s(?P<which>.+?)|(?P<named>.+?)\s(?:sheet|tab)){_OF}")
_KIND_SUFFIXES = {"slide": (".pptx",), "sheet": (".xlsx", ".xlsm"), "page": (".pdf",), "p": (".pdf",)}
# a generic noun that says which kind of file: "page 3 of the deck" is a slide
_NOUN_SUFFIXES = {"deck": (".pptx",), "presentation": (".pptx",), "slideshow": (".pptx",), "spreadsheet": (".xlsx", ".xlsm"),
                  "workbook": (".xlsx", ".xlsm"), "pdf": (".pdf",)}


@dataclass(frozen=True)
class Request:
    """A message asking for an overview: `obj` is what it names ("" for nothing, a generic noun
    or a pronoun); `pronoun` is whether that was "it", "this" ... (a first message's only).
    `page` is the page, slide or sheet it asks about, if it asks about one (its number, or a
    sheet's name), in documents of `suffixes` (any, where `obj` names one)."""

    obj: str
    pronoun: bool
    page: str = ""
    suffixes: tuple[str, ...] = ()


def request(message: str) -> Request | None:
    """The overview `message` asks for, or None."""
    words = bare(message)
    for pattern in _ASKS:
        if (found := pattern.fullmatch(words)) is None:
            continue
        obj = (found.group("obj") or "").strip()
        if (page := _page_request(obj)) is not None:
            return page
        if not obj or regex.fullmatch(_GENERIC, obj):
            return Request("", False)
        if regex.fullmatch(_PRONOUN, obj):
            return Request("", True)
        obj = regex.sub(r"^(?:the|this|that|my|your)\s", "", obj)
        obj = regex.sub(rf"(?<=\w)\s{_DOC_NOUN}$", "", obj)  # "the solar panels page": the page named "solar panels"
        return Request(obj.replace("_", " "), False)
    return None


def _page_request(obj: str) -> Request | None:
    """The request for a page, slide or sheet that `obj` names ("page 4 of the annual report"), or None."""
    found, kind = _PAGE.fullmatch(obj), "sheet"
    if found:
        kind = found.group("kind")
    else:
        found = _SHEET.fullmatch(obj)
    if found is None:
        return None
    parts = found.groupdict()
    which, doc = parts.get("which") or parts.get("named") or "", parts.get("doc") or ""
    suffixes = _KIND_SUFFIXES[kind]
    if doc and (regex.fullmatch(_GENERIC, doc) or regex.fullmatch(_PRONOUN, doc)):  # "of the deck", "of it"
        noun = regex.sub(r"^(?:\w+\s)*?(?=\w+$)", "", doc).rstrip("s")
        suffixes, doc = _NOUN_SUFFIXES.get(noun, suffixes), ""
    doc = regex.sub(rf"(?<=\w)\s{_DOC_NOUN}$", "", regex.sub(r"^(?:the|this|that|my|your)\s", "", doc))
    return Request(doc.replace("_", " "), False, regex.sub(r"^the\s", "", which), () if doc else suffixes)


def named(obj: str, index) -> list[str]:
    """The indexed documents `obj` (bare words, "_" a space) names: words of a file's name, or of a
    title, in their order ("the meeting notes" names "Meeting notes, 3 March" and "meeting_notes.txt")."""
    if not obj:
        return []
    found = []
    for entry in index.manifest.files:
        rows = index.document_rows(entry.source)
        title = index.chunks[index.row_chunks[rows[0]][0]].title if rows else ""
        if any(f" {obj} " in f" {bare(label).replace('_', ' ')} " for label in (os.path.basename(entry.source), title) if label):
            found.append(entry.source)
    return found


def answer(question: str, wanted: Request, index) -> Answer | None:
    """The overview `wanted` asks for from `index`, or None when its object names no document
    (then the message is a question to search)."""
    sources = [f.source for f in index.manifest.files]
    if wanted.page:  # one page, slide or sheet: of the document named, or of each document of its kind that has it
        sources = named(wanted.obj, index) if wanted.obj else [s for s in sources if s.lower().endswith(wanted.suffixes)]
        pages = [(s, rows) for s in sources for rows in _pages(index, s, wanted.page)]
        if not pages:
            return None
        each = PAGE_SENTENCES if len(pages) == 1 else PAGE_SENTENCES // 2
        return _quoted(question, index, [(s, page_opening(index, rows, each)) for s, rows in pages[:DOCUMENTS_OVERVIEWED]],
                       len({s for s, _ in pages}) > 1)
    if wanted.obj:
        sources = named(wanted.obj, index)
        if not sources:
            return None
    sources = [s for s in sources if index.document_rows(s)]  # documents with at least one sentence
    if len(sources) > DOCUMENTS_OVERVIEWED:
        names = shown_names(sources)
        return Answer(question=question, text=OVERVIEW_WHICH.format(n=len(names), names=listed(names), example=names[0]),
                      citations=(), abstained=False, hits=(), method="conversation")
    each = OVERVIEW_SENTENCES if len(sources) == 1 else 1
    return _quoted(question, index, [(source, opening(index, source, each)) for source in sources], len(sources) > 1)


def shown_names(sources: list[str]) -> list[str]:
    """Each source as an answer names it: its file name, with as many of its folders as tell it
    apart from the others' ("a/notes.txt", "b/notes.txt"; two had both read "notes.txt")."""
    split = [os.path.normpath(s).split(os.sep) for s in sources]
    depth = [1] * len(split)
    while True:
        names = [os.sep.join(parts[-d:]) for parts, d in zip(split, depth)]
        counts = Counter(names)
        grow = [i for i, name in enumerate(names) if counts[name] > 1 and depth[i] < len(split[i])]
        if not grow:
            return names
        for i in grow:
            depth[i] += 1


def _quoted(question: str, index, chosen: list[tuple[str, list[int]]], several: bool) -> Answer | None:
    """The overview quoting each source's chosen rows of `index` (its name before them where `several`)."""
    numbers: dict[str, int] = {}
    citations, lines = [], []
    names = dict(zip((source for source, _ in chosen), shown_names(list(dict.fromkeys(source for source, _ in chosen)))))
    for source, rows in chosen:
        quotes = []
        for row in rows:
            chunk, text = index.sentence(row)
            _, start, end = index.keys[row]
            n = numbers.setdefault(chunk.id, len(numbers) + 1)
            citations.append(Citation(n=n, hit=Hit.of(chunk, 1.0), quote=text, quote_start=start, quote_end=end))
            quotes.append((text, n))
        if quotes:  # (a table's rows and a list's items each on a line, as an answer's are)
            lines.append((f"{names[source]}: " if several else "") + joined(quotes))
    if not citations:
        return None
    hits = tuple(dict.fromkeys(c.hit for c in citations))
    return Answer(question=question, text="\n".join(lines), citations=tuple(citations), abstained=False, hits=hits,
                  method="overview", notice=OVERVIEW_NOTICE, confidence=1.0)


def _passed_over(text: str, title: str, markdown: bool) -> bool:
    """Whether a sentence says too little to stand for its document: a heading, the title, a
    question (also in bold), a table row, a code fence, a line without a word or a fragment."""
    return (not states_something(text, markdown=markdown) or text.strip() == title.strip()
            or text.rstrip(" \t*_`'\"’”)").endswith("?") or is_table_row(text)
            or text.lstrip().startswith(("```", "~~~")) or len(regex.findall(r"\w+", text)) < WORDS_LEAST)


_ENDS = re.compile(r"[.!…]['\"’”)\]*_]*(?:\[\^?[\w,–-]{1,30}\])*[¹²³⁰-⁹]*$")  # (reference marks after it: "in 2023.[1]")
# "Attendees: Ana, Bo." or "> **Note:** In beta.": a form's field or a label, not prose
_FIELD = re.compile(r"\W*\w+(?:[ \t]\w+)?[ \t]*[*_]*:[*_]*\s")


def _pages(index, source: str, which: str) -> list[list[int]]:
    """The rows of each page of `source` that `which` names, by its number or (a sheet) its name
    (its `#` line), read in one pass over the document's sentences."""
    by_page: dict[int, list[int]] = {}
    for row in index.document_rows(source):
        page = index.sentence(row)[0].page
        if page is not None:
            by_page.setdefault(page, []).append(row)
    if which.isdigit():
        return [by_page[int(which)]] if int(which) in by_page else []
    return [rows for rows in by_page.values() if bare(index.sentence(rows[0])[1]) == bare(which)
            and index.sentence(rows[0])[1].startswith("# ")]


def page_opening(index, rows: list[int], k: int) -> list[int]:
    """Of a page's (slide's, sheet's) `rows`, the first `k` sentences that hold a word, its
    heading and table rows included: what is on it, as it reads; not ending on a heading (a
    slide's "## Notes" had closed an overview, its note cut off)."""
    shown = [row for row in rows if regex.search(r"\w", index.sentence(row)[1])][:k]
    while len(shown) > 1 and HEADING_LINE.match(index.sentence(shown[-1])[1]):
        shown.pop()
    return shown


def opening(index, source: str, k: int) -> list[int]:
    """The rows of `source`'s first `k` sentences that can stand for it (see `pick`)."""
    rows = index.document_rows(source)[:OPENING_ROWS_MOST]
    texts, paragraphs, title, previous, paragraph = [], [], "", None, 0
    for row in rows:
        chunk, text = index.sentence(row)
        _, start, end = index.keys[row]
        texts.append(text)
        # a new paragraph after a blank line (or where the sentence before lies outside this passage)
        if previous is not None and (previous < chunk.start or BLANK_LINE.search(chunk.text, previous - chunk.start, start - chunk.start)):
            paragraph += 1
        paragraphs.append(paragraph)
        title, previous = title or chunk.title or "", end
    return [rows[i] for i in pick(texts, k, title, source.lower().endswith(MARKDOWN_SUFFIXES), paragraphs)]


def pick(texts: list[str], k: int, title: str = "", markdown: bool = False, paragraphs: list[int] | None = None) -> list[int]:
    """Of one document's sentences (`texts`, in reading order; `paragraphs` numbers each one's
    paragraph), the indexes of the first `k` that can stand for it, in reading order: its first
    prose sentences (ending in a full stop, not a list item or a "Field: value" line), passing over a paragraph where a
    fragment follows prose (a photo's caption and its credit, a line and its byline); where there are fewer than `k`, the first list items (a contract's
    numbered clauses); without either, the first not passed over; without any, the first with a
    word (a table's header and rows, not its "|---|" line); else the first."""
    paragraphs = paragraphs if paragraphs is not None else list(range(len(texts)))
    passed = [_passed_over(t, title, markdown) for t in texts]
    is_prose = [not passed[i] and bool(_ENDS.search(t.strip())) and not (is_list_item(t) or _FIELD.match(t))
                for i, t in enumerate(texts)]
    mixed, prose_in = set(), set()
    for i, paragraph in enumerate(paragraphs):
        if is_prose[i]:
            prose_in.add(paragraph)
        elif paragraph in prose_in and len(regex.findall(r"\w+", texts[i])) < WORDS_LEAST:
            mixed.add(paragraph)
    prose = [i for i in range(len(texts)) if is_prose[i] and paragraphs[i] not in mixed][:k]
    items = [i for i, t in enumerate(texts) if not passed[i] and is_list_item(t) and paragraphs[i] not in mixed]
    usable = [i for i in range(len(texts)) if not passed[i]]
    worded = [i for i in range(len(texts)) if regex.search(r"\w", texts[i])]
    return sorted(prose + items[: k - len(prose)]) or usable[:k] or worded[:k] or list(range(min(k, len(texts))))
