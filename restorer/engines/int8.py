"""Int8 RRDBNet on ONNX Runtime: calibrated activation ranges, weights quantised per blend.

The enlargement network is mostly 3x3 convolutions; int8 runs them with
integer kernels (u8 activations x s8 weights). Two things decide accuracy:

- Weights are quantised per output channel, symmetrically (scale = max|w| / 127),
  each time a new blend arrives: numpy work of a fraction of a second, so the
  Look slider never waits for a re-calibration.
- Activations (each convolution's input and output) use one uint8 range per
  tensor. Ranges depend on the data, so they are measured once, offline, on
  photos from the training set at several blends (`calibrate`, run by
  `restorer.training.calibrate_int8`), and shipped as a small JSON file. A blend
  between two calibrated alphas takes the linear interpolation of their ranges.

The first convolution and the upsampling tail (conv_up1, conv_up2, conv_hr,
conv_last) stay in float (FLOAT_LAYERS, with three trunk blocks): they touch
the image itself, where an error shows.
(With ONNX Runtime's own quantiser, x4plus at alpha 0.7 on three Kodak crops:
every convolution in int8, 33.8-39.2 dB from fp32; these five in float,
36.7-39.2 dB.) They are about 8 % of the multiply-adds; the 23-block trunk is
the rest.

Image contract: as every engine, RGB float32 (N, 3, H, W) in [0, 1] ->
(N, 3, 4H, 4W), unclamped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from restorer.engines.onnx_engine import OnnxRRDB

# Convolutions left in float (prefixes of their weight names): the image's own first and last
# layers, and the trunk's first RRDB block and its last two, the ones whose int8 error reached the
# output most (simulated one block at a time on x4plus at alpha 0.7: body.22 alone cost 52 dB of
# agreement, body.21 55, body.0 56, the others 59-63). Keeping those three in float raised the
# agreement on five Kodak and Set14 crops from 46.5 / 42.7 dB to 48.5 / 44.5 (alpha 0 / 0.7, with
# clipped ranges widened by 1.25) for 5 % of the speed.
IMAGE_LAYERS = ("conv_first", "conv_up1", "conv_up2", "conv_hr", "conv_last")
FLOAT_LAYERS = (*IMAGE_LAYERS, "body.0.", "body.21.", "body.22.")
# Activation ranges are the true extremes seen in calibration, never clipped. Clipping the rarest
# 0.001 % on each side gives finer steps and scored 1-4 dB closer to fp32 on ordinary photos, but
# a crisp, saturated photo (Set5's butterfly) then clipped: 23 dB from fp32 at alpha 0, with the
# error on its white spots, against 38 dB with the extremes. An artefact on one photo in five is
# worse than a finer average. (Five Set5 photos and five Kodak/Set14 crops, alpha 0 / 0.7: worst
# 38.4 / 37.0 dB, mean 43.3 / 41.3 with the extremes; worst 23.1 / 35.4, mean 42.2 / 42.7 clipped
# and widened by 1.25.)
PERCENTILE = 100.0


def quantised_layers(state: dict, keep_float: tuple[str, ...] = IMAGE_LAYERS) -> list[str]:
    """Names (weight-name prefixes) of the convolutions that may run in int8: all but those `keep_float`
    starts. Calibration covers all of the trunk; the engine keeps FLOAT_LAYERS in float."""
    return [k[: -len(".weight")] for k, v in state.items()
            if k.endswith(".weight") and v.dim() == 4 and not k.startswith(keep_float)]


def calibrate(net, crops, percentile: float = PERCENTILE, samples: int = 20000, seed: int = 0) -> dict:
    """{layer: {"in": [lo, hi], "out": [lo, hi]}} for every int8 layer of `net` (an RRDBNet in torch).

    `crops` are RGB float tensors (1, 3, h, w) in [0, 1]. Each crop contributes `samples`
    random values per tensor; the range is the [100 - percentile, percentile] percentile
    band of them, or with `percentile` 100 the true extremes over all crops, widened to
    include 0 (uint8 must represent zero exactly).
    """
    import torch

    layers = set(quantised_layers(net.state_dict()))
    modules = {n: m for n, m in net.named_modules() if n in layers}
    rng = torch.Generator().manual_seed(seed)
    seen: dict[tuple[str, str], list] = {}  # sampled values, for a percentile under 100
    extremes: dict[tuple[str, str], tuple[float, float]] = {}

    def keep(key, x):
        flat = x.detach().flatten()
        low, high = extremes.get(key, (0.0, 0.0))
        extremes[key] = (min(low, float(flat.min())), max(high, float(flat.max())))
        if percentile < 100:
            index = torch.randint(0, flat.numel(), (min(samples, flat.numel()),), generator=rng)
            seen.setdefault(key, []).append(flat[index].float())

    hooks = []
    for name, module in modules.items():
        hooks.append(module.register_forward_pre_hook(lambda m, inp, n=name: keep((n, "in"), inp[0])))
        hooks.append(module.register_forward_hook(lambda m, inp, out, n=name: keep((n, "out"), out)))
    run_with_hooks(net, crops, hooks)
    ranges: dict = {}
    for (name, where), (lo, hi) in extremes.items():
        if percentile < 100:
            v = torch.cat(seen[(name, where)])
            lo = min(0.0, float(torch.quantile(v, 1 - percentile / 100)))
            hi = max(0.0, float(torch.quantile(v, percentile / 100)))
        ranges.setdefault(name, {})[where] = [lo, hi]
    return ranges


def run_with_hooks(net, crops, hooks: list) -> None:
    """Run `net` over `crops` (calibration), then remove `hooks`, the forward hooks recording what it saw."""
    import torch

    try:
        with torch.inference_mode():
            for crop in crops:
                net(crop)
    finally:
        for hook in hooks:
            hook.remove()


def ranges_at(table: dict, alpha: float) -> dict:
    """Ranges for `alpha` from a calibration file's table {"alphas": [...], "ranges": [{...}, ...]}:
    linear interpolation between the two nearest calibrated alphas (clamped at the ends)."""
    alphas = table["alphas"]
    alpha = min(max(float(alpha), alphas[0]), alphas[-1])
    upper = next(i for i, a in enumerate(alphas) if a >= alpha)
    if upper == 0 or alphas[upper] == alpha:
        return table["ranges"][upper]
    lower = upper - 1
    t = (alpha - alphas[lower]) / (alphas[upper] - alphas[lower])
    low, high = table["ranges"][lower], table["ranges"][upper]
    return {name: {where: [(1 - t) * a + t * b for a, b in zip(low[name][where], high[name][where])]
                   for where in low[name]} for name in low}


def _uint8_params(lo: float, hi: float) -> tuple[np.float32, np.uint8]:
    scale = max(hi - lo, 1e-8) / 255.0
    zero = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zero)


def weight_params(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 weights, per-output-channel float32 scales): symmetric, scale = max|w| / 127."""
    peak = np.abs(weight).reshape(weight.shape[0], -1).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(weight / scale[:, None, None, None]), -127, 127).astype(np.int8)
    return q, scale


def qdq_model(model, state: dict, ranges: dict, keep_float: tuple[str, ...] = FLOAT_LAYERS):
    """A copy of the exported float graph `model` with the blend `state` installed, and every int8
    layer wrapped in QuantizeLinear/DequantizeLinear pairs (input, weight, bias, output), which
    ONNX Runtime fuses into integer convolutions."""
    import onnx
    from onnx import helper, numpy_helper

    wanted = set(quantised_layers(state, keep_float))
    missing = sorted(wanted - set(ranges))
    if missing:
        raise ValueError(f"the int8 calibration does not fit this network (it lacks {missing[0]})")
    ranges = {name: r for name, r in ranges.items() if name in wanted}
    graph = onnx.ModelProto()
    graph.CopyFrom(model)
    g = graph.graph
    floats = {name: tensor.detach().float().cpu().numpy() for name, tensor in state.items()}
    kept = [init for init in g.initializer if init.name not in floats]
    del g.initializer[:]
    g.initializer.extend(kept)
    nodes = list(g.node)
    del g.node[:]
    added = []

    def init(name, array):
        added.append(numpy_helper.from_array(array, name))
        return name

    def qdq(tensor, out, scale, zero):
        q = f"{out}_q"
        g.node.append(helper.make_node("QuantizeLinear", [tensor, scale, zero], [q], name=f"{out}_Q"))
        g.node.append(helper.make_node("DequantizeLinear", [q, scale, zero], [out], name=f"{out}_DQ"))

    for node in nodes:
        layer = node.input[1][: -len(".weight")] if node.op_type == "Conv" and len(node.input) > 1 else None
        if layer is None or layer not in ranges:
            g.node.append(node)
            continue
        x, w = node.input[0], node.input[1]
        b = node.input[2] if len(node.input) > 2 else None
        s_in, z_in = _uint8_params(*ranges[layer]["in"])
        s_out, z_out = _uint8_params(*ranges[layer]["out"])
        qdq(x, f"{layer}.x_dq", init(f"{layer}.x_scale", s_in), init(f"{layer}.x_zero", z_in))
        wq, ws = weight_params(floats[w])
        g.node.append(helper.make_node(
            "DequantizeLinear", [init(f"{layer}.w_q", wq), init(f"{layer}.w_scale", ws),
                                 init(f"{layer}.w_zero", np.zeros_like(ws, dtype=np.int8))],
            [f"{layer}.w_dq"], name=f"{layer}.w_DQ", axis=0))
        inputs = [f"{layer}.x_dq", f"{layer}.w_dq"]
        if b is not None:
            bs = (s_in * ws).astype(np.float32)
            bq = np.rint(floats[b] / bs).astype(np.int32)
            g.node.append(helper.make_node(
                "DequantizeLinear", [init(f"{layer}.b_q", bq), init(f"{layer}.b_scale", bs),
                                     init(f"{layer}.b_zero", np.zeros_like(bq))],
                [f"{layer}.b_dq"], name=f"{layer}.b_DQ", axis=0))
            inputs.append(f"{layer}.b_dq")
        raw = f"{layer}.y_raw"
        conv = helper.make_node("Conv", inputs, [raw], name=node.name)
        conv.attribute.extend(node.attribute)
        g.node.append(conv)
        qdq(raw, node.output[0], init(f"{layer}.y_scale", s_out), init(f"{layer}.y_zero", z_out))
    quantised = {f"{layer}.{part}" for layer in ranges for part in ("weight", "bias")}
    added += [numpy_helper.from_array(array, name) for name, array in floats.items() if name not in quantised]
    g.initializer.extend(added)
    return graph


TABLE_FILE = "rrdbnet_x4_int8_ranges.json"
TABLE_SHA256 = "7c9cef1df327dee86a7048cf0d1d5abbaef6a2848a330659bf7b96f1d8a6763c"


def bundled_table() -> dict:
    """The shipped calibration of the bundled x4 pair (faithful network and x4plus), checked by SHA-256."""
    return load_table(checked_calibration(TABLE_FILE, TABLE_SHA256))


def checked_calibration(name: str, sha256: str) -> Path:
    """The path of a calibration file shipped in weights/, refused when missing or not the file we made."""
    from restorer.errors import ModelUnavailable
    from restorer.models.store import sha256_of
    from restorer.paths import bundled_weights_dir

    path = bundled_weights_dir() / name
    if not path.is_file():
        raise ModelUnavailable(f"The int8 calibration {name} is missing from {path.parent}; reinstall Restorer.")
    if sha256_of(path) != sha256:
        raise ModelUnavailable(f"{name} is damaged (its SHA-256 does not match); reinstall Restorer.")
    return path


def load_table(path: Path) -> dict:
    """A calibration file: {"alphas": [...], "ranges": [{layer: {"in": [lo, hi], "out": [lo, hi]}}, ...]}."""
    table = json.loads(Path(path).read_text())
    if not table.get("alphas") or len(table["alphas"]) != len(table.get("ranges", [])):
        raise ValueError(f"{path} is not an int8 calibration file")
    return table


class OnnxInt8RRDB(OnnxRRDB):
    """RRDBNet in int8 on ONNX Runtime; `load(state, alpha)` quantises a new blend's weights."""

    name = "onnxruntime-int8"
    keep_float = FLOAT_LAYERS

    def __init__(self, hyper: dict, folder: Path, table: dict, threads: int = 0) -> None:
        super().__init__(hyper, folder, threads)
        self._table = table

    def load(self, state: dict, alpha: float = 1.0) -> None:
        model = qdq_model(self._model, state, ranges_at(self._table, alpha), self.keep_float)
        self._start_session(model)
