"""Synthetic table questions: training groups for a model that reads a table's row (train.py `--tables N`).

The training data (reviews and forum posts) holds no table, and 1% of its questions hold a number:
the model reads a row, "Model: Altavia 250; Weight (kg): 17.8; Price: €1,890", without having
learned that the row a question names, or the row holding the value it gives, is the one that
answers, and that a row of a near-namesake ("Altavia 350" asked, "Altavia 250" in the table) does
not. Each synthetic table has a key column (months, quarters, years, model names with numbers,
versions, people, plans: rows that differ by a digit or a word) and value columns of
numbers in their formats (thousands, decimals, currencies, percentages, times, dates) or words,
and is read as the product reads a table row (`extractive.as_table_row`: each cell after its
column's name, after the sentence above the table; `answer_model.pair_text`). Per table, three
groups (train.py's listwise loss with the "none of these" option):

- a row question ("What was the weight of the Altavia 250?"): its row the answer, 4 other rows not;
- a value question ("Which model weighs 17.8 kg?"), where the value is in one row only: that row
  the answer, the others not;
- a question no row answers: a key that is not in the table (a near-namesake of one that is, or a
  period after the last), or a column the table lacks, read against 5 of its rows.

Every word list and template here is generic and invented; nothing is taken from an evaluation set.
"""

from __future__ import annotations

import random

from assistant.answer.extractive import named_cells
from assistant.answer.model import pair_text

_BRANDS = ["Altavia", "Brenmoor", "Corvex", "Dunlow", "Elmstead", "Farrow", "Galden", "Halvor", "Istra", "Jorvik",
           "Kelmar", "Lunden", "Marrow", "Norvale", "Orwen", "Pellin", "Quarry", "Rosk", "Selden", "Tarvin"]
_FIRST = ["Anna", "Ben", "Carla", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Lars", "Maya",
          "Nils", "Olga", "Pavel", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wim", "Yara", "Zofia"]
_LAST = ["Adler", "Berg", "Costa", "Dahl", "Evans", "Falk", "Grant", "Hale", "Ivers", "Janssen", "Klein", "Lund",
         "Moreau", "Nagy", "Olsen", "Petrov", "Quinn", "Rossi", "Strand", "Torres", "Ulrich", "Varga", "Weiss"]
_PLACES = ["North", "South", "East", "West", "Upper", "Lower", "Old", "New", "Central", "Harbour", "River", "Hill"]
_SITES = ["Depot", "Station", "Branch", "Plant", "Campus", "Yard", "Office", "Store", "Clinic", "Warehouse"]
_TIERS = ["Basic", "Basic Plus", "Standard", "Standard Plus", "Premium", "Premium Plus", "Pro", "Pro Max", "Starter", "Family"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_WORDS = ["red", "blue", "green", "grey", "black", "white", "silver", "amber", "steel", "oak", "glass", "stone"]
_TOPICS = ["figures for each period", "results of the last season", "models in the current range", "sites and their figures",
           "members of the team", "plans on offer", "releases so far", "entries in the register", "main figures"]

# key kinds: (column name, what a row is called in a question, how to make n keys in order, a near-namesake not among them)


def _periods(rng: random.Random, n: int) -> tuple[list[str], str]:
    kind = rng.choice(["month", "quarter", "year"])
    year = rng.randint(2015, 2026)
    if kind == "month":
        first = rng.randint(0, 12 - min(n, 12))
        keys = [f"{_MONTHS[first + i]} {year}" for i in range(min(n, 12))]
        missing = f"{_MONTHS[(first + len(keys)) % 12]} {year + (first + len(keys)) // 12}"
    elif kind == "quarter":
        keys = [f"Q{(i % 4) + 1} {year + i // 4}" for i in range(n)]
        missing = f"Q{(n % 4) + 1} {year + n // 4}"
    else:
        keys = [str(year - n + 1 + i) for i in range(n)]
        missing = str(year + 1)
    return keys, missing


def _models(rng: random.Random, n: int) -> tuple[list[str], str]:
    brand = rng.choice(_BRANDS)
    step = rng.choice([50, 100, 10])
    base = rng.randint(1, 5) * step
    numbers = sorted(rng.sample(range(base, base + step * (n + 4), step), n))
    keys = [f"{brand} {x}" + (rng.choice(["X", "S", " Plus", " Pro"]) if rng.random() < 0.25 else "") for x in numbers]
    keys = list(dict.fromkeys(keys))
    free = [x for x in range(base, base + step * (n + 6), step) if f"{brand} {x}" not in keys]
    return keys, f"{brand} {rng.choice(free)}"


def _versions(rng: random.Random, n: int) -> tuple[list[str], str]:
    major, keys = rng.randint(1, 5), []
    minor = 0
    for _ in range(n):
        keys.append(f"v{major}.{minor}")
        if rng.random() < 0.3:
            major, minor = major + 1, 0
        else:
            minor += 1
    return keys, f"v{major}.{minor + 1}"


def _people(rng: random.Random, n: int) -> tuple[list[str], str]:
    names = list(dict.fromkeys(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(n * 3)))[:n]
    while True:
        other = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if other not in names:
            return names, other


def _sites(rng: random.Random, n: int) -> tuple[list[str], str]:
    site = rng.choice(_SITES)
    places = rng.sample(_PLACES, min(n + 1, len(_PLACES)))
    return [f"{p} {site}" for p in places[:n]], f"{places[-1]} {site}"


def _tiers(rng: random.Random, n: int) -> tuple[list[str], str]:
    tiers = rng.sample(_TIERS, min(n + 1, len(_TIERS)))
    return tiers[:n], tiers[-1]


_KEYS = [("Period", "period", _periods), ("Model", "model", _models), ("Version", "version", _versions),
         ("Name", "person", _people), ("Site", "site", _sites), ("Plan", "plan", _tiers)]


# value columns: (column name, how a question names it, a value maker)
_COLUMNS = [
    ("Revenue (k€)", "revenue", lambda r: f"{r.randint(1000, 99999):,}"),
    ("Visitors", "number of visitors", lambda r: f"{r.randint(1000, 99999):,}"),
    ("Output (MWh)", "output", lambda r: f"{r.randint(1000, 99999):,}"),
    ("Weight (kg)", "weight", lambda r: f"{r.uniform(1, 99):.1f}"),
    ("Rating", "rating", lambda r: f"{r.uniform(1, 99):.1f}"),
    ("Price", "price", lambda r: f"€{r.randint(5, 9999):,}"),
    ("Fee", "fee", lambda r: f"£{r.randint(2, 400)}.{r.choice(['00', '50', '95', '99'])}"),
    ("Share", "share", lambda r: f"{r.uniform(1, 99):.1f}%"),
    ("Growth", "growth", lambda r: f"{r.uniform(1, 99):.1f}%"),
    ("Time", "time", lambda r: f"{r.randint(0, 3)}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"),
    ("Departure", "departure time", lambda r: f"{r.randint(5, 23):02d}:{r.choice(['00', '05', '15', '25', '30', '45', '50'])}"),
    ("Staff", "number of staff", lambda r: str(r.randint(2, 900))),
    ("Units sold", "number of units sold", lambda r: str(r.randint(2, 900))),
    ("Opened", "opening date", lambda r: f"{r.randint(1, 28)} {r.choice(_MONTHS)} {r.randint(2010, 2026)}"),
    ("Manager", "manager", lambda r: f"{r.choice(_FIRST)} {r.choice(_LAST)}"),
    ("Colour", "colour", lambda r: r.choice(_WORDS)),
    ("Volume (t)", "volume", lambda r: f"{r.randint(1000, 99999):,}"),
]
_UNUSED = ["warranty", "height", "address", "closing date", "profit margin", "founder", "speed", "capacity", "age"]

_ROW_ASKED = ["What is the {phrase} of {key}?", "What was the {phrase} for {key}?", "What {phrase} does {key} have?",
              "Tell me the {phrase} of {key}.", "{key}: what is its {phrase}?", "What was {key}'s {phrase}?"]
_VALUE_ASKED = ["Which {name} has a {phrase} of {value}?", "Which {name} had {value} as its {phrase}?",
                "What {name} shows {value} for {phrase}?", "Which {name} is listed with {value}?"]


def table(rng: random.Random) -> tuple[str, list[str], list[list[str]], str, str, list[tuple[str, str]]]:
    """A synthetic table: its key column's name, what a row is called, its header, its rows, a
    near-namesake key that is not in it, the sentence above it, and its columns (name, phrase)."""
    key_name, called, make = rng.choice(_KEYS)
    keys, missing = make(rng, rng.randint(4, 9))
    columns = rng.sample(_COLUMNS, rng.randint(2, 4))
    rows = [[key] + [value(rng) for _, _, value in columns] for key in keys]
    before = f"The table below lists the {rng.choice(_TOPICS)}."
    return key_name, called, rows, missing, before, [(name, phrase) for name, phrase, _ in columns]


def _read(header: list[str], row: list[str], before: str) -> str:
    return pair_text("; ".join(part for _, part in named_cells(header, row)), before)


def table_groups(count: int, seed: int = 0) -> list[tuple[str, str, float, str]]:
    """(question, text, label, group) for `count` synthetic tables: a row question, a value
    question and a question no row answers each (see the module's doc)."""
    rng = random.Random(seed + 7)
    out = []
    for t in range(count):
        key_name, called, rows, missing, before, columns = table(rng)
        header = [key_name] + [name for name, _ in columns]
        read = [_read(header, row, before) for row in rows]
        # a row question: its row against up to 4 others, the nearest first (rows next to it)
        r, c = rng.randrange(len(rows)), rng.randrange(len(columns))
        others = sorted((i for i in range(len(rows)) if i != r), key=lambda i: abs(i - r))[:4]
        asked = rng.choice(_ROW_ASKED).format(phrase=columns[c][1], key=rows[r][0])
        out.append((asked, read[r], 1.0, f"tbl{t}:row"))
        out.extend((asked, read[i], 0.0, f"tbl{t}:row") for i in others)
        # a value question, where the value is in one row only
        c = rng.randrange(len(columns))
        values = [row[c + 1] for row in rows]
        r = rng.randrange(len(rows))
        if values.count(values[r]) == 1:
            asked = rng.choice(_VALUE_ASKED).format(name=called, phrase=columns[c][1], value=values[r])
            others = [i for i in range(len(rows)) if i != r][:5]
            out.append((asked, read[r], 1.0, f"tbl{t}:value"))
            out.extend((asked, read[i], 0.0, f"tbl{t}:value") for i in others)
        # a question no row answers: a key not in the table, or a column it lacks
        if rng.random() < 0.6:
            asked = rng.choice(_ROW_ASKED).format(phrase=rng.choice(columns)[1], key=missing)
        else:
            asked = rng.choice(_ROW_ASKED).format(phrase=rng.choice(_UNUSED), key=rng.choice(rows)[0])
        out.extend((asked, read[i], 0.0, f"tbl{t}:x-none") for i in rng.sample(range(len(rows)), min(5, len(rows))))
    return out
