"""Answer quality: accuracy, citation precision/recall, refusals both ways, and ask() latency.

Every figure is printed with its split and the commit it was measured at, and each share
(accuracy, questions refused both ways) with its 95% Wilson interval (`interval_95`); `unsure`
says how many answers were marked unsure and how often those and the others were right.

Where answers are lost: `evidence_retrieved` is the share of answerable questions with evidence
that `ask()` retrieved a passage overlapping (any of its evidence spans: one part's is enough for
a two-part question), and `accuracy_when_retrieved` the accuracy on those (what reading decides:
an answer lost with its evidence retrieved was lost by the pre-filter or the model).
`refused_closest_holds_answer` is the share of the answerable questions refused whose refusal
still shows the answer: a related passage's closest sentence (which the chat sets first) holding a
reference answer and, where the question gives evidence, overlapping it.

On-topic unanswerable cases beyond a set's written traps: every set with evidence (but the
follow-ups and the two-part questions) also gets an "evidence paragraph held out" line. Its
answerable questions that stand alone, with all their evidence in one paragraph, are asked again
with that paragraph's passages removed from the results, so the rest of the documents is on topic
but does not answer; the line gives the share refused and the AUC against the same questions as asked.

The sets:

- dev: xquad_en (qa_sample) and clapnq_dev (with its unanswerable questions), from
  ../shared/evaldata. Never fitted on; the answer model was trained on ../shared/traindata, its
  logistic layer fitted on that data's own dev split, and its threshold chosen on the seen
  article questions (training/combine.py).
- test: benchmarks/paraphrase_questions.jsonl, 132 questions on xquad_en passages that name
  nothing their answer sentence names, written before any model output was seen and kept out of
  all tuning.
- test: benchmarks/followup_questions.jsonl, 78 follow-up questions on xquad_en passages (a
  pronoun or an elided subject that only the earlier question names; 6 unanswerable, 4 that
  change the topic), written before any output was seen. Asked three ways, one row each: after
  the earlier question (whose real answer goes into the history, as in the chat), alone (what
  the follow-up handling has to improve on), and in its stand-alone wording (the ceiling).
- test: benchmarks/multipart_questions.jsonl, 32 two-part questions on xquad_en passages
  ("When did X happen, and who did Y?"; the parts in one sentence, in neighbouring sentences or
  in different paragraphs), written before any output was seen. Accuracy counts a question
  whose answer holds any part; "all_parts" one whose answer holds every part.
- test: benchmarks/article_questions_test.jsonl, 60 new questions on the article (26 facts and
  numbers, 9 who/why, 8 that describe instead of naming, 4 two-part, 5 follow-ups asked after
  their earlier question, 8 on-topic traps), written on 2026-12-05 before any output of the
  system on them was seen and kept out of all tuning: the article's only questions not in-sample.
  A set whose questions name their kind (this one, the follow-ups) is also reported by kind.
- test: benchmarks/table_questions.jsonl, 38 questions on benchmarks/tables/ (two Markdown and
  two HTML documents whose answers are mostly cells of their tables: 26 read from a row, 4 from
  the prose around the tables, 8 on-topic traps), written on 2026-12-06 before any output of the
  system on them was seen; reported by kind (row: a cell of the row the question names; value:
  the row named by another of its cells; prose; trap).
- test: benchmarks/table_questions_second.jsonl, 40 questions on benchmarks/tables_second/ (the
  same kinds: 16 row, 6 value, 4 prose, 14 traps), written on 2026-12-06 after the first table
  set's result of the change it then decided (a table row read with its column names) and before
  any output on it was seen.
- test: benchmarks/table_questions_third.jsonl, 40 questions on benchmarks/tables_third/ (20 row,
  6 value, 4 prose, 10 traps, on two Markdown files, an HTML page and a CSV file whose rows are
  near-namesakes: quarters, versions, plans, varieties), written blind by a helper on 2026-12-06
  before any output on it was seen; it decided whether near ties stay (stop 42's closing note).
- dev: benchmarks/table_questions_dev.jsonl, 50 questions on benchmarks/tables_dev/ (22 row, 10
  value, 6 prose, 12 traps, on five new documents, one with a header of two rows and cells spanning
  rows), written blind by a helper on 2026-12-06 for diagnosis: its failures are looked at, so it
  is tuning data (not in the default run: `--sets tables_dev`).
- dev: benchmarks/manual_questions_dev.jsonl, 90 questions on benchmarks/manuals_dev/ (six documents
  that are neither news nor reviews: an appliance manual, a leave policy and a travel insurance
  policy in plain text, an IT guide and a software README in Markdown, meeting minutes in HTML;
  31 worded like the document, 29 in other words, 12 asking for a list, 6 yes/no, 12 traps),
  written blind by a helper on 2026-12-07 as an audit. Its failures were looked at and prompted
  this stop's reading rules, so it is tuning data (not in the default run: `--sets manuals_dev`).
  Accuracy counts a question right when its first key phrase is in the answer; a question with
  several key phrases (10 of the 12 list questions) has them as its `parts`, all of which the
  multipart figure asks for.
- dev: benchmarks/news_questions_dev.jsonl, 85 questions on benchmarks/news_dev/ (five news
  articles in the wire style of the shipped one, with datelines: an EU subsidy dispute, a company's
  results, a health study, a metro line, a marathon; 20 fact, 12 number, 12 who/why, 8 multi-part,
  13 paraphrased, 8 follow-ups, 12 on-topic traps), written blind by a helper on 2026-12-07 as an
  audit. Its failures were looked at, so it is tuning data (not in the default run: `--sets news_dev`).
- test: benchmarks/news_questions_test.jsonl, 85 questions on benchmarks/news_test/ (five more
  wire-style articles: an EU-India data dispute, a merger, an offshore wind farm's delay, a food
  safety study, a court ruling; the same kinds and counts as news_dev, 7 of the 12 traps changing
  one detail of a stated fact), written blind by a second helper on 2026-12-07 that saw neither
  news_dev nor any output; run first to decide stop 48's rules.
- dev: benchmarks/scope_questions_dev.jsonl, 40 questions on benchmarks/scope_dev/ (five documents whose
  title or opening paragraph alone states the year, version or model number they are about: a news
  story, release notes, an annual report, a sports season, a mower manual; 26 questions stating that
  number answered by a later paragraph that does not repeat it, 4 stating none, 10 traps stating
  another year, version or model), written blind by a helper on 2026-12-07 to decide whether a
  document's opening states a number for all its passages (not in the default run: `--sets scope_dev`).
- dev: benchmarks/paraphrase_questions_dev.jsonl, 60 questions on benchmarks/paraphrase_dev/ (five
  invented encyclopedia articles: a dam, a chemist, a football club, a cathedral, a salamander; 48
  questions that name nothing their answer sentence names, no content word shared (one shares "team"), and 12
  paraphrased on-topic traps), written blind by a helper on 2026-12-07 as a dev twin of the
  paraphrase test set, for tuning what the test set must not see (not in the default run:
  `--sets paraphrase_dev`).
- seen: the article's three question files, one row each. The earlier hand rules were tuned on
  the first two; the third (varied wording and on-topic traps) was written on 2026-12-03; the
  threshold is set on all three, so they are in-sample for the project.

    python benchmarks/answers.py                         # all sets
    python benchmarks/answers.py --sets paraphrase --workdir /tmp/answers   # keep the indexes
    python benchmarks/answers.py --sets followup
    python benchmarks/answers.py --sets tables
    python benchmarks/answers.py --sets article --article-questions benchmarks/article_questions_calibration.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer import model as answer_model, extractive  # noqa: E402
from assistant.answer.answering import ask  # noqa: E402
from assistant.config import PROJECT_DIR, Settings  # noqa: E402
from assistant.ingest.embeddings import make_embedder  # noqa: E402
from assistant.ingest.indexing import rebuild_index  # noqa: E402
from assistant.search.retrieval import searcher_for  # noqa: E402
from benchmarks.evaldata import Corpus, Question, materialise, overlaps, read_questions  # noqa: E402

HERE = Path(__file__).resolve().parent
ARTICLE_QUESTIONS = HERE / "article_questions.jsonl"
# The article's question files, all seen; the abstention threshold is set on them
# (training/combine.py). The first two hold name-heavy questions (the earlier hand rules were tuned
# on them); the calibration file adds questions worded unlike their answer sentence (a person or
# place described, not named) and on-topic traps, so that "5% of answerable questions refused"
# holds for the kinds of question people ask, not only the easy kind.
ARTICLE_QUESTION_FILES = [ARTICLE_QUESTIONS, HERE / "article_questions_unseen.jsonl", HERE / "article_questions_calibration.jsonl"]
PARAPHRASE_QUESTIONS = HERE / "paraphrase_questions.jsonl"
FOLLOWUP_QUESTIONS = HERE / "followup_questions.jsonl"
MULTIPART_QUESTIONS = HERE / "multipart_questions.jsonl"
ARTICLE_TEST_QUESTIONS = HERE / "article_questions_test.jsonl"  # the evaldata format, doc_id "article"
# set -> (questions in the evaldata format, doc_id a file name's stem; the folder of its documents)
FOLDER_SETS = {"tables": (HERE / "table_questions.jsonl", HERE / "tables"),
               "tables_second": (HERE / "table_questions_second.jsonl", HERE / "tables_second"),
               "tables_third": (HERE / "table_questions_third.jsonl", HERE / "tables_third"),
               "tables_dev": (HERE / "table_questions_dev.jsonl", HERE / "tables_dev"),
               "manuals_dev": (HERE / "manual_questions_dev.jsonl", HERE / "manuals_dev"),
               "news_dev": (HERE / "news_questions_dev.jsonl", HERE / "news_dev"),
               "news_test": (HERE / "news_questions_test.jsonl", HERE / "news_test"),
               "scope_dev": (HERE / "scope_questions_dev.jsonl", HERE / "scope_dev"),
               "paraphrase_dev": (HERE / "paraphrase_questions_dev.jsonl", HERE / "paraphrase_dev")}
TEST_SETS = {"paraphrase": PARAPHRASE_QUESTIONS, "followup": FOLLOWUP_QUESTIONS, "multipart": MULTIPART_QUESTIONS}
SPLITS = {"xquad_en": "dev", "clapnq_dev": "dev", "paraphrase": "test", "followup": "test", "multipart": "test",
          "article_test": "test", "tables": "test", "tables_second": "test", "tables_third": "test", "tables_dev": "dev",
          "manuals_dev": "dev", "news_dev": "dev", "news_test": "test", "scope_dev": "dev", "paraphrase_dev": "dev",
          "article": "seen"}
# How a follow-up set is asked: after its earlier question, alone, or in its stand-alone wording.
FOLLOWUP_MODES = {"conversation": "followup", "alone": "followup, asked alone", "standalone": "followup, stand-alone wording"}


def seen_article_questions(questions_file: Path) -> list[Question]:
    """A seen article question file (question, answers, answerable per line; no evidence)."""
    return [Question(f"article-{i}", q["question"], tuple(q["answers"]), (), q["answerable"])
            for i, q in enumerate(json.loads(line) for line in questions_file.read_text("utf-8").splitlines())]


def _article_corpus(folder: Path, questions: list[Question], name: str = "article") -> Corpus:
    src = PROJECT_DIR / "documents" / "000_6925d6d02227fd72.txt"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / src.name
    path.write_bytes(src.read_bytes())
    return Corpus(name, folder, {str(path): "article"}, {"article": path.read_text("utf-8")}, questions)


def _folder_corpus(name: str, folder: Path) -> Corpus:
    from assistant.ingest.documents import load

    questions, documents = FOLDER_SETS[name]
    folder.mkdir(parents=True, exist_ok=True)
    doc_of, texts = {}, {}
    for src in sorted(documents.iterdir()):
        path = folder / src.name
        path.write_bytes(src.read_bytes())
        doc_of[str(path)], texts[src.stem] = src.stem, load(path).text
    return Corpus(name, folder, doc_of, texts, read_questions(questions))


def corpus_of(name: str, tmp: Path, article_questions: Path) -> Corpus:
    if name == "article":
        return _article_corpus(tmp / name, seen_article_questions(article_questions))
    if name == "article_test":  # the same document, in its own folder: an index of its own
        return _article_corpus(tmp / name, read_questions(ARTICLE_TEST_QUESTIONS), name)
    if name in FOLDER_SETS:
        return _folder_corpus(name, tmp / name)
    if name in TEST_SETS:  # written on xquad_en's documents
        corpus = materialise("xquad_en", tmp / "xquad_en")
        corpus.name, corpus.questions = name, read_questions(TEST_SETS[name])
        return corpus
    return materialise(name, tmp / name)


def _paragraph(corpus: Corpus, doc_id: str, start: int, end: int) -> tuple[str, int, int]:
    """The paragraph (between blank lines) of the document `doc_id` around `start:end`."""
    text = corpus.texts[doc_id]
    p_start = text.rfind("\n\n", 0, start)
    p_end = text.find("\n\n", end)
    return doc_id, (0 if p_start < 0 else p_start), (len(text) if p_end < 0 else p_end)


def held_out_questions(corpus: Corpus) -> list[Question]:
    """The answerable questions that holding out one paragraph makes unanswerable: asked alone
    (no earlier question) with all their evidence in one paragraph."""
    return [q for q in corpus.questions if q.answerable and q.evidence and not q.history
            and len({_paragraph(corpus, *span) for span in q.evidence}) == 1]


def run_set(corpus: Corpus, index_dir: Path, settings: Settings, embedder, mode: str = "conversation"):
    """Per question: (question, answerable?, Answer, latency ms). A question with a history is
    asked after its earlier questions, each answered by ask() in turn (the chat's history:
    question and answer text); with mode "alone" without them, with "standalone" in its
    stand-alone wording. Latency is the last question's."""
    rows = []
    for q in corpus.questions:
        history = []
        if mode == "conversation":
            for earlier in q.history:
                said = ask(earlier, history=history, index_dir=index_dir, settings=settings, embedder=embedder)
                history.append((earlier, said.text))
        text = q.standalone if mode == "standalone" and q.standalone else q.question
        began = time.perf_counter()
        answer = ask(text, history=history or None, index_dir=index_dir, settings=settings, embedder=embedder)
        rows.append((q, q.answerable, answer, (time.perf_counter() - began) * 1000))
    return rows


def held_out_confidences(corpus: Corpus, questions: list[Question], index_dir: Path, settings: Settings, embedder) -> list[float]:
    """Answerability of each of `questions` (`held_out_questions`) once the passages of its
    evidence paragraph are removed from the results: what the assistant says when the rest of the
    documents is on topic but does not hold the answer."""
    searcher = searcher_for(index_dir, settings, embedder)
    model = answer_model.configured(settings)
    out = []
    for q in questions:
        doc_id, p_start, p_end = _paragraph(corpus, *q.evidence[0])
        out.append(answerability_without(
            q.question, lambda h: corpus.doc_of.get(h.source) == doc_id and h.start < p_end and p_start < h.end,
            searcher, model, settings,
        ))
    return out


def hits_without(question: str, drop, searcher, settings: Settings):
    """The question's vector and its `answer_k` hits once the passages `drop(hit)` names are
    removed from its results (the next best take their place)."""
    vector = searcher.embed([question])
    hits = searcher.search_many([question], settings.answer_k + 10, vectors=vector)[0]
    return vector[0], [h for h in hits if not drop(h)][: settings.answer_k]


def answerability_without(question: str, drop, searcher, model, settings: Settings) -> float:
    """The question's answerability once the passages `drop(hit)` names are removed from its
    results: an on-topic case the documents do not answer. The question is read as `ask()` reads
    it, its typing slips as the documents' words."""
    question = searcher.spelled(question)
    vector, hits = hits_without(question, drop, searcher, settings)
    return extractive.answerability(extractive.candidates(question, vector, hits, searcher, model, settings.answer_candidates,
                                                          threshold=model.threshold_for(settings), check_numbers=settings.answer_numbers))


def holds(text: str, answers) -> bool:
    """A reference answer appears in `text` (case-insensitive): what accuracy counts."""
    return any(a.lower() in text.lower() for a in answers)


def report(name: str, corpus: Corpus, rows) -> dict:
    answerable = [r for r in rows if r[1]]
    unanswerable = [r for r in rows if not r[1]]
    answered = [r for r in answerable if not r[2].abstained]
    correct = sum(holds(r[2].text, r[0].answers) for r in answerable)
    multipart = [r for r in answerable if r[0].parts]
    all_parts = sum(all(holds(r[2].text, part) for part in r[0].parts) for r in multipart)
    cites = cite_ok = recall = 0
    for q, _, a, _ in answered:
        if not q.evidence:
            continue
        ok = [overlaps(corpus, q, c.hit.source, c.hit.start, c.hit.end) for c in a.citations]
        cites += len(ok)
        cite_ok += sum(ok)
        recall += any(ok)
    with_evidence = sum(1 for q, *_ in answered if q.evidence)
    # where an answer is lost: was its evidence among the passages retrieved (then reading lost it)?
    located = [r for r in answerable if r[0].evidence]
    retrieved = [r for r in located if any(overlaps(corpus, r[0], h.source, h.start, h.end) for h in r[2].hits)]
    refused = [r for r in answerable if r[2].abstained]
    lat = sorted(r[3] for r in rows)
    confidence = np.array([r[2].confidence for r in rows])
    labels = np.array([int(r[1]) for r in rows])

    def share(part, whole):
        return round(part / whole, 4) if whole else float("nan")

    counts = {"accuracy": (correct, len(answerable)),
              "answerable_refused": (len(refused), len(answerable)),
              "unanswerable_refused": (sum(r[2].abstained for r in unanswerable), len(unanswerable))}

    return {
        "set": name,
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": share(*counts["accuracy"]),
        **({"all_parts": share(all_parts, len(multipart))} if multipart else {}),
        "citation_precision": share(cite_ok, cites),
        "citation_recall": share(recall, with_evidence),
        "evidence_retrieved": share(len(retrieved), len(located)),
        "accuracy_when_retrieved": share(sum(holds(a.text, q.answers) for q, _, a, _ in retrieved), len(retrieved)),
        "answerable_refused": share(*counts["answerable_refused"]),
        "refused_closest_holds_answer": share(sum(_shows_answer(corpus, q, a) for q, _, a, _ in refused), len(refused)),
        "unanswerable_refused": share(*counts["unanswerable_refused"]),
        # how far the figure could move on another draw of as many questions of the same kind
        "interval_95": {name: interval(*count) for name, count in counts.items() if count[1]},
        "answerability_auc": round(auc(confidence, labels), 4),
        # an oracle operating point (the threshold read off these very questions): how well the
        # confidence separates, in product terms; not a figure the product reaches by itself
        "oracle_unanswerable_refused_at_10pct_false_refusal": _at_false_refusal(confidence, labels, 0.10),
        "p50_ms": round(statistics.median(lat), 1) if lat else float("nan"),
        "p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1) if lat else float("nan"),
        **({"by_kind": by_kind(rows)} if any(r[0].kind for r in rows) else {}),
        "unsure": unsure_marks(rows),
    }


def _shows_answer(corpus: Corpus, question: Question, answer) -> bool:
    """A refusal still shows the answer: one of its closest sentences (the related passages'
    sentences the model found closest, `Answer.closest`) holds a reference answer and, where the
    question gives evidence, lies on it (a short answer such as "23" may stand in another sentence)."""
    return any(holds(c.quote, question.answers)
               and (not question.evidence or overlaps(corpus, question, c.hit.source, c.quote_start, c.quote_end))
               for c in answer.closest)


def unsure_marks(rows) -> dict:
    """How the answers marked unsure (`Answer.unsure`) differ from the rest: of the answerable
    questions answered, how many were marked and the accuracy of each kind; of the unanswerable
    questions answered (wrongly), how many were marked."""
    answered = [(q, a) for q, answerable, a, _ in rows if answerable and not a.abstained]
    wrongly = [a for _, answerable, a, _ in rows if not answerable and not a.abstained]

    def right(pairs):
        return round(sum(holds(a.text, q.answers) for q, a in pairs) / len(pairs), 4) if pairs else float("nan")

    marked = [(q, a) for q, a in answered if a.unsure]
    return {"answered": len(answered), "marked": len(marked),
            "accuracy_sure": right([(q, a) for q, a in answered if not a.unsure]), "accuracy_unsure": right(marked),
            "unanswerable_answered": len(wrongly), "unanswerable_marked": sum(a.unsure for a in wrongly)}


def interval(part: int, whole: int) -> list[float]:
    """The 95% Wilson interval of the share `part / whole` (scipy): with the 52 answerable
    questions of the article test set, 44 right reads 0.72 to 0.92."""
    from scipy.stats import binomtest

    low, high = binomtest(part, whole).proportion_ci(0.95, method="wilson")
    return [round(float(low), 3), round(float(high), 3)]


def by_kind(rows) -> dict:
    """Per kind of question (the set's `kind` field): how many, answered right, refused."""
    out: dict[str, dict] = {}
    for q, _, answer, _ in rows:
        counts = out.setdefault(q.kind or "other", {"questions": 0, "right": 0, "refused": 0})
        counts["questions"] += 1
        counts["right"] += bool(q.answerable and holds(answer.text, q.answers))
        counts["refused"] += bool(answer.abstained)
    return out


def write_rows(path: Path, name: str, rows) -> None:
    """Append one JSON line per question of `rows` (`run_set`'s) to `path`, for benchmarks/compare.py."""
    with open(path, "a", encoding="utf-8") as out:
        for q, answerable, answer, _ in rows:
            out.write(json.dumps({"set": name, "question": q.question, "answerable": bool(answerable),
                                  "right": bool(answerable and holds(answer.text, q.answers)),
                                  "refused": bool(answer.abstained), "confidence": float(answer.confidence)}) + "\n")


def _at_false_refusal(confidence: np.ndarray, labels: np.ndarray, rate: float) -> float:
    pos, neg = np.sort(confidence[labels == 1]), confidence[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    threshold = pos[int(np.floor(rate * len(pos)))]
    return round(float((neg < threshold).mean()), 4)


def verbatim_violations(corpus: Corpus, rows) -> int:
    bad = 0
    for _, _, a, _ in rows:
        for c in a.citations:
            doc_text = corpus.texts[corpus.doc_of[c.hit.source]]
            if doc_text[c.quote_start : c.quote_end] != c.quote or c.quote not in a.text:
                bad += 1
    return bad


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Chance that an answerable question scores above an unanswerable one (ties count half)."""
    from sklearn.metrics import roc_auc_score  # by ranks: fast enough to bootstrap (training/pipeline.py)

    labels = np.asarray(labels)
    if (labels == 1).all() or not (labels == 1).any():
        return float("nan")
    return float(roc_auc_score(labels == 1, scores))


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_DIR, capture_output=True, text=True).stdout.strip()
        return head + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="article,article_test,xquad_en,clapnq_dev,paraphrase,followup,multipart,tables,tables_second,tables_third,news_test")
    parser.add_argument("--article-questions", type=Path, nargs="+", default=ARTICLE_QUESTION_FILES,
                        help="the article's question files, one row each (all seen)")
    parser.add_argument("--workdir", help="keep corpora and indexes here between runs (rebuilds are incremental)")
    parser.add_argument("--store", default="faiss", choices=("faiss", "milvus", "milvus-bm25"),
                        help="where the indexes live: an index folder, or Milvus Lite with bm25s or Milvus's BM25")
    parser.add_argument("--rows", type=Path,
                        help="also write one JSON line per question here (set, question, answerable, right, refused, confidence) for benchmarks/compare.py")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sets.split(",") if name not in SPLITS]
    if unknown:
        print(f"error: --sets {args.sets}: no set named {', '.join(unknown)} (known: {', '.join(SPLITS)})", file=sys.stderr)
        return 2
    if args.rows is not None:
        try:
            args.rows.write_text("", "utf-8")
        except OSError as err:
            print(f"error: --rows {args.rows}: cannot write there ({err.strerror or err})", file=sys.stderr)
            return 2
    settings = Settings.from_env(milvus_lexical="milvus" if args.store == "milvus-bm25" else None)
    embedder = make_embedder(settings)
    model = answer_model.configured(settings)
    threshold = model.threshold_for(settings)
    at = commit()
    print(f"commit {at}; store {args.store}; answer model {model.card.raw.get('created', '?')}; threshold {threshold:.4f}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(args.workdir or scratch)
        for name in args.sets.split(","):
            for questions_file in (args.article_questions if name == "article" else [None]):
                corpus = corpus_of(name, tmp, questions_file)
                index_dir = tmp / f"index-{corpus.folder.name}"
                if args.store != "faiss":
                    index_dir = f"milvus://{tmp / args.store / corpus.folder.name}.db"
                rebuild_index([str(corpus.folder)], index_dir, settings=settings, embedder=embedder)
                ask("warm up", index_dir=index_dir, settings=settings, embedder=embedder)
                for mode, label in (FOLLOWUP_MODES.items() if name == "followup" else [("conversation", name)]):
                    rows = run_set(corpus, index_dir, settings, embedder, mode)
                    result = {"split": SPLITS[name], "commit": at} | report(label, corpus, rows)
                    if name == "article":
                        result["questions_file"] = questions_file.name
                    print(json.dumps(result), f"verbatim violations: {verbatim_violations(corpus, rows)}", flush=True)
                    if args.rows is not None:
                        write_rows(args.rows, result["set"] + (f" ({questions_file.name})" if name == "article" else ""), rows)
                if name not in ("followup", "multipart") and (chosen := held_out_questions(corpus)):
                    # the same questions once their evidence paragraph is held out: on-topic unanswerable
                    # cases in the set's own documents, many more than its written traps
                    held = np.array(held_out_confidences(corpus, chosen, index_dir, settings, embedder))
                    asked = {id(r[0]): r[2].confidence for r in rows}
                    answered = np.array([asked[id(q)] for q in chosen])
                    print(json.dumps({"split": SPLITS[name], "commit": at, "set": f"{name}, evidence paragraph held out",
                                      "unanswerable": len(held), "unanswerable_refused": round(float((held < threshold).mean()), 4),
                                      "answerability_auc": round(auc(np.r_[answered, held], np.r_[np.ones(len(answered)), np.zeros(len(held))]), 4)}),
                          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
