"""Inpainting: fill the pixels the user painted over (white in the mask).

The "model" engine is our trained InpaintNet (Fourier-convolution body, so a
hole takes texture and shading from the whole crop). Classic engines: OpenCV
Telea (fast marching) and Navier-Stokes, run on 16-bit channels so 16-bit
scans keep their depth. Users who have LaMa's TorchScript export
(big-lama.pt) can use it as the "lama" engine. Only crops around the masked
regions are processed, and pixels outside the mask are returned bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.errors import BadMask
from restorer.grain import photo_grain, synthesize_grain
from restorer.imaging import Photo
from restorer.recipe import InpaintSettings
from restorer.stages import StageContext, StageGenerator
from restorer.tiling import windows

_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


def mask_regions(mask: np.ndarray, margin: int) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (y0, y1, x0, x1) of the mask's connected parts, grown by `margin` and merged when they touch."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    h, w = mask.shape
    boxes = []
    for i in range(1, count):
        x, y, bw, bh = stats[i, :4]
        boxes.append([max(0, y - margin), min(h, y + bh + margin), max(0, x - margin), min(w, x + bw + margin)])
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]:
                    boxes[i] = [min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return [tuple(b) for b in boxes]


def inpaint_classic(rgb: np.ndarray, mask: np.ndarray, engine: str, radius: int) -> np.ndarray:
    """Fill `mask` (bool (H, W)) in float32 `rgb` (H, W, 3) with an OpenCV engine.

    Runs per channel on uint16: OpenCV's Telea returns garbage for float32 in
    [0, 1], and 16 bits keep the precision of 16-bit scans.
    """
    mask_u8 = mask.astype(np.uint8) * 255
    deep = (np.clip(rgb, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
    channels = [cv2.inpaint(np.ascontiguousarray(deep[..., c]), mask_u8, radius, _FLAGS[engine]) for c in range(3)]
    return np.stack(channels, axis=2).astype(np.float32) / 65535.0


# LaMa was trained on 256-512 px crops: beyond this the receptive field no longer spans the hole.
_LAMA_WORKING_SIDE = 1024


def inpaint_lama(rgb: np.ndarray, mask: np.ndarray, net, device: str) -> np.ndarray:
    """Fill `mask` in a float32 crop with a LaMa-style TorchScript module (image, mask) -> image."""
    import torch
    from torch.nn import functional as F

    h, w = mask.shape
    scale = min(1.0, _LAMA_WORKING_SIDE / max(h, w))
    image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]
    hole = torch.from_numpy(mask.astype(np.float32))[None, None]
    if scale < 1.0:
        size = (max(8, int(h * scale)), max(8, int(w * scale)))
        image = F.interpolate(image, size=size, mode="area")
        hole = (F.interpolate(hole, size=size, mode="area") > 0).float()  # any touched pixel is a hole
    sh, sw = image.shape[2:]
    image, hole = _pad_with_hole(image, hole, 8, "reflect")  # LaMa's down/up-sampling needs multiples of 8
    with torch.inference_mode():
        out = net(image.to(device), hole.to(device)).float().cpu()
    out = out[..., :sh, :sw]
    if scale < 1.0:
        out = F.interpolate(out, size=(h, w), mode="bicubic", align_corners=False)
    return out[0].permute(1, 2, 0).clamp(0, 1).numpy()


# InpaintNet was trained on 128 and 160 px crops whose blobs have half-axes of at most 25-32 px.
# A thicker hole is filled at a reduced working scale that brings its thickest part (distance
# from the hole's edge) down to a radius the network knows, and the fill upsampled; thin
# scratches stay at full resolution, so they stay sharp. No single radius suits every hole: the
# fills made at radii 24, 32 and 40 px are averaged (each scale computed once; a hole thinner
# than 24 px gets one full-resolution pass). PSNR in Kodak24 / BSD100 blobs with the bundled
# weights: radius 24 alone 19.56 / 18.92, 32 alone 19.53 / 18.97, 40 alone 19.49 / 19.06, the
# average of 16, 24 and 32 19.60 / 18.98, of 24, 32 and 40 19.62 / 19.05 dB. (With the first
# weights, trained on 128 px crops only: 8 / 16 / 24 / 40 / never reduce gave 17.47 / 19.11 /
# 19.19 / 17.80 / 17.98 dB on Kodak24.)
_MODEL_HOLE_RADII = (24.0, 32.0, 40.0)
# Largest crop side (at working scale) run in one pass; bigger regions go in windows, bounding memory.
_MODEL_WINDOW = 768
_MODEL_CONTEXT = 64


def working_scales(mask: np.ndarray) -> list[float]:
    """One scale (<= 1) per radius in _MODEL_HOLE_RADII, each bringing the hole's thickest part down to it."""
    radius = float(cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3).max())
    return [min(1.0, limit / max(radius, 1.0)) for limit in _MODEL_HOLE_RADII]


def _pad_with_hole(image, hole, multiple: int, mode: str):
    """Pad (N, C, H, W) image and hole on the bottom/right to multiples of `multiple`, the same way.

    The padding copies the photo's damaged pixels too, so it must copy the hole with them:
    padding the mask as "known" would hand the network the damage as context.
    """
    from torch.nn import functional as F

    ph, pw = (-image.shape[2]) % multiple, (-image.shape[3]) % multiple
    if ph or pw:
        image = F.pad(image, (0, pw, 0, ph), mode=mode)
        hole = F.pad(hole, (0, pw, 0, ph), mode=mode)
    return image, hole


def _model_pass(rgb: np.ndarray, mask: np.ndarray, net, runtime) -> np.ndarray:
    """One network pass on a float32 crop; returns the crop's prediction (H, W, 3)."""
    import torch

    h, w = mask.shape
    image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].contiguous()
    hole = torch.from_numpy(mask.astype(np.float32))[None, None]
    image, hole = _pad_with_hole(image, hole, 4, "replicate")  # two stride-2 levels need multiples of 4
    device = torch.device(runtime.device)
    with torch.inference_mode(), runtime.autocast_context():
        out = net(image.to(device).contiguous(memory_format=torch.channels_last), hole.to(device))
    return out.float()[0, :, :h, :w].permute(1, 2, 0).cpu().numpy()


def inpaint_model(rgb: np.ndarray, mask: np.ndarray, net, runtime) -> np.ndarray:
    """Fill `mask` in a float32 crop with InpaintNet: the mean of its fills at `working_scales(mask)`.

    Crops larger than the window are done in overlapping windows; each keeps only its centre.
    """
    fills: dict[float, np.ndarray] = {}
    scales = working_scales(mask)
    for scale in scales:
        if scale not in fills:
            fills[scale] = _fill_at_scale(rgb, mask, scale, net, runtime)
    if len(fills) == 1:
        return fills[scales[0]]
    return np.mean([fills[scale] for scale in scales], axis=0, dtype=np.float32)


def _fill_at_scale(rgb: np.ndarray, mask: np.ndarray, scale: float, net, runtime) -> np.ndarray:
    """InpaintNet's prediction for the whole crop, made at `scale` and brought back to the crop's size."""
    if scale >= 1.0:
        return _model_windows(rgb, mask, net, runtime)
    h, w = mask.shape
    size = (max(4, int(round(w * scale))), max(4, int(round(h * scale))))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0
    filled = _model_windows(small, small_mask, net, runtime)
    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_CUBIC)


def _model_windows(rgb: np.ndarray, mask: np.ndarray, net, runtime) -> np.ndarray:
    h, w = mask.shape
    if max(h, w) <= _MODEL_WINDOW:
        return _model_pass(rgb, mask, net, runtime)
    out = rgb.copy()
    filled = np.zeros_like(mask)
    for win in windows(h, w, _MODEL_WINDOW - 2 * _MODEL_CONTEXT, _MODEL_CONTEXT):
        rows, cols = slice(win.y0, win.y1), slice(win.x0, win.x1)
        core = (slice(win.y, win.y_end), slice(win.x, win.x_end))
        if not mask[core].any():
            continue
        # Earlier windows' fill counts as known: a hole across a window border continues
        # what is already there instead of meeting it with a seam.
        known = np.where(mask[rows, cols, None], out[rows, cols], rgb[rows, cols])
        pred = _model_pass(known, mask[rows, cols] & ~filled[rows, cols], net, runtime)
        out[core] = pred[win.core_in_window]
        filled[core] = mask[core]
    return out


def run(photo: Photo, settings: InpaintSettings, context: StageContext) -> StageGenerator:
    mask = context.mask
    width, height = photo.size
    if mask is not None and mask.shape != (height, width):
        raise BadMask(
            f"The mask is {mask.shape[1]}x{mask.shape[0]} pixels but the photo is {width}x{height}; "
            "paint or export the mask at the photo's size."
        )
    src = photo.float_pixels()
    detected = ""
    if settings.detect:
        from restorer.stages.scratches import detect_scratches

        proposal = detect_scratches(src, models=context.model_manager(), unattended=True)  # nobody reviews it
        context.use_model("restorer-scratches")
        detected = f"; detected {proposal.mean() * 100:.2f} % as damage"
        mask = proposal if mask is None else (mask | proposal)
        yield 0.2
    if context.extras is not None:
        context.extras["inpaint_mask"] = mask  # what was filled, for --save-mask
    if mask is None or not mask.any():
        yield 1.0
        return photo, ("no damage detected: nothing to fill" if settings.detect else "no mask painted: nothing to fill")
    out = src.copy()
    if settings.engine == "lama":
        net, device = context.model_manager().torchscript_network(settings.model_path)
        context.use_model("lama", path=settings.model_path)
        margin = 128  # LaMa needs wide context around each hole
    elif settings.engine == "model":
        net, runtime = context.model_manager().inpaint_network()
        context.use_model("restorer-inpaint")
        margin = 48  # context around thin damage; thick holes get more from their reduced working scale
    else:
        margin = max(16, settings.radius * 4)
    regions = mask_regions(mask, margin=margin)
    for done, (y0, y1, x0, x1) in enumerate(regions):
        crop_mask = mask[y0:y1, x0:x1]
        if settings.engine == "lama":
            filled = inpaint_lama(src[y0:y1, x0:x1], crop_mask, net, device)
        elif settings.engine == "model":
            filled = inpaint_model(src[y0:y1, x0:x1], crop_mask, net, runtime)
        else:
            filled = inpaint_classic(src[y0:y1, x0:x1], crop_mask, settings.engine, settings.radius)
        out[y0:y1, x0:x1][crop_mask] = np.clip(filled[crop_mask], 0.0, 1.0)
        yield (0.2 if settings.detect else 0.0) + (0.8 if settings.detect else 1.0) * (done + 1) / len(regions)
    # Measured on the filled photo, so the damage itself (a bright scratch is all edge) is not taken for grain,
    # and away from the fills, which would pass for the flattest, least grainy part of it.
    grain = photo_grain(out, exclude=mask) if settings.grain else (0.0, 0.0)
    if any(grain):
        for y0, y1, x0, x1 in regions:
            crop_mask = mask[y0:y1, x0:x1]
            # Seeded by where the region lies, so the same photo and mask give the same result.
            noise = synthesize_grain(crop_mask.shape, *grain, seed=(y0 * 65_537 + x0) ^ (height * 31 + width))
            view = out[y0:y1, x0:x1]
            view[crop_mask] = np.clip(view[crop_mask] + noise[crop_mask][:, None], 0.0, 1.0)
    fraction = float(mask.mean()) * 100
    grained = f", with the photo's grain (fine {grain[0]:.1f}, coarse {grain[1]:.1f})" if any(grain) else ""
    return photo.with_pixels(out), f"filled {fraction:.2f} % of the photo ({settings.engine}{grained}){detected}"
