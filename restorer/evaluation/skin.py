"""`restorer eval skin`: the colour of faces, on colour photos made grey, with the skin step on and off.

Every colour photo under the folders given (shrunk to at most 1,024 px) that YuNet finds a face of
20 px or more on is made grey (CIE L* kept) and coloured by the colour stage's ColorNet path twice,
with restorer.stages.skin on and off. On each face's skin (inside its ellipse, L* 25-90) it scores:
- the mean a*b* distance to the truth, per pixel (lower is better);
- the hue hit rate: of the pixels whose true chroma exceeds 10, the share coloured (C* > 10) with a
  hue within 30 degrees of the truth;
and, per photo, the PSNR (RGB) of the whole result, so what the step does beyond the faces counts too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SKIN_SATURATED = 10.0  # C*ab above which a face pixel's true colour has a hue to score (skin is rarely above 20)


def _hue_hits(result_ab: np.ndarray, truth_ab: np.ndarray) -> tuple[int, int]:
    """(hits, saturated): pixels with true C* > 10, and those among them coloured with the right hue
    (restorer.evaluation.colorize.SaturatedTally's rule, at skin's lower chroma)."""
    from restorer.evaluation.colorize import SaturatedTally

    tally = SaturatedTally().add_ab(result_ab, truth_ab, saturated=SKIN_SATURATED)
    return tally.hits, tally.pixels


def evaluate_skin(folders: list[Path], side: int = 1024) -> dict:
    from restorer.colorspace import rgb_to_lab
    from restorer.evaluation.colorize import SaturatedTally, remove_colour
    from restorer.evaluation.datasets import colour_photos
    from restorer.evaluation.metrics import psnr
    from restorer.faces.detect import detect_faces
    from restorer.formats import READABLE_SUFFIXES
    from restorer.stages import StageContext
    from restorer.stages.colorize import colorize_model
    from restorer.stages.skin import skin_of

    context = StageContext()
    errors: dict[bool, list[float]] = {False: [], True: []}
    tallies = {False: SaturatedTally(), True: SaturatedTally()}
    photo_psnr: dict[bool, list[float]] = {False: [], True: []}
    photos = []
    for path, truth in colour_photos(folders, side, tuple(READABLE_SUFFIXES)):
        faces = [face for face in detect_faces(truth) if face.box[2] >= 20]
        truth_lab = rgb_to_lab(truth)
        skins = [skin for skin in (skin_of(face, truth_lab[..., 0]) for face in faces) if skin.sum() >= 50]
        if not skins:
            continue
        photos.append(path.name)
        grey = remove_colour(truth)
        for on in (False, True):
            result = colorize_model(grey, (), 1.0, context, skin=on)
            photo_psnr[on].append(psnr(result, truth, peak=1.0))
            result_lab = rgb_to_lab(result)
            for skin in skins:
                made, real = result_lab[..., 1:][skin], truth_lab[..., 1:][skin]
                errors[on].append(float(np.linalg.norm(made - real, axis=1).mean()))
                tallies[on].add_ab(made, real, saturated=SKIN_SATURATED)
    if not photos:
        return {"task": "skin", "photos": 0, "faces": 0}
    summary: dict = {"task": "skin", "data": [str(f) for f in folders], "photos": len(photos), "faces": len(errors[True])}
    for on, label in ((False, "off"), (True, "on")):
        summary[f"ab_error_{label}"] = float(np.mean(errors[on]))
        summary[f"hue_hit_rate_{label}"] = tallies[on].hue_hit_rate or 0.0
        summary[f"psnr_{label}"] = float(np.mean(photo_psnr[on]))
    summary["faces_closer_with_skin"] = int(sum(a < b for a, b in zip(errors[True], errors[False])))
    return summary
