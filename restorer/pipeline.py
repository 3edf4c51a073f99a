"""The one orchestrator: run a Recipe over a Photo, yielding events.

Both the CLI and the GUI worker call `run`; nothing else chains stages.
Each stage is a generator that yields progress fractions and returns the new
Photo (see restorer.stages). Cancellation is a thread-safe flag checked
between yields, so a cancelled run stops within one tile or step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from restorer.colorspace import is_neutral, neutral
from restorer.errors import Cancelled
from restorer.events import Event, Finished, Progress, StageFinished, StageStarted
from restorer.imaging import Photo
from restorer.provenance import StageRecord
from restorer.recipe import Recipe
from restorer.stages import STAGES, StageContext
from restorer.stages.costs import progress_shares


@dataclass
class CancelToken:
    """Set from any thread; the pipeline checks it between steps."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def run(recipe: Recipe, photo: Photo, *, mask: np.ndarray | None = None,
        cancel: CancelToken | None = None, context: StageContext | None = None) -> Iterator[Event]:
    """Run the enabled stages of `recipe` over `photo` in order.

    `mask` is bool (H, W), True where the inpaint stage must fill. Yields
    StageStarted / Progress / StageFinished per stage and one Finished with the
    result. Raises Cancelled if `cancel` is set; the input photo is never modified.
    """
    cancel = cancel or CancelToken()
    context = replace(context or StageContext(), cancel=cancel)
    if mask is not None:
        context = context.with_mask(mask)
    stages = recipe.enabled_stages()
    # Each stage's share of the bar by its expected cost, so the bar (and the time left) moves evenly.
    shares = progress_shares(recipe, photo.size)
    start = time.perf_counter()
    for index, stage_id in enumerate(stages):
        if cancel.cancelled:
            raise Cancelled("The restoration was cancelled; nothing was written.")
        yield StageStarted(stage_id, index, len(stages))
        stage_start = time.perf_counter()
        stage_context = replace(context, used=[])
        # A grey photo stays grey through every stage but colorization: the networks' colour channels
        # drift a level or two apart on grey input, which would turn a grey scan into a faintly
        # tinted RGB file three times the size.
        stays_grey = stage_id != "colorize" and is_neutral(photo.pixels)
        steps = STAGES[stage_id](photo, recipe.settings(stage_id), stage_context)
        while True:
            try:
                fraction = next(steps)
            except StopIteration as done:
                photo, note = done.value
                if stays_grey and not is_neutral(photo.pixels):
                    photo = photo.with_pixels(neutral(photo.pixels))
                break
            if cancel.cancelled:
                steps.close()
                raise Cancelled("The restoration was cancelled; nothing was written.")
            begin, width = shares[index]
            yield Progress(stage_id, float(fraction), min(1.0, begin + width * float(fraction)))
        photo = _with_record(photo, StageRecord(stage_id, settings_record(recipe.settings(stage_id)),
                                                tuple(stage_context.used), note))
        yield StageFinished(stage_id, time.perf_counter() - stage_start, note, photo)
    yield Finished(photo, time.perf_counter() - start)


def settings_record(settings) -> dict:
    """A stage's settings for the provenance record: JSON values, user paths reduced to file names."""
    record = asdict(settings)
    for key in ("checkpoint", "model_path", "reference"):
        if record.get(key):
            record[key] = Path(record[key]).name
    return {k: list(v) if isinstance(v, tuple) else v for k, v in record.items()}


def _with_record(photo: Photo, record: StageRecord) -> Photo:
    meta = photo.metadata
    return replace(photo, metadata=replace(meta, history=(*meta.history, record)))


def run_to_end(recipe: Recipe, photo: Photo, **kwargs) -> Photo:
    """Run and return the result, ignoring progress (tests and scripts)."""
    result = None
    for event in run(recipe, photo, **kwargs):
        if isinstance(event, Finished):
            result = event.photo
    assert result is not None
    return result
