"""Super resolution: Real-ESRGAN with a faithful<->sharp slider, or Lanczos.

The network engine runs our PSNR network and Real-ESRGAN x4plus blended by
`alpha` (or a user checkpoint), tile by tile. Scales below 4 run the x4
network and resample its result down with area averaging, which is sharper
than running at the lower scale directly. The alpha channel, if any, is
resized with Lanczos; DPI is multiplied by the scale so the print size stays.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from restorer.imaging import Photo
from restorer.recipe import UpscaleSettings
from restorer.stages import StageContext, StageGenerator, drain


def lanczos(rgb: np.ndarray, scale: float) -> np.ndarray:
    """Classic resampling of float32 (H, W, C) in [0, 1]."""
    h, w = rgb.shape[:2]
    size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
    return np.clip(cv2.resize(rgb, size, interpolation=cv2.INTER_LANCZOS4), 0.0, 1.0)


def _resample_down(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    out = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return out if out.ndim == 3 else out[..., None]


def _finish(photo: Photo, pixels: np.ndarray, scale: int) -> Photo:
    alpha = None if photo.alpha is None else lanczos(photo.alpha, scale)
    meta = photo.metadata
    if meta.dpi:
        meta = replace(meta, dpi=(meta.dpi[0] * scale, meta.dpi[1] * scale))
    return replace(photo, pixels=pixels, alpha=alpha, metadata=meta)


def upscale_crop(rgb: np.ndarray, settings: UpscaleSettings, context: StageContext | None = None) -> np.ndarray:
    """Upscale a small float32 crop in one go (the live preview); same engines as `run`.

    The self-ensemble is left out: the slider picks a look, which the ensemble only
    refines by a fraction of a dB, and it would make every preview eight times slower.
    """
    settings = replace(settings, ensemble=False)
    out = drain(run(Photo(np.ascontiguousarray(rgb, dtype=np.float32)), settings, context or StageContext()))
    return out[0].float_pixels()


def run(photo: Photo, settings: UpscaleSettings, context: StageContext) -> StageGenerator:
    scale = settings.scale
    if scale == 1 and settings.engine == "lanczos":
        yield 1.0
        return photo, "scale 1: unchanged"
    if settings.engine == "lanczos":
        yield 0.0
        out = lanczos(photo.float_pixels(), scale)
        yield 1.0
        return _finish(photo, out, scale), f"Lanczos x{scale}"

    from restorer.tiling import run_tiled

    manager = context.model_manager()
    if settings.checkpoint:
        net, runtime = manager.custom_network(settings.checkpoint, settings.precision)
        context.use_model("checkpoint", path=settings.checkpoint)
        note = f"{settings.checkpoint} x{net.scale}"
    else:
        net, runtime = manager.sr_network(settings.alpha, settings.precision)
        context.use_model("restorer-x4-psnr")
        context.use_model("realesrgan-x4plus")
        note = f"Real-ESRGAN x4, alpha {settings.alpha:.2f}"
    if settings.ensemble:
        note += ", self-ensemble of 8"
    out = yield from run_tiled(net, photo.float_pixels(), scale=net.scale, runtime=runtime, tile=settings.tile,
                               ensemble=settings.ensemble)
    if net.scale != scale:
        width, height = photo.size
        out = _resample_down(out, (width * scale, height * scale))
        note += f", resampled to x{scale}"
    return _finish(photo, out, scale), f"{note} ({runtime.label})"
