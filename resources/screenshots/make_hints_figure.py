"""Make README's hints figure: a 1940s portrait coloured without hints and with three.

    .venv/bin/python resources/screenshots/make_hints_figure.py

Runs the colour stage alone on ../shared/data/old_photos/DeOldify_test_images/40sCouple.jpg, as
`restorer run 40sCouple.jpg -o out --stages colorize` and again with `--hints hints.json` (HINTS),
and writes colorize-hints.jpg next to this script: the scan, ColorNet without hints, and with the
hints, each marked by a yellow ring, a caption above each panel.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from figure_kit import DATA, fit_height, missing, restore, rows_figure, save
from PIL import Image, ImageDraw, ImageFont

PHOTO = DATA / "old_photos" / "DeOldify_test_images" / "40sCouple.jpg"
HINTS = [{"x": 0.88, "y": 0.72, "color": "#1b2a4a"}, {"x": 0.88, "y": 0.13, "color": "#f2f2f0"},
         {"x": 0.62, "y": 0.42, "color": "#e0b294"}]
CAPTIONS = ("scan (old_photos, DeOldify set)", "ColorNet, no hints", "3 hints: navy uniform, white cap, his cheek")
PANEL_HEIGHT = 580
CAPTION_HEIGHT = 34


def main() -> int:
    if not PHOTO.exists():
        return missing(PHOTO)
    with tempfile.TemporaryDirectory() as tmp:
        hints = Path(tmp) / "hints.json"
        hints.write_text(json.dumps(HINTS))
        panels = [Image.open(PHOTO).convert("RGB"), restore(PHOTO, Path(tmp) / "plain"),
                  restore(PHOTO, Path(tmp) / "hinted", "--hints", str(hints))]
    panels = [fit_height(p, PANEL_HEIGHT) for p in panels]
    ring = ImageDraw.Draw(panels[2])
    for hint in HINTS:
        x, y = hint["x"] * (panels[2].width - 1), hint["y"] * (panels[2].height - 1)
        ring.ellipse((x - 8, y - 8, x + 8, y + 8), outline=(255, 215, 0), width=3)
    captioned = []
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 18)
    except OSError:
        font = ImageFont.load_default()
    for panel, caption in zip(panels, CAPTIONS):
        framed = Image.new("RGB", (panel.width, PANEL_HEIGHT + CAPTION_HEIGHT), "white")
        framed.paste(panel, (0, CAPTION_HEIGHT))
        ImageDraw.Draw(framed).text((4, 6), caption, fill="black", font=font)
        captioned.append(framed)
    return save(rows_figure([captioned], PANEL_HEIGHT + CAPTION_HEIGHT, gap=10), "colorize-hints.jpg")


if __name__ == "__main__":
    sys.exit(main())
