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


SMALL_HYPER = {"scale": 4, "features": 16, "blocks": 2, "growth": 8}  # body.0 stays float, body.1 goes int8


def random_state(seed: int, trunk_gain: float = 1.0, hyper: dict = SMALL_HYPER) -> dict:
    """A random RRDBNet state dict; `trunk_gain` > 1 makes the dense blocks loud enough for their rounding to
    show at the output (at default init the 0.2 residual scales hide them behind conv_first)."""
    from restorer.models.archs.rrdbnet import RRDBNet

    torch.manual_seed(seed)
    return {k: v.detach().float() * (trunk_gain if k.startswith("body.") and k.endswith("weight") else 1.0)
            for k, v in RRDBNet(**hyper).state_dict().items()}


def snr(got: torch.Tensor, expected: torch.Tensor) -> float:
    """Signal-to-error ratio in dB: random test networks' outputs are not confined to [0, 1]."""
    return 10 * float(torch.log10(expected.var() / torch.mean((got - expected) ** 2)))


def peaks_table(tmp_path, states: dict, hyper: dict = SMALL_HYPER) -> dict:
    """A per-channel calibration table of `states` ({alpha: state dict}) on smooth photos, written and read back."""
    from restorer.engines import int8_scales
    from restorer.models.archs.rrdbnet import RRDBNet

    tables = []
    for alpha, state in sorted(states.items()):
        net = RRDBNet(**hyper).eval()
        net.load_state_dict(state)
        tables.append(int8_scales.calibrate_peaks(net, [smooth_photo(s) for s in range(4)]))
    path = tmp_path / "peaks.npz"
    int8_scales.save_table(path, sorted(states), tables, {"test": True})
    return int8_scales.load_table(path)
