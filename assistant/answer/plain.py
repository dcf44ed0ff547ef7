"""The question as a reader sees it: what was typed around its words removed.

A question pasted with markup reads as its words alone: HTML (tags, and scripts or styles with
their content, as a browser shows it), Markdown (emphasis, code, a quote or heading marker;
rendered by markdown-it-py, then read as HTML; a link reads as its text), the run of question
or exclamation marks that ends it ("???!" is "?", "!?" is "?"), and quotes around the whole
question. Without this, a
question in bold was refused where the same words were answered. Markdown only loses its markup,
never a word: where rendering would join or drop words ("5*3*4" is not emphasis), the question
keeps its Markdown. A question typed without a mark at its end (its last character a letter or
digit) is read with "?", as the answer model was trained to read questions: "price" and "price?"
had been given different answers. Greetings, thanks and acknowledgements before or after the
question are not read either (`answer/smalltalk.py`). The question is read in one Unicode form,
NFKC, as keyword search reads words: full-width letters ("ｏｖｅｒｔｉｍｅ", as an East Asian input
method types them) and styled ones ("𝐨𝐯𝐞𝐫𝐭𝐢𝐦𝐞", pasted from social media) as plain letters, which
the embedder and the answer model had read as unknown tokens (a question refused, or answered
from another document). A terminal's colour codes ("\x1b[31m") pasted with it are not read either,
nor a word or run of words said five times or more in a row, past its first ("a a a a a …" had been
answered with confidence).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from assistant.answer.smalltalk import without_social

_MARKDOWN = re.compile(r"[*_`#>]|^\s*[-+]\s")
_LINK_START = re.compile(r"(?<![\w\]])!?\[([^\[\]]+)\]\(")  # "[text](" or "![alt](", not "arr[i]("
_LINK_LONGEST = 500  # characters a link's "(address "title")" may take (bounds the scan of a long question)
_LINK_TARGET = re.compile(r"""\s*\S*(?:\s+(?:"[^"]*"|'[^']*'|\([^()]*\)))?\s*""")  # an address, then maybe a title
_MARKS = re.compile(r"[?!]{2,}$")  # the run that ends the question
_QUOTES = {'"': '"', "“": "”", "'": "'", "‘": "’", "«": "»", "„": "“"}
_WORDS = re.compile(r"\w+")
# A terminal's colour and cursor codes ("\x1b[1;31m"), pasted with a question from a coloured prompt
_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def plain_question(question: str) -> str:
    """`question` without the markup and symbols around its words (see the module docstring);
    the question itself when nothing is left."""
    from assistant.ingest.documents import HTML_TAG, html_visible_text

    plain = _links_as_text(unicodedata.normalize("NFKC", _TERMINAL_CODES.sub("", question)))
    if HTML_TAG.search(plain):
        plain = " ".join(html_visible_text(plain, marks=False).split()) or plain
    if _MARKDOWN.search(plain):
        rendered = " ".join(html_visible_text(_markdown().render(plain), marks=False).split())
        if rendered and _WORDS.findall(rendered) == _WORDS.findall(plain):
            plain = rendered
    plain = without_social(_without_repeats(plain.strip()))
    plain = _MARKS.sub(lambda run: "?" if "?" in run.group() else "!", plain)
    if len(plain) > 2 and _QUOTES.get(plain[0]) == plain[-1] and plain[0] not in plain[1:-1] and plain[-1] not in plain[1:-1]:
        plain = plain[1:-1].strip()
    if plain and plain[-1].isalnum():
        plain += "?"
    return plain or question


# a run of up to 4 words said 5 times or more in a row is read once ("Is the PIN 1 1 1 1?", "the song
# 'Yeah Yeah Yeah'" and "A, A, A, B" are questions as asked)
REPEATS_LEAST, REPEAT_WORDS_MOST = 5, 4


def _without_repeats(question: str) -> str:
    """`question` with a word, or a run of up to REPEAT_WORDS_MOST words, that it says
    REPEATS_LEAST times or more in a row read once ("a a a a a …", "x y z x y z …"): such a
    question had been answered with confidence (0.83 for "a" a hundred times), where the same
    words once are refused."""
    words = question.split()
    keys = [w.strip(".,;:!?¿¡\"'“”‘’()[]").lower() for w in words]
    if len(words) < REPEATS_LEAST:
        return question
    out, i, changed = [], 0, False
    while i < len(words):
        for width in range(1, REPEAT_WORDS_MOST + 1):
            run = keys[i:i + width]
            times = 1
            while keys[i + times * width: i + (times + 1) * width] == run and len(run) == width:
                times += 1
            if times >= REPEATS_LEAST and any(run):
                out += words[i:i + width]  # the first, as written
                i += times * width
                changed = True
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out) if changed else question


def _links_as_text(text: str) -> str:
    """Markdown links and images, `[text](address "title")`, as their text: the address and
    title are not words of the question (even a javascript: one, which a renderer leaves as typed).
    The parenthesis is matched by counting, so "alert((1))" is one address."""
    out, at = [], 0
    for found in _LINK_START.finditer(text):
        if found.start() < at:
            continue
        if text.find(")", found.end()) < 0:
            break  # no parenthesis closes any more
        depth, end = 1, found.end()
        while end < len(text) and depth and end - found.end() < _LINK_LONGEST:
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        if depth or not _LINK_TARGET.fullmatch(text[found.end() : end - 1]):
            continue  # never closed, or not an address: not a link
        out.append(text[at : found.start()] + found.group(1))
        at = end
    return "".join(out) + text[at:]


@lru_cache(maxsize=1)
def _markdown():
    """One CommonMark renderer for the process (building one sets up all its rules)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")
