"""`restorer eval sr`: the standard x4 super-resolution protocol.

HR images are cropped to a multiple of 4; LR images are made with Pillow's
antialiased bicubic filter (close to MATLAB's imresize, which the papers use;
figures are comparable to within a few tenths of a dB). PSNR and SSIM are
computed on Y (BT.601) with `scale` pixels of border cropped. Bicubic
upscaling of the same LR images is the baseline, measured in the same run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from restorer.evaluation.datasets import eval_images
from restorer.evaluation.metrics import psnr_rgb, psnr_y, ssim_y


def make_lr(hr: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(cropped HR, LR) uint8 arrays."""
    h, w = (hr.shape[0] // scale) * scale, (hr.shape[1] // scale) * scale
    hr = hr[:h, :w]
    lr = np.asarray(Image.fromarray(hr).resize((w // scale, h // scale), Image.BICUBIC))
    return hr, lr


def bicubic_up(lr: np.ndarray, scale: int) -> np.ndarray:
    h, w = lr.shape[:2]
    return np.asarray(Image.fromarray(lr).resize((w * scale, h * scale), Image.BICUBIC))


def evaluate_sr(folder: Path, *, alpha: float, precision: str = "auto", checkpoint: str = "",
                scale: int = 4, device: str = "auto", ensemble: bool = False, quality: str = "best") -> dict:
    """Mean PSNR/SSIM (Y) of the SR engine and of bicubic over a folder.

    With quality "fast" the FastSR student is scored, and also against the exact blend at the same
    alpha (PSNR on RGB, `psnr_vs_exact`), beside bicubic against that blend: what fast mode costs.
    """
    from restorer.models.manager import shared_manager
    from restorer.stages import drain
    from restorer.tiling import run_tiled

    manager = shared_manager(device)
    exact = None
    if checkpoint:
        net, runtime = manager.custom_network(Path(checkpoint), precision)
    elif quality == "fast":
        net, runtime = manager.fast_sr_network(alpha)
        exact = manager.sr_network(alpha, precision)
    else:
        net, runtime = manager.sr_network(alpha, precision)
    rows = []
    for name, image in eval_images(folder):
        hr, lr = make_lr(image, scale)
        low = lr.astype(np.float32) / 255.0
        sr = drain(run_tiled(net, low, scale=scale, runtime=runtime, out_dtype=np.float32, ensemble=ensemble))
        base = bicubic_up(lr, scale)
        row = {"image": name, "psnr_y": psnr_y(sr, hr, border=scale), "ssim_y": ssim_y(sr, hr, border=scale),
               "bicubic_psnr_y": psnr_y(base, hr, border=scale), "bicubic_ssim_y": ssim_y(base, hr, border=scale)}
        if exact is not None:
            truth = np.clip(drain(run_tiled(exact[0], low, scale=scale, runtime=exact[1], out_dtype=np.float32)), 0, 1)
            row["psnr_vs_exact"] = psnr_rgb(sr, truth, border=4 * scale)
            row["bicubic_psnr_vs_exact"] = psnr_rgb(base, truth, border=4 * scale)
        rows.append(row)
    mean = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    result = {"task": "sr", "data": str(folder), "scale": scale, "alpha": alpha, "quality": quality,
              "precision": runtime.label, "ensemble": ensemble,
              "images": len(rows), "psnr_y": mean("psnr_y"), "ssim_y": mean("ssim_y"),
              "bicubic_psnr_y": mean("bicubic_psnr_y"), "bicubic_ssim_y": mean("bicubic_ssim_y")}
    if exact is not None:
        result.update(psnr_vs_exact=mean("psnr_vs_exact"), bicubic_psnr_vs_exact=mean("bicubic_psnr_vs_exact"))
    result["per_image"] = rows
    return result

