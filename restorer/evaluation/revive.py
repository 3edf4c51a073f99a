"""`restorer eval revive`: colour prints faded in simulation, revived, and healthy photos left alone.

Each colour photo is faded as a chromogenic print fades, with seeded amounts: each channel's
black point raised (0.04-0.22: the veil and a coloured stain in the shadows), its white point
lowered (0.78-1.0) and its tone curve bent (gamma 0.8-1.25), then the chroma scaled by
0.45-0.85. Scores, PSNR (RGB) against the photo as it was:
- the faded photo as it is, and after the colour stage's revival (what `auto` does to a
  colour photo);
- the healthy photo after revival: a revival that changes a photo that was never faded is
  doing harm, so this should stay high.
Both as "revive" runs it (always) and as "auto" runs it (in proportion to how faded the photo
looks, restorer.stages.colorize.fade_evidence): for auto, the share of faded photos it revived
and of healthy photos it left exactly as they were.

Black-and-white prints the same way (`bw_` keys): the photo's grey (CIE L* kept), faded with one
black point, white point and gamma for all channels, then revived by the tone step
(restorer.stages.tone.auto_revive_tone, in proportion to its veil), scored on the grey; and the
healthy grey through the same step, which should leave most of them exactly as they were.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restorer.colorspace import luma


def fade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A faded print of float32 RGB in [0, 1] (see the module's docstring)."""
    low, high, gamma = rng.uniform(0.04, 0.22, 3), rng.uniform(0.78, 1.0, 3), rng.uniform(0.8, 1.25, 3)
    toned = low + (high - low) * np.power(rgb, gamma)
    grey = luma(toned)[..., None]
    return np.clip(grey + rng.uniform(0.45, 0.85) * (toned - grey), 0.0, 1.0).astype(np.float32)


def fade_print(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A faded black-and-white print of a float32 grey photo (RGB, channels equal): one veil for all."""
    low, high, gamma = rng.uniform(0.04, 0.22), rng.uniform(0.78, 1.0), rng.uniform(0.8, 1.25)
    return np.clip(low + (high - low) * np.power(grey, gamma), 0.0, 1.0).astype(np.float32)


def evaluate_revive(folder: Path, seed: int = 7) -> dict:
    from restorer.evaluation.colorize import remove_colour
    from restorer.evaluation.datasets import eval_images
    from restorer.evaluation.metrics import psnr
    from restorer.stages.colorize import auto_revive, revive_faded
    from restorer.stages.tone import auto_revive_tone

    rng = np.random.default_rng(seed)
    print_rng = np.random.default_rng(seed + 1000)  # its own draws: the colour fades stay as they were
    rows = []
    for name, image in eval_images(folder):
        photo = image.astype(np.float32) / 255.0
        faded = fade(photo, rng)
        auto_faded, faded_evidence = auto_revive(faded, 1.0)
        auto_healthy, healthy_evidence = auto_revive(photo, 1.0)
        rows.append({"image": name, "faded_psnr": psnr(faded, photo, peak=1.0),
                     "revived_psnr": psnr(revive_faded(faded, 1.0), photo, peak=1.0),
                     "healthy_revived_psnr": psnr(revive_faded(photo, 1.0), photo, peak=1.0),
                     "auto_revived_psnr": psnr(auto_faded, photo, peak=1.0), "faded_evidence": faded_evidence,
                     "healthy_auto_psnr": psnr(auto_healthy, photo, peak=1.0), "healthy_evidence": healthy_evidence})
        grey = remove_colour(photo)
        faded_print = fade_print(grey, print_rng)
        revived_print, print_evidence = auto_revive_tone(faded_print)
        healthy_print, healthy_print_evidence = auto_revive_tone(grey)
        rows[-1].update({"bw_faded_psnr": psnr(faded_print, grey, peak=1.0),
                         "bw_revived_psnr": psnr(revived_print, grey, peak=1.0), "bw_faded_evidence": print_evidence,
                         "bw_healthy_psnr": psnr(healthy_print, grey, peak=1.0),
                         "bw_healthy_evidence": healthy_print_evidence})
    finite = lambda key: [min(r[key], 99.0) for r in rows]  # noqa: E731  (an unchanged photo scores inf)
    summary = {"task": "revive", "data": str(folder), "images": len(rows)}
    for key in ("faded_psnr", "revived_psnr", "healthy_revived_psnr", "auto_revived_psnr"):
        summary[key] = float(np.mean(finite(key)))
    summary["healthy_revived_psnr_worst"] = float(np.min(finite("healthy_revived_psnr")))
    summary["auto_faded_revived_share"] = float(np.mean([r["faded_evidence"] > 0 for r in rows]))
    summary["auto_healthy_unchanged_share"] = float(np.mean([r["healthy_evidence"] == 0 for r in rows]))
    changed = [r["healthy_auto_psnr"] for r in rows if r["healthy_evidence"] > 0]
    # PSNR over the healthy photos auto did change (an unchanged one would score infinity).
    summary["healthy_auto_changed_psnr"] = float(np.mean(changed)) if changed else None
    for key in ("bw_faded_psnr", "bw_revived_psnr"):
        summary[key] = float(np.mean(finite(key)))
    summary["bw_faded_revived_share"] = float(np.mean([r["bw_faded_evidence"] > 0 for r in rows]))
    summary["bw_healthy_unchanged_share"] = float(np.mean([r["bw_healthy_evidence"] == 0 for r in rows]))
    changed = [r["bw_healthy_psnr"] for r in rows if r["bw_healthy_evidence"] > 0]
    summary["bw_healthy_changed_psnr"] = float(np.mean(changed)) if changed else None
    summary["bw_healthy_changed_worst"] = float(np.min(changed)) if changed else None
    summary["per_image"] = rows
    return summary
