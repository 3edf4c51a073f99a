"""Steer colorization with a colour photo of a similar scene or era: its colours per lightness band.

Contract: `reference_bands(rgb)` summarises a reference photo (float32 RGB
in [0, 1]) as, for each of BANDS bands of CIE L*, the mean a*b* of its
pixels and their spread; `steer(ab, light, bands, weight)` moves a
colorization's a*b* (H, W, 2) towards them, pixel by pixel according to its
own L* (H, W) in 0..100: the band's mean chroma is shifted to the reference's
and the spread around it scaled to match, blending smoothly between bands.

Why lightness bands: in a photo, what has one lightness tends to be one kind
of thing (sky and white cloth bright, foliage and skin mid-grey, hair and
coats dark), and a reference from the same place or decade carries the
palette those things had (a 1950s Kodachrome's saturated reds, a hazy
seaside's blues). The colorizer still decides where colour goes; the
reference decides which colours. Where the reference has too few pixels in a
band (under MIN_SHARE of it) that band is left as the network made it.
"""

from __future__ import annotations

import numpy as np

BANDS = 10
MIN_SHARE = 0.01
# The spread around a band's mean is matched only within these limits: widening it more turns the
# network's small uncertainties (and a print's grain) into blotches of colour.
SPREAD_GAIN_LIMITS = (0.6, 1.3)
SHIFT_SMOOTHING = 0.012  # Gaussian sigma of the correction, as a share of the working image's longer side


def reference_bands(rgb: np.ndarray) -> np.ndarray:
    """(BANDS, 6): per L* band, [share of pixels, mean a*, mean b*, spread a*, spread b*, band centre L*]."""
    from restorer.colorspace import rgb_to_lab
    from restorer.resample import shrunk

    # Statistics need no more than a screenful of pixels.
    lab = rgb_to_lab(shrunk(rgb, 512)).reshape(-1, 3).astype(np.float64)
    band = np.clip((lab[:, 0] / 100 * BANDS).astype(int), 0, BANDS - 1)
    table = np.zeros((BANDS, 6))
    for k in range(BANDS):
        chosen = lab[band == k]
        table[k, 5] = (k + 0.5) * 100 / BANDS
        if len(chosen) == 0:
            continue
        table[k, 0] = len(chosen) / len(lab)
        table[k, 1:3] = chosen[:, 1:].mean(axis=0)
        table[k, 3:5] = chosen[:, 1:].std(axis=0)
    return table


def _per_pixel(values: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Interpolate per-band `values` (BANDS, C) at each pixel's L* (H, W) -> (H, W, C)."""
    centres = (np.arange(BANDS) + 0.5) * 100 / BANDS
    flat = light.reshape(-1)
    out = np.stack([np.interp(flat, centres, values[:, c]) for c in range(values.shape[1])], axis=1)
    return out.reshape(*light.shape, values.shape[1]).astype(np.float32)


def steer(ab: np.ndarray, light: np.ndarray, bands: np.ndarray, weight: float = 1.0) -> np.ndarray:
    """Move predicted a*b* (H, W, 2) towards the reference's per-band colours; returns new a*b*."""
    band = np.clip((light / 100 * BANDS).astype(int), 0, BANDS - 1)
    own = np.zeros((BANDS, 4))
    usable = np.zeros(BANDS, bool)
    for k in range(BANDS):
        chosen = ab[band == k]
        if len(chosen) and bands[k, 0] >= MIN_SHARE:
            own[k, :2] = chosen.mean(axis=0)
            own[k, 2:] = chosen.std(axis=0)
            usable[k] = True
    if not usable.any():
        return ab
    # Bands the reference cannot speak for keep the network's own statistics (no change there).
    target = np.where(usable[:, None], bands[:, 1:5], own)
    gain = np.clip((target[:, 2:] + 1.0) / (own[:, 2:] + 1.0), *SPREAD_GAIN_LIMITS)
    gain = np.where(usable[:, None], gain, 1.0)
    # Which band a pixel belongs to is read from its lightness smoothed along edges: grain must not
    # make neighbouring pixels of one object take two different colours.
    import cv2

    smooth = cv2.bilateralFilter(np.ascontiguousarray(light, dtype=np.float32), 9, 8.0, 5.0)
    own_mean, target_mean, gain_px = _per_pixel(own[:, :2], smooth), _per_pixel(target[:, :2], smooth), \
        _per_pixel(gain, smooth)
    steered = target_mean + (ab - own_mean) * gain_px
    # The correction is smoothed before it is applied: chroma is low-frequency, and a grainy print's
    # lightness flickers between bands from pixel to pixel.
    shift = cv2.GaussianBlur(np.ascontiguousarray(steered - ab, dtype=np.float32), (0, 0),
                             SHIFT_SMOOTHING * max(light.shape))
    return ab + shift * np.float32(weight)
