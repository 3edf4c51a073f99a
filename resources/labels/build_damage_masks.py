"""Rebuild the hand-labelled damage masks from their spec (old_photos_damage.json).

    python resources/labels/build_damage_masks.py [../shared/data/old_photos]

Spec items per photo: {"stroke": [[x, y], ...], "width": w} a drawn crack; {"corridor": [...], "width": w,
"bright_above": v} the pixels brighter than v along a drawn path (a white tear through dark clothes); {"poly": [...]} a tear or
lifted emulsion; {"dot": [x, y], "r": r} a speck; {"zone": [x0, y0, x1, y1], "thr": t, "kind":
"bright" | "dark", "k": size} the thin marks a top-hat filter of that size finds inside the zone (zones
were drawn around damaged background only); {"ignore": [x0, y0, x1, y1]} and {"ignore_border": px}
leave an area out of every score. Damage is grown by one pixel; masks are 255 damage, 128 ignored, 0 clean.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent


def build(photo_rgb: np.ndarray, items: list[dict]) -> np.ndarray:
    luma = cv2.cvtColor(photo_rgb, cv2.COLOR_RGB2GRAY)
    h, w = luma.shape
    damage = np.zeros((h, w), np.uint8)
    for item in items:
        if "zone" in item:
            x0, y0, x1, y1 = item["zone"]
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (item.get("k", 7), item.get("k", 7)))
            op = cv2.MORPH_TOPHAT if item.get("kind", "bright") == "bright" else cv2.MORPH_BLACKHAT
            found = np.zeros_like(damage)
            found[y0:y1, x0:x1] = cv2.morphologyEx(luma, op, kernel)[y0:y1, x0:x1] > item["thr"]
            count, labels, stats, _ = cv2.connectedComponentsWithStats(found, connectivity=8)
            for index in range(1, count):
                if stats[index, 4] >= item.get("min_area", 4):
                    damage[labels == index] = 1
        if "corridor" in item:  # a crack or tear: the bright (or dark) pixels along a drawn path
            band = np.zeros_like(damage)
            cv2.polylines(band, [np.array(item["corridor"], np.int32)], False, 1, int(item.get("width", 12)))
            if "bright_above" in item:
                damage[(band > 0) & (luma > item["bright_above"])] = 1
            if "dark_below" in item:
                damage[(band > 0) & (luma < item["dark_below"])] = 1
        if "stroke" in item:
            cv2.polylines(damage, [np.array(item["stroke"], np.int32)], False, 1, int(item.get("width", 2)))
        if "dot" in item:
            cv2.circle(damage, tuple(item["dot"]), int(item.get("r", 2)), 1, -1)
        if "poly" in item:
            cv2.fillPoly(damage, [np.array(item["poly"], np.int32)], 1)
    out = cv2.dilate(damage, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))) * 255
    for item in items:
        if "ignore" in item:
            x0, y0, x1, y1 = item["ignore"]
            region = out[y0:y1, x0:x1]
            region[region == 0] = 128
        if "ignore_border" in item:
            b = item["ignore_border"]
            for edge in (np.s_[:b, :], np.s_[-b:, :], np.s_[:, :b], np.s_[:, -b:]):
                out[edge] = 128
    return out


def main() -> int:
    from restorer.imaging import read_photo

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data" / "old_photos"
    doc = json.loads((HERE / "old_photos_damage.json").read_text())
    for relative, items in doc["spec"].items():
        mask = build(read_photo(root / relative).float_pixels(), items)
        target = HERE / doc["masks"][relative]
        cv2.imwrite(str(target), mask)
        print(f"{target.name}: {(mask == 255).mean() * 100:.2f} % damage, {(mask == 128).mean() * 100:.1f} % ignored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
