"""Open -> Restore -> Save through the real window, worker thread and pipeline (classic engines)."""

import numpy as np
from PIL import Image

from restorer.gui.app import Application

from .conftest import gradient_photo, save_rgb


def test_run_result_save_flow(qtbot, tmp_path):
    source = save_rgb(tmp_path / "family.png", gradient_photo(40, 30))
    app = Application()
    qtbot.addWidget(app.window)
    try:
        with qtbot.waitSignal(app.worker.loaded, timeout=10000):
            app.open(str(source))
        qtbot.waitUntil(lambda: app.session.photo is not None, timeout=5000)
        assert app.window.run_button.isEnabled()
        recipe = (app.session.recipe.with_enabled({"artifacts", "colorize", "upscale"})
                  .with_settings("upscale", engine="lanczos", scale=2))
        app.window.panel.set_recipe(recipe)
        app.session.recipe = recipe
        with qtbot.waitSignal(app.worker.finished, timeout=20000):
            app.window.run_button.click()
        qtbot.waitUntil(lambda: app.session.result is not None, timeout=5000)
        assert app.session.result.size == (80, 60)
        assert app.window.save_action.isEnabled()
        target = tmp_path / "saved.png"
        with qtbot.waitSignal(app.worker.saved, timeout=10000):
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
        with qtbot.waitSignal(app.worker.load_failed, timeout=10000):
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
    finally:
        app.shutdown()
