"""`restorer eval colorize`: take the colour out of a photo, put it back, compare.

For every image the ground truth's lightness (CIE L*) is kept and its chroma
removed; that grey photo is scored as it is ("gray"), colorized by the model
without hints ("model") and with N hints ("hinted"): seeded random points
where the true colour (a 5x5 mean) is given, as a user's clicks would. Scores:
PSNR on RGB, and colourfulness (Hasler & Suesstrunk 2003) as a ratio to the
ground truth's, over the whole set (sum of the results' over sum of the
truths', so near-grey photos do not dominate).

PSNR rewards a brown average wherever the network is unsure, so two more
figures look at what a viewer sees on the pixels that matter, those whose
true chroma C*ab exceeds 20 (pooled over the set): `hue_hit_rate`, the share
of them that come out coloured (C* > 10) with a hue within 30 degrees of the
truth, and `chroma_on_saturated`, their mean result C* over their mean true C*.
Both rise with saturation alone, right hue or wrong, so `hue_accuracy` is beside
them: of the saturated pixels the result colours at all, the share whose hue is right.
A sepia wash scores low on both, whatever its PSNR.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
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


SATURATED_CHROMA = 20.0  # C*ab above which a true colour counts as saturated
COLOURED_CHROMA = 10.0  # C*ab a result needs there to count as coloured at all
HUE_TOLERANCE_DEG = 30.0


@dataclass
class SaturatedTally:
    """Sums over the saturated pixels of one or more images, so a set's figures pool its pixels."""

    pixels: int = 0
    hits: int = 0
    coloured: int = 0  # of those pixels, how many the result colours at all (C* > COLOURED_CHROMA)
    result_chroma: float = 0.0
    true_chroma: float = 0.0

    def add(self, result_rgb: np.ndarray, truth_rgb: np.ndarray) -> "SaturatedTally":
        """Count float32 RGB (H, W, 3) in [0, 1] `result_rgb` against `truth_rgb`; returns self."""
        return self.add_ab(rgb_to_lab(result_rgb)[..., 1:], rgb_to_lab(truth_rgb)[..., 1:])

    def add_ab(self, result_ab: np.ndarray, truth_ab: np.ndarray,
               saturated: float = SATURATED_CHROMA) -> "SaturatedTally":
        """Count a*b* (..., 2) `result_ab` against `truth_ab`, pixels whose true C* exceeds `saturated`."""
        truth_ab = truth_ab.reshape(-1, 2).astype(np.float64)
        result_ab = result_ab.reshape(-1, 2).astype(np.float64)
        true_c = np.hypot(truth_ab[:, 0], truth_ab[:, 1])
        keep = true_c > saturated
        truth_ab, result_ab, true_c = truth_ab[keep], result_ab[keep], true_c[keep]
        result_c = np.hypot(result_ab[:, 0], result_ab[:, 1])
        # Hue difference on the circle, in degrees: angle between the two a*b* vectors.
        difference = np.degrees(np.abs(np.angle(
            (result_ab[:, 0] + 1j * result_ab[:, 1]) * np.conj(truth_ab[:, 0] + 1j * truth_ab[:, 1]))))
        hit = (result_c > COLOURED_CHROMA) & (difference <= HUE_TOLERANCE_DEG)
        self.pixels += int(keep.sum())
        self.hits += int(hit.sum())
        self.coloured += int((result_c > COLOURED_CHROMA).sum())
        self.result_chroma += float(result_c.sum())
        self.true_chroma += float(true_c.sum())
        return self

    def merge(self, other: "SaturatedTally") -> "SaturatedTally":
        """Pool `other`'s counts into this tally; returns self."""
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))
        return self

    @property
    def hue_hit_rate(self) -> float | None:
        return self.hits / self.pixels if self.pixels else None

    @property
    def chroma_on_saturated(self) -> float | None:
        return self.result_chroma / self.true_chroma if self.true_chroma else None

    @property
    def hue_accuracy(self) -> float | None:
        """Of the saturated pixels the result colours at all, the share whose hue is right. Unlike the hit
        rate and the chroma, more saturation alone hardly moves it: a guess made stronger stays as wrong."""
        return self.hits / self.coloured if self.coloured else None


def hue_hit_rate(result_rgb: np.ndarray, truth_rgb: np.ndarray) -> float | None:
    """Share of the truth's saturated pixels (C* > 20) the result colours (C* > 10) with a hue within 30 degrees."""
    return SaturatedTally().add(result_rgb, truth_rgb).hue_hit_rate


def chroma_on_saturated(result_rgb: np.ndarray, truth_rgb: np.ndarray) -> float | None:
    """Mean result C* over mean true C* on the truth's saturated pixels (None if it has none)."""
    return SaturatedTally().add(result_rgb, truth_rgb).chroma_on_saturated


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
                      temperature: float | None = None, holdout: bool = False, tone: bool = False) -> dict:
    """`temperature` overrides ColorNet's annealed-mean temperature (0 = its regression head).

    `tone` runs the colour stage's tone step (restorer.stages.tone) too. It is off by default: these
    figures score the colour predicted for the photo's own L*, and the grey of a healthy hazy or
    high-key photo looks faded to the tone step, which would deepen its shadows and be scored as a
    colour error. `restorer eval revive` scores the tone step on faded and healthy greys.

    With `holdout`, only the photos of `folder` that colour training leaves out
    (restorer.training.data.colour_holdout) are scored.
    """
    rows = []
    context = StageContext()
    if temperature is not None:
        net, _ = context.model_manager().color_network()
        net.temperature = temperature if temperature > 0 else None
    images = eval_images(folder)
    if holdout:
        from restorer.training.data import is_colour_holdout

        images = [(name, image) for name, image in images if is_colour_holdout(name)]
    tallies = {"gray": SaturatedTally(), "model": SaturatedTally(), "hinted": SaturatedTally()}
    for index, (name, image) in enumerate(images):
        truth = image.astype(np.float32) / 255.0
        gray = remove_colour(truth)
        row = {"image": name, "truth_colorfulness": colorfulness(truth),
               "gray": {"psnr": psnr_rgb(gray, truth), "colorfulness": colorfulness(gray)}}
        tallies["gray"].add(gray, truth)
        runs = {"model": ()}
        if hints:
            runs["hinted"] = sample_hints(truth, hints, np.random.default_rng(2000 + index))
        for method, given in runs.items():
            settings = ColorizeSettings(engine="model", hints=given, saturation=saturation, tone=tone)
            result, _ = drain(stage.run(Photo(gray), settings, context))
            single = SaturatedTally().add(result.pixels, truth)
            tallies[method].merge(single)
            row[method] = {"psnr": psnr_rgb(result.pixels, truth), "colorfulness": colorfulness(result.pixels),
                           "hue_hit_rate": single.hue_hit_rate, "chroma_on_saturated": single.chroma_on_saturated,
                           "hue_accuracy": single.hue_accuracy}
        rows.append(row)
    truth_total = sum(r["truth_colorfulness"] for r in rows)
    summary: dict = {"task": "colorize", "data": str(folder), "holdout": holdout, "hints": hints, "tone": tone,
                     "saturation": saturation,
                     "temperature": context.model_manager().color_network()[0].temperature, "images": len(rows)}
    for method in ("gray", "model", "hinted"):
        if method in rows[0]:
            summary[f"{method}_psnr"] = float(np.mean([r[method]["psnr"] for r in rows]))
            summary[f"{method}_colorfulness_ratio"] = sum(r[method]["colorfulness"] for r in rows) / truth_total
            summary[f"{method}_hue_hit_rate"] = tallies[method].hue_hit_rate
            summary[f"{method}_chroma_on_saturated"] = tallies[method].chroma_on_saturated
            summary[f"{method}_hue_accuracy"] = tallies[method].hue_accuracy
    summary.setdefault("hinted_psnr", None)
    summary["colorfulness_ratio"] = summary["model_colorfulness_ratio"]
    summary["hue_hit_rate"] = summary["model_hue_hit_rate"]
    summary["chroma_on_saturated"] = summary["model_chroma_on_saturated"]
    summary["hue_accuracy"] = summary["model_hue_accuracy"]
    summary["per_image"] = rows
    return summary
