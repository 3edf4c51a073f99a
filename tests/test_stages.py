from pathlib import Path

import numpy as np

from restorer.stages import drain
import pytest

from restorer import pipeline
from restorer.errors import BadMask
from restorer.imaging import Photo, PhotoMetadata
from restorer.recipe import ArtifactsSettings, ColorizeSettings, InpaintSettings, Recipe, UpscaleSettings
from restorer.stages import StageContext, artifacts, colorize, inpaint, upscale
from restorer.stages.colorize import is_monochrome

from .conftest import gradient_photo



def test_artifacts_strength_zero_is_identity():
    photo = Photo(gradient_photo())
    result, _ = drain(artifacts.run(photo, ArtifactsSettings(strength=0), StageContext()))
    assert np.array_equal(result.pixels, photo.pixels)


def test_artifacts_removes_noise_from_a_flat_patch():
    rng = np.random.default_rng(1)
    clean = np.full((64, 64, 3), 0.5, dtype=np.float32)
    noisy = np.clip(clean + rng.normal(0, 15 / 255, clean.shape), 0, 1).astype(np.float32)
    result, note = drain(artifacts.run(Photo(noisy), ArtifactsSettings(engine="classic", strength="auto"), StageContext()))
    assert "noise sigma" in note
    assert np.abs(result.pixels - clean).mean() < 0.5 * np.abs(noisy - clean).mean()


_HAVE_INPAINTNET = (Path(__file__).resolve().parents[1] / "weights" / "inpaintnet.safetensors").is_file()


@pytest.mark.parametrize("engine", [
    "telea", pytest.param("model", marks=pytest.mark.skipif(not _HAVE_INPAINTNET, reason="InpaintNet not bundled"))])
def test_inpaint_fills_mask_and_leaves_everything_else_bit_for_bit(engine):
    pixels = gradient_photo(64, 48)
    damaged = pixels.copy()
    mask = np.zeros((48, 64), dtype=bool)
    mask[20:23, 5:60] = True
    damaged[mask] = 1.0  # a white scratch
    result, _ = drain(inpaint.run(Photo(damaged), InpaintSettings(engine=engine), StageContext(mask=mask)))
    assert np.array_equal(result.pixels[~mask], damaged[~mask])
    assert np.abs(result.pixels[mask] - pixels[mask]).mean() < 0.05  # close to what was there
    assert np.abs(damaged[mask] - pixels[mask]).mean() > 0.3


def test_inpaint_model_windows_reach_every_hole_pixel(monkeypatch):
    """Big crops go in windows; every hole pixel must come from some window's prediction."""
    import torch

    from restorer.models.precision import Runtime

    calls = []

    def fake_net(image, hole):  # predicts 0.25 in the hole, keeps what it was given elsewhere
        calls.append(tuple(image.shape[-2:]))
        return torch.where(hole > 0, torch.full_like(image, 0.25), image)

    monkeypatch.setattr(inpaint, "_MODEL_WINDOW", 64)
    monkeypatch.setattr(inpaint, "_MODEL_CONTEXT", 8)
    rng = np.random.default_rng(5)
    rgb = rng.random((150, 210, 3), dtype=np.float32)
    mask = np.zeros((150, 210), bool)
    mask[::7, :] = True  # thin lines crossing every window border
    mask[:, 100:102] = True
    out = inpaint.inpaint_model(rgb, mask, fake_net, Runtime("cpu", None))
    assert len(calls) > 4 and max(max(c) for c in calls) <= 64
    assert np.all(out[mask] == 0.25)
    assert np.array_equal(out[~mask], rgb[~mask])


def test_inpaint_model_works_thick_holes_at_reduced_scales_and_thin_ones_once():
    import torch

    from restorer.models.precision import Runtime

    mask = np.zeros((200, 200), bool)
    mask[50:150, 50:150] = True  # 50 px from its nearest edge
    expected = [r / 50 for r in inpaint._MODEL_HOLE_RADII]
    assert inpaint.working_scales(mask) == pytest.approx(expected, rel=0.05)
    thin = np.zeros((200, 200), bool)
    thin[100:104, :] = True
    assert inpaint.working_scales(thin) == [1.0] * len(inpaint._MODEL_HOLE_RADII)

    sizes = []

    def fake_net(image, hole):  # fills the hole with a value that depends on the working size
        sizes.append(int(image.shape[-1]))
        return torch.where(hole > 0, torch.full_like(image, image.shape[-1] / 1000), image)

    rgb = np.full((200, 200, 3), 0.5, np.float32)
    out = inpaint.inpaint_model(rgb, mask, fake_net, Runtime("cpu", None))
    assert len(sizes) == len(set(expected)) and max(sizes) < 200  # one pass per scale, all reduced
    centre = out[100, 100]
    assert centre == pytest.approx(np.full(3, np.mean(sizes) / 1000), abs=0.01)  # the fills' mean
    sizes.clear()
    inpaint.inpaint_model(rgb, thin, fake_net, Runtime("cpu", None))
    assert sizes == [200]  # a thin hole: a single full-resolution pass


def test_inpaint_rejects_a_mask_of_the_wrong_size():
    with pytest.raises(BadMask, match="10x10 pixels but the photo is 48x32"):
        drain(inpaint.run(Photo(gradient_photo()), InpaintSettings(), StageContext(mask=np.ones((10, 10), bool))))


def test_inpaint_without_mask_changes_nothing():
    photo = Photo(gradient_photo())
    result, note = drain(inpaint.run(photo, InpaintSettings(), StageContext()))
    assert result is photo and "no mask" in note


def test_revive_leaves_a_grayscale_photo_unchanged():
    gray = np.repeat(gradient_photo()[..., :1], 3, axis=2)
    assert is_monochrome(gray)
    result, note = drain(colorize.run(Photo(gray), ColorizeSettings(engine="revive"), StageContext()))
    assert np.array_equal(result.pixels, gray) and "black-and-white" in note


def test_sepia_and_grey_count_as_black_and_white_but_colour_does_not():
    gray = np.repeat(gradient_photo(64, 64)[..., :1], 3, axis=2)
    sepia = np.clip(gray * np.array([1.0, 0.85, 0.62], dtype=np.float32) + 0.05, 0, 1)
    assert colorize.is_black_and_white(gray) and colorize.is_black_and_white(sepia)
    assert not colorize.is_monochrome(sepia)  # it has colour, but only one hue
    assert not colorize.is_black_and_white(gradient_photo(64, 64))


def test_a_faded_colour_print_with_a_yellow_cast_is_not_black_and_white():
    from restorer.imaging import read_photo
    from restorer.paths import resources_dir

    faded = read_photo(resources_dir() / "examples" / "astronaut_faded.jpg").pixels
    assert not colorize.is_black_and_white(faded)
    result, note = drain(colorize.run(Photo(faded), ColorizeSettings(), StageContext()))
    assert note.startswith("faded colour revived")
    assert not np.array_equal(result.pixels, faded)


def test_hints_are_validated_and_survive_json():
    recipe = Recipe().with_settings("colorize", hints=[[0.5, 0.25, 1.0, 0.0, 0.0]])
    again = Recipe.from_json(recipe.to_json())
    assert again.settings("colorize").hints == ((0.5, 0.25, 1.0, 0.0, 0.0),)
    with pytest.raises(Exception, match="between 0 and 1"):
        ColorizeSettings(hints=((1.5, 0, 0, 0, 0),))


def test_faded_colour_is_revived():
    rgb = gradient_photo(64, 64)
    luma = rgb.mean(axis=2, keepdims=True)
    faded = (0.2 + 0.6 * (luma + 0.3 * (rgb - luma))) * np.array([1.05, 1.0, 0.8], dtype=np.float32)
    result, _ = drain(colorize.run(Photo(faded.astype(np.float32)), ColorizeSettings(), StageContext()))
    chroma = lambda a: np.abs(a - a.mean(axis=2, keepdims=True)).mean()  # noqa: E731
    contrast = lambda a: a.max() - a.min()  # noqa: E731
    assert chroma(result.pixels) > 1.3 * chroma(faded)
    assert contrast(result.pixels) > contrast(faded)


def test_lanczos_upscale_scales_size_alpha_and_dpi():
    photo = Photo(gradient_photo(), PhotoMetadata(dpi=(300.0, 300.0)), alpha=np.ones((32, 48), np.float32))
    result, _ = drain(upscale.run(photo, UpscaleSettings(engine="lanczos", scale=3), StageContext()))
    assert result.size == (144, 96)
    assert result.alpha.shape == (96, 144)
    assert result.metadata.dpi == (900.0, 900.0)


def test_classic_chain_is_not_a_stub():
    photo = Photo(gradient_photo())
    recipe = Recipe().with_enabled({"artifacts", "colorize", "upscale"}).with_settings("upscale", engine="lanczos")
    result = pipeline.run_to_end(recipe.with_settings("artifacts", strength=50, engine="classic"), photo)
    assert result.size == (192, 128)
    assert not np.allclose(result.pixels[::4, ::4], photo.pixels, atol=1e-3)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_lama_torchscript_engine_fills_only_the_mask(tmp_path):
    """A stand-in for big-lama.pt with LaMa's interface: (image, mask) -> image, sizes multiple of 8."""
    import torch

    class MeanFill(torch.nn.Module):
        def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            assert image.shape[2] % 8 == 0 and image.shape[3] % 8 == 0
            keep = 1 - mask
            mean = (image * keep).sum(dim=(2, 3), keepdim=True) / keep.sum(dim=(2, 3), keepdim=True)
            return image * keep + mean * mask

    path = tmp_path / "fake-lama.pt"
    torch.jit.script(MeanFill()).save(str(path))
    pixels = np.full((50, 70, 3), 0.25, np.float32)
    mask = np.zeros((50, 70), bool)
    mask[20:25, 10:60] = True
    damaged = pixels.copy()
    damaged[mask] = 1.0
    settings = InpaintSettings(engine="lama", model_path=str(path))
    result, note = drain(inpaint.run(Photo(damaged), settings, StageContext(mask=mask)))
    assert np.array_equal(result.pixels[~mask], damaged[~mask])
    assert np.allclose(result.pixels[mask], 0.25, atol=1e-5)
    assert "lama" in note


def test_lama_engine_without_a_file_is_explained():
    from restorer.errors import RecipeError

    with pytest.raises(RecipeError, match="big-lama.pt"):
        InpaintSettings(engine="lama")


def test_inpaint_eval_masks_are_seeded_and_sized():
    from restorer.damage import blob_mask, scratch_mask

    a = scratch_mask(np.random.default_rng(3), 120, 160)
    b = scratch_mask(np.random.default_rng(3), 120, 160)
    assert np.array_equal(a, b) and 0 < a.mean() < 0.2
    blobs = blob_mask(np.random.default_rng(4), 120, 160)
    assert 0.05 <= blobs.mean() <= 0.35


def test_inpaint_model_padding_never_shows_the_damage_as_context():
    """A hole touching the bottom of a crop whose height is padded: the padding must stay hole."""
    import torch

    from restorer.models.precision import Runtime

    def brightest_known(image, hole):  # fills the hole with the brightest pixel it is shown as known
        known = torch.where(hole > 0, torch.zeros_like(image), image)
        return torch.where(hole > 0, known.amax(dim=(2, 3), keepdim=True).expand_as(image), image)

    rgb = np.full((37, 50, 3), 0.2, np.float32)
    mask = np.zeros((37, 50), bool)
    mask[30:, 10:20] = True
    rgb[mask] = 1.0  # bright damage, down to the last row
    out = inpaint.inpaint_model(rgb, mask, brightest_known, Runtime("cpu", None))
    assert np.allclose(out[mask], 0.2)


def test_revival_spares_a_warm_healthy_photo_and_brings_a_faded_one_back():
    from restorer.colorspace import rgb_to_lab
    from restorer.evaluation.revive import fade

    rng = np.random.default_rng(5)
    # A warm portrait-like photo: full tonal range in every channel (a white highlight, black shadows)
    # and warm midtones, as skin and wood are.
    y, x = np.mgrid[0:96, 0:96].astype(np.float32) / 95
    tone = np.clip(0.15 + 0.7 * x + 0.1 * np.sin(7 * y), 0, 1)
    warm = np.stack([tone ** 0.8, tone ** 1.1, tone ** 1.4], axis=2).astype(np.float32)
    warm[:4, :4], warm[-4:, -4:] = 1.0, 0.0
    revived = colorize.revive_faded(warm, 1.0)
    hue_shift = np.abs(rgb_to_lab(revived)[..., 1:].mean(axis=(0, 1)) - rgb_to_lab(warm)[..., 1:].mean(axis=(0, 1)))
    assert hue_shift.max() < 3.0  # grey-world pulled a* and b* of such a photo towards grey: green skin
    faded = fade(warm, rng)
    error = lambda a: float(np.mean((a - warm) ** 2))  # noqa: E731
    assert error(colorize.revive_faded(faded, 1.0)) < 0.6 * error(faded)


def _healthy_and_faded():
    from restorer.evaluation.revive import fade

    y, x = np.mgrid[0:96, 0:96].astype(np.float32) / 95
    tone = np.clip(0.1 + 0.8 * x + 0.1 * np.sin(7 * y), 0, 1)
    healthy = np.stack([tone ** 0.8, tone, tone ** 1.3], axis=2).astype(np.float32)
    healthy[:32] = healthy[:32, :, [2, 1, 0]]  # a blue band and a green one: a colour photo, not a toned print
    healthy[32:64] = healthy[32:64, :, [1, 0, 2]] * np.float32([0.7, 1.0, 0.7])
    healthy[-12:, -12:] = 0.0  # a black area, as shadows, hair or a dark coat give most photos
    return healthy, fade(healthy, np.random.default_rng(1))


def test_fade_evidence_tells_a_veiled_print_from_a_photo_with_true_blacks():
    healthy, faded = _healthy_and_faded()
    assert colorize.fade_evidence(healthy) == 0.0
    assert colorize.fade_evidence(faded) == 1.0
    grainy = np.clip(faded + np.random.default_rng(2).normal(0, 0.025, faded.shape[:2])[..., None], 0, 1)
    assert colorize.fade_evidence(grainy.astype(np.float32)) == 1.0  # grain must not hide the veil


def test_auto_colour_leaves_a_healthy_photo_exactly_as_it_was_and_revive_still_revives_it():
    healthy, faded = _healthy_and_faded()
    result, note = drain(colorize.run(Photo(healthy), ColorizeSettings(), StageContext()))
    assert np.array_equal(result.pixels, healthy) and "left unchanged" in note
    forced, note = drain(colorize.run(Photo(healthy), ColorizeSettings(engine="revive"), StageContext()))
    assert not np.array_equal(forced.pixels, healthy) and note == "faded colour revived"
    revived, note = drain(colorize.run(Photo(faded), ColorizeSettings(), StageContext()))
    assert note == "faded colour revived"
    assert np.mean((revived.pixels - healthy) ** 2) < 0.6 * np.mean((faded - healthy) ** 2)
