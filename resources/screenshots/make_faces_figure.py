"""Make README's faces figure: a group photo enlarged x4 with face handling off and on.

    .venv/bin/python resources/screenshots/make_faces_figure.py

Runs `restorer run --stages upscale` twice on ../shared/data/old_photos/DeOldify_test_images/1920sFamilyPhoto.jpg
(the default Look, alpha 0.7; `--faces off`, then `--faces on` at the default strength), finds the faces with
`restorer detect`, and writes faces-on-off.jpg next to this script: one row per face, the scan enlarged
with bicubic interpolation, faces off, faces on.
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
PHOTO = ROOT.parent / "shared" / "data" / "old_photos" / "DeOldify_test_images" / "1920sFamilyPhoto.jpg"
RESTORER = [sys.executable, "-m", "restorer"]
TILE = 200       # each face crop's side in the figure
FACES_SHOWN = 4  # the largest faces


def restore(out_dir: Path, faces: str) -> Image.Image:
    subprocess.run(RESTORER + ["run", str(PHOTO), "-o", str(out_dir), "--stages", "upscale", "--scale", "4",
                               "--faces", faces, "--format", "png"], check=True)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def main() -> int:
    if not PHOTO.exists():
        print(f"{PHOTO} is not here; the figure needs ../shared/data", file=sys.stderr)
        return 1
    found = subprocess.run(RESTORER + ["detect", str(PHOTO), "--faces", "--json"], check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    boxes = sorted(json.loads(found)["photos"][0]["faces"], key=lambda b: -b[2] * b[3])[:FACES_SHOWN]
    boxes.sort(key=lambda b: b[0])
    with tempfile.TemporaryDirectory() as tmp:
        off = restore(Path(tmp) / "off", "off")
        on = restore(Path(tmp) / "on", "on")
    scan = Image.open(PHOTO).convert("RGB")
    bicubic = scan.resize(off.size, Image.Resampling.BICUBIC)
    sheet = Image.new("RGB", (3 * TILE + 8, len(boxes) * (TILE + 4) - 4), "white")
    for row, (x, y, w, h) in enumerate(boxes):
        side = 1.5 * max(w, h)  # the face with its hair and collar
        cx, cy = x + w / 2, y + h / 2
        crop = tuple(int(round(4 * v)) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
        for col, image in enumerate((bicubic, off, on)):
            tile = image.crop(crop).resize((TILE, TILE), Image.Resampling.LANCZOS)
            sheet.paste(tile, (col * (TILE + 4), row * (TILE + 4)))
    out = HERE / "faces-on-off.jpg"
    sheet.save(out, quality=92)
    print(f"wrote {out} ({len(boxes)} faces)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
