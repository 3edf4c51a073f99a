"""Int8 RRDBNet on ONNX Runtime: per-channel scales folded into the weights, 8-bit from block to block.

The scheme is `restorer.engines.int8_scales`'s, the one OpenVINO's int8 engine
runs; this engine writes it in ONNX Runtime's own quantised operators, so a
new blend costs a session of well under a second instead of OpenVINO's
compilation of several seconds:

- each convolution is a `QLinearConv` (u8 activations x s8 weights, int32
  accumulation, requantised to u8 in the kernel), its input and output scales
  folded into the weights so that every channel's integers are in units of
  that channel's own scale;
- the LeakyReLU runs on the integers (`QLinearLeakyRelu`, a table lookup).
  The convolution must therefore round its output *before* the activation,
  where the negative side reaches further than the activation's output
  does: measured over calibration crops at alpha 0.7, the median channel's
  negative pre-activation reached 2x its post-activation peak and the widest
  5x. One zero point serves a whole tensor, so the pre-activation grid spans
  [-PRE_ACTIVATION_REACH, 1] x each channel's peak, in 255 steps; beyond it a
  rare negative value clips (after the activation's 0.2 slope, a small error);
- the concatenations copy integers, and the int8 blocks run channels-last
  (NHWC), ONNX Runtime's fast layout for `QLinearConv`, with the trunk
  transposed once on the way in and once out.

On five Set5 and five Kodak crops (`python -m restorer.training.int8_error
--engine onnxruntime`), worst / mean dB from fp32: alpha 0.7 45.4 / 50.3
(OpenVINO's engine 46.5 / 51.0), alpha 1 39.8 / 45.5, alpha 0 48.7 / 53.6.
PRE_ACTIVATION_REACH 2, 3 and 5 gave 43.6 / 49.6, 45.0 / 50.4 and 44.2 / 49.5
at alpha 0.7.

Without VNNI, x86 CPUs multiply u8 by s8 with `vpmaddubsw`, which adds two
products into a saturating 16-bit sum: 255 x 127 x 2 overflows it. There the
weights use 7 bits (`weight_levels`: +-63, and 255 x 63 x 2 fits), which is
what ONNX Runtime's own quantiser calls reduce_range.

Image contract: as every engine, RGB float32 (N, 3, H, W) in [0, 1] ->
(N, 3, 4H, 4W), unclamped.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from restorer.engines.int8_scales import (FLOAT_BLOCKS, ZERO_POINT, GraphBuilder, fitting_peaks, fold_weights,
                                          rrdb_graph)
from restorer.engines.onnx_engine import OrtNetwork

PRE_ACTIVATION_REACH = 3.0  # the pre-activation grid's negative reach, in units of each channel's peak
MICROSOFT = "com.microsoft"  # ONNX Runtime's operator domain: QLinearLeakyRelu, channels-last QLinearConv


def weight_levels(cpu_flags: str | None = None) -> int:
    """127, or 63 on an x86 CPU without VNNI (where u8 x s8 products saturate a 16-bit sum)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "x86"):
        return 127  # ARM's dot-product instructions accumulate in 32 bits
    if cpu_flags is None:
        try:
            cpu_flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpu_flags = ""  # not Linux: assume the worst
    words = set(cpu_flags.split())
    return 127 if {"avx512_vnni", "avx_vnni"} & words else 63


def qlinear_graph(state: dict, peaks: dict, hyper: dict, float_blocks: tuple[str, ...] = FLOAT_BLOCKS,
                  levels: int = 127):
    """The ONNX graph of the x4 RRDBNet `state`, every dense block outside `float_blocks` in ONNX Runtime's
    quantised operators, with weights rounded to [-levels, levels]."""
    graph = GraphBuilder(state)
    unit, zero = graph.const(np.float32(1.0)), graph.const(np.uint8(ZERO_POINT))
    # The pre-activation grid, in units of each channel's scale (peak / 127): 255 steps over
    # [-REACH, 1] x peak, its zero point where 0 falls.
    step = (1.0 + PRE_ACTIVATION_REACH) / 255.0
    pre_scale = graph.const(np.float32(step * 127.0))
    pre_zero = graph.const(np.uint8(round(PRE_ACTIVATION_REACH / step)))

    def qconv(x_uint8: str, layer: str, scale_in: np.ndarray, scale_out: np.ndarray, y_scale: str, y_zero: str) -> str:
        q, w_step, bias = fold_weights(graph.weights[f"{layer}.weight"], graph.weights[f"{layer}.bias"],
                                       scale_in, scale_out, levels)
        return graph.node("QLinearConv", [x_uint8, unit, zero, graph.const(q), graph.const(w_step),
                                          graph.const(np.zeros(w_step.shape, np.int8)), y_scale, y_zero,
                                          graph.const(bias)],
                          domain=MICROSOFT, channels_last=1, pads=[1, 1, 1, 1], kernel_shape=[3, 3])

    def dense_block(x: str, name: str) -> str:  # x: float NHWC
        scales = [np.maximum(p, 1e-6).astype(np.float32) / 127.0 for p in peaks[name]]
        # Per-channel scaling as a multiply, then one per-tensor rounding: ONNX Runtime's per-axis
        # QuantizeLinear along the last axis ran 40x slower.
        q = [graph.node("QuantizeLinear", [graph.node("Mul", [x, graph.const(1.0 / scales[0])]), unit, zero])]
        for k in range(1, 5):
            joined = q[0] if k == 1 else graph.node("Concat", q, axis=3)
            pre = qconv(joined, f"{name}.conv{k}", np.concatenate(scales[:k]), scales[k], pre_scale, pre_zero)
            q.append(graph.node("QLinearLeakyRelu", [pre, pre_scale, pre_zero, unit, zero], domain=MICROSOFT, alpha=0.2))
        y5 = qconv(graph.node("Concat", q, axis=3), f"{name}.conv5", np.concatenate(scales[:5]), scales[5], unit, zero)
        # Back to float per tensor, the per-channel scale (and the block's 0.2) as one multiply.
        return graph.residual(x, graph.node("DequantizeLinear", [y5, unit, zero]), 0.2 * scales[5])

    return rrdb_graph(graph, hyper, float_blocks, dense_block, int8_layout="nhwc", name="rrdbnet_x4_qlinear",
                      opsets={MICROSOFT: 1})


class OnnxInt8RRDB(OrtNetwork):
    """RRDBNet in int8 on ONNX Runtime; `load(state, alpha)` folds and rounds a new blend's weights
    (about 0.2 s in numpy) and starts a session for it (about 0.3 s)."""

    name = "onnxruntime-int8"

    def __init__(self, hyper: dict, table: dict, threads: int = 0, float_blocks: tuple[str, ...] = FLOAT_BLOCKS,
                 levels: int | None = None) -> None:
        super().__init__(hyper["scale"], threads)
        self._hyper = dict(hyper)
        self._table = table
        self._float_blocks = float_blocks
        self.levels = weight_levels() if levels is None else levels

    def load(self, state: dict, alpha: float = 1.0) -> None:
        peaks = fitting_peaks(self._table, alpha, self._hyper, self._float_blocks)
        self._start_session(qlinear_graph(state, peaks, self._hyper, self._float_blocks, self.levels))
