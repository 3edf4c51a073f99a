"""`restorer eval descreen`: halftone prints simulated from clean photos, found and descreened.

Each photo, made grey, is printed with a round-dot screen (restorer.halftone) of a seeded
period (3-9 scan pixels: 150 lpi at 450-1350 dpi, 85 lpi at 255-765 dpi) and angle, and
scanned (area sampling, optical blur, noise), optionally saved as a JPEG. Scores:
- detection: the share of halftone scans whose screen `find_screen` finds, its period's error,
  and the share of the clean photos (colour and grey, as they are) it wrongly finds one in;
- PSNR against the grey photo, over all scans and over those whose screen was found: of the
  scan as it is, of `descreen` with the screen found, of the whole artifacts stage as the app
  runs it (descreen, then `auto` ArtifactNet), and of a Gaussian blur given the true period
  (sigma 0.4 period: 0.3 / 0.35 / 0.4 / 0.45 scored 21.70 / 23.11 / 23.57 / 23.59 dB on half of
  Kodak24, where Descreen scored 23.55): a baseline that knows what the detector has to find.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

PERIODS = (3.0, 9.0)
ANGLES = (45.0, 45.0, 15.0, 75.0, 0.0, 30.0)  # black ink is screened at 45° most often


def _as_jpeg(gray: np.ndarray, quality: int) -> np.ndarray:
    from restorer.training.degradations import jpeg_roundtrip

    decoded = jpeg_roundtrip((np.clip(gray, 0, 1) * 255 + 0.5).astype(np.uint8), quality)
    return decoded[..., 0].astype(np.float32) / 255.0


def evaluate_descreen(folder: Path, *, jpeg: int | None = None, stage: bool = True) -> dict:
    from restorer.evaluation.datasets import eval_images
    from restorer.evaluation.metrics import psnr
    from restorer.halftone import halftone
    from restorer.imaging import Photo
    from restorer.recipe import ArtifactsSettings
    from restorer.stages import StageContext, drain
    from restorer.stages import artifacts
    from restorer.stages.descreen import descreen, find_screen

    context = StageContext()
    rows = []
    for index, (name, image) in enumerate(eval_images(folder)):
        rng = np.random.default_rng(2000 + index)
        period = float(np.exp(rng.uniform(np.log(PERIODS[0]), np.log(PERIODS[1]))))
        angle = float(rng.choice(ANGLES))
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        scan = halftone(gray, period, angle, noise=1.0 / 255, rng=rng)
        if jpeg is not None:
            scan = _as_jpeg(scan, jpeg)
        found = find_screen(scan)
        false_alarm = find_screen(image.astype(np.float32) / 255.0) is not None or find_screen(gray) is not None
        row = {"image": name, "period": period, "angle": angle, "found": found is not None,
               "period_found": found.period if found else None, "false_alarm": false_alarm,
               "scan_psnr": psnr(scan, gray, peak=1.0),
               "descreen_psnr": psnr(descreen(scan, found) if found else scan, gray, peak=1.0),
               "blur_psnr": psnr(cv2.GaussianBlur(scan, (0, 0), 0.4 * period), gray, peak=1.0)}
        if stage:
            rgb = np.repeat(scan[..., None], 3, axis=2)
            result, _ = drain(artifacts.run(Photo(rgb), ArtifactsSettings(), context))
            row["stage_psnr"] = psnr(result.float_pixels().mean(axis=2), gray, peak=1.0)
        rows.append(row)
    found_rows = [r for r in rows if r["found"]]
    summary: dict = {
        "task": "descreen", "data": str(folder), "images": len(rows), "jpeg": jpeg,
        "detection_rate": len(found_rows) / len(rows),
        "period_error_median": float(np.median([abs(r["period_found"] - r["period"]) / r["period"]
                                                for r in found_rows])) if found_rows else None,
        "false_alarm_rate": float(np.mean([r["false_alarm"] for r in rows])),
    }
    for key in ("scan_psnr", "descreen_psnr", "blur_psnr") + (("stage_psnr",) if stage else ()):
        summary[key] = float(np.mean([r[key] for r in rows]))
        # on the scans whose screen was found, so the filter is compared with the baseline, not the misses
        summary[key + "_found"] = float(np.mean([r[key] for r in found_rows])) if found_rows else None
    summary["per_image"] = rows
    return summary
