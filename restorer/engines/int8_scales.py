"""Per-channel int8 for RRDBNet, shared by the OpenVINO and ONNX Runtime int8 engines.

The trunk's feature maps differ by orders of magnitude between channels, so
one range per tensor wastes most of the 8 bits on all but the loudest
channel. Instead every feature map of a dense block (its input x and the four
LeakyReLU outputs x1..x4) is rounded once, to int8 with a symmetric scale of
its own per channel (zero point 128 in uint8, so zero padding stays exact).
A convolution over the concatenation [x, x1, ...] then sees integers whose
true value is `scale[c] * q[c]`; the per-channel scales cannot be applied
after an integer convolution (it sums over channels), so they are folded into
the weights instead: W'[o, c] = W[o, c] * scale_in[c] / scale_out[o], which is
then quantised per output channel (`fold_weights`). The concatenation itself
becomes a copy of integers.

The scales come from each channel's peak, measured once, offline, on
training photos at five alphas (`python -m restorer.training.calibrate_int8`)
and shipped as `weights/rrdbnet_x4_int8_peaks.npz`; a blend in between
interpolates them (`peaks_at`). Flat, fully saturated colour (graphics,
colour bars) exceeds the ranges measured on photos and clips; photos'
saturated colour does not.

`GraphBuilder` and `rrdb_graph` write the x4 network as an ONNX graph whose
float parts match `RRDBNet.forward` exactly; each engine supplies how an int8
dense block is written.
"""

from __future__ import annotations

import numpy as np

# The trunk's first RRDB and its last two stay in float: their rounding reached the output most
# (simulated with this scheme at alpha 0.7: all 23 blocks in int8 42.8 / 47.6 dB worst / mean from
# fp32, these three in float 46.2 / 51.1; ONNX Runtime's engine measured 42.7 / 47.4 and 45.4 / 50.3).
FLOAT_BLOCKS = ("body.0.", "body.21.", "body.22.")
ZERO_POINT = 128  # uint8 holding a symmetric int8 value: 0 stays exactly 0, padding included
PARTS = 6  # peaks per dense block: its input, the four LeakyReLU outputs, conv5's output

PEAKS_FILE = "rrdbnet_x4_int8_peaks.npz"
PEAKS_SHA256 = "7ab1e6459678eee8c2b97f0443e19dfda1973bcc53089586e1cd227635894589"


def dense_blocks(net) -> dict:
    """{name: DenseBlock} of an RRDBNet, in order."""
    from restorer.models.archs.rrdbnet import DenseBlock

    return {name: m for name, m in net.named_modules() if isinstance(m, DenseBlock)}


def dense_blocks_of(hyper: dict) -> list[str]:
    """Names of the dense blocks an RRDBNet with `hyper` has, in order."""
    return [f"body.{i}.rdb{j}" for i in range(hyper["blocks"]) for j in (1, 2, 3)]


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


def calibrate_peaks(net, crops) -> dict[str, list[np.ndarray]]:
    """{dense block: [max |value| per channel of x, x1, x2, x3, x4, conv5's output]} over `crops`
    (RGB float tensors (1, 3, h, w) in [0, 1]) run through `net`, an RRDBNet in torch. Read by hooks on
    each block's convolutions: conv1's input is x, conv1-4's outputs after the block's LeakyReLU are x1-x4."""
    import torch
    from torch.nn import functional as F

    peaks: dict[tuple[str, int], torch.Tensor] = {}

    def keep(key, value):
        seen = value.detach().abs().amax((0, 2, 3))
        peaks[key] = seen if key not in peaks else torch.maximum(peaks[key], seen)

    hooks = []
    for name, block in dense_blocks(net).items():
        convs = (block.conv1, block.conv2, block.conv3, block.conv4, block.conv5)
        hooks.append(block.conv1.register_forward_pre_hook(lambda m, a, n=name: keep((n, 0), a[0])))
        for part, conv in enumerate(convs, start=1):
            slope = block.act.negative_slope if part < 5 else 1.0  # conv5's output has no activation
            hooks.append(conv.register_forward_hook(
                lambda m, a, y, n=name, k=part, s=slope: keep((n, k), F.leaky_relu(y, s))))
    run_with_hooks(net, crops, hooks)
    return {name: [peaks[(name, k)].float().numpy() for k in range(PARTS)] for name in dense_blocks(net)}


def save_table(path, alphas: list[float], tables: list[dict], meta: dict) -> None:
    """Write peaks measured at `alphas` (one `calibrate_peaks` result each) as one .npz, atomically."""
    import io
    import json

    from restorer.imaging import atomic_file

    names = list(tables[0])
    sizes = [len(p) for p in tables[0][names[0]]]
    array = np.stack([np.stack([np.concatenate(t[n]) for n in names]) for t in tables]).astype(np.float32)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, alphas=np.asarray(alphas, np.float32), peaks=array, blocks=np.asarray(names),
                        sizes=np.asarray(sizes, np.int32), meta=np.asarray(json.dumps(meta)))
    with atomic_file(path) as handle:
        handle.write(buffer.getvalue())


def load_table(path) -> dict:
    """A peaks file: {"alphas": (A,), "peaks": (A, blocks, channels), "blocks": [...], "sizes": [...]}."""
    with np.load(path, allow_pickle=False) as data:
        table = {"alphas": data["alphas"].astype(np.float64), "peaks": data["peaks"].astype(np.float32),
                 "blocks": [str(b) for b in data["blocks"]], "sizes": [int(s) for s in data["sizes"]]}
    if table["peaks"].shape[:2] != (len(table["alphas"]), len(table["blocks"])) or len(table["sizes"]) != PARTS:
        raise ValueError(f"{path} is not a per-channel int8 calibration file")
    return table


def checked_calibration(name: str, sha256: str):
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


def bundled_table() -> dict:
    """The shipped per-channel calibration of the bundled x4 pair, checked by SHA-256."""
    return load_table(checked_calibration(PEAKS_FILE, PEAKS_SHA256))


def peaks_at(table: dict, alpha: float) -> dict[str, list[np.ndarray]]:
    """Per-channel peaks for `alpha`: linear interpolation between the two nearest calibrated alphas
    (clamped at the ends), split back into each block's six parts."""
    alphas = table["alphas"]
    a = float(np.clip(alpha, alphas[0], alphas[-1]))
    upper = int(np.searchsorted(alphas, a))
    if upper == 0 or alphas[upper] == a:
        rows = table["peaks"][upper]
    else:
        t = (a - alphas[upper - 1]) / (alphas[upper] - alphas[upper - 1])
        rows = (1 - t) * table["peaks"][upper - 1] + t * table["peaks"][upper]
    bounds = np.cumsum([0, *table["sizes"]])
    return {name: [rows[i, bounds[k]:bounds[k + 1]] for k in range(PARTS)] for i, name in enumerate(table["blocks"])}


def fitting_peaks(table: dict, alpha: float, hyper: dict, float_blocks: tuple[str, ...]) -> dict:
    """`peaks_at(table, alpha)`, refused (ValueError) when a dense block of an RRDBNet with `hyper` that would
    run in int8 has none: a table made for another network."""
    peaks = peaks_at(table, alpha)
    missing = [name for name in dense_blocks_of(hyper) if name not in peaks and not name.startswith(float_blocks)]
    if missing:
        raise ValueError(f"the int8 calibration does not fit this network (it lacks {missing[0]})")
    return peaks


def fold_weights(weight: np.ndarray, bias: np.ndarray, scale_in: np.ndarray, scale_out: np.ndarray | None,
                 levels: int = 127):
    """(int8 weights, per-output-channel step, int32 bias) of a convolution whose input arrives as integers
    of true value `scale_in[c] * q` and whose output is wanted in units of `scale_out[o]` (None: true units).
    Exact up to the weights' own rounding: W'[o, c] = W[o, c] * scale_in[c] / scale_out[o], rounded to
    integers in [-levels, levels]."""
    w = weight * scale_in[None, :, None, None]
    b = bias.astype(np.float64)
    if scale_out is not None:
        w = w / scale_out[:, None, None, None]
        b = b / scale_out
    peak = np.abs(w).reshape(w.shape[0], -1).max(axis=1)
    step = np.where(peak > 0, peak / float(levels), 1.0).astype(np.float32)
    q = np.clip(np.rint(w / step[:, None, None, None]), -levels, levels).astype(np.int8)
    return q, step, np.rint(b / step).astype(np.int32)


class GraphBuilder:
    """Writes an ONNX graph node by node from an RRDBNet state dict (fp32 numpy copies in `weights`)."""

    def __init__(self, state: dict) -> None:
        self.weights = {k: v.detach().float().cpu().numpy() for k, v in state.items()}
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def _fresh(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, array, prefix: str = "c") -> str:
        from onnx import numpy_helper

        name = self._fresh(prefix)
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs: list, domain: str | None = None, output: str | None = None, **attrs) -> str:
        from onnx import helper

        out = output or self._fresh(op)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, domain=domain, **attrs))
        return out

    def conv(self, x: str, layer: str, output: str | None = None) -> str:
        return self.node("Conv", [x, self.const(self.weights[f"{layer}.weight"]), self.const(self.weights[f"{layer}.bias"])],
                         output=output, pads=[1, 1, 1, 1], kernel_shape=[3, 3])

    def lrelu(self, x: str) -> str:
        return self.node("LeakyRelu", [x], alpha=0.2)

    def residual(self, x: str, y: str, scale) -> str:
        """x + scale * y (`scale` a number, or per-channel values broadcast along the last axis)."""
        return self.node("Add", [x, self.node("Mul", [y, self.const(np.asarray(scale, np.float32))])])

    def float_dense_block(self, x: str, name: str) -> str:
        """x + 0.2 * the dense block `name` in float, as RRDBNet.forward runs it (NCHW)."""
        feats = [x]
        for k in range(1, 5):
            joined = feats[0] if k == 1 else self.node("Concat", feats, axis=1)
            feats.append(self.lrelu(self.conv(joined, f"{name}.conv{k}")))
        return self.residual(x, self.conv(self.node("Concat", feats, axis=1), f"{name}.conv5"), 0.2)


def rrdb_graph(graph: GraphBuilder, hyper: dict, float_blocks: tuple[str, ...], int8_block, *,
               int8_layout: str = "nchw", name: str = "rrdbnet_x4_int8", opsets: dict | None = None):
    """The ONNX model of the x4 RRDBNet in `graph`: dense blocks under `float_blocks` in float, the others
    through `int8_block(x, block_name) -> x + 0.2 * block(x)`, which takes and returns float feature maps
    in `int8_layout` ("nchw" or "nhwc"; the trunk is transposed once where the layout changes).
    Input "x" (N, 3, h, w), output "y" (N, 3, 4h, 4w)."""
    from onnx import TensorProto, helper

    if hyper.get("scale") != 4:
        raise ValueError("the int8 engines run the x4 network only")
    feat = graph.conv("x", "conv_first")
    trunk, layout = feat, "nchw"
    for i in range(hyper["blocks"]):
        in_float = f"body.{i}.".startswith(float_blocks)
        wanted = "nchw" if in_float else int8_layout
        if wanted != layout:
            trunk = graph.node("Transpose", [trunk], perm=[0, 2, 3, 1] if wanted == "nhwc" else [0, 3, 1, 2])
            layout = wanted
        inner = trunk
        for j in (1, 2, 3):
            block = f"body.{i}.rdb{j}"
            inner = graph.float_dense_block(inner, block) if in_float else int8_block(inner, block)
        trunk = graph.residual(trunk, inner, 0.2)
    if layout != "nchw":
        trunk = graph.node("Transpose", [trunk], perm=[0, 3, 1, 2])
    feat = graph.node("Add", [feat, graph.conv(trunk, "conv_body")])
    twice = graph.const(np.array([1, 1, 2, 2], np.float32))
    for layer in ("conv_up1", "conv_up2"):
        upsampled = graph.node("Resize", [feat, "", twice], mode="nearest", nearest_mode="floor",
                               coordinate_transformation_mode="asymmetric")
        feat = graph.lrelu(graph.conv(upsampled, layer))
    graph.conv(graph.lrelu(graph.conv(feat, "conv_hr")), "conv_last", output="y")
    body = helper.make_graph(graph.nodes, name,
                             [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, "H", "W"])],
                             graph.initializers)
    versions = {"": 17, **(opsets or {})}
    return helper.make_model(body, opset_imports=[helper.make_opsetid(d, v) for d, v in versions.items()])
