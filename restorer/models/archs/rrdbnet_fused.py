"""FusedRRDBNet: RRDBNet inference for CPUs with native bf16 (AMX / AVX512-BF16).

Same image contract as RRDBNet. Autocast leaves three kinds of waste that
matter on a two-core CPU: every call re-casts 16.7 M fp32 weights to bf16,
every LeakyReLU is a separate pass over memory, and every residual add is
another. Here the weights are cast once (call `refresh()` after changing the
wrapped network's weights, e.g. a new PSNR-GAN blend), and oneDNN fuses the
activation and the residual add into the convolution itself
(`mkldnn::_convolution_pointwise`, the op PyTorch's compiler emits for CPU).
The dense blocks' 0.2 residual scale is folded into their last convolution.
"""

from __future__ import annotations

import functools

import torch
from torch import nn
from torch.nn import functional as F

from restorer.models.archs.rrdbnet import RRDBNet

_ONE = [1, 1]


def available() -> bool:
    """True when this torch build has the fused oneDNN convolution op and this CPU computes bf16 natively.

    oneDNN refuses bf16 convolutions on CPUs with neither AVX512-BF16/AVX512BW nor AVX-NE-CONVERT
    (an AVX2-only laptop, say), so the fused path must not be offered there. On AVX-512 without
    AVX512-BF16 (Cascade Lake, say) it emulates bf16: measured on such a 2-core Xeon, x4plus ran at
    1.41 kpx/s against 3.01 for fp32 channels-last, and a small test network came out 40 dB from fp32,
    under the 45 dB an engine must reach. So it is offered only with AMX or AVX512-BF16 (or
    AVX-NE-CONVERT, an AVX2 laptop's bf16).
    """
    return (torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_convolution_pointwise")
            and torch.ops.mkldnn._is_mkldnn_bf16_supported() and native_bf16())


@functools.lru_cache(maxsize=None)
def native_bf16() -> bool:
    """Whether the CPU has bf16 arithmetic of its own (AMX, AVX512-BF16, AVX-NE-CONVERT), not emulated."""
    probes = (getattr(torch.cpu, "_is_amx_tile_supported", None), getattr(torch.cpu, "_is_avx512_bf16_supported", None))
    if any(probe is not None and probe() for probe in probes):
        return True
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            return "avx_ne_convert" in info.read()
    except OSError:
        return False


class FusedRRDBNet(nn.Module):
    def __init__(self, net: RRDBNet) -> None:
        super().__init__()
        self.net = net
        self.scale = net.scale
        self._weights: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.refresh()

    @torch.no_grad()
    def refresh(self) -> None:
        """Re-read the wrapped network's weights (after a blend) into bf16 copies."""
        weights = {}
        for name, module in self.net.named_modules():
            if isinstance(module, nn.Conv2d):
                w, b = module.weight.detach().float(), module.bias.detach().float()
                if name.endswith("conv5"):  # x + 0.2 * conv5(...) -> x + conv5'(...)
                    w, b = w * 0.2, b * 0.2
                weights[name] = (w.to(torch.bfloat16).contiguous(), b.to(torch.bfloat16))
        self._weights = weights

    def _conv(self, name: str, x: torch.Tensor, act: bool = True) -> torch.Tensor:
        w, b = self._weights[name]
        if act:
            return torch.ops.mkldnn._convolution_pointwise(x, w, b, _ONE, _ONE, _ONE, 1, "leaky_relu", [0.2], "")
        return torch.ops.mkldnn._convolution_pointwise(x, w, b, _ONE, _ONE, _ONE, 1, "none", [], "")

    def _conv_add(self, name: str, x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        """other + conv(x), in one pass."""
        w, b = self._weights[name]
        return torch.ops.mkldnn._convolution_pointwise.binary(x, other, w, b, _ONE, _ONE, _ONE, 1, "add",
                                                               None, None, [], None)

    def _dense_block(self, prefix: str, x: torch.Tensor) -> torch.Tensor:
        x1 = self._conv(f"{prefix}.conv1", x)
        x2 = self._conv(f"{prefix}.conv2", torch.cat((x, x1), 1))
        x3 = self._conv(f"{prefix}.conv3", torch.cat((x, x1, x2), 1))
        x4 = self._conv(f"{prefix}.conv4", torch.cat((x, x1, x2, x3), 1))
        return self._conv_add(f"{prefix}.conv5", torch.cat((x, x1, x2, x3, x4), 1), x)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = self.forward_steps(x)
        while True:
            try:
                next(steps)
            except StopIteration as finished:
                return finished.value

    def step_count(self) -> int:
        return self.net.blocks * 3 + 3

    def forward_steps(self, x: torch.Tensor, context=None):
        """`forward` as a generator yielding the fraction done after each dense block and tail stage
        (72 steps in x4plus), so Cancel is seen within one dense block. `context` is unused: the
        weights are bf16 already."""
        total, done = self.step_count(), 0
        with torch.no_grad():
            # .contiguous() first: views with unusual strides (e.g. of an HWC array) run 2x slower in oneDNN.
            x = x.contiguous().to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
            if self.net._unshuffle > 1:
                x = F.pixel_unshuffle(x, self.net._unshuffle).contiguous(memory_format=torch.channels_last)
            feat = self._conv("conv_first", x, act=False)
        trunk = feat
        for i in range(self.net.blocks):
            inner = trunk
            for k in (1, 2, 3):
                with torch.no_grad():
                    inner = self._dense_block(f"body.{i}.rdb{k}", inner)
                done += 1
                yield done / total
            trunk = torch.add(trunk, inner, alpha=0.2)
        with torch.no_grad():
            feat = self._conv_add("conv_body", trunk, feat)
            feat = self._conv("conv_up1", F.interpolate(feat, scale_factor=2, mode="nearest"))
        done += 1
        yield done / total
        with torch.no_grad():
            feat = self._conv("conv_up2", F.interpolate(feat, scale_factor=2, mode="nearest"))
        done += 1
        yield done / total
        with torch.no_grad():
            out = self._conv("conv_last", self._conv("conv_hr", feat), act=False).float()
        done += 1
        yield done / total
        return out
