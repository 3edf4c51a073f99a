"""MaskModel: the inpainting mask being painted, with undo/redo. Qt-light (signals only).

The mask is bool (H, W) in the photo's pixel coordinates, True where the
inpaint stage must fill. Strokes are drawn with OpenCV in image pixels, so
painting works the same at any zoom. Undo keeps bit-packed snapshots (one
eighth of the mask's size each) of the last `UNDO_DEPTH` edits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from restorer.errors import BadMask

UNDO_DEPTH = 40


class MaskModel(QObject):
    changed = Signal(object)  # dirty rectangle (x0, y0, x1, y1) in image pixels, or None for all

    def __init__(self) -> None:
        super().__init__()
        self._mask = np.zeros((0, 0), dtype=bool)
        self._undo: list[bytes] = []
        self._redo: list[bytes] = []
        self._stroke_open = False
        self._last: tuple[float, float] | None = None

    # --- state --------------------------------------------------------------------------

    @property
    def mask(self) -> np.ndarray:
        return self._mask

    @property
    def shape(self) -> tuple[int, int]:
        return self._mask.shape

    def reset(self, height: int, width: int) -> None:
        """A new, empty mask for a photo of this size; history is cleared."""
        self._mask = np.zeros((height, width), dtype=bool)
        self._undo.clear()
        self._redo.clear()
        self.changed.emit(None)

    def is_empty(self) -> bool:
        return not self._mask.any()

    def copy(self) -> np.ndarray | None:
        """A snapshot for the worker (None when nothing is painted)."""
        return None if self.is_empty() else self._mask.copy()

    # --- history ------------------------------------------------------------------------

    def _snapshot(self) -> bytes:
        return np.packbits(self._mask).tobytes()

    def _restore(self, packed: bytes) -> None:
        flat = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=self._mask.size)
        self._mask = flat.reshape(self._mask.shape).astype(bool)
        self.changed.emit(None)

    def _push_undo(self) -> None:
        self._undo.append(self._snapshot())
        del self._undo[:-UNDO_DEPTH]
        self._redo.clear()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self._snapshot())
            self._restore(self._undo.pop())

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self._snapshot())
            self._restore(self._redo.pop())

    # --- edits --------------------------------------------------------------------------

    def begin_stroke(self, x: float, y: float, radius: float, erase: bool = False) -> None:
        self._push_undo()
        self._stroke_open = True
        self._last = (x, y)
        self._draw(x, y, x, y, radius, erase)

    def continue_stroke(self, x: float, y: float, radius: float, erase: bool = False) -> None:
        if not self._stroke_open or self._last is None:
            return
        x0, y0 = self._last
        self._last = (x, y)
        self._draw(x0, y0, x, y, radius, erase)

    def end_stroke(self) -> None:
        self._stroke_open = False
        self._last = None

    def _draw(self, x0: float, y0: float, x1: float, y1: float, radius: float, erase: bool) -> None:
        import cv2  # here, not at import: OpenCV would add 0.1 s to the window's start-up

        if self._mask.size == 0:
            return
        r = max(0.5, float(radius))
        h, w = self._mask.shape
        pad = int(np.ceil(r)) + 1
        bx0, by0 = max(0, int(min(x0, x1)) - pad), max(0, int(min(y0, y1)) - pad)
        bx1, by1 = min(w, int(max(x0, x1)) + pad + 1), min(h, int(max(y0, y1)) + pad + 1)
        if bx0 >= bx1 or by0 >= by1:
            return
        # Draw into the dirty box only, with 4 bits of sub-pixel precision for smooth thin strokes.
        canvas = np.zeros((by1 - by0, bx1 - bx0), dtype=np.uint8)
        shift = 4
        p0 = (int(round((x0 - bx0) * 16)), int(round((y0 - by0) * 16)))
        p1 = (int(round((x1 - bx0) * 16)), int(round((y1 - by0) * 16)))
        thickness = max(1, int(round(2 * r)))
        if p0 == p1:
            cv2.circle(canvas, p0, int(round(r * 16)), 1, -1, cv2.LINE_8, shift)
        else:
            cv2.line(canvas, p0, p1, 1, thickness, cv2.LINE_8, shift)
            cv2.circle(canvas, p1, int(round(r * 16)), 1, -1, cv2.LINE_8, shift)
        region = self._mask[by0:by1, bx0:bx1]
        if erase:
            region &= canvas == 0
        else:
            region |= canvas > 0
        self.changed.emit((bx0, by0, bx1, by1))

    def clear(self) -> None:
        self._push_undo()
        self._mask[:] = False
        self.changed.emit(None)

    def invert(self) -> None:
        self._push_undo()
        np.logical_not(self._mask, out=self._mask)
        self.changed.emit(None)

    def replace(self, mask: np.ndarray) -> None:
        """Take a whole new mask (a proposal or an import) as one undoable edit."""
        if mask.shape != self._mask.shape:
            raise BadMask(
                f"The mask is {mask.shape[1]}x{mask.shape[0]} pixels but the photo is "
                f"{self._mask.shape[1]}x{self._mask.shape[0]}."
            )
        self._push_undo()
        self._mask = np.asarray(mask, dtype=bool).copy()
        self.changed.emit(None)

    # --- files --------------------------------------------------------------------------

    def export_png(self, path: Path) -> None:
        """White where the photo will be filled, black elsewhere (written atomically)."""
        from restorer.imaging import Photo, PhotoMetadata, write_photo

        gray = np.repeat(self._mask[..., None].astype(np.float32), 3, axis=2)
        write_photo(Photo(gray, PhotoMetadata(was_grayscale=True)), Path(path), bit_depth=8)

    def import_png(self, path: Path) -> None:
        from restorer.batch import read_mask

        self.replace(read_mask(Path(path)))
