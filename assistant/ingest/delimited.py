"""Delimited text (.csv, .tsv): its rows as a Markdown table.

Each row is a line "| a | b |" (a cell's line breaks as spaces, its "|" as "/"; empty rows left
out). The first row is the table's header, followed by a Markdown "|---|" line, unless it looks
like data (`csv.Sniffer.has_header`: its cells are of the kinds and lengths of the columns below).
The delimiter is found in the first lines (comma, semicolon, tab or pipe; a .tsv's is the tab).
Text the csv module cannot read (a field past its limit, a NUL) is a `ValueError` with a one-line reason.
"""

from __future__ import annotations

import csv
import io

SNIFF_CHARS = 8 * 1024  # the start read to find the delimiter and whether the first row is a header


def table_text(text: str, tabs: bool = False) -> str:
    """The rows of delimited `text` as a Markdown table (see the module's doc); `tabs` for a .tsv."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    sniffer = csv.Sniffer()
    try:
        dialect = sniffer.sniff(sample, delimiters="\t" if tabs else ",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if tabs else csv.excel
    try:
        header = sniffer.has_header(sample)
    except csv.Error:
        header = True  # a table's first row, by convention
    rows = []
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), dialect):
            cells = [" ".join(cell.split()).replace("|", "/") for cell in cells]
            if any(cells):
                rows.append("| " + " | ".join(cells) + " |")
    except csv.Error as err:
        raise ValueError(f"not readable as delimited text ({(str(err).splitlines() or [''])[0][:200]})") from None
    if header and len(rows) > 1:
        rows.insert(1, "|---|")
    return "\n".join(rows)
