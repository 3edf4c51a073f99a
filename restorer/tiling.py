"""Overlapping-tile inference with memory bounded by the tile, not the image.

Each tile is run with up to `pad` pixels of real context on every side
(none beyond the photo's border, exactly as a single pass would see it) and
only its centre is kept, so every output pixel is computed with nearly the
context it would have had in one pass: no seams, and no blending needed. The result is assembled straight into a
uint16 array (or float32 for small images), never into a float32 copy of a
large result.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from restorer.models.precision import Runtime

# Past this many output pixels the result is stored as uint16 (half the memory of float32).
_FLOAT_OUTPUT_LIMIT = 16_000_000


def tile_grid(length: int, tile: int, context: int = 0) -> list[int]:
    """Start offsets of the fewest, nearly equal cores covering [0, length) whose windows (a core and up to
    `context` pixels each side, clipped to [0, length)) are no longer than `tile + 2 * context`.

    The window, not the core, is what costs memory and time, so a photo a little longer than `tile`
    is one window, not a full tile plus a sliver that repeats the full tile's context (a 512-pixel
    side in tiles of 448 with 80 of context cost 512 + 144 pixels of work that way, 1.28 times one
    pass; in area, 1.64 times).
    """
    length = max(length, 1)

    def fits(count: int) -> bool:
        core = -(-length // count)  # the longest core when `count` cores share the length
        if count == 1:
            return length <= tile + 2 * context
        if count == 2:  # two edge windows: context on one side only
            return core + context <= tile + 2 * context
        return core <= tile  # middle windows carry context on both sides

    count = 1
    while not fits(count):
        count += 1
    return [length * i // count for i in range(count)]


@dataclass(frozen=True)
class Window:
    """One tile: its core [y, y_end) x [x, x_end), which is kept, inside [y0, y1) x [x0, x1),
    the core plus up to `context` pixels on every side, clipped to the image, which is processed."""

    y: int
    x: int
    y_end: int
    x_end: int
    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def core_in_window(self) -> tuple[slice, slice]:
        """The core's rows and columns within the processed window."""
        return slice(self.y - self.y0, self.y_end - self.y0), slice(self.x - self.x0, self.x_end - self.x0)


def windows(height: int, width: int, core: int, context: int) -> list[Window]:
    """Raster-order tiles covering the image (cores of at most `core` pixels a side, or one window a little
    larger: see tile_grid), each with its clipped context."""
    out = []
    rows, columns = tile_grid(height, core, context), tile_grid(width, core, context)
    for i, y in enumerate(rows):
        y_end = rows[i + 1] if i + 1 < len(rows) else height
        for j, x in enumerate(columns):
            x_end = columns[j + 1] if j + 1 < len(columns) else width
            out.append(Window(y, x, y_end, x_end, max(0, y - context), min(height, y_end + context),
                              max(0, x - context), min(width, x_end + context)))
    return out


# Context each tile gets on every side. Measured on a photo with x4plus and our PSNR network
# (fp32, tile 64): the largest difference from a single pass, away from the photo's border, was
# 27 / 9.4 / 2.5 of 255 at alpha 1 with 32 / 48 / 64 pixels of context; on Kodak's kodim15
# (`restorer eval seams`) 1.44 with 64 and 0.29 with 80. 80 leaves a wide margin under the
# 2/255 budget for about 11 % more compute than 64 at the default tile.
SEAMLESS_PAD = 80


def run_tiled(net, rgb: np.ndarray, *, scale: int, runtime: Runtime, tile: int = 448, pad: int = SEAMLESS_PAD,
              out_dtype: type | None = None, ensemble: bool = False,
              cancel=None) -> Generator[float, None, np.ndarray]:
    """Apply `net` (RGB (N,3,h,w) in [0,1] -> (N,3,h*scale,w*scale)) to a whole photo.

    `rgb` is float32 (H, W, 3) in [0, 1]. Yields progress fractions and returns
    (H*scale, W*scale, 3): float32 in [0, 1] for small results, else uint16
    in [0, 65535] (pass `out_dtype` to force one). With `ensemble`, each tile
    is the mean of eight passes over its flips and rotations (see
    restorer.models.self_ensemble), with a progress step after each pass. Networks with
    `forward_steps` (RRDBNet) report, and can be cancelled, after every convolution; engines
    that can stop inside a call (`supports_cancel`) are handed `cancel`, the run's token.
    """
    import torch

    from restorer.models.self_ensemble import DIHEDRAL, IDENTITY, transform, untransform

    height, width = rgb.shape[:2]
    out_h, out_w = height * scale, width * scale
    if out_dtype is None:
        out_dtype = np.float32 if out_h * out_w <= _FLOAT_OUTPUT_LIMIT else np.uint16
    out = np.empty((out_h, out_w, 3), dtype=out_dtype)
    device = torch.device(runtime.device)
    # Context only where the photo has pixels: at its border the network zero-pads,
    # as it would in one pass, and a small photo costs no more than one pass.
    grid = windows(height, width, tile, pad)
    passes = DIHEDRAL if ensemble else IDENTITY
    with torch.inference_mode():
        for done, win in enumerate(grid, start=1):
            y, x, y0, y1, x0, x1 = win.y, win.x, win.y0, win.y1, win.x0, win.x1
            th, tw = win.y_end - y, win.x_end - x
            # A permuted view of numpy's HWC buffer has an odd batch stride that passes the
            # channels_last check but halves oneDNN's speed: build a standard tensor instead.
            patch = torch.from_numpy(np.ascontiguousarray(rgb[y0:y1, x0:x1])).permute(2, 0, 1).contiguous()[None]
            patch = patch.to(device).contiguous(memory_format=torch.channels_last)
            top, left = (y - y0) * scale, (x - x0) * scale
            crop = None
            for step, (turns, mirror) in enumerate(passes, start=1):
                # A rotated view is strided: give the network the layout its kernels are tuned for.
                turned = transform(patch, turns, mirror).contiguous(memory_format=torch.channels_last)
                if hasattr(net, "forward_steps"):
                    # Progress, and a chance to cancel, after every convolution: one tile of a large
                    # photo can take minutes on a laptop CPU. Autocast is entered around each piece
                    # of work inside, never while this generator is suspended.
                    base, share = (done - 1 + (step - 1) / len(passes)) / len(grid), 1 / (len(grid) * len(passes))
                    steps = net.forward_steps(turned, runtime.autocast_context)
                    while True:
                        try:
                            fraction = next(steps)
                        except StopIteration as finished:
                            moved = finished.value
                            break
                        yield base + share * min(float(fraction), 0.999)
                elif getattr(net, "supports_cancel", False):
                    moved = net(turned, cancel=cancel)  # stops inside the call when cancelled
                else:
                    with runtime.autocast_context():
                        moved = net(turned)
                # Only the kept core goes to float32, not the context around it.
                core = untransform(moved, turns, mirror)[0, :, top : top + th * scale, left : left + tw * scale].float()
                crop = core if crop is None else crop.add_(core)
                if step < len(passes):
                    yield (done - 1 + step / len(passes)) / len(grid)
            if len(passes) > 1:
                crop.div_(len(passes))
            crop = crop.clamp_(0.0, 1.0).permute(1, 2, 0).cpu().numpy()
            target = out[y * scale : (y + th) * scale, x * scale : (x + tw) * scale]
            if out_dtype == np.uint16:
                np.multiply(crop, 65535.0, out=crop)
                crop += 0.5
                target[...] = crop.astype(np.uint16)
            else:
                target[...] = crop
            yield done / len(grid)
    return out
