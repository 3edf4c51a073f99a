"""Synthetic degradations that turn clean patches into training inputs.

All functions take and return uint8 RGB (H, W, 3) arrays unless stated, so
that JPEG round trips are exactly what a camera or the web would produce.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image


def bicubic_downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Downscale with Pillow's antialiased bicubic filter (the eval protocol's filter)."""
    h, w = image.shape[:2]
    return np.asarray(Image.fromarray(image).resize((w // factor, h // factor), Image.BICUBIC))


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Isotropic Gaussian blur; a stand-in for lens and print softness."""
    if sigma <= 0:
        return image
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)


def add_gaussian_noise(image: np.ndarray, sigma: float, rng: np.random.Generator, *, gray: bool = False) -> np.ndarray:
    """Add N(0, sigma) noise (sigma on the 0-255 scale); `gray` shares it across channels like film grain."""
    shape = image.shape[:2] + ((1,) if gray else (3,))
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, shape).astype(np.float32)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def add_poisson_noise(image: np.ndarray, peak: float, rng: np.random.Generator) -> np.ndarray:
    """Shot noise: photon counts with `peak` photons at white."""
    scaled = image.astype(np.float32) / 255.0 * peak
    noisy = rng.poisson(scaled).astype(np.float32) / peak * 255.0
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def jpeg_roundtrip(image: np.ndarray, quality: int, *, subsampling: int = 2) -> np.ndarray:
    """Encode and decode with Pillow; subsampling 2 is 4:2:0 as cameras and the web use."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality), subsampling=subsampling)
    buffer.seek(0)
    with Image.open(buffer) as im:
        return np.asarray(im.convert("RGB"))


def mild_scan_degradation(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The light damage a faithful SR model should learn to ignore, not sharpen.

    Applied to the low-resolution input: slight blur, slight noise, then a
    good-quality JPEG, each with its own probability.
    """
    out = image
    if rng.random() < 0.5:
        out = gaussian_blur(out, float(rng.uniform(0.2, 0.8)))
    if rng.random() < 0.5:
        out = add_gaussian_noise(out, float(rng.uniform(1.0, 5.0)), rng, gray=rng.random() < 0.4)
    if rng.random() < 0.5:
        out = jpeg_roundtrip(out, int(rng.integers(70, 96)))
    return out
