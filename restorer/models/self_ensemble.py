"""Geometric self-ensemble: average a network over the eight flips and rotations of its input.

A super-resolution network is not exactly equivariant to flips and 90-degree
rotations, so its eight answers for the transformed inputs (each transformed
back) differ slightly; their mean has lower error than any one of them (Lim et
al. 2017, "EDSR+"; Timofte et al. 2016). It costs eight passes and is the
"best quality" option for an unattended batch. The passes run one after
another, so memory stays that of one pass plus one float32 accumulator.
"""

from __future__ import annotations

import torch

# (quarter turns, mirror first) for the eight symmetries of the square.
DIHEDRAL = tuple((turns, mirror) for mirror in (False, True) for turns in range(4))


def transform(x: torch.Tensor, turns: int, mirror: bool) -> torch.Tensor:
    """Mirror (left-right) then rotate an NCHW tensor by `turns` quarter turns."""
    if mirror:
        x = torch.flip(x, dims=(3,))
    return torch.rot90(x, turns, dims=(2, 3)) if turns else x


def untransform(y: torch.Tensor, turns: int, mirror: bool) -> torch.Tensor:
    """The inverse of `transform`: rotate back, then mirror back."""
    if turns:
        y = torch.rot90(y, -turns, dims=(2, 3))
    return torch.flip(y, dims=(3,)) if mirror else y


class SelfEnsemble(torch.nn.Module):
    """Wraps an image network (N, C, h, w) -> (N, C', h*s, w*s); same contract, eight passes averaged.

    The mean is accumulated in float32 whatever precision the network computes in.
    `scale` is forwarded so the wrapper can stand wherever the network stood.
    """

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net
        self.scale = getattr(net, "scale", 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        total = None
        for turns, mirror in DIHEDRAL:
            # The transformed view is a strided copy: give the network the memory layout it was tuned for.
            view = transform(x, turns, mirror).contiguous(memory_format=torch.channels_last)
            y = untransform(self.net(view), turns, mirror).float()
            total = y if total is None else total.add_(y)
        return total.div_(len(DIHEDRAL))
