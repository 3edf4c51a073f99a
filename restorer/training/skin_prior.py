"""Measure skin's colour on the training photos: the constants of restorer.stages.skin.

    python -m restorer.training.skin_prior --data ../shared/data/train

Finds faces (YuNet, as the app does) on every colour photo of the folder, shrunk to at
most 768 px, keeps those found with a score of at least 0.8 and 24 px wide, and takes
each face's mean a*b* over its skin (inside the face ellipse, L* between SKIN_LIGHT's
ends). Prints the number of faces, the median hue and the chroma percentiles as JSON;
SKIN_HUE is the median hue and SKIN_CHROMA_CAP the 75th-percentile chroma. On
../shared/data/train: 200 faces, hue 52.8 degrees, chroma 25.8 (median) and 32.6 (75th).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def face_colours(folder: Path, *, side: int = 768, min_score: float = 0.8, min_width: float = 24) -> np.ndarray:
    """(N, 2): the mean a*b* of the skin of each face found on the colour photos under `folder`."""
    from restorer.colorspace import rgb_to_lab
    from restorer.evaluation.datasets import colour_photos
    from restorer.faces.detect import detect_faces
    from restorer.stages.skin import skin_of

    colours = []
    for _, rgb in colour_photos([folder], side):
        lab = rgb_to_lab(rgb)
        for face in detect_faces(rgb):
            if face.score < min_score or face.box[2] < min_width:
                continue
            skin = skin_of(face, lab[..., 0])
            if skin.sum() >= 50:
                colours.append(lab[..., 1:][skin].mean(axis=0))
    return np.array(colours, np.float32).reshape(-1, 2)


def summary(colours: np.ndarray) -> dict:
    hue = np.degrees(np.arctan2(colours[:, 1], colours[:, 0]))
    chroma = np.hypot(colours[:, 0], colours[:, 1])
    return {"faces": int(len(colours)), "hue_median": round(float(np.median(hue)), 1),
            "chroma_median": round(float(np.median(chroma)), 1),
            "chroma_p75": round(float(np.percentile(chroma, 75)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder of colour photos (../shared/data/train)")
    args = parser.parse_args(argv)
    print(json.dumps(summary(face_colours(args.data))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
