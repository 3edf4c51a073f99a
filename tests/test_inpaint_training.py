"""The inpainting training loss: what it rewards and where."""

import torch

from restorer.training.train_inpaint import hole_loss


def _pair():
    truth = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(2, 1, 16, 16)
    mask[..., 4:12, 4:12] = 1.0
    return truth, mask


def test_hole_loss_is_zero_for_a_perfect_fill():
    truth, mask = _pair()
    assert float(hole_loss(truth, truth, mask, mse=5.0)) == 0.0


def test_hole_loss_weighs_errors_in_the_hole_far_above_errors_outside():
    truth, mask = _pair()
    inside = truth + 0.1 * mask
    outside = truth + 0.1 * (1 - mask)
    assert float(hole_loss(inside, truth, mask)) > 5 * float(hole_loss(outside, truth, mask))


def test_squared_error_term_adds_only_for_errors_in_the_hole():
    truth, mask = _pair()
    inside = truth + 0.2 * mask
    outside = truth + 0.2 * (1 - mask)
    extra = float(hole_loss(inside, truth, mask, mse=5.0)) - float(hole_loss(inside, truth, mask))
    hole_fraction = float(mask.sum() * 3) / (float(mask.sum() * 3) + 1.0)
    assert abs(extra - 5.0 * 0.04 * hole_fraction) < 1e-4
    assert float(hole_loss(outside, truth, mask, mse=5.0)) == float(hole_loss(outside, truth, mask))
