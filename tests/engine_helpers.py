"""Inputs shared by the engine tests (tests/test_int8.py, tests/test_openvino_int8.py)."""

from __future__ import annotations

import torch


def smooth_photo(seed: int, side: int = 24) -> torch.Tensor:
    """(1, 3, side, side) in [0, 1]: smooth colour gradients with a little texture, what calibration and the
    checks run on."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(0, 1, side), torch.linspace(0, 1, side), indexing="ij")
    base = torch.stack([0.5 + 0.4 * torch.sin(6 * x + 2 * y + seed), 0.5 + 0.3 * torch.cos(5 * y), 0.3 + 0.5 * x * y])
    return (base + 0.03 * torch.randn(base.shape, generator=g)).clamp(0, 1)[None]
