"""The worker, driven with a fake pipeline so the test is about signals and threads."""

import types

import pytest
from PySide6.QtCore import QThread

from restorer.errors import Cancelled
from restorer.events import Finished, Progress, StageFinished, StageStarted
from restorer.gui.app import _Requests
from restorer.gui.worker import RestoreWorker
from restorer.imaging import Photo
from restorer.recipe import Recipe

from .conftest import gradient_photo, wait_worker


class _Token:
    """The pipeline's CancelToken, minus threading (the worker only calls cancel and reads cancelled)."""

    def __init__(self):
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


def _fake_pipeline(runs: list):
    def run(recipe, photo, mask=None, cancel=None, context=None):
        runs.append(recipe.enabled_stages())
        stages = recipe.enabled_stages()
        for i, stage in enumerate(stages):
            yield StageStarted(stage, i, len(stages))
            if cancel.cancelled:
                raise Cancelled("cancelled")
            yield Progress(stage, 1.0, (i + 1) / len(stages))
            yield StageFinished(stage, 0.0, f"{stage} done", photo)
        yield Finished(photo, 0.0)

    return types.SimpleNamespace(run=run, CancelToken=_Token)


@pytest.fixture
def worker_thread(qtbot):
    runs: list = []
    worker = RestoreWorker(_fake_pipeline(runs))
    thread = QThread()
    worker.moveToThread(thread)
    requests = _Requests()
    requests.restore.connect(worker.restore)
    thread.start()
    yield worker, requests, runs
    thread.quit()
    thread.wait()


def test_signals_arrive_in_order(qtbot, worker_thread):
    worker, requests, _ = worker_thread
    recipe = Recipe().with_enabled({"artifacts", "upscale"})
    heard = []  # recorded in the worker thread; waited for in this one (see conftest.wait_worker)
    for name in ("stage_started", "progress", "stage_finished", "finished"):
        getattr(worker, name).connect(lambda *args, name=name: heard.append(name))
    requests.restore.emit(recipe, Photo(gradient_photo()), None)
    qtbot.waitUntil(lambda: "finished" in heard, timeout=5000)
    collapsed = [name for i, name in enumerate(heard) if i == 0 or heard[i - 1] != name]  # progress repeats
    assert collapsed == ["stage_started", "progress", "stage_finished"] * 2 + ["finished"]


def test_changing_a_late_stage_reruns_only_that_stage(qtbot, worker_thread):
    worker, requests, runs = worker_thread
    photo = Photo(gradient_photo())
    recipe = Recipe().with_enabled({"artifacts", "colorize", "upscale"})
    with wait_worker(qtbot, worker.finished, timeout=5000):
        requests.restore.emit(recipe, photo, None)
    with wait_worker(qtbot, worker.finished, timeout=5000):
        requests.restore.emit(recipe.with_settings("upscale", alpha=0.1), photo, None)
    with wait_worker(qtbot, worker.finished, timeout=5000):
        requests.restore.emit(recipe.with_settings("artifacts", strength=10), photo, None)
    assert runs == [("artifacts", "colorize", "upscale"), ("upscale",), ("artifacts", "colorize", "upscale")]


def test_failures_become_one_sentence(qtbot):
    def run(*args, **kwargs):
        from restorer.errors import BadMask

        raise BadMask("The mask is the wrong size.")
        yield  # pragma: no cover

    worker = RestoreWorker(types.SimpleNamespace(run=run, CancelToken=lambda: types.SimpleNamespace(cancel=lambda: 0)))
    with qtbot.waitSignal(worker.failed, timeout=2000) as blocker:
        worker.restore(Recipe(), Photo(gradient_photo()), None)
    assert blocker.args == ["The mask is the wrong size."]


def test_cancel_from_the_gui_thread_stops_a_running_restore(qtbot):
    import time

    def slow_run(recipe, photo, mask=None, cancel=None, context=None):
        yield StageStarted("upscale", 0, 1)
        for i in range(500):  # ~10 s unless cancelled
            time.sleep(0.02)
            if cancel.cancelled:
                raise Cancelled("cancelled")
            yield Progress("upscale", i / 500, i / 500)
        yield Finished(photo, 10.0)

    worker = RestoreWorker(types.SimpleNamespace(run=slow_run, CancelToken=_Token))
    thread = QThread()
    worker.moveToThread(thread)
    requests = _Requests()
    requests.restore.connect(worker.restore)
    thread.start()
    finished = []
    worker.finished.connect(lambda *a: finished.append(a))
    try:
        with wait_worker(qtbot, worker.progress, timeout=5000):
            requests.restore.emit(Recipe().with_enabled({"upscale"}), Photo(gradient_photo()), None)
        with wait_worker(qtbot, worker.cancelled, timeout=10000):
            worker.request_cancel()  # what the Cancel button calls, directly from the GUI thread
        assert finished == []
    finally:
        thread.quit()
        thread.wait()
