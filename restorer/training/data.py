"""Training photos: load ../shared/data/train into memory as uint8 RGB arrays.

train/BSDS500_* and train/wikipedia_photos serve every network; colour also
learns from train/imagenet_samples (one photo per ImageNet class: the semantic
variety colour needs), less every twentieth of them, which colour training
leaves out to check how it generalises (`is_colour_holdout`). eval/ is for
measuring and old_photos/ for looking.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

TRAIN_FOLDERS = ("BSDS500_train", "BSDS500_test", "wikipedia_photos")
COLOUR_TRAIN_FOLDERS = (*TRAIN_FOLDERS, "imagenet_samples")
_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
_HOLDOUT_EVERY = 20


def is_colour_holdout(name: str) -> bool:
    """True for the imagenet_samples photos colour training never sees (a stable rule on the file name).

    A hash of the name rather than its position, so adding or removing photos leaves the split alone.
    """
    import zlib

    return name.startswith("n") and zlib.crc32(Path(name).stem.encode()) % _HOLDOUT_EVERY == 0


def list_training_images(root: Path, folders: tuple[str, ...] = TRAIN_FOLDERS) -> list[Path]:
    """Every image under the allowed training `folders` of `root`, sorted, colour's held-out photos excluded."""
    paths: list[Path] = []
    for folder in folders:
        base = root / folder
        if base.is_dir():
            paths += sorted(p for p in base.rglob("*") if p.suffix.lower() in _SUFFIXES
                            and not (folder == "imagenet_samples" and is_colour_holdout(p.name)))
    if not paths:
        raise FileNotFoundError(f"no training images under {root} (expected {', '.join(folders)})")
    return paths


def load_images(paths: list[Path]) -> list[np.ndarray]:
    """Decode each file to uint8 RGB (H, W, 3)."""
    images = []
    for path in paths:
        with Image.open(path) as im:
            images.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
    return images


def random_crop(rng: np.random.Generator, image: np.ndarray, size: int, *, rotate: bool = True) -> np.ndarray:
    """A random `size`x`size` crop, randomly flipped and (with `rotate`) turned by a multiple of 90 degrees.

    Colorization passes rotate=False: which way is up carries colour (sky above, grass below).
    """
    h, w = image.shape[:2]
    y = int(rng.integers(0, h - size + 1))
    x = int(rng.integers(0, w - size + 1))
    return flip_and_turn(rng, image[y : y + size, x : x + size], rotate=rotate)


def flip_and_turn(rng: np.random.Generator, patch: np.ndarray, *, rotate: bool = True) -> np.ndarray:
    """`patch` mirrored half the time and (with `rotate`) turned by a random multiple of 90 degrees."""
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    if rotate:
        patch = np.rot90(patch, int(rng.integers(0, 4)))
    return np.ascontiguousarray(patch)


def random_scaled_crop(rng: np.random.Generator, images: list[np.ndarray], size: int, *,
                       min_scale: float = 0.5) -> np.ndarray:
    """A random crop of a random photo shrunk by a random factor in [min_scale, 1] (where it stays big enough).

    Shrinking first shows textures and damage at several sizes relative to the content.
    """
    import cv2

    image = images[int(rng.integers(len(images)))]
    scale = float(rng.uniform(min_scale, 1.0))
    short = min(image.shape[:2])
    if short * scale >= size:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    elif short < size:  # a few imagenet_samples photos are smaller than a crop: enlarge them just enough
        image = cv2.resize(image, None, fx=size / short, fy=size / short, interpolation=cv2.INTER_CUBIC)
    return random_crop(rng, image, size)


def to_nchw(patches: list[np.ndarray]):
    """uint8 (H, W, 3) patches -> float tensor (N, 3, H, W) in [0, 1]."""
    import torch

    return torch.from_numpy(np.stack(patches)).permute(0, 3, 1, 2).float().div_(255.0)
