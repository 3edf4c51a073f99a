"""Session: the state of what the user is working on (photo, result, recipe, busy).

Views render from it; only gui/app.py changes it in response to the worker.
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

    def __init__(self, recipe: Recipe | None = None) -> None:
        super().__init__()
        self.path: Path | None = None
        self.photo = None
        self.photo_image = None
        self.result = None
        self.result_image = None
        self.recipe = recipe or Recipe()
        self.mask_model = MaskModel()
        self.busy = False

    def set_photo(self, photo, image, path: str) -> None:
        self.path, self.photo, self.photo_image = Path(path), photo, image
        self.result = self.result_image = None
        height, width = photo.pixels.shape[:2]
        self.mask_model.reset(height, width)
        self.photo_changed.emit()
        self.result_changed.emit()

    def set_result(self, photo, image) -> None:
        self.result, self.result_image = photo, image
        self.result_changed.emit()

    @property
    def mask(self):
        """The painted mask for the worker: bool (H, W) copy, or None when nothing is painted."""
        return self.mask_model.copy()

    def set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    def suggested_output(self) -> Path | None:
        if self.path is None:
            return None
        from restorer.imaging import output_suffix

        suffix = output_suffix(self.result, None) if self.result is not None else ".png"
        return self.path.with_name(f"{self.path.stem}_restored{suffix}")
