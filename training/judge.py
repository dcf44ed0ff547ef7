"""Judge mode on an answer model's card: answerability from its best candidates re-read with a bridge.

    python training/judge.py                              # ~10 s: the shipped card, 4 judges, 160-character bridges
    python training/judge.py --model DIR --judges 0       # back to the plain reading
    python training/judge.py --skip-above 0.6             # not re-read where the plain best reaches 0.6

The model still chooses and composes the answer from its candidates read as it was trained (the
sentence with the end of the one before). Then its `--judges` best candidates are read once more
with their bridge (`assistant/answer/bridge.py`: the passage's other sentence sharing most of the
question's words, its first `--bridge` characters), and the highest of those probabilities is the
question's answerability. With `--skip-above P`, a question part whose plain best already reaches
probability P is not re-read (its answerability is that probability): the judges cost time only
where the reading is unsure. The combiner is not refitted: `combine.py` fits the plain reading and
refuses a judge-mode card, so it runs before this. The abstention threshold is chosen again by the
shipped rule (`combine.seen_threshold`: the seen article questions asked through ask()). Only the
card changes; the model files and their checksums stay as they are.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.answer.model import MODEL_DIR  # noqa: E402
from training.combine import SEEN_QUESTIONS, seen_threshold  # noqa: E402
from training.dev_check import model_at  # noqa: E402
from training.train import CardEdit, _write_card, commit  # noqa: E402

FIELDS = ("bridge_chars", "bridge_for", "judge_candidates", "judge_skip_above")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--judges", type=int, default=4, help="best candidates re-read with their bridge (0: judge mode off)")
    parser.add_argument("--bridge", type=int, default=160, help="characters of each judge's bridge read")
    parser.add_argument("--skip-above", type=float, help="no judges where the plain best probability reaches this (default: always judged)")
    parser.add_argument("--false-refusal", type=float, default=0.05, help="share of the seen answerable questions the threshold may refuse")
    args = parser.parse_args(argv)
    for flag, value, least in (("--judges", args.judges, 0), ("--bridge", args.bridge, 1)):
        if value < least:
            print(f"error: {flag} {value}: must be {least} or more", file=sys.stderr)
            return 2
    if args.skip_above is not None and not (args.judges and 0.0 < args.skip_above <= 1.0):
        why = "needs judges (--judges 1 or more)" if not args.judges else "must be above 0 and at most 1"
        print(f"error: --skip-above {args.skip_above}: {why}", file=sys.stderr)
        return 2
    if not 0.0 <= args.false_refusal < 1.0:
        print(f"error: --false-refusal {args.false_refusal}: must be at least 0 and below 1", file=sys.stderr)
        return 2
    try:
        card = json.loads((args.model / "card.json").read_text("utf-8"))
        card["files"], card["threshold"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"error: --model {args.model}: no readable answer model card there ({type(err).__name__}: {err})", file=sys.stderr)
        return 2
    if card.get("bridge_for", "candidates") == "candidates" and card.get("bridge_chars", 0) > 0:
        print(f"error: --model {args.model}: its card reads every candidate with a bridge already (bridge_chars {card['bridge_chars']})", file=sys.stderr)
        return 2
    if model_at(args.model) is None:  # its files must load before the card is changed
        return 2
    began = time.perf_counter()
    with CardEdit(args.model) as edit:  # a run that fails or stops leaves the card as it was
        chosen = _judge(args, argv, card)
        edit.done()
    mode = f"{args.judges} judges reading {args.bridge}-character bridges" if args.judges else "judge mode off"
    mode += f", none where the plain best reaches {args.skip_above}" if args.skip_above is not None else ""
    print(f"wrote {args.model / 'card.json'}: {mode}, threshold {chosen['threshold']:.4f} "
          f"(seen answerable refused {chosen['answerable_refused']}, unanswerable {chosen['unanswerable_refused']}) in {time.perf_counter() - began:.0f} s")
    return 0


def _judge(args, argv, card: dict) -> dict:
    """Set judge mode on the card and choose its threshold again; the chosen threshold's figures."""
    for name in FIELDS + ("judge",):
        card.pop(name, None)
    if args.judges:
        card |= {"bridge_chars": args.bridge, "bridge_for": "answerability", "judge_candidates": args.judges}
        if args.skip_above is not None:
            card["judge_skip_above"] = args.skip_above
        card["judge"] = {"commit": commit(), "command": " ".join(["python training/judge.py", *(sys.argv[1:] if argv is None else argv)])}
    _write_card(args.model, card)  # ask() reads as the card now says
    chosen = seen_threshold(args.model, SEEN_QUESTIONS, args.false_refusal)
    card["threshold"] = chosen["threshold"]
    after = f"training/judge.py --judges {args.judges}" + (f" --bridge {args.bridge}" if args.judges else "")
    after += f" --skip-above {args.skip_above}" if args.skip_above is not None else ""
    card["threshold_chosen"] = chosen | {"after": after}
    _write_card(args.model, card)
    return chosen


if __name__ == "__main__":
    raise SystemExit(main())
