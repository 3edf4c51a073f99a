"""Restore one file: input path, recipe and output path in, one outcome out.

`restore_file` is the unit every place a batch runs shares (this process, a
pool of worker processes, a Dask cluster): it takes only picklable values,
touches nothing but its own output, and never raises for a problem with the
file, which becomes a `failed` outcome with one sentence naming the file.
Only a cancel raises (Cancelled), so the caller can stop the whole batch.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

RESTORED, SKIPPED, FAILED = "restored", "skipped", "failed"


@dataclass(frozen=True)
class BatchOptions:
    """Everything besides the input that decides a result: recipe, mask, output format and depth."""

    recipe_json: str
    mask_path: str | None = None
    fmt: str | None = None
    bit_depth: int | None = None
    sidecar: bool = False
    save_mask: bool = False  # write the mask the inpaint stage filled next to each result
    device: str = "auto"  # "auto", "cpu", "cuda", "mps" or "vulkan" (the enlargement through ncnn)

    @property
    def recipe_hash(self) -> str:
        """16 hex digits of SHA-256 over what decides the pixels: a changed recipe or mask is a new hash."""
        return _options_hash(self.recipe_json, self.mask_path, self.fmt, self.bit_depth)


@lru_cache(maxsize=16)
def _options_hash(recipe_json: str, mask_path: str | None, fmt: str | None, bit_depth: int | None) -> str:
    from restorer.models.identity import file_sha256

    canonical = json.dumps({"recipe": json.loads(recipe_json), "mask": file_sha256(mask_path) if mask_path else None,
                            "format": fmt, "bit_depth": bit_depth}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FileTask:
    """One input and where its result goes (`target_stem` + the format's suffix).

    `protect` lists inputs that must never be overwritten by this result (inputs
    sharing the target's name); `threads`, when > 0, is the torch thread count
    for the process that runs it (workers divide the cores between them).
    """

    source: str
    target_stem: str
    options: BatchOptions
    protect: tuple[str, ...] = ()
    threads: int = 0
    attempt: int = 1


@dataclass(frozen=True)
class FileOutcome:
    """One row of the report. `status` is restored, skipped or failed; `reason` one sentence when not
    restored, or what the user must know about a restored file (a multi-page TIFF restored from page 1)."""

    source: str
    status: str
    reason: str = ""
    output: str = ""
    seconds: float = 0.0
    recipe_hash: str = ""
    engine: str = ""
    attempts: int = 1
    carried_over: bool = field(default=False, compare=False)  # restored by an earlier, interrupted run
    # The batch cannot go on (the output disk is full): the engine stops dispatching files.
    stops_batch: bool = field(default=False, compare=False)

    def to_row(self) -> dict:
        return {"input": self.source, "status": self.status, "reason": self.reason, "output": self.output,
                "seconds": round(self.seconds, 2), "recipe_hash": self.recipe_hash, "engine": self.engine,
                "attempts": self.attempts, "earlier_run": self.carried_over}

    @classmethod
    def from_row(cls, row: dict) -> "FileOutcome":
        return cls(row["input"], row["status"], row.get("reason", ""), row.get("output", ""),
                   float(row.get("seconds", 0.0)), row.get("recipe_hash", ""), row.get("engine", ""),
                   int(row.get("attempts", 1)))


def candidate_outputs(target_stem: Path, fmt: str | None) -> tuple[Path, ...]:
    """Where a result may land before its input has been read: the requested format, or PNG / TIFF."""
    from restorer.imaging import WRITABLE_FORMATS

    if fmt:
        key = fmt.lower().lstrip(".").replace("jpeg", "jpg").replace("tif", "tiff").replace("tifff", "tiff")
        return (target_stem.with_suffix(WRITABLE_FORMATS.get(key, "." + key)),)
    return target_stem.with_suffix(".png"), target_stem.with_suffix(".tif")


@lru_cache(maxsize=4)
def _recipe(recipe_json: str):
    from restorer.recipe import Recipe

    return Recipe.from_json(recipe_json)


@lru_cache(maxsize=4)
def _mask(mask_path: str):
    from restorer.batch.jobs import read_mask

    return read_mask(Path(mask_path))


def _write_mask(mask, path: Path) -> None:
    """A bool mask as a white-on-black PNG, atomically (the format `--mask` and the window read)."""
    import numpy as np
    from PIL import Image

    from restorer.errors import unwritable
    from restorer.imaging import atomic_file

    try:
        with atomic_file(path) as fh:
            Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(fh, format="PNG")
    except OSError as exc:
        raise unwritable(path, exc) from None


def engine_label(enlarged_with: str = "", networks: str | None = None) -> str:
    """The engines a file was restored with, for the report: the one the torch networks run on (e.g.
    "cpu fp32") and, when the enlargement ran elsewhere, that one too ("cpu fp32; enlarged: cpu
    onnxruntime-int8")."""
    if networks is None:
        from restorer.models.precision import choose_runtime

        networks = choose_runtime().label
    if not enlarged_with or enlarged_with == networks:
        return networks
    return f"{networks}; enlarged: {enlarged_with}" if networks else f"enlarged: {enlarged_with}"


def restore_file(task: FileTask, *, on_event: Callable | None = None, cancel=None, models=None) -> FileOutcome:
    """Restore `task.source` into `task.target_stem` + suffix, atomically; never raises but for a cancel.

    `models` is a ModelManager to run the networks with (None: the process-wide one).
    """
    from restorer import pipeline
    from restorer.batch.jobs import name_file
    from restorer.errors import Cancelled, DiskFull, RestorerError, unwritable
    from restorer.events import Finished
    from restorer.imaging import output_suffix, read_photo, write_photo, write_text_atomically

    if task.threads > 0:
        import torch

        if torch.get_num_threads() != task.threads:
            torch.set_num_threads(task.threads)
    source = Path(task.source)
    options = task.options
    start = time.perf_counter()
    recipe_hash = options.recipe_hash
    try:
        engine = engine_label()
    except Exception:  # torch missing or broken: the run below reports it in its own words
        engine = ""

    def outcome(status: str, reason: str = "", output: str = "") -> FileOutcome:
        return FileOutcome(str(source), status, reason, output, time.perf_counter() - start, recipe_hash, engine,
                           task.attempt)

    try:
        recipe = _recipe(options.recipe_json)
        mask = _mask(options.mask_path) if options.mask_path else None
        photo = read_photo(source)
        output = Path(task.target_stem).with_suffix(output_suffix(photo, options.fmt))
        result = None
        from restorer.stages import StageContext

        context = StageContext(models=models, extras={}, device=options.device)
        for event in pipeline.run(recipe, photo, mask=mask, cancel=cancel, context=context):
            if on_event:
                on_event(event)
            if isinstance(event, Finished):
                result = event.photo
        assert result is not None
        engine = engine_label(context.extras.get("enlarged_with", ""), engine)
        written = write_photo(result, output, bit_depth=options.bit_depth, protect=tuple(map(Path, task.protect)),
                              recipe_hash=recipe_hash, engine=engine)
        filled = context.extras.get("inpaint_mask")
        if options.save_mask and filled is not None:
            _write_mask(filled, written.with_name(f"{written.stem}_mask.png"))
        if options.sidecar:
            sidecar = written.with_suffix(written.suffix + ".recipe.json")
            try:
                write_text_atomically(sidecar, recipe.to_json())
            except OSError as exc:
                raise unwritable(sidecar, exc) from None
        notices = [photo.metadata.pages_notice(), *context.extras.get("notices", [])]
        return outcome("restored", "; ".join(n for n in notices if n), output=str(written))
    except Cancelled:
        raise
    except DiskFull as exc:
        return replace(outcome("failed", name_file(str(exc), source)), stops_batch=True)
    except RestorerError as exc:
        return outcome("failed", name_file(str(exc), source))
    except MemoryError:
        return outcome("failed", f"{source.name} is too large to restore with the memory available; "
                                 "try a smaller tile size or scale.")
    except Exception as exc:  # a bug must cost one file, not the night
        return outcome("failed", f"{source.name} could not be restored because of an internal error "
                                 f"({type(exc).__name__}: {exc}); please report it.")
