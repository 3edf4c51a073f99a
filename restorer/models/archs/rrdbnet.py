"""RRDBNet: the ESRGAN / Real-ESRGAN generator, written for Restorer.

Image contract: `forward` takes RGB float (N, 3, H, W) in [0, 1] and returns
(N, 3, H*scale, W*scale), unclamped. Scale 2 and 1 networks fold the input
with pixel-unshuffle first, as Real-ESRGAN's x2 model does, so that the body
always runs at a quarter (or a sixteenth) of the output resolution.

Two key layouts exist in the wild; this module owns the modern one
(`conv_first`, `body.N.rdbK.convM`, `conv_body`, `conv_up1`, ...). The old
ESRGAN layout (`model.0`, `model.1.sub.N.RDBK.convM.0`, ...) is translated by
`restorer.models.keys`.
"""

from __future__ import annotations

import contextlib
import re

import torch
from torch import nn
from torch.nn import functional as F

NAME = "RRDBNet"

# 0.2 residual scaling keeps the 23-block trunk stable (ESRGAN, sec. 3.2).
_RESIDUAL_SCALE = 0.2


class DenseBlock(nn.Module):
    """Five 3x3 convolutions, each seeing every earlier feature map."""

    def __init__(self, features: int = 64, growth: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, growth, 3, 1, 1)
        self.conv2 = nn.Conv2d(features + growth, growth, 3, 1, 1)
        self.conv3 = nn.Conv2d(features + 2 * growth, growth, 3, 1, 1)
        self.conv4 = nn.Conv2d(features + 3 * growth, growth, 3, 1, 1)
        self.conv5 = nn.Conv2d(features + 4 * growth, features, 3, 1, 1)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _run(self.forward_steps(x))

    def forward_steps(self, x: torch.Tensor, context=None):
        """`forward` as a generator that yields once after each convolution (5 steps)."""
        context = context or contextlib.nullcontext
        feats = [x]
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            with context():
                feats.append(self.act(conv(torch.cat(feats, 1))))
            yield
        with context():
            out = x + _RESIDUAL_SCALE * self.conv5(torch.cat(feats, 1))
        yield
        return out


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks and a scaled skip."""

    def __init__(self, features: int = 64, growth: int = 32) -> None:
        super().__init__()
        self.rdb1 = DenseBlock(features, growth)
        self.rdb2 = DenseBlock(features, growth)
        self.rdb3 = DenseBlock(features, growth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + _RESIDUAL_SCALE * self.rdb3(self.rdb2(self.rdb1(x)))

    def forward_steps(self, x: torch.Tensor, context=None):
        """`forward` as a generator: 15 steps, one per convolution."""
        out = x
        for rdb in (self.rdb1, self.rdb2, self.rdb3):
            out = yield from rdb.forward_steps(out, context)
        return x + _RESIDUAL_SCALE * out


class RRDBNet(nn.Module):
    """The generator. `scale` is 1, 2 or 4; `blocks` is 23 for x4plus."""

    def __init__(self, scale: int = 4, features: int = 64, blocks: int = 23, growth: int = 32) -> None:
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError(f"RRDBNet supports scale 1, 2 or 4, not {scale}")
        self.scale = scale
        self.features = features
        self.blocks = blocks
        self.growth = growth
        unshuffle = {4: 1, 2: 2, 1: 4}[scale]
        self._unshuffle = unshuffle
        self.conv_first = nn.Conv2d(3 * unshuffle * unshuffle, features, 3, 1, 1)
        self.body = nn.Sequential(*(RRDB(features, growth) for _ in range(blocks)))
        self.conv_body = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_hr = nn.Conv2d(features, features, 3, 1, 1)
        self.conv_last = nn.Conv2d(features, 3, 3, 1, 1)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._unshuffle > 1:
            x = F.pixel_unshuffle(x, self._unshuffle)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        feat = self.act(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = self.act(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(self.act(self.conv_hr(feat)))

    def step_count(self) -> int:
        """How many times `forward_steps` yields: one per convolution of the trunk, and the tail's."""
        return self.blocks * 15 + 3

    def forward_steps(self, x: torch.Tensor, context=None):
        """`forward` as a generator yielding the fraction done after each convolution of the trunk
        (345 steps in x4plus) and of the tail; returns the output. A caller checks for Cancel at each
        step, so a cancelled enlargement stops within one convolution, not one tile. `context` is
        entered around each piece of work (autocast), never while the generator is suspended."""
        context = context or contextlib.nullcontext
        total, done = self.step_count(), 0
        with context():
            if self._unshuffle > 1:
                x = F.pixel_unshuffle(x, self._unshuffle)
            feat = self.conv_first(x)
        trunk = feat
        for block in self.body:
            steps = block.forward_steps(trunk, context)
            while True:
                try:
                    next(steps)
                except StopIteration as finished:
                    trunk = finished.value
                    break
                done += 1
                yield done / total
        with context():
            feat = feat + self.conv_body(trunk)
            feat = self.act(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        done += 1
        yield done / total
        with context():
            feat = self.act(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        done += 1
        yield done / total
        with context():
            out = self.conv_last(self.act(self.conv_hr(feat)))
        done += 1
        yield done / total
        return out


def _run(steps):
    """Run a step generator to its end and return its value."""
    while True:
        try:
            next(steps)
        except StopIteration as finished:
            return finished.value


# --- detection and loading (modern key layout) -------------------------------------

_BLOCK_KEY = re.compile(r"^body\.(\d+)\.rdb1\.conv1\.weight$")


def detect(state: dict[str, torch.Tensor]) -> bool:
    """True when `state` holds an RRDBNet in the modern key layout."""
    return all(k in state for k in ("conv_first.weight", "conv_body.weight", "conv_last.weight")) and any(
        _BLOCK_KEY.match(k) for k in state
    )


def hyperparameters(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """Read scale, features, blocks and growth off the tensor shapes."""
    first = state["conv_first.weight"]
    features = int(first.shape[0])
    in_channels = int(first.shape[1])
    scale = {3: 4, 12: 2, 48: 1}.get(in_channels)
    if scale is None:
        raise ValueError(f"conv_first takes {in_channels} channels; expected 3, 12 or 48")
    blocks = 1 + max(int(m.group(1)) for k in state if (m := _BLOCK_KEY.match(k)))
    growth = int(state["body.0.rdb1.conv1.weight"].shape[0])
    return {"scale": scale, "features": features, "blocks": blocks, "growth": growth}


def from_state_dict(state: dict[str, torch.Tensor]) -> RRDBNet:
    """Build an RRDBNet shaped like `state` and load it strictly (fp32)."""
    net = RRDBNet(**hyperparameters(state))
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return net.eval()
