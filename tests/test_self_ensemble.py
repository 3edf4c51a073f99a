"""The geometric self-ensemble: exact inverses, an equivariant result, and its way through the stage."""

import numpy as np
import torch

from restorer.models.archs.rrdbnet import RRDBNet
from restorer.models.precision import Runtime
from restorer.models.self_ensemble import DIHEDRAL, transform, untransform
from restorer.stages import drain
from restorer.tiling import run_tiled, windows

from .conftest import gradient_photo

FP32 = Runtime("cpu", None)


def tiny_sr() -> RRDBNet:
    torch.manual_seed(3)
    return RRDBNet(scale=2, features=8, blocks=1, growth=4).eval()


def upscale(net, image: np.ndarray, **kwargs) -> np.ndarray:
    return drain(run_tiled(net, image, scale=2, runtime=FP32, out_dtype=np.float32, **kwargs))


def test_the_eight_symmetries_are_distinct_and_each_is_undone_exactly():
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(2, 3, 5, 7)
    seen = set()
    for turns, mirror in DIHEDRAL:
        moved = transform(x, turns, mirror)
        seen.add(moved.contiguous().numpy().tobytes())
        assert torch.equal(untransform(moved, turns, mirror), x)
    assert len(seen) == 8


def test_the_ensemble_commutes_with_flips_and_rotations():
    net = tiny_sr()
    image = gradient_photo(14, 10)
    plain = upscale(net, image)
    ensembled = upscale(net, image, ensemble=True)
    # The random network alone is not equivariant, so the ensemble really changed something ...
    assert np.abs(plain - ensembled).max() > 1e-3
    # ... and its answer for a mirrored or turned photo is its answer mirrored or turned.
    mirrored = upscale(net, np.ascontiguousarray(image[:, ::-1]), ensemble=True)
    assert np.abs(mirrored[:, ::-1] - ensembled).max() < 1e-5
    turned = upscale(net, np.ascontiguousarray(np.rot90(image)), ensemble=True)
    assert np.abs(np.rot90(turned, -1) - ensembled).max() < 1e-5


def test_an_equivariant_network_is_left_unchanged_and_tiles_still_meet():
    class Nearest(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest") * 0.5 + 0.1

    image = gradient_photo(40, 28)
    whole = upscale(Nearest(), image)
    tiled = upscale(Nearest(), image, ensemble=True, tile=16, pad=4)
    assert np.abs(whole - tiled).max() < 1e-6


def test_each_pass_is_a_progress_step_so_a_cancel_is_seen_between_passes():
    image = gradient_photo(40, 28)
    steps = list(run_tiled(tiny_sr(), image, scale=2, runtime=FP32, tile=16, pad=4, ensemble=True))
    tiles = len(windows(28, 40, 16, 4))
    assert tiles > 1
    # A step after every pass (and, inside each pass, after every convolution of the network).
    ends = [k / (8 * tiles) for k in range(1, 8 * tiles + 1)]
    assert all(any(abs(s - end) < 1e-9 for s in steps) for end in ends)
    assert len(steps) >= 8 * tiles * tiny_sr().step_count()
    assert steps == sorted(steps) and steps[-1] == 1.0


def test_the_upscale_stage_runs_the_ensemble_when_asked(tmp_path):
    from restorer import pipeline
    from restorer.imaging import Photo
    from restorer.recipe import Recipe

    torch.save({"params_ema": tiny_sr().state_dict()}, tmp_path / "mine.pth")
    base = Recipe().with_enabled({"upscale"}).with_settings("upscale", checkpoint=str(tmp_path / "mine.pth"),
                                                            precision="fp32", scale=2)
    photo = gradient_photo(24, 18)
    plain = pipeline.run_to_end(base, Photo(photo)).float_pixels()
    ensembled = pipeline.run_to_end(base.with_settings("upscale", ensemble=True), Photo(photo)).float_pixels()
    mirrored = pipeline.run_to_end(base.with_settings("upscale", ensemble=True),
                                   Photo(np.ascontiguousarray(photo[:, ::-1]))).float_pixels()
    assert ensembled.shape == plain.shape == (36, 48, 3)
    assert np.abs(ensembled - plain).max() > 1e-3
    assert np.abs(mirrored[:, ::-1] - ensembled).max() < 1e-4


def test_the_cli_flag_reaches_the_recipe(tmp_path):
    from restorer.cli import build_parser, recipe_from_args

    parse = build_parser().parse_args
    assert recipe_from_args(parse(["run", "x.png", "-o", str(tmp_path), "--sr-ensemble"])).settings("upscale").ensemble
    assert not recipe_from_args(parse(["run", "x.png", "-o", str(tmp_path)])).settings("upscale").ensemble


def test_the_live_preview_goes_without_the_ensemble(tmp_path):
    from dataclasses import replace

    from restorer.recipe import UpscaleSettings
    from restorer.stages.upscale import upscale_crop

    torch.save({"params_ema": tiny_sr().state_dict()}, tmp_path / "mine.pth")
    settings = UpscaleSettings(checkpoint=str(tmp_path / "mine.pth"), precision="fp32", scale=2)
    crop = gradient_photo(16, 12)
    plain = upscale_crop(crop, settings)
    assert np.array_equal(upscale_crop(crop, replace(settings, ensemble=True)), plain)
