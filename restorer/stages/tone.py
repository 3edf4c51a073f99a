"""Tone: give a faded black-and-white print its blacks back.

A silver print fades by losing its shadows: the blacks turn to a grey or brown veil
and the whole scene sits in a narrow band of lightness. Colour prints have their own
revival (restorer.stages.colorize.revive_faded); this is its counterpart for
black-and-white and toned prints, applied before ColorNet (which then sees the
lightness range it was trained on) or on its own when the colour stage only revives.

Only CIE L* changes, by one increasing straight line, so grain and detail keep their
shape and a toned print keeps its tone (a* and b* stay). The line brings the black
point down to BLACK_TARGET and the white point up to WHITE_TARGET where the print
falls short of them, never further, with the gain capped at MAX_GAIN. When the cap
binds, the white end stays put and the black point comes down only as far as the cap
allows: whites are never dimmed to deepen blacks.
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.colorspace import lab_to_rgb, rgb_to_lab
from restorer.resample import shrunk

# Measured with `restorer eval revive` on the grey versions of Kodak24, BSD100, McMaster and LIVE1
# (171 photos), each also faded in simulation (shared black point raised 0.04-0.22, white point
# lowered to 0.78-1, gamma 0.8-1.25). Healthy greys put their black point (0.5th percentile of L*)
# at L* 7 in the median photo and above 20 in one in twenty (haze, snow, sand, a sunlit sky): such
# photos look faded to any measure of the histogram alone. Evidence therefore starts at L* 12 (three
# quarters of healthy greys are left exactly as they are) and is full from L* 24 (a veil seen on a
# quarter of the black-and-white prints in old_photos, up to L* 51). The figures are in README's
# "Faded black-and-white prints".
TONE_VEIL = (12.0, 24.0)
BLACK_TARGET = 8.0  # where a healthy photo's black point lies (L*; the median over the eval sets is 7)
WHITE_TARGET = 95.0  # where its white point lies (the median is 95)
MAX_GAIN = 1.6  # at most this much more contrast: a misty scene misread as faded stays plausible


def tone_points(rgb: np.ndarray) -> tuple[float, float]:
    """(black, white): the 0.5th and 99.5th percentiles of L* of float32 RGB in [0, 1].

    Measured after averaging a large scan down to 1024 px and a 3x3 median, so grain and
    dust specks do not pass for a true black or white: those are areas, not pixels.
    """
    small = shrunk(np.ascontiguousarray(rgb[..., :3], dtype=np.float32), 1024)
    light = cv2.medianBlur(np.ascontiguousarray(rgb_to_lab(small)[..., 0]), 3)
    black, white = np.percentile(light, (0.5, 99.5))
    return float(black), float(white)


def tone_evidence(black: float) -> float:
    """0 (the print has blacks) .. 1 (its shadows are veiled) from its black point in L*."""
    return float(np.clip((black - TONE_VEIL[0]) / (TONE_VEIL[1] - TONE_VEIL[0]), 0.0, 1.0))


def tone_line(black: float, white: float) -> tuple[float, float]:
    """(gain, offset) of the line L* -> gain * L* + offset that revives a print with these points."""
    target_white = max(white, WHITE_TARGET)
    target_black = min(black, BLACK_TARGET)
    span = max(white - black, 1e-3)
    gain = (target_white - target_black) / span
    if gain > MAX_GAIN:  # keep the white end where it goes; the blacks come down as far as the cap allows
        gain = MAX_GAIN
    gain = max(gain, 1.0)
    return gain, target_white - gain * white


def auto_revive_tone(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """(float32 RGB with its lightness revived, the evidence it was applied with).

    The photo itself (not a copy) comes back when its blacks are already there.
    """
    black, white = tone_points(rgb)
    evidence = tone_evidence(black)
    if evidence <= 0.0:
        return rgb, 0.0
    gain, offset = tone_line(black, white)
    lab = rgb_to_lab(np.ascontiguousarray(rgb[..., :3], dtype=np.float32))
    light = lab[..., 0]
    revived = np.clip(light * np.float32(gain) + np.float32(offset), 0.0, 100.0)
    lab[..., 0] = light + (revived - light) * np.float32(evidence)
    return np.clip(lab_to_rgb(lab), 0.0, 1.0).astype(np.float32), evidence
