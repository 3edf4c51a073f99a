"""An enlargement reports progress inside a tile and stops within one convolution when cancelled."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorer import pipeline
from restorer.errors import Cancelled
from restorer.events import Progress
from restorer.imaging import Photo
from restorer.models.archs.rrdbnet import RRDBNet
from restorer.models.precision import Runtime
from restorer.recipe import Recipe
from restorer.stages import StageContext
from restorer.tiling import run_tiled

from .conftest import gradient_photo


class _Models:
    """A stand-in ModelManager serving a small random RRDBNet (the real one is 23 blocks)."""

    def __init__(self, net) -> None:
        self.net = net

    def sr_network(self, alpha, precision="auto", pixels=None):
        return self.net, Runtime("cpu", None)


def _counting_net(blocks: int = 2):
    net = RRDBNet(4, blocks=blocks).eval()
    calls = {"convs": 0}
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(lambda *_: calls.__setitem__("convs", calls["convs"] + 1))
    return net, calls


def test_progress_is_reported_many_times_inside_a_single_tile():
    net, _ = _counting_net()
    steps = run_tiled(net, gradient_photo(40, 32), scale=4, runtime=Runtime("cpu", None))
    fractions = []
    while True:
        try:
            fractions.append(next(steps))
        except StopIteration as done:
            out = done.value
            break
    assert out.shape == (128, 160, 3)
    assert len(fractions) >= net.step_count()  # 2 blocks: 33 reports for one tile, not one
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_cancel_inside_a_single_tile_stops_within_one_convolution():
    net, calls = _counting_net(blocks=4)
    total_convs = 1 + 4 * 15 + 5  # conv_first, the trunk, conv_body and the tail
    recipe = Recipe().with_enabled({"upscale"}).with_settings("upscale", faces=False)
    token = pipeline.CancelToken()
    seen = 0
    with pytest.raises(Cancelled):
        for event in pipeline.run(recipe, Photo(gradient_photo(40, 32)), cancel=token,
                                  context=StageContext(models=_Models(net))):
            if isinstance(event, Progress):
                seen += 1
                if seen == 10:
                    token.cancel()  # what the Cancel button does, mid-tile
    # The network stopped one convolution after the cancel, most of the tile never ran.
    assert calls["convs"] <= 12 and calls["convs"] < total_convs / 4


def test_the_stepped_forward_matches_the_plain_one():
    net, _ = _counting_net(blocks=2)
    x = torch.rand(1, 3, 12, 10)
    steps = net.forward_steps(x)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            stepped = done.value
            break
    with torch.no_grad():
        assert torch.allclose(stepped, net(x))
