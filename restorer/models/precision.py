"""Pick the device and the arithmetic a network runs with.

bf16 autocast with channels_last is about 3.5x faster than fp32 for RRDBNet
on CPUs with AMX or AVX512-BF16, and within 0.1 dB of it (see README). CPUs
without native bf16 would emulate it slowly, so they keep fp32.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False  # not Linux: be conservative
    return "amx_bf16" in flags or "avx512_bf16" in flags


@dataclass(frozen=True)
class Runtime:
    """Where and how to run: a torch device string and an autocast dtype name (or None for fp32).

    `fused` marks networks that handle bf16 themselves with fused oneDNN kernels
    (restorer.models.archs.rrdbnet_fused); they need no autocast.
    """

    device: str
    autocast: str | None
    fused: bool = False
    engine: str = ""  # set when a network runs outside torch (e.g. "onnxruntime")

    @property
    def label(self) -> str:
        if self.engine:
            return f"{self.device} {self.engine}" + ("" if self.engine.endswith("int8") else " fp32")
        return f"{self.device} {self.autocast or 'fp32'}" + (" fused" if self.fused else "")

    def autocast_context(self):
        import torch

        if self.autocast is None or self.fused:
            return contextlib.nullcontext()
        dtype = getattr(torch, self.autocast)
        return torch.autocast(self.device.split(":")[0], dtype=dtype)


def choose_runtime(device: str = "auto", precision: str = "auto") -> Runtime:
    """Resolve "auto" device/precision for this machine."""
    import torch

    if device == "vulkan":
        device = "cpu"  # Vulkan GPUs run the enlargement through ncnn; every other network stays on torch's CPU
    if device == "auto":
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    kind = device.split(":")[0]
    if kind == "cuda" and not torch.cuda.is_available():
        from restorer.errors import ModelUnavailable

        raise ModelUnavailable("No CUDA GPU is available to torch here; choose the CPU or Automatic.")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        from restorer.errors import ModelUnavailable

        raise ModelUnavailable("No Apple GPU (MPS) is available here; choose the CPU or Automatic.")
    if precision == "fp32":
        return Runtime(device, None)
    if precision == "bf16":
        return Runtime(device, "bfloat16")
    if kind == "cuda":
        return Runtime(device, "bfloat16" if torch.cuda.is_bf16_supported() else "float16")
    if kind == "mps":
        return Runtime(device, "float16")
    return Runtime(device, "bfloat16" if cpu_has_native_bf16() else None)
