"""`restorer eval seams`: does tiling leave seams? Tiled against single-pass super resolution.

A crop of a photo is enlarged x4 once in a single pass and once in small
tiles (so that several tile borders cross it), for each amount of context.
Reported per context: the largest difference anywhere away from the photo's
border, in bands 8 px either side of the tile borders ("at seams"), and
inside the tiles, in levels of 255. With fp32 the single pass is
reproducible to the bit, so any difference is the tiling's; with bf16 the
kernels round differently for different tile shapes, which shows as the same
small differences inside the tiles as at their borders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restorer.imaging import read_photo
from restorer.stages import drain
from restorer.tiling import run_tiled

_TILE = 64
_BORDER = 16  # input pixels near the photo's edge, left out (the "away from image borders")


def measure_seams(image_path: Path, *, alpha: float = 1.0, precision: str = "fp32", pads: tuple[int, ...] = (64, 80),
                  size: int = 192) -> dict:
    from restorer.models.manager import ModelManager

    rgb = read_photo(Path(image_path)).float_pixels()
    h, w = rgb.shape[:2]
    y0, x0 = max(0, (h - size) // 2), max(0, (w - size) // 2)
    crop = np.ascontiguousarray(rgb[y0 : y0 + size, x0 : x0 + size])
    net, runtime = ModelManager().sr_network(alpha, precision)
    whole = drain(run_tiled(net, crop, scale=4, runtime=runtime, tile=max(crop.shape[:2]), out_dtype=np.float32))
    inner = (slice(4 * _BORDER, -4 * _BORDER), slice(4 * _BORDER, -4 * _BORDER))
    seam = np.zeros(whole.shape[:2], bool)
    for edge in range(4 * _TILE, max(whole.shape[:2]), 4 * _TILE):
        seam[edge - 8 : edge + 8, :] = True
        seam[:, edge - 8 : edge + 8] = True
    seam = seam[inner]
    rows = []
    for pad in pads:
        tiled = drain(run_tiled(net, crop, scale=4, runtime=runtime, tile=_TILE, pad=pad, out_dtype=np.float32))
        diff = (np.abs(whole[inner] - tiled[inner]) * 255).max(axis=2)
        rows.append({"pad": pad, "max": float(diff.max()), "at_seams": float(diff[seam].max()),
                     "inside_tiles": float(diff[~seam].max())})
    return {"task": "seams", "image": str(image_path), "alpha": alpha, "runtime": runtime.label, "tile": _TILE,
            "crop": list(crop.shape[:2]), "pads": rows}
