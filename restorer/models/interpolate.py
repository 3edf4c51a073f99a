"""Network interpolation: theta(alpha) = (1 - alpha) * theta_A + alpha * theta_B.

ESRGAN (Wang et al. 2018, sec. 3.4) showed that blending the parameters of a
PSNR-oriented and a GAN-trained network of one architecture, sharing a
starting point, slides smoothly between faithful and sharp results.
"""

from __future__ import annotations

from restorer.errors import ModelFormatError


def check_compatible(a: dict, b: dict, names: tuple[str, str] = ("first", "second")) -> None:
    """Raise ModelFormatError unless `a` and `b` have the same keys and shapes."""
    missing = sorted(set(a) ^ set(b))
    if missing:
        side = names[0] if missing[0] in a else names[1]
        raise ModelFormatError(
            f"The {names[0]} and {names[1]} networks cannot be blended: only the {side} has {missing[0]!r} "
            f"({len(missing)} keys differ)."
        )
    for key in a:
        if tuple(a[key].shape) != tuple(b[key].shape):
            raise ModelFormatError(
                f"The {names[0]} and {names[1]} networks cannot be blended: {key!r} is "
                f"{tuple(a[key].shape)} in one and {tuple(b[key].shape)} in the other."
            )


def blend_into(target: dict, a: dict, b: dict, alpha: float) -> None:
    """Write the blend of `a` and `b` into the tensors of `target` (in place, no allocation)."""
    import torch

    with torch.no_grad():
        for key, out in target.items():
            torch.lerp(a[key], b[key], float(alpha), out=out)


def blend(a: dict, b: dict, alpha: float) -> dict:
    """A new state dict between `a` (alpha 0) and `b` (alpha 1)."""
    check_compatible(a, b)
    target = {k: v.detach().float().clone() for k, v in a.items()}
    blend_into(target, {k: v.float() for k, v in a.items()}, {k: v.float() for k, v in b.items()}, alpha)
    return target
