"""Edge-aware spreading of colour-hint corrections (after Levin et al. 2004, "Colorization using Optimization").

A user's click says "this pixel is this colour". ColorNet sees the click, but
only follows it nearby; this module carries the click's *correction* (hint
colour minus predicted colour there) over the object the user clicked, and
stops where the object ends. The correction field c (H, W, 2) minimises

    sum_hints kappa |c_p - d_p|^2  +  lam sum_p |c_p|^2  +  sum_{p~q} a_pq |c_p - c_q|^2

where d_p is the hint's correction, a_pq = exp(-(L_p - L_q)^2 / 2 sigma^2)
couples 4-neighbours of similar lightness (an edge in L* cuts the coupling)
and lam sets how far a correction reaches across uniform areas before it
fades (about 1 / sqrt(lam) pixels). Unlike a Gaussian in distance, the
correction cannot jump over an edge to a different object of similar
lightness a few pixels away (a red life ring does not tint the white fence
behind it), yet it runs along the whole of an object, however long.

The system is symmetric positive definite; it is solved by conjugate
gradients with a Jacobi preconditioner, coarse to fine (each level starts
from the coarser level's answer), at half the working resolution. numpy only.
"""

from __future__ import annotations

import cv2
import numpy as np

_HINT_WEIGHT = 10.0  # kappa: a hint pixel is held ~10x more firmly than its neighbours pull it
_HINT_RADIUS = 1  # each hint constrains a 3x3 patch at the solve resolution
_TOLERANCE = 1e-4  # relative residual at which a level's conjugate gradients stop
_MAX_ITERATIONS = 300  # per level; coarse levels do the long-range work
_COARSEST_SIDE = 24


def _couplings(light: np.ndarray, edge_sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal (h, w-1) and vertical (h-1, w) neighbour couplings from L*."""
    scale = -1.0 / (2.0 * edge_sigma**2)
    return (np.exp(np.square(np.diff(light, axis=1)) * scale),
            np.exp(np.square(np.diff(light, axis=0)) * scale))


def _solve_level(light: np.ndarray, points: list[tuple[int, int]], values: np.ndarray, reach_px: float,
                 edge_sigma: float, start: np.ndarray) -> np.ndarray:
    """Conjugate gradients for one resolution; `points` are (column, row) at this level."""
    h, w = light.shape
    along_x, along_y = _couplings(light, edge_sigma)
    held = np.zeros((h, w))
    target = np.zeros((h, w, values.shape[1]))
    for (cx, cy), value in zip(points, values):
        rows = slice(max(0, cy - _HINT_RADIUS), cy + _HINT_RADIUS + 1)
        cols = slice(max(0, cx - _HINT_RADIUS), cx + _HINT_RADIUS + 1)
        held[rows, cols] = _HINT_WEIGHT
        target[rows, cols] = value
    own = held + 1.0 / reach_px**2

    def apply(c: np.ndarray) -> np.ndarray:
        out = own[..., None] * c
        flow_x = along_x[..., None] * np.diff(c, axis=1)
        flow_y = along_y[..., None] * np.diff(c, axis=0)
        out[:, 1:] += flow_x
        out[:, :-1] -= flow_x
        out[1:] += flow_y
        out[:-1] -= flow_y
        return out

    diagonal = own.copy()
    diagonal[:, 1:] += along_x
    diagonal[:, :-1] += along_x
    diagonal[1:] += along_y
    diagonal[:-1] += along_y
    inverse_diagonal = (1.0 / diagonal)[..., None]

    rhs = held[..., None] * target
    stop = _TOLERANCE * max(float(np.sqrt(np.sum(rhs * rhs))), 1e-12)
    x = start.astype(np.float64)
    residual = rhs - apply(x)
    z = residual * inverse_diagonal
    direction = z.copy()
    rz = float(np.sum(residual * z))
    for _ in range(_MAX_ITERATIONS):
        if np.sqrt(np.sum(residual * residual)) < stop:
            break
        pushed = apply(direction)
        step = rz / float(np.sum(direction * pushed))
        x += step * direction
        residual -= step * pushed
        z = residual * inverse_diagonal
        rz_next = float(np.sum(residual * z))
        direction = z + (rz_next / rz) * direction
        rz = rz_next
    return x


def spread_corrections(light: np.ndarray, points: list[tuple[int, int]], values: np.ndarray, *,
                       reach: float, edge_sigma: float) -> np.ndarray:
    """The correction field (H, W, K) float32 that carries `values` from `points` along objects.

    `light` (H, W) is L* in 0..100; `points` are (column, row) pixel positions in it; `values` (N, K)
    the corrections there. `reach` is how far a correction runs across a uniform area, as a fraction
    of the short side; `edge_sigma` the lightness step (L* units) that counts as an object's edge.
    """
    h, w = light.shape
    values = np.asarray(values, np.float64).reshape(len(points), -1)
    if not points:
        return np.zeros((h, w, values.shape[1]), np.float32)
    light = light.astype(np.float32)
    # The pyramid: half the working resolution at the finest (chroma needs no more), halving
    # down to a couple of dozen pixels, where the long-range spreading converges in a few steps.
    sizes = []
    side_h, side_w = max(1, h // 2), max(1, w // 2)
    while True:
        sizes.append((side_h, side_w))
        if min(side_h, side_w) <= _COARSEST_SIDE:
            break
        side_h, side_w = max(1, side_h // 2), max(1, side_w // 2)
    field = np.zeros(sizes[-1] + (values.shape[1],))
    for side_h, side_w in reversed(sizes):
        level_light = cv2.resize(light, (side_w, side_h), interpolation=cv2.INTER_AREA)
        if field.shape[:2] != (side_h, side_w):
            field = cv2.resize(field, (side_w, side_h), interpolation=cv2.INTER_LINEAR).reshape(side_h, side_w, -1)
        level_points = [(min(side_w - 1, int(cx * side_w / w)), min(side_h - 1, int(cy * side_h / h)))
                        for cx, cy in points]
        field = _solve_level(level_light.astype(np.float64), level_points, values,
                             reach * min(side_h, side_w), edge_sigma, field)
    return cv2.resize(field.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, -1)
