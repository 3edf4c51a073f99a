"""`restorer bench`: speed as ratios against a reference path measured in the same run.

The machine is shared and noisy, so absolute times vary; the ratio between
our paths and a plain reference, measured back to back, is what we track.

- SR throughput: Real-ESRGAN x4plus on a photo-like input, in input
  kilopixels per second, for the app's path (the engine chosen for this
  machine, tiled) and for a plain fp32 reference (same network, contiguous
  fp32, whole input in one call, no tiling): `sr_speedup`.
- Fast mode: FastSR, the distilled student, on the same input against the same
  reference (`fast_speedup`), and how close it comes to the exact result at the
  default Look on photo crops, beside plain bicubic enlargement
  (`fast_psnr_vs_exact`, `bicubic_psnr_vs_exact`, dB).
- Int8: the integer engine (`--precision int8`) against the same reference
  (`int8_speedup`), and its agreement with full precision at the default Look
  on the same photo crops (`int8_psnr_vs_fp32`, dB).
- The slider: a new alpha to an enlarged 128x128 crop with the exact blend
  (`preview_latency_s`); for a 512x512 view of a photo shown whole, the slider
  moving to FastSR's preview on screen (`preview_feedback_s`) and stopping to the
  exact blend of the same view (`preview_exact_s`).
- Cancel: Cancel pressed in the middle of a one-tile enlargement to the run
  stopping (`cancel_latency_s`).
- Tiled throughput: the app's path on a photo that needs four tiles, so the
  cost of each tile's context is measured too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import numpy as np

DEFAULT_ALPHA = 0.7


def photo_like(size: int, seed: int = 0) -> np.ndarray:
    """A smooth-plus-texture float32 RGB test image (random noise would be unrepresentative)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = np.stack([0.5 + 0.4 * np.sin(6 * x + 2 * y), 0.5 + 0.3 * np.cos(5 * y), 0.4 + 0.3 * x * y], axis=2)
    return np.clip(base + rng.normal(0, 0.03, base.shape).astype(np.float32), 0, 1)


def _time(fn, repeats: int) -> float:
    fn()  # warm-up: first calls pay for oneDNN kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return 99.0 if mse == 0 else float(10 * np.log10(1.0 / mse))


def _example_crops(side: int = 64) -> list[np.ndarray]:
    """Photo crops for fidelity figures: the bundled example portrait (face, hair, suit, background)."""
    from restorer.imaging import read_photo
    from restorer.paths import resources_dir

    pixels = read_photo(resources_dir() / "examples" / "astronaut_faded.jpg").float_pixels()
    h, w = pixels.shape[:2]
    corners = ((h // 8, w // 3), (h // 2, w // 8), (h // 2, w // 2))
    return [np.ascontiguousarray(pixels[y : y + side, x : x + side]) for y, x in corners]


def cancel_latency(photo_side: int = 256) -> float:
    """Seconds from Cancel, pressed mid-enlargement of a one-tile photo, to the run having stopped."""
    from restorer import pipeline
    from restorer.errors import Cancelled
    from restorer.events import Progress
    from restorer.imaging import Photo
    from restorer.recipe import Recipe

    recipe = Recipe().with_enabled({"upscale"}).with_settings("upscale", faces=False, alpha=DEFAULT_ALPHA)
    token = pipeline.CancelToken()
    started, stopped = threading.Event(), threading.Event()

    def work() -> None:
        try:
            for event in pipeline.run(recipe, Photo(photo_like(photo_side, seed=3)), cancel=token):
                if isinstance(event, Progress) and event.fraction > 0.05:
                    started.set()
        except Cancelled:
            pass
        finally:
            started.set()
            stopped.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    started.wait()
    pressed = time.perf_counter()
    token.cancel()
    stopped.wait()
    return time.perf_counter() - pressed


def measure(size: int = 128, repeats: int = 3) -> dict:
    import cv2
    import torch

    from restorer.engines.select import best_engine, cpu_isa
    from restorer.memory import peak_resident_gb
    from restorer.models.archs.rrdbnet import RRDBNet
    from restorer.models.manager import ModelManager
    from restorer.models.packaged import realesrgan_x4plus_state
    from restorer.recipe import UpscaleSettings
    from restorer.stages import drain
    from restorer.tiling import run_tiled

    image = photo_like(size)
    kpx = size * size / 1000.0

    reference = RRDBNet(scale=4).eval()
    reference.load_state_dict({k: v.float() for k, v in realesrgan_x4plus_state().items()})
    tensor = torch.from_numpy(image).permute(2, 0, 1)[None].contiguous()

    def run_reference():
        with torch.no_grad():
            reference(tensor)

    manager = ModelManager("cpu")
    backend = manager.sr_engine()
    net, runtime = manager.sr_network(1.0)  # alpha 1 is x4plus itself

    def run_fast():
        drain(run_tiled(net, image, scale=4, runtime=runtime))  # the app's path; one tile at this size

    peaks = {"loaded": peak_resident_gb()}
    ref_s = _time(run_reference, repeats)
    peaks["reference"] = peak_resident_gb()
    app_s = _time(run_fast, repeats)
    peaks["app_path"] = peak_resident_gb()

    crop = image[:128, :128]
    alphas = iter(np.linspace(0.05, 0.95, repeats + 1))

    def preview():  # as the app's exact preview asks: the crop's size decides whether compiling pays
        blended, rt = manager.sr_network(float(next(alphas)), "auto", crop.shape[0] * crop.shape[1])
        drain(run_tiled(blended, crop, scale=4, runtime=rt, tile=128))

    preview_s = _time(preview, repeats)
    peaks["preview"] = peak_resident_gb()
    load_s = next((m.load_s for m in best_engine("cpu")[1] if m.engine == backend), None)
    result = {"size": size, "runtime": runtime.label, "backend": backend, "cpu_isa": cpu_isa(),
              "engine_load_s": load_s,  # building the chosen engine for one blend (OpenVINO compiles)
              "threads": torch.get_num_threads(), "sr_kpx_s": kpx / app_s, "sr_ref_kpx_s": kpx / ref_s,
              "sr_speedup": ref_s / app_s, "preview_latency_s": preview_s}
    result.update(_fast_mode(manager, image, kpx, ref_s, repeats))
    peaks["fast_mode"] = peak_resident_gb()
    result.update(_int8_mode(manager, image, kpx, ref_s, repeats))
    peaks["int8"] = peak_resident_gb()
    result.update(_slider(manager))
    peaks["slider"] = peak_resident_gb()
    result["cancel_latency_s"] = cancel_latency()
    peaks["cancel"] = peak_resident_gb()

    # A photo larger than one tile pays for each tile's context: measured, not hidden.
    large = photo_like(2 * 448 - 64, seed=1)
    tiled_s = _time(lambda: drain(run_tiled(net, large, scale=4, runtime=runtime)), 1)
    result["sr_tiled_kpx_s"] = large.shape[0] * large.shape[1] / 1000 / tiled_s
    peaks["tiled"] = peak_resident_gb()
    result["peak_rss_gb"] = peaks["tiled"]
    result["peak_rss_gb_after"] = {phase: round(value, 2) for phase, value in peaks.items()}
    return result


def _fast_mode(manager, image: np.ndarray, kpx: float, ref_s: float, repeats: int) -> dict:
    """FastSR's speed against the reference, and its distance (and bicubic's) from the exact result."""
    import cv2

    from restorer.errors import ModelUnavailable
    from restorer.stages import drain
    from restorer.tiling import run_tiled

    try:
        student, srt = manager.fast_sr_network(DEFAULT_ALPHA)
    except ModelUnavailable as exc:
        return {"fast_speedup": None, "fast_psnr_vs_exact": None, "bicubic_psnr_vs_exact": None,
                "fast_note": str(exc)}
    fast_s = _time(lambda: drain(run_tiled(student, image, scale=4, runtime=srt)), repeats)
    exact, ert = manager.sr_network(DEFAULT_ALPHA)
    fast_db, bicubic_db = [], []
    for crop in _example_crops():
        truth = drain(run_tiled(exact, crop, scale=4, runtime=ert, out_dtype=np.float32))
        fast = drain(run_tiled(student, crop, scale=4, runtime=srt, out_dtype=np.float32))
        bicubic = cv2.resize(crop, (crop.shape[1] * 4, crop.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
        # Away from the crop's border, where the exact network saw zero padding a photo's inside never has.
        inner = np.s_[16:-16, 16:-16]
        fast_db.append(_psnr(fast[inner], truth[inner]))
        bicubic_db.append(_psnr(bicubic[inner], truth[inner]))
    return {"fast_kpx_s": kpx / fast_s, "fast_speedup": ref_s / fast_s,
            "fast_psnr_vs_exact": float(np.mean(fast_db)), "bicubic_psnr_vs_exact": float(np.mean(bicubic_db))}


def _int8_mode(manager, image: np.ndarray, kpx: float, ref_s: float, repeats: int) -> dict:
    """The int8 engine (`--precision int8`): its speed against the reference, and its distance from the
    full-precision blend at the default Look on photo crops (the engine choice asks 45 dB)."""
    from restorer.errors import ModelUnavailable
    from restorer.models.manager import ModelManager
    from restorer.stages import drain
    from restorer.tiling import run_tiled

    own = ModelManager("cpu")  # its own: one manager keeps one non-torch engine at a time
    try:
        net, rt = own.sr_network(1.0, "int8")
    except (ModelUnavailable, ValueError) as exc:
        return {"int8_speedup": None, "int8_psnr_vs_fp32": None, "int8_note": str(exc)}
    int8_s = _time(lambda: drain(run_tiled(net, image, scale=4, runtime=rt)), repeats)
    net, rt = own.sr_network(DEFAULT_ALPHA, "int8")
    exact, ert = manager.sr_network(DEFAULT_ALPHA, "fp32")  # full precision, whatever the automatic choice
    agreement = []
    for crop in _example_crops():
        truth = drain(run_tiled(exact, crop, scale=4, runtime=ert, out_dtype=np.float32))
        got = drain(run_tiled(net, crop, scale=4, runtime=rt, out_dtype=np.float32))
        agreement.append(_psnr(got, truth))
    return {"int8_kpx_s": kpx / int8_s, "int8_speedup": ref_s / int8_s,
            "int8_psnr_vs_fp32": float(np.mean(agreement))}


def _slider(manager) -> dict:
    """A 512x512 view of a 1024x1024 photo shown whole: slider move -> FastSR preview; stop -> exact view."""
    from dataclasses import replace

    from restorer.errors import ModelUnavailable
    from restorer.stages.upscale import preview_view
    from restorer.recipe import UpscaleSettings
    from restorer.stages import StageContext

    photo = photo_like(1024, seed=2)
    view = (0.0, 0.0, 1024.0, 1024.0)
    settings = UpscaleSettings(alpha=DEFAULT_ALPHA)
    context = StageContext(models=manager)
    times = {}
    for mode, key in (("fast", "preview_feedback_s"), ("exact", "preview_exact_s")):
        try:
            preview_view(photo, view, 0.5, replace(settings, alpha=0.41), mode, context)  # warm-up
            start = time.perf_counter()
            preview_view(photo, view, 0.5, replace(settings, alpha=0.43), mode, context)
            times[key] = time.perf_counter() - start
        except ModelUnavailable:
            times[key] = None
    return times


def command_bench(args: argparse.Namespace) -> int:
    result = measure(args.size, args.repeats)
    print(f"SR x4 ({result['size']}x{result['size']} input, {result['threads']} threads, CPU {result['cpu_isa']})")
    print(f"  app path ({result['backend']}, {result['runtime']}, tiled): {result['sr_kpx_s']:.1f} kpx/s")
    print(f"  reference (torch fp32, one pass):             {result['sr_ref_kpx_s']:.1f} kpx/s")
    print(f"  speed-up: {result['sr_speedup']:.2f}x")
    if result.get("engine_load_s"):
        print(f"  building the engine for one blend: {result['engine_load_s']:.1f} s (a Look change pays it)")
    if result.get("fast_speedup") is not None:
        print(f"  fast mode (FastSR): {result['fast_kpx_s']:.1f} kpx/s, {result['fast_speedup']:.1f}x the reference; "
              f"{result['fast_psnr_vs_exact']:.2f} dB from the exact result (bicubic "
              f"{result['bicubic_psnr_vs_exact']:.2f} dB)")
    if result.get("int8_speedup") is not None:
        print(f"  int8 (--precision int8): {result['int8_kpx_s']:.1f} kpx/s, {result['int8_speedup']:.2f}x the "
              f"reference; {result['int8_psnr_vs_fp32']:.1f} dB from full precision")
    print(f"  preview latency (new alpha -> 128x128 enlarged, exact): {result['preview_latency_s']:.2f} s")
    for key, label in (("preview_feedback_s", "slider move -> FastSR preview of a 512x512 view"),
                       ("preview_exact_s", "slider stop -> exact blend of the same view")):
        if result.get(key) is not None:
            print(f"  {label}: {result[key]:.2f} s")
    print(f"  cancel latency (mid-tile): {result['cancel_latency_s']:.2f} s")
    print(f"  large photo, seamless tiles (832x832 input, 4 tiles): {result['sr_tiled_kpx_s']:.1f} kpx/s")
    steps = ", ".join(f"{phase} {value:.2f}" for phase, value in result["peak_rss_gb_after"].items())
    print(f"  peak memory {result['peak_rss_gb']:.2f} GB (peak so far after each step, GB: {steps})")
    if args.json:
        print(json.dumps(result))
    return 0
