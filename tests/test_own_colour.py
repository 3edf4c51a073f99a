"""A colour photo is not taken for a toned print, and what is plainly colour is not painted over."""

from __future__ import annotations

import numpy as np

from restorer.colorspace import lab_to_rgb, rgb_to_lab
from restorer.stages import colorize
from restorer.stages.own_colour import keep_own_colour


def _sepia_print(height: int = 96, width: int = 128) -> np.ndarray:
    """Lab of a sepia print: L* a ramp with some texture; a*b* along one ray, stronger in the mid-tones."""
    rng = np.random.default_rng(0)
    light = np.clip(np.linspace(15, 90, width)[None, :] + rng.normal(0, 4, (height, width)), 5, 95)
    strength = 4 + 14 * np.sin(np.pi * light / 100)
    hue = np.radians(70)
    return np.stack([light, strength * np.cos(hue), strength * np.sin(hue)], axis=-1).astype(np.float32)


def test_a_sepia_print_is_toned_but_a_sky_opposite_its_tone_makes_it_a_colour_photo():
    lab = _sepia_print()
    assert colorize.is_toned_monochrome(lab_to_rgb(lab))
    sky = lab.copy()
    sky[:30, :, 1:] = np.array([-2.0, -9.0], np.float32)  # a pale blue sky over yellowish ground: a muted colour photo
    assert colorize.opposite_hue_share(lab_to_rgb(sky)) > 0.2
    assert not colorize.is_toned_monochrome(lab_to_rgb(sky))


def test_own_colour_is_kept_only_where_it_is_off_the_prints_tone():
    lab = _sepia_print()
    network = np.zeros(lab.shape[:2] + (2,), np.float32)
    network[..., 1] = 30.0  # ColorNet's colour: yellow everywhere
    np.testing.assert_array_equal(keep_own_colour(lab, network), network)  # a toned print: all ColorNet's

    moss = lab.copy()
    moss[40:70, 50:90, 1:] = np.array([-25.0, 20.0], np.float32)  # a green patch: plainly colour
    kept = keep_own_colour(moss, network)
    np.testing.assert_allclose(kept[50:60, 60:80], moss[50:60, 60:80, 1:], atol=0.5)  # the moss stays green
    np.testing.assert_allclose(kept[:20, :20], network[:20, :20])  # far from it, ColorNet's colour


def test_the_colour_stage_keeps_a_green_patch_of_a_photo_it_takes_for_black_and_white(monkeypatch):
    from restorer.imaging import Photo
    from restorer.recipe import ColorizeSettings
    from restorer.stages import StageContext, drain

    moss = _sepia_print(128, 160)
    moss[50:90, 60:110, 1:] = np.array([-25.0, 20.0], np.float32)
    rgb = np.clip(lab_to_rgb(moss), 0, 1)
    monkeypatch.setattr(colorize, "is_black_and_white", lambda pixels: True)  # taken for a toned print
    out, note = drain(colorize.run(Photo(rgb), ColorizeSettings(tone=False, skin=False), StageContext()))
    assert note.startswith("colorized") and "its own colour kept on" in note  # it may be a colour photo: said
    result = rgb_to_lab(out.float_pixels())
    assert np.abs(result[60:80, 75:95, 1:] - moss[60:80, 75:95, 1:]).mean() < 2.0

    toned = np.clip(lab_to_rgb(_sepia_print(128, 160)), 0, 1)
    _, note = drain(colorize.run(Photo(toned), ColorizeSettings(tone=False, skin=False), StageContext()))
    assert note == "colorized"  # a toned print keeps nothing of its own, and the note says nothing of it


def test_a_batch_report_says_beside_the_file_that_it_may_be_a_colour_photo_and_revive_keeps_its_colour(
        tmp_path, monkeypatch):
    import csv

    from restorer.cli import main
    from restorer.imaging import read_photo

    from .conftest import save_rgb

    moss = _sepia_print(128, 160)
    moss[50:90, 60:110, 1:] = np.array([-25.0, 20.0], np.float32)
    photo = tmp_path / "garden.png"
    save_rgb(photo, np.clip(lab_to_rgb(moss), 0, 1))
    monkeypatch.setattr(colorize, "is_black_and_white", lambda pixels: True)  # taken for a toned print

    assert main(["run", str(photo), "-o", str(tmp_path / "auto"), "--stages", "colorize"]) == 0
    with open(tmp_path / "auto" / "restorer-report.csv", newline="", encoding="utf-8") as report:
        (row,) = list(csv.DictReader(report))
    assert row["status"] == "restored" and "it may be a colour photo" in row["reason"]

    assert main(["run", str(photo), "-o", str(tmp_path / "kept"), "--stages", "colorize",
                 "--colour-engine", "revive"]) == 0
    kept = read_photo(next((tmp_path / "kept").glob("garden_restored.*"))).float_pixels()
    own = rgb_to_lab(read_photo(photo).float_pixels())[..., 1:]
    assert np.abs(rgb_to_lab(kept)[..., 1:] - own).max() < 2.0  # its own colours, all of them (the tone step
    # may deepen its blacks; it keeps a*b*)
