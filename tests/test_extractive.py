"""The extractive answer with the hash embedder and the shipped answer model: which sentences are
candidates, the context each is read with, and how the answer is composed from them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answer import model as answer_model, extractive
from assistant.ingest.sentences import table_cells
from assistant.search.lexical import tokenize

DOC = (
    "The firm's research campus lies in a quiet valley. Its lights never go out.\n\n"
    "Building the research campus cost the firm $1.5 billion, a spokesman said.\n\n"
    "Inside the research campus, appearances deceive. In an area bigger than 365 football "
    "fields, visitors walk along copies of old European streets.\n"
)


@pytest.fixture
def campus(one_document):
    return one_document(DOC, 120)


def _hits(searcher, question):
    vector = searcher.embed([question])
    return vector[0], searcher.search_many([question], 5, vectors=vector)[0]


def test_every_sentence_of_the_hits_is_a_candidate_once_and_verbatim(campus):
    vector, hits = _hits(campus, "How large is the research campus?")
    found = extractive.sentences("How large is the research campus?", vector, hits, campus)
    spans = [(c.hit.source, c.start, c.end) for c in found]
    assert len(spans) == len(set(spans)) == 5  # the document's five sentences
    for c in found:
        assert DOC[c.start : c.end] == c.text
    assert [c.prefilter for c in found] == sorted((c.prefilter for c in found), reverse=True)


def test_the_pre_filter_prefers_sentences_with_the_questions_rarer_words(campus):
    vector, hits = _hits(campus, "What did building the campus cost?")
    best = extractive.sentences("What did building the campus cost?", vector, hits, campus)[0]
    assert best.text.startswith("Building the research campus cost")


def test_the_sentence_before_is_found_across_chunk_boundaries(campus):
    first_of_each = {}
    for chunk in campus.index.chunks:
        s, e = chunk.sentences[0]
        first_of_each[chunk.position] = extractive.previous_sentence(campus, chunk.source, s, e)
    assert first_of_each[0] == ""  # the document's first sentence has none
    assert "Its lights never go out." in first_of_each.values()


def test_a_bridge_reading_model_reads_the_passages_sentence_sharing_most_question_words(one_document):
    whole = one_document(DOC, 1000)  # one passage
    question = "How much did building the research campus cost the firm?"
    vector, hits = _hits(whole, question)
    found = {c.text: c for c in extractive.sentences(question, vector, hits, whole)}
    lights, cost = found["Its lights never go out."], found["Building the research campus cost the firm $1.5 billion, a spokesman said."]
    first = "The firm's research campus lies in a quiet valley."
    assert extractive.pair_texts([lights], whole, question, 40) == [answer_model.pair_text(lights.text, first, cost.text, 40)]
    # the candidate itself and the sentence before it are never its bridge
    assert extractive.passage_bridge(question, cost, whole) != cost.text
    assert extractive.pair_texts([lights, cost], whole, question) == [answer_model.pair_text(lights.text, first), answer_model.pair_text(cost.text, lights.text)]


def test_candidates_are_limited_and_scored_by_the_model(campus):
    question = "How large is the research campus?"
    vector, hits = _hits(campus, question)
    found = extractive.candidates(question, vector, hits, campus, answer_model.load(), limit=3)
    assert len(found) == 3
    assert all(0.0 < c.score < 1.0 for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert extractive.answerability(found) == found[0].score
    assert extractive.answerability([]) == 0.0


def _judging_copy(tmp_path, bridge_for, judges=1, **more):
    import json
    import shutil

    target = tmp_path / f"{bridge_for}-{judges}-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(answer_model.MODEL_DIR, target)
    card = {k: v for k, v in json.loads((target / "card.json").read_text("utf-8")).items() if k != "judge_skip_above"}
    (target / "card.json").write_text(json.dumps(card | {"bridge_chars": 160, "bridge_for": bridge_for, "judge_candidates": judges} | more), "utf-8")
    return answer_model.AnswerModel(target)


def test_a_model_judging_with_the_bridge_chooses_as_without_and_rereads_only_the_best(one_document, tmp_path):
    whole = one_document(DOC, 1000)  # one passage: every candidate has a bridge
    question = "How much did building the research campus cost the firm?"
    vector, hits = _hits(whole, question)
    plain = extractive.candidates(question, vector, hits, whole, answer_model.load(), limit=4)
    judging = _judging_copy(tmp_path, "answerability")
    judged = extractive.candidates(question, vector, hits, whole, judging, limit=4)
    # candidates are read (and so chosen and joined) as by a model without a bridge
    assert [(c.start, c.score) for c in judged] == [(c.start, c.score) for c in plain]
    assert [c.judged is None for c in judged] == [False] + [True] * (len(judged) - 1)
    best = judged[0]
    [reread] = extractive.pair_texts([best], whole, question, 160)
    assert reread != extractive.pair_texts([best], whole, question)[0]  # it did read a bridge
    assert best.judged == pytest.approx(judging.probabilities(question, [reread], [best.cosine], [best.share])[0])
    assert extractive.answerability(judged) == best.judged != best.score
    # judging with the 4 best: the highest of their bridged probabilities, the choice unchanged
    four = _judging_copy(tmp_path, "answerability", judges=4)
    by_four = extractive.candidates(question, vector, hits, whole, four, limit=4)
    assert [(c.start, c.score) for c in by_four] == [(c.start, c.score) for c in plain]
    bridged = four.probabilities(question, extractive.pair_texts(by_four, whole, question, 160),
                                 [c.cosine for c in by_four], [c.share for c in by_four])
    assert extractive.answerability(by_four) == pytest.approx(bridged.max()) and bridged.max() >= best.judged - 1e-9
    # a model reading bridges for every candidate scores them all with it
    every = extractive.candidates(question, vector, hits, whole, _judging_copy(tmp_path, "candidates"), limit=4)
    assert all(c.judged is None for c in every) and extractive.answerability(every) == every[0].score


def test_judges_are_not_read_where_the_plain_best_reaches_the_cards_skip(one_document, tmp_path):
    whole = one_document(DOC, 1000)
    question = "How much did building the research campus cost the firm?"
    vector, hits = _hits(whole, question)
    always = extractive.candidates(question, vector, hits, whole, _judging_copy(tmp_path, "answerability", 4), limit=4)
    best = always[0].score
    assert always[0].judged is not None
    # a skip above the plain best: judged as always; at or below it: not re-read at all
    unsure = extractive.candidates(question, vector, hits, whole, _judging_copy(tmp_path, "answerability", 4, judge_skip_above=min(1.0, best + 1e-6)), limit=4)
    assert extractive.answerability(unsure) == always[0].judged
    sure = _judging_copy(tmp_path, "answerability", 4, judge_skip_above=best)
    calls = []
    read = sure.probabilities
    sure.probabilities = lambda *a, **k: calls.append(a[1]) or read(*a, **k)
    skipped = extractive.candidates(question, vector, hits, whole, sure, limit=4)
    assert len(calls) == 1 and len(calls[0]) == 4  # the plain reading only
    assert [(c.start, c.score, c.judged) for c in skipped] == [(c.start, c.score, None) for c in always]
    assert extractive.answerability(skipped) == best
    # ... unless the abstention threshold in force is above it: skipping then could refuse what a judge answers
    raised = extractive.candidates(question, vector, hits, whole, sure, limit=4, threshold=min(1.0, best + 1e-6))
    assert extractive.answerability(raised) == always[0].judged
    # reading that stopped at a sentence reaching `stop` is not judged either: it answers, as it would without judges
    judging = _judging_copy(tmp_path, "answerability", 4)
    stopped = extractive.candidates(question, vector, hits, whole, judging, limit=4, stop=best)
    assert stopped[0].score >= best and stopped[0].judged is None and extractive.answerability(stopped) == stopped[0].score
    read_on = extractive.candidates(question, vector, hits, whole, judging, limit=4, stop=min(1.0, best + 1e-6))
    assert len(read_on) == 4 and extractive.answerability(read_on) == always[0].judged


def _candidate(hit, start, end, score):
    return extractive.Candidate(0, hit, start, end, DOC[start:end], score, 0.0)


def test_compose_joins_strong_sentences_of_the_best_passage_in_reading_order(campus):
    hits = list(_hits(campus, "campus")[1])
    a, b = hits[0], hits[1]
    a_sentences = [(s, e) for s, e in campus.index.chunks[campus.chunk_row[a.chunk_id]].sentences]
    b_start, b_end = campus.index.chunks[campus.chunk_row[b.chunk_id]].sentences[0]
    found = [
        _candidate(a, *a_sentences[-1], 0.9),
        _candidate(b, b_start, b_end, 0.89),  # another passage: never joins
        _candidate(a, *a_sentences[0], 0.5),  # same passage, over half the best: joins
    ]
    text, citations = extractive.compose([found], max_sentences=3)
    assert [c.quote_start for c in citations] == sorted(c.quote_start for c in citations)
    assert {c.hit.chunk_id for c in citations} == {a.chunk_id}
    assert len(citations) == min(2, len(a_sentences))
    assert text == " ".join(f"{c.quote} [1]" for c in citations)
    weak = [found[0], _candidate(a, *a_sentences[0], 0.3)]
    assert len(extractive.compose([weak], 3)[1]) == 1
    assert extractive.compose([[]], 3) == ("", ())
    # the limit is per part: each part of a multi-part question keeps its best sentence
    other = [_candidate(b, b_start, b_end, 0.8)]
    assert [c.hit.chunk_id for c in extractive.compose([found, other], max_sentences=1)[1]] == [a.chunk_id, b.chunk_id]


def _chosen(one_document, text: str, quote: str) -> extractive.Candidate:
    """`quote` of a one-document index of `text`, as the answer's best sentence."""
    return _chosen_in(one_document(text, 1200), text, quote)


def _chosen_in(searcher, text: str, quote: str) -> extractive.Candidate:
    """`quote` of the one document `searcher` holds (`text`), as the answer's best sentence."""
    (hit,) = searcher.search_many([quote], 1, vectors=searcher.embed([quote]))[0]
    start = text.index(quote)
    return extractive.Candidate(0, hit, start, start + len(quote), quote, 0.9, 0.0)


def _candidate_texts(searcher, question: str) -> list[str]:
    """The candidate sentences of `question`'s passages, as `extractive.sentences` keeps them."""
    vector, hits = _hits(searcher, question)
    return [c.text for c in extractive.sentences(question, vector, hits, searcher)]


def test_a_who_question_answered_by_a_pronoun_sentence_quotes_the_sentence_naming_whom_it_means(one_document):
    # "Who proposed the new bridge?" had been answered "He proposed a new bridge …", the name unquoted
    text = ("The council met on Monday. Mayor Lena Varga spoke first.\nShe proposed a new bridge over the river.\n\n"
            "They voted in June.")
    searcher = one_document(text, 1200)
    chosen = _chosen_in(searcher, text, "She proposed a new bridge over the river.")
    _, citations = extractive.compose([[chosen]], 3, question="Who proposed the new bridge?")
    assert [c.quote for c in citations] == ["Mayor Lena Varga spoke first.", "She proposed a new bridge over the river."]
    assert all(text[c.quote_start:c.quote_end] == c.quote for c in citations)
    # a question not asking who: the sentence alone (for every question it cost quote precision, no answer)
    assert [c.quote for c in extractive.compose([[chosen]], 3, question="What was proposed?")[1]] == [chosen.text]
    # never across a paragraph: "They voted …" stands after a blank line
    later = _chosen_in(searcher, text, "They voted in June.")
    assert [c.quote for c in extractive.compose([[later]], 3, question="Who voted in June?")[1]] == ["They voted in June."]


def test_a_chosen_lead_in_ending_in_a_colon_brings_what_it_announces(one_document):
    # "The cargo list for the voyage was:" had been quoted alone, without the list
    text = ("The ship sailed from Bergen in May.\nThe cargo list for the voyage was:\n- flour\n- salt\n- timber\n- tar\n\n"
            "It reached Leith in June.")
    lead = _chosen(one_document, text, "The cargo list for the voyage was:")
    answer, citations = extractive.compose([[lead]], max_sentences=3)
    # the whole list, to the end of its paragraph (a 4-item list had been cut at 3)
    assert [c.quote for c in citations] == ["The cargo list for the voyage was:", "- flour", "- salt", "- timber", "- tar"]
    assert all(text[c.quote_start : c.quote_end] == c.quote for c in citations) and answer.count("[1]") == 5
    assert len(extractive.compose([[lead]], max_sentences=1)[1]) == 5  # beyond the part's limit, to the paragraph's end
    plain = replace(lead, end=lead.end - 1, text=lead.text[:-1])  # without its colon: alone
    assert [c.quote for c in extractive.compose([[plain]], 3)[1]] == [plain.text]


def test_a_quoted_table_row_brings_its_table_s_header_row(one_document):
    # "| Monthly pass | 55 euros | 62 euros |" had been quoted alone: which number is the new price?
    text = ("Fares change in June.\n\n| Ticket | Current price | New price |\n|---|---|---|\n| Single | 2.40 euros | 2.60 euros |\n"
            "| Monthly pass | 55 euros | 62 euros |\n\nChildren travel free.\n\n| Lyon | 14 |\n| Bordeaux | 22 |")
    row = _chosen(one_document, text, "| Monthly pass | 55 euros | 62 euros |")
    answer, citations = extractive.compose([[row]], max_sentences=3)
    assert [c.quote for c in citations] == ["| Ticket | Current price | New price |", row.text]
    assert all(text[c.quote_start : c.quote_end] == c.quote for c in citations)
    header = replace(row, start=text.index("| Ticket"), end=text.index("| Ticket") + 39, text=text[text.index("| Ticket"):][:39])
    assert [c.quote for c in extractive.compose([[header]], 3)[1]] == [header.text]  # the header row itself: alone
    # a table without a "|---|" line has no header: its first row, data, had been quoted as one
    start = text.index("| Bordeaux")
    plain = replace(row, start=start, end=len(text), text=text[start:])
    assert [c.quote for c in extractive.compose([[plain]], 3)[1]] == [plain.text]


def test_a_quoted_row_of_a_table_with_old_mac_line_endings_brings_its_header_row(one_document):
    # lines ended by a lone "\r" (classic Mac OS): the row had been quoted without its header
    text = "Prices.\r\r| Plan | Price |\r|---|---|\r| Solo | 9 euros |\r| Team | 29 euros |\r"
    row = _chosen(one_document, text, "| Team | 29 euros |")
    _, citations = extractive.compose([[row]], max_sentences=3)
    assert [c.quote for c in citations] == ["| Plan | Price |", row.text]
    assert all(text[c.quote_start : c.quote_end] == c.quote for c in citations)


def test_a_row_far_down_a_long_table_brings_its_header_from_the_passage_that_holds_it(one_document):
    # a row in a later passage than its table's header had been quoted alone
    rows = "".join(f"| Product {i} | {10 + i} EUR |\n" for i in range(60))
    text = f"Prices for 2025.\n\n| Product | Price |\n|---|---|\n{rows}"
    searcher = one_document(text, 300)
    row = _chosen_in(searcher, text, "| Product 57 | 67 EUR |")
    assert row.hit.start > text.index("| Product |") + 300  # the header is in another passage
    answer, citations = extractive.compose([[row]], 3, searcher)
    assert [c.quote for c in citations] == ["| Product | Price |", row.text]
    assert all(text[c.quote_start : c.quote_end] == c.quote for c in citations) and citations[0].hit.start == 0
    assert answer == "| Product | Price | [1]\n| Product 57 | 67 EUR | [2]"  # quoted from its own passage
    assert [c.quote for c in extractive.compose([[row]], 3)[1]] == [row.text]  # (without the index: alone)


def test_a_list_running_past_its_passage_brings_its_items_from_the_passages_after_it(one_document):
    # "How do I install it?" had been answered with the 5 steps before a passage's end, of 6
    text = ("Setup.\n\nBefore brewing, follow these steps:\n1. Remove the packaging.\n2. Soak the filter for 15 minutes.\n"
            "3. Fill the tank. It takes a minute.\n4. Run two cycles.\n- Keep the receipt.\n\nEnjoy your coffee.\n")
    searcher = one_document(text, 60)
    lead_in = _chosen_in(searcher, text, "Before brewing, follow these steps:")
    assert lead_in.hit.end <= text.index("1. Remove")  # nothing follows it in its passage
    answer, citations = extractive.compose([[lead_in]], 3, searcher)
    assert [c.quote for c in citations] == ["Before brewing, follow these steps:", "1. Remove the packaging.",
                                            "2. Soak the filter for 15 minutes.", "3. Fill the tank.", "It takes a minute.",
                                            "4. Run two cycles."]  # a sentence on an item's line too, not the "- " list after it
    assert all(text[c.quote_start : c.quote_end] == c.quote for c in citations)
    assert len({c.n for c in citations}) > 1  # quoted from the passages that hold them
    assert [c.quote for c in extractive.compose([[lead_in]], 3)[1]] == [lead_in.text]  # (without the index: alone)
    # an item that its passage goes on after brings nothing from the next passages
    first = _chosen_in(searcher, text, "1. Remove the packaging.")
    assert first.hit.text.startswith("1. Remove the packaging.\n2. Soak")
    assert [c.quote for c in extractive.compose([[first]], 3, searcher)[1]] == [first.text]
    # nor does one item alone at its passage's end: it answers on its own, as it does within a passage
    second = _chosen_in(searcher, text, "2. Soak the filter for 15 minutes.")
    assert second.hit.text.endswith("2. Soak the filter for 15 minutes.")
    assert [c.quote for c in extractive.compose([[second]], 3, searcher)[1]] == [second.text]
    both = extractive.compose([[first, replace(second, score=0.8)]], 3, searcher)[1]  # two items: the whole list
    assert [c.quote for c in both][-1] == "4. Run two cycles."


def test_two_chosen_items_of_a_lettered_list_bring_the_list_of_that_kind(one_document):
    text = "We will not pay for:\n\na) Undeclared conditions.\nb) Unattended baggage.\n(c) Riots.\n1. A numbered step.\n"
    searcher = one_document(text, 1200, "policy.txt")
    a, b = _chosen_in(searcher, text, "a) Undeclared conditions."), _chosen_in(searcher, text, "b) Unattended baggage.")
    answer, citations = extractive.compose([[a, replace(b, score=0.8)]], 2)
    assert [c.quote for c in citations] == ["a) Undeclared conditions.", "b) Unattended baggage.", "(c) Riots."]  # not the step
    assert answer == "a) Undeclared conditions. [1]\nb) Unattended baggage. [1]\n(c) Riots. [1]"  # each on a line of its own


def test_a_list_goes_on_past_its_passage_after_an_item_s_second_sentence(one_document):
    # the passage ends on item 2's second sentence: its list had stopped there
    text = "Setup.\n\n1. Remove the packaging.\n2. Soak the filter. Wait 15 minutes.\n3. Fill the tank.\n4. Brew.\n"
    searcher = one_document(text, 70)
    first, second = _chosen_in(searcher, text, "1. Remove the packaging."), _chosen_in(searcher, text, "2. Soak the filter.")
    assert first.hit.text.endswith("Wait 15 minutes.")
    quotes = [c.quote for c in extractive.compose([[first, replace(second, score=0.8)]], 3, searcher)[1]]
    assert quotes == ["1. Remove the packaging.", "2. Soak the filter.", "Wait 15 minutes.", "3. Fill the tank.", "4. Brew."]


def test_a_lead_in_whose_passage_ends_after_one_item_brings_the_rest_of_its_list(one_document):
    text = "Setup.\n\nDo this:\na) Unpack it.\nb) Fill the tank with water.\nc) Brew a first pot of water.\n"
    searcher = one_document(text, 30)
    lead_in = _chosen_in(searcher, text, "Do this:")
    assert lead_in.hit.text.endswith("a) Unpack it.")
    assert [c.quote for c in extractive.compose([[lead_in]], 3, searcher)[1]] == [
        "Do this:", "a) Unpack it.", "b) Fill the tank with water.", "c) Brew a first pot of water."]


def test_two_chosen_items_of_one_list_bring_the_list_each_on_a_line_of_its_own(one_document):
    # "How do I install the cartridge?" had been answered with steps 2 and 4 of five
    text = ("## Installing the cartridge\n\n1. Unplug the unit.\n2. Twist the old cartridge out.\n3. Soak the new one.\n"
            "4. Twist the new one in.\n5. Press RESET.\n\nReplace it every 60 days.")
    second = _chosen(one_document, text, "2. Twist the old cartridge out.")
    step = "4. Twist the new one in."
    start = text.index(step)
    fourth = replace(second, start=start, end=start + len(step), text=step, score=0.6)
    answer, citations = extractive.compose([[second, fourth]], max_sentences=3)
    steps = [line for line in text.splitlines() if line[:1].isdigit()]
    assert [c.quote for c in citations] == steps
    assert all(text[c.quote_start : c.quote_end] == c.quote for c in citations)
    assert answer == "\n".join(f"{step} [1]" for step in steps)
    # one chosen item stays alone, and prose after a list item starts a line of its own
    assert [c.quote for c in extractive.compose([[second]], 3)[1]] == [second.text]
    start = text.index("Replace")
    prose = replace(second, start=start, end=len(text), text=text[start:], score=0.5)
    assert extractive.compose([[second, prose]], 3)[0] == f"{second.text} [1]\n{prose.text} [1]"


def test_the_whole_list_is_one_list_of_two_chosen_items_and_never_more_than_the_most(one_document):
    text = ("1. Download it.\n2. Run setup.\n3. Restart.\n\n- Windows 95 is not supported.\n- It costs $40.\n\n"
            "Board:\n" + "\n".join(f"- Member {i} of the board." for i in range(1, 31)) + "\n\n1. Leave. Staff get 25 days.\n2. Pay.")

    base = _chosen(one_document, text, "2. Run setup.")

    def chosen(*quotes):
        return [replace(base, start=text.index(q), end=text.index(q) + len(q), text=q) for q in quotes]

    got = [c.quote for c in extractive.compose([chosen("2. Run setup.", "3. Restart.")], 3)[1]]
    assert got == ["1. Download it.", "2. Run setup.", "3. Restart."]  # not the bullets after the blank line
    got = [c.quote for c in extractive.compose([chosen("- Member 1 of the board.", "- Member 30 of the board.")], 3)[1]]
    assert got == ["- Member 1 of the board.", "- Member 30 of the board."]  # 30 items: more than the most
    got = [c.quote for c in extractive.compose([chosen("1. Leave.", "Staff get 25 days.")], 3)[1]]
    assert got == ["1. Leave.", "Staff get 25 days."]  # two sentences of one item are one item


def test_a_sentence_under_another_markdown_heading_does_not_join_the_answer(one_document):
    # "## Parental leave" had been quoted in an answer on annual leave
    text = ("## Annual leave\n\nStaff receive 25 days of leave a year.\n\n## Parental leave\n\n"
            "Parents receive 16 weeks of leave.")
    best = _chosen(one_document, text, "Staff receive 25 days of leave a year.")
    start = text.index("Parents")
    other = replace(best, start=start, end=len(text), text=text[start:], score=0.85)
    as_markdown = [replace(c, hit=replace(c.hit, source="handbook.md")) for c in (best, other)]
    assert [c.quote for c in extractive.compose([as_markdown], 3)[1]] == [best.text]
    assert [c.quote for c in extractive.compose([[best, other]], 3)[1]] == [best.text, other.text]  # in plain text: a "#" is text


def test_a_markdown_heading_underlined_with_dashes_is_no_candidate_and_parts_sections(one_document):
    # "Parental leave" over "--------------" had been quoted before its section's answer, and a
    # sentence of the next section joined to an answer on annual leave
    text = ("Annual leave\n------------\n\nStaff receive 25 days of leave a year.\n\nParental leave\n==============\n\n"
            "Parents receive 16 weeks of leave.")
    searcher = one_document(text, 1200, "handbook.md")
    texts = _candidate_texts(searcher, "How long is parental leave?")
    assert "Parental leave" not in texts and "Annual leave" not in texts and "Parents receive 16 weeks of leave." in texts
    best = _chosen_in(searcher, text, "Staff receive 25 days of leave a year.")
    start = text.index("Parents")
    other = replace(best, start=start, end=len(text), text=text[start:], score=0.85)
    assert [c.quote for c in extractive.compose([[best, other]], 3)[1]] == [best.text]


def test_a_web_page_s_headings_are_no_candidates_as_a_markdown_file_s(one_document, tmp_path):
    # a web page is read as Markdown (its <h2> "## 4. How to request remote work"): its heading had been the answer
    from assistant.ingest.documents import load

    page = tmp_path / "policy.html"
    page.write_text("<h2>4. How to request remote work</h2><ol><li>Ask your manager.</li><li>Fill in the form.</li></ol>")
    text = load(page).text
    assert text.startswith("## 4. How to request remote work\n\n1. Ask your manager.\n2. Fill in the form.")
    texts = _candidate_texts(one_document(text, 1200, "policy.html"), "How do I request remote work?")
    assert not [t for t in texts if "How to request" in t] and any("Ask your manager." in t for t in texts)


def test_a_list_item_s_second_sentence_stays_on_its_line(one_document):
    # "5. Press rinse." then "The program ends …" had been put on a line of its own, read as a step of its own
    text = "Descaling:\n\n4. Fill the tank.\n5. Press the rinse button. The program ends when the light goes out.\n\nDone."
    best = _chosen(one_document, text, "5. Press the rinse button.")
    start = text.index("The program ends")
    after = replace(best, start=start, end=start + len("The program ends when the light goes out."),
                    text="The program ends when the light goes out.", score=0.85)
    answer, citations = extractive.compose([[best, after]], 3)
    assert answer == "5. Press the rinse button. [1] The program ends when the light goes out. [1]"
    step = text.index("4. Fill")
    before = replace(best, start=step, end=step + len("4. Fill the tank."), text="4. Fill the tank.", score=0.85)
    assert extractive.compose([[best, before]], 3)[0] == (  # items a line each; the item's sentences on its line
        "4. Fill the tank. [1]\n5. Press the rinse button. [1] The program ends when the light goes out. [1]")


def test_a_sentence_said_twice_is_quoted_once_and_a_heading_stands_on_its_line(one_document):
    # a repeated disclaimer had been quoted twice in one answer; a sheet overview's "# Contacts"
    # heading had run on into the line after it
    text = "Vans carry snow chains in winter. Drivers check them weekly.\n\nVans  carry snow chains\nin winter."
    best = _chosen(one_document, text, "Vans carry snow chains in winter.")
    start = text.rindex("Vans")
    again = replace(best, start=start, end=len(text), text=text[start:], score=0.85)
    assert [c.quote for c in extractive.compose([[best, again]], 3)[1]] == [best.text]
    assert extractive.joined([("# Contacts", 1), ("Regional contacts", 1)]) == "# Contacts [1]\nRegional contacts [1]"


def test_a_terminal_shows_a_pdf_s_justified_wrapped_quote_tidied_and_the_answer_stays_verbatim(one_document):
    from assistant.answer.types import Answer
    from assistant.interfaces import cli

    text = "The  maximum  load  for  a  standard  van  is\n1,150  kg.\n\n| Van | Load |\n|---|\n| Standard | 1,150 kg |"
    best = _chosen(one_document, text, "The  maximum  load  for  a  standard  van  is\n1,150  kg.")
    answer_text, citations = extractive.compose([[best]], 3)
    assert answer_text == "The  maximum  load  for  a  standard  van  is\n1,150  kg. [1]"  # verbatim: its offsets hold
    answer = Answer(question="q", text=answer_text, citations=citations, abstained=False, hits=())
    assert cli._readable(answer) == "The maximum load for a standard van is 1,150 kg. [1]"
    assert cli._readable(replace(answer, text="A language model's own words.")) == "A language model's own words."


def test_a_question_beside_the_answer_does_not_join_it(one_document):
    # an FAQ's next question, "**Which payment methods do you accept?**", had joined the refund answer
    text = ("**Do you offer refunds?**\nAnnual plans can be refunded within 30 days.\n**Which payment methods do you accept?**\n"
            "We accept cards.")
    searcher = one_document(text, 1200, "faq.md")
    assert "**Do you offer refunds?**" not in _candidate_texts(searcher, "Do you offer refunds?")  # the question again, in bold
    best = _chosen_in(searcher, text, "Annual plans can be refunded within 30 days.")
    start = text.index("**Which")
    asking = replace(best, start=start, end=start + 40, text=text[start : start + 40], score=0.85)
    assert asking.text.endswith("?**")
    assert [c.quote for c in extractive.compose([[best, asking]], 3)[1]] == [best.text]


def test_a_chosen_faq_question_line_is_answered_by_the_entry_under_it(one_document):
    # "How do I cancel?" had been answered "**How do I cancel my membership?**", the entry's question
    text = ("# FAQ\n\n**How do I cancel my membership?**\nSend one month's written notice. Refunds are not given.\n\n"
            "**Can I bring a guest?**\nOne guest a month is free.\n**Is there parking?**\n")
    searcher = one_document(text, 1200, "faq.md")
    asked = _chosen_in(searcher, text, "**How do I cancel my membership?**")
    assert [c.quote for c in extractive.compose([[asked]], 3)[1]] == ["Send one month's written notice.", "Refunds are not given."]
    guest = _chosen_in(searcher, text, "**Can I bring a guest?**")
    assert [c.quote for c in extractive.compose([[guest]], 3)[1]] == ["One guest a month is free."]  # not the next question
    # one with nothing after it in its passage stays as it is
    last = _chosen_in(searcher, text, "**Is there parking?**")
    assert [c.quote for c in extractive.compose([[last]], 3)[1]] == ["**Is there parking?**"]


def test_a_chosen_plain_text_heading_is_answered_by_what_it_heads_and_never_joins(one_document):
    # "What are the action items?" had been answered "Action items", the heading of the list
    text = ("Minutes\n\nThe team met on Monday.\n\nAction items\n- Ana: book the hall by Friday.\n- Ben: order the chairs.\n\n"
            "Security deposit\nThe deposit is two months' rent.")
    searcher = one_document(text, 1200, "minutes.txt")
    heading = _chosen_in(searcher, text, "Action items")
    assert [c.quote for c in extractive.compose([[heading]], 3)[1]] == ["- Ana: book the hall by Friday.", "- Ben: order the chairs."]
    answer = _chosen_in(searcher, text, "The deposit is two months' rent.")
    start = text.index("Security deposit")
    named = replace(answer, start=start, end=start + len("Security deposit"), text="Security deposit", score=0.8)
    assert [c.quote for c in extractive.compose([[answer, named]], 3)[1]] == [answer.text]  # the heading does not join
    # each line below stands after a blank line with a line after it, as "Action items" does, yet heads nothing
    for line in ("The team met on Monday.", "x = compute(a, b)", "Monthly rent: 1,250 EUR",
                 "The meeting moved from the old hall to the new one"):  # a sentence, code, a value, past 8 words
        assert extractive._plain_heading(_line_in(answer, "Action items")) and not extractive._plain_heading(_line_in(answer, line))
    # a numbered line over prose is a numbered heading; over another item, or under one, it is an item
    assert extractive._plain_heading(_line_in(answer, "1. Executive Summary"))
    assert not extractive._plain_heading(replace(_line_in(answer, "1. Milk"), hit=replace(answer.hit, text="Intro.\n\n1. Milk\n2. Eggs\n")))
    assert not extractive._plain_heading(_line_in(answer, "- Milk"))
    # nor does an unpunctuated line straight under another line (a sentence whose period was left out)
    under = replace(answer, hit=replace(answer.hit, text="Agenda\nThe meeting is on Friday at 10\nBring your laptop."))
    assert not extractive._plain_heading(replace(under, start=under.hit.start + 7, end=under.hit.start + 37, text="The meeting is on Friday at 10"))


def test_a_heading_after_its_section_number_is_answered_by_its_section_and_never_joins(one_document):
    # "Clause 4. Security deposit": the splitter parts "Clause 4." from the name, which had joined the answer
    text = ("Lease\n\nClause 3. Utilities\n\nWater is included.\n\nClause 4. Security deposit\n\n"
            "The deposit is two months' rent. It is returned within 30 days.\n\nIV. Pets\nSmall pets are allowed.\n")
    searcher = one_document(text, 1200, "lease.txt")
    named = _chosen_in(searcher, text, "Security deposit")
    assert extractive._plain_heading(named)
    assert [c.quote for c in extractive.compose([[named]], 3)[1]] == ["The deposit is two months' rent.", "It is returned within 30 days."]
    answer = _chosen_in(searcher, text, "The deposit is two months' rent.")
    assert [c.quote for c in extractive.compose([[answer, replace(named, score=0.8)]], 3)[1]] == [answer.text]  # it does not join
    assert extractive._plain_heading(_chosen_in(searcher, text, "Pets"))  # a roman numeral, its text on the next line
    # a line that goes on before it with more than a number is no heading: "Rent paid late costs 50 EUR"
    for before in ("Rent paid late. ", "See clause 4. ", "Dr. "):
        line = f"{before}Security deposit"
        moved = _line_in(answer, line)
        cut = replace(moved, start=moved.start + len(before), text="Security deposit")
        assert not extractive._plain_heading(cut), before


def test_a_line_opening_with_a_section_number_is_a_heading_unless_its_neighbours_are_numbered_alike(one_document):
    answer = _chosen_in(one_document("Some text.", 1200), "Some text.", "Some text.")

    def heading(text: str, line: str) -> bool:
        start = answer.hit.start + text.index(line)
        return extractive._plain_heading(replace(answer, hit=replace(answer.hit, text=text), start=start, end=start + len(line), text=line))

    # a blank line after a numbered or labelled heading (a text file's manual or policy), a colon after its label
    assert heading("Call support.\n\n9. Warranty and Support\n\nThe warranty lasts 2 years.\n", "9. Warranty and Support")
    assert heading("Fees apply.\n\nPART E: HOW TO MAKE A CLAIM\n\nCall us first.\n", "PART E: HOW TO MAKE A CLAIM")
    assert heading("Intro.\n\nSECTION 2: DEFINITIONS\nA day is 24 hours.\n", "SECTION 2: DEFINITIONS")
    # "4." over its "4.1." clauses, or a part over a numbered list, is a heading: another depth, another kind
    assert heading("Intro.\n\n4. Security Deposit\n\n4.1. It is two months' rent.\n", "4. Security Deposit")
    assert heading("Fees apply.\n\nPART B: WHAT IS COVERED\n\n1. Emergency medical expenses.\n", "PART B: WHAT IS COVERED")
    # items numbered alike next to it make it a list's item: "Unplug the machine" had been taken for a heading
    steps = "Setup\n\nStep 1. Unplug the machine\nStep 2. Remove the filter\n\nThe machine is ready.\n"
    assert not heading(steps, "Unplug the machine") and not heading(steps, "Remove the filter")
    assert not heading("Buy:\n\n1. Milk\n\n2. Eggs\n\nThat is all.\n", "2. Eggs")
    assert not heading("Buy:\n\n1. Milk\n\n2. Eggs\n\nThat is all.\n", "1. Milk")
    # a label does not make a statement or a value a heading
    for line in ("WARNING: HOT SURFACE", "Step 1: Unplug it", "Room 4: 1,250 EUR", "Phase 2: Complete", "CLI: run it from a terminal"):
        assert not heading(f"Intro.\n\n{line}\n\nMore text here.\n", line), line
    # nor a step whose code follows it: "1. Clone the repository" over its command had been answered by the command alone
    readme = "Setup.\n\n1. Clone the repository\n\n```\ngit clone x\n```\n\n2. Install it\n"
    assert not heading(readme, "1. Clone the repository")


def test_no_sentence_joins_an_answer_across_a_text_file_s_section_heading(one_document):
    # "By what time must a sick employee inform their line manager?" had been answered with Section 3's notice rule too
    text = ("Section 3. Parental Leave\n\n3.6 Notice. Employees must notify their line manager 15 weeks before.\n\n"
            "Section 4. Sick Leave\n\n4.1 Employees who are ill must inform their line manager by 9:30.\n"
            "4.2 A form is completed for short absences.\n")
    searcher = one_document(text, 1200, "policy.txt")
    best = _chosen_in(searcher, text, "4.1 Employees who are ill must inform their line manager by 9:30.")
    other_section = replace(_chosen_in(searcher, text, "Employees must notify their line manager 15 weeks before."), score=0.8)
    same_section = replace(_chosen_in(searcher, text, "4.2 A form is completed for short absences."), score=0.8)
    assert [c.quote for c in extractive.compose([[best, other_section, same_section]], 3)[1]] == [best.text, same_section.text]
    # a question of several parts may ask about several sections ("What is the rent and how big is the deposit?")
    assert other_section.text in [c.quote for c in extractive.compose([[best, other_section, same_section]], 3, several=True)[1]]
    # a line of a wrapped sentence is no heading: "The fee doubles …" still joins an answer on the fees
    fees = "Payment terms are strict.\n\nLate fees of 50 EUR apply after\nfive days. The fee doubles after ten days.\n"
    on_fees = [replace(best, hit=replace(best.hit, text=fees, start=0, end=len(fees)), start=fees.index(q), end=fees.index(q) + len(q), text=q)
               for q in ("Payment terms are strict.", "The fee doubles after ten days.")]
    assert not extractive._heading_between(*on_fees)
    # a chosen heading is answered by its section, without the sentence above it ("How do I make a claim?")
    heading = _chosen_in(searcher, text, "Section 4. Sick Leave")
    assert [c.quote for c in extractive.compose([[heading, other_section]], 3)[1]] == [
        "4.1 Employees who are ill must inform their line manager by 9:30.", "4.2 A form is completed for short absences."]


def test_a_heading_over_a_long_paragraph_brings_at_most_max_sentences_but_a_whole_list(one_document):
    # "Termination" over a 12-sentence clause had quoted all 12 with max_sentences=3
    text = ("Lease\n\nTermination\nOne. Two. Three. Four. Five.\n\nSteps\n- Pack.\n- Clean.\n- Return the keys.\n- Leave.\n")
    searcher = one_document(text, 1200, "lease.txt")
    heading = _chosen_in(searcher, text, "Termination")
    assert [c.quote for c in extractive.compose([[heading]], 3)[1]] == ["One.", "Two.", "Three."]
    steps = _chosen_in(searcher, text, "Steps")
    assert [c.quote for c in extractive.compose([[steps]], 3)[1]] == ["- Pack.", "- Clean.", "- Return the keys.", "- Leave."]


def _line_in(cand, line: str):
    """`cand` moved to `line`, standing after a blank line with text on the line after it."""
    text = f"Intro.\n\n{line}\nWhat follows it.\n"
    start = cand.hit.start + text.index(line)
    return replace(cand, hit=replace(cand.hit, text=text), start=start, end=start + len(line), text=line)


def test_a_question_in_prose_chosen_stays_as_it_is(one_document):
    text = "Why does it rattle? The fan is loose."
    asking = _chosen(one_document, text, "Why does it rattle?")
    assert [c.quote for c in extractive.compose([[asking]], 3)[1]] == ["Why does it rattle?"]


def test_a_lead_in_brings_nothing_past_the_next_markdown_heading(one_document):
    # "run the following command:" had brought the command, then the next section's heading and text
    text = ("## Installation\n\nTo install it, run the following command:\n\n```\npip install ferry-sync\n```\n\n## Usage\n\n"
            "Run it with a source and a target. Add a flag to see what would be copied.")
    searcher = one_document(text, 1200, "ferry.md")
    lead = _chosen_in(searcher, text, "To install it, run the following command:")
    assert [c.quote for c in extractive.compose([[lead]], 3)[1]] == [lead.text, "```\npip install ferry-sync\n```"]


def test_a_quotation_of_several_sentences_is_quoted_whole(one_document):
    # "What did Ana Ruiz say about the budget?" had been answered with the half holding her name
    text = ('The library will close on Sundays, the council said.\n\n"We have cut the book budget twice. Closing on '
            'Sundays saves money," said director Ana Ruiz. She spoke on Monday.')
    named = _chosen(one_document, text, 'Closing on Sundays saves money," said director Ana Ruiz.')
    assert [c.quote for c in extractive.compose([[named]], 3)[1]] == ['"We have cut the book budget twice.', named.text]
    start = text.index('"We')
    opening = replace(named, start=start, end=start + 35, text=text[start : start + 35])
    assert [c.quote for c in extractive.compose([[opening]], 3)[1]] == [opening.text, named.text]
    start = text.index("She spoke")
    plain = replace(named, start=start, end=len(text), text=text[start:])
    assert [c.quote for c in extractive.compose([[plain]], 3)[1]] == [plain.text]  # no quotation: alone


def test_a_row_of_dashes_or_a_lone_fence_is_no_candidate():
    assert not extractive.states_something("|---|:---:|") and not extractive.states_something("```")
    assert extractive.states_something("| Single | 2 euros |")
    # a README's markup alone ('<img …>') is no candidate in Markdown; a sentence with tags in it is one
    assert not extractive.states_something('<img src="logo.svg" alt="Logo">') and not extractive.states_something("<p>")
    assert extractive.states_something("<b>Tessera</b> renders tiles.")


def test_an_faq_question_line_before_its_answer_line_is_no_candidate(one_document):
    text = "# FAQ\n\nQ: Can I sync notes with Dropbox?\nA: Not yet. Sync is planned for version 2.0.\n\nQ: Is it free?\n"
    texts = _candidate_texts(one_document(text, 1200), "Can I sync with Dropbox?")
    assert "Q: Can I sync notes with Dropbox?" not in texts and "A: Not yet." in texts
    assert "Q: Is it free?" in texts  # no answer line after it: it stays


def test_a_document_s_unpunctuated_title_is_no_candidate(one_document):
    # "Were there any side effects?" had been answered with the study's title
    text = "Effects of Green Tea Extract on Blood Pressure\n\nBlood pressure fell. Two participants reported mild nausea."
    searcher = one_document(text, 1200)
    texts = _candidate_texts(searcher, "Were there any side effects?")
    assert "Effects of Green Tea Extract on Blood Pressure" not in texts and "Two participants reported mild nausea." in texts
    assert _hits(searcher, "Were there any side effects?")[1][0].title == "Effects of Green Tea Extract on Blood Pressure"


def test_a_markdown_table_s_header_row_is_no_candidate_but_comes_with_its_rows(one_document):
    # "| Element | Symbol |" alone had been the answer to "What is the symbol for dysprosium?"
    text = "Rare earths.\n\n| Element | Symbol |\n|---|:---:|\n| Dysprosium | Dy |\n| Europium | Eu |\n"
    searcher = one_document(text, 1200)
    texts = _candidate_texts(searcher, "What is the symbol for dysprosium?")
    assert "| Element | Symbol |" not in texts and "| Dysprosium | Dy |" in texts
    row = _chosen_in(searcher, text, "| Dysprosium | Dy |")
    assert [c.quote for c in extractive.compose([[row]], 3)[1]] == ["| Element | Symbol |", "| Dysprosium | Dy |"]


def test_a_table_row_is_read_by_the_model_with_its_columns_names_after_the_sentence_before_its_table(one_document):
    # "| Lyon | 14 |" alone had been given 0.005 for "How many staff work in Lyon?": which figure is which?
    text = ("Staff by store, March.\n\n| City | Staff | Opened |\n|---|---|---|\n| Lyon | 14 | 2019 |\n"
            "| Paris |  | 2012 |\n| Nice | 9 |\n\n| Warehouse | Area |\n|---|---|\n| Lille | 5200 |\n\n"
            "| Day | Hours |\n| Monday | closed |\n| Tuesday | 9 to 18 |\n\nTotals follow.\n\n"
            "| Model | " + " | ".join(f"Column {n} of the wide table" for n in range(12)) + " |\n|---|\n"
            "| Aria | " + " | ".join(f"value {n}" for n in range(12)) + " |")
    searcher = one_document(text, 80)  # the rows fall in other chunks than their header
    assert not any("| City |" in c.text and "| Paris |" in c.text for c in searcher.index.chunks)
    source = searcher.index.chunks[0].source

    def read(row):
        start = text.index(row)
        return extractive.as_table_row(searcher, source, start, start + len(row), row)

    assert read("| Lyon | 14 | 2019 |") == ("City: Lyon; Staff: 14; Opened: 2019", "Staff by store, March.")
    assert read("| Paris |  | 2012 |") == ("City: Paris; Opened: 2012", "Staff by store, March.")  # an empty cell is left out
    # a second table after a blank line has its own header, and no sentence of its own before it
    assert read("| Lille | 5200 |") == ("Warehouse: Lille; Area: 5200", "")
    assert read("| Nice | 9 |") is None  # other cells than its header's: read as it stands
    assert read("| City | Staff | Opened |") is None  # the header itself
    assert read("| Tuesday | 9 to 18 |") is None  # a first row with no "|---|" under it may be data: no header
    assert read("| Aria | " + " | ".join(f"value {n}" for n in range(12)) + " |") is None  # too wide to read with its names
    assert read("Totals follow.") is None
    row = _chosen_in(searcher, text, "| Lyon | 14 | 2019 |")
    assert extractive.pair_texts([row], searcher) == [answer_model.pair_text("City: Lyon; Staff: 14; Opened: 2019",
                                                                            "Staff by store, March.")]
    plain = _chosen_in(searcher, text, "Totals follow.")
    assert extractive.pair_texts([plain], searcher) == [answer_model.pair_text("Totals follow.", "| Tuesday | 9 to 18 |")]


def test_a_wide_row_is_read_with_its_first_cell_and_the_asked_column_s_name(one_document):
    # a 40-column sheet's row had been read as bare cells: "What is Bo Chen's parking spot?" was refused
    names = ["Name", *(f"Field {n} of the staff record" for n in range(30)), "Parking spot"]
    row = "| Bo Chen | " + " | ".join(f"entry {n}" for n in range(30)) + " | P-22 |"
    text = "Staff records.\n\n| " + " | ".join(names) + " |\n|---|\n" + row + "\n"
    searcher = one_document(text, 2000)
    start = text.index(row)
    source = searcher.index.chunks[0].source
    assert extractive.as_table_row(searcher, source, start, start + len(row), row) is None  # no question: as it stands
    read, before = extractive.as_table_row(searcher, source, start, start + len(row), row, "What is Bo Chen's parking spot?")
    assert read.startswith("Name: Bo Chen; Field 0 of the staff record: entry 0;") and read.endswith("; Parking spot: P-22")
    assert len(read) <= extractive.ROW_READ_MOST and before == "Staff records."


def test_a_row_far_down_a_long_table_is_read_with_its_header(one_document):
    # past 500 rows a data row had been taken for the header, and another person's number quoted
    rows = [f"| Person {n} | {1000 + n} |" for n in range(1200)]
    text = "Phone list.\n\n| Name | Extension |\n|---|---|\n" + "\n".join(rows)
    searcher = one_document(text, 1200)
    source = searcher.index.chunks[0].source
    for row in (rows[1100], rows[5], rows[700]):
        start = text.index(row + "\n") if row != rows[-1] else text.index(row)
        name, extension = table_cells(row)
        assert extractive.as_table_row(searcher, source, start, start + len(row), row) == \
            (f"Name: {name}; Extension: {extension}", "Phone list.")


def test_lexical_tokens_are_stemmed_content_words():
    assert tokenize("The researchers' networks") == tokenize("a research network")
    assert tokenize("the and of") == []
    assert tokenize("Ünïcode café") == ["ünïcode", "café"]


def test_lexical_tokens_are_the_same_whether_their_stems_were_kept_or_not(monkeypatch):
    from assistant.search import lexical

    text = "Regulators tested the routers; the routers' testers regulated nothing"
    monkeypatch.setattr(lexical, "_stem_cache", {})
    monkeypatch.setattr(lexical, "STEM_CACHE_WORDS", 0)  # full: nothing is kept
    unkept = tokenize(text)
    assert lexical._stem_cache == {}
    monkeypatch.setattr(lexical, "STEM_CACHE_WORDS", 100)
    first, again = tokenize(text), tokenize(text)  # stemmed, then read from the kept stems
    assert lexical._stem_cache["routers"] == "router"
    assert unkept == first == again == ["regul", "test", "router", "router", "tester", "regul", "noth"]


def test_a_candidate_whose_passage_lacks_a_number_the_question_states_keeps_a_tenth(campus):
    question = "What cost the firm 1.5 billion dollars?"  # states 1 and 5: only the second passage does
    vector, hits = _hits(campus, question)
    model = answer_model.load()
    checked = extractive.candidates(question, vector, hits, campus, model, limit=5)
    plain = {(c.start, c.end): c.score for c in extractive.candidates(question, vector, hits, campus, model, limit=5, check_numbers=False)}
    assert len(checked) == len(plain) == 5
    read = dict(zip([(c.start, c.end) for c in checked], extractive.pair_texts(checked, campus, question)))
    for c in checked:
        states = "1.5 billion" in c.hit.text + read[(c.start, c.end)]  # its passage, or the sentence read before it
        assert c.score == pytest.approx(plain[(c.start, c.end)] * (1 if states else extractive.UNSTATED_SHARE))
    assert "1.5 billion" in checked[0].hit.text


def test_the_judges_reading_is_checked_too_and_a_number_question_reads_every_candidate(one_document, tmp_path):
    whole = one_document(DOC, 1000)  # one passage: every candidate has a bridge
    question = "How much did building the research campus cost the firm in 2019?"  # no sentence states 2019
    vector, hits = _hits(whole, question)
    judging = _judging_copy(tmp_path, "answerability", 4)
    unchecked = extractive.candidates(question, vector, hits, whole, judging, limit=4, check_numbers=False)
    checked = extractive.candidates(question, vector, hits, whole, judging, limit=4)
    assert checked[0].judged is not None  # the judges were read, and their probabilities checked as well
    assert extractive.answerability(checked) <= extractive.UNSTATED_SHARE < extractive.answerability(unchecked)
    # a reading that would stop at the first candidate reaching `stop` reads all four: the first may lack the number
    assert len(extractive.candidates(question, vector, hits, whole, judging, limit=4, stop=1e-6)) == 4
    assert len(extractive.candidates(question, vector, hits, whole, judging, limit=4, stop=1e-6, check_numbers=False)) == 1
