"""What the pipeline reports while it runs. Frozen, so they can cross threads safely."""

from __future__ import annotations

from dataclasses import dataclass

from restorer.imaging import Photo


@dataclass(frozen=True)
class StageStarted:
    stage: str
    index: int
    count: int


@dataclass(frozen=True)
class Progress:
    """`fraction` of the current stage done (0..1); `overall` of the whole run."""

    stage: str
    fraction: float
    overall: float


@dataclass(frozen=True)
class StageFinished:
    """A stage is done; `photo` is its output (the GUI caches it to re-run only later stages)."""

    stage: str
    seconds: float
    note: str = ""
    photo: Photo | None = None


@dataclass(frozen=True)
class Finished:
    photo: Photo
    seconds: float


Event = StageStarted | Progress | StageFinished | Finished
