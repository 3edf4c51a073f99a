"""The fast mode's distillation script: its patches look like the prints the app enlarges, and a run can
start from an existing student."""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from restorer.models.archs.fastsr import FastSR
from restorer.training import distill_sr


def _photo(rng: np.random.Generator) -> np.ndarray:
    """A colourful 200x200 uint8 photo stand-in: smooth colour fields plus texture."""
    y, x = np.mgrid[0:200, 0:200].astype(np.float32)
    base = np.stack([128 + 100 * np.sin(x / 17), 128 + 100 * np.cos(y / 23), 128 + 100 * np.sin((x + y) / 31)], -1)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def test_patches_have_the_asked_size_and_some_look_like_grey_toned_or_faded_prints():
    rng = np.random.default_rng(0)
    images = [_photo(rng)]
    patches = [distill_sr.lr_patch(rng, images, 40) for _ in range(120)]
    assert all(p.shape == (40, 40, 3) and p.dtype == np.uint8 for p in patches)
    spread = [np.ptp(p.astype(np.int16), axis=2).mean() for p in patches]  # 0 where R = G = B
    grey = sum(s < 1.0 for s in spread)
    assert 10 <= grey <= 60  # about a fifth are neutral grey; the rest keep some colour (toned or not)
    contrast = [p.std() for p in patches]
    assert min(contrast) < 0.75 * float(np.median(contrast))  # faded ones have their contrast squeezed


def test_a_grey_or_toned_print_keeps_the_photo_s_lightness():
    rng = np.random.default_rng(3)
    patch = _photo(rng)[:64, :64]
    lightness = patch.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    toned = 0
    for seed in range(40):
        out = distill_sr.as_print(patch, np.random.default_rng(seed)).astype(np.float32)
        if np.corrcoef(out[..., 0].ravel(), out[..., 2].ravel())[0, 1] < 0.999:
            continue  # still in colour (only faded, or untouched)
        toned += 1
        # a grey or toned print is the photo's lightness, tinted and perhaps faded: nothing else changed
        assert np.corrcoef(lightness.ravel(), out.mean(axis=2).ravel())[0, 1] > 0.999
    assert 5 <= toned <= 25  # about a third of the draws


def test_training_starts_from_the_init_weights(tmp_path, capsys):
    rng = np.random.default_rng(0)
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    np.savez(pairs / "shard-0000.npz", lr=rng.integers(0, 256, (4, 24, 24, 3), dtype=np.uint8),
             hr=rng.integers(0, 256, (2, 4, 96, 96, 3), dtype=np.uint8), alpha=np.array([0.0, 1.0], np.float32))
    torch.manual_seed(1)
    start = FastSR(channels=4, layers=1)
    torch.nn.init.normal_(start.tail.weight, std=0.1)  # a fresh student's tail is zero; this one's is not
    init = tmp_path / "init.safetensors"
    save_file({k: v.contiguous() for k, v in start.state_dict().items()}, str(init))
    out = tmp_path / "student.safetensors"
    np.savez(pairs / "shard-0001.npz", lr=rng.integers(0, 256, (2, 24, 24, 3), dtype=np.uint8),
             hr=rng.integers(0, 256, (1, 2, 96, 96, 3), dtype=np.uint8), alpha=np.array([0.5], np.float32))
    distill_sr.main(["train", "--data", str(tmp_path), "--pairs", str(pairs), "--channels", "4", "--layers", "1",
                     "--iters", "2", "--batch", "2", "--lr", "1e-9", "--device", "cpu", "--holdout", "1",
                     "--init", str(init), "--out", str(out)])
    trained = load_file(str(out))
    assert torch.allclose(trained["tail.weight"].float(), start.tail.weight, atol=1e-3)
    assert trained["tail.weight"].float().abs().max() > 0.05
    report = capsys.readouterr().out
    assert "8 teacher pairs" in report and "2 held out" in report and "as saved" in report


def test_the_held_out_figure_is_the_teacher_distance_and_bicubic_scores_as_bicubic():
    rng = np.random.default_rng(5)
    lr = rng.integers(0, 256, (3, 24, 24, 3), dtype=np.uint8)
    x = distill_sr.to_nchw(lr)
    bicubic = torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)
    hr = (bicubic.permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
    untrained = FastSR(channels=4, layers=1)  # its tail starts at zero: it is bicubic
    student, plain = distill_sr.held_out_psnr(untrained, (lr, hr, np.zeros(3, np.float32)))
    assert plain > 50 and abs(student - plain) < 0.01  # the teacher here is bicubic: both are near-perfect
    noisy = np.clip(hr.astype(np.int16) + rng.integers(-20, 21, hr.shape), 0, 255).astype(np.uint8)
    student, plain = distill_sr.held_out_psnr(untrained, (lr, noisy, np.zeros(3, np.float32)))
    assert 20 < plain < 35
