"""The int8 engine: weights quantised per blend, calibrated activation ranges, integer kernels in ONNX Runtime."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorer.engines import int8
from restorer.models.archs.rrdbnet import RRDBNet
from .engine_helpers import smooth_photo

pytest.importorskip("onnxruntime")

HYPER = {"scale": 4, "features": 16, "blocks": 2, "growth": 8}


def _state(seed: int) -> dict:
    torch.manual_seed(seed)
    net = RRDBNet(**HYPER)  # default init: livelier random networks amplify any error chaotically
    return {k: v.detach().float() for k, v in net.state_dict().items()}


def _psnr(a, b) -> float:
    mse = float(torch.mean((a.clamp(0, 1) - b.clamp(0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


def _snr(got, expected) -> float:
    """Signal-to-error ratio in dB: the random test networks' outputs are not confined to [0, 1]."""
    return 10 * float(torch.log10(expected.var() / torch.mean((got - expected) ** 2)))


def _table(states: dict[float, dict]) -> dict:
    ranges = []
    for alpha, state in sorted(states.items()):
        net = RRDBNet(**HYPER).eval()
        net.load_state_dict(state)
        ranges.append(int8.calibrate(net, [smooth_photo(s) for s in range(4)]))
    return {"alphas": sorted(states), "ranges": ranges}


def test_weights_round_trip_within_half_a_step_per_channel():
    w = np.random.default_rng(0).normal(size=(5, 4, 3, 3)).astype(np.float32)
    w[2] = 0.0  # a dead channel must not divide by zero
    w[3] *= 100.0  # a loud channel must not coarsen the others
    q, scale = int8.weight_params(w)
    assert q.dtype == np.int8 and q.min() >= -127 and q.max() <= 127
    assert np.all(np.abs(q * scale[:, None, None, None] - w) <= scale[:, None, None, None] / 2 + 1e-6)
    assert scale[3] > 50 * scale[0]
    assert np.all(q[2] == 0)


def test_ranges_interpolate_between_calibrated_alphas_and_clamp_outside():
    table = {"alphas": [0.0, 1.0], "ranges": [{"c": {"in": [-1.0, 2.0], "out": [0.0, 4.0]}},
                                              {"c": {"in": [-3.0, 6.0], "out": [0.0, 8.0]}}]}
    assert int8.ranges_at(table, 0.5)["c"] == {"in": [-2.0, 4.0], "out": [0.0, 6.0]}
    assert int8.ranges_at(table, -1)["c"]["in"] == [-1.0, 2.0]
    assert int8.ranges_at(table, 7)["c"]["out"] == [0.0, 8.0]


def test_calibration_covers_every_trunk_convolution_and_includes_zero():
    net = RRDBNet(**HYPER).eval()
    net.load_state_dict(_state(0))
    ranges = int8.calibrate(net, [smooth_photo(0)])
    assert set(ranges) == set(int8.quantised_layers(net.state_dict()))
    assert "conv_first" not in ranges and "conv_last" not in ranges and "body.0.rdb1.conv1" in ranges
    for layer in ranges.values():
        for lo, hi in layer.values():
            assert lo <= 0.0 <= hi and hi > lo


def test_int8_engine_is_close_to_fp32_runs_integer_kernels_and_follows_the_blend(tmp_path):
    import onnx

    a, b = _state(1), _state(2)
    blends = {alpha: {k: torch.lerp(a[k], b[k], alpha) for k in a} for alpha in (0.0, 1.0)}
    net = int8.OnnxInt8RRDB(HYPER, tmp_path, _table(blends), threads=1)
    x = smooth_photo(9)
    outputs = []
    for alpha in (0.0, 1.0):
        net.load(blends[alpha], alpha)
        reference = RRDBNet(**HYPER).eval()
        reference.load_state_dict(blends[alpha])
        with torch.no_grad():
            expected, got = reference(x), net(x)
        # Close to fp32, yet really quantised (an unquantised graph would agree to ~100 dB).
        assert 25.0 <= _snr(got, expected) < 70.0
        outputs.append(got)
    assert _snr(outputs[1], outputs[0]) < 15.0  # the second blend arrived

    # ONNX Runtime must fuse the Q/DQ pairs into integer convolutions, or int8 buys nothing.
    import onnxruntime as ort

    model = int8.qdq_model(net._model, blends[1.0], int8.ranges_at(net._table, 1.0))
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimised.onnx")
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(str(tmp_path / "optimised.onnx")).graph.node]
    quantised = len(int8.quantised_layers(blends[1.0], int8.FLOAT_LAYERS))
    every = len(int8.quantised_layers(blends[1.0], ()))
    assert quantised > 0 and ops.count("QLinearConv") == quantised
    assert ops.count("Conv") + ops.count("FusedConv") == every - quantised  # FLOAT_LAYERS stay in float


def test_a_calibration_for_another_network_is_refused(tmp_path):
    state = _state(1)
    table = _table({1.0: state})
    del table["ranges"][0]["body.1.rdb3.conv5"]
    net = int8.OnnxInt8RRDB(HYPER, tmp_path, table, threads=1)
    with pytest.raises(ValueError, match="body.1.rdb3.conv5"):
        net.load(state, 1.0)


@pytest.mark.weights
def test_the_shipped_calibration_fits_the_bundled_pair_and_stays_close_to_fp32(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTORER_CACHE", str(tmp_path))
    from restorer.models.interpolate import blend
    from restorer.models.manager import ModelManager

    from restorer.engines.select import build

    psnr, gan = ModelManager("cpu").sr_endpoints()  # --precision int8 takes OpenVINO's engine where installed
    net = build("onnxruntime-int8", blend(psnr, gan, 0.7), {"scale": 4, "features": 64, "blocks": 23, "growth": 32},
                alpha=0.7)
    reference = RRDBNet(4, 64, 23, 32).eval()
    reference.load_state_dict(blend(psnr, gan, 0.7))
    x = smooth_photo(3, side=32)
    with torch.inference_mode():
        got, expected = net(x), reference(x)
    # Measured 42-49 dB on Kodak crops; a calibration that no longer fits would fall far below.
    assert 36.0 <= _psnr(got, expected) < 80.0


def test_the_error_diagnosis_rounds_like_the_engine():
    """restorer.training.int8_error simulates the engine's rounding: uint8 activations clamp to their range
    and keep 0 exact; int8 weights keep each output channel's peak and use 255 levels at most."""
    from restorer.engines.int8 import weight_params
    from restorer.training.int8_error import fake_int8_weights, fake_uint8

    x = torch.linspace(-2.0, 3.0, 1001)
    y = fake_uint8(x, -1.0, 2.0)
    assert float(y.min()) >= -1.0 - 1e-6 and float(y.max()) <= 2.0 + 1e-6
    assert float(fake_uint8(torch.zeros(1), -1.0, 2.0)) == 0.0
    assert torch.unique(y).numel() <= 256 and float((y - x.clamp(-1, 2)).abs().max()) <= 3.0 / 255 / 2 + 1e-6
    w = torch.randn(4, 3, 3, 3)
    rounded = fake_int8_weights(w)
    q, scale = weight_params(w.numpy())
    assert np.allclose(rounded.numpy(), q.astype(np.float32) * scale[:, None, None, None], atol=1e-6)
