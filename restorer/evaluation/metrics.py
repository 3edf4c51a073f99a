"""Image-quality metrics on uint8-range arrays, following the usual papers' protocols.

Inputs are RGB (H, W, 3) arrays; float inputs in [0, 1] are first rounded to
8 bits, as a saved result would be. Y is BT.601 luma on the 16..235 scale.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8_range(rgb: np.ndarray) -> np.ndarray:
    """float64 copy on 0..255, rounded like a saved 8-bit file."""
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float64)
    return np.round(np.clip(rgb.astype(np.float64), 0, 1) * 255.0)


def rgb_to_y(rgb255: np.ndarray) -> np.ndarray:
    """BT.601 luma (16..235) from RGB on 0..255 (what MATLAB's rgb2ycbcr gives)."""
    return 16.0 + (65.481 * rgb255[..., 0] + 128.553 * rgb255[..., 1] + 24.966 * rgb255[..., 2]) / 255.0


def crop_border(image: np.ndarray, border: int) -> np.ndarray:
    return image[border:-border, border:-border] if border > 0 else image


def psnr(a: np.ndarray, b: np.ndarray, *, peak: float = 255.0) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak * peak / mse)


def ssim(a: np.ndarray, b: np.ndarray, *, peak: float = 255.0) -> float:
    """SSIM (Wang et al. 2004) of two single-channel images: 11x11 Gaussian, sigma 1.5, valid region."""
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    a, b = a.astype(np.float64), b.astype(np.float64)
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REPLICATE)[5:-5, 5:-5]  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))


def psnr_y(result: np.ndarray, truth: np.ndarray, *, border: int = 0) -> float:
    return psnr(crop_border(rgb_to_y(to_uint8_range(result)), border), crop_border(rgb_to_y(to_uint8_range(truth)), border))


def ssim_y(result: np.ndarray, truth: np.ndarray, *, border: int = 0) -> float:
    return ssim(crop_border(rgb_to_y(to_uint8_range(result)), border), crop_border(rgb_to_y(to_uint8_range(truth)), border))


def psnr_rgb(result: np.ndarray, truth: np.ndarray, *, border: int = 0) -> float:
    return psnr(crop_border(to_uint8_range(result), border), crop_border(to_uint8_range(truth), border))


def gradient_energy(gray: np.ndarray) -> float:
    """Mean squared Laplacian: a sharpness score (higher is sharper)."""
    return float(np.mean(cv2.Laplacian(gray.astype(np.float64), cv2.CV_64F) ** 2))


def blocking_effect_factor(y: np.ndarray, block: int = 8) -> float:
    """Yim & Bovik's BEF: how much more the image jumps across 8x8 block edges than inside blocks."""
    y = y.astype(np.float64)
    h, w = y.shape
    dh = (y[:, :-1] - y[:, 1:]) ** 2  # horizontal neighbour differences, column j vs j+1
    dv = (y[:-1, :] - y[1:, :]) ** 2
    hb = np.zeros(w - 1, dtype=bool)
    hb[block - 1 :: block] = True
    vb = np.zeros(h - 1, dtype=bool)
    vb[block - 1 :: block] = True
    boundary = dh[:, hb].sum() + dv[vb, :].sum()
    n_boundary = h * hb.sum() + w * vb.sum()
    inner = dh[:, ~hb].sum() + dv[~vb, :].sum()
    n_inner = h * (~hb).sum() + w * (~vb).sum()
    d_b, d_bc = boundary / max(n_boundary, 1), inner / max(n_inner, 1)
    eta = np.log2(block) / np.log2(min(h, w)) if d_b > d_bc else 0.0
    return float(eta * (d_b - d_bc))


def psnr_b_y(result: np.ndarray, truth: np.ndarray) -> float:
    """PSNR-B on Y (Yim & Bovik 2011): PSNR with the result's blockiness added to the error."""
    ry, ty = rgb_to_y(to_uint8_range(result)), rgb_to_y(to_uint8_range(truth))
    mse = float(np.mean((ry - ty) ** 2)) + blocking_effect_factor(ry)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)
