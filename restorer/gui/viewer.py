"""BeforeAfterViewer: the original left of a draggable divider, the result right of it.

Both images are drawn into the same rectangle of the widget, so zooming and
panning move both sides together even when the result is 4x larger. Drag the
divider to compare; drag elsewhere to pan; the wheel zooms around the cursor;
double-click fits the photo to the window again.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

_GRAB_DISTANCE = 8  # pixels either side of the divider that grab it


class BeforeAfterViewer(QWidget):
    split_changed = Signal(float)
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self._before: QImage | None = None
        self._after: QImage | None = None
        self._split = 0.5
        self._zoom = 1.0  # relative to "fit"
        self._center = QPointF(0.5, 0.5)  # view centre in image-relative coordinates
        self._dragging: str | None = None
        self._patch: QImage | None = None
        self._patch_rect: tuple[int, int, int, int] | None = None
        self._last_pos = QPointF()
        self.setAutoFillBackground(False)

    # --- content ------------------------------------------------------------------------

    def show_pair(self, before: QImage | None, after: QImage | None) -> None:
        """Show `before` left and `after` right of the divider (after may be None: before on both sides)."""
        self._before, self._after = before, after
        self.update()

    def set_after(self, after: QImage | None) -> None:
        self._after = after
        self._patch = self._patch_rect = None
        self.update()

    def show_patch(self, patch: QImage, rect: tuple[int, int, int, int]) -> None:
        """Draw `patch` over the result where `rect` (x, y, w, h in the photo's pixels) lies: the live preview."""
        self._patch, self._patch_rect = patch, rect
        self.update()

    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction != self._split:
            self._split = fraction
            self.split_changed.emit(fraction)
            self.update()

    def zoom(self) -> float:
        return self._zoom

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom relative to fit (1.0); `anchor` (widget coordinates) stays under the cursor."""
        zoom = min(64.0, max(1.0, zoom))
        if anchor is not None and self._before is not None:
            before_rel = self.widget_to_relative(anchor)
            self._zoom = zoom
            after_rel = self.widget_to_relative(anchor)
            self._center += before_rel - after_rel
        else:
            self._zoom = zoom
        self._clamp_center()
        self.view_changed.emit()
        self.update()

    def fit(self) -> None:
        self._zoom, self._center = 1.0, QPointF(0.5, 0.5)
        self.view_changed.emit()
        self.update()

    # --- geometry -----------------------------------------------------------------------

    def image_rect(self) -> QRectF:
        """Where the photo is drawn, in widget coordinates."""
        if self._before is None:
            return QRectF()
        iw, ih = self._before.width(), self._before.height()
        fit = min(self.width() / iw, self.height() / ih)
        w, h = iw * fit * self._zoom, ih * fit * self._zoom
        x = self.width() / 2 - self._center.x() * w
        y = self.height() / 2 - self._center.y() * h
        return QRectF(x, y, w, h)

    def widget_to_relative(self, pos: QPointF) -> QPointF:
        rect = self.image_rect()
        return QPointF((pos.x() - rect.x()) / rect.width(), (pos.y() - rect.y()) / rect.height())

    def widget_to_image(self, pos: QPointF) -> QPointF:
        """Widget position -> pixel position in the original photo."""
        rel = self.widget_to_relative(pos)
        return QPointF(rel.x() * self._before.width(), rel.y() * self._before.height()) if self._before else QPointF()

    def image_to_widget(self, point: QPointF) -> QPointF:
        """Pixel position in the original photo -> widget position."""
        rect = self.image_rect()
        if self._before is None:
            return QPointF()
        return QPointF(rect.x() + point.x() / self._before.width() * rect.width(),
                       rect.y() + point.y() / self._before.height() * rect.height())

    def visible_image_rect(self) -> QRectF:
        """The part of the original photo currently on screen, in its pixel coordinates."""
        if self._before is None:
            return QRectF()
        top_left = self.widget_to_image(QPointF(0, 0))
        bottom_right = self.widget_to_image(QPointF(self.width(), self.height()))
        return QRectF(top_left, bottom_right).intersected(QRectF(0, 0, self._before.width(), self._before.height()))

    def _divider_x(self) -> float:
        return self._split * self.width()

    def _pan_by(self, delta: QPointF) -> None:
        """Move the view by `delta` widget pixels (both sides together)."""
        rect = self.image_rect()
        self._center -= QPointF(delta.x() / rect.width(), delta.y() / rect.height())
        self._clamp_center()
        self.view_changed.emit()
        self.update()

    def _clamp_center(self) -> None:
        half = 0.5 / self._zoom
        self._center = QPointF(min(1 - half, max(half, self._center.x())), min(1 - half, max(half, self._center.y())))

    # --- painting -----------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        if self._before is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Drop a photo here, or use File ▸ Open")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom < 4)
        target = self.image_rect()
        divider = self._divider_x()
        after = self._after if self._after is not None else self._before
        painter.save()
        painter.setClipRect(QRectF(0, 0, divider, self.height()))
        painter.drawImage(target, self._before, QRectF(self._before.rect()))
        painter.restore()
        painter.save()
        painter.setClipRect(QRectF(divider, 0, self.width() - divider, self.height()))
        painter.drawImage(target, after, QRectF(after.rect()))
        if self._patch is not None and self._patch_rect is not None:
            x, y, w, h = self._patch_rect
            sx, sy = target.width() / self._before.width(), target.height() / self._before.height()
            where = QRectF(target.x() + x * sx, target.y() + y * sy, w * sx, h * sy)
            painter.drawImage(where, self._patch, QRectF(self._patch.rect()))
            painter.setPen(QPen(QColor(255, 200, 0, 160), 1, Qt.PenStyle.DashLine))
            painter.drawRect(where)
        painter.restore()
        self.paint_overlay(painter, target)
        painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
        painter.drawLine(QPointF(divider, 0), QPointF(divider, self.height()))
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.drawEllipse(QPointF(divider, self.height() / 2), 7, 7)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(QRectF(8, 6, 120, 20), Qt.AlignmentFlag.AlignLeft, "Before")
        painter.drawText(QRectF(self.width() - 128, 6, 120, 20), Qt.AlignmentFlag.AlignRight, "After")

    def paint_overlay(self, painter: QPainter, target: QRectF) -> None:
        """Hook for subclasses (the mask editor draws its overlay here)."""

    # --- mouse --------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        self._last_pos = pos
        self._dragging = "divider" if abs(pos.x() - self._divider_x()) <= _GRAB_DISTANCE else "pan"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._dragging == "divider":
            self.set_split(pos.x() / max(1, self.width()))
        elif self._dragging == "pan" and self._before is not None:
            self._pan_by(pos - self._last_pos)
        self._last_pos = pos
        near = abs(pos.x() - self._divider_x()) <= _GRAB_DISTANCE
        self.setCursor(Qt.CursorShape.SplitHCursor if near or self._dragging == "divider" else Qt.CursorShape.OpenHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._dragging = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self._zoom * (1.25**steps), anchor=event.position())
