"""Answer quality: accuracy, citation precision/recall, refusals both ways, and ask() latency.

Sets: xquad_en (qa_sample), clapnq_dev (with its unanswerable questions), and our own questions
about the article (benchmarks/article_questions.jsonl). xquad_en also gets "held-out paragraph"
questions: the same questions with the passages that overlap the gold paragraph removed from the
results, so the rest of the article is on topic but does not answer (used to fit and check
abstention, like clapnq's unanswerables).

    python benchmarks/answers.py            # the figures
    python benchmarks/answers.py --fit      # also refit the answerability weights (printed)
    python benchmarks/answers.py --workdir /tmp/answers   # keep the indexes: later runs take ~1.5 min
    python benchmarks/answers.py --sets article --article-questions benchmarks/article_questions_unseen.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import astuple, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant import extractive  # noqa: E402
from assistant.answering import ask  # noqa: E402
from assistant.config import PROJECT_DIR, Settings  # noqa: E402
from assistant.embeddings import MiniLMEmbeddings  # noqa: E402
from assistant.index import Index  # noqa: E402
from assistant.indexing import rebuild_index  # noqa: E402
from assistant.retrieval import Searcher, searcher_for  # noqa: E402
from benchmarks.evaldata import Corpus, Question, materialise, overlaps  # noqa: E402

ARTICLE_QUESTIONS = Path(__file__).with_name("article_questions.jsonl")


def _article_corpus(folder: Path, questions_file: Path = ARTICLE_QUESTIONS) -> Corpus:
    src = PROJECT_DIR / "documents" / "000_6925d6d02227fd72.txt"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / src.name
    path.write_bytes(src.read_bytes())
    questions = []
    for i, line in enumerate(questions_file.read_text("utf-8").splitlines()):
        q = json.loads(line)
        questions.append(Question(f"article-{i}", q["question"], tuple(q["answers"]), (), q["answerable"]))
    return Corpus("article", folder, {str(path): "article"}, {"article": path.read_text("utf-8")}, questions)


def _paragraph(corpus: Corpus, question: Question) -> tuple[str, int, int]:
    doc_id, start, end = question.evidence[0]
    text = corpus.texts[doc_id]
    p_start = text.rfind("\n\n", 0, start)
    p_end = text.find("\n\n", end)
    return doc_id, (0 if p_start < 0 else p_start), (len(text) if p_end < 0 else p_end)


def run_set(corpus: Corpus, searcher: Searcher, settings: Settings, embedder, held_out: bool = False):
    """Per question: (question, answerable?, answer or None, signals, latency ms)."""
    rows = []
    for q in corpus.questions:
        if held_out and not q.answerable:
            continue
        began = time.perf_counter()
        if held_out:
            doc_id, p_start, p_end = _paragraph(corpus, q)
            vector = searcher.embed([q.question])
            hits = searcher.search_many([q.question], settings.answer_k + 10, vectors=vector)[0]
            hits = [h for h in hits if not (corpus.doc_of.get(h.source) == doc_id and h.start < p_end and p_start < h.end)]
            hits = hits[: settings.answer_k]
            found, signals = extractive.candidates(q.question, vector[0], hits, searcher)
            rows.append((q, False, None, signals, (time.perf_counter() - began) * 1000))
            continue
        answer = ask(q.question, index_dir=searcher_dir[corpus.name], settings=settings, embedder=embedder)
        latency = (time.perf_counter() - began) * 1000
        vector = searcher.embed([answer.query])
        _, signals = extractive.candidates(answer.query, vector[0], list(answer.hits), searcher)
        rows.append((q, q.answerable, answer, signals, latency))
    return rows


searcher_dir: dict[str, str] = {}


def report(name: str, corpus: Corpus, rows) -> dict:
    answerable = [r for r in rows if r[1]]
    unanswerable = [r for r in rows if not r[1] and r[2] is not None]
    refused_ok = sum(r[2].abstained for r in unanswerable)
    refused_bad = sum(r[2].abstained for r in answerable)
    answered = [r for r in answerable if not r[2].abstained]
    correct = sum(any(a.lower() in r[2].text.lower() for a in r[0].answers) for r in answerable)
    cites = cite_ok = quote_ok = recall = 0
    for q, _, a, _, _ in answered:
        if not q.evidence:
            continue
        ok = [overlaps(corpus, q, c.hit.source, c.hit.start, c.hit.end) for c in a.citations]
        cites += len(ok)
        cite_ok += sum(ok)
        quote_ok += sum(overlaps(corpus, q, c.hit.source, c.quote_start, c.quote_end) for c in a.citations)
        recall += any(ok)
    with_evidence = sum(1 for q, *_ in answered if q.evidence)
    lat = [r[4] for r in rows if r[2] is not None]
    out = {
        "set": name,
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": correct / len(answerable) if answerable else float("nan"),
        "citation_precision": cite_ok / cites if cites else float("nan"),
        "quote_precision": quote_ok / cites if cites else float("nan"),
        "citation_recall": recall / with_evidence if with_evidence else float("nan"),
        "answerable_refused": refused_bad / len(answerable) if answerable else float("nan"),
        "unanswerable_refused": refused_ok / len(unanswerable) if unanswerable else float("nan"),
        "p50_ms": statistics.median(lat) if lat else float("nan"),
        "p95_ms": sorted(lat)[int(0.95 * (len(lat) - 1))] if lat else float("nan"),
    }
    return out


def verbatim_violations(corpus: Corpus, rows) -> int:
    bad = 0
    for _, _, a, _, _ in rows:
        if a is None:
            continue
        for c in a.citations:
            doc_text = corpus.texts[corpus.doc_of[c.hit.source]]
            if doc_text[c.quote_start : c.quote_end] != c.quote or c.quote not in a.text:
                bad += 1
    return bad


def fit(samples: list[tuple[tuple[float, ...], int]], l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Class-balanced, L2-regularised logistic regression by Newton's method."""
    x = np.array([s for s, _ in samples], dtype=np.float64)
    y = np.array([t for _, t in samples], dtype=np.float64)
    x1 = np.hstack([x, np.ones((len(x), 1))])
    pos = y.mean()
    weight = np.where(y == 1, 0.5 / pos, 0.5 / (1 - pos))
    theta = np.zeros(x1.shape[1])
    reg = l2 * np.eye(x1.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x1 @ theta)))
        grad = x1.T @ (weight * (p - y)) + reg @ theta
        hess = (x1 * (weight * p * (1 - p))[:, None]).T @ x1 + reg
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def _probability(samples, w: np.ndarray, b: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(np.array([x for x, _ in samples]) @ w + b)))


def _share(mask: np.ndarray, among: np.ndarray) -> float:
    return float(mask[among].mean()) if among.any() else float("nan")


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Chance that an answerable question scores above an unanswerable one (ties count half)."""
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def held_out_report(samples: dict[str, list], threshold: float) -> None:
    """Leave one set out: fit on the others, test on it (xquad_en with its held-out-paragraph
    questions as the unanswerable ones). Ranking (AUC, against the best sentence's cosine alone)
    tells whether the signals transfer; the refusal rates at `threshold` whether the calibration
    does; the rates at the threshold that refuses 10% of the set's answerable questions what a
    user who set ASSISTANT_ABSTAIN_THRESHOLD for that kind of document would get."""
    groups = {"article": ("article",), "xquad_en": ("xquad_en", "xquad_heldout"), "clapnq_dev": ("clapnq_dev",)}
    for name, members in groups.items():
        if not all(m in samples for m in members):
            continue
        w, b = fit([x for s, v in samples.items() if s not in members for x in v])
        test = [x for m in members for x in samples[m]]
        p = _probability(test, w, b)
        y = np.array([t for _, t in test])
        cosine = np.array([x[0] for x, _ in test])
        ten = np.sort(p[y == 1])[int(0.10 * (y == 1).sum())]
        print(f"fit without {name}, tested on it: AUC {auc(p, y):.3f} (best sentence's cosine alone {auc(cosine, y):.3f}); "
              f"at threshold {threshold}: answerable refused {_share(p < threshold, y == 1):.3f}, "
              f"unanswerable answered {_share(p >= threshold, y == 0):.3f}; "
              f"at threshold {ten:.2f} (10% of answerable refused): unanswerable refused {_share(p < ten, y == 0):.3f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit", action="store_true", help="refit the answerability weights")
    parser.add_argument("--sets", default="article,xquad_en,clapnq_dev")
    parser.add_argument("--article-questions", type=Path, default=ARTICLE_QUESTIONS,
                        help="the article's question file (article_questions_unseen.jsonl: written after tuning)")
    parser.add_argument("--workdir", help="keep corpora and indexes here between runs (rebuilds are incremental)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    embedder = MiniLMEmbeddings(settings.embed_batch_size, settings.index_threads, settings.query_threads)
    samples: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(args.workdir or scratch)
        results = []
        for name in args.sets.split(","):
            corpus = _article_corpus(tmp / name, args.article_questions) if name == "article" else materialise(name, tmp / name)
            index_dir = tmp / f"index-{name}"
            rebuild_index([str(corpus.folder)], index_dir, settings=settings, embedder=embedder)
            searcher_dir[name] = str(index_dir)
            searcher = searcher_for(index_dir, settings, embedder)
            ask("warm up", index_dir=index_dir, settings=settings, embedder=embedder)
            rows = run_set(corpus, searcher, settings, embedder)
            results.append(report(name, corpus, rows))
            print(json.dumps(results[-1]), f"verbatim violations: {verbatim_violations(corpus, rows)}", flush=True)
            samples[name] = [(astuple(r[3]), int(r[1])) for r in rows]
            if name == "xquad_en":
                held = run_set(corpus, searcher, settings, embedder, held_out=True)
                refused = sum(r[3].answerability() < settings.abstain_threshold for r in held)
                print(f"xquad_en held-out paragraph: {refused}/{len(held)} refused = {refused / len(held):.3f}", flush=True)
                samples["xquad_heldout"] = [(astuple(r[3]), 0) for r in held]
    names = [f.name for f in fields(extractive.Signals)]
    if args.fit:
        w, b = fit([x for v in samples.values() for x in v])
        line = ", ".join(f'"{n}": {v:.2f}' for n, v in zip(names, w))
        print(f"fitted on all: ANSWERABILITY_WEIGHTS = {{{line}}}; ANSWERABILITY_BIAS = {b:.2f}")
        for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
            cells = []
            for s, v in samples.items():
                p = _probability(v, w, b)
                y = np.array([t for _, t in v])
                cells.append(f"{s}: answerable refused {_share(p < threshold, y == 1):.3f}, "
                             f"unanswerable refused {_share(p < threshold, y == 0):.3f}")
            print(f"  threshold {threshold}: " + "; ".join(cells))
        held_out_report(samples, settings.abstain_threshold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
