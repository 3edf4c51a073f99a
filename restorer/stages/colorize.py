"""Colour: revive faded colour prints; black-and-white photos pass through.

Classic engine (the baseline for colour photos): robust per-channel levels
(clip 0.5 % at each end, gain capped so noise is not amplified), a partial
grey-world white balance, then saturation in a luma/chroma split so
brightness is kept. A photo whose channels are equal (black-and-white stored
as RGB) is returned unchanged until the colorization model exists.
"""

from __future__ import annotations

import numpy as np

from restorer.imaging import Photo
from restorer.recipe import ColorizeSettings
from restorer.stages import StageContext, StageGenerator

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_TYPICAL_CHROMA = 0.12


def is_monochrome(rgb: np.ndarray, tolerance: float = 4 / 255) -> bool:
    """True when the photo carries no real colour (grey stored as RGB)."""
    sample = rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)]
    chroma = sample - sample.mean(axis=2, keepdims=True)
    return float(np.percentile(np.abs(chroma), 99)) <= tolerance


def revive_faded(rgb: np.ndarray, saturation: float) -> np.ndarray:
    """Levels + white balance + saturation on float32 (H, W, 3) in [0, 1]."""
    sample = rgb[:: max(1, rgb.shape[0] // 512), :: max(1, rgb.shape[1] // 512)].reshape(-1, 3)
    low = np.percentile(sample, 0.5, axis=0).astype(np.float32)
    high = np.percentile(sample, 99.5, axis=0).astype(np.float32)
    gain = 1.0 / np.maximum(high - low, 1.0 / 3.0)  # at most 3x stretch per channel
    balanced = (rgb - low) * gain
    stretched_mean = ((sample - low) * gain).mean(axis=0)
    # Pull channel means halfway to their common grey: full grey-world overcorrects sunsets.
    balanced *= (0.5 + 0.5 * stretched_mean.mean() / np.maximum(stretched_mean, 1e-3)).astype(np.float32)
    luma = balanced @ _LUMA
    chroma = balanced - luma[..., None]
    # Faded prints lose chroma; restore it towards what colour photos typically hold
    # (75th-percentile chroma ~0.12), never more than doubling it.
    sample_chroma = np.linalg.norm(chroma[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)], axis=2)
    typical = float(np.percentile(sample_chroma, 75))
    boost = float(np.clip(_TYPICAL_CHROMA / max(typical, 1e-3), 1.0, 2.0))
    out = luma[..., None] + chroma * np.float32(saturation * boost)
    return np.clip(out, 0.0, 1.0)


def run(photo: Photo, settings: ColorizeSettings, context: StageContext) -> StageGenerator:
    src = photo.float_pixels()
    if is_monochrome(src):
        yield 1.0
        return photo, "black-and-white photo left unchanged (automatic colorization is not available yet)"
    yield 0.1
    revived = revive_faded(src, settings.saturation)
    strength = np.float32(settings.strength)
    out = src + (revived - src) * strength if strength < 1 else revived
    yield 1.0
    return photo.with_pixels(np.ascontiguousarray(out, dtype=np.float32)), "faded colour revived"
