"""The statistics the benchmarks and the training report: ranking AUC and the dev-split threshold."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.answers import auc
from training.pairs import Sentence, TrainQuestion
from training.train import evaluate


def test_auc_counts_pairs_ranked_right_and_ties_as_half():
    labels = np.array([1, 1, 0, 0])
    assert auc(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 1.0
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 0.0
    assert auc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5
    assert auc(np.array([0.9, 0.3, 0.5, 0.1]), labels) == 0.75
    assert np.isnan(auc(np.array([0.9, 0.8]), np.array([1, 1])))


def _question(i: int) -> TrainQuestion:
    def s(text):
        return Sentence(f"d{i}", 0, len(text), text)

    return TrainQuestion(f"q{i}", f"q{i}", ("x",), (s(f"answer {i}"),), (s(f"other {i}"), s(f"more {i}")), (s(f"near {i}"),))


def test_evaluate_picks_the_threshold_for_the_stated_false_refusal_rate():
    items = [_question(i) for i in range(100)]

    def scorer(question, texts):
        i = int(question[1:])
        # Answer sentences score 0.5..0.99 by question; everything else 0.3, except in the last
        # ten questions, where an on-topic sentence outscores the answer.
        own = 0.5 + 0.49 * i / 99
        return np.array([own if t.startswith("answer") else (0.995 if i >= 90 and t.startswith("other") else 0.3) for t in texts])

    figures = evaluate(scorer, items, false_refusal=0.05)
    assert figures["questions"] == 100
    assert figures["top1_sentence"] == 0.9
    assert abs(figures["false_refusal"] - 0.05) <= 0.011
    # Unanswerable: the best of the answer-free sentences; 0.3 for 90 questions, refused.
    assert figures["unanswerable_refused"] == 0.9
    assert 0.5 < figures["threshold"] < 0.6


def test_the_followup_set_is_well_formed():
    """Every follow-up names an earlier question and a stand-alone wording; answerable rows give
    evidence holding an answer (at its offsets in the xquad_en document, where the evaluation
    data is present); unanswerable rows give neither answers nor evidence; ids are unique."""
    import json
    from pathlib import Path

    from benchmarks.answers import FOLLOWUP_QUESTIONS
    from benchmarks.evaldata import EVALDATA

    rows = [json.loads(line) for line in FOLLOWUP_QUESTIONS.read_text("utf-8").splitlines()]
    docs = {}
    if (Path(EVALDATA) / "xquad_en" / "docs.jsonl").is_file():
        for line in (Path(EVALDATA) / "xquad_en" / "docs.jsonl").read_text("utf-8").splitlines():
            doc = json.loads(line)
            docs[doc["id"]] = doc["text"]
    assert len(rows) >= 60 and len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        assert row["history"] and all(h.strip() for h in row["history"]), row["id"]
        assert row["standalone"].strip() and row["question"].strip(), row["id"]
        if row["kind"] != "switch":
            assert row["standalone"] != row["question"], row["id"]
        if not row["answerable"]:
            assert row["answers"] == [] and row["evidence"] == [], row["id"]
            continue
        evidence = row["evidence"][0]
        assert any(a in evidence["text"] for a in row["answers"]), row["id"]
        if docs:
            assert docs[evidence["doc_id"]][evidence["start"]:evidence["end"]] == evidence["text"], row["id"]


def test_the_speed_benchmark_refuses_an_unknown_option_instead_of_running_everything(capsys):
    import pytest

    from benchmarks import speed

    with pytest.raises(SystemExit) as stop:
        speed.main(["--latency_only"])  # a typo used to run the minutes-long indexing comparison
    assert stop.value.code == 2
    assert "unrecognized arguments: --latency_only" in capsys.readouterr().err


def test_a_paired_difference_cancels_what_two_runs_share():
    from benchmarks.compare import paired

    rng = np.random.default_rng(0)
    a = rng.random((300, 1))
    assert paired(lambda rows: float(rows.mean()), a, a, resamples=100) == (0.0, 0.0)
    b = a + 0.01 + 0.001 * rng.standard_normal((300, 1))  # the same questions, a little higher each
    gap, error = paired(lambda rows: float(rows.mean()), a, b, resamples=200)
    assert abs(gap - 0.01) < 0.001 and 0 < error < 0.001  # far below the spread of the rows themselves (~0.017)
    undefined = paired(lambda rows: float("nan"), a, b)  # a figure the set cannot have
    assert np.isnan(undefined[0]) and np.isnan(undefined[1])


def _rows(name, outcomes):
    """answers.py --rows lines of one set: (answerable, right, refused, confidence) per question."""
    return [{"set": name, "question": f"q{i}", "answerable": a, "right": r, "refused": f, "confidence": c}
            for i, (a, r, f, c) in enumerate(outcomes)]


def test_compare_reports_each_sets_figures_b_minus_a_and_refuses_other_questions(tmp_path, capsys):
    import json

    import pytest

    from benchmarks.compare import compare, main

    a = {"s": _rows("s", [(True, True, False, 0.9), (True, False, True, 0.2), (False, False, True, 0.1), (False, False, False, 0.5)])}
    b = {"s": _rows("s", [(True, True, False, 0.9), (True, True, False, 0.6), (False, False, True, 0.1), (False, False, True, 0.3)])}
    [row] = compare(a, b, resamples=50)
    assert row["set"] == "s" and row["questions"] == 4
    assert row["accuracy"] == 0.5 and row["answerable_refused"] == -0.5 and row["unanswerable_refused"] == 0.5
    assert row["answerability_auc"] == 0.25  # 3 of 4 pairs ranked right, then all 4
    assert row["accuracy_se"] >= 0
    with pytest.raises(ValueError, match="different questions"):
        compare(a, {"s": _rows("s", [(True, True, False, 0.9)])})
    for name, rows in (("a.jsonl", a["s"]), ("b.jsonl", b["s"])):
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    assert main([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--resamples", "20"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 0.5
    (tmp_path / "bad.jsonl").write_text("{not json\n", "utf-8")
    for argv, named in (([str(tmp_path / "bad.jsonl"), str(tmp_path / "b.jsonl")], "bad.jsonl"),
                        ([str(tmp_path / "a.jsonl"), str(tmp_path / "none.jsonl")], "none.jsonl"),
                        ([str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "--resamples", "0"], "--resamples 0")):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("error:") and named in err


def test_the_answer_report_counts_each_kind_of_question_apart():
    from assistant.answer.types import Answer
    from benchmarks.answers import report
    from benchmarks.evaldata import Corpus, Question

    def row(kind, answerable, text, abstained):
        q = Question(kind + text, "q?", ("right",) if answerable else (), (), answerable, kind=kind)
        return q, answerable, Answer("q?", text, (), abstained, (), confidence=0.0 if abstained else 0.9), 1.0

    rows = [row("fact", True, "the right one", False), row("fact", True, "wrong", False),
            row("fact", True, "refused", True), row("trap", False, "refused", True), row("trap", False, "right?", False)]
    corpus = Corpus("t", None, {}, {}, [r[0] for r in rows])
    assert report("t", corpus, rows)["by_kind"] == {"fact": {"questions": 3, "right": 1, "refused": 1},
                                                   "trap": {"questions": 2, "right": 0, "refused": 1}}
    plain = [(Question("p", "q?", ("right",), (), True), True, rows[0][2], 1.0)]
    assert "by_kind" not in report("t", Corpus("t", None, {}, {}, [plain[0][0]]), plain)  # sets without kinds: as before


def test_the_answer_report_gives_each_share_its_95_percent_interval():
    from assistant.answer.types import Answer
    from benchmarks.answers import interval, report
    from benchmarks.evaldata import Corpus, Question

    assert interval(44, 52) == [0.725, 0.92]  # the Wilson interval (scipy), not the normal one
    low, high = interval(0, 52)
    assert low == 0.0 and 0.06 < high < 0.07  # none refused still leaves room: at most about 1 in 15
    narrow, wide = interval(440, 520), interval(44, 52)
    assert wide[0] < narrow[0] < 44 / 52 < narrow[1] < wide[1]  # ten times the questions: a narrower interval

    def row(answerable, text, abstained):
        q = Question(text, "q?", ("right",) if answerable else (), (), answerable)
        return q, answerable, Answer("q?", text, (), abstained, (), confidence=0.0 if abstained else 0.9), 1.0

    rows = [row(True, "right", False), row(True, "right too", False), row(True, "wrong", False), row(True, "no", True)]
    figures = report("t", Corpus("t", None, {}, {}, [r[0] for r in rows]), rows)
    assert figures["interval_95"] == {"accuracy": interval(2, 4), "answerable_refused": interval(1, 4)}  # no unanswerable: no interval
    assert figures["interval_95"]["accuracy"][0] < figures["accuracy"] == 0.5 < figures["interval_95"]["accuracy"][1]



def test_the_answer_report_tells_answers_lost_in_retrieval_from_answers_lost_in_reading():
    from assistant.answer.types import Answer
    from assistant.search.retrieval import Hit
    from benchmarks.answers import report
    from benchmarks.evaldata import Corpus, Question

    def hit(start, end, source="/d.txt"):
        return Hit("text", source, start, end, None, 1.0, "d.txt", f"c{start}", 0)

    def row(text, hits, evidence=(("d", 10, 20),)):
        q = Question(text, "q?", ("right",), evidence, True)
        return q, True, Answer("q?", text, (), text == "no", tuple(hits), confidence=0.5), 1.0

    rows = [row("right", [hit(0, 15)]),  # its evidence retrieved, answered right
            row("wrong", [hit(30, 40), hit(15, 25)]),  # retrieved (the second passage), read wrong
            row("no", [hit(30, 40)]),  # evidence not retrieved, refused
            row("wrong", [hit(10, 20, "/other.txt")]),  # the same offsets in another document: not retrieved
            row("right", [], evidence=())]  # no evidence given: counted in neither
    corpus = Corpus("t", None, {"/d.txt": "d", "/other.txt": "o"}, {}, [r[0] for r in rows])
    figures = report("t", corpus, rows)
    # 2 of the 4 with evidence retrieved, 1 of those 2 right (over all 4 it would read 0.25)
    assert figures["evidence_retrieved"] == 0.5 and figures["accuracy_when_retrieved"] == 0.5


def test_the_answer_report_counts_refusals_that_still_show_the_answer_among_their_closest_sentences():
    from assistant.answer.types import Answer, Citation
    from assistant.search.retrieval import Hit
    from benchmarks.answers import report
    from benchmarks.evaldata import Corpus, Question

    passage = Hit("The organ was built by Vasse. It has 4,120 pipes. Vasse died.", "/d.txt", 0, 62, None, 1.0, "d.txt", "c0", 0)

    def asked(closest, answerable=True, abstained=True, evidence=(("d", 0, 29),)):
        q = Question("q", "Who built it?", ("Vasse",) if answerable else (), evidence if answerable else (), answerable)
        return q, answerable, Answer(q.question, "no" if abstained else "Vasse [1]", (), abstained, (passage,), confidence=0.1,
                                     closest=tuple(Citation(i, passage, *quote) for i, quote in enumerate(closest, 1))), 1.0

    rows = [asked([("The organ was built by Vasse.", 0, 29)]),  # shows the answer, on its evidence
            asked([("It has 4,120 pipes.", 30, 49)]),  # a closest sentence without the answer
            asked([("Vasse died.", 50, 61)]),  # holds the answer's words, but not on the evidence
            asked([]),  # nothing read
            asked([("Vasse died.", 50, 61)], evidence=()),  # no evidence given: the words are enough
            asked([("The organ was built by Vasse.", 0, 29)], abstained=False),  # answered: not a refusal
            asked([("The organ was built by Vasse.", 0, 29)], answerable=False)]  # a trap refused: not counted
    corpus = Corpus("t", None, {"/d.txt": "d"}, {}, [r[0] for r in rows])
    assert report("t", corpus, rows)["refused_closest_holds_answer"] == round(2 / 5, 4)


def test_held_out_questions_are_answerable_asked_alone_with_their_evidence_in_one_paragraph():
    from benchmarks.answers import held_out_questions
    from benchmarks.evaldata import Corpus, Question

    text = "First paragraph, one sentence. Another.\n\nSecond paragraph here.\n\nThird."
    second = text.index("Second")

    def q(name, evidence, answerable=True, history=()):
        return Question(name, "q?", ("x",) if answerable else (), evidence, answerable, history=history)

    questions = [q("one span", (("d", 0, 10),)),
                 q("two spans, one paragraph", (("d", 0, 10), ("d", 31, 39))),
                 q("two paragraphs", (("d", 0, 10), ("d", second, second + 6))),
                 q("no evidence", ()),
                 q("a follow-up", (("d", second, second + 6),), history=("earlier?",)),
                 q("a trap", (), answerable=False)]
    chosen = held_out_questions(Corpus("t", None, {}, {"d": text}, questions))
    assert [c.id for c in chosen] == ["one span", "two spans, one paragraph"]


def test_the_answer_report_sets_the_answers_marked_unsure_apart():
    from assistant.answer.types import Answer
    from benchmarks.answers import report
    from benchmarks.evaldata import Corpus, Question

    def row(answerable, text, abstained=False, unsure=False):
        q = Question(text, "q?", ("right",) if answerable else (), (), answerable)
        return q, answerable, Answer("q?", text, (), abstained, (), confidence=0.5, unsure=unsure), 1.0

    rows = [row(True, "right", unsure=False), row(True, "right", unsure=True), row(True, "wrong", unsure=True),
            row(True, "no", abstained=True), row(False, "trap", unsure=True), row(False, "trap"), row(False, "no", abstained=True)]
    assert report("t", Corpus("t", None, {}, {}, [r[0] for r in rows]), rows)["unsure"] == {
        "answered": 3, "marked": 2, "accuracy_sure": 1.0, "accuracy_unsure": 0.5, "unanswerable_answered": 2, "unanswerable_marked": 1}


def test_the_article_test_set_is_well_formed():
    """The article's test questions: unique ids; answerable rows give evidence found at its offsets
    in the shipped article and holding a reference answer; traps give neither; a follow-up names
    its earlier question and a different stand-alone wording; a two-part question's parts are
    all among its answers."""
    import json

    from benchmarks.answers import ARTICLE_TEST_QUESTIONS
    from assistant.config import PROJECT_DIR

    article = (PROJECT_DIR / "documents" / "000_6925d6d02227fd72.txt").read_text("utf-8")
    rows = [json.loads(line) for line in ARTICLE_TEST_QUESTIONS.read_text("utf-8").splitlines()]
    assert len(rows) >= 60 and len({r["id"] for r in rows}) == len(rows)
    assert sum(not r["answerable"] for r in rows) >= 6
    for row in rows:
        assert row["question"].strip(), row["id"]
        if not row["answerable"]:
            assert row["answers"] == [] and row["evidence"] == [], row["id"]
            continue
        for e in row["evidence"]:
            assert e["doc_id"] == "article" and article[e["start"]:e["end"]] == e["text"], row["id"]
        assert all(any(a.lower() in e["text"].lower() for e in row["evidence"]) for a in row["answers"]), row["id"]
        if row["kind"] == "followup":
            assert row["history"] and row["standalone"].strip() and row["standalone"] != row["question"], row["id"]
        if row["kind"] == "multipart":
            assert len(row["parts"]) == 2 and all(set(p) & set(row["answers"]) for p in row["parts"]), row["id"]


@pytest.mark.slow
def test_the_answer_benchmark_writes_rows_that_compare_reads(tmp_path, capsys):
    import json

    from benchmarks.answers import main as answers_main
    from benchmarks.compare import main as compare_main

    questions = tmp_path / "two.jsonl"
    questions.write_text(json.dumps({"question": "Who is Ken Hu?", "answers": ["rotating CEO"], "answerable": True}) + "\n"
                         + json.dumps({"question": "What is the capital of Peru?", "answers": [], "answerable": False}) + "\n", "utf-8")
    rows = tmp_path / "rows.jsonl"
    assert answers_main(["--sets", "article", "--article-questions", str(questions), "--workdir", str(tmp_path / "work"),
                         "--rows", str(rows)]) == 0
    written = [json.loads(line) for line in rows.read_text("utf-8").splitlines()]
    assert [(r["set"], r["question"], r["answerable"]) for r in written] == [
        ("article (two.jsonl)", "Who is Ken Hu?", True), ("article (two.jsonl)", "What is the capital of Peru?", False)]
    assert written[0]["right"] and not written[0]["refused"] and 0 <= written[1]["confidence"] < written[0]["confidence"]
    capsys.readouterr()
    assert compare_main([str(rows), str(rows), "--resamples", "10"]) == 0  # a run against itself: no gap
    compared = json.loads(capsys.readouterr().out)
    assert compared["accuracy"] == compared["answerability_auc"] == 0.0 and compared["accuracy_se"] == 0.0


@pytest.mark.parametrize("argv, named", [(["--sets", "xquad_en,nosuch"], "--sets nosuch"),
                                         (["--chunks", "800/x"], "--chunks 800/x"),
                                         (["--chunks", "400/400"], "--chunks 400/400")])
def test_the_retrieval_benchmark_refuses_bad_sets_and_chunks_in_one_line(capsys, argv, named):
    from benchmarks.retrieval import main

    with pytest.raises(SystemExit) as ended:
        main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert ended.value.code == 2 and f"error: {named}" in err[-1]


@pytest.mark.parametrize("module, argv, named", [("scale", ["--sizes", "10,x"], "--sizes 10,x"),
                                                 ("scale", ["--sizes", "0"], "--sizes 0"),
                                                 ("load", ["--clients", "0"], "--clients 0"),
                                                 ("load", ["--seconds", "-1"], "--seconds -1.0"),
                                                 ("soak", ["--clients", "0"], "--clients 0"),
                                                 ("soak", ["--seconds", "0"], "--seconds 0.0")])
def test_the_scale_load_and_soak_benchmarks_refuse_counts_they_cannot_run(capsys, module, argv, named):
    import importlib

    with pytest.raises(SystemExit) as ended:
        importlib.import_module(f"benchmarks.{module}").main(argv)
    assert ended.value.code == 2 and f"error: {named}" in capsys.readouterr().err.strip().splitlines()[-1]


def test_the_encoder_benchmark_takes_no_options_instead_of_ignoring_them(capsys):
    from benchmarks.encoders import main

    with pytest.raises(SystemExit) as ended:
        main(["--sets", "xquad_en"])
    assert ended.value.code == 2 and "unrecognized arguments: --sets" in capsys.readouterr().err


def test_the_answer_benchmark_refuses_an_unknown_set_before_any_work(tmp_path, capsys):
    from benchmarks.answers import main as answers_main

    assert answers_main(["--sets", "article_test,nosuch", "--rows", str(tmp_path / "rows.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: --sets") and "nosuch" in err and "article_test" in err
    assert not (tmp_path / "rows.jsonl").exists()  # refused before anything was written


def test_the_answer_benchmark_refuses_rows_it_cannot_write(tmp_path, capsys):
    from benchmarks.answers import main as answers_main

    assert answers_main(["--rows", str(tmp_path / "no-such-folder" / "rows.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: --rows") and "no-such-folder" in err


def test_the_overview_benchmark_s_central_sentences_are_near_the_mean_and_unlike_each_other():
    import numpy as np

    from benchmarks.overview import central

    vectors = np.array([[1.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.88, 0.12, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    assert central(vectors, [0, 1, 2, 3, 4], 2, 0.0) == [1, 2]  # nearest the mean, however alike
    assert central(vectors, [0, 1, 2, 3, 4], 2, 0.6) == [2, 3]  # the second one unlike the first
    assert central(vectors, [0, 3], 3, 0.3) == [0, 3]  # never more than the pool
