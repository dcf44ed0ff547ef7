"""Charts of Office documents (a chart part, `c:chartSpace`): their title and their figures as tables.

A chart keeps a copy of the figures it draws (its caches), so they are read from the chart part
itself, not from the workbook beside it: each point a row and each series a column ("| Quarter
| 2023 | 2024 |" over "| Q1 | 10% | 12% |"), the header the category axis's title (or nothing) and
the series' names ("Series n" for one without a name; a bubble chart's sizes a column of their
own), as Markdown writes a table with a header. A category of several levels reads all of them
("2023 Q1"); points are rows by their place, so a label that repeats keeps its figures. Series
whose categories differ (a scatter chart's x values, its categories) make a table each. Values
read as the chart shows them where its number format is a percentage (0.25 in "0%" is "25%"), a
date or time (a day number in "mmm yy" is "2023-01-01", in "h:mm" 0.5 is "12:00", in "[h]:mm"
1.5 is "36:00"), else as stored, without binary noise (0.30000000000000004 is "0.3").
"""

from __future__ import annotations

import re

from assistant.ingest.formats import as_shown
from assistant.ingest.sentences import HEADER_LINE, table_cell, table_row

__all__ = ["CHART", "STRICT_CHART", "STRICT_NAMES", "chart_tables"]

CHART = "http://schemas.openxmlformats.org/drawingml/2006/chart"
STRICT_CHART = b"http://purl.oclc.org/ooxml/drawingml/chart"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
STRICT_NAMES = {STRICT_CHART: CHART.encode(), b"http://purl.oclc.org/ooxml/drawingml/main": _A.encode()}  # Strict Open XML's


def _c(name: str) -> str:
    return f"{{{CHART}}}{name}"


def chart_tables(space) -> tuple[str, list[list[str]]]:
    """A parsed chart part's title ("" when none) and its figures as Markdown tables, each a list
    of lines (none when it holds no series)."""
    chart = space.find(_c("chart"))
    if chart is None:
        return "", []
    flag = space.find(_c("date1904"))
    date1904 = flag is not None and flag.get("val", "1") in ("1", "true")
    title = _title(chart.find(_c("title")))
    area = chart.find(_c("plotArea"))
    if area is None:
        return title, []
    groups: list[tuple[dict[int, str], list[tuple[str, dict[int, str]]]]] = []  # (labels, [(series name, values)])
    count = 0
    for ser in area.iter(_c("ser")):
        labels = _points(_first(ser, "cat", "xVal"), date1904)
        values = _points(_first(ser, "val", "yVal"), date1904)
        if not values:
            continue
        count += 1
        name = _title(ser) or f"Series {count}"
        columns = [(name, values)]
        if (sizes := _points(ser.find(_c("bubbleSize")), date1904)):
            columns.append((f"{name} (size)", sizes))
        same = next((g for g in groups if g[0] == labels or not labels), None)
        if same is None:
            groups.append((labels, columns))
        else:
            same[1].extend(columns)
    axis = next((a for a in (*area.findall(_c("catAx")), *area.findall(_c("dateAx"))) if a.find(_c("title")) is not None), None)
    corner = _title(axis.find(_c("title"))) if axis is not None else ""
    tables = []
    for labels, columns in groups:
        places = sorted(set(labels).union(*(values for _, values in columns)))
        rows = [table_row([corner, *(name for name, _ in columns)]), HEADER_LINE]
        rows += [table_row([labels.get(i, str(i + 1)), *(values.get(i, "") for _, values in columns)]) for i in places]
        tables.append(rows)
    return title, tables


def _first(ser, *names: str):
    return next((found for name in names if (found := ser.find(_c(name))) is not None), None)


def _title(holder) -> str:
    """The text of a title or series name (`c:tx`: rich text, its runs as one word where they
    meet, or the cached text of a cell)."""
    text = holder.find(_c("tx")) if holder is not None else None
    if text is None:
        return ""
    rich = text.find(_c("rich"))
    if rich is not None:
        return " ".join(" ".join("".join(t.text or "" for t in p.iter(f"{{{_A}}}t")).split()) for p in rich.iter(f"{{{_A}}}p")).strip()
    return " ".join(" ".join(v.text or "" for v in text.iter(_c("v"))).split())


def _points(data, date1904: bool) -> dict[int, str]:
    """A series' categories or values by point index, from the cache of its cells (or its literal
    values), each as the chart shows it; a category of several levels as all of them, the outer
    first ("2023 Q1")."""
    if data is None:
        return {}
    cache = next((node for node in data.iter() if node.tag in (_c("strCache"), _c("numCache"), _c("strLit"), _c("numLit"),
                                                              _c("multiLvlStrCache"))), None)
    if cache is None:
        return {}
    if cache.tag == _c("multiLvlStrCache"):
        levels = [_cached(level, False, date1904) for level in cache.findall(_c("lvl"))]  # the innermost first
        if not levels:
            return {}
        found = dict(levels[0])
        for outer in levels[1:]:  # a group's label stands at its first point and holds until the next
            starts = sorted(outer)
            for i in found:
                at = next((s for s in reversed(starts) if s <= i), None)
                if at is not None:
                    found[i] = f"{outer[at]} {found[i]}"
        return found
    return _cached(cache, cache.tag in (_c("numCache"), _c("numLit")), date1904)


def _cached(cache, numbers: bool, date1904: bool) -> dict[int, str]:
    fmt = cache.findtext(_c("formatCode")) or ""
    found = {}
    for point in cache.findall(_c("pt")):
        try:
            index = int(point.get("idx", ""))
        except ValueError:
            continue
        value = point.findtext(_c("v"))
        if value is not None and value.strip():
            found[index] = _number(value.strip(), point.get("formatCode") or fmt, date1904) if numbers else table_cell(value)
    return found


def _number(value: str, fmt: str, date1904: bool) -> str:
    try:
        return as_shown(float(value), fmt, date1904)
    except ValueError:
        return table_cell(value)
