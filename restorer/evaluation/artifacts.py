"""`restorer eval artifacts`: JPEG (Pillow, 4:2:0) or Gaussian noise, then restore, in one run.

For every image: degrade it, then measure the degraded input, the classic
engine and the model (both at strength `auto`, estimated from the degraded
file exactly as for a user's photo) against the original: PSNR on RGB,
PSNR and SSIM on Y, and PSNR-B on Y.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from restorer.evaluation.datasets import eval_images
from restorer.evaluation.metrics import psnr_b_y, psnr_rgb, psnr_y, ssim_y
from restorer.imaging import Photo, PhotoMetadata, jpeg_layout_of
from restorer.recipe import ArtifactsSettings
from restorer.stages import StageContext, drain
from restorer.stages import artifacts as stage


def degrade(image: np.ndarray, *, quality: int | None, sigma: float | None, seed: int) -> Photo:
    """The degraded photo as Restorer would read it (JPEG quantisation tables included)."""
    if quality is not None:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=quality)
        buffer.seek(0)
        with Image.open(buffer) as jpeg:
            pixels = np.asarray(jpeg.convert("RGB"), dtype=np.float32) / 255.0
            return Photo(pixels, PhotoMetadata(format="JPEG", jpeg_quantization=jpeg.quantization,
                                                 jpeg_layout=jpeg_layout_of(jpeg)))
    rng = np.random.default_rng(seed)
    noisy = image.astype(np.float32) + rng.normal(0, sigma, image.shape).astype(np.float32)
    return Photo(np.clip(np.round(noisy), 0, 255).astype(np.float32) / 255.0)


def _scores(result: np.ndarray, truth: np.ndarray) -> dict:
    return {"psnr": psnr_rgb(result, truth), "psnr_y": psnr_y(result, truth), "ssim_y": ssim_y(result, truth),
            "psnr_b": psnr_b_y(result, truth)}


def evaluate_artifacts(folder: Path, *, quality: int | None = None, sigma: float | None = None,
                       strength: str | int = "auto", engines: tuple[str, ...] = ("classic", "model")) -> dict:
    rows = []
    context = StageContext()
    for index, (name, image) in enumerate(eval_images(folder)):
        photo = degrade(image, quality=quality, sigma=sigma, seed=index)
        row = {"image": name, "input": _scores(photo.pixels, image)}
        for engine in engines:
            result, note = drain(stage.run(photo, ArtifactsSettings(engine=engine, strength=strength), context))
            row[engine] = _scores(result.pixels, image)
            row["note"] = note
        rows.append(row)
    mean = lambda method, key: float(np.mean([r[method][key] for r in rows]))  # noqa: E731
    summary = {"task": "artifacts", "data": str(folder), "quality": quality, "noise_sigma": sigma,
               "strength": strength, "images": len(rows)}
    for method in ("input", *engines):
        for key in ("psnr", "psnr_y", "ssim_y", "psnr_b"):
            summary[f"{method}_{key}"] = mean(method, key)
    summary["per_image"] = rows
    return summary
