"""Keep faces the same person: enlarge each face more faithfully and blend it into the result.

The sharp end of the enlargement invents texture: on skin it reads as wax,
and on a small face it can change who the person looks like. So after the
whole photo is enlarged at the user's Look (alpha), each face found in the
photo is enlarged again at a faithful alpha and blended back through a soft
mask shaped by the face's landmarks: an ellipse through forehead, cheeks and
chin, turned with the line of the eyes, feathered so no edge shows. Hair and
background keep the look the user chose.

The faithful pass is not always the more faithful one. The faithful network
(alpha 0) was trained on mildly degraded photos; on a print whose texture it
mistakes for detail — 1895BikeMaidens' halftone screen of about 2.9 px, too
faint for Descreen (peaks of 7-8 dB against the 20 it needs) — it etches that
texture into hard lines and crosshatch, where the sharp network, trained on
heavier degradation, smooths it. So a face's faithful pass is blended in only
as far as it really is closer to the photo than the Look: shrunk back to the
photo's size, it must differ from the photo less than the Look does
(`faithful_share`).

Contract: `face_mask(height, width, face, scale)` is float32 (H, W) in [0, 1]
over the enlarged result; `blend_into` works on the result array in place
(float32 in [0, 1] or uint16) and returns the share of the faithful pass it used.
"""

from __future__ import annotations

import math

import numpy as np

from restorer.faces.detect import Face

# A face region is enlarged with this much of its box around it (context for the network and the feather).
REGION_MARGIN = 0.6
FEATHER = 0.18  # of the face's size: the width of the soft edge
# How much further from the photo than the Look a face's faithful pass may stray, shrunk back, before it is
# left out (`faithful_share`): blended fully up to 1x, not at all from STRAYS. At the default recipe it
# strayed 0.73-0.97x as far on einstein_beach's, GFPGAN 00.jpg's and 40sCouple's faces and BikeMaidens' third
# (1.02 on one of 40sCouple's), 1.06 and 1.17x on the two BikeMaidens faces it etched (README, Faces).
STRAYS = 1.1


def face_ellipse(face: Face) -> tuple[float, float, float, float, float]:
    """(cx, cy, semi-axis across, semi-axis along, angle in radians) in the photo's pixels.

    From the landmarks when there are five (eyes, nose, mouth corners), else from the box.
    """
    x, y, w, h = face.box
    if len(face.landmarks) == 5:
        (rex, rey), (lex, ley), (nx, ny), (rmx, rmy), (lmx, lmy) = face.landmarks
        eye_mid = np.array([(rex + lex) / 2, (rey + ley) / 2])
        mouth_mid = np.array([(rmx + lmx) / 2, (rmy + lmy) / 2])
        eye_distance = math.hypot(lex - rex, ley - rey)
        down = mouth_mid - eye_mid
        length = float(np.hypot(*down)) or h / 3
        angle = math.atan2(ley - rey, lex - rex)
        # With L the eyes-to-mouth length, the hairline is about 1 L above the eyes and the chin about
        # 1.8 L below them: the face's centre is 0.4 L below the eyes and its half-height 1.4 L; its
        # half-width is about the distance between the eyes.
        centre = eye_mid + down * 0.4
        across = max(eye_distance * 1.05, w * 0.4)
        along = max(length * 1.45, h * 0.45)
        return float(centre[0]), float(centre[1]), across, along, angle
    return x + w / 2, y + h / 2, w * 0.55, h * 0.6, 0.0


def face_mask(height: int, width: int, face: Face, scale: float) -> np.ndarray:
    """Soft elliptical mask of `face` (found at 1x) over an image enlarged by `scale`."""
    import cv2

    cx, cy, across, along, angle = face_ellipse(face)
    cx, cy, across, along = cx * scale, cy * scale, across * scale, along * scale
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(mask, (int(round(cx)), int(round(cy))), (max(1, int(round(across))), max(1, int(round(along)))),
                math.degrees(angle), 0, 360, 1.0, -1, cv2.LINE_AA)
    sigma = max(1.0, FEATHER * min(across, along))
    return cv2.GaussianBlur(mask, (0, 0), sigma)


def face_region(face: Face, width: int, height: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the input to enlarge for `face`: its box with a margin, inside the photo."""
    x, y, w, h = face.box
    mx, my = w * REGION_MARGIN, h * REGION_MARGIN
    return (max(0, int(x - mx)), max(0, int(y - my)), min(width, int(math.ceil(x + w + mx))),
            min(height, int(math.ceil(y + h + my))))


def blend_into(result: np.ndarray, faithful: np.ndarray, region: tuple[int, int, int, int], face: Face,
               scale: int, source: np.ndarray | None = None) -> float:
    """Blend `faithful` (the enlarged region, float32 [0, 1]) into `result` (float32 or uint16) over the face.

    With `source`, the region of the photo before enlarging (float32 [0, 1]), only as far as
    `faithful_share` allows; returns the share used (0: the face keeps the Look)."""
    x0, y0, x1, y1 = region
    oy, ox = y0 * scale, x0 * scale
    h, w = faithful.shape[:2]
    shifted = Face((face.box[0] - x0, face.box[1] - y0, face.box[2], face.box[3]), face.score,
                   tuple((px - x0, py - y0) for px, py in face.landmarks))
    mask = face_mask(h, w, shifted, scale)
    target = result[oy : oy + h, ox : ox + w]
    current = target.astype(np.float32) / 65535.0 if result.dtype == np.uint16 else target
    share = 1.0 if source is None else faithful_share(faithful, current, source, face_mask(
        source.shape[0], source.shape[1], shifted, 1))
    mask = (mask * share)[..., None]
    if result.dtype == np.uint16:
        mixed = current + (faithful - current) * mask
        target[...] = (np.clip(mixed, 0, 1) * 65535.0 + 0.5).astype(np.uint16)
    else:
        target += (faithful - target) * mask
    return share


def departure(enlarged: np.ndarray, source: np.ndarray, weight: np.ndarray) -> float:
    """Mean absolute difference between `enlarged` shrunk back to `source`'s size and `source` (both float32
    RGB [0, 1]), weighted by `weight` (source's H, W): how far an enlargement strays from the photo."""
    import cv2

    total = float(weight.sum())
    if total <= 0:
        return 0.0
    small = cv2.resize(enlarged, (source.shape[1], source.shape[0]), interpolation=cv2.INTER_AREA)
    return float((np.abs(small - source).mean(axis=2) * weight).sum() / total)


def faithful_share(faithful: np.ndarray, look: np.ndarray, source: np.ndarray, mask: np.ndarray) -> float:
    """How much of a face's faithful pass to blend in, 0..1: all of it while, shrunk back, it strays from the
    photo `source` no further than the Look does inside the face (`mask`, at the photo's scale), none from
    STRAYS times as far, a ramp between."""
    own, other = departure(faithful, source, mask), departure(look, source, mask)
    if other <= 1e-6:
        return 1.0 if own <= 1e-6 else 0.0
    return float(np.clip((STRAYS - own / other) / (STRAYS - 1.0), 0.0, 1.0))
