"""Make README's tone figure: faded black-and-white prints with and without their blacks given back.

    .venv/bin/python resources/screenshots/make_tone_figure.py

For three prints of ../shared/data/old_photos whose shadows have faded to a veil, runs the colour
stage alone (`restorer run --stages colorize`) three ways and writes tone.jpg next to this script,
one row per print: the scan; colorized with `--tone off` (as before the tone step); colorized as
the default does (tone on); and "Revive faded prints only" (engine revive: the blacks back, no new
colour).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from figure_kit import DATA, fit_height, missing, restore, rows_figure, save
from PIL import Image

OLD = DATA / "old_photos" / "DeOldify_test_images"
PRINTS = ("PiggyBackRide.jpg", "Dolores1920s.jpg", "1897BlindmansBluff.jpg")
ROW_HEIGHT = 360


def main() -> int:
    if not OLD.is_dir():
        return missing(OLD)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        revive = Path(tmp) / "revive.json"
        revive.write_text(json.dumps({"version": 1, "stages": [
            {"stage": "colorize", "enabled": True, "settings": {"engine": "revive"}}]}))
        for index, name in enumerate(PRINTS):
            photo, work = OLD / name, Path(tmp) / str(index)
            panels = [Image.open(photo).convert("RGB"), restore(photo, work / "off", "--tone", "off"),
                      restore(photo, work / "on"), restore(photo, work / "revive", "--preset", str(revive))]
            rows.append([fit_height(panel, ROW_HEIGHT) for panel in panels])
    return save(rows_figure(rows, ROW_HEIGHT, gap=8), "tone.jpg")


if __name__ == "__main__":
    sys.exit(main())
