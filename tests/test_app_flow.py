"""Open -> Restore -> Save through the real window, worker thread and pipeline (classic engines)."""

import numpy as np
import pytest
from PIL import Image

from restorer.gui.app import Application
from restorer.recipe import Recipe

from .conftest import gradient_photo, open_and_restore, save_rgb, wait_worker


def test_run_result_save_flow(qtbot, tmp_path):
    source = save_rgb(tmp_path / "family.png", gradient_photo(40, 30))
    app = Application()
    qtbot.addWidget(app.window)
    try:
        with wait_worker(qtbot, app.worker.loaded, timeout=10000):
            app.open(str(source))
        qtbot.waitUntil(lambda: app.session.photo is not None, timeout=5000)
        assert app.window.run_button.isEnabled()
        recipe = (app.session.recipe.with_enabled({"artifacts", "colorize", "upscale"})
                  .with_settings("upscale", engine="lanczos", scale=2).with_settings("artifacts", engine="classic"))
        app.set_recipe(recipe)
        with wait_worker(qtbot, app.worker.finished, timeout=20000):
            app.window.run_button.click()
        qtbot.waitUntil(lambda: app.session.result is not None, timeout=5000)
        assert app.session.result.size == (80, 60)
        assert app.window.save_action.isEnabled()
        target = tmp_path / "saved.png"
        with wait_worker(qtbot, app.worker.saved, timeout=10000):
            app.save(str(target))
        with Image.open(target) as saved:
            assert saved.size == (80, 60)
        assert np.asarray(Image.open(source)).shape == (30, 40, 3)  # original untouched
    finally:
        app.shutdown()


def test_open_failure_is_shown_not_raised(qtbot, tmp_path, monkeypatch):
    shown = []
    app = Application()
    qtbot.addWidget(app.window)
    monkeypatch.setattr(app.window, "show_error", lambda title, msg: shown.append(msg))
    try:
        bad = tmp_path / "broken.jpg"
        bad.write_bytes(b"not a jpeg")
        with wait_worker(qtbot, app.worker.load_failed, timeout=10000):
            app.open(str(bad))
        qtbot.waitUntil(lambda: bool(shown), timeout=5000)
        assert "broken.jpg" in shown[0]
        assert not app.session.busy and app.session.photo is None
    finally:
        app.shutdown()


def test_recipe_panel_edits_reach_the_session(qtbot):
    app = Application()
    qtbot.addWidget(app.window)
    try:
        app.window.panel.groups["upscale"].setChecked(False)
        assert "upscale" not in app.session.recipe.enabled_stages()
        app.window.panel.upscale_alpha.setValue(20)
        assert app.session.recipe.settings("upscale").alpha == 0.2
        app.window.panel.upscale_ensemble.setChecked(True)
        assert app.session.recipe.settings("upscale").ensemble is True
        app.set_recipe(Recipe().with_settings("upscale", engine="lanczos"))
        assert not app.window.panel.upscale_ensemble.isChecked() and not app.window.panel.upscale_ensemble.isEnabled()
    finally:
        app.shutdown()


def test_int8_choice_reaches_the_recipe_and_gives_back_the_recipes_own_precision(qtbot):
    app = Application()
    qtbot.addWidget(app.window)
    try:
        app.set_recipe(Recipe().with_settings("upscale", precision="fp32"))
        panel = app.window.panel
        assert not panel.upscale_int8.isChecked() and panel.upscale_int8.isEnabled()
        panel.upscale_int8.setChecked(True)
        assert app.session.recipe.settings("upscale").precision == "int8"
        panel.upscale_int8.setChecked(False)
        assert app.session.recipe.settings("upscale").precision == "auto"  # int8 undone, not a stale fp32 guess
        panel.upscale_quality.setCurrentIndex(panel.upscale_quality.findData("fast"))
        assert not panel.upscale_int8.isEnabled()  # the compact network has no int8 path
        app.set_recipe(Recipe().with_settings("upscale", precision="int8"))
        assert panel.upscale_int8.isChecked()
    finally:
        app.shutdown()


def test_the_status_bar_names_the_engine_the_recipe_enlarges_with(qtbot):
    """int8 by choice and the fast mode run on engines of their own; the status bar follows the recipe."""
    pytest.importorskip("onnxruntime")
    app = Application()
    qtbot.addWidget(app.window)
    label = app.window.engine_label
    try:
        qtbot.waitUntil(lambda: label.text().startswith("CPU ·"), timeout=10000)
        automatic = label.text()
        assert "int8" not in automatic and "fast" not in automatic
        app.window.panel.upscale_int8.setChecked(True)
        from restorer.engines import openvino_int8

        int8 = "OpenVINO int8" if openvino_int8.available()[0] else "ONNX Runtime int8"  # the better one installed
        qtbot.waitUntil(lambda: label.text() == f"CPU · {int8}", timeout=10000)
        app.window.panel.upscale_int8.setChecked(False)
        qtbot.waitUntil(lambda: label.text() == automatic, timeout=10000)
        panel = app.window.panel
        panel.upscale_quality.setCurrentIndex(panel.upscale_quality.findData("fast"))
        qtbot.waitUntil(lambda: label.text().endswith("fast mode"), timeout=10000)
        panel.upscale_engine.setCurrentIndex(panel.upscale_engine.findData("lanczos"))
        qtbot.waitUntil(lambda: label.text().startswith("Lanczos"), timeout=10000)
    finally:
        app.shutdown()


def test_alpha_slider_previews_the_visible_crop(qtbot, tmp_path):
    source = save_rgb(tmp_path / "wide.png", gradient_photo(400, 300))
    app = Application()
    qtbot.addWidget(app.window)
    app.window.resize(900, 600)
    try:
        recipe = Recipe().with_enabled({"colorize", "upscale"}).with_settings("upscale", engine="lanczos")
        open_and_restore(qtbot, app, source, recipe)
        app.window.viewer.set_actual_scale(0.5)  # half of the x4 result: 2 screen px per photo px
        with wait_worker(qtbot, app.worker.preview_ready, timeout=10000) as blocker:
            app._on_alpha_moved(0.3)
        image, (x, y, w, h), mode = blocker.args
        assert mode == "fast"
        qtbot.waitUntil(lambda: app.window.viewer.patch_badge() == "preview", timeout=5000)
        visible = app.window.viewer.visible_image_rect()
        assert w <= visible.width() + 1 and h <= visible.height() + 1  # only what is on screen
        assert 0 <= x <= 400 - w and 0 <= y <= 300 - h
        # At the screen's resolution: the view shows the photo at 2x, so the patch is about 2x the crop.
        assert abs(image.width() - 2 * w) <= 4 and abs(image.height() - 2 * h) <= 4
    finally:
        app.shutdown()


def test_stale_preview_requests_are_dropped(qtbot):
    from restorer.gui.worker import RestoreWorker
    from restorer.imaging import Photo
    from restorer.recipe import Recipe

    worker = RestoreWorker()
    worker.latest_preview = 5
    received = []
    worker.preview_ready.connect(lambda *args: received.append(args))
    worker.preview(Recipe(), Photo(gradient_photo()), None, (0, 0, 10, 10), 4)
    assert received == []


def test_recipe_with_hints_saves_and_opens_again(qtbot, tmp_path, monkeypatch):
    app = Application()
    qtbot.addWidget(app.window)
    try:
        recipe = app.session.recipe.with_settings("colorize", hints=((0.25, 0.5, 0.8, 0.2, 0.1),), saturation=1.4)
        app.set_recipe(recipe)
        target = tmp_path / "portrait_recipe.json"
        monkeypatch.setattr("restorer.gui.main_window.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
        app.window.save_recipe_action.trigger()
        assert target.is_file() and not list(tmp_path.glob(".*.part"))
        app.set_recipe(Recipe())
        assert app.session.recipe.settings("colorize").hints == ()
        monkeypatch.setattr("restorer.gui.main_window.QFileDialog.getOpenFileName", lambda *a, **k: (str(target), ""))
        app.window.open_recipe_action.trigger()
        colour = app.session.recipe.settings("colorize")
        assert colour.hints == ((0.25, 0.5, 0.8, 0.2, 0.1),) and colour.saturation == 1.4
        assert app.window.panel.colorize_saturation.value() == 140
    finally:
        app.shutdown()


def test_closing_over_an_unsaved_result_asks_first(qtbot, tmp_path, monkeypatch):
    app = Application()
    qtbot.addWidget(app.window)
    asked = []
    answer = {"quit": False}
    monkeypatch.setattr(app.window, "ask_to_close", lambda lost: asked.append(lost) or answer["quit"])
    try:
        app.window.show()
        assert app.window.close() and not asked  # nothing to lose: closes without a question
        app.window.show()
        recipe = Recipe().with_enabled({"upscale"}).with_settings("upscale", engine="lanczos", scale=2)
        open_and_restore(qtbot, app, save_rgb(tmp_path / "p.png", gradient_photo(20, 16)), recipe)
        assert not app.window.close() and app.window.isVisible()  # the user chose Cancel
        assert asked == ["The restored photo has not been saved."]
        target = tmp_path / "kept.png"
        with wait_worker(qtbot, app.worker.saved, timeout=10000):
            app.save(str(target))
        qtbot.waitUntil(lambda: not app.session.busy, timeout=5000)
        assert app.window.close() and len(asked) == 1  # saved: nothing to ask
        app.window.show()
        app.restore()  # a new result, not saved yet ...
        qtbot.waitUntil(lambda: not app.session.busy, timeout=10000)
        answer["quit"] = True
        assert app.window.close() and len(asked) == 2  # ... and the user quits anyway
    finally:
        app.shutdown()


def test_the_colour_panel_says_why_a_healthy_photo_kept_its_colour(qtbot, tmp_path):
    """Automatic colour leaves a photo with true blacks alone; the Colour panel says so after the run."""
    y, x = np.mgrid[0:48, 0:64].astype(np.float32)
    rgb = np.stack([x / 63, y / 47, 1 - x / 63], axis=2)
    rgb[:8, :8] = 0.0  # a true black
    source = save_rgb(tmp_path / "healthy.png", rgb)
    app = Application()
    qtbot.addWidget(app.window)
    try:
        open_and_restore(qtbot, app, source, Recipe().with_enabled({"colorize"}))
        qtbot.waitUntil(lambda: "left unchanged" in app.window.panel.colorize_outcome.text(), timeout=5000)
        assert app.window.panel.colorize_outcome.text().startswith("Colour photo left unchanged")
    finally:
        app.shutdown()
