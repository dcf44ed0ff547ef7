"""split_sentences: rule-based sentence spans."""

from __future__ import annotations

import pytest

from assistant.ingest.sentences import split_sentences


def sentences(text: str, *args) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, *args)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dr. Smith went home. He slept well.", ["Dr. Smith went home.", "He slept well."]),
        ("Mr. Brown and Mrs. Green met Prof. White.", ["Mr. Brown and Mrs. Green met Prof. White."]),
        ("J. R. R. Tolkien wrote books. They sold.", ["J. R. R. Tolkien wrote books.", "They sold."]),
        ("Fruit, e.g. Apples, is food. Eat it.", ["Fruit, e.g. Apples, is food.", "Eat it."]),
        ("The U.S. Army arrived. Then it left.", ["The U.S. Army arrived.", "Then it left."]),
        (
            "In 2018, the company spent 14.6 billion on R+D. Sales rose 19.5% to $106 billion.",
            ["In 2018, the company spent 14.6 billion on R+D.", "Sales rose 19.5% to $106 billion."],
        ),
        ("Really? Yes! Ok.", ["Really?", "Yes!", "Ok."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("It ended (finally.) Then 2019 came.", ["It ended (finally.)", "Then 2019 came."]),
        ("lower case after a stop. stays joined.", ["lower case after a stop. stays joined."]),
        ("Version 2.0 is out.Next to it", ["Version 2.0 is out.Next to it"]),
        # a bracket closed later on its line holds its sentence; an unclosed one does not
        ("The fare was 30 kroner (incl. VAT). Children paid half.", ["The fare was 30 kroner (incl. VAT).", "Children paid half."]),
        ("Notes (cf. Smith et al. 2019) follow. Next.", ["Notes (cf. Smith et al. 2019) follow.", "Next."]),
        # a bracket that closes only after another sentence, or a different kind, holds nothing
        ("I was sad :( when it broke. The shop replaced it. Support was quick :) and kind.",
         ["I was sad :( when it broke.", "The shop replaced it.", "Support was quick :) and kind."]),
        ("The study (published in 2019 found no effect. Later work [3] confirmed it.",
         ["The study (published in 2019 found no effect.", "Later work [3] confirmed it."]),
        ("A smiley :) and (an open bracket. Next one.", ["A smiley :) and (an open bracket.", "Next one."]),
        ("The ship was led by Capt. Harlow Jensen. It sailed.", ["The ship was led by Capt. Harlow Jensen.", "It sailed."]),
        # a list number is no sentence; a year or a sentence ending in a number still ends one
        ("1. Budget\nBen reported a balance.\n2. Planting\nThe day is set.",
         ["1. Budget", "Ben reported a balance.", "2. Planting", "The day is set."]),
        ("It was 2019. The year ended. We counted to 3. Then stopped.",
         ["It was 2019.", "The year ended.", "We counted to 3.", "Then stopped."]),
        # scripts without capitals, and full stops with no space after them
        ("هذه جملة أولى. هذه جملة ثانية؟ وهذه ثالثة.", ["هذه جملة أولى.", "هذه جملة ثانية؟", "وهذه ثالثة."]),
        ("זה משפט ראשון. זה משפט שני.", ["זה משפט ראשון.", "זה משפט שני."]),
        ("富士山は日本で最も高い山です。標高は三千七百七十六メートルです。", ["富士山は日本で最も高い山です。", "標高は三千七百七十六メートルです。"]),
        ("第60号仓库存放了423箱苹果。第61号仓库是空的！对吗？", ["第60号仓库存放了423箱苹果。", "第61号仓库是空的！", "对吗？"]),
        # list items and table rows are lines of their own, however long
        ("The cargo was:\n- flour\n- salt from the northern mines of the old kingdom, carried in barrels\n- timber",
         ["The cargo was:", "- flour", "- salt from the northern mines of the old kingdom, carried in barrels", "- timber"]),
        ("| Aberdeen depot | Aberdeen Road, Unit 4 | manager Abelyn Harcourt-Smythe | 120 pallets |\n"
         "| Wells depot | Wells Road, Unit 9 | manager Orla Wells-Burton | 80 pallets and more |",
         ["| Aberdeen depot | Aberdeen Road, Unit 4 | manager Abelyn Harcourt-Smythe | 120 pallets |",
          "| Wells depot | Wells Road, Unit 9 | manager Orla Wells-Burton | 80 pallets and more |"]),
        # a reference mark after the end of a sentence ends it with the sentence (Wikipedia, footnotes)
        ("It is a reservoir.[1] It was built in 1958.[2][3] The dam is high.[4, 5] Done.\u00b9 Next one. See [1] too.",
         ["It is a reservoir.[1]", "It was built in 1958.[2][3]", "The dam is high.[4, 5]", "Done.\u00b9", "Next one.", "See [1] too."]),
        # prose wrapped at a short width (a PDF column) goes on across lines that start with a capital or a digit
        ("The centre is expected to open in\nApril 2025, and tours for local schools will\nstart in May. Its funding\n"
         "comes from the regional fund and the\nministry, and it will employ about 60\nscientists from three universities.",
         ["The centre is expected to open in\nApril 2025, and tours for local schools will\nstart in May.",
          "Its funding\ncomes from the regional fund and the\nministry, and it will employ about 60\nscientists from three universities."]),
        # short lines that do not go on in lower case stay lines of their own (a list, a log)
        ("Ingredients\nFlour\nSugar\nEggs", ["Ingredients", "Flour", "Sugar", "Eggs"]),
        ("Line number 1 of a file without blank lines\nLine number 2 of a file without blank lines",
         ["Line number 1 of a file without blank lines", "Line number 2 of a file without blank lines"]),
        # a form feed, NEL and Unicode line and paragraph separators end a line
        ("Ledger Notes\u2029The ledger was audited.\fAppendix\u2028The ledger has 400 pages.\x85End",
         ["Ledger Notes", "The ledger was audited.", "Appendix", "The ledger has 400 pages.", "End"]),
    ],
)
def test_sentence_boundaries(text, expected):
    assert sentences(text) == expected


def test_heading_on_its_own_line_is_a_sentence():
    text = "Introduction\nThe company grew fast. It hired many people."
    assert sentences(text) == ["Introduction", "The company grew fast.", "It hired many people."]


def test_markdown_headings_and_list_items_are_separate():
    text = "# Heading One\nSome text here. More text.\n## Sub heading\n- a list item\n- another item"
    assert sentences(text) == [
        "# Heading One", "Some text here.", "More text.", "## Sub heading", "- a list item", "- another item",
    ]


def test_lettered_list_items_are_sentences_of_their_own():
    # a policy's exclusions "a) … in writing.\nb) Travel to …" had been two sentences of 440+ characters
    text = ("We will not pay claims arising from:\n\na) Any condition you have not declared to us in writing.\n"
            "b) travel against official advice.\n(c) alcohol or drugs. Prescribed drugs are covered.\n(iv) war.\n")
    assert sentences(text) == ["We will not pay claims arising from:", "a) Any condition you have not declared to us in writing.",
                               "b) travel against official advice.", "(c) alcohol or drugs.", "Prescribed drugs are covered.", "(iv) war."]
    from assistant.ingest.sentences import is_list_item, list_item_kind

    assert [list_item_kind(line) for line in ("b) x", "(iv) x", "3) x", "- x", "A) x", "(see above) x", "b)x")] == [
        "letter", "letter", "number", "-", None, None, None]
    assert not is_list_item("e.g. a word") and not is_list_item("(c) 2024 Acme Corp.")  # a copyright, no item
    assert is_list_item("(xiv) Riots.") and list_item_kind("(xiv) Riots.") == "letter"
    # a line that stops mid-sentence goes on into a lettered line: wrapped prose, not a list
    wrapped = "The tenant must either (a) pay the rent on time or\n(b) vacate the premises within 30 days.\n\na) Cash\nb) Card\n"
    assert sentences(wrapped) == ["The tenant must either (a) pay the rent on time or\n(b) vacate the premises within 30 days.",
                                  "a) Cash", "b) Card"]


def test_a_numbered_heading_is_one_sentence_its_number_no_sentence_of_its_own():
    # "## 4." had been cut off as a sentence, and "How to apply" stood as one, no heading, and was quoted
    assert sentences("## 4. How to apply\n\n1. Ask your manager.\n### 4.2. Forms\nFill them in.") == [
        "## 4. How to apply", "1. Ask your manager.", "### 4.2. Forms", "Fill them in."]


def test_wrapped_line_stays_one_sentence():
    text = "This is a long sentence that wraps over the end of a line\nonto the next line and ends here. Next one."
    assert sentences(text) == [
        "This is a long sentence that wraps over the end of a line\nonto the next line and ends here.",
        "Next one.",
    ]


def test_a_column_under_a_full_width_paragraph_is_wrapped_text():
    # a PDF page's column under a full-width line: every column line had been "short" (under 60% of
    # the widest), so one ending before a capital was read as a heading and its sentence cut in two
    text = ("This full-width paragraph sets the widest line of the page, as the body text of a report does when it runs\n"
            "across the whole page.\nIts successor will be built by Nordwerk\nMarine in Kiel, which won the tender in\n"
            "March against two other yards. The yard has\nbuilt ferries since 1950 and delivers the\nfirst one in June.")
    assert sentences(text)[1] == "Its successor will be built by Nordwerk\nMarine in Kiel, which won the tender in\nMarch against two other yards."
    assert sentences("Opening hours\nThe office opens at nine and closes\nat five on weekdays and at noon on\nSaturdays.")[0] == "Opening hours"
    # a line ending on an article or "of" is no heading, whatever the block ("How to log in" still is one)
    assert sentences("Fleet\nThe oldest ferry is named after the\nGull, and it sails daily.") == [
        "Fleet", "The oldest ferry is named after the\nGull, and it sails daily."]
    assert sentences("How to log in\nClick the button.") == ["How to log in", "Click the button."]


def test_blank_line_ends_a_sentence_without_punctuation():
    assert sentences("no punctuation at all\n\nNext block here") == ["no punctuation at all", "Next block here"]
    assert sentences("first part\r\n\r\nsecond part") == ["first part", "second part"]


def test_spans_are_trimmed_ordered_and_disjoint():
    text = "  \n\t Leading and trailing space.   Another one. \u00a0\n\n  Third\u00a0one here!  \n "
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Leading and trailing space.", "Another one.", "Third\u00a0one here!"]
    for s, e in spans:
        assert s < e and not text[s].isspace() and not text[e - 1].isspace()
    for (_, e1), (s2, _) in zip(spans, spans[1:]):
        assert e1 <= s2


def test_only_whitespace_gives_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\t\r\n\u00a0 ") == []


def test_start_and_end_restrict_the_range():
    text = "Skip this. Keep this one. And this. Not this."
    start = text.index("Keep")
    end = text.index("Not") - 1
    spans = split_sentences(text, start, end)
    assert [text[s:e] for s, e in spans] == ["Keep this one.", "And this."]
    assert all(start <= s < e <= end for s, e in spans)


def test_windows_line_endings_inside_sentences():
    text = "Heading\r\nBody sentence one. Body sentence two.\r\n"
    assert sentences(text) == ["Heading", "Body sentence one.", "Body sentence two."]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_kind_of_line_end_splits_alike(end):
    lines = ["Opening hours", "", "The shop opens at nine", "", "A wrapped sentence runs on", "to the next line."]
    text = end.join(lines) + end
    assert sentences(text) == ["Opening hours", "The shop opens at nine", f"A wrapped sentence runs on{end}to the next line."]


class _CountingStr(str):
    """A str that counts how many characters slicing and indexing copy out of it."""

    copied = 0

    def __getitem__(self, key):
        piece = str.__getitem__(self, key)
        type(self).copied += len(piece)
        return piece


def test_a_short_line_ending_on_a_word_no_sentence_ends_with_goes_on_in_the_next():
    # a web page's <br> ("serviced on<br>12 May") had made the short line a heading, quoted alone
    text = ("The boiler was serviced on\n12 May by Mueller GmbH.\nOpening hours\nMonday to Friday.\nAppendix A\nThe tables.\n"
            "How to log in\nOpen the app.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The boiler was serviced on\n12 May by Mueller GmbH.", "Opening hours", "Monday to Friday.", "Appendix A", "The tables.",
        "How to log in", "Open the app."]  # (a heading ending on "in", before a capital: a heading)


def test_german_french_and_spanish_sentences_part_where_their_own_marks_say():
    # opening "¿ ¡ „ « »", closing "“ »" (after a space in French), titles and abbreviations, a German
    # day before its month: each had joined two sentences or cut one
    cases = {
        "¿Cuándo abre? Abre a las nueve. ¡Bienvenidos! Gracias.": ["¿Cuándo abre?", "Abre a las nueve.", "¡Bienvenidos!", "Gracias."],
        "Er sagte: „Das Budget beträgt 40.000 Euro.“ Frau Lehmann nannte 35.000 Euro.":
            ["Er sagte: „Das Budget beträgt 40.000 Euro.“", "Frau Lehmann nannte 35.000 Euro."],
        "Il a dit : « Le budget est de 40 000 euros. » Mme. Lefèvre a cité 35 000 euros.":
            ["Il a dit : « Le budget est de 40 000 euros. »", "Mme. Lefèvre a cité 35 000 euros."],
        "Der Urlaub verfällt am 31. März des Folgejahres. Rufen Sie die Sra. García an, ext. 4455.":
            ["Der Urlaub verfällt am 31. März des Folgejahres.", "Rufen Sie die Sra. García an, ext. 4455."],
        "Preise inkl. MwSt. gelten in der Hauptstr. 5 in Berlin. Er kam am 3. Mai. Danach ging er.":
            ["Preise inkl. MwSt. gelten in der Hauptstr. 5 in Berlin.", "Er kam am 3. Mai.", "Danach ging er."],
        # English stays English: "hr.", "Str." before a word, and a month English also names end sentences
        "It takes 1 hr. After that, turn. I live on Main Str. Then I moved. Sales were 14. April sales were 20.":
            ["It takes 1 hr.", "After that, turn.", "I live on Main Str.", "Then I moved.", "Sales were 14.", "April sales were 20."],
    }
    for text, expected in cases.items():
        assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_splitting_does_linear_work_on_many_single_line_breaks():
    lines = 20_000
    text = _CountingStr("\n".join(f"Line number {i} of a file without blank lines" for i in range(lines)))
    _CountingStr.copied = 0
    spans = split_sentences(text)
    assert len(spans) == lines
    # A linear splitter touches each character a bounded number of times.
    assert _CountingStr.copied <= 20 * len(text), f"copied {_CountingStr.copied:,} chars for {len(text):,}"


def test_lines_of_spaces_are_scanned_once(monkeypatch):
    # each line break looks for the next non-space character; over a run of lines that hold only
    # (non-breaking, ideographic) spaces that search used to start again at every line
    from assistant.ingest import sentences

    scanned = []

    class Counting:
        def search(self, text, pos, end):
            found = sentences.re.compile(r"\S").search(text, pos, end)
            scanned.append((found.start() if found else end) - pos)
            return found

    monkeypatch.setattr(sentences, "_NON_SPACE", Counting())
    text = "A title\n" + "\u3000\n" * 5_000 + "The text."
    assert [text[s:e] for s, e in split_sentences(text)] == ["A title", "The text."]
    assert sum(scanned) <= 2 * len(text), f"scanned {sum(scanned):,} characters for {len(text):,}"


def test_a_long_run_of_dots_is_split_without_trying_every_dot():
    # a hang guard, not a timing: the run is split in milliseconds; trying the run from every dot
    # (before) took minutes
    import subprocess
    import sys
    from pathlib import Path

    code = ("from assistant.ingest.sentences import split_sentences as s; t = 'Chapter one ' + '.' * 200000 + ' page five'; "
            "assert [t[a:b] for a, b in s(t)] == [t]")
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1], check=True, timeout=60)
    for text, expected in (("Wait... Then go.", ["Wait...", "Then go."]), ("Stop?!) Now.", ["Stop?!)", "Now."])):
        assert [text[a:b] for a, b in split_sentences(text)] == expected


def test_a_word_hyphenated_at_a_line_end_is_read_whole_and_other_hyphens_stay():
    # "per-\ncent" and "infor-\nmation" had been matched and embedded as two half words
    from assistant.ingest.sentences import as_read

    assert as_read("99.96 per-\ncent of samples; infor- \r\n mation sharing") == "99.96 percent of samples; information sharing"
    for kept in ("well-known", "ABC-\nDEF", "a -\nlist", "x-ray", "- item\n- item", "no hyphen\nhere", "state-\nof-the-art"):
        assert as_read(kept) == kept



def test_a_reference_abbreviation_before_a_number_and_a_clause_number_end_no_sentence():
    # "…taken ca." and "…as shown in Tab." had been answers, their numbers cut off
    text = ("Samples were taken ca. 30 min after waking. The rise was 9.4 nmol/L, as shown in Tab. 2. See Eq. 3 for "
            "the model. It complies with Art. 5 of the Act. I love art. It is fun.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Samples were taken ca. 30 min after waking.", "The rise was 9.4 nmol/L, as shown in Tab. 2.",
        "See Eq. 3 for the model.", "It complies with Art. 5 of the Act.", "I love art.", "It is fun."]
    clauses = "3. RENT\n\n3.1. The Tenant shall pay EUR 900 a month.\n3.2. A deposit is due. It is EUR 1,800."
    assert [clauses[s:e] for s, e in split_sentences(clauses)] == [
        "3. RENT", "3.1. The Tenant shall pay EUR 900 a month.", "3.2. A deposit is due.", "It is EUR 1,800."]


def test_a_fenced_code_block_is_one_span_with_its_fences():
    # its lines had been sentences, "# a comment" a heading and a lone "```" the answer
    text = ("Install it:\n\n```bash\n# restore the latest backup\nharbor restore --latest\n\nharbor check\n```\n\n"
            "Then start it. Use ```x``` inline.\n\n~~~\nopen to the end")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Install it:", "```bash\n# restore the latest backup\nharbor restore --latest\n\nharbor check\n```",
        "Then start it.", "Use ```x``` inline.", "~~~\nopen to the end"]
    assert split_sentences(text, text.index("Then")) == split_sentences(text)[2:]
    # with Windows line ends the block closes at its fence too (it had run to the end of the file)
    crlf = text.replace("\n", "\r\n")
    assert [crlf[s:e].replace("\r\n", "\n") for s, e in split_sentences(crlf)] == [text[s:e] for s, e in split_sentences(text)]


def test_markdown_emphasis_footnote_marks_and_long_headings_part_sentences():
    # each had been glued to the sentence before or after it
    text = ("Laptops are handed out on the first morning. **You must change your password within 24 hours.** Accounts "
            "are then locked. Permits are issued by reception.[^1] The canteen opens at 11:30. _Bring a cup._\n"
            "## Migrating from version 2 to version 3 of the configuration file format, step by step\n"
            "old keys are read until release 3.4\n## Usage")
    assert sentences(text) == [
        "Laptops are handed out on the first morning.", "**You must change your password within 24 hours.**",
        "Accounts are then locked.", "Permits are issued by reception.[^1]", "The canteen opens at 11:30.", "_Bring a cup._",
        "## Migrating from version 2 to version 3 of the configuration file format, step by step",
        "old keys are read until release 3.4", "## Usage"]
    assert sentences("It is rated 4.5 *stars*. Good.") == ["It is rated 4.5 *stars*.", "Good."]
    assert sentences("Send it to file_name. it stays") == ["Send it to file_name. it stays"]  # lower case after: one


def test_front_matter_fields_are_lines_of_their_own():
    # "---\nlayout: post\n…author: Daniel Ortiz\n---" had been one wrapped sentence, quoted whole
    text = "---\nlayout: post\nauthor: Daniel Ortiz\ndate: 2024-03-02\n---\n\nWe moved the service. It took weeks."
    assert sentences(text) == ["layout: post", "author: Daniel Ortiz", "date: 2024-03-02", "We moved the service.", "It took weeks."]
    assert sentences('+++\r\ntitle = "Notes"\r\n+++\r\nBody.') == ['title = "Notes"', "Body."]  # TOML, Windows line ends
    # not front matter: no field first, or not at the start, or never closed
    assert sentences("---\nThe minutes\nwere read\n---\nBody.") == ["---", "The minutes\nwere read", "---", "Body."]


def test_a_wrapped_list_item_or_block_quote_goes_on_across_its_lines():
    # "- Tom will send the budget to the finance team by" had been cut from "Friday, 22 March."
    notes = "- Tom will send the budget to the finance team by\n  Friday, 22 March.\n- Lena confirmed it.\n"
    assert sentences(notes) == ["- Tom will send the budget to the finance team by\n  Friday, 22 March.", "- Lena confirmed it."]
    quote = "> The outage began when a configuration\n> change removed the route to the\n> Gateway. Traffic recovered at 10:05.\n"
    assert sentences(quote) == ["> The outage began when a configuration\n> change removed the route to the\n> Gateway.",
                                "Traffic recovered at 10:05."]
    # a short item followed by a line that is not indented under it stays apart
    assert sentences("- Milk\nThe store closes at 5.") == ["- Milk", "The store closes at 5."]
