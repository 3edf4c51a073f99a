"""Wiring: the one place signals are connected, and the GUI's entry point.

Every signal from a worker thread is connected to a method of an object that
lives in the GUI thread (this Application, the window, the queue panel),
never to a lambda: PySide6 runs a lambda in the thread that emits, and a
message box or progress update made from the worker thread corrupts Qt's
state (tests/test_gui_threads.py checks every worker signal).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QApplication

from restorer.gui.main_window import MainWindow
from restorer.gui.preferences import Preferences
from restorer.gui.queue import QueueWorker
from restorer.gui.session import Session
from restorer.gui.worker import RestoreWorker

_STAGE_NAMES = {"artifacts": "Removing artifacts", "inpaint": "Filling scratches", "colorize": "Colour",
                "upscale": "Enlarging"}


class _Requests(QObject):
    """Queued calls into the worker threads (signals cross threads safely; direct calls would not)."""

    load = Signal(str)
    load_pair = Signal(str, str)
    restore = Signal(object, object, object)
    save = Signal(object, str)
    preview = Signal(object, object, object, object, int, float, str)
    detect = Signal(object)
    describe_engine = Signal(str, str, str)  # engine, precision, quality of the recipe's enlargement
    queue_run = Signal(object, object, str)


def only_look_differs(a, b) -> bool:
    """True when recipes `a` and `b` differ in the Look (alpha) of the enlargement and nothing else."""
    return a is not None and b is not None and a != b and a.with_settings(
        "upscale", alpha=b.settings("upscale").alpha) == b


def _engine_choice(recipe) -> tuple[str, str, str]:
    """What in a recipe decides the enlargement's engine."""
    upscale = recipe.settings("upscale")
    return upscale.engine, upscale.precision, upscale.quality


class Application(QObject):
    """Owns the window, the session and the worker threads, and connects them."""

    def __init__(self, pipeline_module=None, preferences: Preferences | None = None) -> None:
        super().__init__()
        self.session = Session()
        self.preferences = preferences or Preferences()
        self.window = MainWindow(self.session, self.preferences)
        self.worker_thread = QThread()  # not "thread": that would hide QObject.thread(), which PySide asks
        self.worker_thread.setObjectName("restore-worker")
        self.worker = RestoreWorker(pipeline_module)
        self.worker.moveToThread(self.worker_thread)
        self.queue_thread = QThread()
        self.queue_thread.setObjectName("queue-worker")
        self.queue_worker = QueueWorker()
        self.queue_worker.moveToThread(self.queue_thread)
        self.requests = _Requests()
        self._preview_requests = 0
        self._running = None  # (recipe, mask version) of the restoration under way
        self._rerun_pending = False
        self._queue_recipe = None
        self._connect()
        self.worker_thread.start()
        self.queue_thread.start()
        self._describe_engine()

    def _connect(self) -> None:
        w, win, r, q = self.worker, self.window, self.requests, self.queue_worker
        r.load.connect(w.load)
        r.load_pair.connect(w.load_pair)
        r.restore.connect(w.restore)
        r.save.connect(w.save)
        r.preview.connect(w.preview)
        r.detect.connect(w.detect_scratches)
        r.describe_engine.connect(w.describe_engine)
        r.queue_run.connect(q.run)

        win.open_requested.connect(self.open)
        win.run_requested.connect(self.restore)
        win.cancel_requested.connect(w.request_cancel, Qt.ConnectionType.DirectConnection)
        win.save_requested.connect(self.save)
        win.detect_requested.connect(self.detect_scratches)
        win.recipe_save_requested.connect(self.save_recipe)
        win.recipe_open_requested.connect(self.open_recipe)
        win.queue_add_requested.connect(self.queue_add)
        win.checkpoint_chosen.connect(self.use_checkpoint)
        win.reference_chosen.connect(self.use_reference)
        win.device_chosen.connect(self.use_device)
        win.panel.recipe_changed.connect(self._on_recipe_changed)
        win.panel.alpha_moved.connect(self._on_alpha_moved)
        win.panel.preset_chosen.connect(self.use_preset)
        win.viewer.hint_clicked.connect(self._on_hint_clicked)
        win.clear_hints_action.triggered.connect(self.clear_hints)

        # Worker -> GUI: bound methods of GUI-thread objects only (queued across threads).
        w.loaded.connect(self._on_loaded)
        w.load_failed.connect(self._on_load_failed)
        w.result_loaded.connect(self._on_result_loaded)
        w.stage_started.connect(self._on_stage_started)
        w.progress.connect(self._on_progress)
        w.stage_finished.connect(self._on_stage_finished)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        w.saved.connect(self._on_saved)
        w.save_failed.connect(self._on_save_failed)
        w.preview_ready.connect(self._on_preview_ready)
        w.scratches_detected.connect(self._on_scratches_detected)
        w.detect_failed.connect(self._on_detect_failed)
        w.engine_ready.connect(self._on_engine_ready)

        panel = win.queue
        panel.start_requested.connect(self.queue_start)
        panel.pause_requested.connect(q.pause, Qt.ConnectionType.DirectConnection)
        panel.resume_requested.connect(q.resume, Qt.ConnectionType.DirectConnection)
        panel.cancel_requested.connect(q.cancel, Qt.ConnectionType.DirectConnection)
        panel.open_requested.connect(self.open_pair)
        q.started.connect(panel.on_started)
        q.file_started.connect(panel.on_file_started)
        q.file_progress.connect(panel.on_file_progress)
        q.file_done.connect(panel.on_file_done)
        q.finished.connect(panel.on_finished)

    # --- commands -----------------------------------------------------------------------

    def open(self, path: str) -> None:
        if self.session.busy:
            return
        self.session.set_busy(True, "open")
        self.window.statusBar().showMessage(f"Opening {os.path.basename(path)}…")
        self.requests.load.emit(path)

    def open_pair(self, source: str, result: str) -> None:
        """Open a queued photo with its finished result, to compare them in the viewer."""
        if self.session.busy:
            return
        self.session.set_busy(True, "open")
        self.requests.load_pair.emit(source, result)

    def restore(self) -> None:
        from restorer.memory import describe_run

        if self.session.photo is None:
            return
        if self.session.busy:
            self._rerun_pending = True  # the newest request wins: run again when this one ends
            return
        width, height = self.session.photo.size
        _, refusal = describe_run(width, height, self.session.recipe)
        if refusal:
            self.window.show_error("Not enough memory", refusal)
            return
        self._rerun_pending = False
        self._running = (self.session.recipe, self.session.mask_version)
        self.window.panel.show_colour_outcome("")  # said again by this run's colour stage, if it runs
        self.session.set_busy(True, "restore")
        self.window.show_progress(0.0, "Starting")
        self.requests.restore.emit(self.session.recipe, self.session.photo, self.session.mask)

    def save(self, path: str) -> None:
        if self.session.result is not None and not self.session.busy:
            self.session.set_busy(True, "save")
            self.requests.save.emit(self.session.result, path)

    def detect_scratches(self) -> None:
        if self.session.photo is None or self.session.busy:
            return
        self.session.set_busy(True, "detect")
        self.window.show_progress(0.0, "Detecting scratches")
        self.window.statusBar().showMessage("Looking for scratches and dust…")
        self.requests.detect.emit(self.session.photo)

    def set_recipe(self, recipe, preset: str | None = None) -> None:
        """Make `recipe` the current one: the session holds it, the panel shows it."""
        previous = self.session.recipe
        self.session.set_recipe(recipe)
        self.window.panel.set_recipe(recipe, preset)
        self._show_output_size()
        if _engine_choice(previous) != _engine_choice(recipe):
            self._describe_engine()
        self.window.update_hint_actions()

    def use_preset(self, name: str) -> None:
        from restorer.errors import RestorerError
        from restorer.recipe import load_preset

        try:
            recipe = load_preset(name)
        except RestorerError as exc:
            self.window.show_error("Could not use the preset", str(exc))
            return
        hints = self.session.recipe.settings("colorize").hints  # the photo's hints outlive a preset change
        self.set_recipe(recipe.with_settings("colorize", hints=hints), preset=name if not hints else None)

    def use_checkpoint(self, path: str) -> None:
        recipe = self.session.recipe.with_settings("upscale", checkpoint=path, engine="realesrgan")
        if "upscale" not in recipe.enabled_stages():
            recipe = recipe.with_enabled(set(recipe.enabled_stages()) | {"upscale"})
        self.set_recipe(recipe)

    def use_device(self, device: str) -> None:
        """Run networks on `device` from the next run on; the status bar says what it found."""
        self.worker.device = device  # a plain attribute, read by the worker when a run starts
        self.window.show_engine("checking…")
        self._describe_engine()

    def _describe_engine(self) -> None:
        """Ask the worker which engine the recipe's enlargement runs on; the status bar shows its answer."""
        self.requests.describe_engine.emit(*_engine_choice(self.session.recipe))

    def use_reference(self, path: str) -> None:
        """Colour from `path` (a colour photo) from now on, or none with ""; re-colours the open photo."""
        recipe = self.session.recipe.with_settings("colorize", reference=path)
        if path and "colorize" not in recipe.enabled_stages():
            recipe = recipe.with_enabled(set(recipe.enabled_stages()) | {"colorize"})
        self.set_recipe(recipe)
        self.window.statusBar().showMessage(f"Colours steered by {Path(path).name}." if path
                                            else "No colour reference.")
        if self.session.photo is not None and path:
            self.restore()

    def save_recipe(self, path: str) -> None:
        """Write the current recipe (hints included) as JSON, atomically."""
        from restorer.imaging import write_text_atomically

        try:
            write_text_atomically(Path(path), self.session.recipe.to_json())
        except OSError as exc:
            self.window.show_error("Could not save the recipe", f"Cannot write {path}: {exc.strerror or exc}.")
            return
        self.window.statusBar().showMessage(f"Saved the recipe to {path}")

    def open_recipe(self, path: str) -> None:
        from restorer.errors import RestorerError
        from restorer.recipe import load_preset

        try:
            recipe = load_preset(path)
        except RestorerError as exc:
            self.window.show_error("Could not open the recipe", str(exc))
            return
        self.set_recipe(recipe)
        self.window.statusBar().showMessage(f"Recipe from {Path(path).name}")

    def queue_add(self, paths: list[str]) -> None:
        self.window.queue.add([str(p) for p in paths])
        self.window.queue_dock.show()

    def queue_start(self, sources: list[str], outdir: str) -> None:
        self._queue_recipe = self.session.recipe
        self.requests.queue_run.emit(sources, self.session.recipe, outdir)

    def clear_hints(self) -> None:
        self._set_hints(())

    def shutdown(self) -> None:
        self.window.confirm_close = False  # quitting for good: nothing left to ask
        self.worker.request_cancel()
        self.queue_worker.cancel()
        for thread in (self.worker_thread, self.queue_thread):
            thread.quit()
            thread.wait()

    # --- user edits -----------------------------------------------------------------------

    def _on_recipe_changed(self, recipe) -> None:
        previous = self.session.recipe
        self.session.set_recipe(recipe)
        self._show_output_size()
        if _engine_choice(previous) != _engine_choice(recipe):
            self._describe_engine()  # int8 or fast mode chosen (or dropped): the status bar follows
        self.window.update_hint_actions()
        # A new Look: the exact blend of the view first (a second or two), then the whole enlargement
        # runs again (only that stage); during a run it waits its turn.
        if only_look_differs(previous, recipe) and self.session.result is not None:
            if not self.session.busy:
                self._request_preview(recipe, "exact")
            self.restore()

    def _on_hint_clicked(self, x: float, y: float) -> None:
        """A click with the hint tool: ask for the colour there, add the hint and re-colour."""
        source = self.session.result if self.session.result is not None else self.session.photo
        if source is None:
            return
        pixels = source.float_pixels()
        initial = tuple(float(v) for v in pixels[int(y * (pixels.shape[0] - 1)), int(x * (pixels.shape[1] - 1))])
        colour = self.window.pick_colour(initial)
        if colour is None:
            return
        self._set_hints(self.session.recipe.settings("colorize").hints + ((x, y, *colour),))

    def _set_hints(self, hints: tuple) -> None:
        recipe = self.session.recipe.with_settings("colorize", hints=hints)
        if "colorize" not in recipe.enabled_stages():
            recipe = recipe.with_enabled(set(recipe.enabled_stages()) | {"colorize"})
        self.set_recipe(recipe)
        self.window.viewer.set_hints(hints)
        if self.session.photo is not None:
            self.restore()

    def _on_alpha_moved(self, alpha: float) -> None:
        """Slider being dragged: preview the view with FastSR at the new alpha, newest request only."""
        if self.session.photo is None or self.session.result is None or self.session.busy:
            return
        self._request_preview(self.session.recipe.with_settings("upscale", alpha=alpha), "fast")

    def _request_preview(self, recipe, mode: str) -> None:
        viewer = self.window.viewer
        rect = viewer.visible_image_rect()
        self._preview_requests += 1
        self.worker.latest_preview = self._preview_requests
        self.requests.preview.emit(recipe, self.session.photo, self.session.mask,
                                   (rect.x(), rect.y(), rect.width(), rect.height()), self._preview_requests,
                                   float(viewer.visible_screen_scale()), mode)

    def _show_output_size(self) -> None:
        from restorer.memory import describe_run

        if self.session.photo is None:
            self.window.panel.show_output_size("")
            return
        text, refusal = describe_run(*self.session.photo.size, self.session.recipe)
        self.window.panel.show_output_size(refusal or text, warning=bool(refusal))

    # --- worker events ------------------------------------------------------------------

    def _on_loaded(self, photo, image, path: str) -> None:
        self.session.set_busy(False)
        self.session.set_photo(photo, image, path)
        self.preferences.add_recent(path)
        if self.session.recipe.settings("colorize").hints:  # hints belong to the previous photo
            self.set_recipe(self.session.recipe.with_settings("colorize", hints=()))
        self.window.viewer.set_hints(())
        self._show_output_size()
        self.window.update_hint_actions()
        notice = photo.metadata.pages_notice()
        if notice:
            self.window.statusBar().showMessage(notice.replace("was restored", "is open"))

    def _on_load_failed(self, message: str) -> None:
        self.session.set_busy(False)
        self.window.statusBar().showMessage(message)
        self.window.show_error("Could not open the photo", message)

    def _on_result_loaded(self, photo, image, path: str) -> None:
        self.session.set_result(photo, image, self._queue_recipe, self.session.mask_version)
        self.session.saved_path = Path(path)
        self.session.result_saved = True  # the queue wrote it
        self.window.statusBar().showMessage(f"{Path(path).name}: the queue's result, beside its original.")

    def _on_stage_started(self, stage: str, index: int, count: int) -> None:
        # The bar stays where the last stage left it: stages take shares by their cost, not equal ones.
        self.window.show_progress(self.window.progress.value() / 1000, _STAGE_NAMES.get(stage, stage))

    def _on_progress(self, fraction: float, stage: str) -> None:
        self.window.show_progress(fraction, _STAGE_NAMES.get(stage, stage))

    def _on_stage_finished(self, stage: str, note: str) -> None:
        if note:
            self.window.statusBar().showMessage(f"{_STAGE_NAMES.get(stage, stage)}: {note}")
        if stage == "artifacts":
            self.window.panel.show_estimate(note)
        elif stage == "colorize":
            self.window.panel.show_colour_outcome(note)

    def _on_finished(self, photo, image, seconds: float) -> None:
        recipe, mask_version = self._running or (self.session.recipe, self.session.mask_version)
        self._running = None
        self.session.set_busy(False)
        self.session.set_result(photo, image, recipe, mask_version)
        self.window.show_progress(1.0, "Done")
        w, h = photo.size
        if seconds > 0:
            message = f"Restored in {seconds:.1f} s: {w}×{h}. Drag the divider to compare."
        else:
            message = f"Already up to date ({w}×{h}): nothing needed computing again."
        self.window.statusBar().showMessage(message)
        self._rerun_if_wanted(recipe)

    def _rerun_if_wanted(self, finished_recipe) -> None:
        """A Look change made during the run: run again now, so the result ends at the slider's value."""
        pending, self._rerun_pending = self._rerun_pending, False
        if only_look_differs(finished_recipe, self.session.recipe) or (pending and self.session.stale):
            self.restore()

    def _on_failed(self, message: str) -> None:
        self._running = None
        self._rerun_pending = False
        self.session.set_busy(False)
        self.window.show_progress(0.0, "Failed")
        self.window.show_error("Restoring failed", message)

    def _on_cancelled(self) -> None:
        self._running = None
        self._rerun_pending = False
        self.session.set_busy(False)
        self.window.show_progress(0.0, "Cancelled")
        self.session.update_stale()
        note = " The result on screen is from earlier settings." if self.session.stale else ""
        self.window.statusBar().showMessage("Cancelled; the photo is unchanged." + note)

    def _on_saved(self, path: str) -> None:
        self.session.set_busy(False)
        self.session.saved_path = Path(path)
        self.session.result_saved = True
        self.preferences.remember_folder(path)
        self.window.statusBar().showMessage(f"Saved {path}")

    def _on_save_failed(self, message: str) -> None:
        self.session.set_busy(False)
        self.window.show_error("Could not save", message)

    def _on_preview_ready(self, image, rect, mode: str) -> None:
        # The fast network's patch says "preview"; the exact blend of the view needs no badge, but it is
        # still only the view until the whole photo is done (the result replaces the patch then).
        self.window.viewer.show_patch(image, rect, badge="preview" if mode == "fast" else "exact view")

    def _on_scratches_detected(self, mask, summary: str) -> None:
        self.session.set_busy(False)
        self.window.show_progress(1.0, "Detection done")
        if self.session.photo is None or mask.shape != self.session.mask_model.shape:
            return  # the photo changed while detecting
        self.session.mask_model.replace(mask | self.session.mask_model.mask)
        self.window.viewer.set_tool("brush")
        self.window.statusBar().showMessage(f"Scratch detection {summary}; edit the red mask, then Restore.")
        if not self.window.panel.groups["inpaint"].isChecked():
            self.window.panel.groups["inpaint"].setChecked(True)

    def _on_detect_failed(self, message: str) -> None:
        self.session.set_busy(False)
        self.window.show_progress(0.0, "Detection failed")
        self.window.show_error("Scratch detection failed", message)

    def _on_engine_ready(self, text: str) -> None:
        self.window.show_engine(text)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    qt_app.setApplicationName("Restorer")
    qt_app.setDesktopFileName("restorer")
    from PySide6.QtGui import QIcon

    from restorer.paths import resources_dir

    qt_app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "restorer.svg")))
    app = Application()
    app.window.show()
    if argv:
        app.window.handle_dropped(argv)
    qt_app.aboutToQuit.connect(app.shutdown)
    return qt_app.exec()


if __name__ == "__main__":
    sys.exit(main())
