"""A one-line terminal progress bar (stderr), silent when stderr is not a terminal."""

from __future__ import annotations

import shutil
import sys
import time


class ProgressLine:
    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0

    def update(self, label: str, fraction: float) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < 0.1:
            return  # redrawing more often only costs time
        self._last = now
        width = max(10, min(40, shutil.get_terminal_size((80, 20)).columns - len(label) - 12))
        filled = int(round(width * max(0.0, min(1.0, fraction))))
        self.stream.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}%")
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (shutil.get_terminal_size((80, 20)).columns - 1) + "\r")
            self.stream.flush()
