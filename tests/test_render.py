"""HTML rendering of answers and passages (`assistant/interfaces/render.py`): document text, file names and
model output are inert text; quotes are highlighted; markers link to their sources; a refusal
looks like one. Pure functions, no server, no model."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pytest

from assistant.interfaces import render
from assistant.answer.types import Answer, Citation
from assistant.store.snapshot import FileEntry
from assistant.answer.prompts import NO_ANSWER, RELATED_HEADING
from assistant.search.retrieval import Hit

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
MD_IMAGE = "![x](http://example.com/x.png)"
PAYLOADS = (SCRIPT, IMG, MD_IMAGE)
# Tags render.py itself writes; anything else in its output would have come from the data.
OWN_TAGS = {"div", "span", "a", "details", "summary", "mark", "table", "thead", "tbody", "tr", "th", "td", "p", "pre", "code"}


class _Tags(HTMLParser):
    """Collects the tags and attributes of an HTML fragment, and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(fragment: str) -> _Tags:
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    return parser


def hit(text: str, start: int = 100, source: str = "docs/article.txt", page=None, position: int = 2) -> Hit:
    return Hit(text=text, source=source, start=start, end=start + len(text), page=page, score=0.9,
               label=f"{source.rsplit('/', 1)[-1]} ¶{position + 1}", chunk_id="c1", position=position, title="T")


def cite(n: int, h: Hit, quote: str) -> Citation:
    offset = h.text.index(quote)
    return Citation(n=n, hit=h, quote=quote, quote_start=h.start + offset, quote_end=h.start + offset + len(quote))


def answer(text: str, citations=(), abstained=False, hits=(), notice="") -> Answer:
    return Answer(question="q", text=text, citations=tuple(citations), abstained=abstained,
                  hits=tuple(hits), notice=notice)


HUAWEI = hit("Sales were up. In 2018, the company spent 14.6 billion on R+D, cementing its position. More text.")


# --- escaping --------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS + ("a & b", "\"quoted\" 'single'", "`code` *em* _u_ $x$ #h | [l](u)"))
def test_escape_round_trips_as_text_and_has_no_markup(payload):
    escaped = render.escape(payload)
    assert html.unescape(escaped) == payload
    assert not re.search(r"[<>\"'!\[\]()*_`$#|]", escaped.replace("&#", ""))
    assert parse(escaped).tags == []


def test_a_hostile_passage_renders_as_text_in_the_sources():
    evil = hit(f"Intro {SCRIPT} then {IMG} and {MD_IMAGE}. The answer is 42 here.", source="x/<img src=y onerror=alert(2)>.txt")
    out = render.answer_html(answer("The answer is 42 here. [1]", [cite(1, evil, "The answer is 42 here.")]))
    tags = parse(out)
    assert {t for t, _ in tags.tags} <= OWN_TAGS
    assert all(not k.startswith("on") and k != "src" for _, attrs in tags.tags for k in attrs)
    text = "".join(tags.text)
    for payload in PAYLOADS:
        assert payload in text  # visible, as characters
    assert "<img src=y onerror=alert(2)>.txt" in text
    for needle in ("<script", "<img", "](http", "![x]"):
        assert needle not in out


def test_a_direction_override_in_a_passage_is_closed_within_its_own_piece():
    # an unclosed RIGHT-TO-LEFT OVERRIDE in a quote had reversed the rest of the answer, its markers and file names
    evil = hit("The toll is \u202e 12 pounds per car. The booth opened in 1990.", source="docs/toll.txt")
    quotes = ["The toll is \u202e 12 pounds per car.", "The booth opened in 1990."]
    out = render.answer_html(answer(f"{quotes[0]} [1] {quotes[1]} [1]", [cite(1, evil, q) for q in quotes]))
    opened = 0
    for ch in html.unescape(re.sub(r"<[^>]+>", "", out)):
        if ch == "\u2068":
            opened += 1
        elif ch == "\u2069":
            opened -= 1
        elif ch in "\u202a\u202b\u202d\u202e":
            assert opened > 0  # inside an isolate, which its PDI ends
        elif ch == "[" or ch == "/":
            assert opened == 0  # markers and paths are never inside one
    assert opened == 0
    assert render.escape("no controls here") == "no controls here"
    # a PDI of the text's own had closed the isolate early and let the override after it out
    shown = render.escape("The price is \u2069\u202e5 euro.")
    assert shown.count("\u2069") == 1 and shown.endswith("\u2069") and shown.startswith("\u2068")


def test_model_output_is_escaped_and_only_cited_markers_become_links():
    h = hit("Paris is the capital of France.")
    out = render.answer_html(answer(f"{IMG} Paris is the capital of France. [1] [7]", [cite(1, h, "Paris is the capital of France.")]))
    links = [attrs for tag, attrs in parse(out).tags if tag == "a"]
    assert links == [{"class": "qa-marker", "href": "#cite-1-1"}]
    assert "<img" not in out and IMG in "".join(parse(out).text)
    assert "[7]" in "".join(parse(out).text)  # an uncited marker stays plain text


def test_a_bracketed_number_inside_a_quote_is_text_not_a_marker():
    tower, canal = hit("The tower is 330 metres tall [2]."), hit("The canal opened in 1869.")
    text = "The tower is 330 metres tall [2]. [1] The canal opened in 1869. [2]"
    out = render.answer_html(answer(text, [cite(1, tower, "The tower is 330 metres tall [2]."), cite(2, canal, "The canal opened in 1869.")]))
    links = [attrs["href"] for tag, attrs in parse(out).tags if tag == "a"]
    assert links == ["#cite-1-1", "#cite-1-2"]  # the document's own "[2]" links nowhere


def test_list_items_of_an_answer_are_lines_and_a_quote_s_own_line_breaks_are_not():
    steps = hit("Steps:\n1. Unplug it.\n2. Open the\ncover.")
    text = "Steps: [1]\n1. Unplug it. [1]\n2. Open the\ncover. [1]"
    quotes = ["Steps:", "1. Unplug it.", "2. Open the\ncover."]
    out = render.answer_html(answer(text, [cite(1, steps, q) for q in quotes]))
    shown = out.split('<div class="qa-text">')[1].split("</div>")[0]
    assert shown.count("<br>") == 2 and "Open the\ncover." in shown  # between items, not inside the quote


def test_a_quoted_code_block_is_shown_as_code_without_its_fences():
    # "How do I install it?" had shown "``` pip install tidewatch ```" with its fences, on one line
    readme = hit("Install it:\n\n```bash\npip install tidewatch\necho '<script>'\n```\n\nThen run it.")
    block = "```bash\npip install tidewatch\necho '<script>'\n```"
    quotes = ["Install it:", block, "Then run it."]
    out = render.answer_html(answer(f"Install it: [1]\n{block} [1]\nThen run it. [1]", [cite(1, readme, q) for q in quotes]))
    shown = out.split('<div class="qa-text">')[1].split('<div class="qa-sources">')[0]
    tags = parse(shown)
    assert [t for t, _ in tags.tags if t in ("pre", "code")] == ["pre", "code"] and "```" not in shown and "<script>" not in shown
    assert "pip install tidewatch\necho '<script>'" in "".join(tags.text)  # its lines as written, as text
    assert sum(1 for t, a in tags.tags if t == "a" and a.get("href") == "#cite-1-1") == 3  # every quote keeps its marker
    # a quote that only opens or only mentions a fence is text
    out = render.answer_html(answer("Use ``` to open a block. [1]", [cite(1, hit("Use ``` to open a block."), "Use ``` to open a block.")]))
    assert "<pre" not in out


def test_quoted_table_rows_are_a_table_under_their_header_s_column_heads():
    # rows had been shown as pipes to count: "| Monthly pass | 55 | 62 |" under "| Ticket | Current | New |"
    fares = hit("Fares change.\n\n| Ticket | Current | New |\n|---|---|---|\n| Single | 2.40 | 2.60 |\n| Monthly <b> | 55 | 62 |\n\nEnd.")
    quotes = ["Fares change.", "| Ticket | Current | New |", "| Monthly <b> | 55 | 62 |", "End."]
    text = "Fares change. [1]\n| Ticket | Current | New | [1]\n| Monthly <b> | 55 | 62 | [1]\nEnd. [1]"
    out = render.answer_html(answer(text, [cite(1, fares, q) for q in quotes]))
    shown = out.split('<div class="qa-text">')[1].split('<div class="qa-sources">')[0]
    tags = parse(shown)
    assert [t for t, _ in tags.tags if t in ("table", "tr", "th", "td")] == ["table", "tr", "th", "th", "th", "td", "tr", "td", "td", "td", "td"]
    assert ("th", {"scope": "col"}) in tags.tags and "|" not in "".join(tags.text) and "<b>" not in shown
    assert "".join(tags.text).replace("Source 1: T ", "") == "Answer: Fares change. [1]TicketCurrentNew[1]Monthly <b>5562[1]End. [1]"
    assert sum(1 for t, a in tags.tags if t == "a" and a.get("href") == "#cite-1-1") == 4  # every quote keeps its marker
    # rows of two documents, or under two headers, are two tables (they had been one, a header in its middle)
    staff = hit("| Name | Team |\n|---|---|\n| Bo Chen | Red |", source="docs/staff.csv")
    both = [cite(1, fares, "| Ticket | Current | New |"), cite(1, fares, "| Monthly <b> | 55 | 62 |"),
            cite(2, staff, "| Name | Team |"), cite(2, staff, "| Bo Chen | Red |")]
    text = "\n".join(f"{c.quote} [{c.n}]" for c in both)
    out = render.answer_html(answer(text, both))
    assert out.count("<table") == 2 and out.count("<th") == 5
    # lines ended by a lone "\r": the header is still a header (it had been drawn as a row)
    old_mac = hit("| Ticket | New |\r|---|---|\r| Single | 2.60 |")
    out = render.answer_html(answer("| Ticket | New | [1]\n| Single | 2.60 | [1]",
                                    [cite(1, old_mac, "| Ticket | New |"), cite(1, old_mac, "| Single | 2.60 |")]))
    assert out.count("<th") == 2
    # a Markdown cell's "\|" is no border
    code = hit("| Task | Command |\n|---|---|\n| Count | `wc \\| sort` |")
    out = render.answer_html(answer("| Count | `wc \\| sort` | [1]", [cite(1, code, "| Count | `wc \\| sort` |")]))
    assert [html.unescape(cell) for cell in re.findall(r"<td>([^<]*)</td>", out)] == ["Count", "`wc \\| sort`"]
    # without a "|---|" line under it, the first row is a row; a language model's text is shown as written
    plain = hit("| Lyon | 14 |\n| Bordeaux | 22 |")
    out = render.answer_html(answer("| Lyon | 14 | [1]", [cite(1, plain, "| Lyon | 14 |")]))
    assert "<th" not in out and "<td>Lyon</td>" in out
    out = render.answer_html(answer("The fare is 55. [1]", [cite(1, fares, "| Monthly <b> | 55 | 62 |")]))
    assert "<table" not in out.split('<div class="qa-sources">')[0]


def test_streaming_and_notes_and_questions_are_escaped():
    for fragment in (render.streaming_html(IMG), render.note_html(SCRIPT, "error"), render.question_html(MD_IMAGE)):
        assert {t for t, _ in parse(fragment).tags} <= OWN_TAGS
        assert "<img" not in fragment and "<script" not in fragment and "![x]" not in fragment


def test_note_kind_cannot_inject_attributes():
    assert parse(render.note_html("x", 'error" onclick="alert(1)')).tags[0][1].keys() == {"class"}


# --- highlighting and links -------------------------------------------------------------------

def test_the_quote_is_highlighted_inside_its_passage():
    out = render.answer_html(answer("In 2018, the company spent 14.6 billion on R+D, cementing its position. [1]",
                                    [cite(1, HUAWEI, "In 2018, the company spent 14.6 billion on R+D, cementing its position.")]))
    marks = re.findall(r"<mark>(.*?)</mark>", out)
    assert marks and all("14.6 billion" in html.unescape(m) for m in marks)
    passage = re.search(r'<div class="qa-passage">(.*?)</div>', out).group(1)
    assert html.unescape(re.sub(r"</?mark>", "", passage)) == HUAWEI.text  # the whole passage, unchanged
    assert 'id="cite-1-1"' in out and 'href="#cite-1-1"' in out


def test_citations_sharing_a_number_give_one_source_block_with_both_quotes_marked():
    c1, c2 = cite(1, HUAWEI, "Sales were up."), cite(1, HUAWEI, "More text.")
    out = render.answer_html(answer("Sales were up. [1] More text. [1]", [c1, c2]), turn=3)
    assert out.count('id="cite-3-1"') == 1
    passage = re.search(r'<div class="qa-passage">(.*?)</div>', out).group(1)
    assert [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", passage)] == ["Sales were up.", "More text."]
    assert out.count('href="#cite-3-1"') == 2


def test_highlight_merges_overlaps_and_clamps():
    assert render.highlight("abcdef", [(1, 3), (2, 4), (5, 99), (-3, 0)]) == "a<mark>bcd</mark>e<mark>f</mark>"
    assert render.highlight("<b>", []) == "&#60;b&#62;"


def test_page_or_position_is_shown():
    assert render.where(hit("x", page=4)) == "p. 4"
    assert render.where(hit("x", position=0)) == "¶1"
    out = render.answer_html(answer("x [1]", [cite(1, hit("x", page=4), "x")]))
    assert "p. 4" in "".join(parse(out).text) and "article.txt" in out


def test_a_notice_is_shown_under_the_answer():
    out = render.answer_html(answer("x [1]", [cite(1, hit("x"), "x")], notice="Language model not used (timeout)."))
    assert "Language model not used (timeout)." in "".join(parse(out).text)


# --- refusals ---------------------------------------------------------------------------------

def test_a_refusal_has_the_phrase_the_related_heading_and_no_answer_styling():
    related = [hit(f"Passage {i} about something else.", position=i) for i in range(4)]
    out = render.answer_html(answer(NO_ANSWER, abstained=True, hits=related), turn=2)
    text = "".join(parse(out).text)
    assert NO_ANSWER in text and RELATED_HEADING in text
    assert out.startswith('<div class="qa-refusal"') and "qa-answer" not in out
    assert "<mark>" not in out and "qa-marker" not in out  # nothing is presented as a quoted answer
    assert out.count('class="qa-source qa-related"') == 3  # Answer.related: the closest three
    assert 'id="related-2-1"' in out


def test_a_refusal_previews_each_related_passage_from_its_sentence_closest_to_an_answer():
    # the preview had shown the passage's first 140 characters, which stopped before the rule asked about
    long = hit("# Handbook\n\n## Annual leave\n\n" + "Leave is booked in the portal. " * 6 + "A doctor's note is needed after three days.")
    near = long.text.index("A doctor's")
    refusal = Answer(question="q", text=NO_ANSWER, citations=(), abstained=True, hits=(long,),
                     closest=(Citation(1, long, long.text[near:], long.start + near, long.end),))
    out = render.answer_html(refusal)
    assert " — … A doctor's note is needed after three days." in html.unescape(out)
    assert "<mark>" not in out  # nothing is presented as a quoted answer
    assert " — # Handbook ## Annual leave" in html.unescape(render.answer_html(answer(NO_ANSWER, abstained=True, hits=[long])))


def test_a_refusal_without_passages_still_says_so():
    out = render.answer_html(answer(NO_ANSWER, abstained=True))
    assert NO_ANSWER in html.unescape(out) and RELATED_HEADING not in html.unescape(out)


# --- documents table and JSON ------------------------------------------------------------------

def test_documents_table_escapes_names():
    files = [FileEntry("corpus/<img src=x onerror=alert(1)>.txt", "0" * 64, 3, "2026-11-26T15:41:19+00:00", "2026-11-26T15:41:19+00:00")]
    out = render.documents_html(files)
    assert "<img" not in out
    assert {t for t, _ in parse(out).tags} <= OWN_TAGS
    assert "2026-11-26 15:41 UTC" in html.unescape(out) and ">3<" in out
    assert "No documents" in render.documents_html([])


def test_a_large_index_draws_its_most_recently_updated_documents_and_says_how_many_there_are(monkeypatch):
    # 32,000 rows (7.6 MB) had taken the browser 11-16 s to draw at every visit of the tab
    monkeypatch.setattr(render, "DOCUMENTS_SHOWN", 3)
    files = [FileEntry(f"docs/{i}.txt", "0" * 64, 1, "2026-11-26T15:41:19+00:00", f"2026-11-{10 + i}T10:00:00+00:00") for i in range(5)]
    out = html.unescape(render.documents_html(files))
    assert out.count("<tr>") == 1 + 3  # the header and three rows
    assert all(f"docs/{i}.txt" in out for i in (4, 3, 2)) and "docs/0.txt" not in out
    assert "The 3 most recently updated of 5 documents" in out and "index info --json" in out
    assert "most recently" not in render.documents_html(files[:3])
    assert {t for t, _ in parse(render.documents_html(files)).tags} <= OWN_TAGS | {"code"}


def test_long_names_are_shortened_with_the_full_path_on_hover_and_folders_shown_alike(tmp_path):
    long = "report-" + "x" * 190 + ".pdf"
    files = [FileEntry(str(tmp_path / "docs" / long), "0" * 64, 1, "", ""),
             FileEntry("docs/short.txt", "0" * 64, 1, "", "")]
    out = html.unescape(render.documents_html(files, base=tmp_path))
    assert long not in out.replace(f'title="{tmp_path / "docs" / long}"', "")  # only on hover
    shown = render.short_name(long)
    assert len(shown) == render.NAME_SHOWN and shown.endswith("x.pdf") and "…" in shown and shown in out
    import os

    os.chdir(tmp_path)  # the relative source resolves against the working folder, as the index does
    assert render.folder_of(str(tmp_path / "docs" / long), tmp_path) == render.folder_of("docs/short.txt", tmp_path) == "docs"
    assert render.folder_of("/elsewhere/a.txt", tmp_path) == "/elsewhere"


def test_upload_results_show_refusals_as_errors():
    out = html.unescape(render.result_html(["Added: a.txt (1 passage)", "Refused: b.exe: unsupported file type .exe"]))
    assert '<div class="qa-result">Added: a.txt (1 passage)</div>' in out
    assert '<div class="qa-error">Refused: b.exe: unsupported file type .exe</div>' in out


def test_answer_json_is_serialisable_and_complete():
    a = answer("In 2018 ... [1]", [cite(1, HUAWEI, "In 2018, the company spent 14.6 billion on R+D, cementing its position.")])
    data = json.loads(json.dumps(render.answer_json(a)))
    assert set(data) >= {"text", "abstained", "citations", "related", "notice", "method"}
    (c,) = data["citations"]
    assert set(c) == {"n", "quote", "quote_start", "quote_end", "source", "label", "page", "start", "end", "passage"}
    assert c["passage"][c["quote_start"] - c["start"] : c["quote_end"] - c["start"]] == c["quote"]
    refusal = render.answer_json(answer(NO_ANSWER, abstained=True, hits=[HUAWEI]))
    assert refusal["abstained"] and refusal["related"][0]["text"] == HUAWEI.text


def test_a_source_shows_the_document_title_first_and_the_file_name_second():
    from dataclasses import replace

    titled = replace(HUAWEI, title="Huawei's plan for Europe")
    out = html.unescape(render.answer_html(answer("In 2018 ... [1]", [cite(1, titled, "In 2018, the company spent 14.6 billion on R+D, cementing its position.")])))
    assert '<span class="qa-label" title="docs/article.txt">Huawei\'s plan for Europe</span> <span class="qa-file">article.txt</span>' in out
    assert render.title_and_file(replace(HUAWEI, title="article")) == ("article.txt", "")  # the stem is no title
    assert render.title_and_file(replace(HUAWEI, title="")) == ("article.txt", "")


def test_a_screen_reader_is_told_the_question_the_answer_and_each_marker_s_source():
    h = hit("Paris is the capital of France. It has 2.1 million people.")
    out = render.answer_html(answer("Paris is the capital of France. [1]", [cite(1, h, "Paris is the capital of France.")]))
    assert '<span class="qa-sr">Answer: </span>' in out
    assert '<span class="qa-sr">You asked: </span>' in render.question_html("Where?")
    assert '<a class="qa-marker" href="#cite-1-1"><span class="qa-sr">Source 1&#58; T </span>&#91;1&#93;</a>' in out


def test_a_long_quote_is_previewed_in_its_source_s_summary_and_marked_whole_in_the_passage():
    sentence = "The long sentence " + "goes on and on " * 30 + "until it ends."
    h = hit(sentence + " Another one.")
    out = render.answer_html(answer(f"{sentence} [1]", [cite(1, h, sentence)]))
    summary = out[out.index("<summary>"):out.index("</summary>")]
    assert len(re.sub("<[^>]+>|&#\\d+;", "x", summary)) < 260 and "…" in summary  # 457 px on a phone before
    passage = out[out.index('class="qa-passage"'):]
    assert "until it ends." in passage and passage.count("<mark>") == 1
    # three long quotes of one passage share the summary's room (an overview's three had filled 421 characters)
    sentences = [f"Sentence {i} " + "runs on and on " * 12 + "to its end." for i in range(3)]
    h = hit(" ".join(sentences))
    cites = [cite(1, h, t) for t in sentences]
    out = render.answer_html(answer(" ".join(f"{t} [1]" for t in sentences), cites))
    summary = re.sub("<[^>]+>|&#\\d+;", "x", out[out.index("<summary>"):out.index("</summary>")])
    assert len(summary) < 300 and summary.count("Sentence") == 3
    # a cut never splits a character as read: a flag's two letters, an accent from its letter
    from assistant.interfaces import cli

    for most, text in ((140, "x" * 139 + "🇩🇪 flagged"), (140, "x" * 139 + "e\u0301t\u00e9 suite")):
        shown = render._preview(text, most)
        assert shown == "x" * 139 + "…", shown
    assert cli._clip("y" * 298 + "👩\u200d👩\u200d👧 family", 300) == "y" * 298 + "…"


def _contrast(foreground: str, background: tuple[int, int, int]) -> float:
    def luminance(rgb):
        channels = [c / 255 for c in rgb]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    fg = tuple(int(foreground[i:i + 2], 16) for i in (1, 3, 5))
    light, dark = sorted((luminance(fg), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("rule, background", [
    (".qa-refusal-text {", (247, 240, 230)),  # the refusal's tint over the light theme's white
    (".qa-file {", (247, 240, 230)),  # a related passage's file name on the refusal's tint (#6b7280 had read 4.26:1)
    (".dark .qa-refusal-text {", (63, 63, 70)),  # the dark theme's message background (measured in Chromium)
    (".dark .qa-file {", (63, 63, 70)), (".dark .qa-error {", (63, 63, 70)), (".dark a.qa-marker {", (63, 63, 70)),
])
def test_the_chat_s_text_colours_reach_4_5_to_1(rule, background):
    css = render.CSS[render.CSS.index(rule):]
    colour = re.search(r"(?<![-\w])color: (#[0-9a-f]{6})", css[: css.index("}")]).group(1)
    assert _contrast(colour, background) >= 4.5, (rule, colour)


def test_the_removal_list_names_each_document_with_its_folder_as_the_table_shows_it(tmp_path):
    # the list had shown the server's full path beside the table's project-relative folder
    files = [FileEntry(str(tmp_path / "var" / "documents" / "bakery.md"), "0" * 64, 1, "", ""),
             FileEntry("/elsewhere/notes.txt", "0" * 64, 1, "", "")]
    assert render.removal_choices(files, tmp_path) == [
        ("bakery.md (var/documents)", str(tmp_path / "var" / "documents" / "bakery.md")),
        ("notes.txt (/elsewhere)", "/elsewhere/notes.txt")]
