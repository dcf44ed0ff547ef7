"""The numbers a question states, and whether a passage states them too.

A question that states a figure, a year, a rank or a model number ("Who won the 55-59 category?",
"What did it cost in 2026?", "How much is the Fold 350?") asks about that one. A passage that never
states it may say the same of another year or model, and the answer model, reading for the topic,
finds it answering all the same. So a candidate sentence whose passage, and what the model read of
it, do not state every number the question states cannot answer it (`extractive.candidates` keeps a
tenth of its probability: it stays related reading, not the answer). The document's opening passage
counts for all its passages: there a news story's dateline, release notes' version or a manual's
model says what the whole document is about.

Numbers are compared as values: "2,500" is 2500, "11th" 11, "2:04:09" the numbers 2, 4 and 9, and
a passage's number words ("three", "eleventh", "twenty-five"), month names (March for the 3 of
2022-03-05) and "1.5 million" count as theirs. A decade ("the 1990s", "1990's") is stated by any
year in it; one without its century ("the '90s") requires nothing. A number after a word that
bounds or rounds it ("more than 100", "over $5", "about 30", "between 2010 and 2015") is not
required: the passage may state another that meets it; nor is one that counts the things asked
for ("What 2 other appliances…?", "Which are the top 5…?"): the passage names them and need not
say how many.
"""

from __future__ import annotations

import re
from functools import lru_cache

_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_ORDINALS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
             "fifteenth sixteenth seventeenth eighteenth nineteenth").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_TENTHS = "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()
WORDS = {w: i for i, w in enumerate(_UNITS)} | {w: i for i, w in enumerate(_ORDINALS) if i}
WORDS |= {w: 20 + 10 * i for i, w in enumerate(_TENS)} | {w: 20 + 10 * i for i, w in enumerate(_TENTHS)}
WORDS |= {"hundred": 100, "hundredth": 100, "thousand": 1000, "thousandth": 1000, "dozen": 12}
# "twenty-five", "thirty first": the tens and the unit make one number
_COMPOUND = re.compile(rf"\b({'|'.join(_TENS)})[-\s]({'|'.join(_UNITS[1:10] + _ORDINALS[1:10])})\b")
_WORD = re.compile(r"[a-z]+")
# a run of digits (up to 18: a longer one is no figure anyone asks about) with its thousands' commas
_NUMBER = re.compile(r"(?<!\d)\d{1,18}(?:,\d{3}){0,6}(?!\d)")
_DECADE = re.compile(r"\b(\d{3}0)['’]?s\b")  # "1990s", "1990's"
# "'90s", "80s": which century is not said, so nothing is required
_SHORT_DECADE = re.compile(r"(?<![\d'’])['’]?(\d0)['’]?s\b")
_MONTHS = "january february march april may june july august september october november december".split()
_SCALED = re.compile(r"(?<![\d.])(\d{1,15}(?:\.\d{1,6})?)\s*(thousand|million|billion)\b", re.I)
_SCALE = {"thousand": 10**3, "million": 10**6, "billion": 10**9}
_PUNCTUATION = "\"'“”‘’()[]{}?!.,;:"
_CURRENCY = r"[$€£¥]?\s?"
# a number after one of these is a bound or a round figure, not the one asked about
_BOUNDED = re.compile(
    r"\b(?:(?:more|less|fewer|greater|higher|lower|larger|smaller|bigger|longer|shorter|older|younger|later|earlier)\s+than"
    r"|over|under|above|below|beyond|exceeding|at\s+(?:least|most)|up\s+to|(?<!what\s)(?<!how\s)about|around|approximately"
    r"|roughly|nearly|almost"
    rf"|some|within)\s+{_CURRENCY}(\d+(?:,\d{{3}})*)(?!\d)", re.I)
# a number right after the asking word counts the things asked for ("What 2 other appliances…?", "Which are the
# top 5 …?"): the passage names them and need not say how many (1 to 99, a word of its own: "What was the 2019
# revenue?" keeps its year, "Which 5G bands?" its 5)
_COUNTED = re.compile(r"\b(?:what|which|name|list)\s+(?:(?:are|were)\s+)?(?:the\s+)?(?:top\s+|first\s+|last\s+)?(\d{1,2})(?=\s|[?!]|[.,](?!\d)|$)", re.I)
_BETWEEN = re.compile(rf"\bbetween\s+{_CURRENCY}(\d+(?:,\d{{3}})*)(?!\d).{{0,20}}?\band\s+{_CURRENCY}(\d+(?:,\d{{3}})*)(?!\d)", re.I)


def _value(digits: str) -> int:
    return int(digits.replace(",", ""))


def stated(question: str) -> tuple[tuple[int, int], ...]:
    """What the question's numbers require of a passage, each as a range of values of which the
    passage must state one: (n, n) for a number n, (1990, 1999) for "the 1990s"; numbers that
    only bound or round ("more than 100") require nothing."""
    return tuple(dict.fromkeys(needed for needed, _ in _required(question)))


def _required(question: str) -> list[tuple[tuple[int, int], str]]:
    """Each required range (see `stated`) with the number as the question writes it."""
    exempt = {m.start(1) for pattern in (_BOUNDED, _COUNTED, _SHORT_DECADE) for m in pattern.finditer(question)}
    exempt |= {m.start(g) for m in _BETWEEN.finditer(question) for g in (1, 2)}
    decades = {m.start(1): _value(m.group(1)) for m in _DECADE.finditer(question)}
    required = []
    for m in _NUMBER.finditer(question):
        if m.start() in exempt:
            continue
        low = decades.get(m.start(), _value(m.group()))
        required.append(((low, low + 9) if m.start() in decades else (low, low), _written(question, m.start(), m.end())))
    return required


def _written(text: str, start: int, end: int) -> str:
    """The word holding text[start:end] ("$1.5" for the 1 of "$1.5 billion?"), without the
    punctuation around it: how a refusal names the number."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end].strip(_PUNCTUATION)


@lru_cache(maxsize=1024)  # a question's candidates share passages, titles and openings: each is read once
def values(text: str) -> frozenset[int]:
    """Every number `text` states: its digit runs, its number words, a month's number where it
    names the month, and "1.5 million" as 1500000, as values."""
    found = {_value(m.group()) for m in _NUMBER.finditer(text)}
    lower = text.lower()
    found |= {WORDS[w] for w in _WORD.findall(lower) if w in WORDS}
    found |= {WORDS[tens] + WORDS[unit] for tens, unit in _COMPOUND.findall(lower)}
    found |= {i + 1 for i, month in enumerate(_MONTHS) if month in lower}  # "5 March 2022" states the 3 of 2022-03-05 (leniently: "may")
    found |= {round(float(n) * _SCALE[scale.lower()]) for n, scale in _SCALED.findall(text)}  # "1.5 million" is 1500000
    return frozenset(found)


def _met(needed: tuple[int, int], have) -> bool:
    low, high = needed
    return any(low <= v <= high for v in have)


def _values_of(texts) -> frozenset[int]:
    return frozenset().union(*(values(t) for t in texts))


def unstated(required: tuple[tuple[int, int], ...], *texts: str) -> bool:
    """Whether some number the question requires (`stated`) is stated in none of `texts`."""
    if not required:
        return False
    have = _values_of(texts)
    return not all(_met(needed, have) for needed in required)


def missing(question: str, texts) -> list[str]:
    """The numbers `question` states (as it writes them) that none of `texts` states: what a
    refusal can name ("No passage found states 2005.")."""
    have = _values_of(texts)
    named: dict[tuple[int, int], str] = {}  # "1000" and "1,000" are one number: named once
    for needed, written in _required(question):
        if needed not in named and not _met(needed, have):
            named[needed] = written
    return list(dict.fromkeys(named.values()))
