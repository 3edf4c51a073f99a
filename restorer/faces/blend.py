"""Keep faces the same person: enlarge each face more faithfully and blend it into the result.

The sharp end of the enlargement invents texture: on skin it reads as wax,
and on a small face it can change who the person looks like. So after the
whole photo is enlarged at the user's Look (alpha), each face found in the
photo is enlarged again at a faithful alpha and blended back through a soft
mask shaped by the face's landmarks: an ellipse through forehead, cheeks and
chin, turned with the line of the eyes, feathered so no edge shows. Hair and
background keep the look the user chose.

Contract: `face_mask(height, width, face, scale)` is float32 (H, W) in [0, 1]
over the enlarged result; `blend_faces` works on the result array in place
(float32 in [0, 1] or uint16) and returns how many faces it blended.
"""

from __future__ import annotations

import math

import numpy as np

from restorer.faces.detect import Face

# A face region is enlarged with this much of its box around it (context for the network and the feather).
REGION_MARGIN = 0.6
FEATHER = 0.18  # of the face's size: the width of the soft edge


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
               scale: int) -> None:
    """Blend `faithful` (the enlarged region, float32 [0, 1]) into `result` (float32 or uint16) over the face."""
    x0, y0, x1, y1 = region
    oy, ox = y0 * scale, x0 * scale
    h, w = faithful.shape[:2]
    shifted = Face((face.box[0] - x0, face.box[1] - y0, face.box[2], face.box[3]), face.score,
                   tuple((px - x0, py - y0) for px, py in face.landmarks))
    mask = face_mask(h, w, shifted, scale)[..., None]
    target = result[oy : oy + h, ox : ox + w]
    if result.dtype == np.uint16:
        current = target.astype(np.float32) / 65535.0
        mixed = current + (faithful - current) * mask
        target[...] = (np.clip(mixed, 0, 1) * 65535.0 + 0.5).astype(np.uint16)
    else:
        target += (faithful - target) * mask
