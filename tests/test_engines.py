"""Engines: each matches torch fp32 on a small random RRDBNet; selection measures, remembers, falls back."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict

import numpy as np
import pytest
import torch

from restorer.engines import TOLERANCE_DB, select
from restorer.models.archs.rrdbnet import RRDBNet

from .conftest import wait_worker

HYPER = {"scale": 4, "features": 16, "blocks": 2, "growth": 8}


def _state(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    net = RRDBNet(**HYPER)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)  # livelier than the default init, so differences would show
    return {k: v.detach().float() for k, v in net.state_dict().items()}


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(torch.mean((a.clamp(0, 1) - b.clamp(0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


def _load_blend_and_compare(net, a: dict, b: dict, alpha: float, x: torch.Tensor) -> torch.Tensor:
    """Load the blend of states a and b at alpha into an engine; assert it matches torch fp32; its output."""
    blend = {k: torch.lerp(a[k], b[k], alpha) for k in a}
    net.load(blend)
    reference = RRDBNet(**HYPER).eval()
    reference.load_state_dict(blend)
    with torch.no_grad():
        got = net(x)
        assert _psnr(got, reference(x)) >= TOLERANCE_DB
    return got


# ncnn: CPU by request, and Vulkan. The int8 engines have their own calibrations, made for the bundled
# pair: tests/test_int8.py and tests/test_openvino_int8.py.
@pytest.mark.parametrize("engine", [c for c in select.candidates("cpu") if not c.endswith("int8")] + ["ncnn"])
def test_every_engine_matches_torch_fp32_within_its_tolerance(engine):
    if engine == "ncnn":
        pytest.importorskip("ncnn")
    state = _state()
    x = torch.rand(1, 3, 24, 20)
    reference = select.build(select.REFERENCE, state, HYPER)
    net = select.build(engine, state, HYPER)
    with torch.inference_mode():
        expected = reference(x)
        got = net(x.contiguous(memory_format=torch.channels_last) if engine == "torch-fp32-cl" else x).float()
    assert got.shape == expected.shape == (1, 3, 96, 80)
    assert _psnr(got, expected) >= TOLERANCE_DB


def test_a_new_blend_reaches_onnx_runtime_without_a_new_export(tmp_path):
    pytest.importorskip("onnxruntime")
    from restorer.engines.onnx_engine import OnnxRRDB

    a, b = _state(1), _state(2)
    net = OnnxRRDB(HYPER, tmp_path)
    exported = list(tmp_path.glob("*.onnx"))
    x = torch.rand(1, 3, 16, 16)
    outputs = []
    for alpha in (0.0, 0.6):
        outputs.append(_load_blend_and_compare(net, a, b, alpha, x))
    assert not torch.allclose(outputs[0], outputs[1])
    assert list(tmp_path.glob("*.onnx")) == exported  # one export, reused


def test_onnx_runtime_stops_inside_a_call_when_cancelled(tmp_path):
    pytest.importorskip("onnxruntime")
    from restorer.engines.onnx_engine import OnnxRRDB
    from restorer.errors import Cancelled
    from restorer.pipeline import CancelToken

    net = OnnxRRDB({"scale": 4, "features": 32, "blocks": 6, "growth": 16}, tmp_path, threads=1)
    net.load({k: v for k, v in RRDBNet(4, 32, 6, 16).state_dict().items()})
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()  # Cancel pressed while the call runs
    with pytest.raises(Cancelled):
        net(torch.rand(1, 3, 320, 320), cancel=token)  # several seconds of work if not stopped


def test_selection_falls_back_to_torch_when_an_engine_fails_and_remembers(monkeypatch, tmp_path):
    monkeypatch.setenv("RESTORER_CACHE", str(tmp_path))
    monkeypatch.delenv("RESTORER_ENGINE", raising=False)
    monkeypatch.setattr(select, "candidates", lambda device: [select.REFERENCE, "torch-fp32-cl", "onnxruntime"])
    original = select.build

    def broken_onnx(name, state, hyper, alpha=1.0):
        if name == "onnxruntime":
            raise RuntimeError("libonnxruntime.so: cannot open shared object file")
        return original(name, state, hyper, alpha)

    monkeypatch.setattr(select, "build", broken_onnx)
    real_measure = select.measure
    monkeypatch.setattr(select, "measure", lambda device: real_measure(device, state=_state(), hyper=HYPER,
                                                                          side=16, repeats=1))
    choice, table = select.best_engine("cpu")
    assert choice in ("torch-fp32", "torch-fp32-cl")
    failed = next(m for m in table if m.engine == "onnxruntime")
    assert not failed.usable and "cannot open shared object" in failed.note
    assert (tmp_path / "engine.json").is_file()
    monkeypatch.setattr(select, "measure", lambda device: pytest.fail("measured again"))
    assert select.best_engine("cpu")[0] == choice  # remembered
    monkeypatch.setattr(select, "build", original)


def test_an_inaccurate_engine_is_never_chosen_however_fast():
    table = [select.Measurement("torch-fp32", 1.0, 999.0, True), select.Measurement("torch-fp32-cl", 1.2, 60.0, True),
             select.Measurement("int8-fast", 9.0, 24.0, False, "output 24.0 dB from fp32")]
    assert select.choose(table) == "torch-fp32-cl"
    table.append(select.Measurement("onnxruntime", 1.25, 70.0, True))
    assert select.choose(table) == "torch-fp32-cl"  # 4 % faster is within the noise: keep torch
    table.append(select.Measurement("openvino", 2.0, 70.0, True))
    assert select.choose(table) == "openvino"


def test_the_status_bar_names_device_and_engine():
    assert select.describe("onnxruntime") == "CPU · ONNX Runtime"
    assert select.describe("torch-cuda", "cuda") == "GPU · CUDA"


def test_the_reported_isa_follows_a_onednn_cap(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    native = select.cpu_isa()
    if native not in ("avx2", "avx512", "avx512_bf16", "amx"):
        pytest.skip(f"this CPU offers {native}")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert select.cpu_isa() == "avx2"  # a laptop simulated on a bigger CPU reports as one
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    assert select.cpu_isa() == native  # a cap above the CPU changes nothing


def test_ncnn_writes_each_blend_as_weights_for_the_same_graph(tmp_path):
    pytest.importorskip("ncnn")
    from restorer.engines.ncnn_engine import NcnnRRDB

    net = NcnnRRDB(HYPER, tmp_path)
    graph = (tmp_path / net.param.name).read_text()
    assert graph.startswith("7767517") and graph.count("Convolution") == 1 + 2 * 15 + 5
    x = torch.rand(1, 3, 16, 16)
    a, b = _state(3), _state(4)
    for alpha in (0.2, 0.9):
        _load_blend_and_compare(net, a, b, alpha, x)
    assert (tmp_path / net.param.name).read_text() == graph  # only the weights changed


def test_asking_for_a_vulkan_gpu_where_there_is_none_says_so():
    from restorer.engines.ncnn_engine import vulkan_devices
    from restorer.errors import ModelUnavailable
    from restorer.models.manager import ModelManager

    if vulkan_devices():
        pytest.skip("this machine has a Vulkan GPU")
    with pytest.raises(ModelUnavailable, match="No Vulkan GPU was found"):
        ModelManager("vulkan").sr_engine()


def test_onnx_runtime_runs_in_a_worker_thread_beside_the_qt_window(qtbot, tmp_path):
    """The window's worker is a QThread: ONNX Runtime must load and run there with PySide6 in the process."""
    pytest.importorskip("onnxruntime")
    from PySide6.QtCore import QObject, QThread, Signal, Slot
    from PySide6.QtWidgets import QWidget

    from restorer.engines.onnx_engine import OnnxRRDB

    class Worker(QObject):
        done = Signal(object)

        @Slot()
        def run(self):
            net = OnnxRRDB(HYPER, tmp_path)
            net.load(_state(5))
            self.done.emit(net(torch.rand(1, 3, 12, 12)))

    class Starter(QObject):
        go = Signal()

    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    worker, thread, starter = Worker(), QThread(), Starter()
    worker.moveToThread(thread)
    starter.go.connect(worker.run)
    thread.start()
    try:
        with wait_worker(qtbot, worker.done, timeout=60000) as blocker:
            starter.go.emit()
        assert tuple(blocker.args[0].shape) == (1, 3, 48, 48)
    finally:
        thread.quit()
        thread.wait()


def test_fused_bf16_is_not_a_candidate_where_bf16_is_only_emulated(monkeypatch):
    """On AVX-512 without AVX512-BF16, oneDNN emulates bf16: slower than fp32 and under the tolerance."""
    from restorer.models.archs import rrdbnet_fused

    monkeypatch.setattr(rrdbnet_fused, "native_bf16", lambda: False)
    assert not rrdbnet_fused.available()
    assert "torch-bf16-fused" not in select.candidates("cpu")
    assert select.REFERENCE in select.candidates("cpu")


def test_an_engine_is_chosen_only_within_the_tolerance_and_only_when_clearly_faster():
    assert select.judge("openvino-int8", 46.3) == (True, "")
    assert select.judge("onnxruntime-int8", 45.4) == (True, "")
    usable, why = select.judge("onnxruntime-int8", 44.9)
    assert not usable and "44.9 dB" in why
    reference = select.Measurement("torch-fp32-cl", 3.0, 130.0, True)
    fast = select.Measurement("onnxruntime-int8", 8.0, 45.4, *select.judge("onnxruntime-int8", 45.4))
    inaccurate = select.Measurement("onnxruntime-int8", 8.0, 44.9, *select.judge("onnxruntime-int8", 44.9))
    assert select.choose([reference, fast]) == "onnxruntime-int8"
    assert select.choose([reference, inaccurate]) == "torch-fp32-cl"
    barely = select.Measurement("onnxruntime", 3.2, 130.0, True)
    assert select.choose([reference, barely]) == "torch-fp32-cl"  # within the timing noise


def test_a_table_measured_under_older_rules_is_not_reused(monkeypatch):
    monkeypatch.setattr(select, "RULES", 2)
    old = select._key("cpu")
    monkeypatch.setattr(select, "RULES", 3)
    assert select._key("cpu") != old


def test_each_device_keeps_its_own_engine_table(monkeypatch, tmp_path):
    monkeypatch.setenv("RESTORER_CACHE", str(tmp_path))
    monkeypatch.delenv("RESTORER_ENGINE", raising=False)
    measured = []

    def fake_measure(device):
        measured.append(device)
        fast = "ncnn-vulkan" if device == "vulkan" else "onnxruntime"
        return [select.Measurement(select.REFERENCE, 1.0, 999.0, True), select.Measurement(fast, 3.0, 120.0, True)]

    monkeypatch.setattr(select, "measure", fake_measure)
    assert select.best_engine("cpu")[0] == "onnxruntime"
    assert select.best_engine("vulkan")[0] == "ncnn-vulkan"
    assert select.best_engine("cpu")[0] == "onnxruntime" and select.best_engine("vulkan")[0] == "ncnn-vulkan"
    assert measured == ["cpu", "vulkan"]  # switching back and forth measured nothing again
    # a table written before several were kept is still read
    key = select._key("cpu")
    (tmp_path / "engine.json").write_text(json.dumps(
        {"key": key, "engine": "torch-fp32-cl", "measurements": [asdict(select.Measurement("torch-fp32-cl", 2.0, 130.0, True))]}))
    assert select.best_engine("cpu")[0] == "torch-fp32-cl" and measured == ["cpu", "vulkan"]
    # and only the newest few are kept
    for n in range(select.KEPT_TABLES + 2):
        monkeypatch.setattr(select, "_key", lambda device, n=n: f"machine {n}")
        select.best_engine("cpu")
    assert len(json.loads((tmp_path / "engine.json").read_text())["tables"]) == select.KEPT_TABLES


def test_engines_close_on_the_small_input_are_timed_again_on_a_larger_one(monkeypatch, tmp_path):
    table = [select.Measurement("torch-fp32", 3.0, 999.0, True), select.Measurement("onnxruntime-int8", 9.8, 46.7, True),
             select.Measurement("openvino-int8", 9.5, 46.3, True), select.Measurement("fast-wrong", 20.0, 30.0, False),
             select.Measurement("onnxruntime", 5.8, 140.0, True), select.Measurement("broken", None, None, False)]
    assert select.contenders(table) == ["onnxruntime-int8", "openvino-int8"]  # the inaccurate one never counts
    assert select.contenders(table[:2]) == []  # a clear winner needs no second look
    assert select.contenders([]) == []

    # measure() times the contenders again at the larger side, and only them.
    monkeypatch.setenv("RESTORER_CACHE", str(tmp_path))
    monkeypatch.setattr(select, "candidates", lambda device: [select.REFERENCE, "torch-fp32-cl"])
    asked = []

    def fake_contenders(results, margin=None):
        asked.append([m.kpx_s for m in results])
        return ["torch-fp32-cl"]

    monkeypatch.setattr(select, "contenders", fake_contenders)
    seen = []
    real_timed = select._timed

    def timed(net, x, repeats):
        seen.append(tuple(x.shape[-2:]))
        return real_timed(net, x, repeats)

    monkeypatch.setattr(select, "_timed", timed)
    results = select.measure("cpu", state=_state(), hyper=HYPER, side=16, repeats=1, refine_side=24)
    assert seen == [(24, 24)]
    assert len(asked) == 1  # decided once, on the small input's speeds, not again as they are replaced
    refined = next(m for m in results if m.engine == "torch-fp32-cl")
    assert "at 24 px" in refined.note and refined.usable
    assert next(m for m in results if m.engine == select.REFERENCE).note == ""
