"""CIE Lab <-> sRGB for float32 images, via OpenCV (D65, sRGB transfer curve), and luma.

Contract: RGB float32 (H, W, 3) in [0, 1] <-> Lab float32 with L in [0, 100]
and a, b roughly in [-110, 110]; `luma` gives float32 (H, W) in [0, 1].
"""

from __future__ import annotations

import cv2
import numpy as np


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2Lab)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    return np.clip(cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32), cv2.COLOR_Lab2RGB), 0.0, 1.0)


LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Rec. 601


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of RGB (H, W, 3): the grey a black-and-white print would show."""
    return (rgb @ LUMA_WEIGHTS).astype(np.float32)


def is_neutral(rgb: np.ndarray) -> bool:
    """True when every pixel of float (H, W, 3) `rgb` has three equal channels: a grey photo."""
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def neutral(rgb: np.ndarray) -> np.ndarray:
    """Float (H, W, 3) with each pixel's three channels replaced by their mean: grey, same shape."""
    mean = rgb.mean(axis=2, dtype=np.float32)
    return np.ascontiguousarray(np.repeat(mean[..., None], 3, axis=2))
