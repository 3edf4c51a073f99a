"""FastSR: a compact x4 network distilled from the faithful <-> sharp pair, with the slider as an input.

Image contract: `forward(x, alpha)` takes RGB (N, 3, H, W) in [0, 1] and a
float `alpha` in [0, 1] (0 faithful, 1 sharp), and returns RGB
(N, 3, 4H, 4W), not clamped. Any H and W.

A plain stack of 3x3 convolutions at the input's resolution (as in
Real-ESRGAN's SRVGGNetCompact), ending in a pixel shuffle, plus a bicubic
enlargement of the input, so the network learns only the detail bicubic
lacks. The last convolution starts at zero: an untrained student is exactly
bicubic, and training moves it from there towards the teacher. The slider
enters as FiLM: after every convolution each channel is scaled by
(1 + a + b*alpha) and shifted by (c + d*alpha), per channel and layer.
Being affine in alpha, this folds into the convolution's own weights for a
given alpha (`for_alpha`), so at run time the student costs no more than an
unconditioned network of its size: the bundled one (48 channels, 9 convolutions) costs about 1/95 of
RRDBNet's multiply-adds.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NAME = "FastSR"


class AlphaFiLM(nn.Module):
    """Per-channel scale and shift, each affine in alpha; starts as the identity."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(2, channels))  # rows: at alpha 0, slope in alpha
        self.shift = nn.Parameter(torch.zeros(2, channels))

    def coefficients(self, alpha: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(scale, shift) of shape (N, C) for alphas (N,)."""
        a = alpha.reshape(-1, 1)
        return 1 + self.scale[0] + a * self.scale[1], self.shift[0] + a * self.shift[1]


class FastSR(nn.Module):
    def __init__(self, channels: int = 48, layers: int = 12, scale: int = 4) -> None:
        super().__init__()
        self.channels, self.layers, self.scale = channels, layers, scale
        self.convs = nn.ModuleList([nn.Conv2d(3, channels, 3, 1, 1)] +
                                   [nn.Conv2d(channels, channels, 3, 1, 1) for _ in range(layers)])
        self.films = nn.ModuleList([AlphaFiLM(channels) for _ in self.convs])
        self.acts = nn.ModuleList([nn.PReLU(channels) for _ in self.convs])
        self.tail = nn.Conv2d(channels, 3 * scale * scale, 3, 1, 1)
        self.tail_film = AlphaFiLM(3 * scale * scale)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
        alpha = torch.as_tensor(alpha, dtype=x.dtype, device=x.device).reshape(-1).expand(x.shape[0])
        h = x
        for conv, film, act in zip(self.convs, self.films, self.acts):
            scale, shift = film.coefficients(alpha)
            h = act(conv(h) * scale[:, :, None, None] + shift[:, :, None, None])
        scale, shift = self.tail_film.coefficients(alpha)
        detail = self.tail(h) * scale[:, :, None, None] + shift[:, :, None, None]
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return F.pixel_shuffle(detail, self.scale) + base

    @torch.no_grad()
    def for_alpha(self, alpha: float) -> "FastSRFixed":
        """A plain network for one alpha: FiLM folded into each convolution's weights and bias."""
        a = torch.tensor([float(alpha)])
        fixed = FastSRFixed(self.channels, self.layers, self.scale)
        for source, target, film, act, target_act in zip(self.convs, fixed.convs, self.films, self.acts, fixed.acts):
            _fold(source, film, a, target)
            target_act.weight.copy_(act.weight)
        _fold(self.tail, self.tail_film, a, fixed.tail)
        fixed.alpha = float(alpha)
        return fixed.eval()


def widened(narrow: FastSR, channels: int, *, seed: int = 0) -> FastSR:
    """A FastSR `channels` wide that computes exactly what `narrow` does (Net2Net-style growth).

    The narrow network's weights fill the first channels. Each added channel reads every channel through
    small random weights (so the added channels differ from one another and learn), but nothing reads it
    yet: its weights into the old channels and into the tail are zero, its FiLM is the identity. Training
    then grows detail in the new channels from where the narrow student already stands.
    """
    if channels < narrow.channels:
        raise ValueError(f"cannot narrow FastSR from {narrow.channels} to {channels} channels")
    wide = FastSR(channels, narrow.layers, narrow.scale)
    old = narrow.channels
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for source, target in zip(narrow.convs, wide.convs):
            fan_in = target.weight[0].numel()
            target.weight.copy_(torch.randn(target.weight.shape, generator=generator) * 0.1 / fan_in ** 0.5)
            target.weight[:old].zero_()
            target.weight[:old, : source.weight.shape[1]] = source.weight
            target.bias.zero_()
            target.bias[:old] = source.bias
        for source, target in zip(narrow.films, wide.films):
            for name in ("scale", "shift"):
                getattr(target, name).zero_()
                getattr(target, name)[:, :old] = getattr(source, name)
        for source, target in zip(narrow.acts, wide.acts):
            target.weight[:old] = source.weight
        wide.tail.weight.zero_()
        wide.tail.weight[:, :old] = narrow.tail.weight
        wide.tail.bias.copy_(narrow.tail.bias)
        wide.tail_film.load_state_dict(narrow.tail_film.state_dict())
    return wide


def deepened(shallow: FastSR, layers: int) -> FastSR:
    """A FastSR with `layers` hidden convolutions that computes exactly what `shallow` does.

    The added convolutions go last, before the tail, each the identity: its kernel's centre tap is 1
    from a channel to itself, its PReLU's slope 1 on both sides, its FiLM the identity. Every weight
    of such a layer still has a gradient (the identity breaks the symmetry that zeros would keep), so
    training starts from the shallow student's output and grows into the added depth: a wider view of
    the photo and more non-linearity.
    """
    if layers < shallow.layers:
        raise ValueError(f"cannot make FastSR shallower ({shallow.layers} -> {layers} layers)")
    deep = FastSR(shallow.channels, layers, shallow.scale)
    # Every part the shallow student has keeps its name in the deep one (convs.0 ... and the tail), so its
    # state loads as it is; only the added layers are missing from it (their FiLM starts as the identity).
    added = len(shallow.convs)
    deep.load_state_dict(shallow.state_dict(), strict=False)
    with torch.no_grad():
        for conv, act in zip(deep.convs[added:], deep.acts[added:]):
            conv.weight.zero_()
            conv.bias.zero_()
            conv.weight[:, :, 1, 1] = torch.eye(shallow.channels)
            act.weight.fill_(1.0)  # PReLU with slope 1 on both sides: the identity
    return deep


def _fold(conv: nn.Conv2d, film: AlphaFiLM, alpha: torch.Tensor, target: nn.Conv2d) -> None:
    scale, shift = film.coefficients(alpha)
    target.weight.copy_(conv.weight * scale[0][:, None, None, None])
    target.bias.copy_(conv.bias * scale[0] + shift[0])


class FastSRFixed(nn.Module):
    """FastSR at one alpha (see FastSR.for_alpha): same image contract, `forward(x)`."""

    def __init__(self, channels: int, layers: int, scale: int) -> None:
        super().__init__()
        self.scale, self.alpha = scale, 0.0
        self.convs = nn.ModuleList([nn.Conv2d(3, channels, 3, 1, 1)] +
                                   [nn.Conv2d(channels, channels, 3, 1, 1) for _ in range(layers)])
        self.acts = nn.ModuleList([nn.PReLU(channels) for _ in self.convs])
        self.tail = nn.Conv2d(channels, 3 * scale * scale, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for conv, act in zip(self.convs, self.acts):
            h = act(conv(h))
        base = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return F.pixel_shuffle(self.tail(h), self.scale) + base


def detect(state: dict[str, torch.Tensor]) -> bool:
    return "convs.0.weight" in state and "tail_film.scale" in state


def from_state_dict(state: dict[str, torch.Tensor]) -> FastSR:
    channels = int(state["convs.0.weight"].shape[0])
    layers = sum(1 for k in state if k.startswith("convs.") and k.endswith(".weight")) - 1
    scale = int(round((state["tail.weight"].shape[0] // 3) ** 0.5))
    net = FastSR(channels, layers, scale)
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return net.eval()
