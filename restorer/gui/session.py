"""Session: the state of what the user is working on (photo, result, recipe, busy, up to date or not).

Views render from it; only gui/app.py changes it in response to the worker.
The session remembers which recipe and which version of the mask produced
the result on screen, so the window can always tell whether that result
still matches the settings ("out of date, press Restore").
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from restorer.gui.mask_model import MaskModel
from restorer.recipe import Recipe


class Session(QObject):
    photo_changed = Signal()
    result_changed = Signal()
    busy_changed = Signal(bool)
    stale_changed = Signal(str)  # "" when the result matches the settings, else why it does not

    def __init__(self, recipe: Recipe | None = None) -> None:
        super().__init__()
        self.path: Path | None = None
        self.photo = None
        self.photo_image = None
        self.result = None
        self.result_image = None
        self.result_recipe: Recipe | None = None
        self.result_mask_version = -1
        self.saved_path: Path | None = None
        self.result_saved = False  # the result on screen is on disk (saved, or opened from a file)
        self.recipe = recipe or Recipe()
        self.mask_model = MaskModel()
        self.mask_version = 0
        self.mask_model.changed.connect(self._on_mask_changed)
        self.busy = False
        self.busy_task = ""  # "open", "restore", "detect" or "save" while busy
        self._stale = ""

    def set_photo(self, photo, image, path: str) -> None:
        self.path, self.photo, self.photo_image = Path(path), photo, image
        self.result = self.result_image = self.result_recipe = self.saved_path = None
        height, width = photo.pixels.shape[:2]
        self.mask_model.reset(height, width)
        self.photo_changed.emit()
        self.result_changed.emit()
        self.update_stale()

    def set_result(self, photo, image, recipe: Recipe | None, mask_version: int) -> None:
        """Show `photo` as the result of `recipe` with the mask at `mask_version`."""
        self.result, self.result_image = photo, image
        self.result_recipe, self.result_mask_version = recipe, mask_version
        self.result_saved = False
        self.result_changed.emit()
        self.update_stale()

    def unsaved_work(self) -> str:
        """What quitting now would lose, in a sentence, or "" when nothing."""
        if self.busy and self.busy_task in ("restore", "save"):
            return ("A restoration is still running." if self.busy_task == "restore"
                    else "The result is still being saved.")
        if self.result is not None and not self.result_saved:
            return "The restored photo has not been saved."
        return ""

    def set_recipe(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.update_stale()

    @property
    def mask(self):
        """The painted mask for the worker: bool (H, W) copy, or None when nothing is painted."""
        return self.mask_model.copy()

    def _on_mask_changed(self, _rect) -> None:
        self.mask_version += 1
        self.update_stale()

    def set_busy(self, busy: bool, task: str = "") -> None:
        self.busy_task = task if busy else ""
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    # --- does the result still match? ---------------------------------------------------

    def stale_reason(self) -> str:
        """Why the result on screen no longer matches the settings ("" when it does, or there is none)."""
        if self.result is None or self.result_recipe is None:
            return ""
        if self.result_recipe != self.recipe:
            return "Out of date: the result was made with earlier settings. Press Restore (Ctrl+R) to update it."
        if "inpaint" in self.recipe.enabled_stages() and self.result_mask_version != self.mask_version:
            return "Out of date: the mask changed since this result. Press Restore (Ctrl+R) to fill it again."
        return ""

    @property
    def stale(self) -> bool:
        return bool(self._stale)

    def update_stale(self) -> None:
        reason = self.stale_reason()
        if reason != self._stale:
            self._stale = reason
            self.stale_changed.emit(reason)

    def suggested_output(self, suffix: str | None = None) -> Path | None:
        if self.path is None:
            return None
        from restorer.imaging import output_suffix

        if suffix is None:
            suffix = output_suffix(self.result, None) if self.result is not None else ".png"
        return self.path.with_name(f"{self.path.stem}_restored{suffix}")
