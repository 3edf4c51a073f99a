"""Pick the fastest engine that is accurate enough, by measuring on this machine, once.

Each candidate runs Real-ESRGAN x4plus on a 48x48 photo-like input (twice,
after a warm-up); its output is compared with torch fp32's. Those within
TOLERANCE_DB that come within 20 % of the fastest are timed again on a
160x160 input, nearer a real tile, and the fastest is chosen. The table is kept in the user's cache
(`engine.json`) under a key made of the CPU model, the devices and the
library versions, so a new machine, GPU or library measures again; the
tables of the last few keys are kept side by side, so moving between the
CPU and `--device vulkan` does not.
A candidate that fails to load is recorded with its reason and skipped:
torch fp32 always works.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from restorer.engines import TOLERANCE_DB

REFERENCE = "torch-fp32"
# Part of the cache key: raised whenever what is measured or how the choice is made changes, so a table
# measured under older rules is measured again (2: accuracy at the default Look, build times, OpenVINO;
# 3: ONNX Runtime's int8 became per-channel, and close contenders are timed again on a larger input).
RULES = 3
MEASURE_SIDE = 48
# The engines that come within CONTENDER_MARGIN of the fastest at MEASURE_SIDE are timed again at
# REFINE_SIDE: the int8 engines tie at 48 px (ONNX Runtime's 9.8 kpx/s, OpenVINO's 9.5), while on real
# photos OpenVINO's is 7-12 % ahead (320 px 10.8 against 9.0-9.6; an 832-px photo in four tiles 8.1
# against 7.2; one sitting, 2-core AVX-512 Xeon with VNNI). A few seconds more, once per machine.
CONTENDER_MARGIN = 0.2
REFINE_SIDE = 160


@dataclass
class Measurement:
    engine: str
    kpx_s: float | None
    psnr_db: float | None
    usable: bool
    note: str = ""
    load_s: float | None = None  # building the engine for one blend (export, session, compilation)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


_ISA_ORDER = ("avx2", "avx512", "avx512_bf16", "amx")


def _onednn_cap() -> str | None:
    """The ISA oneDNN is capped at by ONEDNN_MAX_CPU_ISA (how a laptop-class CPU is simulated), if any."""
    import os

    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").lower()
    if not cap or cap == "all":
        return None
    if "amx" in cap:
        return "amx"
    if "bf16" in cap or "avx10" in cap:
        return "avx512_bf16"
    if "avx512" in cap:
        return "avx512"
    return "avx2" if "avx2" in cap else "sse"


def cpu_isa() -> str:
    """The best vector instruction set torch may use here: "amx", "avx512_bf16", "avx512", "avx2" or other.

    What the CPU offers, lowered to ONEDNN_MAX_CPU_ISA when that caps it.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    found = platform.machine()
    for name, flag in (("amx", "amx_bf16"), ("avx512_bf16", "avx512_bf16"), ("avx512", "avx512f"), ("avx2", "avx2")):
        if flag in flags:
            found = name
            break
    cap = _onednn_cap()
    if cap is None or found not in _ISA_ORDER:
        return found
    if cap not in _ISA_ORDER:
        return cap
    return _ISA_ORDER[min(_ISA_ORDER.index(found), _ISA_ORDER.index(cap))]


def candidates(device: str) -> list[str]:
    """Engine names worth measuring on `device` ("cpu", "cuda", "mps")."""
    from restorer.engines import onnx_engine
    from restorer.models.archs.rrdbnet_fused import available as fused_available

    if device == "vulkan":
        return [REFERENCE, "ncnn-vulkan"]
    if device != "cpu":
        return [REFERENCE, f"torch-{device}"]
    names = [REFERENCE, "torch-fp32-cl"]
    if fused_available():
        names.append("torch-bf16-fused")
    if onnx_engine.available()[0]:
        names.append("onnxruntime")
        names.append("onnxruntime-int8")
    from restorer.engines import openvino_int8

    if openvino_int8.available()[0]:
        names.append("openvino-int8")
    # ncnn on the CPU is not a candidate: it was the fastest here by 15 %, but a 256-pixel input
    # peaked at 3.6 GB against ONNX Runtime's 1.7 GB, and the app's 608-pixel tiles (448 + context)
    # drove a bench into the out-of-memory killer at 18 GB. It stays for Vulkan and RESTORER_ENGINE=ncnn.
    return names


def build(name: str, state: dict, hyper: dict, alpha: float = 1.0):
    """A callable network for engine `name` from an fp32 state dict: RGB (N,3,H,W) -> (N,3,sH,sW).

    `alpha` is the Look blend `state` was made at; only the int8 engine uses it (its activation ranges).
    """
    import torch

    from restorer.models.archs.rrdbnet import RRDBNet

    if name.startswith("torch"):
        device = {"torch-cuda": "cuda", "torch-mps": "mps"}.get(name, "cpu")
        net = RRDBNet(**hyper).eval()
        net.load_state_dict(state)
        net = net.to(device)
        if name == "torch-bf16-fused":
            from restorer.models.archs.rrdbnet_fused import FusedRRDBNet

            return FusedRRDBNet(net)
        if name != REFERENCE:
            net = net.to(memory_format=torch.channels_last)
        return net
    net = unloaded(name, hyper)
    net.load(state, alpha)
    return net


def unloaded(name: str, hyper: dict):
    """Engine `name` (ONNX Runtime, its int8, OpenVINO int8, ncnn) for an RRDBNet with `hyper`, its graph or
    session not built yet: `load(state, alpha)` gives it a blend's weights, again for each new blend."""
    from restorer.paths import cache_dir

    if name == "onnxruntime":
        from restorer.engines.onnx_engine import OnnxRRDB

        return OnnxRRDB(hyper, cache_dir() / "engines")
    if name == "onnxruntime-int8":
        from restorer.engines.int8 import OnnxInt8RRDB
        from restorer.engines.int8_scales import bundled_table

        return OnnxInt8RRDB(hyper, bundled_table())
    if name == "openvino-int8":
        from restorer.engines.int8_scales import bundled_table
        from restorer.engines.openvino_int8 import OpenVinoInt8RRDB, compiled_cache

        return OpenVinoInt8RRDB(hyper, bundled_table(), cache=compiled_cache())
    if name in ("ncnn", "ncnn-vulkan"):
        from restorer.engines.ncnn_engine import NcnnRRDB

        return NcnnRRDB(hyper, cache_dir() / "engines", vulkan=name == "ncnn-vulkan")
    raise ValueError(f"unknown engine {name!r}")


def measure(device: str = "cpu", state: dict | None = None, hyper: dict | None = None,
            side: int = MEASURE_SIDE, repeats: int = 2, refine_side: int = REFINE_SIDE) -> list[Measurement]:
    """Speed and accuracy of every candidate on `device`: by default the bundled pair at the default Look
    (alpha 0.7), which is what the app enlarges with unless the user moves the slider. (The int8 engines'
    error grows towards alpha 1, x4plus alone: there OpenVINO's is 41-51 dB from fp32 on Set5 and Kodak
    crops, against 47-55 at 0.7, yet Set5 and Set14 moved by under 0.05 dB at alpha 0, 0.7 and 1; README.)

    Every candidate runs on a `side`-pixel input; the usable ones that come close to the fastest
    (`contenders`) are timed again on a `refine_side`-pixel input, nearer a real tile, and that speed is
    the one kept."""
    import numpy as np
    import torch

    from restorer.bench import photo_like

    from restorer.recipe import UpscaleSettings

    alpha = UpscaleSettings.alpha  # the Look a new recipe starts at
    if state is None:
        from restorer.models.interpolate import blend
        from restorer.models.manager import ModelManager

        state = blend(*ModelManager("cpu").sr_endpoints(), alpha)
        hyper = {"scale": 4, "features": 64, "blocks": 23, "growth": 32}
    x = torch.from_numpy(photo_like(side)).permute(2, 0, 1)[None].contiguous()
    kpx = side * side / 1000
    results, reference = [], None
    kept = {}  # the usable engines, until the contenders among them are timed again
    for name in [REFERENCE] + [c for c in candidates(device) if c != REFERENCE]:
        try:
            start = time.perf_counter()
            net = build(name, state, hyper, alpha)
            load_s = time.perf_counter() - start
            inp = _as_input(name, x)
            with torch.inference_mode():
                out = net(inp).float().cpu()  # also the warm-up
            seconds = _median_seconds(net, inp, repeats)
        except Exception as exc:  # a broken or missing engine is skipped, never fatal
            results.append(Measurement(name, None, None, False, f"{type(exc).__name__}: {exc}"[:200]))
            continue
        if reference is None:
            reference = out
            psnr = float("inf")
        else:
            mse = float(torch.mean((out.clamp(0, 1) - reference.clamp(0, 1)) ** 2))
            psnr = float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))
        usable, note = judge(name, psnr)
        results.append(Measurement(name, kpx / seconds, psnr if psnr != float("inf") else 999.0,
                                   usable, note, round(load_s, 3)))
        if usable:
            kept[name] = net
        del net
    if refine_side and refine_side != side:
        big = torch.from_numpy(photo_like(refine_side, seed=1)).permute(2, 0, 1)[None].contiguous()
        close = contenders(results)  # decided once, on the small input's speeds, before any is replaced
        for measurement in results:
            if measurement.engine in close:
                seconds = _timed(kept[measurement.engine], _as_input(measurement.engine, big), repeats)
                measurement.kpx_s = refine_side * refine_side / 1000 / seconds
                measurement.note = f"speed at {refine_side} px (it came within {CONTENDER_MARGIN:.0%} at {side} px)"
    return results


def _as_input(name: str, x):
    """`x` on the engine's device, in its layout (torch engines other than the reference run channels-last)."""
    import torch

    x = x.to({"torch-cuda": "cuda", "torch-mps": "mps"}.get(name, "cpu"))
    if name != REFERENCE and name.startswith("torch") and name != "torch-bf16-fused":
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def _timed(net, x, repeats: int) -> float:
    """Median seconds of `repeats` calls of `net` on `x`, after one warm-up call."""
    import torch

    with torch.inference_mode():
        net(x)
    return _median_seconds(net, x, repeats)


def _median_seconds(net, x, repeats: int) -> float:
    """Median seconds of `repeats` calls of `net` on `x` (warmed up already)."""
    import torch

    times = []
    with torch.inference_mode():
        for _ in range(repeats):
            start = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def contenders(results: list[Measurement], margin: float | None = None) -> list[str]:
    """The usable engines within `margin` (CONTENDER_MARGIN) of the fastest on the small input, when there are
    two or more: the small input decides which engines could win, a larger one decides between them."""
    margin = CONTENDER_MARGIN if margin is None else margin
    usable = [m for m in results if m.usable and m.kpx_s]
    if not usable:
        return []
    best = max(m.kpx_s for m in usable)
    close = [m.engine for m in usable if m.kpx_s >= (1 - margin) * best]
    return close if len(close) > 1 else []


def judge(engine: str, psnr_db: float) -> tuple[bool, str]:
    """(may the automatic choice take `engine`, why not) from its output's PSNR against fp32."""
    if psnr_db < TOLERANCE_DB:
        return False, f"output {psnr_db:.1f} dB from fp32, under {TOLERANCE_DB}"
    return True, ""


def _key(device: str) -> str:
    import torch

    from restorer.engines import onnx_engine

    parts = [f"rules {RULES}", cpu_model(), cpu_isa(), device, f"torch {torch.__version__}"]
    if onnx_engine.available()[0]:
        import onnxruntime

        parts.append(f"onnxruntime {onnxruntime.__version__}")
    from restorer.engines import openvino_int8

    if openvino_int8.available()[0]:
        import openvino

        parts.append(f"openvino {openvino.__version__}")
    return " | ".join(parts)


def _cache_file() -> Path:
    from restorer.paths import cache_dir

    return cache_dir() / "engine.json"


def best_engine(device: str = "cpu", *, remeasure: bool = False) -> tuple[str, list[Measurement]]:
    """(the engine to use on `device`, the measurements behind the choice), measured once per machine.

    RESTORER_ENGINE names an engine to use without measuring (tests, scripts, a user's preference).
    """
    import os

    forced = os.environ.get("RESTORER_ENGINE")
    if forced and not remeasure:
        return forced, []
    path = _cache_file()
    key = _key(device)
    tables = _read_tables(path)
    if not remeasure and key in tables:
        cached = tables[key]
        try:
            return cached["engine"], [Measurement(**m) for m in cached["measurements"]]
        except (KeyError, TypeError):
            pass
    results = measure(device)
    choice = choose(results)
    # Each key keeps its own table (the CPU with `--device vulkan` and without, a simulated ISA): moving
    # between them does not measure again. The most recent KEPT_TABLES stay.
    tables.pop(key, None)
    tables[key] = {"engine": choice, "measurements": [asdict(m) for m in results]}
    kept = dict(list(tables.items())[-KEPT_TABLES:])
    try:
        from restorer.imaging import write_text_atomically

        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, json.dumps({"tables": kept}, indent=1))
    except OSError:
        pass  # a read-only cache only costs a new measurement next time
    return choice, results


KEPT_TABLES = 4


def _read_tables(path: Path) -> dict:
    """{key: {"engine", "measurements"}} from the cache file, oldest first; {} when it is missing or damaged.
    A file from before several tables were kept ({"key", "engine", "measurements"}) is read as one."""
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(cached, dict):
        return {}
    if "tables" in cached and isinstance(cached["tables"], dict):
        return {k: v for k, v in cached["tables"].items() if isinstance(v, dict)}
    if "key" in cached:
        return {cached["key"]: {"engine": cached.get("engine"), "measurements": cached.get("measurements", [])}}
    return {}


def choose(results: list[Measurement]) -> str:
    """The fastest usable engine, unless it beats the app's default torch path by less than 10 %:
    timings are noisy, and torch reports progress and sees Cancel inside the network."""
    usable = [m for m in results if m.usable and m.kpx_s]
    if not usable:
        return REFERENCE
    default = next((m for m in usable if m.engine in ("torch-fp32-cl", "torch-cuda", "torch-mps")), None) \
        or next((m for m in usable if m.engine == REFERENCE), usable[0])
    best = max(usable, key=lambda m: m.kpx_s)
    return best.engine if best.kpx_s > 1.1 * default.kpx_s else default.engine


def break_even_pixels(results: list[Measurement], fallback: str, engine: str = "openvino-int8") -> float:
    """Input pixels from which `engine`, built anew for a blend, finishes before `fallback` would:
    its build time over the time per pixel it saves (inf when it saves none or was not measured)."""
    fast = next((m for m in results if m.engine == engine and m.kpx_s), None)
    slow = next((m for m in results if m.engine == fallback and m.kpx_s), None)
    if fast is None or slow is None or fast.kpx_s <= slow.kpx_s:
        return float("inf")
    saved_per_pixel = (1.0 / slow.kpx_s - 1.0 / fast.kpx_s) / 1000.0
    return (fast.load_s or 0.0) / saved_per_pixel


def describe(engine: str, device: str = "cpu") -> str:
    """For the status bar: "CPU · torch fp32", "CPU · ONNX Runtime", "GPU · CUDA"."""
    where = {"cpu": "CPU", "cuda": "GPU", "mps": "GPU", "vulkan": "GPU"}.get(device, device.upper())
    what = {"torch-fp32": "torch fp32", "torch-fp32-cl": "torch fp32", "torch-bf16-fused": "torch bf16 (oneDNN)",
            "onnxruntime": "ONNX Runtime", "onnxruntime-int8": "ONNX Runtime int8",
            "openvino-int8": "OpenVINO int8", "torch-cuda": "CUDA",
            "torch-mps": "Metal (MPS)", "ncnn": "ncnn", "ncnn-vulkan": "ncnn Vulkan"}.get(engine, engine)
    return f"{where} · {what}"
