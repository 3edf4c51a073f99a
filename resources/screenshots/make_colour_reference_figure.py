"""Make README's colour reference figure: three old prints coloured alone and steered by a reference photo.

    .venv/bin/python resources/screenshots/make_colour_reference_figure.py

For each print of ../shared/data/old_photos and its Kodak reference (PAIRS), runs the colour stage
alone as a user would (`restorer run PRINT --stages colorize`, then again with
`--colour-reference REFERENCE`) and writes colour-reference.jpg next to this script, one row per
print: the scan, ColorNet alone, ColorNet steered by the reference, and the reference at half height.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from figure_kit import DATA, fit_height, missing, restore, rows_figure, save
from PIL import Image

OLD = DATA / "old_photos" / "DeOldify_test_images"
KODAK = DATA / "eval" / "Kodak24"
PAIRS = (("1895BikeMaidens.jpg", "kodim22.png"), ("40sCouple.jpg", "kodim18.png"), ("Paris1926.jpg", "kodim24.png"))
ROW_HEIGHT = 320


def main() -> int:
    if not OLD.is_dir() or not KODAK.is_dir():
        return missing(OLD if not OLD.is_dir() else KODAK)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, reference) in enumerate(PAIRS):
            photo, guide, work = OLD / name, KODAK / reference, Path(tmp) / str(index)
            panels = [Image.open(photo).convert("RGB"), restore(photo, work / "auto"),
                      restore(photo, work / "steered", "--colour-reference", str(guide))]
            rows.append([fit_height(p, ROW_HEIGHT) for p in panels]
                        + [fit_height(Image.open(guide).convert("RGB"), ROW_HEIGHT // 2)])
    return save(rows_figure(rows, ROW_HEIGHT), "colour-reference.jpg")


if __name__ == "__main__":
    sys.exit(main())
