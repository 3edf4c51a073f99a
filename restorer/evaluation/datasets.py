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
