"""Skin: faces coloured with the hue skin has, not the network's yellow.

ColorNet colours a face from its lightness alone, and where it is unsure its
colour leans yellow: on 76 faces of colour photos made grey (Kodak24, LIVE1,
BSD100, McMaster and the colour photos in old_photos) the face's mean hue came
out at 60-88 degrees where the truth was 43-60, and on old prints a face reads
jaundiced. Skin hue varies little between people (what varies is lightness and
chroma), so the colour stage pulls the hue of each pixel of a face most of the
way (SKIN_PULL) to SKIN_HUE and caps its chroma at SKIN_CHROMA_CAP, with a weight
that is 1 on the face's skin and carried from there, edge-aware as a hint's
correction is, over the skin around it of even lightness (the neck, an ear), so
no seam shows where the face ends, but never beyond the face's ellipse grown by
SKIN_BOUND: a face's side that meets a sky of its own lightness with a soft edge
otherwise let the pull run on and tint the sky pink. A pixel is pulled towards
skin's hue, never past it: shifting every pixel by the face's mean error
instead turned the reddish ones (a shadowed temple, the hairline) magenta.

Both constants are the median hue and the 75th-percentile chroma of the mean
a*b* over 200 faces found in ../shared/data/train (restorer.training.skin_prior
reproduces them). Faces come from the bundled YuNet detector
(restorer.faces.detect); a user's hint still wins, as hints are spread after.

Image contract: `correct_skin(ab, light, faces, saturation)` takes a*b* (H, W, 2)
and L* (H, W) in 0..100 at ColorNet's working resolution, faces found on that
photo scaled to it, and the user's saturation (which moves the chroma cap); it
returns corrected a*b* (H, W, 2) float32, or `ab` itself when no face is large
enough to correct.
"""

from __future__ import annotations

import math

import numpy as np

SKIN_HUE = 52.8  # degrees in the a*b* plane
SKIN_CHROMA_CAP = 32.6
SKIN_LIGHT = (25.0, 90.0)  # L* of skin: darker is hair, brows and shadow; lighter is a highlight
SKIN_REACH = 0.6  # how far the correction runs past the face over even skin, in face widths: to the neck and
# ears, not on to a cap or a collar of the same lightness
SKIN_BOUND = 1.15  # nor beyond the face's ellipse grown this much: the neck, not the sky beside the head
SKIN_PULL = 0.8  # how far each pixel's hue goes towards skin's where the face is (1: all the way)
_MAX_POINTS = 48  # per face: where the correction is held, spread over the face's skin


def skin_of(face, light: np.ndarray) -> np.ndarray:
    """Boolean (H, W): the face's skin in an image whose L* (0..100) is `light`: inside the face's
    ellipse (restorer.faces.blend.face_ellipse) and of skin's lightness (SKIN_LIGHT)."""
    from restorer.faces.blend import face_mask

    inside = face_mask(light.shape[0], light.shape[1], face, 1.0) > 0.5
    return inside & (light > SKIN_LIGHT[0]) & (light < SKIN_LIGHT[1])


def correct_skin(ab: np.ndarray, light: np.ndarray, faces: list, saturation: float = 1.0) -> np.ndarray:
    """a*b* with each face's skin turned to skin's hue (see the module's docstring)."""
    from restorer.faces.blend import face_ellipse, face_mask
    from restorer.stages.colorize import HINT_EDGE
    from restorer.stages.hint_spread import spread_corrections

    height, width = light.shape
    weight = np.zeros((height, width), np.float32)
    for face in faces:
        rows, cols = np.nonzero(skin_of(face, light))
        if len(rows) < 8:  # too small at this resolution to say what colour it is
            continue
        pick = np.linspace(0, len(rows) - 1, min(_MAX_POINTS, len(rows))).astype(int)
        points = [(int(cols[i]), int(rows[i])) for i in pick]
        reach = SKIN_REACH * face.box[2] / min(height, width)
        spread = spread_corrections(light, points, np.ones((len(points), 1)), reach=reach, edge_sigma=HINT_EDGE)[..., 0]
        # Bounded by the face's ellipse grown SKIN_BOUND times about its centre: where a face's side meets
        # a sky or wall of its lightness with a soft edge, the spreading alone ran on into it.
        cx, cy = face_ellipse(face)[:2]
        around = face_mask(height, width, face.scaled(SKIN_BOUND, cx * (1 - SKIN_BOUND), cy * (1 - SKIN_BOUND)), 1.0)
        weight = np.maximum(weight, np.minimum(np.clip(spread, 0.0, 1.0), around))
    if not weight.any():
        return ab
    # Each pixel's hue is pulled towards skin's by the weight (never past it, so a pixel the network made
    # red stays between red and skin, where shifting every pixel by the face's mean error turned it magenta),
    # and its chroma is capped; lips and shadows keep some of their own hue.
    hue = np.arctan2(ab[..., 1], ab[..., 0])
    chroma = np.hypot(ab[..., 0], ab[..., 1])
    turn = (math.radians(SKIN_HUE) - hue + math.pi) % (2 * math.pi) - math.pi
    hue = hue + weight * SKIN_PULL * turn
    chroma = chroma + weight * (np.minimum(chroma, SKIN_CHROMA_CAP * saturation) - chroma)
    return np.stack([chroma * np.cos(hue), chroma * np.sin(hue)], axis=-1).astype(np.float32)
