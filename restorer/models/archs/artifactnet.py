"""ArtifactNet: JPEG-and-noise removal conditioned on a per-pixel strength map.

Image contract: `forward(x, strength)` takes RGB float (N, 3, H, W) in [0, 1]
and a strength map (N, 1, H, W) in [0, 1] (0 = clean, 1 = JPEG quality ~5 or
noise sigma ~50), and returns the restored RGB (N, 3, H, W). H and W must be
even (callers pad).

Design, after FFDNet (Zhang et al. 2018) and FBCNN (Jiang et al. 2021): the
image and the map are folded to half resolution with pixel-unshuffle, so a
body of 3x3 convolutions sees a wide neighbourhood (an 8x8 JPEG block and its
neighbours) at a quarter of the cost; the network predicts a residual.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NAME = "ArtifactNet"


class ResidualBlock(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, 1, 1)
        self.conv2 = nn.Conv2d(features, features, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x), inplace=True))


class ArtifactNet(nn.Module):
    def __init__(self, features: int = 64, blocks: int = 10) -> None:
        super().__init__()
        self.features = features
        self.blocks = blocks
        self.head = nn.Conv2d(4 * 4, features, 3, 1, 1)  # (RGB + strength) x 2x2 unshuffle
        self.body = nn.Sequential(*(ResidualBlock(features) for _ in range(blocks)))
        self.tail = nn.Conv2d(features, 3 * 4, 3, 1, 1)
        # Start as the identity: the residual is zero until training finds what to remove.
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
        folded = F.pixel_unshuffle(torch.cat((x, strength), 1), 2)
        residual = F.pixel_shuffle(self.tail(self.body(F.relu(self.head(folded), inplace=True))), 2)
        return x + residual


class WithStrength(nn.Module):
    """Adapt ArtifactNet to the one-input tile runner: a constant strength, odd sizes padded."""

    scale = 1

    def __init__(self, net: ArtifactNet, strength: float) -> None:
        super().__init__()
        self.net = net
        self.strength = float(strength)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        pad_h, pad_w = h % 2, w % 2
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        strength = torch.full_like(x[:, :1], self.strength)
        return self.net(x, strength)[..., :h, :w]


def detect(state: dict[str, torch.Tensor]) -> bool:
    return "head.weight" in state and "tail.weight" in state and state["head.weight"].shape[1] == 16


def from_state_dict(state: dict[str, torch.Tensor]) -> ArtifactNet:
    features = int(state["head.weight"].shape[0])
    blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("body."))
    net = ArtifactNet(features, blocks)
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return net.eval()
