"""Grain for filled holes: noise that measures like the photo's own.

A filled hole is smooth: InpaintNet predicts the mean of what could be there, and a thick hole is
filled at a reduced scale and enlarged. On an old print, whose every other pixel carries grain, that
smooth patch reads as a smudge. So the fill gets grain back: noise synthesised to match what
`restorer.stages.estimate` measures on the photo, fine (white, pixel to pixel) and coarse (correlated
over a few pixels, what enlarged film and old prints show). A clean photo measures about zero and
gets about nothing. Nothing is copied or invented: the noise has the statistics of the photo's
grain, not its content.

Image contract: float32 RGB (H, W, 3) in [0, 1] in, a float32 (H, W) noise field on the same scale
out, to be added to every channel (grain in a print is in its lightness; coloured noise in a fill
would look like a fault).
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.stages.estimate import estimate_coarse_grain, estimate_noise_sigma

# What the estimators read on unit noise fields, measured once by `_calibrate`: (full-resolution
# reading, half-resolution reading) of white noise and of half-resolution white noise enlarged
# bilinearly. (The readings of white noise sit a little under 1 and 1/2: the estimators take a
# low percentile of their blocks, to stay off texture.)
_WHITE_READS = (0.946, 0.447)
_ENLARGED_READS = (0.0560, 0.317)


# Grain weaker than this (0..255 scale) is not added: invisible, and a clean photo's fill, quantised or
# not quite flat, reads a few tenths.
GRAIN_FLOOR = 0.3


def photo_grain(rgb: np.ndarray, exclude: np.ndarray | None = None) -> tuple[float, float]:
    """(fine sigma, coarse excess) of the photo's grain on the 0..255 scale (estimate.py's measures), each
    0 below GRAIN_FLOOR; `exclude` (bool (H, W)): leave out the blocks it touches (the holes being filled)."""
    fine = estimate_noise_sigma(rgb, exclude)
    coarse = estimate_coarse_grain(rgb, exclude, fine)
    return (fine if fine >= GRAIN_FLOOR else 0.0), (coarse if coarse >= GRAIN_FLOOR else 0.0)


def synthesize_grain(shape: tuple[int, int], fine: float, coarse: float, seed: int) -> np.ndarray:
    """A float32 (H, W) noise field in [0, 1] units that the estimators read as (`fine`, `coarse`).

    It is white noise (amplitude a) plus half-resolution white noise enlarged bilinearly (amplitude
    b). Squared readings add over independent parts, so a^2 and b^2 solve a 2x2 linear system: the
    full-resolution reading must be `fine`, the half-resolution one `coarse`^2 + `fine`^2 / 4.
    """
    height, width = shape
    system = np.array([[_WHITE_READS[0] ** 2, _ENLARGED_READS[0] ** 2],
                       [_WHITE_READS[1] ** 2, _ENLARGED_READS[1] ** 2]])
    a2, b2 = np.linalg.solve(system, [fine**2, coarse**2 + fine**2 / 4])
    a, b = np.sqrt(max(0.0, a2)), np.sqrt(max(0.0, b2))
    rng = np.random.default_rng(seed)
    field = rng.standard_normal((height, width), dtype=np.float32) * np.float32(a)
    if b > 0:
        half = rng.standard_normal((max(1, (height + 1) // 2), max(1, (width + 1) // 2)), dtype=np.float32)
        field += cv2.resize(half, (width, height), interpolation=cv2.INTER_LINEAR) * np.float32(b)
    return field / np.float32(255.0)


def _calibrate(side: int = 1024) -> tuple[tuple[float, float], tuple[float, float]]:
    """Re-measure _WHITE_READS and _ENLARGED_READS (for maintainers; the constants above came from it)."""
    from restorer.stages.estimate import _channel_sigma  # the estimators' own per-plane reading

    rng = np.random.default_rng(0)
    white = rng.standard_normal((side, side), dtype=np.float32)
    enlarged = cv2.resize(rng.standard_normal((side // 2, side // 2), dtype=np.float32), (side, side),
                          interpolation=cv2.INTER_LINEAR)

    def reads(field: np.ndarray) -> tuple[float, float]:
        shrunk = cv2.resize(field, (side // 2, side // 2), interpolation=cv2.INTER_AREA)
        return _channel_sigma(field + 128.0), _channel_sigma(shrunk + 128.0, block=16)

    return reads(white), reads(enlarged)
