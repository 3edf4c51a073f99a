"""Make README's figure for colour photos taken for toned prints: the photo, the colour stage as it was
(its colours painted over by ColorNet), and as it is (taken for colour, or its own colour kept).

    .venv/bin/python resources/screenshots/make_own_colour_figure.py

Runs the colour stage alone, as `restorer run --stages colorize` does, on three colour photos of
../shared/data/eval, once with the opposite-hue test and the own-colour step turned off in this process
and once as the app runs it, and writes own-colour.jpg next to this script: one row per photo.
"""

from __future__ import annotations

import sys

from figure_kit import DATA, colour_stage, fit_height, missing, rows_figure, save
from PIL import Image

EVAL = DATA / "eval"
PHOTOS = ("Kodak24/kodim16.png", "Set14/coastguard.png", "BSD100/182053.jpg")
ROW_HEIGHT = 240


def main() -> int:
    if not EVAL.is_dir():
        return missing(EVAL)
    from restorer.stages import colorize, own_colour

    rows = []
    for name in PHOTOS:
        saved = colorize.OPPOSITE_HUE_SHARE, own_colour.OWN_COLOUR_FROM, own_colour.OWN_COLOUR_FULL
        colorize.OPPOSITE_HUE_SHARE, own_colour.OWN_COLOUR_FROM, own_colour.OWN_COLOUR_FULL = 2.0, 1e9, 2e9
        before = colour_stage(EVAL / name)
        colorize.OPPOSITE_HUE_SHARE, own_colour.OWN_COLOUR_FROM, own_colour.OWN_COLOUR_FULL = saved
        with Image.open(EVAL / name) as photo:
            rows.append([fit_height(photo.convert("RGB"), ROW_HEIGHT), fit_height(before, ROW_HEIGHT),
                         fit_height(colour_stage(EVAL / name), ROW_HEIGHT)])
    return save(rows_figure(rows, ROW_HEIGHT), "own-colour.jpg")


if __name__ == "__main__":
    sys.exit(main())
