"""A model soup: the average of the weights of answer models fine-tuned from one start.

    python training/soup.py --out /tmp/soup MODEL_DIR MODEL_DIR [MODEL_DIR ...]
    python training/soup.py --out /tmp/e2 --weights 2,1 models/answer /tmp/t1   # a third of the way from one to the other
    python training/train.py --evaluate --out /tmp/soup --dev-questions 0      # its dev figures

Fine-tunes that continue the same model with small learning rates (other seeds, other extra
pairs, another epoch) stay in one basin of the loss, and the average of their weights is often
better than each of them, above all on data unlike the training data (Wortsman et al., "Model
soups", 2022), at no cost at question time: the soup is one model of the same shape. No training
runs here. Each ingredient's fp32 weights are rebuilt from its int8 graph
(`training/warm_start.onnx_state`), averaged, and exported and quantised exactly as `train.py`
writes a model; the card names every ingredient (checksum, command, commit, lineage). The
ingredients must have the same depth and the same tokenizer; anything else is refused in one line.

`--base-share S` then moves the encoder's weights the share S of the way back to the packaged
pre-trained MiniLM's (the head stays the soup's): robust fine-tuning by weight-space interpolation
toward the start (WiSE-FT, Wortsman et al. 2022), which often keeps more of the pre-trained model's
generality on shifted data. With it one model is enough.

    python training/soup.py --out /tmp/w8 --base-share 0.2 models/answer
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answer.model import sha256  # noqa: E402
from training.warm_start import depth, load_state, onnx_state  # noqa: E402
from training.train import _write_card, base_path, commit, export, lineage, model_card, out_error, scorer  # noqa: E402


class SoupError(ValueError):
    """Ingredients that cannot be averaged (one line, naming the folder and the reason)."""


def averaged_state(folders: list[Path], weights: list[float] | None = None) -> dict[str, np.ndarray]:
    """The average of the ingredients' fp32 weights, name by name: uniform, or by `weights` (one
    per folder, positive; their shares of the sum)."""
    shares = [1.0] * len(folders) if weights is None else [float(w) for w in weights]
    total: dict[str, np.ndarray] = {}
    for folder, share in zip(folders, shares):
        try:
            state = onnx_state(folder / "model.onnx")
        except Exception as err:  # onnx and protobuf raise their own types for a file that is no such graph
            raise SoupError(f"{folder / 'model.onnx'}: not an answer model graph ({(str(err).splitlines() or [type(err).__name__])[0]})") from None
        if total and set(state) != set(total):
            raise SoupError(f"{folder}: its weights are not those of {folders[0]} (another depth or design)")
        for name, value in state.items():
            if name in total and value.shape != total[name].shape:
                raise SoupError(f"{folder}: {name} has shape {value.shape}, {folders[0]} {total[name].shape}")
            total[name] = total.get(name, 0.0) + share * value.astype(np.float64)
    return {name: (value / sum(shares)).astype(np.float32) for name, value in total.items()}


def toward_base(state: dict[str, np.ndarray], share: float) -> dict[str, np.ndarray]:
    """`state` with every encoder weight moved `share` of the way to the packaged pre-trained
    MiniLM's (its first layers, as deep as `state`); the head, which the pre-trained model lacks,
    unchanged."""
    base = {name: value.detach().numpy() for name, value in scorer(depth(state)).state_dict().items()}
    return {name: ((1.0 - share) * value + share * base[name]).astype(np.float32) if name.startswith("encoder.") else value
            for name, value in state.items()}


def check(folders: list[Path], base_share: float = 0.0, weights: list[float] | None = None) -> None:
    if weights is not None and len(weights) != len(folders):
        raise SoupError(f"--weights {','.join(f'{w:g}' for w in weights)}: {len(weights)} weights for {len(folders)} models")
    if weights is not None and not all(np.isfinite(w) and w > 0 for w in weights):
        raise SoupError(f"--weights {','.join(f'{w:g}' for w in weights)}: each weight must be a number above 0")
    if not 0.0 <= base_share < 1.0:
        raise SoupError(f"--base-share {base_share}: must be at least 0 and below 1")
    if len(folders) < (1 if base_share else 2):
        raise SoupError(f"{' '.join(map(str, folders)) or 'no model'}: a soup needs at least two answer models (or one with --base-share)")
    if len(set(f.resolve() for f in folders)) < len(folders):
        raise SoupError(f"{' '.join(map(str, folders))}: a model is named twice (give it a larger share with --weights)")
    for folder in folders:
        for name in ("model.onnx", "tokenizer.json"):
            if not (folder / name).is_file():
                raise SoupError(f"{folder}: no {name} there")
    tokenizers = {sha256(f / "tokenizer.json") for f in folders}
    if len(tokenizers) > 1:
        raise SoupError(f"{' '.join(map(str, folders))}: the models have different tokenizers")


def make(folders: list[Path], out: Path, argv: list[str], base_share: float = 0.0, weights: list[float] | None = None) -> dict:
    """Write the soup of `folders` (weighted by `weights`, else uniform; moved `base_share` toward
    the pre-trained encoder) to `out` (model.onnx, tokenizer.json, card.json); its card."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    began = time.time()
    check(folders, base_share, weights)
    state = averaged_state(folders, weights)
    if base_share:
        state = toward_base(state, base_share)
    layers = depth(state)
    model = scorer(layers, weights=False)
    load_state(model, state, folders[0])
    model.eval()
    export(model, AutoTokenizer.from_pretrained(base_path()), out)
    how = {"weights": "uniform" if weights is None else [w / sum(weights) for w in weights],
           "ingredients": [lineage(f) for f in folders]}
    if base_share:
        how["base_share"] = base_share  # encoder weights: (1 - share) * the average + share * the pre-trained MiniLM
    card = model_card(out, layers, {"soup": how},
                      "python training/soup.py " + " ".join(argv), commit(), began)
    _write_card(out, card)
    return card


def _weights(text: str) -> list[float]:
    try:
        return [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: numbers apart by commas, one per model (2,1)") from None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", type=Path, nargs="*", help="answer model folders (model.onnx, tokenizer.json, card.json)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the soup to")
    parser.add_argument("--base-share", type=float, default=0.0,
                        help="move the encoder this share of the way back to the pre-trained MiniLM (WiSE-FT; 0: not at all)")
    parser.add_argument("--weights", type=_weights, metavar="W,W,...",
                        help="one weight per model, their shares of the sum (default: uniform); `--weights 2,1 A B`: a third of the way from A to B")
    args = parser.parse_args(argv)
    if any(args.out.resolve() == m.resolve() for m in args.models):
        print(f"error: --out {args.out}: is one of the ingredients; write the soup elsewhere", file=sys.stderr)
        return 2
    if error := out_error(args.out):
        print(error, file=sys.stderr)
        return 2
    try:
        card = make(args.models, args.out, argv, args.base_share, args.weights)
    except SoupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    toward = f", {args.base_share} of the way to the pre-trained encoder" if args.base_share else ""
    weighted = "" if args.weights is None else " (weights " + ",".join(f"{w:g}" for w in args.weights) + ")"
    print(f"wrote {args.out}: the average of {len(args.models)} models{weighted}{toward} in {card['wall_seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
