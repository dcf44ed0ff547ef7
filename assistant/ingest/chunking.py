"""Cutting a `Document` into overlapping, sentence-aligned `Chunk`s that know where they came from.

Sentences are packed greedily up to `size` characters; the next chunk starts with the trailing
sentences of the previous one, up to `overlap` characters. A sentence longer than `size` is cut at
word boundaries. A chunk holds the sentences of one page: a sentence that runs over a page break
stays whole, with the page it starts on. For every chunk, `document.text[start:end] ==
chunk.text`, and its id is derived from source, offsets and text, so the same input gives the
same ids.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass
from pathlib import PurePath

import regex as re

from assistant.ingest.documents import PAGE_RUN_ON, Document
from assistant.ingest.sentences import split_sentences


# Bumped whenever the splitting or packing rules change, so an index rebuilds its chunks.
# 3: an HTML <title> is the title, no longer repeated in the text. 4: sentences end in Chinese,
# Japanese, Arabic and Hebrew text, never at a list number or inside a bracket closed on its line;
# table rows and list items are lines of their own; long sentences are cut at any space and never
# inside a character as read (an accent, an emoji sequence); HTML hidden elements left out (a4d9efe).
# 5: a reference mark after a sentence ends it; prose wrapped at a short width goes on across its
# lines; HTML read as a browser lays it out (source line breaks as spaces, table rows as lines,
# only the article or main content when the page marks it, never <nav>); PDF running headers and
# footers left out. 6: a fenced Markdown code block is one span; a reference abbreviation before a
# number ("Tab. 2", "ca. 30 min") and a clause number ("3.1.") end no sentence; an HTML term and its
# definition (<dt>, <dd>) are one line. 7: a two-page PDF's running header and footer are left out.
# 8: an HTML page's cookie or consent banner is left out. 9: a PDF sentence that runs over a page
# break is one sentence, of the page it starts on; a PDF's bare page numbers ("7", "- 7 -") are left out.
# 10: a table's header row in a web page (<th>), Word document or deck is followed by a Markdown
# "|---|" line, and a Word table is set apart from the next by a blank line. 11: a Word document's
# text boxes, footnotes and endnotes are read. 12: a web page's <thead> row and a CSV's row of years
# over other figures are headers. 13: charts in decks and Word documents are read, their figures as a table.
# 14: Markdown split as it reads (a code block closes under Windows line ends, emphasis and footnote
# marks end a sentence, a long "#" heading is a line of its own, wrapped items and block quotes go
# on, front matter's fields are lines); a chart's repeated labels keep their figures, its times read
# as shown; a Word note's table stays one, a chart in a cell follows its table. 15: a web page's or
# Word table's first row bold in every word is its header. 16: Excel workbooks are read (ingest/sheets.py).
# 17: a Word note's mark is "[^n]" (Markdown's), not "[n]"; a "|" in a Word or web page table's cell is "/".
# 18: a sheet's title rows, tables after empty rows, rule rows, formats and formulas as shown; an empty
# corner cell keeps a header. 19: e-mail messages (.eml) are read (ingest/mail.py). 20: a table cell
# merged over columns or rows (web pages, Word, PowerPoint) is written in each cell it covers. 21: and
# a workbook's merged cell. 22: a web page's or Word table's header of two rows is one row. 23: a
# merged cell of several lines or paragraphs once, spans ending where a browser ends them, Word's
# gridBefore, a row that only goes on merges left out. 24: a short cell of two lines is copied again,
# a row's only cell beside a span from above keeps its own span. 25: a web page's spans end at a row
# group's end tag too. 26: a first line that ends as a sentence of prose is no title (the file name is).
# 27: a workbook's hidden rows and columns are left out. 28: a message forwarded as an attachment
# is named on the "Attachments:" line. 29: a web page's preformatted text keeps its spaces and tabs.
# 30: a web page's form choices (<select>, <datalist>) are not read. 31: nor a table's empty rows.
# 32: a web page's list items are Markdown's, "- item" and "3. item", one a line in one paragraph;
# its headings "## …"; a PDF page ending on a word no sentence ends with ("the") runs on; a
# spreadsheet date shown without its day ("mmm yyyy") reads "2024-11", not "2024-11-01"; a Word
# header cell merged over columns and the row naming them under it are one header row; a hidden
# web page <p>, <li>, <tr> or cell is left out where a browser ends it. 33: a short line ending on
# a word no sentence ends with ("serviced on") goes on in the next; a table's "|---|" line may end
# in a lone carriage return; a web page's comment never closed, or a tag begun after its last ">",
# is not read. 34: a block's wrap width is the median width of its lines that go on in lower case;
# a line ending in an article, a possessive, "of" or "and" is no heading. 35: a workbook that
# declares no title is titled by its file name, not its first sheet's name. 36: a lettered item at a
# line's start ("b) …", "(iv) …") is a list item and a sentence of its own. 37: not after a line
# that stops mid-sentence ("… on time or" / "(b) vacate …"), nor "(c) 2024"; roman numerals to
# xxxix; a workbook whose declared title is a file name is titled by its own file name.
CHUNKER_VERSION = 37


@dataclass(frozen=True)
class Chunk:
    """A passage of a document with its provenance."""

    id: str
    source: str
    position: int  # 0-based order within its document
    start: int
    end: int
    text: str
    page: int | None = None
    title: str = ""
    sentences: tuple[tuple[int, int], ...] = ()  # spans (into the document) of its sentences

    @property
    def label(self) -> str:
        """Short human reference, e.g. `report.pdf p. 4`, `deck.pptx slide 2` or `article.txt ¶3`."""
        name = PurePath(self.source).name
        return f"{name} {page_name(self.source, self.page)}" if self.page is not None else f"{name} ¶{self.position + 1}"


def page_name(source: str, page: int) -> str:
    """How a page of `source` is named: "slide 4" in a PowerPoint deck, "sheet 2" in a workbook, else "p. 4"."""
    lowered = source.lower()
    return f"slide {page}" if lowered.endswith(".pptx") else f"sheet {page}" if lowered.endswith((".xlsx", ".xlsm")) else f"p. {page}"


def chunk_id(source: str, start: int, end: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\x00{start}\x00{end}\x00{text}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:20]


def chunk_document(document: Document, size: int, overlap: int) -> list[Chunk]:
    """The chunks of `document`, in order."""
    if size < 1 or overlap < 0 or overlap >= size:
        raise ValueError(f"chunk size {size} / overlap {overlap}: need size >= 1 and 0 <= overlap < size")
    spans: list[tuple[int, int, int | None, tuple]] = []
    for page, pieces in _page_pieces(document, size):
        spans.extend((pieces[i][0], pieces[j - 1][1], page, tuple(pieces[i:j])) for i, j in _pack(pieces, size, overlap))
    return [
        Chunk(
            id=chunk_id(document.source, s, e, document.text[s:e]),
            source=document.source,
            position=i,
            start=s,
            end=e,
            text=document.text[s:e],
            page=page,
            title=document.title,
            sentences=sentences,
        )
        for i, (s, e, page, sentences) in enumerate(spans)
    ]


def _page_pieces(document: Document, size: int) -> list[tuple[int | None, list[tuple[int, int]]]]:
    """(page number, its pieces: `_pieces` of its sentences) for each page that starts one, in
    order, or (None, every piece) for a document without pages. Pages joined mid-sentence
    (`PAGE_RUN_ON`) are split as one text, and each piece goes with the page it starts on: a
    sentence over a page break with the page it starts on, each piece of a longer one with its own."""
    text = document.text
    if not document.pages:
        return [(None, _pieces(text, split_sentences(text), size))]
    runs = [[document.pages[0]]]
    for before, page in zip(document.pages, document.pages[1:]):
        if text[before.end : page.start] == PAGE_RUN_ON:
            runs[-1].append(page)
        else:
            runs.append([page])
    found = []
    for run in runs:
        starts = [page.start for page in run]
        by_page: dict[int, list[tuple[int, int]]] = {page.number: [] for page in run}
        for s, e in _pieces(text, split_sentences(text, run[0].start, run[-1].end), size):
            by_page[run[bisect.bisect_right(starts, s) - 1].number].append((s, e))
        found.extend((number, pieces) for number, pieces in by_page.items() if pieces)
    return found


def _pieces(text: str, sentences: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """The sentence spans, with any sentence longer than `size` cut at word boundaries; where the last
    boundary would keep less than half of `size` (a long unbroken run: a checksum, an address),
    cut inside the run instead, so the words before it keep its start ("The checksum is 3f9a…"
    rather than "The checksum is", which an answer had quoted without the value)."""
    pieces = []
    for s, e in sentences:
        while e - s > size:
            spaces = [m.start() for m in _SPACE.finditer(text, s + size // 2 + 1, s + size + 1)]
            cut = spaces[-1] if spaces else grapheme_start(text, s, s + size)
            while cut > s + 1 and text[cut - 1].isspace():  # the piece ends where its run of spaces starts
                cut -= 1
            pieces.append((s, cut))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if s < e:
            pieces.append((s, e))
    return pieces


_SPACE = re.compile(r"\s")  # any space: a tab, a no-break or an ideographic space too
_GRAPHEME = re.compile(r"\X")  # a character as read: a letter and its accents, an emoji sequence


_GRAPHEME_REACH = 256  # code points after a cut read to find where its character ends


def grapheme_start(text: str, floor: int, cut: int) -> int:
    """`cut`, moved back to where the character as read that holds it starts (above `floor`, the
    start of the piece, itself such a start). The characters are read in a slice from `floor`:
    `regex` reading from inside the whole text looks back over a run of flag letters to its start
    (quadratic over a long run), and a slice from elsewhere could pair the flag letters wrongly."""
    window = text[floor : min(len(text), cut + _GRAPHEME_REACH)]
    boundary = None
    for match in _GRAPHEME.finditer(window):
        if floor + match.end() > cut:
            break
        boundary = floor + match.end()
    else:
        return cut
    return boundary if boundary is not None and boundary > floor else cut


def _pack(pieces: list[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """Ranges `[i, j)` of pieces, one per chunk."""
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and pieces[j][1] - pieces[i][0] <= size:
            j += 1
        chunks.append((i, j))
        if j >= len(pieces):
            break
        # Start the next chunk with trailing pieces worth at most `overlap` characters,
        # but always make progress.
        k = j
        while k - 1 > i and pieces[j - 1][1] - pieces[k - 1][0] <= overlap:
            k -= 1
        # The overlap must leave room for the next new piece, or the next chunk would add nothing.
        while k < j and pieces[j][1] - pieces[k][0] > size:
            k += 1
        i = k
    return chunks
