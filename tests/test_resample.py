"""Shrinking for statistics: the long side bounded, the aspect kept, a small image left alone."""

from __future__ import annotations

import numpy as np

from restorer.resample import shrunk


def test_a_large_image_is_averaged_down_to_the_long_side_and_a_small_one_comes_back_as_it_is():
    image = np.zeros((300, 1200, 3), np.float32)
    image[:, 600:] = 1.0
    small = shrunk(image, 256)
    assert small.shape == (64, 256, 3)
    assert small[:, :127].max() == 0.0 and small[:, 129:].min() == 1.0  # averaged, not shifted
    tiny = np.ones((40, 30), np.float32)
    assert shrunk(tiny, 256) is tiny
