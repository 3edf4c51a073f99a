from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from restorer.gui.viewer import BeforeAfterViewer


def solid(width: int, height: int, colour: str) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB888)
    image.fill(QColor(colour))
    return image


def _viewer(qtbot) -> BeforeAfterViewer:
    viewer = BeforeAfterViewer()
    qtbot.addWidget(viewer)
    viewer.resize(200, 100)
    viewer.show_pair(before=solid(200, 100, "black"), after=solid(800, 400, "white"))  # result is 4x larger
    return viewer


def test_split_shows_before_left_and_after_right(qtbot):
    viewer = _viewer(qtbot)
    viewer.set_split(0.5)
    frame = viewer.grab().toImage()
    assert frame.pixelColor(50, 50) == QColor("black")
    assert frame.pixelColor(150, 50) == QColor("white")


def test_dragging_the_divider_moves_the_split(qtbot):
    viewer = _viewer(qtbot)
    viewer.show()
    qtbot.mousePress(viewer, Qt.MouseButton.LeftButton, pos=QPoint(100, 30))
    qtbot.mouseMove(viewer, QPoint(40, 30))
    qtbot.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=QPoint(40, 30))
    assert abs(viewer.split() - 0.2) < 0.02
    frame = viewer.grab().toImage()
    assert frame.pixelColor(20, 70) == QColor("black")
    assert frame.pixelColor(70, 70) == QColor("white")


def test_zoom_moves_both_sides_together(qtbot):
    viewer = BeforeAfterViewer()
    qtbot.addWidget(viewer)
    viewer.resize(200, 100)
    before = solid(200, 100, "black")
    after = solid(800, 400, "black")
    for image, colour, scale in ((before, "red", 1), (after, "blue", 4)):  # same spot in both images
        # QPainter, not setPixelColor: PySide6 6.12 crashes on many setPixelColor calls.
        painter = QPainter(image)
        painter.fillRect(150 * scale, 0, 50 * scale, 50 * scale, QColor(colour))
        painter.end()
    viewer.show_pair(before, after)
    viewer.set_split(0.0)  # all "after"
    viewer.set_zoom(4.0, anchor=QPointF(175, 25))
    frame = viewer.grab().toImage()
    assert frame.pixelColor(175, 60) == QColor("blue")  # below the "After" label
    viewer.set_split(1.0)  # all "before": the same place under the cursor
    frame = viewer.grab().toImage()
    assert frame.pixelColor(175, 60) == QColor("red")
    assert viewer.visible_image_rect().width() < 60


def test_qimage_conversion_rounds_and_clamps():
    import numpy as np

    from restorer.gui.qimage import from_qimage, to_qimage

    pixels = np.array([[[0.0, 0.5, 1.0], [-0.2, 1.3, 0.998]]], dtype=np.float32)
    assert from_qimage(to_qimage(pixels)).tolist() == [[[0, 128, 255], [0, 255, 254]]]
    deep = (pixels.clip(0, 1) * 65535).astype(np.uint16)
    assert from_qimage(to_qimage(deep)).tolist() == [[[0, 127, 255], [0, 255, 254]]]
