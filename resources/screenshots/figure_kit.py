"""What README's figure scripts share: running a stage as a user would, and laying panels out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT.parent / "shared" / "data"


def restore(photo: Path, out_dir: Path, *options: str, stages: str = "colorize") -> Image.Image:
    """`restorer run PHOTO -o OUT_DIR --stages STAGES --format png OPTIONS...`, the result as RGB."""
    subprocess.run([sys.executable, "-m", "restorer", "run", str(photo), "-o", str(out_dir), "--stages", stages,
                    "--format", "png", *options], check=True, stdout=subprocess.DEVNULL)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def colour_stage(photo: Path) -> Image.Image:
    """The colour stage alone on `photo`, as `restorer run --stages colorize` runs it, but in this process
    (so a figure can turn one of its steps off by setting a module constant), as an RGB image."""
    import numpy as np

    from restorer.imaging import read_photo
    from restorer.pipeline import run_to_end
    from restorer.recipe import Recipe

    result = run_to_end(Recipe().with_enabled({"colorize"}), read_photo(photo)).float_pixels()
    return Image.fromarray((np.clip(result, 0, 1) * 255 + 0.5).astype(np.uint8))


def fit_height(image: Image.Image, height: int) -> Image.Image:
    return image.resize((round(image.width * height / image.height), height), Image.LANCZOS)


def rows_figure(rows: list[list[Image.Image]], row_height: int, gap: int = 6) -> Image.Image:
    """The panels of each row side by side (top-aligned), rows `row_height` apart plus `gap`, on white."""
    width = max(sum(p.width for p in row) + gap * (len(row) - 1) for row in rows)
    figure = Image.new("RGB", (width, len(rows) * (row_height + gap) - gap), "white")
    for r, row in enumerate(rows):
        x = 0
        for panel in row:
            figure.paste(panel, (x, r * (row_height + gap)))
            x += panel.width + gap
    return figure


def save(figure: Image.Image, name: str) -> int:
    figure.save(HERE / name, quality=88)
    print(HERE / name)
    return 0


def missing(path: Path) -> int:
    print(f"{path} is not here; the figure needs ../shared/data", file=sys.stderr)
    return 1
