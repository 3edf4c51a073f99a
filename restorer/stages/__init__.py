"""The four restoration stages, in their fixed order.

Every stage has the same shape:

    def run(photo: Photo, settings, context: StageContext) -> Generator[float, None, tuple[Photo, str]]

It yields progress fractions in [0, 1] (the pipeline checks for cancel between
them) and returns the new Photo plus a short note for the user ("estimated
JPEG quality 23", "no mask painted: nothing to fill"). Stages never modify the
Photo they were given. Only model engines import torch, and only when they run.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from restorer.imaging import Photo

StageGenerator = Generator[float, None, tuple[Photo, str]]


@dataclass(frozen=True)
class StageContext:
    """What stages need besides the photo and their settings.

    `mask`: bool (H, W), True where inpainting fills, in the coordinates of the
    photo as the pipeline received it. `models`: a ModelManager, created on
    first use when None. `device`: "auto", "cpu" or a torch device string.
    """

    mask: np.ndarray | None = None
    models: Any = None
    device: str = "auto"
    # The pipeline gives each stage a fresh list; `use_model` records the weights it ran (provenance).
    used: list | None = None
    # Side results a caller asked for, by name (the inpaint stage leaves the mask it filled here).
    extras: dict | None = None
    # The run's CancelToken, for engines that can stop inside one call (ONNX Runtime's terminate).
    cancel: Any = None

    def use_model(self, model_id: str, path: str | None = None) -> None:
        """Record that this stage ran `model_id` (a catalog id), or a user's weights file at `path`."""
        from restorer.models.identity import file_sha256, model_sha256
        from restorer.provenance import ModelUse

        if self.used is None:
            return
        use = ModelUse(model_id, file_sha256(path) if path else model_sha256(model_id))
        if use not in self.used:
            self.used.append(use)

    def with_mask(self, mask: np.ndarray) -> "StageContext":
        return replace(self, mask=np.asarray(mask, dtype=bool))

    def model_manager(self):
        if self.models is None:
            from restorer.models.manager import shared_manager

            return shared_manager(self.device)
        return self.models


def scaled(generator: Generator, start: float, end: float):
    """Re-yield a progress generator's fractions mapped into [start, end]; returns its result."""
    try:
        while True:
            fraction = next(generator)
            yield start + (end - start) * float(fraction)
    except StopIteration as done:
        return done.value


def drain(generator: Generator):
    """Run a progress generator to its end and return its result (for callers that show no progress)."""
    try:
        while True:
            next(generator)
    except StopIteration as done:
        return done.value


def _registry() -> dict[str, Callable[..., StageGenerator]]:
    from restorer.stages import artifacts, colorize, inpaint, upscale

    return {"artifacts": artifacts.run, "inpaint": inpaint.run, "colorize": colorize.run, "upscale": upscale.run}


class _Stages(dict):
    """Lazily filled id -> stage function map, in pipeline order."""

    def __missing__(self, key: str):
        self.update(_registry())
        return dict.__getitem__(self, key)


STAGES: dict[str, Callable[..., StageGenerator]] = _Stages()
