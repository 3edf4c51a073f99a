"""The geometric self-ensemble: exact inverses, an equivariant result, and its way through the stage."""

import numpy as np
import pytest
import torch

from restorer.models.archs.rrdbnet import RRDBNet
from restorer.models.self_ensemble import DIHEDRAL, SelfEnsemble, transform, untransform

from .conftest import gradient_photo


def tiny_sr() -> RRDBNet:
    torch.manual_seed(3)
    return RRDBNet(scale=2, features=8, blocks=1, growth=4).eval()


def test_the_eight_symmetries_are_distinct_and_each_is_undone_exactly():
    x = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).reshape(2, 3, 5, 7)
    seen = set()
    for turns, mirror in DIHEDRAL:
        moved = transform(x, turns, mirror)
        seen.add(moved.contiguous().numpy().tobytes())
        assert torch.equal(untransform(moved, turns, mirror), x)
    assert len(seen) == 8


@pytest.mark.parametrize("turns, mirror", [(0, True), (1, False), (2, False), (3, True)])
def test_the_ensemble_commutes_with_flips_and_rotations(turns, mirror):
    net = SelfEnsemble(tiny_sr())
    x = torch.rand(1, 3, 10, 14)
    with torch.no_grad():
        plain = net.net(x)
        ensembled = net(x)
        of_moved = net(transform(x, turns, mirror))
    # The random network alone is not equivariant, so the ensemble really changed something ...
    assert (plain - ensembled).abs().max() > 1e-3
    # ... and its answer for a moved photo is its answer moved the same way.
    assert torch.allclose(of_moved, transform(ensembled, turns, mirror), atol=1e-5)
    assert ensembled.shape == (1, 3, 20, 28) and net.scale == 2


def test_an_equivariant_network_is_left_unchanged():
    class Nearest(torch.nn.Module):
        scale = 2

        def forward(self, x):
            return torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest") * 0.5 + 0.1

    x = torch.rand(2, 3, 6, 10)
    assert torch.allclose(SelfEnsemble(Nearest())(x), Nearest()(x), atol=1e-6)


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
