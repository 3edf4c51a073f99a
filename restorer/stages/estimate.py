"""Estimates that drive `auto` settings: JPEG quality and noise level.

Both are shown to the user next to the strength they produced.
"""

from __future__ import annotations

import numpy as np

# The IJG (libjpeg) reference luminance table at quality 50, in natural
# (row-major) order, as every libjpeg-derived encoder scales it.
_IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.float64)

# Pillow reports tables in zig-zag order; this maps zig-zag index -> natural index.
_ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
])


def _ijg_table(quality: int) -> np.ndarray:
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)


def estimate_jpeg_quality(quantization: dict[int, list[int]] | None) -> int | None:
    """The IJG quality (1..100) whose luminance table best matches the file's, or None.

    Works for any libjpeg-style encoder (cameras mostly differ by a few units).
    """
    if not quantization or 0 not in quantization:
        return None
    table = np.asarray(list(quantization[0]), dtype=np.float64)
    if table.size != 64:
        return None
    natural = np.empty(64)
    natural[_ZIGZAG] = table
    # Pillow >= 9 already returns natural order; pick the reading that fits IJG best.
    candidates = (natural, table)
    best_quality, best_error = None, np.inf
    for observed in candidates:
        for quality in range(1, 101):
            error = float(np.mean(np.abs(np.log(_ijg_table(quality)) - np.log(observed))))
            if error < best_error:
                best_quality, best_error = quality, error
    return best_quality


def estimate_noise_sigma(rgb: np.ndarray, exclude: np.ndarray | None = None) -> float:
    """Per-channel noise standard deviation on the 0..255 scale (Immerkaer's estimator).

    Computed per 32x32 block and summarised by a low percentile, so textured
    regions (which inflate the estimate) and near-black/white regions (where
    noise is clipped away) are ignored. Per channel, not on luma: luma
    averages independent colour noise down to two thirds of its level.
    `exclude` (bool (H, W)): blocks touching it are left out, where enough others remain
    (a smooth fill would pass for the flattest, least noisy part of the photo).
    """
    return float(np.median([_channel_sigma(rgb[..., c].astype(np.float32) * 255.0, exclude=exclude)
                            for c in range(3)]))


# Coarse grain (old prints, enlarged film) is correlated over a few pixels: at full resolution the
# Laplacian above sees little of it (FFDNet_RNI6's Hilbert print: sigma 1.3), at half resolution it
# stands out. The excess over what fine noise leaves at half resolution, e2, is converted to the
# strength scale by GRAIN_GAIN * e2 - GRAIN_OFFSET, chosen so that Hilbert's print gets strength ~45
# (judged by eye: 30 leaves the mottle, 50 calms it, both keep beard, eyes and glasses). Measured
# e2 (fine sigma): Hilbert 2.5 (1.3), old_w_scratch/a 2.6 (1.9), Unidentified1855 1.6 (1.1),
# Marilyn 1.2 (0.6), 40sCouple 0.3 (0.3); Classic5's baboon 2.7 (3.0): texture, not grain.
GRAIN_GAIN, GRAIN_OFFSET, GRAIN_FLOOR, GRAIN_DOMINANCE = 12.0, 5.0, 1.2, 1.2


def estimate_coarse_grain(rgb: np.ndarray, exclude: np.ndarray | None = None, fine: float | None = None) -> float:
    """Excess noise at half resolution (0..255 scale) beyond what fine noise explains; ~0 on clean photos.

    Estimated like the fine noise (the flattest blocks' Laplacian), on the photo shrunk by two with
    blocks of 16 px, so the percentile still finds flat regions (walls, skies, backdrops, skin).
    Fine white noise leaves half its sigma at half resolution; grain correlated over a few pixels
    leaves more: the excess is the grain.
    """
    import cv2

    h, w = rgb.shape[:2]
    if min(h, w) < 64:
        return 0.0
    half = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    if fine is None:  # callers that already measured it pass it in: the full-resolution pass is the costly one
        fine = estimate_noise_sigma(rgb, exclude)
    half_exclude = None
    if exclude is not None:
        half_exclude = cv2.resize(exclude.astype(np.uint8), (w // 2, h // 2), interpolation=cv2.INTER_AREA) > 0
    coarse = float(np.median([_channel_sigma(half[..., c].astype(np.float32) * 255.0, block=16, exclude=half_exclude)
                              for c in range(3)]))
    return float(np.sqrt(max(0.0, coarse**2 - (fine / 2) ** 2)))


def grain_sigma(excess: float, fine: float) -> float:
    """The white-noise sigma whose strength suits coarse grain of half-resolution excess `excess`.

    Only when the excess dominates the fine noise `fine`: texture (fur, foliage) is strong at both
    scales (Classic5's baboon: fine 3.0, excess 2.7), grain correlated over a few pixels mostly at
    the coarse one (Hilbert: 1.3 and 2.5).
    """
    if excess <= GRAIN_FLOOR or excess < GRAIN_DOMINANCE * fine:
        return 0.0
    return max(0.0, GRAIN_GAIN * excess - GRAIN_OFFSET)


def _channel_sigma(plane: np.ndarray, block: int = 32, exclude: np.ndarray | None = None) -> float:
    if plane.shape[0] < 8 or plane.shape[1] < 8:
        return 0.0
    # 3x3 kernel [[1,-2,1],[-2,4,-2],[1,-2,1]] removes smooth structure; on white noise its
    # output has standard deviation 6 sigma and mean absolute value 6 sigma sqrt(2/pi).
    lap = (plane[:-2, :-2] - 2 * plane[:-2, 1:-1] + plane[:-2, 2:]
           - 2 * plane[1:-1, :-2] + 4 * plane[1:-1, 1:-1] - 2 * plane[1:-1, 2:]
           + plane[2:, :-2] - 2 * plane[2:, 1:-1] + plane[2:, 2:])
    h, w = (lap.shape[0] // block) * block, (lap.shape[1] // block) * block
    if h == 0 or w == 0:
        return float(np.sqrt(np.pi / 2) * np.mean(np.abs(lap)) / 6)
    per_block = np.abs(lap[:h, :w]).reshape(h // block, block, w // block, block).mean(axis=(1, 3))
    level = plane[1 : 1 + h, 1 : 1 + w].reshape(h // block, block, w // block, block).mean(axis=(1, 3))
    usable = (level > 20) & (level < 235)
    if exclude is not None:
        touched = exclude[1 : 1 + h, 1 : 1 + w].reshape(h // block, block, w // block, block).any(axis=(1, 3))
        if (usable & ~touched).sum() >= 4:
            usable &= ~touched
    if usable.sum() >= 4:
        per_block = per_block[usable]
    return float(np.sqrt(np.pi / 2) * np.percentile(per_block, 10) / 6)
