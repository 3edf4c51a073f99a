"""Own colour kept: where a photo taken for black and white has real colour, ColorNet does not paint over it.

A toned print's chroma points one way from neutral and grows and shrinks with lightness (the
toning). `restorer.stages.colorize.is_toned_monochrome` cannot tell every such print from a muted
colour photo whose colours happen to lie near one ray: even with its test for opposite hues, it
takes 14 of the 188 colour photos of BSD100, Kodak24, Set14, LIVE1, McMaster and Set5 for toned
prints (a moss garden in raked gravel, a boat on grey-green water, brown animals on sand), and
many colour photos lie closer to one line than many toned prints do. So the colour stage keeps
what is plainly colour. On those 14 photos, PSNR of the colour stage's result against the photo
itself: 25.47 dB with ColorNet's colour everywhere, 25.98 with the photo's own colour kept
(BSD100's 182053 26.00 -> 29.65, 38082 17.94 -> 19.44; no photo lower by more than 0.04 dB).
On the 29 toned prints of old_photos it changes at most 1.2 % of the pixels by more than 8/255:
stains and the mount's edges, which keep their own tint.

Contract: `keep_own_colour(lab, ab)` takes the photo's own CIE Lab (H, W, 3) as the stage received
it and ColorNet's a*b* (H, W, 2) at the same size, float32, and returns a*b* where each pixel's own
colour is blended back in by how far it lies off the photo's toning line (a straight line fitted to
a*b* against L*): not at all up to OWN_COLOUR_FROM a*b* units, fully from OWN_COLOUR_FULL. A grey
photo, or a toned print, lies on its line and gets ColorNet's colour everywhere.
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.resample import shrunk

OWN_COLOUR_FROM = 8.0  # a*b* units off the toning line below which a pixel's own colour is toning, not colour
OWN_COLOUR_FULL = 16.0
_FIT_SIDE = 256  # the line is fitted on the photo shrunk to this (long side)


def toning_line(lab: np.ndarray) -> np.ndarray:
    """(2, 2): a*b* = c0 + c1 * L*/100, least squares over the photo shrunk to _FIT_SIDE px."""
    pixels = shrunk(lab, _FIT_SIDE).reshape(-1, 3).astype(np.float64)
    design = np.stack([np.ones(len(pixels)), pixels[:, 0] / 100.0], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, pixels[:, 1:], rcond=None)
    return coefficients


def own_colour_weight(lab: np.ndarray) -> np.ndarray:
    """float32 (H, W) in [0, 1]: how much of each pixel's own colour is kept (see the module's contract)."""
    line = toning_line(lab).astype(np.float32)
    light = lab[..., 0:1] / np.float32(100.0)
    off = lab[..., 1:] - (line[0] + light * line[1])
    # Chroma noise and JPEG's chroma blocks are off the line pixel by pixel; an object's colour is off it
    # over an area: measured on the photo blurred to about _FIT_SIDE px.
    sigma = max(1.0, max(lab.shape[:2]) / _FIT_SIDE)
    off = cv2.GaussianBlur(off, (0, 0), sigma)
    distance = np.hypot(off[..., 0], off[..., 1])
    return np.clip((distance - OWN_COLOUR_FROM) / (OWN_COLOUR_FULL - OWN_COLOUR_FROM), 0.0, 1.0)


def keep_own_colour(lab: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """ColorNet's a*b* with the photo's own colour blended back where it is off the toning line."""
    weight = own_colour_weight(lab)
    if not weight.any():
        return ab
    return (ab + weight[..., None] * (lab[..., 1:] - ab)).astype(np.float32)


def own_colour_share(rgb: np.ndarray) -> float:
    """The share of float32 RGB (H, W, 3) whose own colour the colour stage keeps, measured at up to
    _FIT_SIDE x 2 px: for the stage's note, which tells the user the photo may be a colour photo."""
    from restorer.colorspace import rgb_to_lab

    small = np.ascontiguousarray(shrunk(rgb, 2 * _FIT_SIDE), dtype=np.float32)
    return float(own_colour_weight(rgb_to_lab(small)).mean())
