"""Make README's skin figure: faces on old prints coloured with the skin step off and on.

    .venv/bin/python resources/screenshots/make_skin_figure.py

Runs the colour stage alone (`restorer run --stages colorize`, with `--skin off` and then the
default) on three black-and-white prints of ../shared/data/old_photos and writes skin.jpg next to
this script: for each print, the largest face YuNet finds with some of its surroundings, off
above on.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OLD = ROOT.parent / "shared" / "data" / "old_photos"
PRINTS = ("DeOldify_test_images/40sCouple.jpg", "DeOldify_test_images/Dolores1920s.jpg",
          "BringingOldPhotos_test_images/old_w_scratch/c.png")
PANEL = 300  # pixels per side of each crop in the figure


def restore(photo: Path, out_dir: Path, *extra: str) -> Image.Image:
    subprocess.run([sys.executable, "-m", "restorer", "run", str(photo), "-o", str(out_dir), "--stages", "colorize",
                    "--format", "png", *extra], check=True, stdout=subprocess.DEVNULL)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def face_crop(photo: Path) -> tuple[int, int, int, int]:
    from restorer.faces.detect import detect_faces

    pixels = np.asarray(Image.open(photo).convert("RGB"), np.float32) / 255.0
    x, y, w, h = max(detect_faces(pixels), key=lambda face: face.box[2]).box
    side = 1.9 * max(w, h)
    cx, cy = x + w / 2, y + h / 2
    return int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2)


def main() -> int:
    if not OLD.is_dir():
        print(f"{OLD} is not here; the figure needs ../shared/data", file=sys.stderr)
        return 1
    columns = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, name in enumerate(PRINTS):
            photo = OLD / name
            box = face_crop(photo)
            work = Path(tmp) / str(index)
            columns.append([restore(photo, work / "off", "--skin", "off").crop(box).resize((PANEL, PANEL), Image.LANCZOS),
                            restore(photo, work / "on").crop(box).resize((PANEL, PANEL), Image.LANCZOS)])
    gap = 6
    figure = Image.new("RGB", (len(columns) * (PANEL + gap) - gap, 2 * PANEL + gap), "white")
    for c, (off, on) in enumerate(columns):
        figure.paste(off, (c * (PANEL + gap), 0))
        figure.paste(on, (c * (PANEL + gap), PANEL + gap))
    figure.save(HERE / "skin.jpg", quality=88)
    print(HERE / "skin.jpg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
