"""Shared fixtures. Tests are headless; anything needing ../shared or real weights skips cleanly."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Measuring every engine on first use takes seconds; tests use the reference path unless they test selection.
os.environ.setdefault("RESTORER_ENGINE", "torch-fp32-cl")
# The window's preferences (recent files, last folder) go to a throwaway folder, never the user's.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="restorer-test-config-")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Converted weights go to a per-run cache, never the user's."""
    cache = os.environ.get("RESTORER_TEST_CACHE") or str(tmp_path_factory.mktemp("cache"))
    os.environ["RESTORER_CACHE"] = cache
    yield


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def gradient_photo(width: int = 48, height: int = 32, seed: int = 0) -> np.ndarray:
    """A smooth colourful float32 RGB test image with a little texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x / width, y / height, 0.5 + 0.3 * np.sin(x / 5.0)], axis=2)
    return np.clip(rgb + rng.normal(0, 0.01, rgb.shape), 0, 1).astype(np.float32)


def save_rgb(path: Path, rgb: np.ndarray, **kwargs) -> Path:
    Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path, **kwargs)
    return path


class _Emission:
    """What `wait_worker` yields: `args` of the first emission, once it has come."""

    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def __call__(self, *args) -> None:
        self.seen.append(args)

    @property
    def args(self) -> list:
        return list(self.seen[0])


@contextmanager
def wait_worker(qtbot, signal, timeout: int = 10000):
    """`qtbot.waitSignal` for a signal a worker *thread* emits.

    pytest-qt's own waiter disconnects itself inside the emitting thread, and there it can deadlock
    against the GUI thread's event loop (seen once in CI: test_hints hung for 14 minutes in
    `_silent_disconnect`). Here the emission is only recorded; the wait and the disconnect happen in
    the GUI thread.
    """
    emission = _Emission()
    signal.connect(emission)
    try:
        yield emission
        qtbot.waitUntil(lambda: bool(emission.seen), timeout=timeout)
    finally:
        signal.disconnect(emission)


@pytest.fixture
def photo_file(tmp_path) -> Path:
    return save_rgb(tmp_path / "photo.png", gradient_photo())


def open_and_restore(qtbot, app, path: Path, recipe, timeout: int = 30000) -> None:
    """In a running gui.app.Application: open `path`, use `recipe`, restore, wait until the result is shown."""
    with wait_worker(qtbot, app.worker.loaded, timeout=10000):
        app.open(str(path))
    # The worker has emitted `loaded`; the app's queued slot that takes the photo may not have run yet.
    qtbot.waitUntil(lambda: app.session.photo is not None and not app.session.busy, timeout=5000)
    app.set_recipe(recipe)
    finished, failures = [], []
    app.worker.finished.connect(lambda *args: finished.append(args))
    app.worker.failed.connect(failures.append)
    app.restore()
    qtbot.waitUntil(lambda: bool(finished or failures), timeout=timeout)
    assert not failures, f"restoring failed: {failures[0]}"
    qtbot.waitUntil(lambda: app.session.result is not None and not app.session.busy, timeout=5000)
