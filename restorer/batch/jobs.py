"""What a batch works on: input files and folders expanded into jobs, and the optional mask."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorer.errors import BadMask
from restorer.imaging import READABLE_SUFFIXES


@dataclass(frozen=True)
class Job:
    source: Path
    target_stem: Path  # output path without suffix


# The names results take: photo_restored.png, photo_restored-2.tif, photo_restored_mask.png.
_OUR_RESULT = re.compile(r"_restored(-\d+)?(_mask)?$")


def _is_earlier_result(path: Path, folder: Path, outdir: Path) -> bool:
    """True for a file in input `folder` that a run into `outdir` wrote: never a photo to restore again.

    An output folder inside the input folder (`run Scans -o Scans/restored --recursive`) is left out
    whole; when the output folder is the input folder (or holds it), only files named as results are.
    """
    if folder == outdir or folder.is_relative_to(outdir):
        return bool(_OUR_RESULT.search(path.stem))
    return path.resolve().is_relative_to(outdir)


def _hidden(relative: Path) -> bool:
    """Hidden files and folders: a Mac's ._photo.jpg resource forks on a shared drive, .thumbnails/, our
    own temporary files. They are not the user's photos; a file named on the command line still is."""
    return any(part.startswith(".") for part in relative.parts)


def expand_inputs(inputs: list[Path], outdir: Path, *, recursive: bool = False) -> list[Job]:
    """Files as given; folders become their photos (sorted), keeping sub-folders under `outdir`.

    Inside a folder, earlier results written to `outdir` are not photos (see _is_earlier_result).
    """
    jobs: list[Job] = []
    resolved_out = Path(outdir).resolve()
    for item in inputs:
        if item.is_dir():
            pattern = "**/*" if recursive else "*"
            folder = item.resolve()
            found = (p for p in item.glob(pattern) if p.is_file() and p.suffix.lower() in READABLE_SUFFIXES
                     and not _hidden(p.relative_to(item)))
            for path in sorted(p for p in found if not _is_earlier_result(p, folder, resolved_out)):
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
