"""Inpainting: fill the pixels the user painted over (white in the mask).

Classic engines: OpenCV Telea (fast marching) and Navier-Stokes, run on
16-bit channels so 16-bit scans keep their depth. Users who have LaMa's
TorchScript export (big-lama.pt) can use it as the "lama" engine. Only crops around the
masked regions are processed, and pixels outside the mask are returned
bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from restorer.errors import BadMask
from restorer.imaging import Photo
from restorer.recipe import InpaintSettings
from restorer.stages import StageContext, StageGenerator

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
    ph, pw = (-image.shape[2]) % 8, (-image.shape[3]) % 8  # LaMa's down/up-sampling needs multiples of 8
    image = F.pad(image, (0, pw, 0, ph), mode="reflect")
    hole = F.pad(hole, (0, pw, 0, ph), mode="constant", value=0)
    with torch.inference_mode():
        out = net(image.to(device), hole.to(device)).float().cpu()
    out = out[..., : out.shape[2] - ph, : out.shape[3] - pw]
    if scale < 1.0:
        out = F.interpolate(out, size=(h, w), mode="bicubic", align_corners=False)
    return out[0].permute(1, 2, 0).clamp(0, 1).numpy()


def run(photo: Photo, settings: InpaintSettings, context: StageContext) -> StageGenerator:
    mask = context.mask
    if mask is None or not mask.any():
        yield 1.0
        return photo, "no mask painted: nothing to fill"
    width, height = photo.size
    if mask.shape != (height, width):
        raise BadMask(
            f"The mask is {mask.shape[1]}x{mask.shape[0]} pixels but the photo is {width}x{height}; "
            "paint or export the mask at the photo's size."
        )
    src = photo.float_pixels()
    out = src.copy()
    if settings.engine == "lama":
        net, device = context.model_manager().torchscript_network(settings.model_path)
        margin = 128  # LaMa needs wide context around each hole
    else:
        margin = max(16, settings.radius * 4)
    regions = mask_regions(mask, margin=margin)
    for done, (y0, y1, x0, x1) in enumerate(regions):
        crop_mask = mask[y0:y1, x0:x1]
        if settings.engine == "lama":
            filled = inpaint_lama(src[y0:y1, x0:x1], crop_mask, net, device)
        else:
            filled = inpaint_classic(src[y0:y1, x0:x1], crop_mask, settings.engine, settings.radius)
        out[y0:y1, x0:x1][crop_mask] = np.clip(filled[crop_mask], 0.0, 1.0)
        yield (done + 1) / len(regions)
    fraction = float(mask.mean()) * 100
    return photo.with_pixels(out), f"filled {fraction:.2f} % of the photo ({settings.engine})"
