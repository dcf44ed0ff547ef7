"""Delimited text (.csv, .tsv): its rows as a Markdown table (`markdown_table`, which a workbook's sheets use too).

Each row is a line "| a | b |" (a cell's line breaks as spaces, its "|" as "/"; empty rows, rule
rows and columns empty in every row left out; a title row above a table, and a table after an empty
row, as a sheet lays them out: `markdown_table`). The first row is the table's header, followed by a Markdown "|---|" line, as a table's first
row is by convention, unless it plainly is data: it has an empty cell (other than its first, the
corner of a pivot table or of pandas' index), or every column that holds
numbers below holds one in it too ("Lyon,14" over "Paris,40"), and it is no row of years over
other figures ("Region,2021,2022" over "North,120,135", its corner cell empty or not). The delimiter is the one of comma,
semicolon, tab and pipe that splits the first lines into the same number of cells, more than one
(a tie between comma and semicolon goes to the semicolon where commas stand between digits, as
decimal commas do; a .tsv's is the tab); Excel's "sep=;" first line names it. A cell may be as
long as the file. Text the csv module cannot read is a `ValueError` with a one-line reason.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from assistant.ingest.sentences import HEADER_LINE, table_cell, table_row

SNIFF_CHARS = 8 * 1024  # the start read to find the delimiter
DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"sep=(.)\r?\n")  # Excel's first line naming the delimiter
_NUMBER = re.compile(r"[-+(]?[$€£¥]?\s*\d[\d\s.,:/%']*[)%]?\s*(?:[A-Za-z€$£%]{0,3})")  # "14", "12,50", "10:30", "3.5 %", "1,200 EUR"
_DECIMAL_COMMA = re.compile(r"\d,\d")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
_RULE = re.compile(r"[-=_:.~*+ ]+")  # a cell drawn as a rule ("----------"), not written


def table_text(text: str, tabs: bool = False) -> str:
    """The rows of delimited `text` as a Markdown table (see the module's doc); `tabs` for a .tsv."""
    named = _SEP_LINE.match(text)
    if named:
        text, delimiter = text[named.end():], named.group(1)
    else:
        delimiter = "\t" if tabs else _delimiter(text[:SNIFF_CHARS])
    if len(text) > csv.field_size_limit():  # a cell may be as long as the file (the file size limit bounds it; the csv module's 128 KiB had refused a long note)
        csv.field_size_limit(len(text))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise ValueError(f"not readable as delimited text ({(str(err).splitlines() or [''])[0][:200]})") from None
    return markdown_table(rows)


def markdown_table(rows: list[list[str]]) -> str:
    """Rows of cells (a cell's line breaks as spaces, its "|" as "/") as Markdown tables, as a sheet
    lays them out: a title row above a table (one cell filled over a wider table) as a line of text;
    after an empty row, a row that is a title or fills columns the table above does not, the start
    of another table; other empty rows, rows of rule characters ("----------") and columns empty in
    every row left out, a short row filled out with empty cells; each table's first row its header
    unless it plainly is data (see the module's doc)."""
    rows = [[table_cell(cell) for cell in cells] for cells in rows]
    blocks: list[list[list[str]]] = []
    after_empty = False
    columns: set[int] = set()  # the columns the current block fills (kept as rows join it: recounting was quadratic)
    for cells in rows:
        filled = {c for c, cell in enumerate(cells) if cell}
        if not filled or all(_RULE.fullmatch(cells[c]) for c in filled):
            after_empty = after_empty or not filled
            continue
        if not blocks or after_empty and (len(filled) == 1 < len(columns) or not filled <= columns):
            blocks.append([])
            columns = set()
        blocks[-1].append(cells)
        columns |= filled
        after_empty = False
    return "\n\n".join(text for block in blocks if (text := _block_text(block)))


def _block_text(rows: list[list[str]]) -> str:
    """One block of rows: its title line, if its first row is one, and its table."""
    title = ""
    width = len({c for row in rows for c, cell in enumerate(row) if cell})
    if len(rows) > 1 and width > 1 and sum(1 for cell in rows[0] if cell) == 1:
        title, rows = next(cell for cell in rows[0] if cell), rows[1:]
    table = _table(rows)
    return f"{title}\n\n{table}" if title else table


def _table(rows: list[list[str]]) -> str:
    width = max(map(len, rows), default=0)
    kept = [c for c in range(width) if any(c < len(cells) and cells[c] for cells in rows)]  # a column empty in every row goes
    rows = [[cells[c] if c < len(cells) else "" for c in kept] for cells in rows]  # every row as wide as the table
    lines = [table_row(cells) for cells in rows]
    if len(rows) > 1 and (_years_header(rows[0], rows[1:]) or not _is_data(rows[0], rows[1:])):
        lines.insert(1, HEADER_LINE)
    return "\n".join(lines)


def _delimiter(sample: str) -> str:
    """The delimiter that splits the sample's whole lines into one number of cells most often."""
    if len(sample) == SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [len(cells) for cells in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if any(cells)]
        except csv.Error:
            continue
        if not counts:
            continue
        width, rows = Counter(counts).most_common(1)[0]
        if width < 2:
            continue  # it splits nothing
        score = (rows / len(counts), width)
        if score > best_score or (score == best_score and delimiter == ";" and _DECIMAL_COMMA.search(sample)):
            best, best_score = delimiter, score
    return best


def _years_header(first: list[str], below: list[list[str]]) -> bool:
    """Whether a first row is a header of years over columns of other figures ("Region,2021,2022"
    over "North,120,135"; its first cell may be empty, as a pivot table's corner is): two or more
    distinct years in order, every other cell text, and a figure below them that is no year."""
    every = all(_YEAR.fullmatch(cell) for cell in first)
    corner, cells = ("", first) if every or len(first) < 3 else (first[0], first[1:])
    years = [c for c, cell in enumerate(cells, len(first) - len(cells)) if _YEAR.fullmatch(cell)]
    if len(years) < 2 or corner and _NUMBER.fullmatch(corner) or not all(cells):
        return False
    if any(_NUMBER.fullmatch(first[c]) for c in range(len(first)) if c not in years):
        return False
    values = [int(first[c]) for c in years]
    if len(set(values)) < len(values) or values not in (sorted(values), sorted(values, reverse=True)):
        return False
    return any(c < len(row) and _NUMBER.fullmatch(row[c]) and not _YEAR.fullmatch(row[c]) for row in below for c in years)


def _is_data(first: list[str], below: list[list[str]]) -> bool:
    """Whether a table's first row is data, not its header (see the module's doc)."""
    if not all(first[1:]) or not first[0] and len(first) < 2:  # (an empty corner cell: a pivot's, pandas' index)
        return True
    numeric = [c for c in range(len(first))
               if sum(1 for row in below if c < len(row) and _NUMBER.fullmatch(row[c])) > len(below) / 2]
    return bool(numeric) and all(_NUMBER.fullmatch(first[c]) for c in numeric)
