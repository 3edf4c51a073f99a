"""Where a face's identity lives: the eyes and the mouth, as small ellipses placed by the landmarks.

Image contract: `feature_patches(faces, height, width)` returns, for each face with
five landmarks (restorer.faces.detect: right eye, left eye, nose, right and left
mouth corner), bool patches `(x0, y0, mask)` in the photo's pixel coordinates,
clipped to the photo. Faces without landmarks give nothing.

The scratch detector asks for much more certainty there (restorer.stages.scratches):
a catchlight in an iris is exactly what a dust speck looks like, and the line
between the lips what a thin dark crack does; filling either changes the person.
"""

from __future__ import annotations

import numpy as np

from restorer.faces.detect import Face

# Sizes relative to the distance between the eyes, which the landmarks give reliably at any pose.
EYE_RADIUS = 0.32  # covers the iris, lids and lashes
MOUTH_MARGIN = 0.15  # beyond the corners a little: the lips' ends (also when the head is tilted)
MOUTH_HALF_HEIGHT = 0.35


def _ellipse_patch(cx: float, cy: float, rx: float, ry: float, height: int, width: int):
    x0, x1 = max(0, int(np.floor(cx - rx))), min(width, int(np.ceil(cx + rx)) + 1)
    y0, y1 = max(0, int(np.floor(cy - ry))), min(height, int(np.ceil(cy + ry)) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    ys, xs = np.mgrid[y0:y1, x0:x1]
    inside = ((xs - cx) / max(rx, 0.5)) ** 2 + ((ys - cy) / max(ry, 0.5)) ** 2 <= 1.0
    return x0, y0, inside


def feature_patches(faces: list[Face], height: int, width: int) -> list[tuple[int, int, np.ndarray]]:
    """(x0, y0, bool mask) for the eyes and the mouth of every face that has five landmarks."""
    patches = []
    for face in faces:
        if len(face.landmarks) != 5:
            continue
        (rex, rey), (lex, ley), _, (rmx, rmy), (lmx, lmy) = face.landmarks
        eyes = float(np.hypot(lex - rex, ley - rey))
        if eyes < 2.0:
            continue
        mouth = (rmx + lmx) / 2, (rmy + lmy) / 2
        half_mouth = max(float(np.hypot(lmx - rmx, lmy - rmy)) / 2, 0.3 * eyes)
        for cx, cy, rx, ry in ((rex, rey, EYE_RADIUS * eyes, EYE_RADIUS * eyes),
                               (lex, ley, EYE_RADIUS * eyes, EYE_RADIUS * eyes),
                               (*mouth, half_mouth + MOUTH_MARGIN * eyes, MOUTH_HALF_HEIGHT * eyes)):
            patch = _ellipse_patch(cx, cy, rx, ry, height, width)
            if patch is not None:
                patches.append(patch)
    return patches
