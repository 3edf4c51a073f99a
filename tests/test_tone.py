"""The tone step: a faded black-and-white print gets its blacks back; a print that has them is left alone."""

import numpy as np
import pytest

from restorer.colorspace import rgb_to_lab
from restorer.evaluation.metrics import psnr
from restorer.evaluation.revive import fade_print
from restorer.imaging import Photo
from restorer.recipe import ColorizeSettings, Recipe
from restorer.stages import StageContext, colorize, drain
from restorer.stages.tone import BLACK_TARGET, MAX_GAIN, auto_revive_tone, tone_points
from tests.gui_helpers import check_box_follows_recipe
from tests.test_descreen import natural_grey


def grey_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=2).astype(np.float32)


def healthy_print(seed: int = 4) -> np.ndarray:
    """A grey scene spanning the full range, from true black to paper white (its 1st and 99th percentiles)."""
    grey = natural_grey(192, seed=seed)
    low, high = np.percentile(grey, (1, 99))
    return grey_rgb(np.clip((grey - low) / (high - low), 0, 1))


def veiled(rgb: np.ndarray, black: float = 0.3, white: float = 0.85) -> np.ndarray:
    """The same print with its shadows lifted to `black` and its whites dimmed to `white` (0..1 of RGB)."""
    return (black + (white - black) * rgb).astype(np.float32)


def test_a_faded_print_comes_closer_to_the_print_it_was():
    for seed in (4, 5, 7):  # draws that veil the blacks at L* 15-22, where a healthy print rarely has them
        healthy = healthy_print(seed)
        faded = fade_print(healthy, np.random.default_rng(seed))
        revived, evidence = auto_revive_tone(faded)
        assert evidence > 0.25
        assert psnr(revived, healthy, peak=1.0) > psnr(faded, healthy, peak=1.0) + 1.0
        black = tone_points(faded)[0]
        assert tone_points(revived)[0] < black - 0.3 * evidence * (black - BLACK_TARGET)  # in proportion to the veil
    lightly = fade_print(healthy_print(2), np.random.default_rng(2))  # this draw leaves blacks at L* 7
    assert auto_revive_tone(lightly)[0] is lightly


def test_a_print_with_its_blacks_is_returned_untouched():
    healthy = healthy_print()
    revived, evidence = auto_revive_tone(healthy)
    assert evidence == 0.0 and revived is healthy


def test_whites_are_never_dimmed_and_the_contrast_gain_is_capped():
    faded = veiled(healthy_print(), black=0.5, white=1.0)  # blacks lifted far, whites still paper white
    revived, evidence = auto_revive_tone(faded)
    black, white = tone_points(faded)
    new_black, new_white = tone_points(revived)
    assert evidence == 1.0
    assert new_white >= white - 0.5  # the cap binds here: the blacks give way, not the whites
    assert new_black < black - 10
    assert (new_white - new_black) / (white - black) <= MAX_GAIN + 0.02


def test_a_toned_print_keeps_its_tone():
    sepia_tint = np.array([1.0, 0.86, 0.66], dtype=np.float32)
    toned = np.clip(veiled(healthy_print()) * sepia_tint + 0.04, 0, 1)
    assert colorize.is_toned_monochrome(toned)
    revived, evidence = auto_revive_tone(toned)
    assert evidence > 0
    before, after = rgb_to_lab(toned), rgb_to_lab(revived)
    # Mid-tones of the result: a deepened shadow may leave sRGB's gamut with the tone's chroma and be clipped.
    mid = (after[..., 0] > 40) & (after[..., 0] < 80)
    assert mid.mean() > 0.2 and np.abs(after[..., 1:][mid] - before[..., 1:][mid]).mean() < 0.5
    assert colorize.is_toned_monochrome(revived)


def test_revive_keeps_a_faded_print_black_and_white_and_tone_off_leaves_it():
    faded = veiled(healthy_print())
    context = StageContext()
    result, note = drain(colorize.run(Photo(faded), ColorizeSettings(engine="revive"), context))
    assert colorize.is_monochrome(result.pixels) and "blacks restored" in note
    assert tone_points(result.pixels)[0] < tone_points(faded)[0] - 5
    untouched, note = drain(colorize.run(Photo(faded), ColorizeSettings(engine="revive", tone=False), context))
    assert np.array_equal(untouched.pixels, faded) and "left unchanged" in note
    half, _ = drain(colorize.run(Photo(faded), ColorizeSettings(engine="revive", strength=0.5), context))
    assert np.allclose(half.pixels, (faded + result.pixels) / 2, atol=1e-5)  # Amount blends as for colour


def test_tone_is_in_the_recipe_and_the_command_line():
    from restorer.cli import build_parser, recipe_from_args
    from restorer.errors import RecipeError

    assert Recipe().settings("colorize").tone is True
    with pytest.raises(RecipeError):
        ColorizeSettings(tone="yes")
    args = build_parser().parse_args(["run", "photo.jpg", "-o", "out", "--tone", "off"])
    assert recipe_from_args(args).settings("colorize").tone is False
    round_trip = Recipe.from_json(Recipe().with_settings("colorize", tone=False).to_json())
    assert round_trip.settings("colorize").tone is False


def test_the_window_turns_the_tone_step_off_and_on(qtbot):
    check_box_follows_recipe(qtbot, "colorize_tone", "colorize", "tone")
