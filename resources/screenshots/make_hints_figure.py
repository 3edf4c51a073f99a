"""Make README's hints figure: a 1940s portrait coloured without hints and with three.

    .venv/bin/python resources/screenshots/make_hints_figure.py

Runs the colour stage alone on ../shared/data/old_photos/DeOldify_test_images/40sCouple.jpg, as
`restorer run 40sCouple.jpg -o out --stages colorize` and again with `--hints hints.json` (HINTS),
and writes colorize-hints.jpg next to this script: the scan, ColorNet without hints, and with the
hints, each marked by a yellow ring, a caption above each panel.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "old_photos" / "DeOldify_test_images" / "40sCouple.jpg"
HINTS = [{"x": 0.88, "y": 0.72, "color": "#1b2a4a"}, {"x": 0.88, "y": 0.13, "color": "#f2f2f0"},
         {"x": 0.62, "y": 0.42, "color": "#e0b294"}]
CAPTIONS = ("scan (old_photos, DeOldify set)", "ColorNet, no hints", "3 hints: navy uniform, white cap, his cheek")
PANEL_HEIGHT = 580
CAPTION_HEIGHT = 34


def restore(out_dir: Path, *extra: str) -> Image.Image:
    subprocess.run([sys.executable, "-m", "restorer", "run", str(PHOTO), "-o", str(out_dir), "--stages", "colorize",
                    "--format", "png", *extra], check=True, stdout=subprocess.DEVNULL)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def main() -> int:
    if not PHOTO.exists():
        print(f"{PHOTO} is not here; the figure needs ../shared/data", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        hints = Path(tmp) / "hints.json"
        hints.write_text(json.dumps(HINTS))
        panels = [Image.open(PHOTO).convert("RGB"), restore(Path(tmp) / "plain"),
                  restore(Path(tmp) / "hinted", "--hints", str(hints))]
    panels = [p.resize((round(p.width * PANEL_HEIGHT / p.height), PANEL_HEIGHT), Image.LANCZOS) for p in panels]
    ring = ImageDraw.Draw(panels[2])
    for hint in HINTS:
        x, y = hint["x"] * (panels[2].width - 1), hint["y"] * (panels[2].height - 1)
        ring.ellipse((x - 8, y - 8, x + 8, y + 8), outline=(255, 215, 0), width=3)
    gap = 10
    figure = Image.new("RGB", (sum(p.width for p in panels) + gap * (len(panels) - 1), PANEL_HEIGHT + CAPTION_HEIGHT),
                       "white")
    draw = ImageDraw.Draw(figure)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 18)
    except OSError:
        font = ImageFont.load_default()
    x = 0
    for panel, caption in zip(panels, CAPTIONS):
        figure.paste(panel, (x, CAPTION_HEIGHT))
        draw.text((x + 4, 6), caption, fill="black", font=font)
        x += panel.width + gap
    figure.save(HERE / "colorize-hints.jpg", quality=88)
    print(HERE / "colorize-hints.jpg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
