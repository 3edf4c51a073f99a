import cv2
import numpy as np

import pytest

from restorer.paths import bundled_weights_dir
from restorer.stages.scratches import detect_scratches

ENGINES = ["classic", pytest.param("model", marks=pytest.mark.skipif(
    not (bundled_weights_dir() / "scratchnet.safetensors").is_file(), reason="ScratchNet not bundled"))]


def _portrait(size=320, seed=0) -> np.ndarray:
    """A smooth grey 'portrait' with two dark eyes, a mouth and a little film grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    gray = 0.35 + 0.3 * x + 0.15 * np.sin(3 * y)
    gray = gray.astype(np.float32)
    for cx in (0.38, 0.62):
        cv2.ellipse(gray, (int(cx * size), int(0.42 * size)), (12, 6), 0, 0, 360, 0.08, -1)
        cv2.circle(gray, (int(cx * size) + 3, int(0.42 * size) - 2), 1, 0.95, -1)  # catchlight
    cv2.ellipse(gray, (size // 2, int(0.68 * size)), (26, 5), 0, 0, 360, 0.2, -1)
    gray += rng.normal(0, 0.01, gray.shape).astype(np.float32)
    return np.repeat(np.clip(gray, 0, 1)[..., None], 3, axis=2)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_thin_bright_scratch_is_found_and_features_are_not(engine):
    photo = _portrait()
    scratch = np.zeros(photo.shape[:2], np.uint8)
    cv2.line(scratch, (40, 60), (280, 150), 1, 2)
    damaged = photo.copy()
    damaged[scratch > 0] = 0.97
    mask = detect_scratches(damaged, engine=engine)
    recall = mask[scratch > 0].mean()
    assert recall > 0.8
    eyes_and_mouth = np.zeros_like(scratch)
    for cx in (0.38, 0.62):
        cv2.ellipse(eyes_and_mouth, (int(cx * 320), int(0.42 * 320)), (14, 8), 0, 0, 360, 1, -1)
    cv2.ellipse(eyes_and_mouth, (160, int(0.68 * 320)), (28, 7), 0, 0, 360, 1, -1)
    assert mask[eyes_and_mouth > 0].mean() < 0.02


@pytest.mark.parametrize("engine", ENGINES)
def test_an_undamaged_photo_gets_an_almost_empty_proposal(engine):
    assert detect_scratches(_portrait(seed=3), engine=engine).mean() < 0.002


def test_the_model_detector_tiles_cover_the_whole_photo(monkeypatch):
    """Tiled inference must give what one pass gives: checked with a per-pixel stand-in network."""
    import torch

    from restorer.models.precision import Runtime
    from restorer.stages import scratches

    monkeypatch.setattr(scratches, "_MODEL_TILE", 64)
    monkeypatch.setattr(scratches, "_MODEL_CONTEXT", 8)
    shapes = []

    def bright_red_is_damage(image):
        shapes.append(tuple(image.shape[-2:]))
        assert image.shape[-2] % 8 == 0 and image.shape[-1] % 8 == 0
        return (image[:, :1] - 0.5) * 10

    rgb = np.random.default_rng(2).random((150, 203, 3)).astype(np.float32)
    found = scratches.detect_scratches_model(rgb, bright_red_is_damage, Runtime("cpu", None), grow=0)
    expected = rgb[..., 0] > 0.5
    assert len(shapes) == 12 and np.array_equal(found, expected)


def test_proposal_growth_widens_real_marks_by_two_pixels_and_tiny_ones_by_one():
    from restorer.stages.scratches import grow_proposal

    found = np.zeros((40, 60), bool)
    found[10, 10] = True  # a one-pixel mark: a half-suspected catchlight
    found[20, 30:40] = True  # a ten-pixel scratch
    grown = grow_proposal(found, 2)
    assert grown[10, 9:12].all() and not grown[10, 8] and not grown[8, 10]  # one pixel around the tiny mark
    assert grown[18, 30:40].all() and grown[22, 30:40].all() and not grown[17, 35]  # two around the scratch
    assert np.array_equal(grow_proposal(found, 0), found)
