"""Shrinking a photo for statistics: what the colour, tone and reference measures look at.

Contract: `shrunk(image, long_side)` takes an image (H, W) or (H, W, C), any float or integer
dtype OpenCV resizes, and returns it averaged down (area interpolation, so grain and chroma noise
average out rather than alias) until its long side is at most `long_side`, keeping its aspect;
an image already that small comes back as it is, not copied.
"""

from __future__ import annotations

import cv2
import numpy as np


def shrunk(image: np.ndarray, long_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    if scale == 1.0:
        return image
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
