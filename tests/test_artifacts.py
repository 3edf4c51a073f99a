
import numpy as np

from restorer.stages import drain
import pytest
from PIL import Image

from restorer.evaluation.metrics import blocking_effect_factor, psnr_b_y, psnr_y
from restorer.imaging import Photo, read_photo
from restorer.recipe import ArtifactsSettings
from restorer.stages import StageContext, artifacts
from restorer.stages.estimate import estimate_jpeg_quality, estimate_noise_sigma

from .conftest import gradient_photo


def _textured(size: int = 128, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = gradient_photo(size, size, seed) * 255
    texture = rng.normal(0, 25, (size // 8, size // 8, 3)).repeat(8, 0).repeat(8, 1)
    return np.clip(base + texture, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("quality", [8, 20, 35, 50, 75, 90, 97])
def test_quality_estimator_recovers_the_saved_quality(tmp_path, quality):
    path = tmp_path / "q.jpg"
    Image.fromarray(_textured()).save(path, quality=quality)
    photo = read_photo(path)
    assert abs(estimate_jpeg_quality(photo.metadata.jpeg_quantization) - quality) <= 5


def test_quality_estimator_returns_none_without_tables():
    assert estimate_jpeg_quality(None) is None


@pytest.mark.parametrize("sigma", [5, 15, 30])
def test_noise_estimator_is_close_on_a_smooth_image(sigma):
    rng = np.random.default_rng(sigma)
    clean = gradient_photo(256, 256)
    noisy = np.clip(clean + rng.normal(0, sigma / 255, clean.shape), 0, 1)
    assert abs(estimate_noise_sigma(noisy) - sigma) < 0.25 * sigma + 1



@pytest.mark.parametrize("engine", ["classic", "model"])
def test_strength_zero_is_the_identity(engine):
    photo = Photo(gradient_photo())
    result, _ = drain(artifacts.run(photo, ArtifactsSettings(engine=engine, strength=0), StageContext()))
    assert np.array_equal(result.pixels, photo.pixels)


def test_auto_leaves_a_clean_photo_alone():
    """A clean PNG has no JPEG tables and no noise: auto strength must be 0 (identity)."""
    y, x = np.mgrid[0:96, 0:128].astype(np.float32)
    smooth = np.stack([x / 160 + 0.1, y / 120 + 0.1, 0.5 + 0.3 * np.sin(x / 9) * np.cos(y / 7)], axis=2)
    photo = Photo(np.round(smooth * 255) / 255)
    strength, note = artifacts.auto_strength(photo)
    assert strength == 0, note
    result, _ = drain(artifacts.run(photo, ArtifactsSettings(strength="auto"), StageContext()))
    assert np.array_equal(result.pixels, photo.pixels)


def _luma_levels(rgb: np.ndarray, steps: np.ndarray) -> np.ndarray:
    from restorer.stages.jpeg_consistency import _TO_YCC, _block_dct

    return _block_dct((rgb.astype(np.float64) * 255.0) @ _TO_YCC[0].astype(np.float64) - 128) / steps


def test_model_result_on_a_heavy_jpeg_stays_consistent_with_the_file(tmp_path):
    path = tmp_path / "heavy.jpg"
    Image.fromarray(_textured()).save(path, quality=12)
    photo = read_photo(path)
    result, note = drain(artifacts.run(photo, ArtifactsSettings(engine="model"), StageContext()))
    assert "consistent with the JPEG" in note
    steps = np.asarray(photo.metadata.jpeg_quantization[0], np.float64).reshape(8, 8)
    k = np.round(_luma_levels(photo.pixels, steps))
    inside = np.abs(_luma_levels(result.pixels, steps) - k) <= 0.5 + 1e-3
    assert inside.mean() > 0.995  # (the last few: pixels clipped at black or white after the projection)
    assert not np.allclose(result.pixels, photo.pixels, atol=2 / 255)  # and the model did restore


def test_a_noisy_jpeg_is_not_pulled_back_towards_its_noise(tmp_path):
    rng = np.random.default_rng(3)
    noisy = np.clip(gradient_photo(128, 128) * 255 + rng.normal(0, 20, (128, 128, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "noisy.jpg"
    Image.fromarray(noisy).save(path, quality=92)
    photo = read_photo(path)
    result, note = drain(artifacts.run(photo, ArtifactsSettings(engine="model"), StageContext()))
    assert "consistent" not in note and "noise sigma" in note


def test_psnr_b_penalises_blocking():
    clean = gradient_photo(64, 64)
    blocky = clean.copy()
    blocky[:, 8::8] += 0.05  # a jump at every block edge
    assert blocking_effect_factor(np.clip(blocky, 0, 1)[..., 0] * 255) > 0
    assert psnr_b_y(np.clip(blocky, 0, 1), clean) < psnr_y(np.clip(blocky, 0, 1), clean)
    assert blocking_effect_factor(clean[..., 0] * 255) < 0.5


def test_a_deepened_artifactnet_starts_exactly_where_the_trained_one_stands(tmp_path):
    import torch
    from safetensors.torch import save_file

    from restorer.models.archs.artifactnet import ArtifactNet
    from restorer.training.train_artifacts import load_deepened

    torch.manual_seed(0)
    trained = ArtifactNet(8, 2).eval()
    for param in trained.parameters():  # a zero tail would make any two nets agree
        torch.nn.init.normal_(param, std=0.1)
    save_file(trained.state_dict(), str(tmp_path / "trained.safetensors"))
    deeper = ArtifactNet(8, 4).eval()
    load_deepened(deeper, tmp_path / "trained.safetensors")
    x, strength = torch.rand(1, 3, 16, 16), torch.full((1, 1, 16, 16), 0.5)
    with torch.no_grad():
        assert torch.allclose(deeper(x, strength), trained(x, strength), atol=1e-6)
        assert not torch.equal(trained(x, strength), x)
    with pytest.raises(SystemExit, match="cannot grow"):
        load_deepened(ArtifactNet(8, 1), tmp_path / "trained.safetensors")


def test_auto_sees_coarse_grain_on_a_grey_print_but_not_texture_or_colour():
    """Grain correlated over a few pixels hides from a fine-scale estimate; auto must still see it."""
    import cv2

    from restorer.imaging import Photo
    from restorer.stages.artifacts import auto_strength

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:256, 0:256].astype(np.float32) / 256
    base = 0.35 + 0.3 * x + 0.1 * np.sin(3 * y)  # a smooth backdrop, as in a studio portrait
    # Grain correlated over about two pixels, 8 levels of 255: the fine estimate sees sigma 0.6 of it.
    grain = cv2.GaussianBlur(rng.normal(0, 1, (256, 256)).astype(np.float32), (0, 0), 1.0)
    grainy = np.clip(base + grain / grain.std() * 8 / 255, 0, 1)
    print_like = Photo(np.repeat(grainy[..., None], 3, axis=2).astype(np.float32))
    strength, note = auto_strength(print_like)
    assert strength >= 25 and "coarse grain" in note
    clean = Photo(np.repeat(base[..., None], 3, axis=2).astype(np.float32))
    assert auto_strength(clean)[0] == 0
    # The same grain on a colour photo is left to the fine estimate (texture would pass for grain there).
    speckle = grainy - base
    colour = np.clip(np.stack([np.where(x < 0.5, 0.8, 0.2) + speckle, grainy,
                               np.where(y < 0.5, 0.2, 0.7) + speckle], axis=2), 0, 1)
    assert "coarse grain" not in auto_strength(Photo(colour.astype(np.float32)))[1]
