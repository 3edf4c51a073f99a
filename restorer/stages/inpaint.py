"""Inpainting: fill the pixels the user painted over (white in the mask).

Classic engines: OpenCV Telea (fast marching) and Navier-Stokes, run on
16-bit channels so 16-bit scans keep their depth. Only crops around the
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
    regions = mask_regions(mask, margin=max(16, settings.radius * 4))
    for done, (y0, y1, x0, x1) in enumerate(regions):
        crop_mask = mask[y0:y1, x0:x1]
        filled = inpaint_classic(src[y0:y1, x0:x1], crop_mask, settings.engine, settings.radius)
        out[y0:y1, x0:x1][crop_mask] = np.clip(filled[crop_mask], 0.0, 1.0)
        yield (done + 1) / len(regions)
    fraction = float(mask.mean()) * 100
    return photo.with_pixels(out), f"filled {fraction:.2f} % of the photo ({settings.engine})"
