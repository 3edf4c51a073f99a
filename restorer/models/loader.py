"""Load a user's checkpoint file into one of our architectures, safely.

`.pth`/`.pt`/`.ckpt` files are read with `torch.load(weights_only=True)`, which
refuses pickled code; `.safetensors` files never contain code. Architectures
are an explicit ordered list, each with `detect` and `from_state_dict`.
"""

from __future__ import annotations

from pathlib import Path

from restorer.errors import ModelFormatError
from restorer.models.archs import rrdbnet
from restorer.models.keys import to_modern_rrdbnet, unwrap

ARCHITECTURES = (rrdbnet,)


def read_state_dict(path: Path) -> dict:
    """Tensors of a checkpoint file, unwrapped and translated to our key layouts."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelFormatError(f"{path} does not exist.")
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            raw = load_file(str(path))
        else:
            raw = torch.load(str(path), map_location="cpu", weights_only=True)
    except ModelFormatError:
        raise
    except Exception as exc:  # torch and safetensors raise many kinds for bad files
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ModelFormatError(f"{path.name} is not a checkpoint Restorer can read safely ({reason}).") from None
    return to_modern_rrdbnet(unwrap(raw, path.name))


def load_network(path: Path):
    """(architecture name, network in eval mode) for a checkpoint file."""
    state = read_state_dict(path)
    for arch in ARCHITECTURES:
        if arch.detect(state):
            try:
                return arch.NAME, arch.from_state_dict(state)
            except (RuntimeError, ValueError, KeyError) as exc:
                reason = str(exc).splitlines()[0][:200]
                raise ModelFormatError(f"{Path(path).name} looks like an {arch.NAME} but does not fit it ({reason}).") from None
    sample = ", ".join(sorted(state)[:3])
    names = ", ".join(a.NAME for a in ARCHITECTURES)
    raise ModelFormatError(
        f"{Path(path).name} is not a supported architecture (expected {names}; its first keys are {sample})."
    )
