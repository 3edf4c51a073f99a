"""Painting the inpainting mask with the mouse, as a user would."""

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage

from restorer.gui.mask_editor import MaskEditor


def _editor(qtbot, width=200, height=100) -> MaskEditor:
    editor = MaskEditor()
    qtbot.addWidget(editor)
    editor.resize(width, height)
    photo = QImage(width, height, QImage.Format.Format_RGB888)
    photo.fill(QColor("gray"))
    editor.show_pair(photo, None)
    editor.mask_model.reset(height, width)
    editor.show()
    return editor


def _at(editor, x: float, y: float) -> QPoint:
    """Widget position of photo pixel (x, y)."""
    return editor.image_to_widget(QPointF(x, y)).toPoint()


def _stroke(qtbot, editor, points, button=Qt.MouseButton.LeftButton):
    points = [_at(editor, *p) for p in points]
    qtbot.mousePress(editor, button, pos=points[0])
    for point in points[1:]:
        qtbot.mouseMove(editor, point)
    qtbot.mouseRelease(editor, button, pos=points[-1])


def test_brush_stroke_paints_mask_pixels_and_undo_removes_them(qtbot, tmp_path):
    editor = _editor(qtbot)
    editor.set_tool("brush")
    editor.set_brush_size(6)
    _stroke(qtbot, editor, [(20, 50), (60, 50), (80, 50)])  # left of the divider at 100
    mask = editor.mask_model.mask
    assert mask[50, 20:81].all()  # the whole stroke, in image pixels (fit = 1:1 here)
    assert not mask[40, 50] and not mask[60, 50]  # 6 px wide, not more
    assert not mask[:, 120:].any()
    frame = editor.grab().toImage()
    painted, untouched = frame.pixelColor(_at(editor, 40, 50)), frame.pixelColor(_at(editor, 40, 20))
    assert painted.red() > untouched.red() + 40  # the red overlay is visible

    editor.mask_model.undo()
    assert not editor.mask_model.mask.any()
    editor.mask_model.redo()
    assert editor.mask_model.mask[50, 40]

    path = tmp_path / "mask.png"
    editor.mask_model.export_png(path)
    exported = np.asarray(Image.open(path))
    assert exported.shape == (100, 200) and exported[50, 40] == 255 and exported[10, 10] == 0


def test_painting_at_zoom_lands_on_the_right_image_pixels(qtbot):
    editor = _editor(qtbot)
    editor.set_zoom(4.0, anchor=editor.image_to_widget(QPointF(50, 50)))  # pixel (50, 50) stays put
    editor.set_tool("brush")
    editor.set_brush_size(2)
    start = editor.image_to_widget(QPointF(50, 50))
    assert abs(editor.widget_to_image(start).x() - 50) < 0.5
    end = start + QPointF(40, 0)  # 40 widget px = 10 photo px at 4x
    qtbot.mousePress(editor, Qt.MouseButton.LeftButton, pos=start.toPoint())
    qtbot.mouseMove(editor, end.toPoint())
    qtbot.mouseRelease(editor, Qt.MouseButton.LeftButton, pos=end.toPoint())
    ys, xs = np.nonzero(editor.mask_model.mask)
    assert abs(int(np.median(ys)) - 50) <= 1
    assert 48 <= xs.min() <= 51 and 58 <= xs.max() <= 62


def test_eraser_and_right_button_remove_paint(qtbot):
    editor = _editor(qtbot)
    editor.set_tool("brush")
    editor.set_brush_size(10)
    _stroke(qtbot, editor, [(20, 50), (80, 50)])
    _stroke(qtbot, editor, [(30, 50), (40, 50)], button=Qt.MouseButton.RightButton)
    assert not editor.mask_model.mask[50, 35] and editor.mask_model.mask[50, 70]
    editor.set_tool("eraser")
    _stroke(qtbot, editor, [(65, 50), (75, 50)])
    assert not editor.mask_model.mask[50, 70]


def test_ctrl_wheel_sizes_the_brush_and_plain_wheel_zooms(qtbot):
    editor = _editor(qtbot)
    editor.set_tool("brush")
    before = editor.brush_size()
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent

    event = QWheelEvent(QPointF(50, 50), QPointF(50, 50), P(0, 0), P(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    editor.wheelEvent(event)
    assert editor.brush_size() > before and editor.zoom() == 1.0
    event = QWheelEvent(QPointF(50, 50), QPointF(50, 50), P(0, 0), P(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    editor.wheelEvent(event)
    assert editor.zoom() > 1.0


def test_clear_invert_and_import(qtbot, tmp_path):
    editor = _editor(qtbot)
    editor.mask_model.invert()
    assert editor.mask_model.mask.all()
    editor.mask_model.clear()
    assert not editor.mask_model.mask.any()
    mask = np.zeros((100, 200), np.uint8)
    mask[10:20, 30:40] = 255
    Image.fromarray(mask).save(tmp_path / "in.png")
    editor.mask_model.import_png(tmp_path / "in.png")
    assert editor.mask_model.mask.sum() == 100
    editor.mask_model.undo()
    assert not editor.mask_model.mask.any()


def test_the_mask_is_faint_over_the_result_so_the_fill_shows(qtbot):
    """Over the restored side of the split the mask is only a trace; over the photo it is plainly red."""
    editor = _editor(qtbot)
    result = QImage(200, 100, QImage.Format.Format_RGB888)
    result.fill(QColor("gray"))
    editor.show_pair(editor._before, result)
    editor.set_tool("brush")
    editor.set_brush_size(10)
    _stroke(qtbot, editor, [(20, 50), (180, 50)])  # across the divider at 100
    frame = editor.grab().toImage()
    grey = frame.pixelColor(_at(editor, 40, 20)).red()
    on_photo, on_result = frame.pixelColor(_at(editor, 40, 50)).red(), frame.pixelColor(_at(editor, 160, 50)).red()
    assert on_photo > grey + 40
    assert grey < on_result < grey + 25  # still there, but the fill underneath is what shows
