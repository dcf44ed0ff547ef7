"""Charts of Office documents (a chart part, `c:chartSpace`): their title and their figures as a table.

A chart keeps a copy of the figures it draws (its caches), so they are read from the chart part
itself, not from the workbook beside it: each category a row and each series a column ("| Quarter
| 2023 | 2024 |" over "| Q1 | 10% | 12% |"), the header the category axis's title (or nothing) and
the series' names ("Series n" for one without a name), as Markdown writes a table with a header.
A scatter chart's x values are its categories. Values read as the chart shows them where its
number format is a percentage (0.25 in "0%" is "25%") or a date (a day number in "mmm yy" is
"2023-01-01"), else as stored, without binary noise (0.30000000000000004 is "0.3").
"""

from __future__ import annotations

import datetime
import re

from assistant.ingest.sentences import HEADER_LINE, table_row

__all__ = ["CHART", "STRICT_CHART", "STRICT_NAMES", "chart_table"]

CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
STRICT_CHART = b"http://purl.oclc.org/ooxml/drawingml/chart"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
STRICT_NAMES = {STRICT_CHART: CHART.encode(), b"http://purl.oclc.org/ooxml/drawingml/main": _A.encode()}  # Strict Open XML's
_PERCENT = re.compile(r'(?<!\\)%(?=(?:[^"]*"[^"]*")*[^"]*$)')  # a % outside quotes, not escaped
_DECIMALS = re.compile(r"\.([0#?]+)")
_DATE = re.compile(r"(?i)y|d|mmm")  # year, day or month-name codes ("m" alone may be minutes)
_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')  # a format's quoted text, [codes] and escaped characters


def _c(name: str) -> str:
    return f"{{{CHART}}}{name}"


def chart_table(space) -> tuple[str, list[str]]:
    """A parsed chart part's title ("" when none) and its figures as Markdown table lines (none
    when it holds no series)."""
    chart = space.find(_c("chart"))
    if chart is None:
        return "", []
    date1904 = (space.find(_c("date1904")) is not None and space.find(_c("date1904")).get("val", "1") in ("1", "true"))
    title = _title(chart.find(_c("title")))
    area = chart.find(_c("plotArea"))
    if area is None:
        return title, []
    categories: dict[str, None] = {}  # in order, every series' own
    series: list[tuple[str, dict[str, str]]] = []
    for ser in area.iter(_c("ser")):
        labels = _points(ser.find(_c("cat")) if ser.find(_c("cat")) is not None else ser.find(_c("xVal")), date1904)
        values = _points(ser.find(_c("val")) if ser.find(_c("val")) is not None else ser.find(_c("yVal")), date1904)
        if not values:
            continue
        named = {labels.get(i, str(i + 1)): value for i, value in values.items()}
        categories.update(dict.fromkeys(labels.get(i, str(i + 1)) for i in sorted(set(labels) | set(values))))
        series.append((_title(ser) or f"Series {len(series) + 1}", named))
    if not series:
        return title, []
    axis = next((a for a in (*area.findall(_c("catAx")), *area.findall(_c("dateAx"))) if a.find(_c("title")) is not None), None)
    rows = [table_row([_title(axis.find(_c("title"))) if axis is not None else "", *(name for name, _ in series)]), HEADER_LINE]
    rows += [table_row([category, *(values.get(category, "") for _, values in series)]) for category in categories]
    return title, rows


def _title(holder) -> str:
    """The text of a title or series name (`c:tx`: rich text, or the cached text of a cell)."""
    text = holder.find(_c("tx")) if holder is not None else None
    if text is None:
        return ""
    rich = text.find(_c("rich"))
    if rich is not None:
        return " ".join(" ".join("".join(run.itertext()) for run in p.iter(f"{{{_A}}}t")) for p in rich.iter(f"{{{_A}}}p")).strip()
    cached = [v.text or "" for v in text.iter(_c("v"))]
    return " ".join(" ".join(cached).split())


def _points(data, date1904: bool) -> dict[int, str]:
    """A series' categories or values by point index, from the cache of its cells (or its literal
    values), each as the chart shows it; a multi-level category's innermost level."""
    if data is None:
        return {}
    cache = next((node for node in data.iter() if node.tag in (_c("strCache"), _c("numCache"), _c("strLit"), _c("numLit"),
                                                              _c("multiLvlStrCache"))), None)
    if cache is None:
        return {}
    if cache.tag == _c("multiLvlStrCache"):
        cache = cache.find(_c("lvl"))
        if cache is None:
            return {}
    fmt = cache.findtext(_c("formatCode")) or ""
    found = {}
    for point in cache.findall(_c("pt")):
        try:
            index = int(point.get("idx", ""))
        except ValueError:
            continue
        value = point.findtext(_c("v"))
        if value is not None and value.strip():
            found[index] = _shown(value.strip(), point.get("formatCode") or fmt, date1904) if cache.tag in (
                _c("numCache"), _c("numLit")) else " ".join(value.split()).replace("|", "/")
    return found


def _shown(value: str, fmt: str, date1904: bool) -> str:
    """A cached number as its format shows it: a percentage, a date, else the number itself."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number != number or number in (float("inf"), float("-inf")):
        return value
    if _PERCENT.search(fmt):
        decimals = _DECIMALS.search(fmt.split("%")[0])
        return f"{number * 100:.{len(decimals.group(1)) if decimals else 0}f}%"
    if _DATE.search(_LITERALS.sub("", fmt)) and 0 <= number < 2958466:  # Excel's days (to 9999-12-31)
        start = datetime.date(1904, 1, 1) if date1904 else datetime.date(1899, 12, 30)
        return (start + datetime.timedelta(days=int(number))).isoformat()
    return f"{number:.15g}"
