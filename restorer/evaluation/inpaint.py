"""`restorer eval inpaint`: fill seeded synthetic damage and score it against the original.

Masks per image (seeded by the image's index, so every engine sees the same):
- scratches: 3-8 smooth curved strokes 1-6 px wide;
- blobs: random ellipses until 5-15 % of the area is covered.
Scores: PSNR inside the mask and over the whole image, SSIM (Y) over the whole
image, for each engine, and for blobs the fine detail inside the fill against the
photo's there (`detail_ratio`: 1 as much pixel-to-pixel variation as the photo had,
grain included; a smooth smudge scores far less, and PSNR, which rewards the smudge,
cannot see the difference). Fills get the photo's grain as the app gives it, unless
`grain` is False. For scratches, the damage is also drawn into the photo
(bright or dark, as on prints) and the automatic detector's proposal is
compared with the true mask: precision, recall and IoU.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from restorer.evaluation.datasets import eval_images
from restorer.evaluation.metrics import psnr, ssim_y, to_uint8_range
from restorer.imaging import Photo
from restorer.recipe import InpaintSettings
from restorer.stages import StageContext, drain
from restorer.stages import inpaint as stage
from restorer.stages.scratches import detect_scratches
from restorer.damage import blob_mask, scratch_mask


def _scores(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict:
    r, t = to_uint8_range(result), to_uint8_range(truth)
    return {"psnr_masked": psnr(r[mask], t[mask]), "psnr": psnr(r, t), "ssim_y": ssim_y(result, truth)}


def detail_ratio(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float | None:
    """Fine detail (robust spread of the luma Laplacian) inside `mask` less a 2-px rim: result over truth."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if inner.sum() < 64:
        return None

    def spread(rgb: np.ndarray) -> float:
        lap = cv2.Laplacian(np.ascontiguousarray(rgb @ np.float32([0.299, 0.587, 0.114])), cv2.CV_32F)
        values = lap[inner]
        return float(np.median(np.abs(values - np.median(values))))

    reference = spread(truth)
    return spread(result) / reference if reference > 0 else None


def evaluate_inpaint(folder: Path, *, masks: str, engines: tuple[str, ...] = ("telea", "ns", "model"),
                     lama: str = "", grain: bool = True) -> dict:
    rows = []
    context = StageContext()
    for index, (name, image) in enumerate(eval_images(folder)):
        rng = np.random.default_rng(1000 + index)
        h, w = image.shape[:2]
        mask = scratch_mask(rng, h, w) if masks == "scratches" else blob_mask(rng, h, w)
        truth = image.astype(np.float32) / 255.0
        damaged = truth.copy()
        damaged[mask] = 0.95 if rng.random() < 0.7 else 0.08  # emulsion loss is bright, dirt dark
        row = {"image": name, "mask_fraction": float(mask.mean())}
        for engine in engines + (("lama",) if lama else ()):
            settings = InpaintSettings(engine=engine, model_path=lama if engine == "lama" else "", grain=grain)
            result, _ = drain(stage.run(Photo(damaged), settings, context.with_mask(mask)))
            row[engine] = _scores(result.pixels, truth, mask)
            row[engine]["detail_ratio"] = detail_ratio(result.pixels, truth, mask) if masks == "blobs" else None
        if masks == "scratches":
            for key, engine in (("detect", "model"), ("classic_detect", "classic")):
                found = detect_scratches(damaged, engine=engine, models=context.model_manager())
                hit = float((found & mask).sum())
                row[key] = {"precision": hit / max(found.sum(), 1), "recall": hit / max(mask.sum(), 1),
                            "iou": hit / max((found | mask).sum(), 1)}
        rows.append(row)
    summary: dict = {"task": "inpaint", "data": str(folder), "masks": masks, "images": len(rows), "grain": grain,
                     "mask_fraction": float(np.mean([r["mask_fraction"] for r in rows]))}
    for engine in engines + (("lama",) if lama else ()):
        for key in ("psnr_masked", "psnr", "ssim_y"):
            summary[f"{engine}_{key}"] = float(np.mean([r[engine][key] for r in rows]))
        ratios = [r[engine]["detail_ratio"] for r in rows if r[engine]["detail_ratio"] is not None]
        summary[f"{engine}_detail_ratio"] = float(np.median(ratios)) if ratios else None
    if masks == "scratches":
        for prefix in ("detect", "classic_detect"):
            for key in ("precision", "recall", "iou"):
                summary[f"{prefix}_{key}"] = float(np.mean([r[prefix][key] for r in rows]))
    else:
        summary["detect_iou"] = None
    summary["per_image"] = rows
    return summary
