"""Stand-ins for `restore_file` that pool workers import by name (they are spawned processes)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from restorer.batch.task import FileOutcome, FileTask


def die_on_first_attempt(task: FileTask) -> FileOutcome:
    """Kill this worker (as `kill -9` would) the first time a file whose name starts with 'die' comes."""
    if Path(task.source).name.startswith("die") and task.attempt == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return FileOutcome(task.source, "restored", output=task.target_stem + ".png", attempts=task.attempt)


def always_die(task: FileTask) -> FileOutcome:
    """Kill this worker on every file whose name starts with 'die'."""
    if Path(task.source).name.startswith("die"):
        os.kill(os.getpid(), signal.SIGKILL)
    return FileOutcome(task.source, "restored", output=task.target_stem + ".png", attempts=task.attempt)
