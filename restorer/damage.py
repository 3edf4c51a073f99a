"""Synthetic damage masks, shaped like what old prints suffer.

Image contract: every function takes a numpy Generator and the mask's height
and width and returns bool (H, W), True on damage. The evaluation draws its
seeded scratches and blobs from here; training draws from `training_mask`,
which mixes all kinds so one network learns thin lines and large holes.
"""

from __future__ import annotations

import cv2
import numpy as np


def scratch_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """3-8 gently curving strokes, 1-6 px wide, about 100-240 px long."""
    mask = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        start = rng.uniform((0, 0), (width, height))
        heading = rng.uniform(0, 2 * np.pi)
        points = [start]
        for _ in range(int(rng.integers(8, 20))):
            heading += rng.normal(0, 0.15)  # gently curving, like a real scratch
            points.append(points[-1] + 12 * np.array([np.cos(heading), np.sin(heading)]))
        cv2.polylines(mask, [np.round(np.array(points)).astype(np.int32)], False, 1, int(rng.integers(1, 7)))
    return mask > 0


def blob_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Random ellipses (half-axes 8 px to 1/8 of the side) until 5-15 % of the area is covered."""
    return _ellipses(rng, height, width, coverage=(0.05, 0.15), smallest=8, side_fraction=8)


def _ellipses(rng: np.random.Generator, height: int, width: int, *, coverage: tuple[float, float], smallest: int,
              side_fraction: int) -> np.ndarray:
    """Ellipses with half-axes from `smallest` to 1/`side_fraction` of the side, up to a random coverage."""
    mask = np.zeros((height, width), np.uint8)
    target = rng.uniform(*coverage)
    while mask.mean() < target:
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(smallest, max(smallest + 1, width // side_fraction))),
                int(rng.integers(smallest, max(smallest + 1, height // side_fraction))))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask > 0


def crack_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Jagged, branching 1-3 px lines, as in cracked emulsion."""
    mask = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        tips = [(rng.uniform((0, 0), (width, height)), rng.uniform(0, 2 * np.pi))]
        for _ in range(int(rng.integers(2, 6))):
            point, heading = tips[int(rng.integers(len(tips)))]
            points = [point]
            for _ in range(int(rng.integers(4, 12))):
                heading += rng.normal(0, 0.6)  # cracks zig-zag
                points.append(points[-1] + rng.uniform(3, 10) * np.array([np.cos(heading), np.sin(heading)]))
            cv2.polylines(mask, [np.round(np.array(points)).astype(np.int32)], False, 1, int(rng.integers(1, 4)))
            tips.append((points[-1], heading + rng.normal(0, 1.0)))
    return mask > 0


def speck_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Dust: 5-60 small irregular dots, 1-5 px across."""
    mask = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(5, 61))):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask > 0


def dust_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Dust and lint settled on a print or its negative: 10-150 specks 1-4 px across, a fifth of
    them short fibres (3-12 px, bent), and now and then a clump of specks run together."""
    mask = np.zeros((height, width), np.uint8)
    for _ in range(int(rng.integers(10, 151))):
        centre = np.array([rng.integers(0, width), rng.integers(0, height)], dtype=np.float64)
        if rng.random() < 0.2:  # a fibre: two short strokes at a slight angle
            heading = float(rng.uniform(0, 2 * np.pi))
            points = [centre]
            for _ in range(2):
                heading += float(rng.normal(0, 0.5))
                points.append(points[-1] + rng.uniform(2, 6) * np.array([np.cos(heading), np.sin(heading)]))
            cv2.polylines(mask, [np.round(np.array(points)).astype(np.int32)], False, 1, 1)
        elif rng.random() < 0.06:  # a clump
            for _ in range(int(rng.integers(3, 8))):
                offset = rng.normal(0, 2.5, 2)
                cv2.circle(mask, tuple(np.round(centre + offset).astype(int)), int(rng.integers(1, 3)), 1, -1)
        else:
            axes = (int(rng.integers(0, 2)), int(rng.integers(0, 2)))
            cv2.ellipse(mask, tuple(centre.astype(int)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask > 0


def torn_corner_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A ragged-edged piece missing from one corner, up to a third of each side."""
    corner = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])[int(rng.integers(4))]
    reach = rng.uniform(0.1, 0.33) * np.array([width, height])
    inward = np.where(corner > 0, -1, 1)
    a = corner + inward * np.array([reach[0], 0])
    b = corner + inward * np.array([0, reach[1]])
    edge = [a + (b - a) * t + rng.normal(0, 0.03 * reach.mean(), 2) for t in np.linspace(0, 1, 12)]
    polygon = np.round(np.array([corner, *edge])).astype(np.int32)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [polygon], 1)
    return mask > 0


def _line_across(rng: np.random.Generator, height: int, width: int, *, spread: float):
    """(centre, unit direction, unit normal, angle) of a random straight line through the crop.

    The centre lies within `spread` of the crop's size from its middle, so a line drawn one long
    side each way from it leaves the crop on two sides.
    """
    angle = float(rng.uniform(0, np.pi))
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    size = np.array([width, height])
    return size / 2 + rng.uniform(-spread, spread, 2) * size, direction, normal, angle


def fold_crack_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A crack where the print was folded: edge to edge, nearly straight, 1-4 px, jagged up close.

    Folds run across the whole print, so the line enters and leaves the crop; the emulsion
    breaks along it in small zig-zags, sometimes as two close parallel lines, with short
    flakes off its side.
    """
    mask = np.zeros((height, width), np.uint8)
    side = max(height, width)
    centre, direction, normal, angle = _line_across(rng, height, width, spread=0.4)
    steps = np.linspace(-side, side, int(2 * side / 3))
    wobble = np.cumsum(rng.normal(0, 0.35, steps.size))  # slow drift plus fine jitter
    wobble = wobble - np.linspace(wobble[0], wobble[-1], steps.size) + rng.normal(0, 0.6, steps.size)
    thickness = int(rng.integers(1, 5))
    for offset in (0.0,) if rng.random() < 0.7 else (0.0, float(rng.uniform(3, 8))):
        points = centre + steps[:, None] * direction + (wobble + offset)[:, None] * normal
        cv2.polylines(mask, [np.round(points).astype(np.int32)], False, 1, thickness)
    for _ in range(int(rng.integers(0, 5))):  # flakes: short branches off the line
        t = rng.uniform(-0.5, 0.5) * side
        start = centre + t * direction
        heading = angle + rng.choice([-1, 1]) * rng.uniform(0.4, 1.2)
        end = start + rng.uniform(4, 18) * np.array([np.cos(heading), np.sin(heading)])
        cv2.line(mask, tuple(np.round(start).astype(int)), tuple(np.round(end).astype(int)), 1, 1)
    return mask > 0


def tear_band_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A tear across the print: a band of bare paper 4-30 px wide with ragged edges, edge to edge."""
    side = max(height, width)
    centre, direction, normal, _ = _line_across(rng, height, width, spread=0.35)
    steps = np.linspace(-side, side, int(side / 2))
    half = float(rng.uniform(2, 15))
    # Each edge wanders on its own: torn paper is ragged at every scale.
    edges = [np.cumsum(rng.normal(0, 0.8, steps.size)) + rng.normal(0, 0.8, steps.size) for _ in range(2)]
    edges = [e - e.mean() for e in edges]
    width_along = half * (1 + 0.5 * np.sin(np.linspace(0, rng.uniform(1, 6), steps.size) + rng.uniform(0, 6)))
    left = centre + steps[:, None] * direction + (width_along + edges[0])[:, None] * normal
    right = centre + steps[:, None] * direction - (width_along + edges[1])[:, None] * normal
    polygon = np.round(np.concatenate([left, right[::-1]])).astype(np.int32)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [polygon], 1)
    return mask > 0


def small_blob_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Blobs scaled to a training crop: half-axes 3 px to a fifth of the side, 3-25 % of the area."""
    return _ellipses(rng, height, width, coverage=(0.03, 0.25), smallest=3, side_fraction=5)


_TRAINING_KINDS = ((scratch_mask, 0.25), (crack_mask, 0.15), (speck_mask, 0.1), (small_blob_mask, 0.35),
                   (torn_corner_mask, 0.15))


def training_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One or two kinds of damage mixed, never an empty mask."""
    kinds, weights = zip(*_TRAINING_KINDS)
    mask = np.zeros((height, width), bool)
    for _ in range(1 if rng.random() < 0.6 else 2):
        mask |= kinds[int(rng.choice(len(kinds), p=weights))](rng, height, width)
    if not mask.any():
        mask[height // 2, width // 2] = True
    return mask
