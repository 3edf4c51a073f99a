"""Wiring: the one place signals are connected, and the GUI's entry point."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QApplication

from restorer.gui.main_window import MainWindow
from restorer.gui.session import Session
from restorer.gui.worker import RestoreWorker

_STAGE_NAMES = {"artifacts": "Removing artifacts", "inpaint": "Filling scratches", "colorize": "Colour",
                "upscale": "Enlarging"}


class _Requests(QObject):
    """Queued calls into the worker thread (signals cross threads safely; direct calls would not)."""

    load = Signal(str)
    restore = Signal(object, object, object)
    save = Signal(object, str)
    preview = Signal(object, object, object, object, int)
    detect = Signal(object)


class Application(QObject):
    """Owns the window, the session and the worker thread, and connects them."""

    def __init__(self, pipeline_module=None) -> None:
        super().__init__()
        self.session = Session()
        self.window = MainWindow(self.session)
        self.thread = QThread()
        self.thread.setObjectName("restore-worker")
        self.worker = RestoreWorker(pipeline_module)
        self.worker.moveToThread(self.thread)
        self.requests = _Requests()
        self._preview_requests = 0
        self._connect()
        self.thread.start()

    def _connect(self) -> None:
        w, s, win, r = self.worker, self.session, self.window, self.requests
        r.load.connect(w.load)
        r.restore.connect(w.restore)
        r.save.connect(w.save)
        r.preview.connect(w.preview)
        r.detect.connect(w.detect_scratches)
        win.detect_requested.connect(lambda: s.photo is not None and r.detect.emit(s.photo))
        w.scratches_detected.connect(self._on_scratches_detected)

        win.open_requested.connect(self.open)
        win.run_requested.connect(self.restore)
        win.cancel_requested.connect(w.request_cancel, Qt.ConnectionType.DirectConnection)
        win.save_requested.connect(self.save)
        win.recipe_save_requested.connect(self.save_recipe)
        win.recipe_open_requested.connect(self.open_recipe)
        win.panel.recipe_changed.connect(self._on_recipe_changed)
        win.panel.alpha_moved.connect(self._on_alpha_moved)
        win.viewer.hint_clicked.connect(self._on_hint_clicked)
        win.clear_hints_action.triggered.connect(lambda: self._set_hints(()))
        w.preview_ready.connect(win.viewer.show_patch)

        w.loaded.connect(self._on_loaded)
        w.load_failed.connect(lambda msg: (s.set_busy(False), win.show_error("Could not open the photo", msg)))
        w.stage_started.connect(lambda stage, i, n: win.show_progress(i / max(1, n), _STAGE_NAMES.get(stage, stage)))
        w.progress.connect(lambda f, stage: win.show_progress(f, _STAGE_NAMES.get(stage, stage)))
        w.stage_finished.connect(self._on_stage_finished)
        w.finished.connect(self._on_finished)
        w.failed.connect(lambda msg: (s.set_busy(False), win.show_error("Restoring failed", msg)))
        w.cancelled.connect(self._on_cancelled)
        w.saved.connect(lambda path: win.statusBar().showMessage(f"Saved {path}"))
        w.save_failed.connect(lambda msg: win.show_error("Could not save", msg))

    # --- commands -----------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.session.set_busy(True)
        self.window.statusBar().showMessage(f"Opening {os.path.basename(path)}…")
        self.requests.load.emit(path)

    def restore(self) -> None:
        if self.session.photo is None or self.session.busy:
            return
        self.session.set_busy(True)
        self.window.show_progress(0.0, "Starting")
        self.requests.restore.emit(self.session.recipe, self.session.photo, self.session.mask)

    def save(self, path: str) -> None:
        if self.session.result is not None:
            self.requests.save.emit(self.session.result, path)

    def set_recipe(self, recipe) -> None:
        """Make `recipe` the current one: the session holds it, the panel shows it."""
        self.session.recipe = recipe
        self.window.panel.set_recipe(recipe)

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

    def shutdown(self) -> None:
        self.worker.request_cancel()
        self.thread.quit()
        self.thread.wait()

    # --- worker events ------------------------------------------------------------------

    def _on_recipe_changed(self, recipe) -> None:
        previous = self.session.recipe
        self.session.recipe = recipe
        # A finished result plus a new look: re-run at once (only the upscale stage runs again).
        only_alpha = (previous.with_settings("upscale", alpha=recipe.settings("upscale").alpha) == recipe
                      and previous != recipe)
        if only_alpha and self.session.result is not None and not self.session.busy:
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
        if self.session.photo is not None and not self.session.busy:
            self.restore()

    def _on_alpha_moved(self, alpha: float) -> None:
        """Slider being dragged: preview the visible crop at the new alpha, newest request only."""
        if self.session.photo is None or self.session.result is None or self.session.busy:
            return
        recipe = self.session.recipe.with_settings("upscale", alpha=alpha)
        rect = self.window.viewer.visible_image_rect()
        self._preview_requests += 1
        self.worker.latest_preview = self._preview_requests
        self.requests.preview.emit(recipe, self.session.photo, self.session.mask,
                                   (rect.x(), rect.y(), rect.width(), rect.height()), self._preview_requests)

    def _on_loaded(self, photo, image, path: str) -> None:
        self.session.set_busy(False)
        self.session.set_photo(photo, image, path)
        if self.session.recipe.settings("colorize").hints:  # hints belong to the previous photo
            self.set_recipe(self.session.recipe.with_settings("colorize", hints=()))
        self.window.viewer.set_hints(())

    def _on_scratches_detected(self, mask, summary: str) -> None:
        if self.session.photo is None or mask.shape != self.session.mask_model.shape:
            return  # the photo changed while detecting
        self.session.mask_model.replace(mask | self.session.mask_model.mask)
        self.window.viewer.set_tool("brush")
        self.window.statusBar().showMessage(f"Scratch detection {summary}; edit the red mask, then Restore.")
        if not self.window.panel.groups["inpaint"].isChecked():
            self.window.panel.groups["inpaint"].setChecked(True)

    def _on_stage_finished(self, stage: str, note: str) -> None:
        if note:
            self.window.statusBar().showMessage(f"{_STAGE_NAMES.get(stage, stage)}: {note}")
        if stage == "artifacts":
            self.window.panel.show_estimate(note)

    def _on_finished(self, photo, image, seconds: float) -> None:
        self.session.set_busy(False)
        self.session.set_result(photo, image)
        self.window.show_progress(1.0, "Done")
        w, h = photo.size
        self.window.statusBar().showMessage(f"Restored in {seconds:.1f} s: {w}×{h}. Drag the divider to compare.")

    def _on_cancelled(self) -> None:
        self.session.set_busy(False)
        self.window.show_progress(0.0, "Cancelled")
        self.window.statusBar().showMessage("Cancelled; the photo is unchanged.")


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
        app.open(argv[0])
    qt_app.aboutToQuit.connect(app.shutdown)
    return qt_app.exec()


if __name__ == "__main__":
    sys.exit(main())
