"""ColorNet: chroma from lightness, steered by sparse user hints.

Image contract: `forward(light, hints)` takes L (N, 1, H, W) scaled to [0, 1]
(L* / 100) and hints (N, 3, H, W): a* and b* / 110 where the user clicked,
zeros elsewhere, plus a hint mask channel (1 where a hint is). It returns
predicted a*, b* / 110 in (N, 2, H, W), within [-1, 1]. H and W must be
multiples of 16.

A small U-Net (as in Zhang et al. 2017, "Real-Time User-Guided Image
Colorization"): hints enter at full resolution next to L, so one click can
spread along an object through the encoder's wide receptive field.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NAME = "ColorNet"


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, 1, 1), nn.ReLU(inplace=True))


class ColorNet(nn.Module):
    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.width = width
        w = width
        self.enc1 = _block(4, w)
        self.enc2 = _block(w, 2 * w)
        self.enc3 = _block(2 * w, 4 * w)
        self.enc4 = _block(4 * w, 8 * w)
        # Dilated middle: global context (sky above, grass below) at little cost.
        self.mid = nn.Sequential(*(m for d in (2, 4, 8) for m in (nn.Conv2d(8 * w, 8 * w, 3, 1, d, dilation=d),
                                                                   nn.ReLU(inplace=True))))
        self.dec3 = _block(8 * w + 4 * w, 4 * w)
        self.dec2 = _block(4 * w + 2 * w, 2 * w)
        self.dec1 = _block(2 * w + w, w)
        self.out = nn.Conv2d(w, 2, 1)

    def forward(self, light: torch.Tensor, hints: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(torch.cat((light, hints), 1))
        e2 = self.enc2(F.max_pool2d(e1, 2))
        e3 = self.enc3(F.max_pool2d(e2, 2))
        m = self.mid(self.enc4(F.max_pool2d(e3, 2)))
        d3 = self.dec3(torch.cat((F.interpolate(m, scale_factor=2, mode="nearest"), e3), 1))
        d2 = self.dec2(torch.cat((F.interpolate(d3, scale_factor=2, mode="nearest"), e2), 1))
        d1 = self.dec1(torch.cat((F.interpolate(d2, scale_factor=2, mode="nearest"), e1), 1))
        return torch.tanh(self.out(d1))


def detect(state: dict[str, torch.Tensor]) -> bool:
    return "enc1.0.weight" in state and "out.weight" in state and state["out.weight"].shape[0] == 2


def from_state_dict(state: dict[str, torch.Tensor]) -> ColorNet:
    net = ColorNet(int(state["enc1.0.weight"].shape[0]))
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return net.eval()
