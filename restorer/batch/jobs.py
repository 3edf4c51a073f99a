"""Restore many files with one recipe: the archivist's overnight job.

A bad file is reported in one sentence and skipped; the batch goes on. Each
result is written atomically, so an interrupted night leaves only complete
files, and `skip_existing` resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorer import pipeline
from restorer.errors import BadMask, RestorerError, UnwritableOutput
from restorer.events import Event, Finished
from restorer.imaging import READABLE_SUFFIXES, output_suffix, read_photo, write_photo, write_text_atomically
from restorer.recipe import Recipe


@dataclass(frozen=True)
class Job:
    source: Path
    target_stem: Path  # output path without suffix


@dataclass(frozen=True)
class Outcome:
    source: Path
    output: Path | None
    error: str | None = None
    skipped: bool = False


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


def restore_files(jobs: list[Job], recipe: Recipe, *, mask: np.ndarray | None = None, fmt: str | None = None,
                  bit_depth: int | None = None, skip_existing: bool = False, sidecar: bool = False,
                  on_event: Callable[[Job, Event], None] | None = None,
                  cancel: pipeline.CancelToken | None = None) -> Iterator[Outcome]:
    """Run `recipe` over every job, yielding one Outcome per file."""
    protect = tuple(job.source for job in jobs)
    for job in jobs:
        if cancel is not None and cancel.cancelled:
            return
        try:
            photo = read_photo(job.source)
            output = job.target_stem.with_suffix(output_suffix(photo, fmt))
            if skip_existing and output.exists():
                yield Outcome(job.source, output, skipped=True)
                continue
            result = None
            for event in pipeline.run(recipe, photo, mask=mask, cancel=cancel):
                if on_event:
                    on_event(job, event)
                if isinstance(event, Finished):
                    result = event.photo
            assert result is not None
            written = write_photo(result, output, bit_depth=bit_depth, protect=protect)
            if sidecar:
                sidecar_path = written.with_suffix(written.suffix + ".recipe.json")
                try:
                    write_text_atomically(sidecar_path, recipe.to_json())
                except OSError as exc:
                    raise UnwritableOutput(f"{sidecar_path} could not be written ({exc.strerror or exc}).") from None
            yield Outcome(job.source, written)
        except RestorerError as exc:
            if type(exc).__name__ == "Cancelled":
                raise
            yield Outcome(job.source, None, error=_name_file(str(exc), job.source))
        except MemoryError:
            yield Outcome(job.source, None, error=f"{job.source.name} is too large to restore with the memory available; "
                                                  "try a smaller tile size or scale.")


def _name_file(message: str, source: Path) -> str:
    """Make sure the sentence names the file it is about."""
    return message if source.name in message else f"{source.name}: {message}"
