"""Weights to continue training from: the shipped int8 ONNX answer model, dequantised.

`train.py` keeps no fp32 weights (the ONNX graph is what ships, and fp32 safetensors would not fit
the model budget), so a run that continues from a shipped model rebuilds them from its graph:
every quantised weight is `(q - zero_point) * scale`, under the module name the graph's node
names carry (`/encoder/encoder/layer.0/attention/self/query/MatMul_quant` is
`encoder.encoder.layer.0.attention.self.query`; ONNX stores a Linear's weight transposed). Fp32
initialisers (biases, LayerNorms) keep their names. The rebuilt model differs from the graph only
by the int8 rounding (checked by `tests/test_training.py`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

_MATMUL = re.compile(r"^/(.+)/MatMul_quant$|^/(head)/Gemm_MatMul_quant$")


def onnx_state(path: Path) -> dict[str, np.ndarray]:
    """The fp32 state dict of the scorer that `path` (an int8 graph written by `train.export`)
    was exported from."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def dequantised(prefix: str) -> np.ndarray:
        q = arrays[f"{prefix}_quantized"].astype(np.float32)
        return (q - arrays[f"{prefix}_zero_point"].astype(np.float32)) * arrays[f"{prefix}_scale"].astype(np.float32)

    state = {name: value.astype(np.float32) for name, value in arrays.items() if value.dtype == np.float32 and "." in name
             and not name.endswith(("_scale", "_zero_point"))}
    for name in [n[: -len("_quantized")] for n in arrays if n.startswith("encoder.embeddings.") and n.endswith("_quantized")]:
        state[name] = dequantised(name)
    for node in graph.node:
        match = _MATMUL.match(node.name) if node.op_type == "MatMulInteger" else None
        if match:
            module = (match.group(1) or match.group(2)).replace("/", ".")
            state[f"{module}.weight"] = dequantised(node.input[1][: -len("_quantized")]).T.copy()
    return state


_LAYER = "encoder.encoder.layer."


def depth(state: dict[str, np.ndarray]) -> int:
    """How many encoder layers `state` holds."""
    return len({name[len(_LAYER):].split(".")[0] for name in state if name.startswith(_LAYER)})


def first_layers(state: dict[str, np.ndarray], layers: int) -> dict[str, np.ndarray]:
    """`state` without its encoder layers from `layers` on: a shallower student that starts from
    the first layers of a deeper model (`train.py --init DIR --layers N`)."""
    return {name: value for name, value in state.items()
            if not name.startswith(_LAYER) or int(name[len(_LAYER):].split(".")[0]) < layers}


def load_state(scorer, weights: dict[str, np.ndarray], path: Path) -> None:
    """Set `scorer`'s weights (a `train.scorer` of the same layer count) from an fp32 state
    (`onnx_state` of the graph at `path`, its `first_layers`, or an average of several:
    training/soup.py); a missing or extra weight is an error naming `path`, not a silent partial load."""
    import torch

    state = {name: torch.from_numpy(value) for name, value in weights.items()}
    own = scorer.state_dict()
    needed = {n for n in own if not n.endswith("position_ids")}
    missing, extra = sorted(needed - set(state)), sorted(set(state) - set(own))
    if missing or extra:
        raise ValueError(f"{path}: does not match a {len(scorer.encoder.encoder.layer)}-layer scorer (missing {missing[:3]}, unexpected {extra[:3]})")
    for name in needed:
        if tuple(state[name].shape) != tuple(own[name].shape):
            raise ValueError(f"{path}: {name} has shape {tuple(state[name].shape)}, the scorer {tuple(own[name].shape)}")
    scorer.load_state_dict(state, strict=False)


def torch_scorer(folder: Path):
    """The answer model in `folder` as a torch `train.scorer` in eval mode, its int8 weights
    dequantised: what a design study reads or trains on from the shipped weights."""
    from training.train import scorer

    state = onnx_state(folder / "model.onnx")
    model = scorer(depth(state), weights=False)
    load_state(model, state, folder / "model.onnx")
    model.eval()
    return model
