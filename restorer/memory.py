"""How much memory a photo and a restoration need, against what this machine has free.

The window asks before it opens or enlarges something that would not fit, so
a 20000 x 20000 scan is refused with a sentence instead of swapping the
machine to a halt. The figures are estimates from how Restorer stores
pixels, checked against /usr/bin/time on real runs (README: a 3000 x 2000
scan at x4 peaked at 3.45 GiB), not exact accounting.
"""

from __future__ import annotations

from restorer.recipe import Recipe

# Bytes per pixel of an open photo: float32 RGB (12), the viewer's 8-bit image (4), and the
# decoder's own buffer plus the float conversion while reading (up to 15 more).
OPEN_BYTES_PER_PIXEL = 31
# A network runs tile by tile: its working set is bounded by the tile, not the photo. ArtifactNet,
# ColorNet and InpaintNet peaked at 0.9-1.2 GB; this is their allowance.
NETWORK_WORKING_SET = 2_000_000_000
# The enlargement is the exception: x4plus's last layers hold 64-channel feature maps at four times
# the tile's size, 1.5 GB each for the default 448-px tile with 80 px of context on every side
# (608 px in, 2432 px out). One such tile with ONNX Runtime peaked 4.2 GB above the loaded model
# (4.89 GB resident; 3.40 GB with its memory arena off), so about three maps are alive at once.
ENLARGE_FEATURE_MAPS = 3
MIN_TILE = 128  # below this the context (80 px a side) costs more compute than the tile itself
# Results over this many pixels are held as uint16 (6 B/px) instead of float32 (12 B/px).
FLOAT_RESULT_LIMIT = 16_000_000
BUDGET_SHARE = 0.85  # of the memory available when asked: leave room for the system and other programs


def available_bytes() -> int:
    """Memory available to new allocations now (RAM not in use, plus reclaimable caches)."""
    import psutil

    return int(psutil.virtual_memory().available)


def budget_bytes() -> int:
    return int(available_bytes() * BUDGET_SHARE)


def gib(count: float) -> str:
    return f"{count / 2**30:.1f} GB"


def peak_resident_gb() -> float:
    """This process's peak resident memory so far, in GB (it only grows, so each phase's reading
    shows which phase raised it). Linux carries the launching process's peak across exec, which
    is small for a shell."""
    import sys

    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 1e9
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e9 if sys.platform == "darwin" else peak / 1e6  # bytes on macOS, kB elsewhere


def open_bytes(width: int, height: int) -> int:
    return width * height * OPEN_BYTES_PER_PIXEL


def output_size(width: int, height: int, recipe: Recipe) -> tuple[int, int]:
    """The result's size in pixels for a photo of `width` x `height`."""
    if "upscale" in recipe.enabled_stages():
        scale = recipe.settings("upscale").scale
        return width * scale, height * scale
    return width, height


def run_bytes(width: int, height: int, recipe: Recipe) -> int:
    """Peak memory a restoration of a `width` x `height` photo is expected to need."""
    stages = recipe.enabled_stages()
    ow, oh = output_size(width, height, recipe)
    # The window keeps each stage's result to re-run only later stages; results are float32.
    kept = width * height * 12 * (1 + len(stages))
    result = result_bytes(ow * oh) + ow * oh * 4  # + the viewer's image
    spare = budget_bytes() - kept - result
    networks = max([network_working_set(recipe, s, spare) for s in stages if _uses_network(recipe, s)], default=0)
    return kept + result + networks


def result_bytes(pixels: int) -> int:
    """Bytes of a result of `pixels` pixels as the pipeline holds it (float32, uint16 when large)."""
    return pixels * (12 if pixels <= FLOAT_RESULT_LIMIT else 6)


def enlarge_working_set(tile: int) -> int:
    """Bytes the x4 network needs for one tile of `tile` px (plus its context), beyond photo and result."""
    from restorer.tiling import SEAMLESS_PAD

    side = (tile + 2 * SEAMLESS_PAD) * 4  # the x4 network's output per tile
    return max(1_000_000_000, ENLARGE_FEATURE_MAPS * side * side * 64 * 4)  # + the model and runtime


def tile_that_fits(tile: int, spare: int) -> int:
    """The largest tile, at most `tile` and no smaller than MIN_TILE, whose enlargement fits in `spare` bytes.

    Smaller tiles cost only speed (more context is recomputed), so a machine short of memory
    enlarges in smaller pieces instead of swapping or being refused.
    """
    while tile > MIN_TILE and enlarge_working_set(tile) > spare:
        tile = max(MIN_TILE, tile - 32)
    return tile


def enlarge_tile(width: int, height: int, tile: int) -> int:
    """The tile to enlarge a `width` x `height` photo x4 with now: `tile`, or smaller if memory is short."""
    return tile_that_fits(tile, budget_bytes() - result_bytes(width * height * 16))


def network_working_set(recipe: Recipe, stage: str, spare: int) -> int:
    """Bytes a stage's network needs for one tile; the enlargement's at the tile that fits in `spare`."""
    if stage != "upscale":
        return NETWORK_WORKING_SET
    return enlarge_working_set(tile_that_fits(recipe.settings("upscale").tile, spare))


def _uses_network(recipe: Recipe, stage: str) -> bool:
    engine = recipe.settings(stage).engine
    return engine not in ("classic", "telea", "ns", "lanczos", "revive")


def check_open(width: int, height: int, name: str) -> str | None:
    """A sentence when opening a photo this size would not fit in memory, else None."""
    need, budget = open_bytes(width, height), budget_bytes()
    if need <= budget:
        return None
    return (f"{name} is {width} × {height} pixels and needs about {gib(need)} of memory to open, but only "
            f"{gib(budget)} is free; close other programs, or reduce the scan's size first.")


def describe_run(width: int, height: int, recipe: Recipe) -> tuple[str, str | None]:
    """(the result's size as text, a refusal sentence when the run would not fit in memory, else None)."""
    ow, oh = output_size(width, height, recipe)
    need, budget = run_bytes(width, height, recipe), budget_bytes()
    text = f"Result: {width} × {height} → {ow} × {oh} pixels (about {gib(need)} of memory)"
    if need <= budget:
        return text, None
    return text, (f"Restoring this photo to {ow} × {oh} pixels needs about {gib(need)} of memory, but only "
                  f"{gib(budget)} is free; choose a smaller scale or tile, or close other programs.")
