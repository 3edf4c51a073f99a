"""A one-line terminal progress bar (stderr), silent when stderr is not a terminal."""

from __future__ import annotations

import shutil
import sys
import time


class ProgressLine:
    """`label [#####.....] 42.0% 1:05 left`: the time left extrapolates from the time so far."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0
        self._start: float | None = None
        self._last_fraction = 0.0

    def update(self, label: str, fraction: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self._start is None or fraction < self._last_fraction:
            self._start = now  # a new run (or a new photo) starts the clock again
        self._last_fraction = fraction
        if fraction < 1.0 and now - self._last < 0.1:
            return  # redrawing more often only costs time
        self._last = now
        left = eta(now - self._start, fraction)
        suffix = f" {left} left" if left else ""
        width = max(10, min(40, shutil.get_terminal_size((80, 20)).columns - len(label) - 12 - len(suffix)))
        filled = int(round(width * max(0.0, min(1.0, fraction))))
        self.stream.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}%{suffix}")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (shutil.get_terminal_size((80, 20)).columns - 1) + "\r")
            self.stream.flush()


def eta(elapsed: float, fraction: float) -> str:
    """"m:ss" left at this pace, or "" while too little is known (under 2 % done or 2 s run)."""
    if fraction < 0.02 or fraction >= 1.0 or elapsed < 2.0:
        return ""
    seconds = int(round(elapsed * (1 - fraction) / fraction))
    return f"{seconds // 60}:{seconds % 60:02d}"
