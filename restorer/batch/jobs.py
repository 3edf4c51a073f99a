"""What a batch works on: input files and folders expanded into jobs, and the optional mask."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorer.errors import BadMask
from restorer.imaging import READABLE_SUFFIXES


@dataclass(frozen=True)
class Job:
    source: Path
    target_stem: Path  # output path without suffix


def expand_inputs(inputs: list[Path], outdir: Path, *, recursive: bool = False) -> list[Job]:
    """Files as given; folders become their photos (sorted), keeping sub-folders under `outdir`."""
    jobs: list[Job] = []
    for item in inputs:
        if item.is_dir():
            pattern = "**/*" if recursive else "*"
            for path in sorted(p for p in item.glob(pattern) if p.is_file() and p.suffix.lower() in READABLE_SUFFIXES):
                relative = path.relative_to(item).with_suffix("")
                jobs.append(Job(path, outdir / relative.parent / f"{relative.name}_restored"))
        else:
            jobs.append(Job(item, outdir / f"{item.stem}_restored"))
    seen: dict[Path, int] = {}
    unique = []
    for job in jobs:  # two inputs called photo.jpg in different folders must not collide
        count = seen.get(job.target_stem, 0)
        seen[job.target_stem] = count + 1
        stem = job.target_stem if count == 0 else job.target_stem.with_name(f"{job.target_stem.name}-{count + 1}")
        unique.append(Job(job.source, stem))
    return unique


def read_mask(path: Path) -> np.ndarray:
    """A mask PNG as bool (H, W): white (>= 128) marks pixels to fill."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            gray = np.asarray(image.convert("L"))
    except (OSError, ValueError) as exc:
        raise BadMask(f"The mask {path.name} could not be read ({exc}).") from None
    return gray >= 128


def name_file(message: str, source: Path) -> str:
    """Make sure the sentence names the file it is about."""
    return message if source.name in message else f"{source.name}: {message}"
