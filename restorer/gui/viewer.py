"""BeforeAfterViewer: the original and the result, compared split or side by side.

Split (the default): both images are drawn into the same rectangle, the
original left of a draggable divider, the result right of it, so zooming and
panning move both sides together even when the result is 4x larger.
Side by side: the original in the left half, the result in the right half,
each at the same zoom and position.

Mouse: drag the divider to compare, drag elsewhere to pan, the wheel zooms
around the cursor, a double-click fits the photo to the window. Keys (with
the viewer focused): Left/Right move the divider, + / - zoom, 0 fits, 1 shows
100 %, and holding backslash shows the original everywhere.

100 % means one pixel of the result (what Save writes) per screen pixel, or
of the original while there is no result. The viewer also draws two states
the user must see: a banner when the result on screen was made with earlier
settings ("out of date"), and a badge over a live preview patch that is only
a preview.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

_GRAB_DISTANCE = 8  # pixels either side of the divider that grab it
ZOOM_STEP = 1.25
SHOW_ORIGINAL_KEY = Qt.Key.Key_Backslash


class BeforeAfterViewer(QWidget):
    split_changed = Signal(float)
    view_changed = Signal()
    zoom_changed = Signal(float)  # actual scale: screen pixels per result pixel (1.0 = 100 %)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Tab reaches it; its keys need focus
        self.setAccessibleName("Before and after viewer")
        self.setAccessibleDescription("The original photo and the restored result. Left and Right move the divider; "
                                      "plus and minus zoom; hold backslash to see the original.")
        self._before: QImage | None = None
        self._after: QImage | None = None
        self._split = 0.5
        self._mode = "split"
        self._show_original = False
        self._stale = ""
        self._zoom = 1.0  # relative to "fit"
        self._center = QPointF(0.5, 0.5)  # view centre in image-relative coordinates
        self._dragging: str | None = None
        self._patch: QImage | None = None
        self._patch_rect: tuple[int, int, int, int] | None = None
        self._patch_badge = ""
        self._last_pos = QPointF()
        self.setAutoFillBackground(False)

    # --- content ------------------------------------------------------------------------

    def show_pair(self, before: QImage | None, after: QImage | None) -> None:
        """Show `before` left and `after` right of the divider (after may be None: before on both sides)."""
        self._before, self._after = before, after
        self._patch = self._patch_rect = None
        self.update()
        self.zoom_changed.emit(self.actual_scale())

    def set_after(self, after: QImage | None) -> None:
        self._after = after
        self._patch = self._patch_rect = None
        self.update()
        self.zoom_changed.emit(self.actual_scale())

    def has_result(self) -> bool:
        return self._after is not None

    def show_patch(self, patch: QImage, rect: tuple[int, int, int, int], badge: str = "") -> None:
        """Draw `patch` over the result where `rect` (x, y, w, h in the photo's pixels) lies: the live preview.

        `badge`, when given, is drawn on the patch ("preview", say) so nobody takes it for the final result.
        """
        self._patch, self._patch_rect, self._patch_badge = patch, rect, badge
        self.update()

    def clear_patch(self) -> None:
        self._patch = self._patch_rect = None
        self._patch_badge = ""
        self.update()

    def patch_badge(self) -> str:
        return self._patch_badge if self._patch is not None else ""

    def set_stale(self, message: str) -> None:
        """Show `message` as a banner over the result ("" removes it): the result no longer matches the settings."""
        if message != self._stale:
            self._stale = message
            self.update()

    def stale_message(self) -> str:
        return self._stale

    # --- comparison mode ------------------------------------------------------------------

    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """"split" (a divider over one picture) or "side" (original left, result right)."""
        if mode not in ("split", "side"):
            raise ValueError(mode)
        if mode != self._mode:
            self._mode = mode
            self._clamp_center()
            self.view_changed.emit()
            self.update()
            self.zoom_changed.emit(self.actual_scale())

    def set_show_original(self, on: bool) -> None:
        """While on, the original is drawn where the result would be (the hold-a-key comparison)."""
        if bool(on) != self._show_original:
            self._show_original = bool(on)
            self.update()

    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction != self._split:
            self._split = fraction
            self.split_changed.emit(fraction)
            self.update()

    # --- zoom -----------------------------------------------------------------------------

    def zoom(self) -> float:
        return self._zoom

    def _fit_scale(self) -> float:
        """Screen pixels per original pixel at zoom 1 (the photo fitted into its pane)."""
        if self._before is None:
            return 1.0
        pane_w, pane_h = self._pane_size()
        return min(pane_w / self._before.width(), pane_h / self._before.height())

    def actual_scale(self) -> float:
        """Screen pixels per pixel of the result (of the original while there is none): 1.0 is 100 %."""
        if self._before is None:
            return 1.0
        shown = self._after if self._after is not None else self._before
        return self._fit_scale() * self._zoom * self._before.width() / shown.width()

    def set_actual_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom so that one result pixel covers `scale` screen pixels (1.0: 100 %)."""
        if self._before is None:
            return
        current = self.actual_scale()
        self.set_zoom(self._zoom * scale / current, anchor)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom relative to fit (1.0); `anchor` (widget coordinates) stays under the cursor."""
        low = min(1.0, 0.05 / max(self._fit_scale(), 1e-6))  # never below 5 % of a pixel, fit always reachable
        zoom = min(64.0 * max(1.0, 1.0 / max(self._fit_scale(), 1e-6)), max(low, zoom))
        if anchor is not None and self._before is not None:
            before_rel = self.widget_to_relative(anchor)
            self._zoom = zoom
            after_rel = self.widget_to_relative(anchor)
            self._center += before_rel - after_rel
        else:
            self._zoom = zoom
        self._clamp_center()
        self.view_changed.emit()
        self.zoom_changed.emit(self.actual_scale())
        self.update()

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def fit(self) -> None:
        self._zoom, self._center = 1.0, QPointF(0.5, 0.5)
        self.view_changed.emit()
        self.zoom_changed.emit(self.actual_scale())
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.zoom_changed.emit(self.actual_scale())

    # --- geometry -----------------------------------------------------------------------

    def _pane_size(self) -> tuple[float, float]:
        return (self.width() / 2 if self._mode == "side" else self.width()), self.height()

    def image_rect(self) -> QRectF:
        """Where the original is drawn, in widget coordinates (side by side: in the left half)."""
        if self._before is None:
            return QRectF()
        pane_w, pane_h = self._pane_size()
        scale = self._fit_scale() * self._zoom
        w, h = self._before.width() * scale, self._before.height() * scale
        return QRectF(pane_w / 2 - self._center.x() * w, pane_h / 2 - self._center.y() * h, w, h)

    def _in_left_pane(self, pos: QPointF) -> QPointF:
        """Side by side, a point over the result maps to the same place over the original."""
        if self._mode == "side" and pos.x() >= self.width() / 2:
            return QPointF(pos.x() - self.width() / 2, pos.y())
        return pos

    def widget_to_relative(self, pos: QPointF) -> QPointF:
        rect = self.image_rect()
        pos = self._in_left_pane(pos)
        return QPointF((pos.x() - rect.x()) / rect.width(), (pos.y() - rect.y()) / rect.height())

    def widget_to_image(self, pos: QPointF) -> QPointF:
        """Widget position -> pixel position in the original photo."""
        rel = self.widget_to_relative(pos)
        return QPointF(rel.x() * self._before.width(), rel.y() * self._before.height()) if self._before else QPointF()

    def image_to_widget(self, point: QPointF) -> QPointF:
        """Pixel position in the original photo -> widget position (side by side: in the left half)."""
        rect = self.image_rect()
        if self._before is None:
            return QPointF()
        return QPointF(rect.x() + point.x() / self._before.width() * rect.width(),
                       rect.y() + point.y() / self._before.height() * rect.height())

    def visible_image_rect(self) -> QRectF:
        """The part of the original photo currently on screen, in its pixel coordinates."""
        if self._before is None:
            return QRectF()
        pane_w, pane_h = self._pane_size()
        top_left = self.widget_to_image(QPointF(0, 0))
        bottom_right = self.widget_to_image(QPointF(pane_w - 1e-3, pane_h))
        return QRectF(top_left, bottom_right).intersected(QRectF(0, 0, self._before.width(), self._before.height()))

    def visible_screen_scale(self) -> float:
        """Screen pixels per original pixel now: a preview needs no more detail than this."""
        return self._fit_scale() * self._zoom

    def _divider_x(self) -> float:
        return self._split * self.width()

    def _near_divider(self, pos: QPointF) -> bool:
        return self._mode == "split" and abs(pos.x() - self._divider_x()) <= _GRAB_DISTANCE

    def _pan_by(self, delta: QPointF) -> None:
        """Move the view by `delta` widget pixels (both sides together)."""
        rect = self.image_rect()
        self._center -= QPointF(delta.x() / rect.width(), delta.y() / rect.height())
        self._clamp_center()
        self.view_changed.emit()
        self.update()

    def _clamp_center(self) -> None:
        half = min(0.5, 0.5 / self._zoom)
        self._center = QPointF(min(1 - half, max(half, self._center.x())), min(1 - half, max(half, self._center.y())))

    # --- painting -----------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 40))
        if self._before is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Drop a photo here, or use File ▸ Open")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.actual_scale() < 2)
        target = self.image_rect()
        after = self._after if (self._after is not None and not self._show_original) else self._before
        if self._mode == "side":
            half = self.width() / 2
            painter.save()
            painter.setClipRect(QRectF(0, 0, half, self.height()))
            painter.drawImage(target, self._before, QRectF(self._before.rect()))
            self.paint_overlay(painter, target)
            painter.restore()
            painter.save()
            right = target.translated(half, 0)
            painter.setClipRect(QRectF(half, 0, self.width() - half, self.height()))
            painter.drawImage(right, after, QRectF(after.rect()))
            self._paint_patch(painter, right)
            self.paint_overlay(painter, right, on_result=self._after is not None)
            painter.restore()
            painter.setPen(QPen(QColor(255, 255, 255, 160), 1))
            painter.drawLine(QPointF(half, 0), QPointF(half, self.height()))
            divider, right_label_x = half, self.width()
        else:
            divider = self._divider_x()
            painter.save()
            painter.setClipRect(QRectF(0, 0, divider, self.height()))
            painter.drawImage(target, self._before, QRectF(self._before.rect()))
            painter.restore()
            painter.save()
            painter.setClipRect(QRectF(divider, 0, self.width() - divider, self.height()))
            painter.drawImage(target, after, QRectF(after.rect()))
            self._paint_patch(painter, target)
            self.paint_overlay(painter, target, on_result=self._after is not None)
            painter.restore()
            painter.save()
            painter.setClipRect(QRectF(0, 0, divider, self.height()))
            self.paint_overlay(painter, target)
            painter.restore()
            painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
            painter.drawLine(QPointF(divider, 0), QPointF(divider, self.height()))
            painter.setBrush(QColor(255, 255, 255, 220))
            painter.drawEllipse(QPointF(divider, self.height() / 2), 7, 7)
            right_label_x = self.width()
        if self._after is not None:  # labels only once there is something to compare
            self._label(painter, QPointF(8, 8), "Before", left=True)
            self._label(painter, QPointF(right_label_x - 8, 8),
                        "Before (holding \\)" if self._show_original else "After", left=False)
        if self._stale and self._after is not None:
            self._banner(painter, self._stale)

    def _paint_patch(self, painter: QPainter, target: QRectF) -> None:
        if self._patch is None or self._patch_rect is None or self._show_original:
            return
        x, y, w, h = self._patch_rect
        sx, sy = target.width() / self._before.width(), target.height() / self._before.height()
        where = QRectF(target.x() + x * sx, target.y() + y * sy, w * sx, h * sy)
        painter.drawImage(where, self._patch, QRectF(self._patch.rect()))
        painter.setPen(QPen(QColor(255, 200, 0, 200), 1, Qt.PenStyle.DashLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(where)
        if self._patch_badge:
            # Inside the patch's visible corner, and below the Before/After labels, which sit on top.
            labels_bottom = 8 + painter.fontMetrics().height() + 6 + 6
            anchor = QPointF(min(where.right(), self.width()) - 8, max(where.top() + 6, labels_bottom))
            self._label(painter, anchor, self._patch_badge, left=False,
                        background=QColor(255, 200, 0, 230), foreground=QColor(20, 20, 20))

    def _label(self, painter: QPainter, anchor: QPointF, text: str, *, left: bool,
               background: QColor | None = None, foreground: QColor | None = None) -> None:
        """Text on a rounded dark plate, readable over any photo."""
        painter.save()
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        w, h = metrics.horizontalAdvance(text) + 14, metrics.height() + 6
        rect = QRectF(anchor.x() if left else anchor.x() - w, anchor.y(), w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background or QColor(0, 0, 0, 170))
        painter.drawRoundedRect(rect, 5, 5)
        painter.setPen(foreground or QColor(255, 255, 255))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _banner(self, painter: QPainter, text: str) -> None:
        painter.save()
        metrics = painter.fontMetrics()
        h = metrics.height() + 12
        rect = QRectF(0, self.height() - h, self.width(), h)
        painter.fillRect(rect, QColor(180, 110, 0, 225))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(rect.adjusted(10, 0, -10, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width() - 20)))
        painter.restore()

    def paint_overlay(self, painter: QPainter, target: QRectF, on_result: bool = False) -> None:
        """Hook for subclasses (the mask editor draws its overlay here); `on_result` is True over the
        restored side, where the overlay must not hide what was filled."""

    # --- mouse and keys -------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        self._last_pos = pos
        self._dragging = "divider" if self._near_divider(pos) else "pan"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._dragging == "divider":
            self.set_split(pos.x() / max(1, self.width()))
        elif self._dragging == "pan" and self._before is not None:
            self._pan_by(pos - self._last_pos)
        self._last_pos = pos
        near = self._near_divider(pos)
        self.setCursor(Qt.CursorShape.SplitHCursor if near or self._dragging == "divider" else Qt.CursorShape.OpenHandCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._dragging = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self._zoom * (ZOOM_STEP**steps), anchor=event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key == SHOW_ORIGINAL_KEY:
            if not event.isAutoRepeat():
                self.set_show_original(True)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = 0.01 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.05
            self.set_split(self._split + (step if key == Qt.Key.Key_Right else -step))
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        elif key == Qt.Key.Key_0:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.set_actual_scale(1.0)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == SHOW_ORIGINAL_KEY and not event.isAutoRepeat():
            self.set_show_original(False)
        else:
            super().keyReleaseEvent(event)
