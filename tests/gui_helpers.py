"""Helpers for tests that drive the window."""

from __future__ import annotations

from restorer.recipe import Recipe


def check_box_follows_recipe(qtbot, box_name: str, stage: str, field: str) -> None:
    """A panel check box that starts ticked writes `stage.field` into the session's recipe when toggled,
    and follows a recipe set from outside (a preset or a saved recipe)."""
    from restorer.gui.app import Application

    app = Application()
    qtbot.addWidget(app.window)
    try:
        box = getattr(app.window.panel, box_name)
        assert box.isChecked() and getattr(app.session.recipe.settings(stage), field) is True
        box.setChecked(False)
        assert getattr(app.session.recipe.settings(stage), field) is False
        app.set_recipe(Recipe().with_settings(stage, **{field: True}))
        assert box.isChecked()
    finally:
        app.shutdown()
