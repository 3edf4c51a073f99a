"""Find where a ScratchNet marks damage on clean training photos: hard negatives for the next version.

On Kodak24, ScratchNet v4 marks 1 % of photos that have no damage at all, on
tyre treads, bead necklaces, face paint, knit edges and spray: textures its
synthetic look-alikes never drew. The training photos hold the same kinds of
texture, so its marks on them are places to show the next version more often,
each as a crop with no damage painted over that spot (train_scratches
`--hard-negatives`).

Only photos without real damage may be mined, since a real scratch taught as
"not damage" would be unlearned: all four training folders hold modern digital
photos (looked at; the one painting in wikipedia_photos is clean), so all are
mined by default.

Usage:
    python -m restorer.training.mine_negatives --data ../shared/data/train \
        --weights weights/scratchnet.safetensors --out runs/scratch_negatives.npz
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

MINED_FOLDERS = ("BSDS500_train", "BSDS500_test", "wikipedia_photos", "imagenet_samples")
_MIN_MARK_PIXELS = 4  # single stray pixels are not worth a crop


def mark_centres(found: np.ndarray, min_pixels: int = _MIN_MARK_PIXELS) -> list[tuple[int, int, int]]:
    """(y, x, area) of each connected mark of a bool mask with at least `min_pixels` pixels."""
    count, _, stats, centroids = cv2.connectedComponentsWithStats(found.astype(np.uint8), connectivity=8)
    return [(int(round(centroids[i][1])), int(round(centroids[i][0])), int(stats[i, cv2.CC_STAT_AREA]))
            for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= min_pixels]


def mine(data: Path, weights: Path | None, folders: tuple[str, ...] = MINED_FOLDERS) -> dict:
    """Every mark the detector (exactly as the app runs it, before growth) makes on the clean photos.

    Returns arrays for np.savez: names (path relative to `data`), y, x, area (one row per mark) and
    the share of each folder's pixels marked, for the record.
    """
    from restorer.evaluation.damage import candidate_detector
    from restorer.training.data import list_training_images, load_images

    detect = candidate_detector(weights, grow=0)
    names, ys, xs, areas = [], [], [], []
    marked, total = 0, 0
    for path in list_training_images(data, folders):
        rgb = load_images([path])[0]
        found = detect(rgb.astype(np.float32) / 255.0)
        marked += int(found.sum())
        total += found.size
        for y, x, area in mark_centres(found):
            names.append(str(path.relative_to(data)))
            ys.append(y)
            xs.append(x)
            areas.append(area)
    return {"names": np.array(names), "y": np.array(ys, np.int32), "x": np.array(xs, np.int32),
            "area": np.array(areas, np.int32), "marked_share": np.array(marked / max(total, 1))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--weights", type=Path, default=None, help="a ScratchNet file (default: the bundled one)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--folders", nargs="+", default=list(MINED_FOLDERS))
    args = parser.parse_args(argv)
    start = time.monotonic()
    found = mine(args.data, args.weights, tuple(args.folders))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **found)
    photos = len(set(found["names"].tolist()))
    print(f"{len(found['y'])} marks on {photos} photos, {float(found['marked_share']):.2%} of the pixels marked; "
          f"{time.monotonic() - start:.0f} s -> {args.out}", flush=True)


if __name__ == "__main__":
    main()
