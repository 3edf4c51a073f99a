"""Model id -> loaded network on the chosen device, cached.

The super-resolution pair is held once in memory (both endpoints as fp32
tensors); moving the PSNR-GAN slider only re-blends those tensors into the
live network's parameters, which takes a few tens of milliseconds instead of
a reload.
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

from restorer.errors import ModelUnavailable
from restorer.models.catalog import CATALOG
from restorer.models.precision import Runtime, choose_runtime
from restorer.models.store import sha256_of
from restorer.paths import bundled_weights_dir



def bundled_weights(model_id: str) -> Path:
    """Path of a bundled weights file, verified against its catalog SHA-256."""
    entry = CATALOG[model_id]
    path = bundled_weights_dir() / entry.filename
    if not path.is_file():
        raise ModelUnavailable(f"The {entry.title} weights ({entry.filename}) are missing from {path.parent}; reinstall Restorer.")
    if entry.sha256 and sha256_of(path) != entry.sha256:
        raise ModelUnavailable(f"{entry.filename} is damaged (its SHA-256 does not match the catalog); reinstall Restorer.")
    return path


class ModelManager:
    """Loads and caches networks. Thread-safe; one instance per device."""

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self._lock = threading.Lock()
        self._sr_endpoints: tuple[dict, dict] | None = None
        self._sr_net = None
        self._sr_alpha: float | None = None
        self._sr_runtime: Runtime | None = None
        self._sr_base = None  # fp32 network the blend is written into; _sr_net may wrap it
        # engine name -> [network, alpha it holds] for ONNX Runtime, OpenVINO or ncnn. Two may live at once:
        # OpenVINO int8 for whole photos and the fast-loading engine for small views (see sr_network).
        self._sr_others: dict[str, list] = {}
        self._fast = None
        self._fast_fixed: dict = {}
        self._custom: dict[Path, object] = {}
        self._bundled: dict[str, tuple] = {}  # model id -> (network, runtime)

    def sr_endpoints(self) -> tuple[dict, dict]:
        """(PSNR state, GAN state) as fp32 CPU tensors, checked to be blendable."""
        with self._lock:
            if self._sr_endpoints is None:
                from safetensors.torch import load_file

                from restorer.models.interpolate import check_compatible
                from restorer.models.packaged import realesrgan_x4plus_state

                gan = {k: v.float() for k, v in realesrgan_x4plus_state().items()}
                psnr = {k: v.float() for k, v in load_file(str(bundled_weights("restorer-x4-psnr"))).items()}
                check_compatible(psnr, gan, ("PSNR", "GAN"))
                self._sr_endpoints = (psnr, gan)
            return self._sr_endpoints

    def sr_engine(self, precision: str = "auto") -> str:
        """The engine the enlargement runs on: measured once per machine for "auto" (restorer.engines.select)."""
        if self.device == "vulkan":
            from restorer.engines.ncnn_engine import available, vulkan_devices

            if not available()[0] or vulkan_devices() == 0:
                raise ModelUnavailable("No Vulkan GPU was found (ncnn sees none); choose the CPU or another device.")
            return "ncnn-vulkan"
        runtime = choose_runtime(self.device, "fp32")
        if precision == "fp32":
            return "torch-fp32-cl" if runtime.device == "cpu" else f"torch-{runtime.device.split(':')[0]}"
        if precision == "bf16":
            return "torch-bf16"
        if precision == "int8":
            from restorer.engines import onnx_engine, openvino_int8

            if runtime.device != "cpu":
                raise ModelUnavailable("int8 enlargement runs on the CPU; choose the CPU device")
            if openvino_int8.available()[0]:  # per-channel scales: far closer to fp32, and faster
                return "openvino-int8"
            ok, why = onnx_engine.available()
            if not ok:
                raise ModelUnavailable(f"int8 enlargement needs OpenVINO or ONNX Runtime, missing here: {why}")
            return "onnxruntime-int8"
        from restorer.engines.select import best_engine

        return best_engine(runtime.device.split(":")[0])[0]

    def sr_network(self, alpha: float, precision: str = "auto", pixels: int | None = None):
        """(network, runtime) for the x4 SR pair blended at `alpha` (0 faithful, 1 sharp), on the chosen engine.

        `pixels`, the input pixels about to be enlarged, lets an engine that is fast but slow to build
        (OpenVINO int8 compiles each blend for seconds) step aside for a job too small to repay it.
        """
        import torch

        from restorer.models.archs.rrdbnet import RRDBNet
        from restorer.models.interpolate import blend_into

        psnr, gan = self.sr_endpoints()
        engine = self.sr_engine(precision)
        if engine == "openvino-int8" and precision == "auto" and pixels is not None:
            engine = self._worth_compiling(alpha, pixels)
        if engine in ("onnxruntime", "onnxruntime-int8", "openvino-int8", "ncnn", "ncnn-vulkan"):
            return self._sr_other(engine, alpha, psnr, gan)
        if engine in ("torch-fp32", "torch-fp32-cl"):
            precision = "fp32"
        elif engine in ("torch-bf16", "torch-bf16-fused"):
            precision = "bf16"
        runtime = _with_fusion(choose_runtime(self.device, precision))
        with self._lock:
            if self._sr_net is None or self._sr_runtime != runtime:
                net = RRDBNet(scale=4).eval().to(torch.device(runtime.device))
                self._sr_base = net if runtime.fused else net.to(memory_format=torch.channels_last)
                self._sr_net = _fuse(self._sr_base) if runtime.fused else self._sr_base
                self._sr_runtime, self._sr_alpha = runtime, None
            if self._sr_alpha != alpha:
                params = self._sr_base.state_dict()
                if runtime.device == "cpu":
                    blend_into(params, psnr, gan, alpha)
                else:
                    blended = {k: torch.lerp(psnr[k], gan[k], float(alpha)) for k in psnr}
                    self._sr_base.load_state_dict(blended)
                if runtime.fused:
                    self._sr_net.refresh()
                self._sr_alpha = alpha
            return self._sr_net, runtime

    def fast_sr_network(self, alpha: float):
        """(FastSR at `alpha` with its FiLM folded into the weights, runtime): the slider's fast mode."""
        import torch

        from restorer.models.archs import fastsr

        runtime = choose_runtime(self.device, "fp32")
        with self._lock:
            if self._fast is None:
                from safetensors.torch import load_file

                self._fast = fastsr.from_state_dict(load_file(str(bundled_weights("restorer-fastsr"))))
                self._fast_fixed = {}
            key = round(float(alpha), 4)
            if key not in self._fast_fixed:
                if len(self._fast_fixed) > 8:
                    self._fast_fixed.clear()
                fixed = self._fast.for_alpha(alpha).to(torch.device(runtime.device))
                self._fast_fixed[key] = fixed.to(memory_format=torch.channels_last)
            return self._fast_fixed[key], runtime

    def _sr_other(self, engine: str, alpha: float, psnr: dict, gan: dict):
        """The blend at `alpha` on a non-torch engine (ONNX Runtime and its int8, OpenVINO int8, ncnn), made by
        `engines.select.unloaded` once and given each new blend's weights."""
        import torch

        from restorer.models.archs.rrdbnet import hyperparameters

        with self._lock:
            if engine not in self._sr_others:
                from restorer.engines.select import unloaded

                net = unloaded(engine, hyperparameters(psnr))
                if len(self._sr_others) >= 2:  # at most two engines' graphs held at once
                    self._sr_others.clear()
                self._sr_others[engine] = [net, None]
            slot = self._sr_others[engine]
            net = slot[0]
            if slot[1] != alpha:
                # alpha matters to the int8 engines only (their activation ranges); the others ignore it.
                net.load({k: torch.lerp(psnr[k], gan[k], float(alpha)) for k in psnr}, alpha)
                slot[1] = alpha
            return net, Runtime("vulkan" if engine == "ncnn-vulkan" else "cpu", None, engine=engine)

    def _worth_compiling(self, alpha: float, pixels: int) -> str:
        """"openvino-int8", or the fastest other engine where compiling this blend would cost more than the
        int8 kernels save on `pixels` input pixels (both speeds and the compile time as measured by the
        engine choice)."""
        from restorer.engines.openvino_int8 import compiled_cache, compiled_on_disk
        from restorer.engines.select import best_engine, break_even_pixels, choose

        with self._lock:
            slot = self._sr_others.get("openvino-int8")
            if slot is not None and slot[1] == alpha:
                return "openvino-int8"  # already compiled: nothing to repay
        if compiled_on_disk(compiled_cache(), alpha):
            return "openvino-int8"  # compiled in an earlier run: a load of about a second
        _, measured = best_engine("cpu")
        others = [m for m in measured if m.engine != "openvino-int8"]
        if not others:  # nothing measured (RESTORER_ENGINE forced it) or nothing else to fall back to
            return "openvino-int8"
        fallback = choose(others)
        return "openvino-int8" if pixels >= break_even_pixels(measured, fallback) else fallback

    def _bundled_network(self, model_id: str, arch, precision: str, channels_last: bool):
        """(network, runtime) for a bundled weights file, built once per runtime and cached."""
        runtime = choose_runtime(self.device, precision)
        with self._lock:
            cached = self._bundled.get(model_id)
            if cached is None or cached[1] != runtime:
                net = network_from_file(arch, bundled_weights(model_id), runtime, channels_last=channels_last)
                self._bundled[model_id] = cached = (net, runtime)
            return cached

    def artifact_network(self, precision: str = "auto"):
        """(ArtifactNet, runtime) from the bundled weights."""
        from restorer.models.archs import artifactnet

        return self._bundled_network("restorer-artifacts", artifactnet, precision, channels_last=True)

    def color_network(self, precision: str = "auto"):
        """(ColorNet, runtime) from the bundled weights."""
        from restorer.models.archs import colornet

        return self._bundled_network("restorer-colorize", colornet, precision, channels_last=False)

    def inpaint_network(self, precision: str = "auto"):
        """(InpaintNet, runtime) from the bundled weights."""
        from restorer.models.archs import inpaintnet

        return self._bundled_network("restorer-inpaint", inpaintnet, precision, channels_last=True)

    def scratch_network(self, precision: str = "auto"):
        """(ScratchNet, runtime) from the bundled weights."""
        from restorer.models.archs import scratchnet

        return self._bundled_network("restorer-scratches", scratchnet, precision, channels_last=True)

    def torchscript_network(self, path: str | Path):
        """(module, device) for a TorchScript export such as LaMa's big-lama.pt.

        TorchScript runs only its own restricted language, not arbitrary pickled Python.
        """
        import torch

        from restorer.errors import ModelFormatError

        path = Path(path).expanduser().resolve()
        runtime = choose_runtime(self.device, "fp32")
        with self._lock:
            if path not in self._custom:
                if not path.is_file():
                    raise ModelUnavailable(f"{path} does not exist; point the LaMa engine at your big-lama.pt.")
                try:
                    # big-lama.pt exists only as TorchScript; torch 2.13 deprecates jit.load but still runs it.
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", DeprecationWarning)
                        module = torch.jit.load(str(path), map_location=runtime.device).eval()
                except (RuntimeError, ValueError) as exc:
                    reason = str(exc).splitlines()[0][:160]
                    raise ModelFormatError(f"{path.name} is not a TorchScript model ({reason}).") from None
                self._custom[path] = module
            return self._custom[path], runtime.device

    def custom_network(self, path: Path, precision: str = "auto"):
        """(network, runtime) for a user's checkpoint file."""
        import torch

        from restorer.models.loader import load_network

        path = Path(path).resolve()
        runtime = _with_fusion(choose_runtime(self.device, precision))
        with self._lock:
            if (path, runtime) not in self._custom:
                _, net = load_network(path)
                net = net.to(torch.device(runtime.device))
                self._custom[(path, runtime)] = _fuse(net) if runtime.fused else net.to(memory_format=torch.channels_last)
            return self._custom[(path, runtime)], runtime


def network_from_file(arch, path: Path, runtime: Runtime, *, channels_last: bool):
    """One of our architectures (a module with from_state_dict) built from a safetensors file on runtime's device.

    No checksum: the caller vouches for the file (the bundled ones are checked by the catalog;
    `restorer eval damage --weights` scores a training candidate).
    """
    import torch
    from safetensors.torch import load_file

    net = arch.from_state_dict(load_file(str(path))).to(torch.device(runtime.device))
    return net.to(memory_format=torch.channels_last) if channels_last else net


def _with_fusion(runtime: Runtime) -> Runtime:
    """Use the fused bf16 RRDBNet kernels where they apply (CPU, bf16, oneDNN present)."""
    from restorer.models.archs.rrdbnet_fused import available

    if runtime.device == "cpu" and runtime.autocast == "bfloat16" and available():
        return Runtime(runtime.device, runtime.autocast, fused=True)
    return runtime


def _fuse(net):
    from restorer.models.archs.rrdbnet import RRDBNet
    from restorer.models.archs.rrdbnet_fused import FusedRRDBNet

    return FusedRRDBNet(net) if isinstance(net, RRDBNet) else net


_shared: dict[str, ModelManager] = {}
_shared_lock = threading.Lock()


def shared_manager(device: str = "auto") -> ModelManager:
    """The process-wide manager for `device`, so every run reuses loaded weights."""
    with _shared_lock:
        if device not in _shared:
            _shared[device] = ModelManager(device)
        return _shared[device]
