"""CIE Lab <-> sRGB for float32 images, via OpenCV (D65, sRGB transfer curve).

Contract: RGB float32 (H, W, 3) in [0, 1] <-> Lab float32 with L in [0, 100]
and a, b roughly in [-110, 110].
"""

from __future__ import annotations

import cv2
import numpy as np


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    return np.clip(cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32), cv2.COLOR_Lab2RGB), 0.0, 1.0)
