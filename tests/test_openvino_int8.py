"""OpenVINO's int8 engine: per-channel activation scales folded into the weights, integer kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorer.engines import openvino_int8 as ov8
from restorer.engines.select import Measurement, break_even_pixels
from restorer.models.archs.rrdbnet import RRDBNet
from .engine_helpers import SMALL_HYPER, peaks_table, random_state, smooth_photo, snr as _snr

HYPER = SMALL_HYPER


def _state(seed: int, trunk_gain: float = 1.0) -> dict:
    return random_state(seed, trunk_gain)


def _table(tmp_path, states: dict[float, dict]):
    return peaks_table(tmp_path, states)


def test_the_int8_graph_matches_torch_exactly_where_it_stays_in_float():
    """With every block kept in float, the hand-built graph is RRDBNet.forward: the float parts are right."""
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    state = _state(3)
    model = ov8.int8_graph(state, {}, HYPER, float_blocks=("body.",))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = smooth_photo(4, side=20)
    net = RRDBNet(**HYPER).eval()
    net.load_state_dict(state)
    with torch.no_grad():
        expected = net(x)
    got = torch.from_numpy(session.run(["y"], {"x": x.numpy()})[0])
    assert got.shape == expected.shape and float((got - expected).abs().max()) < 1e-4


def test_openvino_int8_is_close_to_fp32_runs_integer_kernels_follows_the_blend_and_cancels(tmp_path):
    pytest.importorskip("openvino")
    from restorer.errors import Cancelled

    a, b = _state(1, trunk_gain=2.5), _state(2, trunk_gain=2.5)
    blends = {alpha: {k: torch.lerp(a[k], b[k], alpha) for k in a} for alpha in (0.0, 1.0)}
    table = _table(tmp_path, blends)
    net = ov8.OpenVinoInt8RRDB(HYPER, table, threads=1, cache=tmp_path / "compiled")
    in_float = ov8.OpenVinoInt8RRDB(HYPER, table, threads=1, float_blocks=("body.",))  # the same graph, no int8
    x = smooth_photo(9)
    outputs = []
    for alpha in (0.0, 1.0):
        net.load(blends[alpha], alpha)
        in_float.load(blends[alpha], alpha)
        reference = RRDBNet(**HYPER).eval()
        reference.load_state_dict(blends[alpha])
        with torch.no_grad():
            expected, got = reference(x), net(x)
        # Close to fp32, yet really quantised: the float graph agrees far better.
        assert 30.0 <= _snr(got, expected) <= _snr(in_float(x), expected) - 10.0
        outputs.append(got)
    assert _snr(outputs[1], outputs[0]) < 15.0  # the second blend arrived
    assert net.compile_s > 0
    assert len(list((tmp_path / "compiled").glob("*.blob"))) == 2  # each blend kept for a later run
    assert ov8.compiled_on_disk(tmp_path / "compiled", 1.0) and ov8.compiled_on_disk(tmp_path / "compiled", 0.0)
    assert not ov8.compiled_on_disk(tmp_path / "compiled", 0.5)

    # OpenVINO must run the dense blocks' convolutions on integers, or int8 buys nothing.
    precisions = [op.get_rt_info()["runtimePrecision"].astype(str) for op in net._compiled.get_runtime_model().get_ordered_ops()
                  if op.get_rt_info()["layerType"].astype(str) == "Convolution"]
    integer = sum(p.lower() in ("i8", "u8") for p in precisions)
    assert integer == 15  # body.1's three dense blocks, five convolutions each; body.0 stays float
    assert len(precisions) - integer >= 15 + 6  # body.0, conv_first, conv_body, the tail

    class Stopped:
        cancelled = True

    with pytest.raises(Cancelled):
        net(x, cancel=Stopped())


def test_a_slow_to_build_engine_is_used_only_where_it_repays_its_build():
    measured = [Measurement("onnxruntime", 5.0, 120.0, True), Measurement("openvino-int8", 10.0, 50.0, True, "", 6.0),
                Measurement("torch-fp32", 3.0, 999.0, True)]
    # 6 s of compilation against 0.1 ms saved per pixel: 60,000 pixels
    assert break_even_pixels(measured, "onnxruntime") == pytest.approx(60_000)
    assert break_even_pixels(measured, "torch-fp32") == pytest.approx(6.0 / ((1 / 3 - 1 / 10) / 1000))
    slower = [Measurement("onnxruntime", 12.0, 120.0, True), *measured[1:]]
    assert break_even_pixels(slower, "onnxruntime") == float("inf")


@pytest.mark.weights
def test_the_shipped_peaks_fit_the_bundled_pair_and_stay_close_to_fp32(tmp_path, monkeypatch):
    pytest.importorskip("openvino")
    monkeypatch.setenv("RESTORER_CACHE", str(tmp_path))
    from restorer.models.interpolate import blend
    from restorer.models.manager import ModelManager

    manager = ModelManager("cpu")
    assert manager.sr_engine("int8") == "openvino-int8"
    net, runtime = manager.sr_network(0.7, "int8")
    assert runtime.engine == "openvino-int8"
    psnr, gan = manager.sr_endpoints()
    reference = RRDBNet(4, 64, 23, 32).eval()
    reference.load_state_dict(blend(psnr, gan, 0.7))
    x = smooth_photo(3, side=32)
    with torch.inference_mode():
        got, expected = net(x), reference(x)
    mse = float(torch.mean((got.clamp(0, 1) - expected.clamp(0, 1)) ** 2))
    # Measured 46-55 dB on Set5 and Kodak crops; a calibration that no longer fits would fall far below.
    assert 42.0 <= 10 * np.log10(1 / mse) < 90.0


@pytest.mark.weights
def test_the_manager_compiles_only_for_a_job_that_repays_it(monkeypatch):
    """A small view goes to the fast-loading engine, a whole photo to OpenVINO int8, and a blend already
    compiled (in this process or on disk) is used whatever the size."""
    from restorer.engines import select
    from restorer.models.manager import ModelManager

    measured = [Measurement("torch-fp32", 3.0, 999.0, True, "", 0.2), Measurement("onnxruntime", 5.0, 130.0, True, "", 1.0),
                Measurement("openvino-int8", 10.0, 48.0, True, "", 6.0)]  # break-even: 60,000 pixels
    monkeypatch.setattr(select, "best_engine", lambda device="cpu", **kw: ("openvino-int8", measured))
    built = []

    def fake_other(self, engine, alpha, psnr, gan):
        built.append(engine)
        if engine == "openvino-int8":
            self._sr_others[engine] = [object(), alpha]
        return engine, None

    monkeypatch.setattr(ModelManager, "_sr_other", fake_other)
    on_disk = {0.5}  # compiled by an earlier run
    monkeypatch.setattr(ov8, "compiled_on_disk", lambda folder, alpha: alpha in on_disk)
    manager = ModelManager("cpu")
    assert manager.sr_network(0.5, "auto", 128 * 128)[0] == "openvino-int8"  # a load, not a compilation
    built.clear()
    assert manager.sr_network(0.7, "auto", 128 * 128)[0] == "onnxruntime"
    assert manager.sr_network(0.7, "auto", 640 * 480)[0] == "openvino-int8"
    assert manager.sr_network(0.7, "auto", 128 * 128)[0] == "openvino-int8"  # compiled now: no cost left
    assert manager.sr_network(0.3, "auto", 128 * 128)[0] == "onnxruntime"  # a new blend would compile again
    assert manager.sr_network(0.3)[0] == "openvino-int8"  # no size given: the chosen engine
    assert built == ["onnxruntime", "openvino-int8", "openvino-int8", "onnxruntime", "openvino-int8"]


def test_the_compiled_blend_cache_keeps_only_the_newest(tmp_path):
    import os

    for index in range(9):
        blob = tmp_path / f"{index:02d}.blob"
        blob.write_bytes(b"x")
        os.utime(blob, (1_000_000 + index, 1_000_000 + index))
    (tmp_path / "notes.txt").write_text("not ours")
    ov8.prune_cache(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["06.blob", "07.blob", "08.blob", "notes.txt"]


def test_a_one_pixel_input_is_enlarged_not_turned_into_nan(tmp_path):
    """OpenVINO's graph returned NaN on a 1-pixel-wide input, so a 1x1 photo came out black."""
    pytest.importorskip("openvino")
    state = _state(1, trunk_gain=2.5)
    net = ov8.OpenVinoInt8RRDB(HYPER, _table(tmp_path, {1.0: state}), threads=1)
    net.load(state, 1.0)
    reference = RRDBNet(**HYPER).eval()
    reference.load_state_dict(state)
    photo = smooth_photo(5, side=8)
    for h, w in ((1, 1), (1, 5), (3, 1)):
        x = photo[:, :, :h, :w].contiguous()
        got = net(x)
        with torch.no_grad():
            expected = reference(x)
        assert got.shape == expected.shape == (1, 3, 4 * h, 4 * w)
        assert torch.isfinite(got).all()
        assert float((got - expected).abs().max()) < 0.25  # the edge-repeated context changes a little, not all
