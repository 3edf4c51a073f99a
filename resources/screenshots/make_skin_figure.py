"""Make README's skin figure: faces on old prints coloured with the skin step off and on.

    .venv/bin/python resources/screenshots/make_skin_figure.py

Runs the colour stage alone (`restorer run --stages colorize`, with `--skin off` and then the
default) on three black-and-white prints of ../shared/data/old_photos and writes skin.jpg next to
this script: for each print, the largest face YuNet finds with some of its surroundings, off
above on.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from figure_kit import DATA, missing, restore, rows_figure, save
from PIL import Image

OLD = DATA / "old_photos"
PRINTS = ("DeOldify_test_images/40sCouple.jpg", "DeOldify_test_images/Dolores1920s.jpg",
          "BringingOldPhotos_test_images/old_w_scratch/c.png")
PANEL = 300  # pixels per side of each crop in the figure


def face_crop(photo: Path) -> tuple[int, int, int, int]:
    from restorer.faces.detect import detect_faces

    pixels = np.asarray(Image.open(photo).convert("RGB"), np.float32) / 255.0
    x, y, w, h = max(detect_faces(pixels), key=lambda face: face.box[2]).box
    side = 1.9 * max(w, h)
    cx, cy = x + w / 2, y + h / 2
    return int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2)


def main() -> int:
    if not OLD.is_dir():
        return missing(OLD)
    off_row, on_row = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for index, name in enumerate(PRINTS):
            photo, work = OLD / name, Path(tmp) / str(index)
            box = face_crop(photo)
            off_row.append(restore(photo, work / "off", "--skin", "off").crop(box).resize((PANEL, PANEL), Image.LANCZOS))
            on_row.append(restore(photo, work / "on").crop(box).resize((PANEL, PANEL), Image.LANCZOS))
    return save(rows_figure([off_row, on_row], PANEL), "skin.jpg")


if __name__ == "__main__":
    sys.exit(main())
