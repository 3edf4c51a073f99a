"""Artifact removal: JPEG blocking/ringing and noise, before anything magnifies them.

Classic engine: OpenCV's non-local means on 8-bit tiles. The correction it
finds is added to the full-precision pixels, so 16-bit scans keep their depth
where nothing needed fixing.
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.imaging import Photo
from restorer.recipe import ArtifactsSettings
from restorer.stages import StageContext, StageGenerator
from restorer.stages.estimate import estimate_jpeg_quality, estimate_noise_sigma

_TILE = 512
_MARGIN = 24  # > search window radius (10) + template radius (3), so tiles agree at seams


def auto_strength(photo: Photo) -> tuple[int, str]:
    """Strength 0..100 from the file's JPEG quality and the image's noise, with an explanation."""
    quality = estimate_jpeg_quality(photo.metadata.jpeg_quantization)
    sigma = estimate_noise_sigma(photo.float_pixels()[::2, ::2] if max(photo.size) > 2000 else photo.float_pixels())
    from_jpeg = 0.0 if quality is None else float(np.clip((92 - quality) * 1.1, 0, 100))
    from_noise = float(np.clip((sigma - 1.5) * 5.0, 0, 100))
    strength = int(round(max(from_jpeg, from_noise)))
    parts = [f"noise sigma {sigma:.1f}"]
    if quality is not None:
        parts.insert(0, f"JPEG quality {quality}")
    return strength, f"auto strength {strength} ({', '.join(parts)})"


def denoise_nlm(rgb: np.ndarray, strength: int) -> np.ndarray:
    """Non-local means over one float32 (H, W, 3) tile; strength 0..100."""
    # h = 12 at strength 100: stronger filtering erases skin texture along with the blocks.
    h = 0.12 * strength
    u8 = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    den = cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21)
    return np.clip(rgb + (den.astype(np.float32) - u8.astype(np.float32)) / 255.0, 0.0, 1.0)


def run(photo: Photo, settings: ArtifactsSettings, context: StageContext) -> StageGenerator:
    if settings.strength == "auto":
        strength, note = auto_strength(photo)
    else:
        strength, note = int(settings.strength), f"strength {settings.strength}"
    if strength == 0:
        yield 1.0
        return photo, note + ": nothing to remove"
    src = photo.float_pixels()
    out = np.empty_like(src)
    height, width = src.shape[:2]
    tiles = [(y, x) for y in range(0, height, _TILE) for x in range(0, width, _TILE)]
    for done, (y, x) in enumerate(tiles):
        y0, x0 = max(0, y - _MARGIN), max(0, x - _MARGIN)
        y1, x1 = min(height, y + _TILE + _MARGIN), min(width, x + _TILE + _MARGIN)
        result = denoise_nlm(src[y0:y1, x0:x1], strength)
        th, tw = min(_TILE, height - y), min(_TILE, width - x)
        out[y : y + th, x : x + tw] = result[y - y0 : y - y0 + th, x - x0 : x - x0 + tw]
        yield (done + 1) / len(tiles)
    return photo.with_pixels(out), note
