"""Spreadsheet number formats (Excel's codes, as charts and workbooks store them): a number as shown.

`as_shown(number, format)`: a percentage as one ("0.0%": 0.25 is "25.0%"), a date or time as one (a
day number in "mmm yy" is "2023-01-01", in "h:mm" 0.5 is "12:00", in "m/d/yyyy h:mm" both, in
"[h]:mm:ss" 1.5 is "36:00:00"), any other number as stored without binary noise
(0.30000000000000004 is "0.3"); quoted text, currencies and colours in a format are no codes.
"""

from __future__ import annotations

import datetime
import re

__all__ = ["as_shown"]

_DECIMALS = re.compile(r"\.([0#?]+)")
_LITERALS = re.compile(r'"[^"]*"|\[\$[^\]]*\]|\[(?:Red|Black|Blue|Green|Color\s*\d+|[<>=][^\]]*)\]|\\.|_.|\*.', re.I)
_DATE = re.compile(r"(?i)y|d|mmm")  # year, day or month-name codes ("m" alone may be minutes)
_TIME = re.compile(r"(?i)h|s|am/pm")
_ELAPSED = re.compile(r"(?i)\[h+\]")
_SECONDS = re.compile(r"(?i)s")
_NAMED_FORMATS = {"general", "standard", "@"}
_LAST_DAY = datetime.datetime(9999, 12, 31, 23, 59, 59)


def _codes(fmt: str) -> str:
    """A format's codes for positive numbers, without its quoted text, currencies and colours."""
    return "" if fmt.strip().lower() in _NAMED_FORMATS else _LITERALS.sub("", fmt.split(";")[0])


def as_shown(number: float, fmt: str, date1904: bool = False) -> str:
    """`number` as the format `fmt` shows it: a percentage, a date or time, else the number itself."""
    if number != number or number in (float("inf"), float("-inf")):
        return str(number)
    codes = _codes(fmt)
    if "%" in codes:
        decimals = _DECIMALS.search(codes.split("%")[0])
        return f"{number * 100:.{len(decimals.group(1)) if decimals else 0}f}%"
    dated, timed = bool(_DATE.search(codes)), bool(_TIME.search(codes))
    if _ELAPSED.search(fmt) and number >= 0:  # "[h]:mm": hours past a day
        seconds = round(number * 86400)
        shown = f"{seconds // 3600}:{seconds % 3600 // 60:02d}"
        return shown + (f":{seconds % 60:02d}" if _SECONDS.search(codes) else "")
    if (dated or timed) and number >= 0:
        start = datetime.datetime(1904, 1, 1) if date1904 else datetime.datetime(1899, 12, 30)
        try:
            when = start + datetime.timedelta(days=number)
        except OverflowError:
            return f"{number:.15g}"
        if when > _LAST_DAY:
            return f"{number:.15g}"
        when = when.replace(microsecond=0) + datetime.timedelta(seconds=round(when.microsecond / 1e6))
        clock = when.strftime("%H:%M:%S" if _SECONDS.search(codes) else "%H:%M")
        return f"{when.date().isoformat()} {clock}" if dated and timed else when.date().isoformat() if dated else clock
    return f"{number:.15g}"
