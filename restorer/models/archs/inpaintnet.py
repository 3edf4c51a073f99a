"""InpaintNet: fill holes from their surroundings, with a global receptive field.

Image contract: `forward(image, mask)` takes RGB (N, 3, H, W) in [0, 1] and the
hole mask (N, 1, H, W), 1 where pixels are missing (their values are ignored);
it returns the full RGB prediction (N, 3, H, W) in [0, 1]. Callers keep only
the hole pixels. H and W must be multiples of 4.

Shape: two strided convolutions down to 1/4 resolution, a body of
fast-Fourier-convolution blocks (LaMa, Suvorov et al. 2022, simplified), and a
decoder with skip connections so the fill meets the edge of the hole without
a step. Each block mixes a local 3x3 branch with a spectral branch: a 1x1
convolution on the 2-D Fourier transform sees the whole crop at once, which is
what lets a large hole take its texture and shading from far away, and it
works at any crop size.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NAME = "InpaintNet"


class FourierUnit(nn.Module):
    """1x1 convolution applied to the real and imaginary parts of rfft2(x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2 * channels, 2 * channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        # FFTs have no bf16 kernels: the spectral branch always runs in float32.
        with torch.autocast(x.device.type, enabled=False):
            spectrum = torch.fft.rfft2(x.float(), norm="ortho")
            mixed = F.relu(self.conv(torch.cat((spectrum.real, spectrum.imag), 1)))
            real, imag = mixed.chunk(2, dim=1)
            out = torch.fft.irfft2(torch.complex(real, imag), s=(h, w), norm="ortho")
        return out.to(x.dtype)


class FFCBlock(nn.Module):
    """Residual block: local 3x3 and global Fourier branches, fused by a 1x1 convolution."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.local = nn.Conv2d(channels, channels, 3, 1, 1)
        self.spectral = FourierUnit(channels)
        self.fuse = nn.Conv2d(2 * channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mixed = torch.cat((F.leaky_relu(self.local(x), 0.2), self.spectral(x)), 1)
        return x + self.fuse(mixed)


class InpaintNet(nn.Module):
    def __init__(self, width: int = 32, blocks: int = 6) -> None:
        super().__init__()
        w = width
        self.width, self.blocks = width, blocks
        self.head = nn.Conv2d(4, w, 5, 1, 2)
        self.down1 = nn.Conv2d(w, 2 * w, 3, 2, 1)
        self.down2 = nn.Conv2d(2 * w, 4 * w, 3, 2, 1)
        self.body = nn.Sequential(*(FFCBlock(4 * w) for _ in range(blocks)))
        self.up2 = nn.Conv2d(4 * w + 2 * w, 2 * w, 3, 1, 1)
        self.up1 = nn.Conv2d(2 * w + w, w, 3, 1, 1)
        self.tail = nn.Conv2d(w, 3, 3, 1, 1)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        known = image * (1 - mask)
        act = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        e0 = act(self.head(torch.cat((known, mask), 1)))
        e1 = act(self.down1(e0))
        body = self.body(act(self.down2(e1)))
        d1 = act(self.up2(torch.cat((F.interpolate(body, scale_factor=2, mode="nearest"), e1), 1)))
        d0 = act(self.up1(torch.cat((F.interpolate(d1, scale_factor=2, mode="nearest"), e0), 1)))
        # Predict a change from the known image (holes start at 0), so unmasked areas are easy.
        return (known + self.tail(d0)).clamp(0, 1)


def detect(state: dict[str, torch.Tensor]) -> bool:
    return "head.weight" in state and "body.0.spectral.conv.weight" in state


def from_state_dict(state: dict[str, torch.Tensor]) -> InpaintNet:
    width = int(state["head.weight"].shape[0])
    blocks = len({k.split(".")[1] for k in state if k.startswith("body.")})
    net = InpaintNet(width, blocks)
    net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return net.eval()
