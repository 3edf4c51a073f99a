"""HEIF/HEIC photos: what phones save, so what a print photographed with a phone arrives as.

Image contract: `read_deep_heif(path)` returns float32 (H, W, 3) RGB in [0, 1] and float32 (H, W)
alpha in [0, 1] or None, upright (libheif applies the file's rotation and mirroring, and pillow-heif
then reports EXIF orientation 1, so nothing is rotated twice).

Pillow reads HEIF through the pillow-heif plugin, registered here on first need; it hands Pillow
8-bit samples. 10- and 12-bit files (phones' HDR photos, some scanners' HEIF output) are read a
second time through pillow-heif directly at full depth, so a deep file is restored, and saved, at
16 bits instead of being cut to 8 on the way in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from restorer.errors import UnreadablePhoto

_registered = False


def ensure_heif_opener(path: Path) -> None:
    """Teach Pillow to open HEIF files; one sentence naming `path` if the plugin is not installed."""
    global _registered
    if _registered:
        return
    try:
        import pillow_heif
    except ImportError:
        raise UnreadablePhoto(f"{path.name} is a HEIF photo, which needs the pillow-heif package "
                              "(pip install pillow-heif).") from None
    pillow_heif.register_heif_opener()
    _registered = True


def heif_bit_depth(image) -> int:
    """The bits per sample a HEIF file holds (8, 10 or 12), from what pillow-heif tells Pillow."""
    return int(image.info.get("bit_depth") or 8)


def read_deep_heif(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """A 10- or 12-bit HEIF file at full depth (see the module's image contract)."""
    import pillow_heif

    heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=False)
    # pillow-heif widens deep samples to the full 16-bit range (1023 << 6 at 10 bits).
    samples = np.asarray(heif).astype(np.float32) / 65535.0
    if samples.ndim == 2:
        return np.repeat(samples[..., None], 3, axis=2), None
    alpha = samples[..., 3].copy() if samples.shape[2] == 4 else None
    return np.ascontiguousarray(samples[..., :3]), alpha
