"""What a batch works on: input files and folders expanded into jobs, and the optional mask."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorer.errors import BadMask
from restorer.formats import READABLE_SUFFIXES, UNREADABLE_IMAGE_SUFFIXES


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


def folder_photos(folder: Path, outdir: Path, *, recursive: bool,
                  left_out: list[Path] | None = None) -> list[Path]:
    """The photos in `folder` (sorted), as a batch into `outdir` restores them.

    Hidden files and earlier results written to `outdir` are not photos (see _hidden and
    _is_earlier_result). Files in image formats Restorer cannot read go to `left_out` when given.
    """
    pattern = "**/*" if recursive else "*"
    resolved, resolved_out = Path(folder).resolve(), Path(outdir).resolve()
    photos = []
    for path in Path(folder).glob(pattern):
        if not path.is_file() or _hidden(path.relative_to(folder)):
            continue
        suffix = path.suffix.lower()
        if suffix in READABLE_SUFFIXES and not _is_earlier_result(path, resolved, resolved_out):
            photos.append(path)
        elif suffix in UNREADABLE_IMAGE_SUFFIXES and left_out is not None:
            left_out.append(path)
    if left_out is not None:
        left_out.sort()
    return sorted(photos)


def left_out_sentence(left_out: list[Path] | list[str]) -> str:
    """One sentence for files a batch left out for their format, or "" when there were none."""
    if not left_out:
        return ""
    counts: dict[str, int] = {}
    for path in left_out:
        suffix = Path(path).suffix.lower()
        counts[suffix] = counts.get(suffix, 0) + 1
    kinds = ", ".join(f"{n} {suffix}" for suffix, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    files = "file" if len(left_out) == 1 else "files"
    return (f"Left out {len(left_out)} {files} in formats Restorer cannot read ({kinds}); "
            "convert them to TIFF or PNG to restore them.")


def expand_inputs(inputs: list[Path], outdir: Path, *, recursive: bool = False,
                  left_out: list[Path] | None = None) -> list[Job]:
    """Files as given; folders become their photos (folder_photos), keeping sub-folders under `outdir`.

    Files in folders that are images Restorer cannot read are appended to `left_out` when given.
    """
    jobs: list[Job] = []
    for item in inputs:
        if item.is_dir():
            for path in folder_photos(item, outdir, recursive=recursive, left_out=left_out):
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
