"""Geometric self-ensemble: the eight flips and rotations of a network's input, and their inverses.

A super-resolution network is not exactly equivariant to flips and 90-degree
rotations, so its eight answers for the transformed inputs (each transformed
back) differ slightly; their mean has lower error than any one of them (Lim et
al. 2017, "EDSR+"; Timofte et al. 2016). `restorer.tiling.run_tiled` runs the
passes one after another, tile by tile, so memory stays that of one pass plus
one float32 accumulator and a cancel is seen between passes.
"""

from __future__ import annotations

import torch

# (quarter turns, mirror first) for the eight symmetries of the square; the first is the identity.
DIHEDRAL = tuple((turns, mirror) for mirror in (False, True) for turns in range(4))
IDENTITY = DIHEDRAL[:1]


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
