"""The window is correct on every thread and honest about what it shows."""

from __future__ import annotations

import threading
import time
import types

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMetaMethod, QObject, Signal, Slot
from PySide6.QtWidgets import QToolButton

from restorer.errors import Cancelled
from restorer.events import Finished, Progress, StageFinished, StageStarted
from restorer.gui.app import Application
from restorer.gui.queue import QueuePanel, QueueWorker
from restorer.gui.worker import RestoreWorker
from restorer.imaging import read_photo
from restorer.provenance import read_provenance
from restorer.recipe import Recipe

from .conftest import gradient_photo, open_and_restore, save_rgb, wait_worker

LANCZOS = Recipe().with_enabled({"upscale"}).with_settings("upscale", engine="lanczos", scale=2)


def _signals(cls) -> list[tuple[str, list[bytes]]]:
    """(name, parameter types) of every signal `cls` declares itself."""
    meta = cls.staticMetaObject
    out = []
    for index in range(meta.methodOffset(), meta.methodCount()):
        method = meta.method(index)
        if method.methodType() == QMetaMethod.MethodType.Signal:
            out.append((bytes(method.name()).decode(), [bytes(t) for t in method.parameterTypes()]))
    return out


def _dummy(type_name: bytes):
    return {b"QString": "x", b"int": 1, b"double": 0.5, b"bool": True}.get(type_name, object())


class _Emitter(QObject):
    """Lives in a worker's thread and emits every signal of that worker from there, as the worker would."""

    go = Signal()

    def __init__(self, worker, cls) -> None:
        super().__init__()
        self.worker, self.cls = worker, cls
        self.emitted: list[str] = []
        self.threads: set[int] = set()

    @Slot()
    def emit_all(self) -> None:
        for name, types_ in _signals(self.cls):
            self.threads.add(threading.get_ident())
            getattr(self.worker, name).emit(*[_dummy(t) for t in types_])
            self.emitted.append(name)


def test_every_worker_signal_is_handled_on_the_gui_thread(qtbot, monkeypatch):
    """Each handler records the thread it runs in; every signal is emitted from its worker's thread."""
    seen: list[tuple[str, int]] = []

    def recorder(owner, name):
        def handler(self, *args):
            seen.append((f"{owner.__name__}.{name}", threading.get_ident()))
        # PySide6 treats a callable as the receiver's own method (run in the receiver's thread) only when
        # its __name__ is the attribute's name; otherwise it runs it where the signal was emitted.
        handler.__name__, handler.__qualname__ = name, f"{owner.__name__}.{name}"
        return handler

    for owner in (Application, QueuePanel):
        for name in [n for n in vars(owner) if n.startswith("_on_") or n.startswith("on_")]:
            monkeypatch.setattr(owner, name, recorder(owner, name))
    app = Application()
    qtbot.addWidget(app.window)
    gui = threading.get_ident()
    try:
        qtbot.waitUntil(lambda: any(n == "Application._on_engine_ready" for n, _ in seen), timeout=10000)
        seen.clear()
        emitters = []
        for worker, cls, thread in ((app.worker, RestoreWorker, app.worker_thread),
                                    (app.queue_worker, QueueWorker, app.queue_thread)):
            emitter = _Emitter(worker, cls)
            emitter.moveToThread(thread)
            emitter.go.connect(emitter.emit_all)
            emitters.append(emitter)
            emitter.go.emit()
        qtbot.waitUntil(lambda: all(len(e.emitted) == len(_signals(e.cls)) for e in emitters), timeout=5000)
        emitted = [name for e in emitters for name in e.emitted]
        assert len(emitted) >= 20  # all of them: loaded ... engine_ready, and the queue's five
        assert all(gui not in e.threads for e in emitters)  # really emitted from the worker threads
        qtbot.waitUntil(lambda: len(seen) >= len(emitted), timeout=5000)
        wrong = [name for name, thread in seen if thread != gui]
        assert not wrong, f"handled off the GUI thread: {wrong}"
        assert len(seen) == len(emitted)  # every signal reached a handler, each exactly once
    finally:
        app.shutdown()


def test_two_bad_opens_in_a_row_leave_the_app_alive_and_show_two_messages(qtbot, tmp_path):
    text = tmp_path / "letter.jpg"
    text.write_text("Dear Sir")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    app = Application()
    qtbot.addWidget(app.window)
    try:
        for bad in (text, empty):
            with wait_worker(qtbot, app.worker.load_failed, timeout=10000):
                app.open(str(bad))
            qtbot.waitUntil(lambda: not app.session.busy, timeout=5000)
        qtbot.waitUntil(lambda: len(app.window.open_messages()) == 2, timeout=5000)
        messages = app.window.open_messages()
        assert "letter.jpg" in messages[0] and "empty.jpg" in messages[1]
        good = save_rgb(tmp_path / "fine.png", gradient_photo(32, 24))
        open_and_restore(qtbot, app, good, LANCZOS)  # still alive and working
        assert app.session.result.size == (64, 48)
    finally:
        app.shutdown()


def _slow_pipeline(steps: int = 60, delay: float = 0.02):
    """A pipeline that takes steps * delay seconds per run and 'enlarges' by the recipe's alpha, so the
    result says which alpha made it."""
    from restorer.imaging import Photo

    def run(recipe, photo, mask=None, cancel=None, context=None):
        stages = recipe.enabled_stages()
        yield StageStarted(stages[-1], 0, 1)
        for i in range(steps):
            time.sleep(delay)
            if cancel.cancelled:
                raise Cancelled("The restoration was cancelled; nothing was written.")
            yield Progress(stages[-1], i / steps, i / steps)
        alpha = recipe.settings("upscale").alpha
        result = Photo(np.full((8, 8, 3), alpha, np.float32))
        yield StageFinished(stages[-1], steps * delay, "", result)
        yield Finished(result, steps * delay)

    class Token:
        def __init__(self):
            self.cancelled = False

        def cancel(self):
            self.cancelled = True

    return types.SimpleNamespace(run=run, CancelToken=Token)


def _opened(qtbot, app, tmp_path):
    source = save_rgb(tmp_path / "p.png", gradient_photo(16, 16))
    with wait_worker(qtbot, app.worker.loaded, timeout=10000):
        app.open(str(source))
    qtbot.waitUntil(lambda: app.session.photo is not None and not app.session.busy, timeout=5000)


def test_a_look_change_during_a_run_ends_at_the_sliders_value(qtbot, tmp_path):
    app = Application(_slow_pipeline())
    qtbot.addWidget(app.window)
    try:
        _opened(qtbot, app, tmp_path)
        app.set_recipe(Recipe().with_enabled({"upscale"}).with_settings("upscale", alpha=0.30))
        app.restore()
        qtbot.waitUntil(lambda: app.session.result is not None and not app.session.busy, timeout=10000)
        app.window.panel.upscale_alpha.setValue(36)  # starts a re-run at 0.36 ...
        assert app.session.busy
        app.window.panel.upscale_alpha.setValue(40)  # ... and, while it runs, the user goes on to 0.40
        # A Look change first asks for the exact blend of the view, which loads the real networks (the
        # stand-in pipeline only replaces the run): seconds, and many more on a loaded machine.
        qtbot.waitUntil(lambda: not app.session.busy and app.session.result_recipe is not None
                        and app.session.result_recipe.settings("upscale").alpha == 0.40, timeout=90000)
        assert float(app.session.result.pixels[0, 0, 0]) == pytest.approx(0.40)
        assert not app.session.stale and app.window.viewer.stale_message() == ""
    finally:
        app.shutdown()


def test_cancel_says_so_at_once_and_leaves_the_view_marked_out_of_date(qtbot, tmp_path):
    app = Application(_slow_pipeline(steps=500))
    qtbot.addWidget(app.window)
    try:
        _opened(qtbot, app, tmp_path)
        fast = _slow_pipeline(steps=1)
        app.worker._pipeline = fast
        app.set_recipe(Recipe().with_enabled({"upscale"}).with_settings("upscale", alpha=0.2))
        app.restore()
        qtbot.waitUntil(lambda: app.session.result is not None and not app.session.busy, timeout=10000)
        assert app.window.viewer.stale_message() == ""
        app.worker._pipeline = _slow_pipeline(steps=500)
        app.set_recipe(app.session.recipe.with_settings("upscale", scale=2))
        assert "Out of date" in app.window.viewer.stale_message()  # a changed setting shows at once
        app.restore()
        with wait_worker(qtbot, app.worker.progress, timeout=5000):
            pass
        app.window.cancel_button.click()
        assert app.window.stage_label.text() == "Cancelling…" and not app.window.cancel_button.isEnabled()
        with wait_worker(qtbot, app.worker.cancelled, timeout=10000):
            pass
        qtbot.waitUntil(lambda: not app.session.busy, timeout=5000)
        assert app.session.stale and "Out of date" in app.window.viewer.stale_message()
        assert float(app.session.result.pixels[0, 0, 0]) == pytest.approx(0.2)  # the earlier result, still shown
    finally:
        app.shutdown()


def test_save_as_without_an_extension_writes_a_png(qtbot, tmp_path, monkeypatch):
    app = Application()
    qtbot.addWidget(app.window)
    try:
        open_and_restore(qtbot, app, save_rgb(tmp_path / "p.png", gradient_photo(20, 16)), LANCZOS)
        target = tmp_path / "grandma"
        monkeypatch.setattr("restorer.gui.main_window.QFileDialog.getSaveFileName",
                            lambda *a, **k: (str(target), "PNG (*.png)"))
        with wait_worker(qtbot, app.worker.saved, timeout=10000):
            app.window.save_as_action.trigger()
        with Image.open(tmp_path / "grandma.png") as saved:
            assert saved.format == "PNG" and saved.size == (40, 32)
        (run,) = read_provenance(read_photo(tmp_path / "grandma.png").metadata.xmp)
        assert run["engine"].startswith("cpu") and [s["stage"] for s in run["stages"]] == ["upscale"]
        monkeypatch.setattr("restorer.gui.main_window.QFileDialog.getSaveFileName",
                            lambda *a, **k: (str(tmp_path / "copy"), "TIFF (*.tif *.tiff)"))
        with wait_worker(qtbot, app.worker.saved, timeout=10000):
            app.window.save_as_action.trigger()
        assert (tmp_path / "copy.tif").is_file()
        qtbot.waitUntil(lambda: not app.session.busy, timeout=5000)
        with wait_worker(qtbot, app.worker.saved, timeout=10000):  # Save (Ctrl+S) now writes there again
            app.window.save_action.trigger()
    finally:
        app.shutdown()


def test_the_queue_restores_a_folder_shows_the_bad_file_and_opens_a_result(qtbot, tmp_path):
    folder = tmp_path / "shoebox"
    folder.mkdir()
    for i in range(3):
        save_rgb(folder / f"scan{i}.png", gradient_photo(24, 16, seed=i))
    (folder / "scan9.jpg").write_text("not a photo")
    app = Application()
    qtbot.addWidget(app.window)
    try:
        app.set_recipe(LANCZOS)
        app.window.handle_dropped([str(folder)])  # a folder dropped on the window goes to the queue
        panel = app.window.queue
        assert app.window.queue_dock.isVisibleTo(app.window) and len(panel.sources()) == 4
        panel.outdir.setText(str(tmp_path / "out"))
        with wait_worker(qtbot, app.queue_worker.finished, timeout=30000):
            panel.start_button.click()
        qtbot.waitUntil(lambda: not panel.running, timeout=5000)
        bad = str(folder / "scan9.jpg")
        assert panel.status_of(bad) == "failed" and "scan9.jpg is not an image" in panel.message_of(bad)
        good = str(folder / "scan1.png")
        assert panel.status_of(good) == "restored" and (tmp_path / "out" / "scan1_restored.png").is_file()
        assert (tmp_path / "out" / "restorer-report.csv").is_file()
        row = panel.sources().index(good)
        with wait_worker(qtbot, app.worker.result_loaded, timeout=10000):
            panel.table.cellDoubleClicked.emit(row, 0)
        qtbot.waitUntil(lambda: app.session.result is not None and not app.session.busy, timeout=5000)
        assert app.session.path.name == "scan1.png" and app.session.result.size == (48, 32)
        assert app.window.viewer.has_result()
    finally:
        app.shutdown()


def test_a_photo_too_large_for_memory_is_refused_with_a_sentence(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr("restorer.memory.available_bytes", lambda: 50_000_000)  # a 50 MB machine
    big = save_rgb(tmp_path / "huge_scan.png", gradient_photo(1400, 1200))  # 1.7 Mpx: ~52 MB to open
    app = Application()
    qtbot.addWidget(app.window)
    try:
        with wait_worker(qtbot, app.worker.load_failed, timeout=10000) as blocker:
            app.open(str(big))
        assert "huge_scan.png is 1400 × 1200 pixels" in blocker.args[0] and "free" in blocker.args[0]
        qtbot.waitUntil(lambda: not app.session.busy, timeout=5000)
        monkeypatch.setattr("restorer.memory.available_bytes", lambda: 400_000_000)
        small = save_rgb(tmp_path / "small.png", gradient_photo(600, 500))
        with wait_worker(qtbot, app.worker.loaded, timeout=10000):
            app.open(str(small))
        qtbot.waitUntil(lambda: app.session.photo is not None and not app.session.busy, timeout=5000)
        app.set_recipe(Recipe().with_enabled({"artifacts", "upscale"}))  # x4 with networks: ~2.5 GB
        label = app.window.panel.output_size.text()
        assert "600 × 500 → 2400 × 2000" in label or "2400 × 2000 pixels needs" in label
        app.restore()
        assert not app.session.busy and any("2400 × 2000 pixels needs" in m for m in app.window.open_messages())
    finally:
        app.shutdown()


def test_the_window_fits_800_pixels_and_everything_stays_reachable(qtbot):
    app = Application()
    qtbot.addWidget(app.window)
    try:
        app.window.resize(800, 560)
        app.window.show()
        qtbot.waitExposed(app.window)
        bar = app.window.mask_toolbar
        extension = [b for b in bar.findChildren(QToolButton) if b.objectName() == "qt_toolbar_ext_button"]
        assert not extension or not extension[0].isVisible(), "the toolbar overflows into a » menu"
        menu_texts = [a.text() for a in app.window.mask_menu.actions()]
        for needed in ("Import Mask…", "Export Mask…", "Clear Colour Hints"):
            assert needed in menu_texts
        assert app.window.progress.width() >= 120
        assert not app.window.clear_hints_action.isEnabled()  # no photo, no hints
        assert app.window.run_button.toolTip() and "Ctrl+R" in app.window.run_button.toolTip()
        for slider in (app.window.panel.artifacts_strength, app.window.panel.colorize_strength,
                       app.window.panel.colorize_saturation, app.window.panel.upscale_alpha):
            assert slider.toolTip() and slider.accessibleName()
        app.window.panel.colorize_saturation.setValue(140)
        assert app.window.panel.colorize_saturation_value.text() == "1.40×"
        buttons = [b for b in bar.findChildren(QToolButton) if b.isVisible() and b.defaultAction()]
        assert buttons and all(b.focusPolicy() != b.focusPolicy().NoFocus for b in buttons)
    finally:
        app.shutdown()
