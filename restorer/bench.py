"""`restorer bench`: speed as ratios against a reference path measured in the same run.

The machine is shared and noisy, so absolute times vary; the ratio between
our fast path and a plain reference, measured back to back, is what we track.

- SR throughput: Real-ESRGAN x4plus on a photo-like input, in input
  kilopixels per second, for the app's path (tiled, channels_last, bf16
  autocast where the CPU has it) and for a plain fp32 reference (same
  network, contiguous fp32, whole input in one call, no tiling).
- Preview latency: a new alpha on the slider -> blended weights -> the
  upscaled 128x128 crop, as the GUI does it.
- Tiled throughput: the fast path on a photo that needs four tiles, so the
  cost of each tile's 64 px of context is measured too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


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



def measure(size: int = 128, repeats: int = 3) -> dict:
    import torch

    from restorer.models.archs.rrdbnet import RRDBNet
    from restorer.models.manager import ModelManager
    from restorer.models.packaged import realesrgan_x4plus_state
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
    net, runtime = manager.sr_network(1.0)  # alpha 1 is x4plus itself

    def run_fast():
        drain(run_tiled(net, image, scale=4, runtime=runtime))  # the app's path; one tile at this size

    ref_s = _time(run_reference, repeats)
    fast_s = _time(run_fast, repeats)

    crop = image[:128, :128]
    alphas = iter(np.linspace(0.05, 0.95, repeats + 1))

    def preview():
        blended, rt = manager.sr_network(float(next(alphas)))
        drain(run_tiled(blended, crop, scale=4, runtime=rt, tile=128))

    preview_s = _time(preview, repeats)

    # A photo larger than one tile pays for each tile's 64 px of context: measured, not hidden.
    large = photo_like(2 * 448 - 64, seed=1)
    tiled_s = _time(lambda: drain(run_tiled(net, large, scale=4, runtime=runtime)), 1)
    return {"size": size, "runtime": runtime.label, "threads": torch.get_num_threads(),
            "sr_kpx_s": kpx / fast_s, "sr_ref_kpx_s": kpx / ref_s, "sr_speedup": ref_s / fast_s,
            "preview_latency_s": preview_s, "sr_tiled_kpx_s": large.shape[0] * large.shape[1] / 1000 / tiled_s}


def command_bench(args: argparse.Namespace) -> int:
    result = measure(args.size, args.repeats)
    print(f"SR x4 ({result['size']}x{result['size']} input, {result['threads']} threads)")
    print(f"  fast path ({result['runtime']}, tiled, channels_last): {result['sr_kpx_s']:.1f} kpx/s")
    print(f"  reference (fp32, one pass):                  {result['sr_ref_kpx_s']:.1f} kpx/s")
    print(f"  speed-up: {result['sr_speedup']:.2f}x")
    print(f"  preview latency (new alpha -> 128x128 upscaled): {result['preview_latency_s']:.2f} s")
    print(f"  large photo, seamless tiles (832x832 input, 4 tiles): {result['sr_tiled_kpx_s']:.1f} kpx/s")
    if args.json:
        print(json.dumps(result))
    return 0
