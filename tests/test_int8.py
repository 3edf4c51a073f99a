"""ONNX Runtime's int8 engine: per-channel scales folded into the weights, quantised operators end to end."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorer.engines import int8, int8_scales
from restorer.models.archs.rrdbnet import RRDBNet
from .engine_helpers import SMALL_HYPER, peaks_table, random_state, smooth_photo, snr

pytest.importorskip("onnxruntime")


def _reference(state: dict) -> RRDBNet:
    net = RRDBNet(**SMALL_HYPER).eval()
    net.load_state_dict(state)
    return net


def test_weights_use_seven_bits_on_x86_without_vnni_and_eight_elsewhere(monkeypatch):
    monkeypatch.setattr(int8.platform, "machine", lambda: "x86_64")
    assert int8.weight_levels("flags : fpu sse2 avx2 fma avx512f avx512_vnni") == 127
    assert int8.weight_levels("flags : fpu sse2 avx2 fma avx_vnni") == 127
    assert int8.weight_levels("flags : fpu sse2 avx2 fma avx512f") == 63  # vpmaddubsw would saturate
    assert int8.weight_levels("") == 63
    monkeypatch.setattr(int8.platform, "machine", lambda: "arm64")
    assert int8.weight_levels("") == 127


def test_seven_bit_weights_stay_within_their_range_and_keep_each_channels_peak():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    w[1] *= 50.0  # a loud channel keeps its own step
    q, step, _ = int8_scales.fold_weights(w, np.zeros(4, np.float32), np.ones(3, np.float32), None, levels=63)
    assert np.abs(q).max() == 63 and np.all(np.abs(q).reshape(4, -1).max(axis=1) == 63)
    assert np.all(np.abs(q * step[:, None, None, None] - w) <= step[:, None, None, None] / 2 + 1e-5)
    assert step[1] > 20 * step[0]


@pytest.mark.parametrize("levels", [127, 63])
def test_onnxruntime_int8_is_close_to_fp32_runs_integer_kernels_follows_the_blend_and_cancels(tmp_path, levels):
    import onnx
    import onnxruntime as ort

    from restorer.errors import Cancelled

    a, b = random_state(1, trunk_gain=2.5), random_state(2, trunk_gain=2.5)
    blends = {alpha: {k: torch.lerp(a[k], b[k], alpha) for k in a} for alpha in (0.0, 1.0)}
    table = peaks_table(tmp_path, blends)
    net = int8.OnnxInt8RRDB(SMALL_HYPER, table, threads=1, levels=levels)
    in_float = int8.OnnxInt8RRDB(SMALL_HYPER, table, threads=1, float_blocks=("body.",))  # the same graph, no int8
    x = smooth_photo(9)
    outputs = []
    for alpha in (0.0, 1.0):
        net.load(blends[alpha], alpha)
        in_float.load(blends[alpha], alpha)
        with torch.no_grad():
            expected, got = _reference(blends[alpha])(x), net(x)
        assert float((in_float(x) - expected).abs().max()) < 1e-4  # the float parts are RRDBNet.forward
        # Close to fp32, yet really quantised: the float graph agrees far better.
        assert got.shape == expected.shape
        assert 25.0 <= snr(got, expected) <= snr(in_float(x), expected) - 10.0
        outputs.append(got)
    assert snr(outputs[1], outputs[0]) < 15.0  # the second blend arrived

    # ONNX Runtime must run body.1's fifteen convolutions on integers, channels-last, and keep the rest in float.
    model = int8.qlinear_graph(blends[1.0], int8_scales.peaks_at(table, 1.0), SMALL_HYPER, levels=levels)
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(str(tmp_path / "optimised.onnx")).graph.node]
    assert ops.count("QLinearConv") == 15 and ops.count("QLinearLeakyRelu") == 12
    assert ops.count("Conv") + ops.count("FusedConv") == 15 + 6  # body.0, conv_first, conv_body, the tail
    assert ops.count("Transpose") <= 2  # into channels-last once and back, not around every block
    weights = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) == 4]
    assert len(weights) == 15 and max(int(np.abs(onnx.numpy_helper.to_array(w)).max()) for w in weights) == levels

    class Stopped:
        cancelled = True

    with pytest.raises(Cancelled):
        net(x, cancel=Stopped())


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_a_calibration_lacking_a_block_is_refused_by_both_int8_engines(tmp_path, runtime):
    if runtime == "openvino":
        pytest.importorskip("openvino")
        from restorer.engines.openvino_int8 import OpenVinoInt8RRDB as engine
    else:
        engine = int8.OnnxInt8RRDB
    state = random_state(1)
    table = peaks_table(tmp_path, {1.0: state})
    keep = [i for i, name in enumerate(table["blocks"]) if name != "body.1.rdb3"]
    table = {**table, "blocks": [table["blocks"][i] for i in keep], "peaks": table["peaks"][:, keep]}
    net = engine(SMALL_HYPER, table, threads=1)
    with pytest.raises(ValueError, match="body.1.rdb3"):
        net.load(state, 1.0)


@pytest.mark.weights
def test_the_shipped_calibration_fits_the_bundled_pair_on_onnxruntime_and_stays_close_to_fp32(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTORER_CACHE", str(tmp_path))
    from restorer.engines.select import build
    from restorer.models.interpolate import blend
    from restorer.models.manager import ModelManager

    psnr, gan = ModelManager("cpu").sr_endpoints()
    hyper = {"scale": 4, "features": 64, "blocks": 23, "growth": 32}
    net = build("onnxruntime-int8", blend(psnr, gan, 0.7), hyper, alpha=0.7)
    reference = RRDBNet(**hyper).eval()
    reference.load_state_dict(blend(psnr, gan, 0.7))
    x = smooth_photo(3, side=32)
    with torch.inference_mode():
        got, expected = net(x), reference(x)
    mse = float(torch.mean((got.clamp(0, 1) - expected.clamp(0, 1)) ** 2))
    # Measured 45-55 dB on Set5 and Kodak crops; a calibration that no longer fits would fall far below.
    assert 40.0 <= 10 * np.log10(1 / mse) < 90.0
