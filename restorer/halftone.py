"""Printed halftone screens, simulated: how a photo reproduced in a book, magazine or newspaper scans.

A halftone print renders grey as dots of ink on a regular lattice: the screen. Its period
(screen ruling over scan resolution: a 150 lpi book scanned at 600 dpi gives 4 px, an 85 lpi
newspaper at 600 dpi 7 px) and angle (45° for black ink) are what Descreen must find and
remove. Used by `restorer eval descreen` and by the tests; the app never adds a screen.

Image contract: `halftone` takes grey float32 (H, W) in [0, 1] (1 is paper white) and returns
the scan of its print, same shape and range.
"""

from __future__ import annotations

import cv2
import numpy as np


def _spot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """A round-dot spot function in [-1, 1] over lattice coordinates (one cell per unit)."""
    return 0.5 * (np.cos(2 * np.pi * u) + np.cos(2 * np.pi * v))


def _spot_rank() -> tuple[np.ndarray, np.ndarray]:
    """(sorted spot values, their rank in 0..1): maps the spot function to a uniform threshold, so that a
    grey of g covers exactly 1 - g of each cell with ink (the print's tone curve stays linear)."""
    grid = (np.arange(256) + 0.5) / 256
    values = np.sort(_spot(*np.meshgrid(grid, grid)).ravel())
    return values, np.linspace(0.0, 1.0, values.size)


def halftone(gray: np.ndarray, period: float, angle: float, *, supersample: int = 4, scanner_blur: float = 0.5,
             noise: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """The scan of `gray` printed with a round-dot screen of `period` scan pixels at `angle` degrees.

    The print is rendered `supersample` times finer than the scan and averaged down (a scanner
    integrates over its pixel), then blurred by the scanner's optics (`scanner_blur`, Gaussian sigma
    in scan pixels) and given Gaussian `noise` (sigma on the 0..1 scale).
    """
    h, w = gray.shape
    fine = cv2.resize(gray.astype(np.float32), (w * supersample, h * supersample), interpolation=cv2.INTER_LINEAR)
    y, x = np.mgrid[0 : h * supersample, 0 : w * supersample].astype(np.float32)
    y, x = (y + 0.5) / supersample, (x + 0.5) / supersample
    theta = np.radians(angle)
    u = (x * np.cos(theta) + y * np.sin(theta)) / period
    v = (-x * np.sin(theta) + y * np.cos(theta)) / period
    values, ranks = _spot_rank()
    threshold = np.interp(_spot(u, v), values, ranks).astype(np.float32)
    # Ink where the wanted darkness exceeds the threshold: the dot grows from the cell's centre.
    paper = (1.0 - fine <= threshold).astype(np.float32)
    scan = cv2.resize(paper, (w, h), interpolation=cv2.INTER_AREA)
    if scanner_blur > 0:
        scan = cv2.GaussianBlur(scan, (0, 0), scanner_blur)
    if noise > 0:
        rng = rng or np.random.default_rng(0)
        scan = scan + rng.normal(0.0, noise, scan.shape).astype(np.float32)
    return np.clip(scan, 0.0, 1.0)
