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
from restorer.stages import StageContext, StageGenerator, drain, scaled


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


# The most input pixels a preview enlarges (after shrinking to the screen's resolution): FastSR keeps
# a 256 x 256 view quick on two cores; the exact blend is ~30x slower, so it gets a smaller window.
PREVIEW_SIDE = {"fast": 256, "exact": 128}


def preview_view(pixels: np.ndarray, visible, screen_scale: float, settings: UpscaleSettings, mode: str,
                 context: StageContext | None = None):
    """The slider's preview: (enlarged float32 RGB at about the screen's resolution, (x, y, w, h) it covers).

    `visible` is (x, y, w, h) of the photo on screen and `screen_scale` screen pixels per photo pixel: a
    zoomed-out view needs only the pixels it shows, so the crop is shrunk first. `mode` "fast" uses
    FastSR, "exact" the recipe's own engine. Face handling is left to the final result.
    """
    height, width = pixels.shape[:2]
    shrink = min(1.0, max(screen_scale, 0.05) / 4.0)  # the networks enlarge x4
    side = int(PREVIEW_SIDE[mode] / shrink)  # photo pixels that fit the preview's input budget
    x, y, w, h = centred_crop(visible, (width, height), side)
    crop = pixels[y : y + h, x : x + w]
    if shrink < 1.0:
        crop = cv2.resize(crop, (max(1, round(w * shrink)), max(1, round(h * shrink))), interpolation=cv2.INTER_AREA)
    quick = replace(settings, quality="fast" if mode == "fast" else settings.quality, faces=False, scale=4)
    return upscale_crop(np.ascontiguousarray(crop), quick, context), (x, y, w, h)


def centred_crop(visible, size: tuple[int, int], side: int) -> tuple[int, int, int, int]:
    """(x, y, w, h): at most side x side pixels centred on the visible rectangle, inside the photo."""
    width, height = size
    vx, vy, vw, vh = visible if visible else (0, 0, width, height)
    w, h = min(side, width, max(1, int(vw))), min(side, height, max(1, int(vh)))
    cx, cy = vx + vw / 2, vy + vh / 2
    x = int(min(max(0, cx - w / 2), width - w))
    y = int(min(max(0, cy - h / 2), height - h))
    return x, y, w, h


def enlarger(settings: UpscaleSettings, alpha: float, context: StageContext, pixels: int | None = None):
    """(network, runtime) that enlarges at `alpha`: the exact blend, or FastSR in fast mode; recorded for provenance.

    `pixels` (input pixels to enlarge) lets the manager skip an engine too slow to build for so small a job."""
    manager = context.model_manager()
    if settings.quality == "fast":
        context.use_model("restorer-fastsr")
        return manager.fast_sr_network(alpha)
    context.use_model("restorer-x4-psnr")
    context.use_model("realesrgan-x4plus")
    return manager.sr_network(alpha, settings.precision, pixels)


def faces_to_keep(photo: Photo, settings: UpscaleSettings, context: StageContext) -> list:
    """The faces the enlargement keeps faithful ([] when face handling is off or would change nothing)."""
    if not settings.faces or settings.checkpoint or settings.face_strength <= 0 or settings.alpha <= 0:
        return []
    from restorer.faces.detect import detect_faces

    context.use_model("yunet-2023mar")
    return detect_faces(photo.float_pixels())


def keep_faces_faithful(photo: Photo, out: np.ndarray, faces: list, settings: UpscaleSettings,
                        context: StageContext):
    """Enlarge each face again at the faithful alpha and blend it into `out` (x4, in place).

    A generator like a stage (progress 0..1 over the faces), so Cancel reaches it between tiles; returns
    the share of each face's faithful pass that was blended in (below 1 where, shrunk back, it strayed further
    from the photo than the Look: `restorer.faces.blend.faithful_share`).
    """
    from restorer.faces.blend import blend_into, face_region
    from restorer.tiling import run_tiled

    pixels = photo.float_pixels()
    height, width = pixels.shape[:2]
    regions = [face_region(face, width, height) for face in faces]
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in regions)
    net, runtime = enlarger(settings, settings.alpha * (1 - settings.face_strength), context, area)
    shares = []
    for index, (face, (x0, y0, x1, y1)) in enumerate(zip(faces, regions)):
        faithful = yield from scaled(run_tiled(net, np.ascontiguousarray(pixels[y0:y1, x0:x1]), scale=net.scale,
                                               runtime=runtime, tile=settings.tile, out_dtype=np.float32),
                                     index / len(faces), (index + 1) / len(faces))
        shares.append(blend_into(out, faithful, (x0, y0, x1, y1), face, net.scale, source=pixels[y0:y1, x0:x1]))
    return shares


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
        net, runtime = enlarger(settings, settings.alpha, context, photo.size[0] * photo.size[1])
        note = ("FastSR x4 (fast mode)" if settings.quality == "fast" else "Real-ESRGAN x4") + \
            f", alpha {settings.alpha:.2f}"
    if settings.ensemble:
        note += ", self-ensemble of 8"
    from restorer.memory import enlarge_tile

    tile = enlarge_tile(*photo.size, settings.tile)  # smaller when one tile would not fit in the memory free
    if tile != settings.tile:
        note += f", tiles of {tile} px to fit the memory free"
        settings = replace(settings, tile=tile)
    faces = faces_to_keep(photo, settings, context)
    # Progress: the whole photo, then the faces again, each share by the pixels it enlarges.
    if faces:
        from restorer.faces.blend import REGION_MARGIN

        area = photo.size[0] * photo.size[1]
        share = area / (area + sum(f.box[2] * f.box[3] * (1 + 2 * REGION_MARGIN) ** 2 for f in faces))
    else:
        share = 1.0
    # What really enlarged it (ONNX Runtime, int8, the fast student, torch bf16 ...), for the batch report
    # and the output's metadata: the automatic choice is per machine, so a report must not guess it.
    if context.extras is not None:
        context.extras["enlarged_with"] = ("FastSR " if settings.quality == "fast" else "") + runtime.label
    out = yield from scaled(run_tiled(net, photo.float_pixels(), scale=net.scale, runtime=runtime,
                                      tile=settings.tile, ensemble=settings.ensemble, cancel=context.cancel),
                            0.0, share)
    if faces:
        shares = yield from scaled(keep_faces_faithful(photo, out, faces, settings, context), share, 1.0)
        note += f", {len(faces)} face(s) kept faithful (alpha {settings.alpha * (1 - settings.face_strength):.2f})"
        held = [s for s in shares if s < 1.0]
        if held:
            note += (f"; {len(held)} of them kept {'at' if max(held) == 0.0 else 'towards'} the Look: there the "
                     "faithful pass strayed further from the photo")
    if net.scale != scale:
        width, height = photo.size
        out = _resample_down(out, (width * scale, height * scale))
        note += f", resampled to x{scale}"
    return _finish(photo, out, scale), f"{note} ({runtime.label})"
