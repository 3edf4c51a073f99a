"""Descreen: a printed photo's halftone screen is found, and only where there is one, and removed."""

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from restorer.errors import RecipeError
from restorer.halftone import halftone
from restorer.imaging import Photo
from restorer.recipe import ArtifactsSettings, Recipe
from restorer.stages import StageContext, artifacts, drain
from restorer.stages import descreen as descreen_module
from restorer.stages.descreen import Screen, descreen, find_screen


def natural_grey(size: int = 384, seed: int = 0) -> np.ndarray:
    """A grey float32 scene whose spectrum falls with frequency as a photo's does: noise at five scales,
    each weighted by its size, and a few hard-edged shapes."""
    rng = np.random.default_rng(seed)
    scene = np.zeros((size, size), np.float32)
    for scale in (1, 2, 4, 8, 16, 32):
        scene += scale * cv2.GaussianBlur(rng.normal(0, 1, (size, size)).astype(np.float32), (0, 0), scale)
    scene = (scene - scene.min()) / (scene.max() - scene.min())
    for _ in range(6):
        x, y = rng.integers(0, size - 60, 2)
        cv2.rectangle(scene, (int(x), int(y)), (int(x + rng.integers(20, 60)), int(y + rng.integers(20, 60))),
                      float(rng.uniform(0.1, 0.9)), -1)
    return np.clip(0.1 + 0.8 * scene, 0, 1)


def peak_power(gray: np.ndarray, screen_period: float, angle: float) -> float:
    """Power at the screen's fundamental frequency (summed over the 3x3 bins around it)."""
    n = gray.shape[0]
    spectrum = np.fft.fftshift(np.abs(np.fft.fft2(gray - gray.mean())) ** 2)
    theta = np.radians(angle)
    fx, fy = np.cos(theta) / screen_period, np.sin(theta) / screen_period
    x, y = int(round(n / 2 + fx * n)), int(round(n / 2 + fy * n))
    return float(spectrum[y - 1 : y + 2, x - 1 : x + 2].sum())


@pytest.mark.parametrize("period,angle", [(3.5, 45.0), (6.0, 45.0), (9.0, 15.0), (5.0, 0.0)])
def test_a_halftone_scan_is_found_with_its_period(period, angle):
    scan = halftone(natural_grey(), period, angle, noise=1 / 255)
    screen = find_screen(scan)
    assert screen is not None
    assert abs(screen.period - period) / period < 0.05
    # a square lattice looks the same every 90°
    assert min(abs((screen.angle - angle) % 90), 90 - abs((screen.angle - angle) % 90)) < 5


def test_the_screen_is_found_in_a_colour_scan_saved_as_a_jpeg():
    grey = halftone(natural_grey(seed=1), 5.0, 45.0, noise=1 / 255)
    sepia = np.clip(np.stack([grey * 1.0, grey * 0.85, grey * 0.65], axis=2), 0, 1)
    buffer = io.BytesIO()
    Image.fromarray((sepia * 255 + 0.5).astype(np.uint8)).save(buffer, "JPEG", quality=80)
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())), np.float32) / 255
    screen = find_screen(decoded)
    assert screen is not None and abs(screen.period - 5.0) < 0.25


def test_photos_without_a_screen_are_left_alone():
    rng = np.random.default_rng(4)
    scene = natural_grey(seed=2)
    assert find_screen(scene) is None
    assert find_screen(np.clip(scene + rng.normal(0, 0.03, scene.shape).astype(np.float32), 0, 1)) is None
    # JPEG's own 8x8 grid is not a screen
    buffer = io.BytesIO()
    Image.fromarray((scene * 255 + 0.5).astype(np.uint8)).save(buffer, "JPEG", quality=15)
    blocky = np.asarray(Image.open(io.BytesIO(buffer.getvalue())), np.float32) / 255
    assert find_screen(blocky) is None
    # nor is one striped object: a quarter of the photo in fine stripes (a fence, a striped dress)
    striped = scene.copy()
    y, x = np.mgrid[0:192, 0:192]
    striped[:192, :192] = 0.5 + 0.4 * np.sin(2 * np.pi * (x + y) / (4.0 * np.sqrt(2)))
    assert find_screen(striped) is None
    # nor lines across the whole photo (a monitor's scan lines, a resampling pattern): one direction and
    # its harmonics, not a lattice
    y, x = np.mgrid[0 : scene.shape[0], 0 : scene.shape[1]]
    for period, angle, depth in ((5, 30, 0.2), (10, 90, 0.1), (4, 60, 0.1)):
        theta = np.radians(angle)
        lines = ((x * np.cos(theta) + y * np.sin(theta)) % period < period / 2).astype(np.float32)
        assert find_screen(scene * (1 - depth + depth * lines)) is None
    # and a photo too small to tell
    assert find_screen(scene[:40, :40]) is None


def test_descreen_removes_the_screen_and_keeps_the_photo():
    scene = natural_grey(256, seed=3)
    scan = halftone(scene, 6.0, 45.0, noise=1 / 255)
    screen = find_screen(scan)
    out = descreen(scan, screen)
    assert out.shape == scan.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    # the dots' fundamental is gone: 30 dB weaker
    assert peak_power(out, 6.0, 45.0) < 1e-3 * peak_power(scan, 6.0, 45.0)
    psnr = lambda a, b: 10 * np.log10(1 / np.mean((a - b) ** 2))  # noqa: E731
    assert psnr(out, scene) > psnr(scan, scene) + 10
    # what the print could carry (the photo well below the screen's frequency) is kept
    coarse = lambda a: cv2.GaussianBlur(a, (0, 0), 6.0)  # noqa: E731
    assert np.abs(coarse(out) - coarse(scene))[24:-24, 24:-24].mean() < 0.02


def test_descreen_in_tiles_matches_one_pass(monkeypatch):
    scan = halftone(np.tile(natural_grey(256, seed=5), (1, 3))[:, :700], 4.0, 45.0)
    colour = np.stack([scan, scan * 0.9, scan * 0.8], axis=2)
    screen = Screen(period=4.0, angle=45.0, contrast_db=30.0, peaks=())
    monkeypatch.setattr(descreen_module, "_TILE", 4096)
    whole = descreen(colour, screen)
    monkeypatch.setattr(descreen_module, "_TILE", 256)
    tiled = descreen(colour, screen)
    assert np.abs(whole - tiled).max() < 2e-3


def test_the_artifacts_stage_descreens_a_printed_photo_and_says_so():
    scan = halftone(natural_grey(seed=6), 5.0, 45.0, noise=1 / 255)
    photo = Photo(np.repeat(scan[..., None], 3, axis=2))
    context = StageContext()
    result, note = drain(artifacts.run(photo, ArtifactsSettings(), context))
    assert "halftone screen, period 5.0 px" in note
    assert peak_power(result.pixels[..., 0], 5.0, 45.0) < 1e-3 * peak_power(scan, 5.0, 45.0)
    assert np.array_equal(photo.pixels[..., 0], scan)  # the original is untouched
    kept, note_off = drain(artifacts.run(photo, ArtifactsSettings(descreen="off", strength=0), context))
    assert "halftone" not in note_off and np.array_equal(kept.pixels, photo.pixels)
    # a period given by the recipe is used as it is, without looking
    given, note_given = drain(artifacts.run(photo, ArtifactsSettings(descreen=5.0, strength=0), context))
    assert "period 5.0 px" in note_given and not np.array_equal(given.pixels, photo.pixels)


def test_a_clean_photo_passes_the_stage_without_descreening():
    photo = Photo(np.repeat(natural_grey(seed=7)[..., None], 3, axis=2))
    result, note = drain(artifacts.run(photo, ArtifactsSettings(strength=0), StageContext()))
    assert "halftone" not in note and np.array_equal(result.pixels, photo.pixels)


def test_the_recipe_knows_descreen_and_old_recipes_still_load():
    for value in ("auto", "off", 4.5, 12):
        assert ArtifactsSettings(descreen=value).descreen == value
    for bad in ("sometimes", 1.0, 40, True):
        with pytest.raises(RecipeError, match="Descreen"):
            ArtifactsSettings(descreen=bad)
    recipe = Recipe().with_settings("artifacts", descreen="off")
    assert Recipe.from_json(recipe.to_json()) == recipe
    old = Recipe().to_dict()
    for step in old["stages"]:
        step["settings"].pop("descreen", None)
    assert Recipe.from_dict(old).settings("artifacts").descreen == "auto"


def test_a_four_ink_print_is_descreened_in_lightness_and_colour():
    from restorer.stages.artifacts import remove_screen

    rng = np.random.default_rng(8)
    scene = np.stack([natural_grey(seed=s) for s in (9, 10, 11)], axis=2)
    # each ink's screen at its own angle, the same ruling, as four-colour presses print
    scan = np.stack([halftone(scene[..., c], 5.0, angle, noise=1 / 255, rng=rng)
                     for c, angle in enumerate((15.0, 75.0, 0.0))], axis=2)
    assert find_screen(scan) is not None
    out, note = remove_screen(Photo(scan), "auto")
    assert "halftone" in note
    for c, angle in enumerate((15.0, 75.0, 0.0)):
        assert peak_power(out.pixels[..., c], 5.0, angle) < 1e-3 * peak_power(scan[..., c], 5.0, angle)
    # the colour is smoothed further than the lightness: its mottle goes, its broad areas stay
    scene_colour = scene[..., 0] - scene[..., 1]
    kept = out.pixels[..., 0] - out.pixels[..., 1]
    coarse = lambda a: cv2.GaussianBlur(a, (0, 0), 12.0)  # noqa: E731
    assert np.abs(coarse(kept) - coarse(scene_colour))[32:-32, 32:-32].mean() < 0.03


def test_a_sixteen_bit_scan_is_descreened_at_full_precision():
    scan = halftone(natural_grey(seed=13), 4.5, 45.0, noise=1 / 255)
    photo = Photo((np.repeat(scan[..., None], 3, axis=2) * 65535 + 0.5).astype(np.uint16))
    result, note = drain(artifacts.run(photo, ArtifactsSettings(strength=0), StageContext()))
    assert "halftone" in note and result.pixels.dtype == np.float32
    # smooth tones keep levels finer than 8 bits can hold
    levels = np.unique(np.round(result.pixels[..., 0] * 65535))
    assert len(levels) > 1024


def test_the_window_turns_descreen_off_and_on(qtbot):
    from restorer.gui.app import Application

    app = Application()
    qtbot.addWidget(app.window)
    try:
        box = app.window.panel.artifacts_descreen
        assert box.isChecked() and app.session.recipe.settings("artifacts").descreen == "auto"
        box.setChecked(False)
        assert app.session.recipe.settings("artifacts").descreen == "off"
        box.setChecked(True)
        assert app.session.recipe.settings("artifacts").descreen == "auto"
        # a recipe's own period is shown ticked and kept
        app.set_recipe(Recipe().with_settings("artifacts", descreen=6.5))
        assert box.isChecked()
        app.window.panel.artifacts_auto.setChecked(False)  # another edit in the same panel
        settings = app.session.recipe.settings("artifacts")
        assert settings.strength != "auto" and settings.descreen == 6.5
    finally:
        app.shutdown()


def test_a_coarse_newspaper_screen_on_a_large_scan_is_found_at_half_resolution():
    scene = cv2.resize(natural_grey(384, seed=14), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    scan = halftone(scene, 30.0, 45.0, supersample=2)
    screen = find_screen(scan)
    assert screen is not None and abs(screen.period - 30.0) < 1.5
    out = descreen(scan, screen)
    assert peak_power(out, 30.0, 45.0) < 1e-3 * peak_power(scan, 30.0, 45.0)


def test_detect_reports_a_printed_photos_screen(tmp_path, capsys):
    import json

    from restorer.cli import main

    printed, plain = tmp_path / "printed.png", tmp_path / "plain.png"
    Image.fromarray((halftone(natural_grey(seed=15), 6.0, 45.0) * 255 + 0.5).astype(np.uint8)).save(printed)
    Image.fromarray((natural_grey(seed=15) * 255 + 0.5).astype(np.uint8)).save(plain)
    assert main(["detect", str(printed), str(plain), "--screens", "--json"]) == 0
    first, second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["photos"]
    assert abs(first["screen"]["period"] - 6.0) < 0.3 and second["screen"] is None
    assert first["faces"] == [] and first["scratch_fraction"] is None  # only what was asked for


def test_the_descreen_and_revive_evaluations_score_what_they_say(tmp_path):
    from restorer.evaluation.descreen import evaluate_descreen
    from restorer.evaluation.revive import evaluate_revive

    for seed in (16, 17):
        grey = natural_grey(256, seed=seed)
        colour = np.stack([grey, np.roll(grey, 40, axis=1), grey[::-1]], axis=2)
        Image.fromarray((colour * 255 + 0.5).astype(np.uint8)).save(tmp_path / f"photo{seed}.png")
    result = evaluate_descreen(tmp_path, stage=False)
    assert result["images"] == 2 and result["false_alarm_rate"] == 0.0
    assert result["detection_rate"] > 0 and result["period_error_median"] < 0.05
    assert result["descreen_psnr_found"] > result["scan_psnr_found"] + 8
    from restorer.evaluation.metrics import psnr
    from restorer.evaluation.revive import fade
    from restorer.stages.colorize import revive_faded

    revived = evaluate_revive(tmp_path, seed=3)
    first = np.asarray(Image.open(tmp_path / "photo16.png"), np.float32) / 255
    faded = fade(first, np.random.default_rng(3))  # the first photo gets the seed's first draw
    row = revived["per_image"][0]
    assert row["image"] == "photo16.png"
    assert row["faded_psnr"] == pytest.approx(psnr(faded, first, peak=1.0))
    assert row["revived_psnr"] == pytest.approx(psnr(revive_faded(faded, 1.0), first, peak=1.0))
    assert row["healthy_revived_psnr"] == pytest.approx(psnr(revive_faded(first, 1.0), first, peak=1.0))
    from restorer.stages.colorize import fade_evidence

    assert row["faded_evidence"] == fade_evidence(faded) and row["healthy_evidence"] == fade_evidence(first)
    spared = [r["healthy_evidence"] == 0 for r in revived["per_image"]]
    assert revived["auto_healthy_unchanged_share"] == pytest.approx(np.mean(spared))
