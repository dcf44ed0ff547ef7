"""The command line of a dev-split check: one model folder measured on the traindata's dev questions.

`swaps.py` and `rewording.py` each alter the dev questions and measure a model on them; this
gives both the same arguments and output (one JSON line naming the split and the model).
`model_at` is how every training script loads the `--model` it is given: a folder without a
usable model is a one-line error, not a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def model_at(folder: Path, threads: int = 2):
    """The answer model in `folder` (`--model`), or None after printing why it cannot be loaded,
    in one line naming the flag and the command that rebuilds it."""
    from assistant.answer.model import AnswerModel, ModelError

    try:
        return AnswerModel(folder, threads=threads)
    except ModelError as err:
        print(f"error: --model {folder}: {err}", file=sys.stderr)
        return None


def main(measure, argv=None) -> int:
    """Parse `--model`, `--traindata`, `--dev-questions`; print `measure(model, dev_questions, embed)`."""
    from assistant.answer.model import MODEL_DIR
    from assistant.config import Settings
    from assistant.ingest.embeddings import make_embedder
    from training.pairs import TRAINDATA, count_error, every_nth, questions

    parser = argparse.ArgumentParser(description=measure.__doc__)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--traindata", type=Path, default=TRAINDATA)
    parser.add_argument("--dev-questions", type=int, default=1000, help="dev questions (every n-th, as train.py)")
    args = parser.parse_args(argv)
    if error := count_error(("--dev-questions", args.dev_questions)):
        print(error, file=sys.stderr)
        return 2
    if (model := model_at(args.model)) is None:
        return 2
    dev = every_nth(questions(args.traindata, "dev"), args.dev_questions)
    figures = measure(model, dev, make_embedder(Settings.from_env()).embed)
    print(json.dumps({"split": "dev (traindata)", "model": str(args.model)} | figures), flush=True)
    return 0
