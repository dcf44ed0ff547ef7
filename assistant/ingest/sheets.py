"""Excel workbooks (.xlsx, .xlsm): each shown sheet's cells, as a Markdown table, read with openpyxl.

Sheets come in the workbook's order, hidden ones (and hidden rows and columns) left out, each as a
page of its own (numbered by its place among the shown tabs, chart sheets counted, cited as "sheet
n"): its name as a `#` line, then its rows as a
Markdown table (`delimited.markdown_table`: the first row its header unless it plainly is data,
empty rows and columns left out). A cell reads as the sheet shows it: a formula as its last
computed value (its formula as written, "=SUM(B2:B3)", in a workbook to be calculated when opened,
whose stored values are not true ones), a number in its format (`formats.as_shown`: percentages,
dates and times, decimals, thousands and currencies), TRUE and FALSE, an error as its code ("#DIV/0!").
A merged cell's value is written in each cell it covers, as the web page, Word and PowerPoint
readers write one (a row's only cell, a title across the sheet, and a value over 200 characters
once; at most `MERGE_FILLS_MOST` cells a sheet). Charts, pictures and comments are not read.

The package is opened within the bounds of `package` first (a zip that unpacks past
`UNPACKED_MOST` is refused before openpyxl reads it; openpyxl parses with defusedxml, so entities
are never resolved); reading stops as soon as the text passes `max_chars`. Every failure is an
`Unreadable` with a one-line reason.
"""

from __future__ import annotations

import bisect
import datetime
import io
import re
import zipfile

from lxml import etree

from assistant.ingest.delimited import markdown_table
from assistant.ingest.formats import as_shown, day_number
from assistant.ingest.package import PART_MOST, UNPACKED_MOST, Unreadable, damaged, open_package
from assistant.ingest.sentences import SPAN_COPY_MOST

__all__ = ["UNPACKED_MOST", "Unreadable", "xlsx_text"]

_RECALCULATED = re.compile(rb"<(?:\w+:)?calcPr\b[^>]*\bfullCalcOnLoad=[\"'](?:1|true)[\"']")


def xlsx_text(data: bytes, max_chars: int | None = None) -> tuple[list[tuple[int, str]], str]:
    """The shown sheets of a workbook as (page number, Markdown text), and its title ("" when none)."""
    archive, members = open_package(data, "not a readable Excel workbook (.xlsx), damaged or of another kind "
                                          "(an encrypted one, or an .xls renamed)")
    with archive:
        try:
            part = members.get("xl/workbook.xml")
            workbook = archive.read(part) if part is not None and part.file_size <= PART_MOST else b""
        except Exception as err:  # noqa: BLE001 - a damaged zip raises many kinds
            raise damaged("Excel workbook (.xlsx)", err) from None
    # a workbook to be calculated when opened (as openpyxl and XlsxWriter write one) keeps no true last
    # values (XlsxWriter's are 0): its formulas are read as written instead
    computed = not _RECALCULATED.search(workbook)
    import openpyxl  # (imported here: its import costs about 0.3 s, paid by workbooks only)

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=computed)
    except Exception as err:  # noqa: BLE001 - zip, XML and openpyxl errors of every kind on damaged files
        raise damaged("Excel workbook (.xlsx)", err) from None
    pages, chars = [], 0
    package = zipfile.ZipFile(io.BytesIO(data))  # (opened once for every sheet's merged cells)

    def within_the_limit(number: int) -> None:
        if max_chars is not None and chars > max_chars:
            raise Unreadable(f"more text than the size limit allows (over {max_chars:,} characters by sheet {number}; "
                             "ASSISTANT_MAX_FILE_MB sets it, in MiB of text)")

    try:
        date1904 = bool(getattr(book, "epoch", None) == datetime.datetime(1904, 1, 1))
        # every shown tab is numbered, a chart sheet's too (it is read as nothing: its chart's figures are a sheet's)
        shown = [sheet for sheet in map(book.__getitem__, book.sheetnames) if getattr(sheet, "sheet_state", "visible") == "visible"]
        for number, sheet in enumerate(shown, 1):
            if not hasattr(sheet, "iter_rows"):
                pages.append((number, ""))
                continue
            held: dict[int, dict[int, str]] = {}  # its cells as they are, not the used range it declares (one may declare all 17 billion)
            hidden: set[int] = set()
            for row, cells in _shown_cells(sheet, date1904, hidden):
                held[row] = cells
                chars += sum(len(c) + 3 for c in cells.values())
                within_the_limit(number)
            rows, ranges = _dense(held, merged_ranges(package, sheet._worksheet_path), hidden)
            if ranges:
                chars += fill_merged(rows, ranges)
                within_the_limit(number)
            table = markdown_table(rows)
            pages.append((number, f"# {' '.join(sheet.title.split())}\n\n{table}" if table else ""))
        title = (book.properties.title or "").strip() if book.properties is not None else ""
    except Unreadable:
        raise
    except Exception as err:  # noqa: BLE001 - a value no Excel writes: one line, never a traceback
        raise damaged("Excel workbook (.xlsx)", err) from None
    finally:
        book.close()
        package.close()
    return pages, title


def _shown_cells(sheet, date1904: bool, hidden: set[int]):
    """A sheet's shown rows as (row, {column: text}), from 0, only the cells it holds: hidden rows
    and columns (`hidden` gets the columns) left out, as hidden sheets are. openpyxl's own rows are
    as wide as their last cell: one cell in column XFD made 16,384 of a row, and 3,000 such rows of
    a 45 KB workbook took 20 s and 850 MB (its parser is read here, openpyxl pinned in requirements)."""
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    book = sheet.parent
    with sheet._get_source() as source:
        parser = WorkSheetParser(source, sheet._shared_strings, data_only=book.data_only, epoch=book.epoch,
                                 date_formats=book._date_formats, timedelta_formats=book._timedelta_formats)
        columns_read = False
        for number, cells in parser.parse():
            if not columns_read:  # (a sheet's <cols> come before its rows)
                columns_read = True
                for dimension in parser.column_dimensions.values():
                    if _on(dimension.get("hidden")):
                        hidden.update(range(max(int(dimension["min"]), 1) - 1, min(int(dimension["max"]), _COLUMNS)))
            if _on(parser.row_dimensions.get(str(number), {}).get("hidden")):
                continue
            yield number - 1, {cell["column"] - 1: text for cell in cells
                               if cell["column"] - 1 not in hidden and (text := _cell(ReadOnlyCell(sheet, **cell), date1904))}


_COLUMNS = 16_384  # Excel's, A to XFD


def _on(flag) -> bool:
    return str(flag).lower() in ("1", "true")


def _dense(held: dict[int, dict[int, str]], ranges, hidden: set[int]) -> tuple[list[list[str]], list]:
    """The rows as lists over the columns that hold something (an empty column is no column of the
    table), and the merged `ranges` over those columns: a merge as wide as `_MERGE_WIDE_MOST` keeps
    each column it covers (its copies fill them), a wider one only those that hold something."""
    used = set().union(*held.values()) if held else set()
    looked = 0  # columns looked at: a crafted sheet's millions of narrow ranges are not walked without end
    for top, first, _, last in ranges:
        if last - first < _MERGE_WIDE_MOST and (held.get(top) or {}).get(first) and looked < 10 * MERGE_FILLS_MOST:
            looked += last - first + 1  # (only a merge whose first cell holds something is filled)
            used.update(c for c in range(first, last + 1) if c not in hidden)
    columns = sorted(used)
    rows = [[(held.get(r) or {}).get(c, "") for c in columns] if r in held else [] for r in range(max(held, default=-1) + 1)]
    kept = []
    for top, first, bottom, last in ranges:
        lo, hi = bisect.bisect_left(columns, first), bisect.bisect_right(columns, last) - 1
        if lo <= hi:
            kept.append((top, lo, bottom, hi))
    return rows, kept


_MERGE_WIDE_MOST = 100


MERGE_FILLS_MOST = 100_000  # the most cells a sheet's merged cells fill (one may merge A1:XFD1048576)
_RANGE = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7}):([A-Za-z]{1,3})([0-9]{1,7})")


def _names_a_merge(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether a sheet's part names a merged cell at all (read in blocks: a sheet with none, most
    of them, is not parsed a second time)."""
    with archive.open(part) as stream:
        tail = b""
        while block := stream.read(1 << 20):
            if b"mergeCell" in tail + block:
                return True
            tail = block[-16:]
    return False


def merged_ranges(archive: zipfile.ZipFile, part: str) -> list[tuple[int, int, int, int]]:
    """A sheet's merged cells as (first row, first column, last row, last column), from 0: read
    from its part with lxml (openpyxl's read-only sheets do not keep them), rows dropped as read;
    none without parsing where the part names no merged cell."""
    from openpyxl.utils.cell import column_index_from_string

    ranges = []
    if not _names_a_merge(archive, part):
        return ranges
    with archive.open(part) as stream:
        for _, element in etree.iterparse(stream, events=("end",), tag=("{*}row", "{*}mergeCell"),
                                          resolve_entities=False, no_network=True):
            if element.tag.endswith("mergeCell") and (found := _RANGE.fullmatch(element.get("ref", ""))):
                a, first, b, last = found.groups()
                try:  # (a column past XFD, Excel's last, is no cell: the range is passed over)
                    rows, columns = (int(first) - 1, int(last) - 1), (column_index_from_string(a.upper()) - 1,
                                                                      column_index_from_string(b.upper()) - 1)
                    ranges.append((min(rows), min(columns), max(rows), max(columns)))  # (a sheet may name a corner first)
                except ValueError:
                    pass
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del element.getparent()[0]
    return ranges


def fill_merged(rows: list[list[str]], ranges) -> int:
    """`rows` with each merged cell's value written in the cells it covers, where they are empty
    (a merge that is its rows' only content, a title block or a note across the sheet, once; a
    value over `SPAN_COPY_MOST` characters leaves them empty; at most `MERGE_FILLS_MOST` cells, and
    ten times as many looked at; `ranges` as `merged_ranges` gives them): the characters written."""
    left, written = MERGE_FILLS_MOST, 0
    width = max(map(len, rows), default=0)
    ranges = list(dict.fromkeys(  # each once as the sheet holds it (clipped to its rows and columns)
        (first, start, min(last, len(rows) - 1), min(end, width - 1)) for first, start, last, end in ranges
        if first < len(rows) and start < len(rows[first]) and rows[first][start]))
    # a merge that is its rows' only content (a title block over two rows, a note across the sheet):
    # written once; told before any is filled, so the order the file lists them in does not matter
    filled = [(min(at), max(at)) if (at := [i for i, cell in enumerate(row) if cell]) else None for row in rows]
    looked = 0  # cells and rows looked at: overlapping ranges (a crafted file lists thousands) are not walked without end
    lone = []
    for first, start, last, end in ranges:
        looked += last - first + 1
        if looked > 10 * MERGE_FILLS_MOST:
            return written
        lone.append(all(f is None or start <= f[0] and f[1] <= end for f in filled[first : last + 1]))
    for (first, start, last, end), alone in zip(ranges, lone):
        value = rows[first][start]
        copy = value if len(value) <= SPAN_COPY_MOST else ""
        if alone:
            continue
        for row in rows[first : last + 1]:
            looked += end - start + 1
            for at in range(start, end + 1):
                if row is not rows[first] or at != start:
                    row.extend([""] * (at + 1 - len(row)))
                    if not row[at]:
                        row[at], left, written = copy, left - 1, written + len(copy) + 3
                        if not left:
                            return written
            if looked > 10 * MERGE_FILLS_MOST:
                return written
    return written


def _cell(cell, date1904: bool) -> str:
    """A cell's value as the sheet shows it (see the module's doc): a date or time that openpyxl
    made of its day number is read back as that number, in the cell's format."""
    value = getattr(cell, "value", None)
    fmt = getattr(cell, "number_format", None) or "General"
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.time):
        value = datetime.timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)
    elif isinstance(value, datetime.date):
        value = day_number(value if isinstance(value, datetime.datetime) else datetime.datetime.combine(value, datetime.time()),
                           date1904)
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds() / 86400
    if isinstance(value, (int, float)):
        return as_shown(float(value), fmt, date1904)
    return str(value)
