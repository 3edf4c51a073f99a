"""Int8 RRDBNet on OpenVINO: one scale per channel, folded into the weights, each activation rounded once.

The scheme is `restorer.engines.int8_scales`'s. Here it is written as
QuantizeLinear / DequantizeLinear pairs around float convolutions, which
OpenVINO fuses with the LeakyReLU between them (oneDNN post-ops) into integer
kernels for VNNI or AMX. On five Set5 and five Kodak crops at alpha 0.7 this
engine is 46.5 / 51.0 dB (worst / mean) from fp32
(`python -m restorer.training.int8_error --engine openvino`), and Set5, Set14
and BSD100 move by under 0.06 dB at alpha 0, 0.7 and 1 (README, Speed: int8).

Building a new blend costs OpenVINO several seconds of compilation, so the
app uses this engine only for enlargements large enough to repay it
(`ModelManager.sr_network`, `pixels`), and keeps compiled blends on disk.
ONNX Runtime's int8 engine (`restorer.engines.int8`) runs the same scheme
with a build of well under a second.

Image contract: as every engine, RGB float32 (N, 3, H, W) in [0, 1] ->
(N, 3, 4H, 4W), unclamped.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from restorer.engines.int8_scales import (FLOAT_BLOCKS, PEAKS_SHA256, ZERO_POINT, GraphBuilder, fitting_peaks,
                                          fold_weights, rrdb_graph)


def available() -> tuple[bool, str]:
    try:
        import onnx  # noqa: F401
        import openvino  # noqa: F401
    except ImportError as exc:
        return False, f"OpenVINO is not installed ({exc.name}); pip install openvino onnx"
    return True, ""


def int8_graph(state: dict, peaks: dict, hyper: dict, float_blocks: tuple[str, ...] = FLOAT_BLOCKS):
    """The ONNX graph of the x4 RRDBNet `state` with every dense block outside `float_blocks` in int8, as
    QuantizeLinear / DequantizeLinear pairs around float convolutions, which OpenVINO turns into integer
    kernels. Float parts match `RRDBNet.forward` exactly (nearest x2 upsampling, LeakyReLU 0.2, residual 0.2).
    """
    graph = GraphBuilder(state)
    unit, zero = graph.const(np.float32(1.0)), graph.const(np.uint8(ZERO_POINT))

    def to_uint8(x: str, scale: np.ndarray | None = None) -> str:
        if scale is None:  # already in units of its own per-channel scale
            return graph.node("QuantizeLinear", [x, unit, zero])
        return graph.node("QuantizeLinear", [x, graph.const(scale.astype(np.float32)),
                                             graph.const(np.full(scale.shape, ZERO_POINT, np.uint8))], axis=1)

    def int8_conv(x_uint8: str, layer: str, scale_in: np.ndarray, scale_out: np.ndarray | None) -> str:
        q, step, bias = fold_weights(graph.weights[f"{layer}.weight"], graph.weights[f"{layer}.bias"],
                                     scale_in, scale_out)
        x = graph.node("DequantizeLinear", [x_uint8, unit, zero])
        w = graph.node("DequantizeLinear", [graph.const(q), graph.const(step), graph.const(np.zeros(step.shape, np.int8))],
                       axis=0)
        b = graph.node("DequantizeLinear", [graph.const(bias), graph.const(step),
                                            graph.const(np.zeros(bias.shape, np.int32))], axis=0)
        return graph.node("Conv", [x, w, b], pads=[1, 1, 1, 1], kernel_shape=[3, 3])

    def dense_block(x: str, name: str) -> str:
        scales = [np.maximum(p, 1e-6).astype(np.float32) / 127.0 for p in peaks[name]]
        q = [to_uint8(x, scales[0])]
        for k in range(1, 5):
            joined = q[0] if k == 1 else graph.node("Concat", q, axis=1)
            # Output in units of its own scale: LeakyReLU commutes with a positive scale.
            q.append(to_uint8(graph.lrelu(int8_conv(joined, f"{name}.conv{k}", np.concatenate(scales[:k]), scales[k]))))
        y5 = to_uint8(int8_conv(graph.node("Concat", q, axis=1), f"{name}.conv5", np.concatenate(scales[:5]), scales[5]))
        y5 = graph.node("DequantizeLinear", [y5, graph.const(scales[5]),
                                             graph.const(np.full(scales[5].shape, ZERO_POINT, np.uint8))], axis=1)
        return graph.residual(x, y5, 0.2)

    return rrdb_graph(graph, hyper, float_blocks, dense_block)


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
        peaks = fitting_peaks(self._table, alpha, self._hyper, self._float_blocks)
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
        array = x.detach().float().cpu().numpy()
        height, width = array.shape[-2:]
        if min(height, width) < MIN_SIDE:
            # OpenVINO's compiled graph returns NaN for a one-pixel-wide input (a 1x1 photo came out black);
            # repeat the edge pixels up to MIN_SIDE and keep only the enlarged original.
            array = np.pad(array, ((0, 0), (0, 0), (0, max(0, MIN_SIDE - height)), (0, max(0, MIN_SIDE - width))),
                           mode="edge")
        request = self._compiled.create_infer_request()
        request.start_async({0: np.ascontiguousarray(array)})
        while not request.wait_for(50):  # milliseconds: Cancel stops the network inside a tile
            if cancel is not None and cancel.cancelled:
                request.cancel()
                raise Cancelled(message)
        out = request.get_output_tensor(0).data[..., : height * self.scale, : width * self.scale]
        return torch.from_numpy(np.ascontiguousarray(out))


MIN_SIDE = 2  # the smallest input side OpenVINO's int8 graph enlarges correctly (measured: 1 px gave NaN)


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


GRAPH_VERSION = 2  # raised whenever int8_graph writes a different graph for the same blend
INDEX_FILE = "looks.json"  # which compiled blend (.blob) holds which alpha of the bundled pair


def _alpha_key(alpha: float) -> str:
    # A new calibration or a new way of writing the graph makes new blends (OpenVINO's own cache is keyed
    # by the graph, so an index entry from before either would name a blob it no longer uses).
    return f"{float(alpha):.4f} {PEAKS_SHA256[:12]} graph {GRAPH_VERSION}"


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
