"""Sentence boundaries as character spans, so every sentence can be quoted by offset.

A rule-based splitter: a sentence ends at `.`, `!` or `?` (or Arabic `؟`, `۔`; with any closing
quotes or brackets, German "“" and French " »" among them) followed by whitespace and a capital, a
letter of a script without case (Arabic, Hebrew, Chinese, ...), a digit or an opening mark (a
quote, „ « », or Spanish ¿ ¡), unless the word before is a known abbreviation (English, and the
usual German, French and Spanish titles and abbreviations: "Mme.", "Sra.", "inkl.", "Hauptstr. 5")
or an initial, a German day before its month ("31. März"), the sentence so far is only a list number ("1. Budget"), or a bracket
opened in the sentence closes soon after, before another sentence ends ("(incl. VAT)"). Reference
marks after the end (".[2] ", ".¹ ", ".[^1] ") and Markdown emphasis around it ("hours.** **You …")
end with it. A Chinese or Japanese full stop, question or
exclamation mark (`。？！`) ends one where it stands, since no space follows it. A reference
abbreviation before a number ("Tab. 2", "ca. 30 min", "Art. 5") and a clause number ("3.1.") end
nothing, and a fenced Markdown code block (```` ``` ```` … ```` ``` ````) is one span.
Blank lines always end a sentence (a line ends with \n, \r\n, \r, a form feed, NEL or a Unicode
line or paragraph separator), and so does a line break after a short line with no closing
punctuation, unless it ends on a word no sentence ends with before a digit ("serviced on" / "12 May")
or on one no heading ends with ("the", "of"; before anything) (a heading; in prose wrapped at a
short width, only a line well short of the block's typical wrapped line),
after a table row (`| … |`) or a Markdown heading (`## …`, whatever its length), or before a list
item, table row or Markdown heading. It runs in linear time.
"""

from __future__ import annotations

import regex as re

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "inc", "ltd", "co",
    "corp", "no", "nos", "fig", "figs", "vol", "ed", "eds", "gen", "gov", "sen", "rep", "rev",
    "e.g", "i.e", "u.s", "u.k", "u.n", "e.u", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "approx", "est", "dept", "univ", "cf", "al", "p", "pp",
    # titles and ranks before a name, and the abbreviations of a price or a list
    "capt", "cpt", "lt", "col", "sgt", "maj", "cmdr", "adm", "hon", "pres", "supt", "insp", "det",
    "messrs", "fr", "incl", "excl", "esp", "resp", "ref", "tel", "ave", "blvd", "govt", "assn", "bros",
    # the same in German, French and Spanish documents ("Mme. Lefèvre", "Sra. García", "inkl. MwSt.",
    # "Hauptstr. 5", "ext. 4455" had each ended a sentence)
    "mme", "mmes", "mlle", "mlles", "sra", "sras", "srta", "dra", "dres", "hrn", "inkl", "zzgl", "bzw",
    "ggf", "evtl", "usw", "vgl", "avda",
}
# A day's number before a German month ("am 31. März", as German writes dates): no sentence ends there
# (only names English does not share: "Sales in March were 14. April sales were 20." is two sentences)
_MONTH_AFTER_DAY = re.compile(r"\s+(?:Januar|Jänner|Februar|Feber|März|Mai|Juni|Juli|Oktober|Dezember)\b")
# Abbreviations that stand before a number ("see Tab. 2", "ca. 30 min", "under Art. 5", "cl. 3.1"):
# words of their own elsewhere ("I love art. It …"), so they hold a sentence only before a digit
_BEFORE_NUMBER = {"ca", "tab", "tabs", "eq", "eqs", "art", "arts", "cl", "sec", "secs", "para", "paras", "ch", "chap",
                  "suppl", "sch", "vs", "no", "nr", "fig", "figs", "p", "pp", "vol", "ex", "ext", "tfno"}
# A match starts only where a run of end marks starts, and takes the run whole (possessive): else a
# long run of dots not followed by a capital is tried from every dot, over the rest of the run
_END = re.compile(
    # the end mark, closing quotes, brackets or Markdown emphasis ("hours.** "), then any reference
    # marks (".[2] ", ".[3, 4] ", ".¹ ", a Markdown footnote's ".[^1] "); the next may open with emphasis
    r"""(?<![.!?؟۔])[.!?؟۔]++(?:[ \u00a0\u202f]»)?+['"’”“»«)\]*_~]*+(?:\[\d{1,3}(?:[,–-]\s?\d{1,3})*\]|\[\^[\w-]{1,30}\])*+[¹²³⁰-⁹]*+"""
    r"""(?=\s+(?:\*{1,3}|_{1,3}|~~)?['"‘“„(\[«»¿¡]?[\p{Lu}\p{Lt}\p{Lo}\p{N}])"""
    r"""|(?<![。？！])[。？！]++['"’”」』）)\]]*+(?=\s*\S)"""  # Chinese and Japanese: no space after it
)
# a Windows, old Mac or Unix line end (\r\n is one, never two), a form feed, NEL, or a Unicode line
# or paragraph separator
_EOL = r"(?:\r\n|\r(?!\n)|[\n\f\x85\u2028\u2029])"
_OPENS = {"(": ")", "[": "]"}
_CLOSES = tuple(_OPENS.values())
_BRACKET_REACH = 120  # how far after an end mark the bracket it stands in may close
# the start of a list item or a table row: a bullet ("- ", "* ", "+ ", "• "), "1. " or "2) ", a letter
# or roman numeral "b) " or "(xiv) " (not "(c) 2024", a copyright), or a table row's "|"
_LETTERED = r"\(?(?:(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3})|[a-z])\)[ \t](?![ \t]*\d{4}\b)"
_ITEM = re.compile(r"[ \t]*(?:[-*+•][ \t]|\d{1,3}[.)][ \t]|" + _LETTERED + r"|\|)")
_LETTERED_ITEM = re.compile(r"[ \t]*" + _LETTERED)
BLANK_LINE = re.compile(_EOL + r"[ \t\f\v\u00a0]*" + _EOL + r"\s*")  # ends a paragraph
LINE_BREAK = re.compile(_EOL)
_NON_SPACE = re.compile(r"\S")
_HEADING_MAX = 60
# A block whose widest line is at least _WRAP_MIN characters is read as wrapped text: a line of at
# least _WRAPPED_SHARE of that width goes on into the next ("…expected to open in\nApril 2025")
_WRAP_MIN, _WRAPPED_SHARE = 30, 0.6
# Words that do not end an English sentence: a line or page ending on one stops mid-sentence
NEVER_LAST = {"the", "a", "an", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "from", "with",
               "into", "onto", "than", "that", "which", "whose", "its", "their", "his", "her", "our", "your", "my",
               "is", "are", "was", "were", "be", "been", "will", "would", "shall", "should", "can", "could", "may",
               "must", "has", "have", "had", "not", "no", "if", "as", "per", "via", "between", "under", "over",
               "after", "before", "during", "without", "within", "including", "such", "both", "either", "neither"}
_LINE_START = re.compile(r"[ \t]*(\S)")  # a line's first character (within the line: linear)
_QUOTED_TEXT = re.compile(r"[ \t]*(?:>[ \t]*)+(\S)")  # a block quote line's first character after its "> " marks
# a Markdown heading line ("## Migrating from version 2 …"): a line of its own whatever its length
HEADING_LINE = re.compile(r"[ \t]{0,3}#{1,6}[ \t]")
_CLOSERS = ".!?:\"”'’)]"


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans `(s, e)` of the sentences in `text[start:end]`, whitespace trimmed, in order."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    at = start
    if start == 0 and (front := _FRONT_MATTER.match(text, 0, end)):  # each "key: value" line of its own
        at = front.start(2)
        for line_end in LINE_BREAK.finditer(text, at, front.end(2)):
            if line := _trim(text, at, line_end.start()):
                spans.append(line)
            at = line_end.end()
        at = front.end()
    for code_start, code_end in _fenced(text, start, end):  # a fenced code block is one span, fences and all
        spans.extend(_prose(text, at, code_start))
        if code := _trim(text, code_start, code_end):
            spans.append(code)
        at = code_end
    spans.extend(_prose(text, at, end))
    return spans


def _prose(text: str, start: int, end: int):
    for block_start, block_end in _blocks(text, start, end):
        for line_start, line_end in _lines(text, block_start, block_end):
            yield from _sentences(text, line_start, line_end)


# A Markdown document's front matter: "---" (YAML) or "+++" (TOML) on the first line, its fields (the
# first a "key:" or "key ="), the same line again within 200 lines. Its lines start in lower case ("author: Daniel Ortiz") and had been read as one
# wrapped sentence, quoted whole; each field is a line of its own.
_FRONT_MATTER = re.compile(r"(---|\+\+\+)[ \t]*(?:\r\n|\n)(?=[A-Za-z_][\w-]*[ \t]*[:=])"  # a "key:" or "key =" first
                           r"((?:.*(?:\r\n|\n)){0,200}?)\1[ \t]*(?:\r\n|\n|$)")


# A Markdown code block: a line of three or more backticks or tildes opens it, the next line of the
# same run (as long or longer) closes it, or the text's end does. Its lines, blank ones and "# a
# comment" included, had been sentences and headings of their own, and a lone "```" an answer.
_FENCE = re.compile(r"(?m)^[ \t]{0,3}(`{3,}|~{3,})[^\n]*$")


def _fenced(text: str, start: int, end: int):
    """(start, end) of each fenced code block in text[start:end], opening and closing fence lines included."""
    at = start
    while opening := _FENCE.search(text, at, end):
        fence = opening.group(1)
        if fence[0] == "`" and "`" in text[opening.end(1) : opening.end()]:
            at = opening.end()  # "```x``` …": inline code, not a fence
            continue
        closing = re.compile(rf"(?m)^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*\r?$").search(text, opening.end(), end)
        stop = closing.end() if closing else end
        yield opening.start(), stop
        at = stop


def _blocks(text: str, start: int, end: int):
    pos = start
    for match in BLANK_LINE.finditer(text, start, end):
        yield pos, match.start()
        pos = match.end()
    yield pos, end


def _lines(text: str, start: int, end: int):
    """Split a block at line breaks that end a heading or a sentence; keep wrapped lines joined.
    A short line is a heading, unless the block is prose wrapped at a short width (a column of a
    PDF, an e-mail: most of its lines go on in lower case) and the line is about as wide as its
    wrapped lines are (their median): then it is a wrapped line ("…expected to open in" / "April
    2025, and …")."""
    breaks = list(LINE_BREAK.finditer(text, start, end))
    widths = [len(text[a:b].strip()) for a, b in zip([start] + [m.end() for m in breaks], [m.start() for m in breaks] + [end])]
    widest = max(widths, default=0)
    # the lines that go on in lower case are wrapped: their typical width is the block's wrap width
    # (a full-width paragraph above a column of a PDF page had made every column line "short")
    wrapped = sorted(w for w, m in zip(widths, breaks) if (nxt := _LINE_START.match(text, m.end(), end)) and nxt.group(1).islower())
    prose = widest >= _WRAP_MIN and len(wrapped) * 2 >= len(breaks) > 0
    wrapped_at = wrapped[len(wrapped) // 2] * _WRAPPED_SHARE if prose else widest + 1
    pos = line_start = start
    next_at, following = -1, ""  # the next non-space character: found once for a run of lines of spaces
    in_item = False  # a list item, or a line indented under one
    for match in breaks:
        raw = text[line_start:match.start()]
        line = raw.strip()
        line_start = match.end()
        if next_at < match.end():
            found = _NON_SPACE.search(text, match.end(), end)
            next_at, following = (found.start(), found.group()) if found else (end, "")
        in_item = bool(line) and (bool(_ITEM.match(raw)) and not line.startswith("|") or in_item and raw[:1] in " \t")
        indented_next = text[match.end():match.end() + 1] in (" ", "\t") and not _ITEM.match(text, match.end(), end)
        quoted = line.startswith(">") and following == ">"
        if quoted:  # a block quote's line goes on as its text does after the next line's "> "
            after = _QUOTED_TEXT.match(text, match.end(), end)
            following = after.group(1) if after else following
        heading = (len(line) <= _HEADING_MAX and len(line) < wrapped_at and not (in_item and indented_next) and not quoted
                   and not (_stops_mid_sentence(line) and following.isdigit()) and not _cannot_end_a_heading(line))
        if line and following and (
            (not following.islower() and (line[-1] in _CLOSERS or heading))
            or is_table_row(line)
            or HEADING_LINE.match(line)
            # a list item or a table row follows (a lettered one not after a line that stops mid-sentence:
            # "… pay the rent on time or" / "(b) vacate the premises …" is one sentence)
            or (_ITEM.match(text, match.end(), end) and not (_LETTERED_ITEM.match(text, match.end(), end) and _stops_mid_sentence(line)))
            or HEADING_LINE.match(text, match.end(), end)  # or a Markdown heading
        ):
            yield pos, match.start()
            pos = match.end()
    yield pos, end


# words a heading never ends on, whatever follows: an article, a possessive, "of", "and" ("…which is
# named after the" / "Gull, …": a PDF column's line had been read as a heading before the capital)
NEVER_LAST_IN_HEADINGS = {"the", "a", "an", "and", "or", "nor", "of", "its", "their", "our", "your", "my", "whose", "than"}


def _cannot_end_a_heading(line: str) -> bool:
    return _last_word(line) in NEVER_LAST_IN_HEADINGS


def _last_word(line: str) -> str:
    return line.rsplit(None, 1)[-1] if line.strip() else ""


def _stops_mid_sentence(line: str) -> bool:
    """Whether a line ends on a word no sentence ends with ("The boiler was serviced on", a web
    page's <br> before "12 May …"): before a line starting with a digit it goes on, however short
    (it had been read as a heading, and "The boiler was serviced on" quoted as the answer); before
    a capital it may be a heading ("How to log in"), and before a lower-case letter any line goes on."""
    last = _last_word(line)
    return last.isalpha() and last.islower() and last in NEVER_LAST  # ("Appendix A", "Plan B": headings)


def is_list_item(line: str) -> bool:
    """Whether a line is an item of a bulleted, numbered or lettered list: "- milk", "2) Twist the
    cap", "b) Travel to a country …", "(iv) …"."""
    return bool(_ITEM.match(line)) and not line.lstrip().startswith("|")


def list_item_kind(line: str) -> str | None:
    """A list item's kind: "number", "letter" (letters and roman numerals), or its bullet
    mark; None for a line that is no item. A list is a run of items of one kind."""
    if not is_list_item(line):
        return None
    mark = line.lstrip()[0]
    return "number" if mark.isdigit() else "letter" if mark == "(" or mark.isalpha() else mark


HEADER_LINE = "|---|"  # under a table's header row, as Markdown marks one: the loaders write it, answers read by it
SEPARATOR_ROW = re.compile(r"\s*\|[\s:|-]*-[\s:|-]*\|?[ \t]*(?:\r\n?|\n|$)")  # that line as Markdown writes it ("|---|:--:|")


# The longest text a cell merged over several columns or rows is written again in each of them
# (the HTML, Word and workbook readers): a longer one, a note across the table, is written once.
SPAN_COPY_MOST = 200
# The most cells that merged cells fill in one document (past it they are written once): a few
# kilobytes of rows under wide merged cells had written millions.
SPAN_COPIES_MOST = 100_000


def header_names(first: list[str], second: list[str]) -> list[str]:
    """A header of two rows as one: each column named by both rows ("2023" over "Q1" -> "2023
    Q1"), once where they are the same (a cell spanning both rows) or one is empty."""
    return [a if a == b or not b else b if not a else f"{a} {b}" for a, b in zip(first, second)]


def table_row(cells) -> str:
    """A table row's line from its cells: "| a | b |" (as every loader writes a table), each cell
    on one line and its "|" written "/" (it would part the cell)."""
    return "| " + " | ".join(table_cell(cell) for cell in cells) + " |"


def table_cell(text: str) -> str:
    """A cell's text as a table row holds it: its whitespace one space, its "|" a "/"."""
    return " ".join(text.split()).replace("|", "/")


def table_cells(row: str) -> list[str]:
    """The cells of a table row's line (`table_row`'s inverse; a Markdown cell's "\\|" is no border)."""
    return [cell.strip() for cell in _CELL_BORDER.split(row.strip()[1:-1])]


_CELL_BORDER = re.compile(r"(?<!\\)\|")


def is_table_row(line: str) -> bool:
    """Whether a line is a row of a Markdown (or extracted HTML) table: "| a | b |"."""
    line = line.strip()
    return len(line) > 1 and line[0] == line[-1] == "|"


def _sentences(text: str, start: int, end: int):
    pos = start
    first = -1, -1  # (for which `pos`, where its first non-space character is)
    opened = dict.fromkeys(_CLOSES, 0)  # brackets open in the sentence so far, by the mark that closes them
    counted = start  # characters counted for `opened` up to here
    for match in _END.finditer(text, start, end):
        for ch in text[counted : match.end()]:
            if ch in _OPENS:
                opened[_OPENS[ch]] += 1
            elif ch in opened and opened[ch]:
                opened[ch] -= 1
        counted = match.end()
        if match.group().startswith("."):
            if first[0] != pos:
                found = _NON_SPACE.search(text, pos, end)
                first = pos, found.start() if found else end
            if _is_abbreviation(text, pos, match.start()) or _is_list_number(text, first[1], match.start()):
                continue
        if _held_in_brackets(text, match.end(), end, opened):
            continue  # "(incl. VAT)": a bracket of the sentence closes right after
        span = _trim(text, pos, match.end())
        if span:
            yield span
        pos = match.end()
        opened = dict.fromkeys(_CLOSES, 0)
    span = _trim(text, pos, end)
    if span:
        yield span


# "3", "3.1", "4.2.1": a list item's or a clause's number; a Markdown heading's too ("## 4. Setup")
_LIST_NUMBER = re.compile(r"(?:#{1,6}[ \t]+)?\d{1,3}(?:\.\d{1,3}){0,3}")


def _is_list_number(text: str, first: int, dot: int) -> bool:
    """Whether the sentence so far, from its first character `first` to the dot, is a list or
    clause number ("1. Budget", "3.1. The Tenant shall …"), or a numbered heading's ("## 4. How
    to apply": split there, "How to apply" had stood as a sentence, not a heading, and been quoted)."""
    return 0 < dot - first <= 22 and bool(_LIST_NUMBER.fullmatch(text, first, dot))


def _held_in_brackets(text: str, at: int, end: int, opened: dict[str, int]) -> bool:
    """Whether a bracket open before `at` closes within _BRACKET_REACH after it, with no sentence
    end between: "(incl. VAT)". One that closes only after another sentence, or never, is a
    smiley or a slip ("I was sad :( when it broke. … quick :)"), and holds nothing."""
    for closer, count in opened.items():
        if count:
            close = text.find(closer, at, min(end, at + _BRACKET_REACH))
            if close >= 0 and not _END.search(text, at, close):
                return True
    return False


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    word_start = dot
    while word_start > start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("(\"'“‘[").lower()
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith"
    if word.endswith("str") and (after := _NON_SPACE.search(text, dot + 1, dot + 4)) and after.group().isdigit():
        return True  # a German street before its number: "Hauptstr. 5"
    if word.isdigit() and len(word) <= 2 and 1 <= int(word) <= 31 and _MONTH_AFTER_DAY.match(text, dot + 1):
        return True  # "31. März"
    if word in _BEFORE_NUMBER and (after := _NON_SPACE.search(text, dot + 1, dot + 4)) and after.group().isdigit():
        return True  # "Tab. 2", "ca. 30 min", "Art. 5", "cl. 3.1"
    return word in _ABBREVIATIONS


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


# A word hyphenated at a line end ("infor-\nmation", as PDFs and wrapped text break words), read
# whole by everything that matches or reads a sentence: its embedding, keyword search and the
# answer model. The quote stays as the document has it (verbatim at its offsets).
_BROKEN_WORD = re.compile(r"(?<=\w)-[ \t]*(?:\r\n|\r|\n)[ \t]*(?=\p{Ll}\w*+(?!-))")  # not "state-\nof-the-art"


def as_read(text: str) -> str:
    """`text` with words hyphenated at line ends joined."""
    return _BROKEN_WORD.sub("", text) if "-" in text else text

