"""Make README's descreen figure: a face printed in a magazine, enlarged x4 without and with Descreen.

    .venv/bin/python resources/screenshots/make_descreen_figure.py

Runs `restorer run --stages artifacts,upscale` twice on
../shared/data/old_photos/CodeFormer_inputs/gray_faces/089_Miley_Cyrus_00.png (a four-ink magazine
print, scanned: its screen is 5.6 px), `--descreen off` and then the default (`auto`), and writes
descreen.jpg next to this script: the scan enlarged with bicubic interpolation, Descreen off,
Descreen on, each the same crop around an eye.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PHOTO = ROOT.parent / "shared" / "data" / "old_photos" / "CodeFormer_inputs" / "gray_faces" / "089_Miley_Cyrus_00.png"
RESTORER = [sys.executable, "-m", "restorer"]
CROP = (600, 700, 1160, 1260)  # output pixels (x0, y0, x1, y1): the left eye and cheek
TILE = 400


def restore(out_dir: Path, descreen: str) -> Image.Image:
    subprocess.run(RESTORER + ["run", str(PHOTO), "-o", str(out_dir), "--stages", "artifacts,upscale", "--scale", "4",
                               "--descreen", descreen, "--format", "png"], check=True)
    return Image.open(next(out_dir.glob("*.png"))).convert("RGB")


def main() -> int:
    if not PHOTO.exists():
        print(f"{PHOTO} is not here; the figure needs ../shared/data", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        off = restore(Path(tmp) / "off", "off")
        on = restore(Path(tmp) / "on", "auto")
    bicubic = Image.open(PHOTO).convert("RGB").resize(off.size, Image.Resampling.BICUBIC)
    sheet = Image.new("RGB", (3 * TILE + 8, TILE), "white")
    for col, image in enumerate((bicubic, off, on)):
        sheet.paste(image.crop(CROP).resize((TILE, TILE), Image.Resampling.LANCZOS), (col * (TILE + 4), 0))
    out = HERE / "descreen.jpg"
    sheet.save(out, quality=92)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
