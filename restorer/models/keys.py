"""Translate the key layouts of published checkpoints into our modern layout.

Layouts seen in the wild for RRDBNet:
- modern (BasicSR / Real-ESRGAN): conv_first, body.N.rdbK.convM, conv_body, conv_up1, ...
- BasicSR before 2020: conv_first, RRDB_trunk.N.RDBK.convM, trunk_conv, upconv1, upconv2, HRconv, conv_last
- original ESRGAN: model.0, model.1.sub.N.RDBK.convM.0, model.1.sub.23, model.3, model.6, model.8, model.10
Wrappers: BasicSR saves {"params_ema": ..., "params": ...}; others {"state_dict": ...};
DataParallel adds "module.".
"""

from __future__ import annotations

import re

from restorer.errors import ModelFormatError

_WRAPPERS = ("params_ema", "params", "state_dict", "model_state_dict", "generator", "netG")


def unwrap(checkpoint: object, source: str) -> dict:
    """The tensor dict inside a loaded checkpoint; prefers EMA weights."""
    if not isinstance(checkpoint, dict):
        raise ModelFormatError(f"{source} does not hold a state dict (it holds a {type(checkpoint).__name__}).")
    for key in _WRAPPERS:
        inner = checkpoint.get(key)
        if isinstance(inner, dict) and inner and all(hasattr(v, "shape") for v in inner.values()):
            checkpoint = inner
            break
    tensors = {k: v for k, v in checkpoint.items() if hasattr(v, "shape")}
    if not tensors:
        raise ModelFormatError(f"{source} holds no tensors.")
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors


_OLD_ESRGAN = re.compile(r"^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$")
_OLD_BASICSR = re.compile(r"^RRDB_trunk\.(\d+)\.RDB(\d)\.conv(\d)\.(weight|bias)$")
_OLD_ESRGAN_FIXED = {"model.0": "conv_first", "model.3": "conv_up1", "model.6": "conv_up2",
                     "model.8": "conv_hr", "model.10": "conv_last"}
_OLD_BASICSR_FIXED = {"conv_first": "conv_first", "trunk_conv": "conv_body", "upconv1": "conv_up1",
                      "upconv2": "conv_up2", "HRconv": "conv_hr", "conv_last": "conv_last"}


def to_modern_rrdbnet(state: dict) -> dict:
    """Return `state` in the modern RRDBNet layout (unchanged if already modern)."""
    if "conv_first.weight" in state and any(k.startswith("body.") for k in state):
        return state
    if "model.0.weight" in state:
        blocks = [int(m.group(1)) for k in state if (m := _OLD_ESRGAN.match(k))]
        if not blocks:
            raise ModelFormatError("This old-style ESRGAN checkpoint has no RRDB blocks (model.1.sub.N.RDBk...).")
        trunk = max(blocks) + 1  # the trunk conv sits right after the last block
        fixed = dict(_OLD_ESRGAN_FIXED, **{f"model.1.sub.{trunk}": "conv_body"})
        out = {}
        for key, value in state.items():
            if m := _OLD_ESRGAN.match(key):
                out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = value
                continue
            prefix, _, kind = key.rpartition(".")
            if prefix not in fixed:
                raise ModelFormatError(
                    f"This old-style ESRGAN checkpoint has an unexpected key {key!r}; only x4 RRDBNet models are supported."
                )
            out[f"{fixed[prefix]}.{kind}"] = value
        return out
    if any(k.startswith("RRDB_trunk.") for k in state):
        out = {}
        for key, value in state.items():
            if m := _OLD_BASICSR.match(key):
                out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = value
                continue
            prefix, _, kind = key.rpartition(".")
            if prefix not in _OLD_BASICSR_FIXED:
                raise ModelFormatError(f"This BasicSR RRDBNet checkpoint has an unexpected key {key!r}.")
            out[f"{_OLD_BASICSR_FIXED[prefix]}.{kind}"] = value
        return out
    return state
