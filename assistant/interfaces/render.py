"""Answers and passages as safe HTML for the browser chat, and as plain data for programs.

Everything that comes from a document, a file name or a language model is text, never markup:
`escape()` turns every character that HTML *or* Markdown could act on into a character reference
before any tag is added, so a passage holding `<script>`, `<img onerror=...>` or `![x](http://...)`
shows as those characters and makes no request. The only tags in the output are the ones written
here. Citation markers `[n]` become links to the source block of their passage (`#cite-T-N`, T the
chat turn), where the quoted sentences are highlighted with `<mark>`.

Pure functions, no Gradio: `app.py` decides where the HTML goes; the styling is `CSS` below.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict
from pathlib import PurePath
from typing import Iterable, Sequence

from assistant.answer.prompts import NO_ANSWER, READ_AS, RELATED_HEADING, UNSURE
from assistant.answer.extractive import as_written, cited_text
from assistant.ingest.chunking import grapheme_start, page_name
from assistant.ingest.sentences import SEPARATOR_ROW, is_table_row, table_cells
from assistant.search.retrieval import MAX_QUESTION_CHARS

# Every character with a meaning in HTML or Markdown (links, images, emphasis, code, tables,
# headings, LaTeX, escapes) becomes a numeric character reference: inert in both.
_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>\"'![]()*_`~$\\#|{}=:"}
_TABLE = str.maketrans(_ENTITIES)
_MARKER = re.compile(r"\[(\d+)\]")
# Related passages shown under a refusal, and how much of one the summary line previews.
RELATED_PREVIEW_CHARS = 140
# A cited source's summary line: its quotes share this many characters, each at least the least.
SUMMARY_QUOTES_CHARS, QUOTE_PREVIEW_LEAST = 200, 60


# Direction controls (embeddings, overrides, isolates): one left open in a document reverses
# everything after it on the page, markers and file names included.
_DIRECTION = re.compile("[\u202a-\u202e\u2066-\u2069]")
_ISOLATES = re.compile("[\u2066-\u2069]")


def escape(text: str) -> str:
    """`text` as inert HTML (also inert if a Markdown renderer sees it). Text holding direction
    controls is set in an isolate (FSI … PDI), which ends whatever it leaves open."""
    text = str(text).translate(_TABLE)
    if not _DIRECTION.search(text):
        return text
    # the text's own isolate marks are dropped (invisible either way): a PDI of its own would
    # close the wrapper and let an override after it out
    return f"\u2068{_ISOLATES.sub('', text)}\u2069"


def cite_id(turn: int, n: int) -> str:
    return f"cite-{int(turn)}-{int(n)}"


def title_and_file(hit) -> tuple[str, str]:
    """What a source is called: the document's title, and its file name second (empty when the
    title is only the file name again)."""
    name = PurePath(hit.source).name
    title = " ".join((getattr(hit, "title", "") or "").split())
    if not title or title in (name, PurePath(name).stem, PurePath(name).stem.replace("_", " ")):
        return name, ""
    return title, name


def where(hit) -> str:
    """Page for a paged document, else the passage's position ("p. 4", "slide 2", "¶3")."""
    return page_name(hit.source, hit.page) if hit.page is not None else f"¶{hit.position + 1}"


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` escaped, with each (start, end) span of it wrapped in <mark>; overlaps are merged."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out.append(escape(text[at:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


_NEWLINE = re.compile("\n")


def linked_markers(text: str, turn: int, cited: set[int], quotes: Sequence[str] = (), names: dict[int, str] | None = None) -> str:
    """Answer text escaped, with each `[n]` that has a citation made a link to its source block
    (named for a screen reader "Source n: `names[n]`").
    A `[n]` inside a quote (in order, as the answer holds them: a document's own "[2]") is text."""
    names = names or {}
    quoted, at = [], 0
    for quote in quotes:
        for written in dict.fromkeys([as_written(quote), quote]):  # as an answer writes it ("[^2]"), or verbatim
            found = text.find(written, at) if written else -1
            if found >= 0:
                quoted.append((found, found + len(written)))
                at = found + len(written)
                break
    def between(start: int, end: int) -> str:
        """text[start:end] escaped; a line break between quotes (an answer's list items) a <br>,
        one inside a quote (a PDF's line) a space, as `.qa-text` shows it."""
        pieces, at = [], start
        for found in _NEWLINE.finditer(text, start, end):
            if not any(s <= found.start() < e for s, e in quoted):
                pieces += [escape(text[at : found.start()]), "<br>"]
                at = found.end()
        return "".join(pieces) + escape(text[at:end])

    out, at = [], 0
    for match in _MARKER.finditer(text):
        n = int(match.group(1))
        if n not in cited or any(s <= match.start() < e for s, e in quoted):
            continue
        out.append(between(at, match.start()))
        out.append(_marker_link(n, turn, names, match.group(0)))
        at = match.end()
    out.append(between(at, len(text)))
    return "".join(out)


def _quotes_html(citations: Sequence, turn: int, names: dict[int, str] | None = None) -> str:
    """An extractive answer's quotes with their markers (`extractive.joined`'s text), a run of
    table rows as a table: a row under its header as cells under column names, not pipes to count
    (the header as column heads where a "|---|" line follows it in its passage; each row's marker
    in a last cell); a fenced code block as code, without its fences."""
    cited = {c.n for c in citations}
    out, at = [], 0
    while at < len(citations):
        if fenced := _FENCED.fullmatch(citations[at].quote):  # a code block, shown as one (its fences had shown raw)
            out.append(f'<div class="qa-code-wrap"><pre class="qa-code"><code>{escape(fenced.group("code"))}</code></pre>'
                       f"{_marker_link(citations[at].n, turn, names or {})}</div>")
            at += 1
            continue
        row = is_table_row(citations[at].quote)
        end = at + 1
        while end < len(citations) and is_table_row(citations[end].quote) == row and not _FENCED.fullmatch(citations[end].quote) and not (
                row and (citations[end].hit.source != citations[end - 1].hit.source or _is_header(citations[end]))):
            end += 1  # (a table ends where the rows of another document, or another table's header, begin)
        run = citations[at:end]
        # (a table is a block of its own: the text before and after it needs no line break)
        out.append(_table_html(run, turn, names or {}) if row else
                   linked_markers(cited_text(run), turn, cited, [c.quote for c in run], names))
        at = end
    return "".join(out)


_HEADER_UNDER = re.compile(r"[ \t]*(?:\r\n?|\n)" + SEPARATOR_ROW.pattern)  # a "|---|" line next (after any line end, "\r" too)


def _is_header(citation) -> bool:
    """Whether a quoted table row is its table's header: a "|---|" line follows it in its passage."""
    return bool(_HEADER_UNDER.match(citation.hit.text, citation.quote_end - citation.hit.start))


def _table_html(rows: Sequence, turn: int, names: dict[int, str]) -> str:
    lines = []
    for citation in rows:
        cell = 'th scope="col"' if _is_header(citation) else "td"
        cells = "".join(f"<{cell}>{escape(text)}</{cell.split()[0]}>" for text in table_cells(citation.quote))
        lines.append(f'<tr>{cells}<td class="qa-cell-marker">{_marker_link(citation.n, turn, names)}</td></tr>')
    return f'<div class="qa-table-wrap"><table class="qa-table">{"".join(lines)}</table></div>'


def _marker_link(n: int, turn: int, names: dict[int, str], shown: str = "") -> str:
    """Citation `n`'s marker (`shown`, "[n]" unless given) as a link to its source block, named for
    a screen reader "Source n: `names[n]`" by hidden text in it (the chat's sanitizer drops aria-label)."""
    label = f"Source {n}" + (f": {names[n]}" if names.get(n) else "")
    return f'<a class="qa-marker" href="#{cite_id(turn, n)}"><span class="qa-sr">{escape(label)} </span>{escape(shown or f"[{n}]")}</a>'


# a quoted fenced code block: its first line opens it, its last closes it with the same fence
_FENCED = re.compile(r"[ \t]*(?P<fence>```|~~~)[^\r\n]*(?:\r\n?|\n)(?P<code>.*?)(?:\r\n?|\n)[ \t]*(?P=fence)[ \t]*", re.S)


def _source_block(element_id: str, n_label: str, hit, spans: Sequence[tuple[int, int]], css: str, open_: bool,
                  preview_from: int = 0) -> str:
    passage = highlight(hit.text, spans)
    # the quotes previewed within SUMMARY_QUOTES_CHARS in all (each one whole in the passage): three
    # whole quotes had made a closed block 457 px tall on a phone, pushing the answer out of view
    each = max(QUOTE_PREVIEW_LEAST, SUMMARY_QUOTES_CHARS // max(len(spans), 1))
    quotes = " … ".join(f"“<mark>{escape(_preview(hit.text[s:e], each))}</mark>”" for s, e in spans) if spans else ""
    preview = quotes or escape(("… " if 0 < preview_from < len(hit.text) else "") + _preview(hit.text[preview_from:]))
    title, file = title_and_file(hit)
    file_html = f'<span class="qa-file">{escape(file)}</span> ' if file else ""
    return (
        f'<details class="qa-source {css}" id="{element_id}"{" open" if open_ else ""}>'
        f'<summary><span class="qa-n">{escape(n_label)}</span> '
        f'<span class="qa-label" title="{escape(hit.source)}">{escape(title)}</span> {file_html}'
        f'<span class="qa-where">{escape(where(hit))}</span>'
        f'<span class="qa-quote"> — {preview}</span></summary>'
        f'<div class="qa-passage">{passage}</div></details>'
    )


def _preview(text: str, most: int = 0) -> str:
    most = most or RELATED_PREVIEW_CHARS
    text = " ".join(text.split())
    return text if len(text) <= most else text[:grapheme_start(text, 0, most)].rstrip() + "…"  # (never half a flag or an accent)


def answer_html(answer, turn: int = 1) -> str:
    """One answer as it appears in the chat: the text with linked markers, then its sources, each
    a collapsible block (label, page or position, the passage with the quotes marked); or, when
    the answer abstains, the refusal with the closest passages offered as related reading."""
    if answer.abstained:
        return refusal_html(answer, turn)
    by_n: dict[int, list] = {}
    for citation in answer.citations:
        by_n.setdefault(citation.n, []).append(citation)
    sources = []
    for n in sorted(by_n):
        hit = by_n[n][0].hit
        spans = [(c.quote_start - hit.start, c.quote_end - hit.start) for c in by_n[n]]
        sources.append(_source_block(cite_id(turn, n), f"[{n}]", hit, spans, "qa-cited", open_=False))
    unsure = f'<div class="qa-unsure" role="note">{escape(UNSURE)}</div>' if answer.unsure else ""
    names = {n: title_and_file(c[0].hit)[0] for n, c in by_n.items()}
    quotes = [(c.quote, c.n) for c in answer.citations]
    if any(is_table_row(q) or _FENCED.fullmatch(q) for q, _ in quotes) and answer.text == cited_text(answer.citations):  # (an extractive answer's text)
        text = _quotes_html(answer.citations, turn, names)
    else:
        text = linked_markers(answer.text, turn, set(by_n), [c.quote for c in answer.citations], names)
    return _panel(
        f'<div class="qa-answer" data-method="{escape(answer.method)}" {_text_attribute(answer.text)}>',
        f'<div class="qa-text"><span class="qa-sr">Answer: </span>{text}</div>{unsure}',
        answer.notice, "Sources", sources, answer.read_as,
    )


def refusal_html(answer, turn: int = 1) -> str:
    """The refusal phrase, styled as a refusal, and the closest passages under RELATED_HEADING."""
    closest = {c.n: c.quote_start - c.hit.start for c in getattr(answer, "closest", ())}
    related = [  # each previewed from its sentence closest to an answer (else from its start), nothing marked
        _source_block(f"related-{int(turn)}-{i}", f"{i}.", hit, (), "qa-related", open_=False, preview_from=closest.get(i, 0))
        for i, hit in enumerate(answer.related, start=1)
    ]
    return _panel(
        f'<div class="qa-refusal" role="note" {_text_attribute(NO_ANSWER)}>',
        f'<div class="qa-refusal-text"><span class="qa-sr">Answer: </span>{escape(NO_ANSWER)}</div>',
        answer.notice, RELATED_HEADING, related, answer.read_as,
    )


def _panel(opening: str, body: str, notice: str, heading: str, blocks: list[str], read_as: str = "") -> str:
    """An answer or refusal box: the question as read (when its slips were read otherwise), its
    text, an optional notice, then the passage blocks."""
    parts = [opening]
    if read_as:
        parts.append(f'<div class="qa-read-as" role="note">{escape(READ_AS.format(question=read_as))}</div>')
    parts.append(body)
    if notice:
        parts.append(f'<div class="qa-notice">{escape(notice)}</div>')
    if blocks:
        parts.append(f'<div class="qa-sources"><div class="qa-heading">{escape(heading)}</div>{"".join(blocks)}</div>')
    parts.append("</div>")
    return "".join(parts)


SHOWN_OF_TOO_LONG = 300  # characters of a question over MAX_QUESTION_CHARS the chat shows (it is refused; it stays in the box)


def question_html(question: str) -> str:
    """The question as the chat shows it: whole, or, for one too long to be asked, its start and
    its length (a 100,000-character paste had been echoed whole above the error saying so)."""
    if len(question) > MAX_QUESTION_CHARS:
        question = f"{question[:SHOWN_OF_TOO_LONG]}… ({len(question):,} characters)"
    return f'<div class="qa-question" {_text_attribute(question)}><span class="qa-sr">You asked: </span>{escape(question)}</div>'


def _text_attribute(text: str) -> str:
    """A rendered message's own text, kept in its first tag: a conversation sent back as the page
    rendered it (a plain HTTP call to /chat, without the page's session) is read from it."""
    return f'data-text="{escape(text)}"'


_OWN_TEXT = re.compile(r'<div class="qa-[a-z]+"[^<>]*? data-text="([^"]*)"')


def message_text(content) -> str:
    """A chat message's text: as these functions rendered it (its `_text_attribute`), else as
    sent (a string, or Gradio's parts, [{"type": "text", "text": ...}])."""
    content = _joined(content)
    own = _OWN_TEXT.match(content)
    return html.unescape(own.group(1)).removeprefix("\u2068").removesuffix("\u2069") if own else content  # (`escape`'s isolate)


def streaming_html(partial: str) -> str:
    """A language model's reply while it streams (verified and cited once it is complete)."""
    return f'<div class="qa-streaming">{escape(partial)}<span class="qa-cursor">▍</span></div>'


def note_html(text: str, kind: str = "pending") -> str:
    """A one-line message in the chat: `pending` (waiting) or `error`."""
    return f'<div class="qa-{escape(kind)}">{escape(text)}</div>'


def is_note(content) -> bool:
    """Whether a chat message (a string, or Gradio's parts) is a `note_html` (waiting, or an
    error), not an answer."""
    return _joined(content).startswith(('<div class="qa-pending">', '<div class="qa-error">'))


def _joined(content) -> str:
    """A chat message's content as one string: as sent, or Gradio's parts ([{"type": "text",
    "text": ...}]) joined; "" for anything else."""
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, (list, tuple)):
        content = " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def result_html(lines: Sequence[str]) -> str:
    """The outcome of an upload, one line per file; refusals and failures styled as errors."""
    return "".join(f'<div class="qa-{"error" if line.startswith(("Refused", "Failed")) else "result"}">{escape(line)}</div>'
                   for line in lines)


NAME_SHOWN = 60  # longest file name shown whole in the documents table


def short_name(name: str, limit: int = NAME_SHOWN) -> str:
    """`name` cut in the middle with an ellipsis when longer than `limit` (its suffix stays)."""
    if len(name) <= limit:
        return name
    tail = max(12, limit // 4)
    return name[: limit - tail - 1] + "…" + name[-tail:]


def folder_of(source: str, base: str | PurePath) -> str:
    """The folder of `source` as the documents table shows it: relative to `base` (the project
    folder) when inside it, whichever way the source was recorded, else absolute."""
    import os

    folder = os.path.dirname(os.path.abspath(source))
    base = os.path.abspath(base)
    if folder == base:
        return "."
    if folder.startswith(base + os.sep):
        return os.path.relpath(folder, base)
    return folder


DOCUMENTS_SHOWN = 1000  # rows the Documents tab draws (the most recently updated first beyond that)


def documents_html(files: Sequence, base: str | PurePath = ".") -> str:
    """The indexed documents as a table: name (shortened, full path on hover), folder (see
    `folder_of`), chunks, when added and last updated; beyond `DOCUMENTS_SHOWN`, the most
    recently updated ones, with a line saying how many there are."""
    if not files:
        return '<p class="qa-empty">No documents indexed yet: add some below.</p>'
    shown = shown_documents(files)
    rows = []
    for f in shown:
        path = PurePath(f.source)
        rows.append(
            f'<tr><td title="{escape(f.source)}">{escape(short_name(path.name))}</td><td>{escape(folder_of(f.source, base))}</td>'
            f'<td class="qa-num">{int(f.chunks)}</td><td>{escape(_when(f.added))}</td><td>{escape(_when(f.updated))}</td></tr>'
        )
    more = ""
    if len(shown) < len(files):  # 32,000 rows had taken the browser 11-16 s to draw at every visit
        more = (f'<p class="qa-note">The {len(shown):,} most recently updated of {len(files):,} documents; '
                f'<code>python -m assistant index info --json</code> lists them all.</p>')
    return (
        more + '<div class="qa-table-wrap"><table class="qa-docs"><thead><tr><th>document</th><th>folder</th><th>chunks</th>'
        f'<th>added</th><th>updated</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'  # (scrolls on a phone)
    )


def removal_choices(files: Sequence, base: str | PurePath) -> list[tuple[str, str]]:
    """The "Remove a document" list: (label, source) for each document the table draws, labelled
    with its name and its folder as the table shows it (the full path on the server had been shown
    beside the table's project-relative folder)."""
    return [(f"{PurePath(f.source).name} ({folder_of(f.source, base)})", f.source) for f in shown_documents(files)]


def shown_documents(files: Sequence) -> Sequence:
    """The documents the tab draws and offers for removal: all of them, or beyond
    `DOCUMENTS_SHOWN` the most recently updated ones."""
    if len(files) <= DOCUMENTS_SHOWN:
        return files
    return sorted(files, key=lambda f: f.updated, reverse=True)[:DOCUMENTS_SHOWN]


def _when(stamp: str) -> str:
    """'2026-11-26T15:41:19+00:00' -> '2026-11-26 15:41 UTC'."""
    if len(stamp) >= 16 and stamp[10] == "T":
        zone = " UTC" if stamp.endswith(("+00:00", "Z")) else ""
        return f"{stamp[:10]} {stamp[11:16]}{zone}"
    return stamp


# --- for programs ----------------------------------------------------------------------------

def hit_json(hit) -> dict:
    """A `Hit` as a JSON-ready dict (all its fields)."""
    return asdict(hit)


def answer_json(answer) -> dict:
    """An `Answer` as a JSON-ready dict: text, abstained, citations (each with its passage and
    provenance), related passages (when abstaining) and the sentence of each closest to an answer
    (`closest`, n counting the related from 1), notice, method, confidence, unsure, read_as
    (the question as read, when its typing slips were read otherwise), query."""
    return {
        "text": answer.text,
        "abstained": answer.abstained,
        "citations": [
            {
                "n": c.n,
                "quote": c.quote,
                "quote_start": c.quote_start,
                "quote_end": c.quote_end,
                "source": c.hit.source,
                "label": c.hit.label,
                "page": c.hit.page,
                "start": c.hit.start,
                "end": c.hit.end,
                "passage": c.hit.text,
            }
            for c in answer.citations
        ],
        "related": [hit_json(h) for h in answer.related],
        "closest": [{"n": c.n, "quote": c.quote, "quote_start": c.quote_start, "quote_end": c.quote_end}
                    for c in getattr(answer, "closest", ())],
        "notice": answer.notice,
        "method": answer.method,
        "confidence": round(float(answer.confidence), 4),
        "unsure": answer.unsure,
        "read_as": answer.read_as,
        "query": answer.query,
    }


# --- styling ---------------------------------------------------------------------------------

CSS = """
.qa-text, .qa-streaming { line-height: 1.55; }
.qa-text { white-space: normal; }  /* a quote's line breaks (a PDF's lines) read as spaces; the passage keeps them */
.qa-table-wrap { overflow-x: auto; margin: .3em 0; }
.qa-code-wrap { display: flex; align-items: flex-start; gap: .3em; margin: .3em 0; }
.qa-code { margin: 0; min-width: 0; overflow-x: auto; padding: .3em .6em; background: rgba(127, 127, 127, .12);
           border-radius: 4px; font-size: .92em; white-space: pre; }
.qa-table { border-collapse: collapse; font-size: .95em; }
.qa-table th, .qa-table td { border: 1px solid rgba(127, 127, 127, .45); padding: .2em .5em; text-align: left; vertical-align: top; }
.qa-table td.qa-cell-marker { border: none; padding-left: .3em; }
a.qa-marker { font-weight: 600; text-decoration: none; padding: 0 .15em; border-radius: 4px;
  display: inline-block; position: relative;  /* one box, its hidden name inside it */
  background: var(--color-accent-soft); color: var(--link-text-color, inherit); cursor: pointer; }
.qa-sources { margin-top: .6em; padding-top: .4em; border-top: 1px solid var(--border-color-primary);
  font-size: .92em; }
.qa-heading { font-weight: 600; margin-bottom: .2em; opacity: .85; }
details.qa-source { margin: .3em 0; padding: .2em .4em; border-radius: 6px; }
details.qa-source > summary { cursor: pointer; }
details.qa-source[open] { background: var(--background-fill-secondary); }
details.qa-source:target, details.qa-source.qa-flash { outline: 2px solid #f59e0b; }
.qa-label { font-weight: 600; }
.qa-file { color: #4b5563; font-size: 0.85em; margin-right: 0.3em; }
.qa-where { opacity: .75; }
.qa-passage { white-space: pre-line; margin: .4em 0 .2em .4em; padding-left: .7em;
  border-left: 3px solid var(--border-color-accent, #999); }
.qa-answer mark, .qa-refusal mark { background: #fde68a; color: #111; padding: 0 .1em; border-radius: 2px; }
.qa-notice { margin-top: .4em; font-size: .9em; opacity: .8; font-style: italic; }
.qa-read-as { margin-bottom: .3em; font-size: .9em; opacity: .8; font-style: italic; }
.qa-unsure { margin-top: .4em; font-size: .9em; padding: .2em .5em; border-left: 3px solid #d97706; background: rgba(217, 119, 6, .08); }
.qa-refusal { border-left: 4px solid #d97706; background: rgba(217, 119, 6, .08); padding: .5em .8em;
  border-radius: 4px; }
.qa-refusal-text { font-weight: 700; color: #92400e; }
.qa-refusal-text::before { content: "⚠ "; }
.qa-pending { opacity: .7; font-style: italic; }
.qa-result, .qa-error { white-space: pre-line; overflow-wrap: anywhere; }  /* a long file name wraps (it had been cut off on a phone) */
.qa-error { color: #b91c1c; font-weight: 600; }
.qa-cursor { opacity: .6; }
table.qa-docs { width: 100%; border-collapse: collapse; }
table.qa-docs th, table.qa-docs td { text-align: left; padding: .3em .6em;
  border-bottom: 1px solid var(--border-color-primary); }
table.qa-docs td.qa-num { text-align: right; }
/* read by a screen reader, not shown ("You asked:", "Answer:") */
.qa-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
  user-select: none; }  /* nor copied with the answer */
#question textarea:focus-visible { outline: 2px solid #2563eb !important; outline-offset: 2px; }  /* (Gradio's own rule had won) */
/* the dark theme: every text at 4.5:1 or more on its background */
.dark .qa-refusal-text { color: #fbbf24; }
.dark .qa-file { color: #d1d5db; }
.dark .qa-error { color: #fca5a5; }
.dark a.qa-marker { color: #93c5fd; }
"""

# After an upload the keyboard's focus had been left on the page's body: it goes to the outcome's line.
FOCUS_UPLOAD_RESULT = "() => { const box = document.getElementById('upload-result'); if (box) box.focus(); }"

# Clicking a marker opens its source block, brings it into view and moves the focus to it (no
# navigation); the status lines are made live regions once Gradio has drawn them.
HEAD = """<script>
document.addEventListener("click", function (event) {
  var link = event.target && event.target.closest ? event.target.closest("a.qa-marker") : null;
  if (!link) return;
  var target = document.getElementById((link.getAttribute("href") || "").slice(1));
  if (!target) return;
  event.preventDefault();
  target.open = true;
  target.scrollIntoView({block: "nearest"});
  var summary = target.querySelector("summary");
  if (summary) summary.focus({preventScroll: true});  // a keyboard user lands on the source, not back on the marker
  target.classList.remove("qa-flash"); void target.offsetWidth; target.classList.add("qa-flash");
}, true);
// what the index, an upload or a removal reports is announced when it changes; a message is read by
// its text (Gradio names each "bot's message: " + its content, here HTML, which a screen reader read out)
new MutationObserver(function () {
  document.querySelectorAll('#chatbot [aria-label*="message: <"]').forEach(function (el) { el.removeAttribute("aria-label"); });
  ["status", "upload-result", "remove-result"].forEach(function (id) {
    var box = document.getElementById(id);
    if (box && !box.hasAttribute("aria-live")) {
      box.setAttribute("aria-live", "polite"); box.setAttribute("role", "status"); box.setAttribute("tabindex", "-1");
    }
  });
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""
