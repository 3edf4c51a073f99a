"""ScratchNet: where is a print damaged? A per-pixel scratch, crack and dust detector.

Image contract: `forward(image)` takes RGB (N, 3, H, W) in [0, 1] and returns
damage logits (N, 1, H, W); sigmoid > 0.5 proposes a pixel for inpainting.
H and W must be multiples of 8.

A small U-Net: three 2x poolings give a receptive field of about 90 px, enough
to tell a long straight scratch from a hair strand, an eyelash or a letter by
their surroundings, which a fixed morphological filter cannot.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NAME = "ScratchNet"


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True),
                         nn.Conv2d(cout, cout, 3, 1, 1), nn.LeakyReLU(0.1, inplace=True))


class ScratchNet(nn.Module):
    def __init__(self, width: int = 16) -> None:
        super().__init__()
        w = width
        self.width = width
        self.enc1, self.enc2, self.enc3 = _block(3, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.mid = _block(4 * w, 4 * w)
        self.dec3, self.dec2, self.dec1 = _block(8 * w, 2 * w), _block(4 * w, w), _block(2 * w, w)
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        e1 = self.enc1(image)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        m = self.mid(F.max_pool2d(e3, 2))
        d3 = self.dec3(torch.cat((up(m), e3), 1))
        d2 = self.dec2(torch.cat((up(d3), e2), 1))
        return self.out(self.dec1(torch.cat((up(d2), e1), 1)))


def detect(state: dict[str, torch.Tensor]) -> bool:
    return "enc1.0.weight" in state and "out.weight" in state and state["out.weight"].shape[0] == 1


def from_state_dict(state: dict[str, torch.Tensor]) -> ScratchNet:
    net = ScratchNet(int(state["enc1.0.weight"].shape[0]))
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return net.eval()
