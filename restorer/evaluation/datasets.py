"""Evaluation images from a folder (e.g. ../shared/data/eval/Set5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from restorer.errors import RestorerError
from restorer.formats import READABLE_SUFFIXES


def eval_images(folder: Path) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB array) for every image in `folder`, sorted by name; grey images become RGB."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RestorerError(f"{folder} is not a folder of evaluation images.")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in READABLE_SUFFIXES)
    if not paths:
        raise RestorerError(f"{folder} holds no images.")
    out = []
    for path in paths:
        with Image.open(path) as image:
            out.append((path.name, np.asarray(image.convert("RGB"))))
    return out


def colour_photos(folders: list[Path], side: int, suffixes: tuple[str, ...] = (".png", ".jpg", ".jpeg")):
    """(path, float32 RGB in [0, 1] shrunk to at most `side` px) for each colour photo under `folders`,
    searched deeply and in name order; black-and-white and sepia ones are passed over."""
    from restorer.stages.colorize import is_black_and_white

    for path in sorted(p for folder in folders for p in Path(folder).rglob("*") if p.suffix.lower() in suffixes):
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((side, side))
            rgb = np.asarray(image, np.float32) / 255.0
        if not is_black_and_white(rgb):
            yield path, rgb
