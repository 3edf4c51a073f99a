"""A colour hint placed in the window moves the result's colour at that point towards it."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from restorer.gui.app import Application
from restorer.paths import bundled_weights_dir
from restorer.recipe import Recipe

from .conftest import gradient_photo, open_and_restore, save_rgb, wait_worker

pytestmark = pytest.mark.skipif(not (bundled_weights_dir() / "colornet.safetensors").is_file(),
                                reason="ColorNet weights are not bundled yet")


def test_hint_click_moves_the_colour_towards_the_hint(qtbot, tmp_path, monkeypatch):
    gray = np.repeat(gradient_photo(160, 120)[..., 1:2], 3, axis=2)
    source = save_rgb(tmp_path / "bw.png", gray)
    app = Application()
    qtbot.addWidget(app.window)
    app.window.resize(900, 600)
    try:
        open_and_restore(qtbot, app, source, Recipe().with_enabled({"colorize"}))
        before = app.session.result.float_pixels()[60, 80].copy()

        monkeypatch.setattr(app.window, "pick_colour", lambda initial: (0.9, 0.1, 0.1))  # a red shirt
        app.window.viewer.set_tool("hint")
        app.window.viewer.set_split(0.1)  # a click on the divider drags it; click on the result side
        click = app.window.viewer.image_to_widget(QPointF(80, 60)).toPoint()
        with wait_worker(qtbot, app.worker.finished, timeout=30000):
            qtbot.mouseClick(app.window.viewer, Qt.MouseButton.LeftButton, pos=click)
        qtbot.waitUntil(lambda: not app.session.busy, timeout=5000)
        after = app.session.result.float_pixels()[60, 80]
        hint = app.session.recipe.settings("colorize").hints
        assert len(hint) == 1 and abs(hint[0][0] - 0.5) < 0.02 and abs(hint[0][1] - 0.5) < 0.02
        redness = lambda rgb: float(rgb[0] - (rgb[1] + rgb[2]) / 2)  # noqa: E731
        assert redness(after) > redness(before) + 0.05
    finally:
        app.shutdown()
