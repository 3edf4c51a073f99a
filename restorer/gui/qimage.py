"""numpy photo arrays -> QImage, at the edge between the core and Qt."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def to_qimage(pixels: np.ndarray) -> QImage:
    """RGB (H, W, 3) float32 in [0, 1] or uint16 -> an 8-bit QImage that owns its memory."""
    if pixels.dtype == np.uint16:
        import cv2

        rgb8 = cv2.convertScaleAbs(pixels, alpha=255.0 / 65535.0)  # rounds, as writing an 8-bit file does
    elif pixels.dtype == np.uint8:
        rgb8 = pixels
    else:
        import cv2

        # Saturating, rounding conversion in one pass (numpy's clip-scale-cast takes 15x longer).
        # convertScaleAbs takes absolute values, so clamp negatives to 0 first.
        rgb8 = cv2.convertScaleAbs(np.maximum(pixels, 0.0, dtype=np.float32), alpha=255.0)
    rgb8 = np.ascontiguousarray(rgb8)
    h, w = rgb8.shape[:2]
    image = QImage(rgb8.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer before it is freed


def from_qimage(image: QImage) -> np.ndarray:
    """QImage -> RGB uint8 (H, W, 3) copy."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = converted.width(), converted.height()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=converted.sizeInBytes())
    return buffer.reshape(h, converted.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()
