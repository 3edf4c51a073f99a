"""Make README's tone figure: faded black-and-white prints with and without their blacks given back.

    .venv/bin/python resources/screenshots/make_tone_figure.py

For three prints of ../shared/data/old_photos whose shadows have faded to a veil, runs the colour
stage alone (`restorer run --stages colorize`) three ways and writes tone.jpg next to this script,
one row per print: the scan; colorized with `--tone off` (as before the tone step); colorized as
the default does (tone on); and "Revive faded prints only" (`--tone on`, engine revive: the blacks
back, no new colour).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OLD = ROOT.parent / "shared" / "data" / "old_photos" / "DeOldify_test_images"
PRINTS = ("PiggyBackRide.jpg", "Dolores1920s.jpg", "1897BlindmansBluff.jpg")
PANEL_HEIGHT = 360


def restore(photo: Path, out_dir: Path, *extra: str) -> Image.Image:
    subprocess.run([sys.executable, "-m", "restorer", "run", str(photo), "-o", str(out_dir), "--stages", "colorize",
                    "--format", "png", *extra], check=True, stdout=subprocess.DEVNULL)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def main() -> int:
    if not OLD.is_dir():
        print(f"{OLD} is not here; the figure needs ../shared/data", file=sys.stderr)
        return 1
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        revive_recipe = Path(tmp) / "revive.json"
        revive_recipe.write_text(json.dumps({"version": 1, "stages": [
            {"stage": "colorize", "enabled": True, "settings": {"engine": "revive"}}]}))
        for index, name in enumerate(PRINTS):
            photo = OLD / name
            work = Path(tmp) / str(index)
            rows.append([Image.open(photo).convert("RGB"), restore(photo, work / "off", "--tone", "off"),
                         restore(photo, work / "on"), restore(photo, work / "revive", "--preset", str(revive_recipe))])
    gap = 8
    scaled = [[panel.resize((round(panel.width * PANEL_HEIGHT / panel.height), PANEL_HEIGHT), Image.LANCZOS)
               for panel in row] for row in rows]
    width = max(sum(p.width for p in row) + gap * (len(row) - 1) for row in scaled)
    figure = Image.new("RGB", (width, len(scaled) * PANEL_HEIGHT + gap * (len(scaled) - 1)), "white")
    for r, row in enumerate(scaled):
        x = 0
        for panel in row:
            figure.paste(panel, (x, r * (PANEL_HEIGHT + gap)))
            x += panel.width + gap
    figure.save(HERE / "tone.jpg", quality=88)
    print(HERE / "tone.jpg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
