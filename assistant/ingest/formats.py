"""Spreadsheet number formats (Excel's codes, as charts and workbooks store them): a number as shown.

`as_shown(number, format)`: a percentage as one ("0.0%": 0.25 is "25.0%"), a date or time as one, in
ISO order and to the precision shown (a day number in "d mmm yy" is "2023-01-01", in "mmm yy"
"2023-01", in "yyyy" "2023"; in "h:mm" 0.5 is "12:00", in "m/d/yyyy h:mm" both, in
"[h]:mm:ss" 1.5 is "36:00:00"), a number in a format of digit places as it shows it: its decimals,
thousands, leading zeros, currency and text around it ("#,##0.00 €": 1234.5 is "1,234.50 €",
"00000": 501 is "00501", "#,##0;(#,##0)": -5 is "(5)"), else as stored without binary noise
(0.30000000000000004 is "0.3"); quoted text, currencies, colours and conditions are no codes.
"""

from __future__ import annotations

import datetime
import re

__all__ = ["as_shown", "day_number"]

_DECIMALS = re.compile(r"\.([0#?]+)")
_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')  # quoted text, [colours, currencies, conditions, locales], escapes, spacing
_SECTIONS = re.compile(r'((?:"[^"]*"|\\.|[^;"\\])*);?')  # a format's sections, split at ";" outside quotes
_PLACES = re.compile(r"[0#?][0#?,.]*")  # the digit places ("#,##0.00")
_DATE = re.compile(r"(?i)y|d|mmm")  # year, day or month-name codes ("m" alone may be minutes)
_TIME = re.compile(r"(?i)h|s|am/pm")
_DAY, _MONTH = re.compile(r"(?i)d"), re.compile(r"(?i)m")  # (in a format of dates without a time, "m" is the month)
_ELAPSED = re.compile(r"(?i)\[h+\]")
_SECONDS = re.compile(r"(?i)s")
_NAMED_FORMATS = {"general", "standard", "@"}
_LAST_DAY = datetime.datetime(9999, 12, 31, 23, 59, 59)


def _codes(fmt: str) -> str:
    """A format's codes for positive numbers, without its quoted text, currencies and colours."""
    return "" if fmt.strip().lower() in _NAMED_FORMATS else _LITERALS.sub("", fmt.split(";")[0])


def day_number(when: datetime.datetime, date1904: bool = False) -> float:
    """A date and time as a spreadsheet stores it: days since its start (1899-12-30, or 1904-01-01)."""
    return (when - _start(date1904)).total_seconds() / 86400


def _start(date1904: bool) -> datetime.datetime:
    return datetime.datetime(1904, 1, 1) if date1904 else datetime.datetime(1899, 12, 30)


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
    if not (dated or timed) and _PLACES.search(codes) and not _unplaced(codes):
        return _placed(number, fmt)
    if (dated or timed) and number >= 0:
        try:
            when = _start(date1904) + datetime.timedelta(days=number)
        except OverflowError:
            return f"{number:.15g}"
        if when > _LAST_DAY:
            return f"{number:.15g}"
        when = when.replace(microsecond=0) + datetime.timedelta(seconds=round(when.microsecond / 1e6))
        clock = when.strftime("%H:%M:%S" if _SECONDS.search(codes) else "%H:%M")
        if dated and not timed and not _DAY.search(codes):  # "mmm yyyy" shows no day: none is made up ("2024-11", "2024")
            return when.strftime("%Y-%m" if _MONTH.search(codes) else "%Y")
        return f"{when.date().isoformat()} {clock}" if dated and timed else when.date().isoformat() if dated else clock
    return f"{number:.15g}"


def _unplaced(codes: str) -> bool:
    """Whether the format is scientific ("0.00E+00") or a fraction ("# ?/?"): shown as stored."""
    return "E+" in codes.upper() or "E-" in codes.upper() or "/" in codes


def _placed(number: float, fmt: str) -> str:
    """`number` in a format of digit places (its section for negative numbers where it has one)."""
    sections = [m.group(1) for m in _SECTIONS.finditer(fmt)][:3]
    section, sign = sections[0], "-" if number < 0 else ""
    if number < 0 and len(sections) > 1 and sections[1].strip():
        section, sign = sections[1], ""
    section = re.sub(r"\[\$([^\]\-]*)[^\]]*\]", lambda m: f'"{m.group(1)}"', section)  # a currency: its symbol
    section = re.sub(r"\[[^\]]*\]|_.|\*.", "", section)  # colours, conditions, spacing, fill
    plain = re.sub(r'"[^"]*"|\\.', lambda m: "\x00" * len(m.group()), section)  # (literals masked to find the places)
    places = _PLACES.search(plain)
    if places is None:
        return f"{number:.15g}"
    before, core, after = section[: places.start()], places.group(), section[places.end():]
    whole, _, fraction = core.partition(".")
    decimals, shown_most = fraction.count("0"), len(fraction.replace(",", ""))
    value = abs(number)
    text = f"{value:,.{shown_most}f}" if "," in whole.strip(",") else f"{value:.{shown_most}f}"
    if shown_most > decimals:  # "#" and "?" places show a digit only where it is not a trailing zero
        head, _, tail = text.partition(".")
        tail = tail[:decimals] + tail[decimals:].rstrip("0")
        text = f"{head}.{tail}" if tail else head
    zeros = whole.replace(",", "").count("0")
    head, dot, tail = text.partition(".")
    if len(head.replace(",", "")) < zeros:
        head = head.replace(",", "").zfill(zeros)
    if head == "0" and zeros == 0 and tail:  # "#.00": no leading zero
        head = ""
    return sign + _literal(before) + head + dot + tail + _literal(after)


def _literal(text: str) -> str:
    """A format's text around its places as shown: quoted text without its quotes, escapes as their character."""
    return re.sub(r'"([^"]*)"|\\(.)', lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
