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
from restorer.evaluation.metrics import psnr_y, ssim_y


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
                scale: int = 4, device: str = "auto", ensemble: bool = False) -> dict:
    """Mean PSNR/SSIM (Y) of the SR engine and of bicubic over a folder."""
    from restorer.models.manager import shared_manager
    from restorer.stages import drain
    from restorer.tiling import run_tiled

    manager = shared_manager(device)
    if checkpoint:
        net, runtime = manager.custom_network(Path(checkpoint), precision)
    else:
        net, runtime = manager.sr_network(alpha, precision)
    rows = []
    for name, image in eval_images(folder):
        hr, lr = make_lr(image, scale)
        sr = drain(run_tiled(net, lr.astype(np.float32) / 255.0, scale=scale, runtime=runtime, out_dtype=np.float32,
                             ensemble=ensemble))
        base = bicubic_up(lr, scale)
        rows.append({"image": name, "psnr_y": psnr_y(sr, hr, border=scale), "ssim_y": ssim_y(sr, hr, border=scale),
                     "bicubic_psnr_y": psnr_y(base, hr, border=scale), "bicubic_ssim_y": ssim_y(base, hr, border=scale)})
    mean = lambda key: float(np.mean([r[key] for r in rows]))  # noqa: E731
    return {"task": "sr", "data": str(folder), "scale": scale, "alpha": alpha, "precision": runtime.label,
            "ensemble": ensemble,
            "images": len(rows), "psnr_y": mean("psnr_y"), "ssim_y": mean("ssim_y"),
            "bicubic_psnr_y": mean("bicubic_psnr_y"), "bicubic_ssim_y": mean("bicubic_ssim_y"), "per_image": rows}
