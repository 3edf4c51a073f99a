"""RetinaFace with a MobileNet-0.25 backbone: faces and five landmarks (Deng et al. 2019).

Image contract: `forward(x)` takes BGR (N, 3, H, W) float32 with the channel
means (104, 117, 123) subtracted, 0..255 scale, any size; it returns, per
prior box, (box offsets (N, P, 4), class scores (N, P, 2) after softmax,
landmark offsets (N, P, 10)); `priors(h, w)` and `decode` turn them into
boxes and landmarks in pixels. The layout matches the published
mobilenet0.25_Final.pth (MIT, biubug6), so its state dict loads strictly.

A light MobileNet-V1 at a quarter width, a three-level feature pyramid
(strides 8, 16, 32), a context module (SSH) per level, and 1x1 heads with
two anchor sizes per level ((10, 20), (32, 64), (128, 256) pixels).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

MEANS_BGR = (104.0, 117.0, 123.0)
# The anchors of the bundled checkpoint (Face-Detector-1MB-with-landmark's cfg_mnet, trained at 300 px),
# not Pytorch_Retinaface's ((16, 32), (64, 128), (256, 512)): with those, every box came out ~1.6x too big.
MIN_SIZES = ((10, 20), (32, 64), (128, 256))
STEPS = (8, 16, 32)
VARIANCE = (0.1, 0.2)


def _conv_bn(cin: int, cout: int, stride: int = 1, leaky: float | None = 0.1, kernel: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    if leaky is not None:
        layers.append(nn.LeakyReLU(leaky, inplace=True))
    return nn.Sequential(*layers)


def _conv_dw(cin: int, cout: int, stride: int) -> nn.Sequential:
    """Depthwise 3x3 then pointwise 1x1, each with batch norm and a leaky ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                         nn.LeakyReLU(0.1, inplace=True), nn.Conv2d(cin, cout, 1, 1, 0, bias=False),
                         nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True))


class _MobileNet025(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(_conv_bn(3, 8, 2), _conv_dw(8, 16, 1), _conv_dw(16, 32, 2), _conv_dw(32, 32, 1),
                                    _conv_dw(32, 64, 2), _conv_dw(64, 64, 1))
        self.stage2 = nn.Sequential(_conv_dw(64, 128, 2), *(_conv_dw(128, 128, 1) for _ in range(5)))
        self.stage3 = nn.Sequential(_conv_dw(128, 256, 2), _conv_dw(256, 256, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c1 = self.stage1(x)
        c2 = self.stage2(c1)
        return c1, c2, self.stage3(c2)


class _FPN(nn.Module):
    def __init__(self, channels: tuple[int, int, int] = (64, 128, 256), out: int = 64) -> None:
        super().__init__()
        self.output1 = _conv_bn(channels[0], out, kernel=1)
        self.output2 = _conv_bn(channels[1], out, kernel=1)
        self.output3 = _conv_bn(channels[2], out, kernel=1)
        self.merge1 = _conv_bn(out, out)
        self.merge2 = _conv_bn(out, out)

    def forward(self, feats):
        o1, o2, o3 = self.output1(feats[0]), self.output2(feats[1]), self.output3(feats[2])
        o2 = self.merge2(o2 + F.interpolate(o3, size=o2.shape[2:], mode="nearest"))
        o1 = self.merge1(o1 + F.interpolate(o2, size=o1.shape[2:], mode="nearest"))
        return o1, o2, o3


class _SSH(nn.Module):
    """Context module: 3x3, 5x5 and 7x7 receptive fields (as stacked 3x3s), concatenated."""

    def __init__(self, cin: int = 64, out: int = 64) -> None:
        super().__init__()
        self.conv3X3 = _conv_bn(cin, out // 2, leaky=None)
        self.conv5X5_1 = _conv_bn(cin, out // 4)
        self.conv5X5_2 = _conv_bn(out // 4, out // 4, leaky=None)
        self.conv7X7_2 = _conv_bn(out // 4, out // 4)
        self.conv7x7_3 = _conv_bn(out // 4, out // 4, leaky=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c5 = self.conv5X5_1(x)
        c7 = self.conv7X7_2(c5)
        return F.relu(torch.cat([self.conv3X3(x), self.conv5X5_2(c5), self.conv7x7_3(c7)], 1))


class _Head(nn.Module):
    def __init__(self, out: int, cin: int = 64) -> None:
        super().__init__()
        self.conv1x1 = nn.Conv2d(cin, out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1x1(x).permute(0, 2, 3, 1)


class RetinaFace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = _MobileNet025()
        self.fpn = _FPN()
        self.ssh1, self.ssh2, self.ssh3 = _SSH(), _SSH(), _SSH()
        self.ClassHead = nn.ModuleList(_Head(2 * 2) for _ in range(3))
        self.BboxHead = nn.ModuleList(_Head(2 * 4) for _ in range(3))
        self.LandmarkHead = nn.ModuleList(_Head(2 * 10) for _ in range(3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        levels = self.fpn(self.body(x))
        feats = (self.ssh1(levels[0]), self.ssh2(levels[1]), self.ssh3(levels[2]))
        n = x.shape[0]
        boxes = torch.cat([h(f).reshape(n, -1, 4) for h, f in zip(self.BboxHead, feats)], 1)
        scores = torch.cat([h(f).reshape(n, -1, 2) for h, f in zip(self.ClassHead, feats)], 1)
        marks = torch.cat([h(f).reshape(n, -1, 10) for h, f in zip(self.LandmarkHead, feats)], 1)
        return boxes, F.softmax(scores, dim=-1), marks


def priors(height: int, width: int) -> torch.Tensor:
    """(P, 4) anchor boxes (cx, cy, w, h), relative to the image, in the heads' order."""
    out = []
    for step, sizes in zip(STEPS, MIN_SIZES):
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        for i in range(rows):
            for j in range(cols):
                for size in sizes:
                    out.append(((j + 0.5) * step / width, (i + 0.5) * step / height, size / width, size / height))
    return torch.tensor(out, dtype=torch.float32)


def decode(loc: torch.Tensor, marks: torch.Tensor, anchors: torch.Tensor, height: int, width: int):
    """(boxes (P, 4) x0, y0, x1, y1 in pixels, landmarks (P, 5, 2) in pixels) from one image's offsets."""
    centres = anchors[:, :2] + loc[:, :2] * VARIANCE[0] * anchors[:, 2:]
    sizes = anchors[:, 2:] * torch.exp(loc[:, 2:] * VARIANCE[1])
    boxes = torch.cat([centres - sizes / 2, centres + sizes / 2], 1) * torch.tensor([width, height, width, height])
    points = anchors[:, None, :2] + marks.reshape(-1, 5, 2) * VARIANCE[0] * anchors[:, None, 2:]
    return boxes, points * torch.tensor([width, height])


def from_state_dict(state: dict[str, torch.Tensor]) -> RetinaFace:
    net = RetinaFace()
    net.load_state_dict({k.removeprefix("module."): v.float() if v.is_floating_point() else v
                         for k, v in state.items()}, strict=True)
    return net.eval()
