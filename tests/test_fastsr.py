"""FastSR, the fast mode's student: conditioned on the slider, close to its teacher at both ends."""

from pathlib import Path

import numpy as np
import pytest
import torch

from restorer.models.archs.fastsr import FastSR
from restorer.models.manager import ModelManager

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "astronaut_faded.jpg"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2)))


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor[0].permute(1, 2, 0).numpy()


def test_folding_the_slider_into_the_weights_changes_nothing():
    torch.manual_seed(0)
    net = FastSR(channels=8, layers=2).eval()
    for film in list(net.films) + [net.tail_film]:  # FiLM starts as the identity; give it something to fold
        torch.nn.init.normal_(film.scale, std=0.2)
        torch.nn.init.normal_(film.shift, std=0.2)
    torch.nn.init.normal_(net.tail.weight, std=0.1)  # the tail starts at zero, which would hide any error
    x = torch.rand(1, 3, 12, 10)
    with torch.no_grad():
        for alpha in (0.0, 0.3, 1.0):
            assert torch.allclose(net(x, alpha), net.for_alpha(alpha)(x), atol=1e-5)


@pytest.fixture(scope="module")
def crop() -> torch.Tensor:
    from restorer.imaging import read_photo

    pixels = read_photo(EXAMPLE).float_pixels()
    h, w = pixels.shape[:2]
    patch = np.ascontiguousarray(pixels[h // 4 - 20: h // 4 + 60, w // 2 - 40: w // 2 + 40])  # the face
    return torch.from_numpy(patch).permute(2, 0, 1)[None].float()


def test_the_bundled_student_follows_the_slider_and_stays_near_the_teacher_at_both_ends(crop):
    manager = ModelManager()
    outputs, teachers = {}, {}
    inner = np.s_[32:-32, 32:-32]  # where the teacher saw the photo, not its zero padding
    with torch.no_grad():
        for alpha in (0.0, 1.0):
            student, _ = manager.fast_sr_network(alpha)
            outputs[alpha] = to_numpy(student(crop))[inner]
            teacher, _ = manager.sr_network(alpha, precision="fp32")
            teachers[alpha] = to_numpy(teacher(crop))[inner]
    bicubic = to_numpy(torch.nn.functional.interpolate(crop, scale_factor=4, mode="bicubic",
                                                       align_corners=False))[inner]
    # the slider is an input: the two ends differ a good part of what the teacher's ends differ
    assert np.abs(outputs[0.0] - outputs[1.0]).mean() > 0.25 * np.abs(teachers[0.0] - teachers[1.0]).mean()
    # each end is nearer its teacher than plain bicubic enlargement is
    for alpha in (0.0, 1.0):
        assert psnr(outputs[alpha], teachers[alpha]) > psnr(bicubic, teachers[alpha]) + 0.3
    # and moving the slider moves the student towards that end's teacher
    assert psnr(outputs[0.0], teachers[0.0]) > psnr(outputs[1.0], teachers[0.0])
    assert psnr(outputs[1.0], teachers[1.0]) > psnr(outputs[0.0], teachers[1.0])


def _trained_looking_student(seed: int) -> FastSR:
    """A small FastSR whose FiLM and tail are not at their identity start, as a trained one's are not
    (so growing it must carry every part over to keep its function)."""
    torch.manual_seed(seed)
    student = FastSR(channels=6, layers=2).eval()
    for film in list(student.films) + [student.tail_film]:
        torch.nn.init.normal_(film.scale, std=0.2)
        torch.nn.init.normal_(film.shift, std=0.2)
    torch.nn.init.normal_(student.tail.weight, std=0.1)
    return student


def test_a_widened_student_computes_what_the_narrow_one_did_and_can_learn_more():
    from restorer.models.archs.fastsr import widened

    narrow = _trained_looking_student(seed=2)
    wide = widened(narrow, 10).eval()
    assert wide.channels == 10
    x = torch.rand(2, 3, 9, 11)
    with torch.no_grad():
        for alpha in (0.0, 0.6, 1.0):
            assert torch.allclose(wide(x, alpha), narrow(x, alpha), atol=1e-6)
    # the added channels are alive: they respond to the input, and the tail's gradient reaches them
    wide.train()
    loss = wide(x, 0.5).square().mean()
    loss.backward()
    assert wide.tail.weight.grad[:, 6:].abs().sum() > 0
    assert not torch.allclose(wide.convs[1].weight[6:], torch.zeros_like(wide.convs[1].weight[6:]))


def test_a_deepened_student_computes_what_the_shallow_one_did_and_its_new_layers_learn():
    from restorer.models.archs.fastsr import deepened

    shallow = _trained_looking_student(seed=3)
    for act in shallow.acts:  # negative slopes, so a wrong identity (a plain ReLU, say) would show
        torch.nn.init.uniform_(act.weight, -0.3, 0.3)
    deep = deepened(shallow, 4).eval()
    assert deep.layers == 4 and len(deep.convs) == 5
    x = torch.rand(2, 3, 9, 11) - 0.3
    with torch.no_grad():
        for alpha in (0.0, 0.6, 1.0):
            assert torch.allclose(deep(x, alpha), shallow(x, alpha), atol=1e-5)
            # and as the app runs it, FiLM folded in
            assert torch.allclose(deep.for_alpha(alpha)(x), shallow(x, alpha), atol=1e-5)
    deep.train()
    deep(x, 0.5).square().mean().backward()
    added = deep.convs[4].weight.grad
    assert added.abs().sum() > 0 and added[:, :, 0, 0].abs().sum() > 0  # off-centre taps learn too
