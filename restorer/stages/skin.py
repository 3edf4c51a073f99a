"""Skin: faces coloured with the hue skin has, not the network's yellow.

ColorNet colours a face from its lightness alone, and where it is unsure its
colour leans yellow: on 76 faces of colour photos made grey (Kodak24, LIVE1,
BSD100, McMaster and the colour photos in old_photos) the face's mean hue came
out at 60-88 degrees where the truth was 43-60, and on old prints a face reads
jaundiced. Skin hue varies little between people (what varies is lightness and
chroma), so the colour stage turns each face's mean colour to SKIN_HUE, keeping
the network's chroma up to SKIN_CHROMA_CAP, and carries that correction over
the face and the skin around it of even lightness (the neck, an ear) with the
hints' edge-aware spreading, so no seam shows where the face ends.

Both constants are the median hue and the 75th-percentile chroma of the mean
a*b* over 200 faces found in ../shared/data/train (restorer.training.skin_prior
reproduces them). Faces come from the bundled YuNet detector
(restorer.faces.detect); a user's hint still wins, as hints are spread after.

Image contract: `correct_skin(ab, light, faces)` takes a*b* (H, W, 2) and L*
(H, W) in 0..100 at ColorNet's working resolution, and faces found on that
photo scaled to it; it returns corrected a*b* (H, W, 2) float32, or `ab` itself when
no face is large enough to correct.
"""

from __future__ import annotations

import math

import numpy as np

SKIN_HUE = 52.8  # degrees in the a*b* plane
SKIN_CHROMA_CAP = 32.6
SKIN_LIGHT = (25.0, 90.0)  # L* of skin: darker is hair, brows and shadow; lighter is a highlight
SKIN_REACH = 0.6  # how far the correction runs past the face over even skin, in face widths: to the neck and
# ears, not on to a cap or a collar of the same lightness
_MAX_POINTS = 48  # per face: where the correction is held, spread over the face's skin


def skin_target(mean_ab: np.ndarray) -> np.ndarray:
    """The a*b* a face with this mean colour is turned to: skin's hue, the same chroma (capped)."""
    chroma = min(float(np.hypot(*mean_ab)), SKIN_CHROMA_CAP)
    hue = math.radians(SKIN_HUE)
    return np.array([chroma * math.cos(hue), chroma * math.sin(hue)], np.float32)


def correct_skin(ab: np.ndarray, light: np.ndarray, faces: list) -> np.ndarray:
    """a*b* with each face's skin turned to skin's hue (see the module's docstring)."""
    from restorer.faces.blend import face_mask
    from restorer.stages.colorize import HINT_EDGE
    from restorer.stages.hint_spread import spread_corrections

    height, width = light.shape
    corrected = ab
    for face in faces:
        inside = face_mask(height, width, face, 1.0) > 0.5
        skin = inside & (light > SKIN_LIGHT[0]) & (light < SKIN_LIGHT[1])
        rows, cols = np.nonzero(skin)
        if len(rows) < 8:  # too small at this resolution to say what colour it is
            continue
        mean = ab[rows, cols].mean(axis=0)
        pick = np.linspace(0, len(rows) - 1, min(_MAX_POINTS, len(rows))).astype(int)
        points = [(int(cols[i]), int(rows[i])) for i in pick]
        values = np.repeat((skin_target(mean) - mean)[None], len(points), axis=0)
        reach = SKIN_REACH * face.box[2] / min(height, width)
        corrected = corrected + spread_corrections(light, points, values, reach=reach, edge_sigma=HINT_EDGE)
    return corrected if corrected is ab else corrected.astype(np.float32)
