"""`restorer detect`: faces, scratches and halftone screens found in photos, for scripts (one JSON object)
and for masks.

Per photo: the face boxes [x, y, w, h] in its pixels (upright, as Restorer reads
it), the fraction of its area the scratch detector proposes as damage, and the
halftone screen of a printed photo ({"period": px, "angle": degrees} or null);
with a mask folder, the proposal is written there as `<name>_scratches.png` (white =
damage), the format `restorer run --mask` and the window's Import Mask read.
"""

from __future__ import annotations

from pathlib import Path


def detect_photo(path: Path, *, faces: bool, scratches: bool, screens: bool = False,
                 mask_dir: Path | None = None) -> dict:
    """{"path", "faces", "scratch_fraction", "screen"} for one photo; raises RestorerError when it cannot be read."""
    from restorer.imaging import read_photo

    pixels = read_photo(path).float_pixels()
    row: dict = {"path": str(path), "faces": [], "scratch_fraction": None, "screen": None}
    if screens:
        from restorer.stages.descreen import find_screen

        screen = find_screen(pixels)
        if screen is not None:
            row["screen"] = {"period": round(screen.period, 2), "angle": round(screen.angle, 1)}
    if faces:
        from restorer.faces.detect import detect_faces

        row["faces"] = [[round(v, 1) for v in face.box] for face in detect_faces(pixels)]
    if scratches:
        from restorer.stages.scratches import detect_scratches

        mask = detect_scratches(pixels, unattended=True)  # what `run --detect-scratches` would fill
        row["scratch_fraction"] = round(float(mask.mean()), 6)
        if mask_dir is not None:
            from restorer.batch.task import _write_mask

            target = Path(mask_dir) / f"{Path(path).stem}_scratches.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_mask(mask, target)
            row["mask"] = str(target)
    return row
