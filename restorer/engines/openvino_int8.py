"""Int8 RRDBNet on OpenVINO: one scale per channel, folded into the weights, each activation rounded once.

The first int8 engine (`restorer.engines.int8`, ONNX Runtime) gives every
convolution's input one uint8 range and rounds every convolution's output
again before the dense block's concatenation rounds it a second time. The
trunk's feature maps differ by orders of magnitude between channels, so one
range per tensor wastes most of the 8 bits on all but the loudest channel:
that engine stays 38-48 dB from fp32, too far to be the default.

Here every feature map of a dense block (its input x and the four
LeakyReLU outputs x1..x4) is rounded once, to int8 with a symmetric scale of
its own per channel (zero point 128 in uint8, so zero padding stays exact).
A convolution over the concatenation [x, x1, ...] then sees integers whose
true value is `scale[c] * q[c]`; the per-channel scales cannot be applied
after an integer convolution (it sums over channels), so they are folded into
the weights instead: W'[o, c] = W[o, c] * scale_in[c] / scale_out[o], which is
then quantised per output channel. The concatenation itself becomes a copy
of integers. On five Set5 and five Kodak crops at alpha 0.7 this engine is
46.5 / 51.0 dB (worst / mean) from fp32, the per-tensor one 37.0 / 41.3
(`python -m restorer.training.int8_error --openvino`), and Set5, Set14 and
BSD100 move by under 0.06 dB at alpha 0, 0.7 and 1 (README, Speed: int8).
Flat, fully saturated colour (graphics, colour bars) exceeds the ranges
measured on photos and clips; photos' saturated colour does not.

ONNX Runtime cannot fuse the LeakyReLU between an integer convolution and
its rounding, so it would run these convolutions in float; OpenVINO fuses
them (oneDNN post-ops) and runs the int8 kernels with VNNI or AMX. Building a
new blend costs OpenVINO several seconds of compilation, so the app uses
this engine only for enlargements large enough to repay it
(`ModelManager.sr_network`, `pixels`).

The per-channel peaks are measured once, offline, on training photos at five
alphas (`python -m restorer.training.calibrate_int8 --per-channel`), and
shipped as `weights/rrdbnet_x4_int8_peaks.npz`; a blend in between
interpolates them.

Image contract: as every engine, RGB float32 (N, 3, H, W) in [0, 1] ->
(N, 3, 4H, 4W), unclamped.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

# The trunk's first RRDB and its last two stay in float: their rounding reached the output most
# (simulated with this scheme at alpha 0.7: all 23 blocks in int8 42.8 / 47.6 dB worst / mean from
# fp32, these three in float 46.2 / 51.1).
FLOAT_BLOCKS = ("body.0.", "body.21.", "body.22.")
ZERO_POINT = 128  # uint8 holding a symmetric int8 value: 0 stays exactly 0, padding included
PARTS = 6  # peaks per dense block: its input, the four LeakyReLU outputs, conv5's output

PEAKS_FILE = "rrdbnet_x4_int8_peaks.npz"
PEAKS_SHA256 = "7ab1e6459678eee8c2b97f0443e19dfda1973bcc53089586e1cd227635894589"


def available() -> tuple[bool, str]:
    try:
        import onnx  # noqa: F401
        import openvino  # noqa: F401
    except ImportError as exc:
        return False, f"OpenVINO is not installed ({exc.name}); pip install openvino onnx"
    return True, ""


def dense_blocks(net) -> dict:
    """{name: DenseBlock} of an RRDBNet, in order."""
    from restorer.models.archs.rrdbnet import DenseBlock

    return {name: m for name, m in net.named_modules() if isinstance(m, DenseBlock)}


def calibrate_peaks(net, crops) -> dict[str, list[np.ndarray]]:
    """{dense block: [max |value| per channel of x, x1, x2, x3, x4, conv5's output]} over `crops`
    (RGB float tensors (1, 3, h, w) in [0, 1]) run through `net`, an RRDBNet in torch. Read by hooks on
    each block's convolutions: conv1's input is x, conv1-4's outputs after the block's LeakyReLU are x1-x4."""
    import torch
    from torch.nn import functional as F

    from restorer.engines.int8 import run_with_hooks

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


def save_table(path: Path, alphas: list[float], tables: list[dict], meta: dict) -> None:
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


def load_table(path: Path) -> dict:
    """A peaks file: {"alphas": (A,), "peaks": (A, blocks, channels), "blocks": [...], "sizes": [...]}."""
    with np.load(path, allow_pickle=False) as data:
        table = {"alphas": data["alphas"].astype(np.float64), "peaks": data["peaks"].astype(np.float32),
                 "blocks": [str(b) for b in data["blocks"]], "sizes": [int(s) for s in data["sizes"]]}
    if table["peaks"].shape[:2] != (len(table["alphas"]), len(table["blocks"])) or len(table["sizes"]) != PARTS:
        raise ValueError(f"{path} is not a per-channel int8 calibration file")
    return table


def bundled_table() -> dict:
    """The shipped per-channel calibration of the bundled x4 pair, checked by SHA-256."""
    from restorer.engines.int8 import checked_calibration

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


def fold_weights(weight: np.ndarray, bias: np.ndarray, scale_in: np.ndarray, scale_out: np.ndarray | None):
    """(int8 weights, per-output-channel step, int32 bias) of a convolution whose input arrives as integers
    of true value `scale_in[c] * q` and whose output is wanted in units of `scale_out[o]` (None: true units).
    Exact up to the weights' own rounding: W'[o, c] = W[o, c] * scale_in[c] / scale_out[o]."""
    w = weight * scale_in[None, :, None, None]
    b = bias.astype(np.float64)
    if scale_out is not None:
        w = w / scale_out[:, None, None, None]
        b = b / scale_out
    peak = np.abs(w).reshape(w.shape[0], -1).max(axis=1)
    step = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / step[:, None, None, None]), -127, 127).astype(np.int8)
    return q, step, np.rint(b / step).astype(np.int32)


def int8_graph(state: dict, peaks: dict, hyper: dict, float_blocks: tuple[str, ...] = FLOAT_BLOCKS):
    """The ONNX graph of the x4 RRDBNet `state` with every dense block outside `float_blocks` in int8.

    Float parts match `RRDBNet.forward` exactly (nearest ×2 upsampling, LeakyReLU 0.2, residual 0.2).
    """
    from onnx import TensorProto, helper, numpy_helper

    if hyper.get("scale") != 4:
        raise ValueError("the int8 engines run the x4 network only")
    weights = {k: v.detach().float().cpu().numpy() for k, v in state.items()}
    nodes, inits = [], []
    count = [0]

    def fresh(prefix: str) -> str:
        count[0] += 1
        return f"{prefix}_{count[0]}"

    def const(array, prefix: str = "c") -> str:
        name = fresh(prefix)
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op: str, inputs: list, **attrs) -> str:
        out = fresh(op)
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(x: str, layer: str) -> str:
        return node("Conv", [x, const(weights[f"{layer}.weight"]), const(weights[f"{layer}.bias"])],
                    pads=[1, 1, 1, 1], kernel_shape=[3, 3])

    def lrelu(x: str) -> str:
        return node("LeakyRelu", [x], alpha=0.2)

    unit, zero = const(np.float32(1.0)), const(np.uint8(ZERO_POINT))

    def to_uint8(x: str, scale: np.ndarray | None = None) -> str:
        if scale is None:  # already in units of its own per-channel scale
            return node("QuantizeLinear", [x, unit, zero])
        return node("QuantizeLinear", [x, const(scale.astype(np.float32)),
                                       const(np.full(scale.shape, ZERO_POINT, np.uint8))], axis=1)

    def int8_conv(x_uint8: str, layer: str, scale_in: np.ndarray, scale_out: np.ndarray | None) -> str:
        q, step, bias = fold_weights(weights[f"{layer}.weight"], weights[f"{layer}.bias"], scale_in, scale_out)
        x = node("DequantizeLinear", [x_uint8, unit, zero])
        w = node("DequantizeLinear", [const(q), const(step), const(np.zeros(step.shape, np.int8))], axis=0)
        b = node("DequantizeLinear", [const(bias), const(step), const(np.zeros(bias.shape, np.int32))], axis=0)
        return node("Conv", [x, w, b], pads=[1, 1, 1, 1], kernel_shape=[3, 3])

    def dense_block(x: str, name: str) -> str:
        if name.startswith(float_blocks):
            feats = [x]
            for k in range(1, 5):
                joined = feats[0] if k == 1 else node("Concat", feats, axis=1)
                feats.append(lrelu(conv(joined, f"{name}.conv{k}")))
            y5 = conv(node("Concat", feats, axis=1), f"{name}.conv5")
        else:
            scales = [np.maximum(p, 1e-6).astype(np.float32) / 127.0 for p in peaks[name]]
            q = [to_uint8(x, scales[0])]
            for k in range(1, 5):
                joined = q[0] if k == 1 else node("Concat", q, axis=1)
                # Output in units of its own scale: LeakyReLU commutes with a positive scale.
                q.append(to_uint8(lrelu(int8_conv(joined, f"{name}.conv{k}", np.concatenate(scales[:k]), scales[k]))))
            y5 = to_uint8(int8_conv(node("Concat", q, axis=1), f"{name}.conv5", np.concatenate(scales[:5]), scales[5]))
            y5 = node("DequantizeLinear", [y5, const(scales[5]), const(np.full(scales[5].shape, ZERO_POINT, np.uint8))],
                      axis=1)
        return node("Add", [x, node("Mul", [y5, const(np.float32(0.2))])])

    feat = conv("x", "conv_first")
    trunk = feat
    for i in range(hyper["blocks"]):
        inner = trunk
        for j in (1, 2, 3):
            inner = dense_block(inner, f"body.{i}.rdb{j}")
        trunk = node("Add", [trunk, node("Mul", [inner, const(np.float32(0.2))])])
    feat = node("Add", [feat, conv(trunk, "conv_body")])
    twice = const(np.array([1, 1, 2, 2], np.float32))

    def upsample(x: str) -> str:
        return node("Resize", [x, "", twice], mode="nearest", nearest_mode="floor",
                    coordinate_transformation_mode="asymmetric")

    feat = lrelu(conv(upsample(feat), "conv_up1"))
    feat = lrelu(conv(upsample(feat), "conv_up2"))
    nodes.append(helper.make_node("Conv", [lrelu(conv(feat, "conv_hr")), const(weights["conv_last.weight"]),
                                           const(weights["conv_last.bias"])], ["y"], pads=[1, 1, 1, 1],
                                  kernel_shape=[3, 3], name="conv_last"))
    graph = helper.make_graph(nodes, "rrdbnet_x4_int8",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, "H", "W"])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


class OpenVinoInt8RRDB:
    """RRDBNet in int8 on OpenVINO's CPU plugin; `load(state, alpha)` builds and compiles a blend."""

    name = "openvino-int8"
    supports_cancel = True
    scale = 4

    def __init__(self, hyper: dict, table: dict, threads: int = 0,
                 float_blocks: tuple[str, ...] = FLOAT_BLOCKS, cache: Path | None = None) -> None:
        import openvino

        self._hyper = dict(hyper)
        self._float_blocks = float_blocks
        self._table = table
        self._core = openvino.Core()
        self._cache = cache
        if cache is not None:
            # OpenVINO keeps each compiled blend there, keyed by a hash of the graph and its weights: the
            # same Look in a later run, a batch worker or the CLI loads in 0.8 s instead of compiling for 6.
            cache.mkdir(parents=True, exist_ok=True)
            self._core.set_property({"CACHE_DIR": str(cache)})
        if threads:
            self._core.set_property("CPU", {"INFERENCE_NUM_THREADS": int(threads)})
        self._compiled = None
        self.compile_s = 0.0  # what the last blend cost to build and compile

    def load(self, state: dict, alpha: float = 1.0) -> None:
        peaks = peaks_at(self._table, alpha)
        missing = [name for name in dense_blocks_of(self._hyper)
                   if name not in peaks and not name.startswith(self._float_blocks)]
        if missing:
            raise ValueError(f"the int8 calibration does not fit this network (it lacks {missing[0]})")
        start = time.perf_counter()
        before = set(self._cache.glob("*.blob")) if self._cache is not None else set()
        model = self._core.read_model(int8_graph(state, peaks, self._hyper, self._float_blocks).SerializeToString(), b"")
        # f32 for what stays in float: the image's own layers and the three float blocks.
        self._compiled = self._core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        self.compile_s = time.perf_counter() - start
        if self._cache is not None:
            new = set(self._cache.glob("*.blob")) - before
            if len(new) == 1:  # compiled now: remember which file holds this Look
                _remember(self._cache, alpha, new.pop().name)
            prune_cache(self._cache)

    def __call__(self, x, cancel=None):
        import torch

        from restorer.errors import Cancelled

        message = "The restoration was cancelled; nothing was written."
        if cancel is not None and cancel.cancelled:
            raise Cancelled(message)
        request = self._compiled.create_infer_request()
        request.start_async({0: np.ascontiguousarray(x.detach().float().cpu().numpy())})
        while not request.wait_for(50):  # milliseconds: Cancel stops the network inside a tile
            if cancel is not None and cancel.cancelled:
                request.cancel()
                raise Cancelled(message)
        return torch.from_numpy(request.get_output_tensor(0).data.copy())


CACHE_KEEP = 6  # compiled blends kept on disk, about 27 MB each: the Looks compiled most recently


def prune_cache(folder: Path, keep: int = CACHE_KEEP) -> None:
    """Delete all but the `keep` most recently written compiled blends (OpenVINO's .blob files) in `folder`."""
    blobs = sorted(folder.glob("*.blob"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in blobs[keep:]:
        stale.unlink(missing_ok=True)


def compiled_cache() -> Path:
    """Where the app keeps OpenVINO's compiled blends: under the user's cache."""
    from restorer.paths import cache_dir

    return cache_dir() / "engines" / "openvino"


INDEX_FILE = "looks.json"  # which compiled blend (.blob) holds which alpha of the bundled pair


def _alpha_key(alpha: float) -> str:
    return f"{float(alpha):.4f} {PEAKS_SHA256[:12]}"  # a new calibration makes new blends


def _remember(folder: Path, alpha: float, blob: str) -> None:
    import json

    from restorer.imaging import write_text_atomically

    try:
        index = json.loads((folder / INDEX_FILE).read_text())
    except (OSError, ValueError):
        index = {}
    index[_alpha_key(alpha)] = blob
    index = {key: name for key, name in index.items() if (folder / name).is_file()}
    try:
        write_text_atomically(folder / INDEX_FILE, json.dumps(index))
    except OSError:
        pass  # a read-only cache only costs a compilation next time


def compiled_on_disk(folder: Path, alpha: float) -> bool:
    """True when the bundled pair's blend at `alpha` is in the compiled-blend cache `folder`: building it
    then costs about a second (a load), not a compilation."""
    import json

    try:
        blob = json.loads((folder / INDEX_FILE).read_text()).get(_alpha_key(alpha))
    except (OSError, ValueError):
        return False
    return bool(blob) and (folder / blob).is_file()


def dense_blocks_of(hyper: dict) -> list[str]:
    """Names of the dense blocks an RRDBNet with `hyper` has, in order."""
    return [f"body.{i}.rdb{j}" for i in range(hyper["blocks"]) for j in (1, 2, 3)]
