"""Grain in filled areas: synthesised to measure like the photo's own, and none on a clean photo."""

import numpy as np
import pytest

from restorer.grain import photo_grain, synthesize_grain
from restorer.imaging import Photo
from restorer.recipe import InpaintSettings, Recipe
from restorer.stages import StageContext, drain, inpaint
from tests.gui_helpers import check_box_follows_recipe


def _grey(field: np.ndarray) -> np.ndarray:
    return np.clip(0.5 + field, 0, 1)[..., None].repeat(3, axis=2).astype(np.float32)


@pytest.mark.parametrize("fine, coarse", [(3.0, 0.0), (1.3, 2.5), (0.5, 1.0)])
def test_synthesised_grain_measures_as_asked(fine, coarse):
    measured = photo_grain(_grey(synthesize_grain((512, 512), fine, coarse, seed=4)))
    assert measured[0] == pytest.approx(fine, abs=0.15)
    assert measured[1] == pytest.approx(coarse, abs=0.15)


def test_no_grain_asked_is_no_noise_and_a_seed_repeats():
    assert not synthesize_grain((64, 64), 0.0, 0.0, seed=1).any()
    assert np.array_equal(synthesize_grain((64, 64), 2.0, 1.0, seed=9), synthesize_grain((64, 64), 2.0, 1.0, seed=9))


def _grainy_photo_with_a_hole():
    photo = _grey(synthesize_grain((256, 256), 1.5, 2.5, seed=2))
    mask = np.zeros((256, 256), bool)
    mask[64:192, 48:208] = True  # a thick hole, which a fill leaves smooth
    damaged = photo.copy()
    damaged[mask] = 1.0
    return damaged, mask


def test_a_fill_on_a_grainy_photo_gets_its_grain_and_only_inside_the_mask():
    damaged, mask = _grainy_photo_with_a_hole()
    plain, _ = drain(inpaint.run(Photo(damaged), InpaintSettings(engine="telea", grain=False), StageContext(mask=mask)))
    grained, note = drain(inpaint.run(Photo(damaged), InpaintSettings(engine="telea"), StageContext(mask=mask)))
    assert np.array_equal(grained.pixels[~mask], damaged[~mask])
    inside = lambda photo: photo.pixels[70:186, 54:202]  # noqa: E731  (the hole less its rim)
    fine_plain, coarse_plain = photo_grain(inside(plain))
    fine, coarse = photo_grain(inside(grained))
    assert fine_plain < 0.5 and coarse_plain < 0.5  # a smooth smudge
    assert fine == pytest.approx(1.5, abs=0.4) and coarse == pytest.approx(2.5, abs=0.5)
    assert "grain" in note


def test_a_clean_photo_gets_no_grain():
    y, x = np.mgrid[0:128, 0:128].astype(np.float32) / 127
    clean = np.stack([x, y, 0.5 * (x + y)], axis=2).astype(np.float32)
    mask = np.zeros((128, 128), bool)
    mask[40:80, 40:80] = True
    settings = InpaintSettings(engine="telea")
    with_grain, note = drain(inpaint.run(Photo(clean), settings, StageContext(mask=mask)))
    without, _ = drain(inpaint.run(Photo(clean), InpaintSettings(engine="telea", grain=False), StageContext(mask=mask)))
    assert np.array_equal(with_grain.pixels, without.pixels) and "grain" not in note


def test_the_grain_setting_survives_a_recipe_file_and_the_command_line():
    from restorer.cli import build_parser, recipe_from_args

    recipe = Recipe().with_settings("inpaint", grain=False)
    assert Recipe.from_json(recipe.to_json()).settings("inpaint").grain is False
    assert Recipe().settings("inpaint").grain is True
    args = build_parser().parse_args(["run", "photo.png", "-o", "out", "--fill-grain", "off"])
    assert recipe_from_args(args).settings("inpaint").grain is False


def test_the_detail_ratio_sees_a_smudge_that_psnr_prefers():
    """A blurred fill beats the true grain in PSNR (it is the mean), but keeps little of its detail."""
    import cv2

    from restorer.evaluation.inpaint import detail_ratio

    truth = _grey(synthesize_grain((128, 128), 2.0, 2.0, seed=5))
    mask = np.zeros((128, 128), bool)
    mask[32:96, 32:96] = True
    smudge = truth.copy()
    smudge[mask] = cv2.GaussianBlur(truth, (0, 0), 4)[mask]
    regrained = smudge.copy()
    regrained[mask] += synthesize_grain((128, 128), 2.0, 2.0, seed=6)[mask][:, None]
    assert detail_ratio(truth, truth, mask) == pytest.approx(1.0)
    assert detail_ratio(smudge, truth, mask) < 0.3
    assert detail_ratio(regrained, truth, mask) == pytest.approx(1.0, abs=0.25)
    assert detail_ratio(truth, truth, np.zeros_like(mask)) is None  # no hole: nothing to say


def test_the_window_turns_grain_in_fills_off_and_on(qtbot):
    check_box_follows_recipe(qtbot, "inpaint_grain", "inpaint", "grain")


def test_the_calibration_constants_are_what_the_estimators_read():
    from restorer import grain

    white, enlarged = grain._calibrate(side=512)
    assert white == pytest.approx(grain._WHITE_READS, rel=0.05)
    assert enlarged == pytest.approx(grain._ENLARGED_READS, rel=0.08)
