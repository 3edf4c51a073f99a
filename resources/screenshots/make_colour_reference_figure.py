"""Make README's colour reference figure: three old prints coloured alone and steered by a reference photo.

    .venv/bin/python resources/screenshots/make_colour_reference_figure.py

For each print of ../shared/data/old_photos and its Kodak reference (PAIRS), runs the colour stage
alone as a user would (`restorer run PRINT --stages colorize`, then again with
`--colour-reference REFERENCE`) and writes colour-reference.jpg next to this script, one row per
print: the scan, ColorNet alone, ColorNet steered by the reference, and the reference at half height.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT.parent / "shared" / "data"
OLD = DATA / "old_photos" / "DeOldify_test_images"
KODAK = DATA / "eval" / "Kodak24"
PAIRS = (("1895BikeMaidens.jpg", "kodim22.png"), ("40sCouple.jpg", "kodim18.png"), ("Paris1926.jpg", "kodim24.png"))
PANEL_HEIGHT = 320


def restore(photo: Path, out_dir: Path, *extra: str) -> Image.Image:
    subprocess.run([sys.executable, "-m", "restorer", "run", str(photo), "-o", str(out_dir), "--stages", "colorize",
                    "--format", "png", *extra], check=True, stdout=subprocess.DEVNULL)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def fit_height(image: Image.Image, height: int) -> Image.Image:
    return image.resize((round(image.width * height / image.height), height), Image.LANCZOS)


def main() -> int:
    if not OLD.is_dir() or not KODAK.is_dir():
        print(f"{OLD} or {KODAK} is not here; the figure needs ../shared/data", file=sys.stderr)
        return 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, reference) in enumerate(PAIRS):
            photo, guide = OLD / name, KODAK / reference
            work = Path(tmp) / str(index)
            panels = [Image.open(photo).convert("RGB"), restore(photo, work / "auto"),
                      restore(photo, work / "steered", "--colour-reference", str(guide))]
            rows.append([fit_height(p, PANEL_HEIGHT) for p in panels]
                        + [fit_height(Image.open(guide).convert("RGB"), PANEL_HEIGHT // 2)])
    gap = 6
    width = max(sum(p.width for p in row) + gap * (len(row) - 1) for row in rows)
    figure = Image.new("RGB", (width, len(rows) * (PANEL_HEIGHT + gap) - gap), "white")
    for r, row in enumerate(rows):
        x = 0
        for panel in row:
            figure.paste(panel, (x, r * (PANEL_HEIGHT + gap)))
            x += panel.width + gap
    figure.save(HERE / "colour-reference.jpg", quality=88)
    print(HERE / "colour-reference.jpg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
