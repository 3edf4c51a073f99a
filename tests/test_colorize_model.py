"""ColorNet's colour-distribution head, its training loss, and the colorize evaluation's parts."""

import numpy as np
import pytest
import torch

from restorer.evaluation.colorize import colorfulness, remove_colour, sample_hints
from restorer.models.archs.colornet import GRID, ColorNet, annealed_mean

from .conftest import save_rgb


def test_annealed_mean_of_a_confident_distribution_is_its_bin_centre():
    net = ColorNet(8)
    logits = torch.full((1, GRID * GRID, 2, 2), -30.0)
    logits[:, 37] = 30.0
    ab = annealed_mean(logits, net.centres, 0.4)
    assert torch.allclose(ab[0, :, 0, 0], net.centres[:, 37], atol=1e-5)


def test_lower_temperature_gives_more_saturated_colour():
    net = ColorNet(8)
    logits = torch.zeros(1, GRID * GRID, 1, 1)  # unsure: every colour possible (mean: grey) ...
    logits[0, 200] = 3.0  # ... but one saturated colour likelier
    hot, cold = (annealed_mean(logits, net.centres, t)[0, :, 0, 0].norm() for t in (1.0, 0.3))
    assert cold > hot * 1.2


def test_soft_bin_cross_entropy_prefers_the_true_colour():
    from restorer.training.train_colorize import soft_bin_cross_entropy

    net = ColorNet(8)
    target = torch.tensor([0.31, -0.52]).view(1, 2, 1, 1)
    right = -((net.centres - target.view(2, 1)) ** 2).sum(0) * 200
    wrong = -((net.centres - torch.tensor([[-0.4], [0.4]])) ** 2).sum(0) * 200
    loss_right = soft_bin_cross_entropy(right.view(1, -1, 1, 1), target)
    loss_wrong = soft_bin_cross_entropy(wrong.view(1, -1, 1, 1), target)
    assert float(loss_right) < float(loss_wrong) - 1.0


def test_colornet_regression_and_distribution_heads_have_documented_shapes():
    net = ColorNet(8).eval()
    light, hints = torch.rand(1, 1, 32, 48), torch.zeros(1, 3, 32, 48)
    regression, logits = net.heads(light, hints)
    assert regression.shape == (1, 2, 32, 48) and logits.shape == (1, GRID * GRID, 16, 24)
    assert net(light, hints).shape == (1, 2, 32, 48)
    net.temperature = None
    assert torch.equal(net(light, hints), regression)


def test_colorfulness_is_zero_for_grey_and_grows_with_chroma():
    rng = np.random.default_rng(0)
    photo = rng.random((32, 32, 3)).astype(np.float32)
    grey = remove_colour(photo)
    assert colorfulness(grey) < 1.0
    assert colorfulness(photo) > 20
    muted = grey + (photo - grey) * 0.5
    assert colorfulness(muted) == pytest.approx(colorfulness(photo) * 0.5, rel=0.15)


def test_remove_colour_keeps_lightness():
    from restorer.colorspace import rgb_to_lab

    photo = np.random.default_rng(1).random((16, 16, 3)).astype(np.float32) * 0.8 + 0.1
    assert np.abs(rgb_to_lab(remove_colour(photo))[..., 0] - rgb_to_lab(photo)[..., 0]).max() < 0.5


def test_eval_hints_are_seeded_and_carry_the_true_colour():
    truth = np.zeros((40, 60, 3), np.float32)
    truth[..., 0] = 0.9  # red everywhere
    a = sample_hints(truth, 10, np.random.default_rng(3))
    assert a == sample_hints(truth, 10, np.random.default_rng(3)) and len(a) == 10
    assert all(0 <= h[0] <= 1 and 0 <= h[1] <= 1 and h[2] == pytest.approx(0.9) and h[3] == 0 for h in a)


def test_hint_corrections_spread_over_the_object_and_stop_at_its_edges():
    from restorer.colorspace import rgb_to_lab
    from restorer.stages.colorize import hints_in_pixels, spread_hint_corrections

    light = np.full((64, 96), 60.0, np.float32)
    light[:, 28:32] = 20.0  # a dark post: the left and right walls share a lightness but not an object
    ab = np.zeros((64, 96, 2), np.float32)
    red = (0.8, 0.1, 0.1)
    out = spread_hint_corrections(ab, light, hints_in_pixels(((20 / 95, 30 / 63, *red),), 64, 96))
    target = rgb_to_lab(np.array([[red]], np.float32))[0, 0, 1:]
    assert np.allclose(out[30, 20], target, rtol=0.1)  # the clicked colour where it was given
    assert out[60, 2, 0] > 0.7 * target[0]  # the whole left wall follows, even its far corner
    assert out[30, 38, 0] < 0.2 * target[0]  # same lightness just behind the post: left nearly alone
    assert np.array_equal(spread_hint_corrections(ab, light, []), ab)


class _OverReachingColorNet(torch.nn.Module):
    """Stands in for ColorNet: grey without hints, with hints the mean hint chroma over the whole photo."""

    def forward(self, light, hints):
        mask = hints[:, 2:3]
        mean = (hints[:, :2] * mask).sum((2, 3), keepdim=True) / mask.sum((2, 3), keepdim=True).clamp(min=1)
        return mean.expand(-1, -1, *light.shape[2:]) + 0 * light


class _FakeModels:
    def color_network(self):
        from restorer.models.precision import Runtime

        return _OverReachingColorNet(), Runtime("cpu", None)


def test_a_hint_cannot_make_the_network_recolour_a_separate_object_fully():
    """kodim01's failure: the network painted a red hint's colour over the whole wall. With hints the stage
    averages the passes with and without them, and spreads along objects, so the far side of an edge gets
    at most half of the network's over-reach while the clicked object takes the hint's colour."""
    from restorer.colorspace import rgb_to_lab
    from restorer.stages import StageContext
    from restorer.stages.colorize import _MODEL_CHROMA_GAIN, colorize_model

    photo = np.full((96, 128, 3), 0.55, np.float32)
    photo[:, 60:] = 0.25  # a dark object on the right, a light wall on the left
    red = (0.35, 0.1, 0.08)
    out = rgb_to_lab(colorize_model(photo, ((100 / 127, 48 / 95, *red),), 1.0, StageContext(models=_FakeModels())))
    hint_a = rgb_to_lab(np.array([[red]], np.float32))[0, 0, 1]
    assert out[48, 100, 1] > 0.8 * hint_a  # the clicked object is red
    assert out[48, 20, 1] < 0.5 * _MODEL_CHROMA_GAIN * hint_a + 1.0  # the wall gets at most half of the network's red


def _saturated_photo() -> np.ndarray:
    """Patches of strongly coloured (C* > 20) and grey pixels, float32 RGB."""
    from restorer.colorspace import lab_to_rgb

    lab = np.zeros((32, 64, 3), np.float32)
    lab[..., 0] = 55.0
    for i, hue in enumerate(np.radians([20, 100, 170, 250, 320, 60, 200, 290])):
        lab[:16, i * 8 : (i + 1) * 8, 1:] = 40 * np.cos(hue), 40 * np.sin(hue)
    return lab_to_rgb(lab)  # the bottom half stays grey: not counted


def test_the_colour_metrics_score_perfect_grey_and_rotated_results():
    from restorer.colorspace import lab_to_rgb, rgb_to_lab
    from restorer.evaluation.colorize import chroma_on_saturated, hue_hit_rate

    truth = _saturated_photo()
    assert hue_hit_rate(truth, truth) == pytest.approx(1.0)
    assert chroma_on_saturated(truth, truth) == pytest.approx(1.0, abs=0.01)
    grey = remove_colour(truth)
    assert hue_hit_rate(grey, truth) == 0.0 and chroma_on_saturated(grey, truth) < 0.02
    lab = rgb_to_lab(truth)
    a, b = lab[..., 1].copy(), lab[..., 2].copy()
    lab[..., 1], lab[..., 2] = -b, a  # every hue turned by 90 degrees, chroma kept
    rotated = lab_to_rgb(lab)
    assert hue_hit_rate(rotated, truth) == 0.0
    assert chroma_on_saturated(rotated, truth) > 0.8  # vivid, but the wrong colour: only the hit rate says so
    lab = rgb_to_lab(truth)
    lab[..., 1:] *= 0.2  # the right hues, washed out to C* 8: not "coloured"
    assert hue_hit_rate(lab_to_rgb(lab), truth) == 0.0


def test_hue_accuracy_is_not_fooled_by_more_saturation():
    """Half the pixels right, half turned by 90 degrees: making the result twice as vivid raises the hit rate
    (more pixels pass C* > 10) and the chroma, but not the share of coloured pixels whose hue is right."""
    from restorer.colorspace import lab_to_rgb, rgb_to_lab
    from restorer.evaluation.colorize import SaturatedTally

    truth = _saturated_photo()
    lab = rgb_to_lab(truth)
    half = lab.shape[1] // 2
    a, b = lab[:, half:, 1].copy(), lab[:, half:, 2].copy()
    lab[:, half:, 1], lab[:, half:, 2] = -b, a
    lab[..., 1:] *= np.tile(np.linspace(0.1, 0.6, 8, dtype=np.float32), 8)[None, :, None]  # washed out, unevenly:
    # in every patch some columns fall under C* 10, the same share in the right half as in the turned one
    faint = lab.copy()
    vivid = lab.copy()
    vivid[..., 1:] *= 2.0
    weak, strong = (SaturatedTally().add(lab_to_rgb(x), truth) for x in (faint, vivid))
    assert strong.hue_hit_rate > weak.hue_hit_rate and strong.chroma_on_saturated > weak.chroma_on_saturated
    assert strong.hue_accuracy == pytest.approx(weak.hue_accuracy, abs=0.05)
    assert SaturatedTally().add(truth, truth).hue_accuracy == pytest.approx(1.0)
    assert SaturatedTally().add(remove_colour(truth), truth).hue_accuracy is None  # nothing coloured


class _BrownColorNet(torch.nn.Module):
    """Stands in for an unsure ColorNet: the same faint brown everywhere, whatever the lightness."""

    def forward(self, light, hints):
        brown = torch.tensor([0.05, 0.1]).view(1, 2, 1, 1)
        return brown.expand(light.shape[0], -1, *light.shape[2:]) + 0 * light


class _BrownModels:
    def color_network(self):
        from restorer.models.precision import Runtime

        return _BrownColorNet(), Runtime("cpu", None)


def test_a_colour_reference_moves_the_result_towards_its_colours(tmp_path):
    """A grey landscape (bright sky, mid-grey fields) and a reference with a blue sky and green fields:
    each lightness band takes the reference's colour, instead of the network's brown."""
    from restorer.colorspace import lab_to_rgb, rgb_to_lab
    from restorer.stages import StageContext
    from restorer.stages.colorize import colorize_model

    lab = np.zeros((64, 96, 3), np.float32)
    lab[:32, :, 0], lab[32:, :, 0] = 85.0, 45.0
    grey = lab_to_rgb(lab)
    reference = lab.copy()
    reference[:32, :, 1:] = (-5.0, -35.0)  # blue sky
    reference[32:, :, 1:] = (-40.0, 35.0)  # green fields
    path = tmp_path / "seaside_1950.png"
    save_rgb(path, lab_to_rgb(reference))
    context = StageContext(models=_BrownModels())
    plain = rgb_to_lab(colorize_model(grey, (), 1.0, context))
    steered = rgb_to_lab(colorize_model(grey, (), 1.0, context, reference=str(path)))
    assert plain[10, 40, 2] > 0 and plain[50, 40, 1] > 0  # brown without a reference
    assert steered[10, 40, 2] < -20  # the sky is blue
    assert steered[50, 40, 1] < -20 and steered[50, 40, 2] > 20  # the fields are green
    assert np.abs(steered[..., 0] - plain[..., 0]).max() < 1.5  # lightness untouched


def test_a_grey_reference_is_refused_with_a_sentence(tmp_path):
    from restorer.errors import RecipeError
    from restorer.stages import StageContext
    from restorer.stages.colorize import colorize_model

    path = save_rgb(tmp_path / "also_grey.png", np.full((32, 32, 3), 0.5, np.float32))
    with pytest.raises(RecipeError, match="also_grey.png has no colour to give"):
        colorize_model(np.full((32, 32, 3), 0.5, np.float32), (), 1.0, StageContext(models=_BrownModels()),
                       reference=str(path))
