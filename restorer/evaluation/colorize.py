"""`restorer eval colorize`: take the colour out of a photo, put it back, compare.

For every image the ground truth's lightness (CIE L*) is kept and its chroma
removed; that grey photo is scored as it is ("gray"), colorized by the model
without hints ("model") and with N hints ("hinted"): seeded random points
where the true colour (a 5x5 mean) is given, as a user's clicks would. Scores:
PSNR on RGB, and colourfulness (Hasler & Suesstrunk 2003) as a ratio to the
ground truth's, over the whole set (sum of the results' over sum of the
truths', so near-grey photos do not dominate).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restorer.colorspace import lab_to_rgb, rgb_to_lab
from restorer.evaluation.datasets import eval_images
from restorer.evaluation.metrics import psnr_rgb
from restorer.imaging import Photo
from restorer.recipe import ColorizeSettings
from restorer.stages import StageContext, drain
from restorer.stages import colorize as stage


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk's colourfulness M of float RGB in [0, 1], on the 0-255 scale."""
    r, g, b = (rgb[..., c].astype(np.float64) * 255.0 for c in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def remove_colour(rgb: np.ndarray) -> np.ndarray:
    """The same L*, a* = b* = 0: what a black-and-white film would have recorded, as RGB."""
    lab = rgb_to_lab(rgb)
    lab[..., 1:] = 0.0
    return np.clip(lab_to_rgb(lab), 0.0, 1.0)


def sample_hints(truth: np.ndarray, count: int, rng: np.random.Generator) -> tuple:
    """`count` hints (x, y, r, g, b): seeded random points, each with the mean true colour around it."""
    h, w = truth.shape[:2]
    hints = []
    for _ in range(count):
        y, x = int(rng.integers(2, h - 2)), int(rng.integers(2, w - 2))
        r, g, b = truth[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3).mean(axis=0)
        hints.append((x / (w - 1), y / (h - 1), float(r), float(g), float(b)))
    return tuple(hints)


def evaluate_colorize(folder: Path, *, hints: int = 10, saturation: float = 1.0,
                      temperature: float | None = None) -> dict:
    """`temperature` overrides ColorNet's annealed-mean temperature (0 = its regression head)."""
    rows = []
    context = StageContext()
    if temperature is not None:
        net, _ = context.model_manager().color_network()
        net.temperature = temperature if temperature > 0 else None
    for index, (name, image) in enumerate(eval_images(folder)):
        truth = image.astype(np.float32) / 255.0
        gray = remove_colour(truth)
        row = {"image": name, "truth_colorfulness": colorfulness(truth),
               "gray": {"psnr": psnr_rgb(gray, truth), "colorfulness": colorfulness(gray)}}
        runs = {"model": ()}
        if hints:
            runs["hinted"] = sample_hints(truth, hints, np.random.default_rng(2000 + index))
        for method, given in runs.items():
            settings = ColorizeSettings(engine="model", hints=given, saturation=saturation)
            result, _ = drain(stage.run(Photo(gray), settings, context))
            row[method] = {"psnr": psnr_rgb(result.pixels, truth), "colorfulness": colorfulness(result.pixels)}
        rows.append(row)
    truth_total = sum(r["truth_colorfulness"] for r in rows)
    summary: dict = {"task": "colorize", "data": str(folder), "hints": hints, "saturation": saturation,
                     "temperature": context.model_manager().color_network()[0].temperature, "images": len(rows)}
    for method in ("gray", "model", "hinted"):
        if method in rows[0]:
            summary[f"{method}_psnr"] = float(np.mean([r[method]["psnr"] for r in rows]))
            summary[f"{method}_colorfulness_ratio"] = sum(r[method]["colorfulness"] for r in rows) / truth_total
    summary.setdefault("hinted_psnr", None)
    summary["colorfulness_ratio"] = summary["model_colorfulness_ratio"]
    summary["per_image"] = rows
    return summary
