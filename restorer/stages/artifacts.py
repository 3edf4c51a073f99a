"""Artifact removal: JPEG blocking/ringing and noise, before anything magnifies them.

Model engine (default): our ArtifactNet, conditioned on a strength map, run
in tiles. Classic engine (the baseline): OpenCV's non-local means on 8-bit
tiles. Both add their correction to the full-precision pixels, so 16-bit
scans keep their depth where nothing needed fixing.

For JPEGs whose compression is the main damage, the model's result is then
projected back into the file's quantisation intervals (jpeg_consistency).

Strength is 0..100. `auto` derives it from the file's JPEG quantisation
tables and the image's noise level, on the scale the model was trained with:
max((95 - quality) / 90, sigma / 50).
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.imaging import Photo
from restorer.recipe import ArtifactsSettings
from restorer.stages import StageContext, StageGenerator
from restorer.stages.estimate import estimate_coarse_grain, estimate_jpeg_quality, estimate_noise_sigma, grain_sigma
from restorer.stages.jpeg_consistency import project_to_jpeg

_TILE = 512
_MARGIN = 24  # > search window radius (10) + template radius (3), so tiles agree at seams


def strength_from(quality: int | None, sigma: float) -> int:
    """0..100 on the training scale; noise below ~2 (sensor floor, fine grain) counts as clean."""
    from_jpeg = 0.0 if quality is None else (95 - quality) / 90
    from_noise = max(0.0, sigma - 2.0) / 50
    return int(round(100 * float(np.clip(max(from_jpeg, from_noise), 0.0, 1.0))))


def auto_strength(photo: Photo, ignore_jpeg: bool = False) -> tuple[int, str]:
    """Strength 0..100 from the file's JPEG quality and the image's noise, with an explanation (`ignore_jpeg`:
    see `_auto`)."""
    strength, note, _ = _auto(photo, ignore_jpeg)
    return strength, note


def _auto(photo: Photo, ignore_jpeg: bool = False) -> tuple[int, str, str]:
    """(strength, explanation, what drove it: "jpeg", "noise" or "grain").

    `ignore_jpeg` for a descreened photo: the low-pass that took the screen away took the JPEG's
    blocks and ringing above the screen's frequency with it, so only the noise left counts."""
    quality = None if ignore_jpeg else estimate_jpeg_quality(photo.metadata.jpeg_quantization)
    pixels = photo.float_pixels()[::2, ::2] if max(photo.size) > 2000 else photo.float_pixels()
    sigma = estimate_noise_sigma(pixels)
    parts = [f"noise sigma {sigma:.1f}"]
    grain = 0.0
    # Coarse grain is a print's (or a film's) trait: looked for on black-and-white and toned prints,
    # where it is common, not on colour photos, whose texture would be taken for it.
    from restorer.stages.colorize import is_black_and_white

    if is_black_and_white(pixels):
        excess = estimate_coarse_grain(pixels, fine=sigma)
        grain = grain_sigma(excess, sigma)
        if grain > 0:
            parts.append(f"coarse grain {excess:.1f}")
    strength = strength_from(quality, max(sigma, grain))
    if quality is not None and strength_from(quality, 0.0) >= strength:
        driver = "jpeg"
    else:
        driver = "grain" if grain > sigma else "noise"
    if quality is not None:
        parts.insert(0, f"JPEG quality {quality}")
    return strength, f"auto strength {strength} ({', '.join(parts)})", driver


def _jpeg_dominates(photo: Photo, auto_driver: str | None) -> bool:
    """True for a JPEG whose compression, not noise, is the main damage (`auto_driver`: `_auto`'s, if run).

    Only then is the file's quantisation a constraint the wanted result meets: under heavy
    noise the pre-compression photo was noisy itself, and pulling back towards it re-adds noise.
    """
    meta = photo.metadata
    if meta.jpeg_layout is None or not meta.jpeg_quantization:
        return False
    return (auto_driver or _auto(photo)[2]) == "jpeg"


def denoise_model(rgb: np.ndarray, strength: int, context: StageContext) -> StageGenerator:
    """ArtifactNet over float32 (H, W, 3) in tiles; yields progress, returns float32."""
    from restorer.models.archs.artifactnet import WithStrength
    from restorer.tiling import run_tiled

    net, runtime = context.model_manager().artifact_network()
    context.use_model("restorer-artifacts")
    # Tiles and context are multiples of 8 so each tile sees the JPEG grid where the photo has it;
    # 48 px covers the network's receptive field (20 convolutions at half resolution).
    out = yield from run_tiled(WithStrength(net, strength / 100), rgb, scale=1, runtime=runtime, tile=512, pad=48,
                               out_dtype=np.float32)
    return out


def nlm_h(strength: int, driver: str) -> float:
    """Non-local means' filter strength h for our 0..100 scale.

    Noise needs h near its sigma (strength 100 = sigma 50); JPEG blocks need far
    less: beyond h ~ 7 the filter erases skin texture along with the blocks.
    """
    return (0.12 if driver == "jpeg" else 0.45) * strength


def denoise_nlm(rgb: np.ndarray, h: float) -> np.ndarray:
    """Non-local means over one float32 (H, W, 3) tile with filter strength `h`."""
    u8 = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    den = cv2.fastNlMeansDenoisingColored(u8, None, h, h, 7, 21)
    return np.clip(rgb + (den.astype(np.float32) - u8.astype(np.float32)) / 255.0, 0.0, 1.0)


def remove_screen(photo: Photo, setting: str | float) -> tuple[Photo, str]:
    """(`photo` without its halftone screen, what was done) for the recipe's `descreen` setting; the photo
    unchanged and "" when it has no screen or the setting is "off"."""
    from restorer.stages.descreen import Screen, descreen, find_screen

    if setting == "off":
        return photo, ""
    pixels = photo.float_pixels()
    screen = find_screen(pixels) if setting == "auto" else Screen(float(setting), 0.0, 0.0, ())
    if screen is None:
        return photo, ""
    return photo.with_pixels(descreen(pixels, screen)), screen.describe() + " removed"


def run(photo: Photo, settings: ArtifactsSettings, context: StageContext) -> StageGenerator:
    photo, descreened = remove_screen(photo, settings.descreen)
    if descreened:
        yield 0.1
    auto = settings.strength == "auto"
    if auto:
        strength, note, driver = _auto(photo, ignore_jpeg=bool(descreened))
    else:
        strength, note, driver = int(settings.strength), f"strength {settings.strength}", "noise"
    if descreened:
        note = f"{descreened}; {note}"
    if strength == 0:
        yield 1.0
        return photo, note + ": nothing to remove"
    src = photo.float_pixels()
    if settings.engine == "model":
        out = yield from denoise_model(src, strength, context)
        # Projected back into the file's quantisation, a descreened photo would get its screen back.
        if not descreened and _jpeg_dominates(photo, driver if auto else None):
            out = project_to_jpeg(out, src, photo.metadata.jpeg_quantization, photo.metadata.jpeg_layout)
            note += "; kept consistent with the JPEG's quantisation"
        return photo.with_pixels(out), note
    out = np.empty_like(src)
    height, width = src.shape[:2]
    tiles = [(y, x) for y in range(0, height, _TILE) for x in range(0, width, _TILE)]
    for done, (y, x) in enumerate(tiles):
        y0, x0 = max(0, y - _MARGIN), max(0, x - _MARGIN)
        y1, x1 = min(height, y + _TILE + _MARGIN), min(width, x + _TILE + _MARGIN)
        result = denoise_nlm(src[y0:y1, x0:x1], nlm_h(strength, driver))
        th, tw = min(_TILE, height - y), min(_TILE, width - x)
        out[y : y + th, x : x + tw] = result[y - y0 : y - y0 + th, x - x0 : x - x0 + tw]
        yield (done + 1) / len(tiles)
    return photo.with_pixels(out), note
