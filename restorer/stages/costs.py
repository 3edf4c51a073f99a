"""How much of a run each stage takes, so that one progress bar (and its time left) moves evenly.

Stages differ by orders of magnitude: the x4 enlargement of a 640 x 480 scan is
about 5.5 T multiply-adds, the colorizer (which works at a 256-pixel short side)
about 13 G whatever the photo's size. Equal shares per stage would show 75 %
done when the enlargement starts, and a time left that is a few seconds when it
is minutes. The figures below are multiply-adds per input pixel of each network,
counted with forward hooks on its convolutions (restorer.models.archs, bundled
weights); the classic methods get rough equivalents. Only the ratios matter, and
only roughly: an engine faster for one network (ONNX Runtime, int8, a GPU) moves
the shares a little, not by orders of magnitude.
"""

from __future__ import annotations

from restorer.recipe import Recipe
from restorer.stages.colorize import WORKING_SHORT_SIDE  # ColorNet's input size

# Multiply-adds per input pixel (measured on 128 x 128 inputs; x4 networks per pixel they enlarge).
ARTIFACTNET = 373_000
INPAINTNET = 149_000 * 1.4  # the coarser working scales add about 40 %
SCRATCHNET = 200_000
COLORNET = 194_000
RRDBNET_X4 = 17_900_000 * 1.3  # tiles overlap by their context
FASTSR = 88_000
# The classic methods, in the same currency: what they cost on two cores, as MACs would.
NON_LOCAL_MEANS = 100_000
CLASSIC_INPAINT = 5_000
RESAMPLING = 300
COLOUR_REVIVAL = 1_000


def stage_costs(recipe: Recipe, size: tuple[int, int]) -> list[float]:
    """Relative cost of each enabled stage of `recipe`, in order, for a photo of `size` (width, height)."""
    width, height = size
    pixels = float(max(1, width * height))
    costs = []
    for stage in recipe.enabled_stages():
        settings = recipe.settings(stage)
        if stage == "artifacts":
            costs.append(pixels * (ARTIFACTNET if settings.engine == "model" else NON_LOCAL_MEANS))
        elif stage == "inpaint":
            fill = INPAINTNET if settings.engine in ("model", "lama") else CLASSIC_INPAINT
            costs.append(pixels * (fill + (SCRATCHNET if settings.detect else 0)))
        elif stage == "colorize":
            short = min(width, height)
            working = pixels * min(1.0, WORKING_SHORT_SIDE / max(1, short)) ** 2
            costs.append(working * COLORNET + pixels * COLOUR_REVIVAL)
        elif stage == "upscale":
            if settings.engine == "lanczos":
                per_pixel = RESAMPLING * settings.scale ** 2
            elif settings.quality == "fast" and not settings.checkpoint:
                per_pixel = FASTSR
            else:
                per_pixel = RRDBNET_X4 * (8 if settings.ensemble else 1)
            costs.append(pixels * per_pixel)
        else:
            costs.append(pixels * COLOUR_REVIVAL)
    return costs


def progress_shares(recipe: Recipe, size: tuple[int, int]) -> list[tuple[float, float]]:
    """(start, width) of each enabled stage on a 0..1 progress bar, in order, by `stage_costs`."""
    costs = stage_costs(recipe, size)
    total = sum(costs) or 1.0
    # Every stage keeps a sliver of the bar, so that even a cheap one visibly starts and ends.
    floor = 0.01
    widths = [max(c / total, floor) for c in costs]
    scale = 1.0 / sum(widths)
    shares, start = [], 0.0
    for width in widths:
        shares.append((start, width * scale))
        start += width * scale
    return shares
