"""MaskEditor: the before/after viewer plus painting of the inpainting mask.

Tools: "view" (drag pans, as in the plain viewer), "brush" and "eraser".
With a painting tool the left button paints (the right button erases with
the brush), the middle button pans, Ctrl+wheel changes the brush size and the
plain wheel zooms. The brush size is in photo pixels, so a 2-pixel scratch
is painted as thinly at 800 % as at 100 %. The mask is drawn as a
semi-transparent red overlay on both sides of the divider.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QWheelEvent

from restorer.gui.mask_model import MaskModel
from restorer.gui.viewer import BeforeAfterViewer

_OVERLAY_ARGB = np.uint32(0x90D02020)  # premultiplied-safe: alpha 0x90, red
# The mask over the restored side of the split: faint enough to see the fill through, still there to
# show where a stroke landed when the user paints on that side.
RESULT_OVERLAY_OPACITY = 0.15


class MaskEditor(BeforeAfterViewer):
    brush_size_changed = Signal(int)
    tool_changed = Signal(str)
    hint_clicked = Signal(float, float)  # x, y in 0..1 of the photo

    def __init__(self, mask: MaskModel | None = None, parent=None) -> None:
        super().__init__(parent)
        self.mask_model = mask or MaskModel()
        self.mask_model.changed.connect(self._on_mask_changed)
        self._tool = "view"
        self._brush = 8
        self._mask_visible = True
        self._overlay_buffer: np.ndarray | None = None
        self._overlay: QImage | None = None
        self._stroking = False
        self._panning = False
        self._hover: QPointF | None = None
        self._hints: tuple = ()

    # --- settings -----------------------------------------------------------------------

    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool: str) -> None:
        if tool not in ("view", "brush", "eraser", "hint"):
            raise ValueError(tool)
        if tool != self._tool:
            self._tool = tool
            self.setCursor(Qt.CursorShape.OpenHandCursor if tool == "view" else Qt.CursorShape.CrossCursor)
            self.tool_changed.emit(tool)
            self.update()

    def brush_size(self) -> int:
        return self._brush

    def set_brush_size(self, size: int) -> None:
        size = int(min(500, max(1, size)))
        if size != self._brush:
            self._brush = size
            self.brush_size_changed.emit(size)
            self.update()

    def set_hints(self, hints: tuple) -> None:
        """Colour hints to draw: (x, y, r, g, b) with x, y in 0..1 of the photo."""
        self._hints = tuple(hints)
        self.update()

    def set_mask_visible(self, visible: bool) -> None:
        self._mask_visible = bool(visible)
        self.update()

    def mask_visible(self) -> bool:
        return self._mask_visible

    # --- overlay ------------------------------------------------------------------------

    def _on_mask_changed(self, rect) -> None:
        mask = self.mask_model.mask
        h, w = mask.shape
        if self._overlay_buffer is None or self._overlay_buffer.shape != (h, w):
            self._overlay_buffer = np.zeros((h, w), dtype=np.uint32)
            self._overlay = QImage(self._overlay_buffer.data, w, h, 4 * w, QImage.Format.Format_ARGB32) if h and w else None
            rect = None
        x0, y0, x1, y1 = rect if rect is not None else (0, 0, w, h)
        self._overlay_buffer[y0:y1, x0:x1] = np.where(mask[y0:y1, x0:x1], _OVERLAY_ARGB, np.uint32(0))
        self.update()

    def paint_overlay(self, painter: QPainter, target: QRectF, on_result: bool = False) -> None:
        if self._mask_visible and self._overlay is not None and not self.mask_model.is_empty():
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            if on_result:  # over the result only a trace: the fill underneath is what the user judges
                painter.setOpacity(RESULT_OVERLAY_OPACITY)
            painter.drawImage(target, self._overlay, QRectF(self._overlay.rect()))
            painter.restore()
        for x, y, r, g, b in self._hints:
            centre = QPointF(target.x() + x * target.width(), target.y() + y * target.height())
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.setBrush(QColor.fromRgbF(r, g, b))
            painter.drawEllipse(centre, 6, 6)
        if self._tool in ("brush", "eraser") and self._hover is not None and self._before is not None:
            scale = self.image_rect().width() / self._before.width()
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            radius = max(1.0, self._brush / 2 * scale)
            painter.drawEllipse(self._hover, radius, radius)

    # --- mouse --------------------------------------------------------------------------

    def _painting_button(self, event: QMouseEvent) -> bool:
        return self._tool in ("brush", "eraser") and event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton)

    def _erasing(self, buttons) -> bool:
        return self._tool == "eraser" or bool(buttons & Qt.MouseButton.RightButton)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        on_divider = self._near_divider(pos)
        if event.button() == Qt.MouseButton.MiddleButton and self._before is not None:
            self._panning, self._last_pos = True, pos
            return
        if self._tool == "hint" and event.button() == Qt.MouseButton.LeftButton and not on_divider and self._before is not None:
            rel = self.widget_to_relative(pos)
            if 0 <= rel.x() <= 1 and 0 <= rel.y() <= 1:
                self.hint_clicked.emit(rel.x(), rel.y())
            return
        if self._painting_button(event) and not on_divider and self._before is not None and self.mask_model.mask.size:
            p = self.widget_to_image(pos)
            self._stroking = True
            self.mask_model.begin_stroke(p.x(), p.y(), self._brush / 2, erase=self._erasing(event.buttons()))
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        self._hover = pos
        if self._panning:
            self._pan_by(pos - self._last_pos)
            self._last_pos = pos
            return
        if self._stroking:
            p = self.widget_to_image(pos)
            self.mask_model.continue_stroke(p.x(), p.y(), self._brush / 2, erase=self._erasing(event.buttons()))
            return
        super().mouseMoveEvent(event)
        if self._tool != "view":
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._stroking:
            self._stroking = False
            self.mask_model.end_stroke()
            return
        self._panning = False
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._hover = None
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            self.set_brush_size(round(self._brush * (1.2**steps)) if steps else self._brush)
            return
        super().wheelEvent(event)
