"""The veto check on the seen article questions, the answer model's logit alone (no logistic layer,
no threshold): how often the best-scored pre-filtered candidate holds a reference answer, and the
AUC of the best logit, answerable against unanswerable. Seen data (the threshold is set on these
questions), so it only vetoes a model that the dev split chose; it never chooses one.

    python training/seen.py --model models/answer       # ~1 min
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from assistant.answer import extractive  # noqa: E402
from assistant.answer.model import MODEL_DIR, AnswerModel  # noqa: E402
from training.dev_check import model_at  # noqa: E402
from assistant.config import PROJECT_DIR, Settings  # noqa: E402
from assistant.ingest.embeddings import default_embedder  # noqa: E402
from assistant.ingest.indexing import rebuild_index  # noqa: E402
from assistant.search.retrieval import searcher_for  # noqa: E402
from benchmarks.answers import auc, holds  # noqa: E402
from training.combine import SEEN_QUESTIONS, seen_questions  # noqa: E402


def measure(model: AnswerModel, files: list[Path], index_dir: Path, settings: Settings) -> dict:
    searcher = searcher_for(index_dir, settings, default_embedder(settings))
    top1 = answerable = 0
    best, labels = [], []
    for q in seen_questions(files):
        vector = searcher.embed([q["question"]])
        hits = searcher.search_many([q["question"]], settings.answer_k, vectors=vector)[0]
        kept = extractive.sentences(q["question"], vector[0], hits, searcher, model.card.prefilter)[: settings.answer_candidates]
        texts = extractive.pair_texts(kept, searcher, q["question"], model.card.candidate_bridge_chars)
        logits = model.logits(q["question"], texts)
        pick = int(np.argmax(logits))
        # answerability: the best candidates re-read with their bridges, for every question (a card's
        # judge_skip_above is a probability, which this check of the logit alone does not compute)
        if model.card.judges_with_bridge:
            judges = [kept[i] for i in np.argsort(-logits, kind="stable")[: model.card.judge_candidates]]
            logits[pick] = model.logits(q["question"], extractive.pair_texts(judges, searcher, q["question"], model.card.bridge_chars)).max()
        best.append(float(logits[pick]))
        labels.append(int(q["answerable"]))
        if q["answerable"]:
            answerable += 1
            top1 += holds(kept[pick].text, q["answers"])
    return {"top1": top1, "answerable": answerable, "unanswerable": len(labels) - answerable,
            "auc": round(auc(np.array(best), np.array(labels)), 4)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    if (model := model_at(args.model)) is None:  # before the index is built, not after it
        return 2
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        rebuild_index([str(PROJECT_DIR / "documents")], Path(tmp) / "index", settings=settings)
        figures = measure(model, SEEN_QUESTIONS, Path(tmp) / "index", settings)
    print(json.dumps({"split": "seen (article questions, logit alone)", "model": str(args.model)} | figures), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
