"""Make README's grain figure: the lost corner of a 1920s shop print filled without and with its grain.

    .venv/bin/python resources/screenshots/make_grain_figure.py

The hole is the corner's hand-painted damage label (resources/labels/old_photos_damage, the part
of it inside CORNER). Runs `restorer run --mask ... --stages inpaint` on
../shared/data/old_photos/DeOldify_test_images/1920CobblersShopLondon.jpg with `--fill-grain off`
and then the default (on), and writes grain-fill.jpg next to this script: the scan, the fill
without grain, the fill with the photo's grain, each the same crop at 2x.
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
NAME = "DeOldify_test_images/1920CobblersShopLondon.jpg"
PHOTO = ROOT.parent / "shared" / "data" / "old_photos" / NAME
LABEL = ROOT / "resources" / "labels" / "old_photos_damage" / "DeOldify_test_images__1920CobblersShopLondon.png"
CORNER = (1150, 40, 1360, 250)  # photo pixels (x0, y0, x1, y1): the lost top-right corner and its surroundings
ZOOM = 2


def restore(out_dir: Path, mask: Path, grain: str) -> Image.Image:
    subprocess.run([sys.executable, "-m", "restorer", "run", str(PHOTO), "-o", str(out_dir), "--mask", str(mask),
                    "--stages", "inpaint", "--fill-grain", grain, "--format", "png"], check=True)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def main() -> int:
    if not PHOTO.exists():
        print(f"{PHOTO} is not here; the figure needs ../shared/data", file=sys.stderr)
        return 1
    label = np.asarray(Image.open(LABEL)) == 255
    x0, y0, x1, y1 = CORNER
    hole = np.zeros_like(label)
    hole[y0:y1, x0:x1] = label[y0:y1, x0:x1]
    with tempfile.TemporaryDirectory() as tmp:
        mask = Path(tmp) / "corner.png"
        Image.fromarray(hole.astype(np.uint8) * 255).save(mask)
        panels = [Image.open(PHOTO).convert("RGB"), restore(Path(tmp) / "off", mask, "off"),
                  restore(Path(tmp) / "on", mask, "on")]
    size = ((x1 - x0) * ZOOM, (y1 - y0) * ZOOM)
    gap = 8
    figure = Image.new("RGB", (3 * size[0] + 2 * gap, size[1]), "white")
    for i, panel in enumerate(panels):
        figure.paste(panel.crop(CORNER).resize(size, Image.NEAREST), (i * (size[0] + gap), 0))
    figure.save(HERE / "grain-fill.jpg", quality=90)
    print(HERE / "grain-fill.jpg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
