"""Make README's whites figure: black-and-white prints coloured with ColorNet's highlights as they come, and
with light yellowish chroma scaled down (restorer.stages.highlights, the default).

    .venv/bin/python resources/screenshots/make_whites_figure.py

Runs the colour stage alone, as `restorer run --stages colorize` does, on three prints of
../shared/data/old_photos, once with the step turned off in this process (HIGHLIGHT_KEEP 1: nothing
taken) and once as the app runs it, and writes whites.jpg next to this script: off above on.
"""

from __future__ import annotations

import sys

from figure_kit import DATA, colour_stage, fit_height, missing, rows_figure, save

OLD = DATA / "old_photos" / "DeOldify_test_images"
PRINTS = ("JerseyShore1905.jpg", "WWIHospital.jpg", "1920CobblersShopLondon.jpg")
ROW_HEIGHT = 380


def coloured(name: str):
    return fit_height(colour_stage(OLD / name), ROW_HEIGHT)


def main() -> int:
    if not OLD.is_dir():
        return missing(OLD)
    from restorer.stages import highlights

    kept = highlights.HIGHLIGHT_KEEP
    highlights.HIGHLIGHT_KEEP = 1.0
    off_row = [coloured(name) for name in PRINTS]
    highlights.HIGHLIGHT_KEEP = kept
    on_row = [coloured(name) for name in PRINTS]
    return save(rows_figure([off_row, on_row], ROW_HEIGHT), "whites.jpg")


if __name__ == "__main__":
    sys.exit(main())
