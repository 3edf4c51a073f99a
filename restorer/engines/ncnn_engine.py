"""ncnn for RRDBNet x4: on the CPU, and on AMD, Intel and Apple GPUs through Vulkan.

ncnn is what Upscayl and Real-ESRGAN's own ncnn front end run on GPUs that
are not NVIDIA's. Restorer writes the network in ncnn's own format: a
`.param` text describing the graph (the same layer sequence as the
registry package's x4plus file: convolutions with a fused leaky ReLU,
concatenations, scaled element-wise sums, nearest-neighbour upsampling) and
a `.bin` holding the blended weights as fp32, so any alpha of the slider
reaches the GPU by rewriting the `.bin` (a fraction of a second), not by a
conversion.

Contract: `NcnnRRDB(hyper, folder, vulkan=False)`; `load(state)` writes and
loads a blend; calling it maps RGB (N, 3, H, W) float32 in [0, 1] to
(N, 3, 4H, 4W), one image at a time.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

LEAKY = "9=2 -23310=1,2.000000e-01"  # activation 2: leaky ReLU with slope 0.2, fused into the convolution


def available() -> tuple[bool, str]:
    try:
        import ncnn  # noqa: F401
    except ImportError as exc:
        return False, f"ncnn is not installed ({exc.name}); pip install ncnn"
    return True, ""


def vulkan_devices() -> int:
    """How many Vulkan GPUs ncnn sees (0 when there is no Vulkan driver)."""
    try:
        import ncnn

        return int(ncnn.get_gpu_count())
    except Exception:  # no driver: ncnn prints its own complaint and there is simply no GPU
        return 0


class _Graph:
    """Builds the .param text: layers, and Split layers wherever a blob feeds several consumers."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.blobs = 0
        self.pending: dict[str, list[str]] = {}  # blob -> names handed out to its consumers

    def blob(self, prefix: str) -> str:
        self.blobs += 1
        return f"{prefix}_{self.blobs}"

    def layer(self, kind: str, name: str, inputs: list[str], outputs: list[str], params: str = "") -> None:
        self.lines.append(f"{kind:<24} {name:<24} {len(inputs)} {len(outputs)} {' '.join(inputs + outputs)} {params}".rstrip())

    def split(self, blob: str, count: int) -> list[str]:
        """`count` names for `blob`, through a Split layer when it has more than one consumer."""
        if count == 1:
            return [blob]
        outputs = [f"{blob}_s{i}" for i in range(count)]
        self.blobs += count
        self.layer("Split", f"split_{blob}", [blob], outputs)
        return outputs

    def text(self) -> str:
        return "7767517\n" + f"{len(self.lines)} {self.blobs}\n" + "\n".join(self.lines) + "\n"


def write_param(hyper: dict, path: Path) -> list[str]:
    """Write the .param of an RRDBNet x4; returns its convolutions' state-dict prefixes in file order."""
    if hyper["scale"] != 4:
        raise ValueError("the ncnn engine runs x4 networks only")
    f, g = hyper["features"], hyper["growth"]
    graph, convs = _Graph(), []

    def conv(name: str, source: str, cin: int, cout: int, act: bool) -> str:
        out = graph.blob(name.replace(".", "_"))
        graph.layer("Convolution", name.replace(".", "_"), [source], [out],
                    f"0={cout} 1=3 4=1 5=1 6={cout * cin * 9}" + (f" {LEAKY}" if act else ""))
        convs.append(name)
        return out

    graph.blobs = 1
    graph.layer("Input", "input", [], ["data"], "")
    first = conv("conv_first", "data", 3, f, act=False)
    first_for_trunk, first_for_sum = graph.split(first, 2)
    trunk = first_for_trunk
    for b in range(hyper["blocks"]):
        block_in, block_skip = graph.split(trunk, 2)
        x = block_in
        for k in (1, 2, 3):
            prefix = f"body.{b}.rdb{k}"
            # x feeds conv1, every concat (4) and the residual sum: six consumers.
            x_uses = graph.split(x, 6)
            feats_uses: list[list[str]] = [x_uses[1:5]]  # x in the concats of conv2..conv5
            last = None
            for c in range(1, 6):
                if c == 1:
                    source = x_uses[0]
                else:
                    parts = [feats_uses[0][c - 2]] + [uses.pop(0) for uses in feats_uses[1:]]
                    source = graph.blob(f"{prefix}_cat{c}".replace(".", "_"))
                    graph.layer("Concat", f"{prefix}_concat{c}".replace(".", "_"), parts, [source], "0=0")
                cin = f + (c - 1) * g
                out = conv(f"{prefix}.conv{c}", source, cin, f if c == 5 else g, act=c < 5)
                if c < 5:
                    # x_c feeds the concats of every later convolution.
                    feats_uses.append(graph.split(out, 5 - c))
                else:
                    last = out
            summed = graph.blob(f"{prefix}_sum".replace(".", "_"))
            graph.layer("Eltwise", f"{prefix}_add".replace(".", "_"), [last, x_uses[5]], [summed],
                        "0=1 -23301=2,2.000000e-01,1.000000e+00")
            x = summed
        out = graph.blob(f"body_{b}_out")
        graph.layer("Eltwise", f"body_{b}_add", [x, block_skip], [out], "0=1 -23301=2,2.000000e-01,1.000000e+00")
        trunk = out
    body = conv("conv_body", trunk, f, f, act=False)
    feat = graph.blob("feat")
    graph.layer("BinaryOp", "body_sum", [first_for_sum, body], [feat], "0=0")
    for name in ("conv_up1", "conv_up2"):
        up = graph.blob(f"{name}_in")
        graph.layer("Interp", f"{name}_resize", [feat], [up], "0=1 1=2.000000e+00 2=2.000000e+00")
        feat = conv(name, up, f, f, act=True)
    hr = conv("conv_hr", feat, f, f, act=True)
    out = conv("conv_last", hr, f, 3, act=False)
    graph.lines[-1] = graph.lines[-1].replace(f" {out} ", " output ")
    path.write_text(graph.text())
    return convs


def write_bin(state: dict, convs: list[str], path: Path) -> None:
    """Each convolution's weights (fp32, after ncnn's 4-byte 0 tag) then its bias, in .param order."""
    with path.open("wb") as fh:
        for name in convs:
            weight = state[f"{name}.weight"].detach().float().cpu().numpy().astype("<f4")
            bias = state[f"{name}.bias"].detach().float().cpu().numpy().astype("<f4")
            fh.write(struct.pack("<I", 0))
            fh.write(weight.tobytes())
            fh.write(bias.tobytes())


class NcnnRRDB:
    """An RRDBNet x4 run by ncnn; `load(state)` writes the blend's weights and loads them."""

    supports_cancel = False

    def __init__(self, hyper: dict, folder: Path, *, vulkan: bool = False, threads: int = 0) -> None:
        self.scale = hyper["scale"]
        self.name = "ncnn-vulkan" if vulkan else "ncnn"
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = "rrdbnet_s{scale}_f{features}_b{blocks}_g{growth}".format(**hyper)
        self.param = self.folder / f"{stem}.param"
        self.bin = self.folder / f"{stem}.{'vk' if vulkan else 'cpu'}.bin"
        self.convs = write_param(hyper, self.param)
        self.vulkan, self.threads = vulkan, threads
        self.net = None

    def load(self, state: dict, alpha: float | None = None) -> None:
        import ncnn

        write_bin(state, self.convs, self.bin)
        net = ncnn.Net()
        net.opt.use_vulkan_compute = self.vulkan
        # fp32 storage and arithmetic on the CPU: within torch's rounding, where fp16 storage lost ~40 dB.
        net.opt.use_fp16_storage = net.opt.use_fp16_packed = net.opt.use_fp16_arithmetic = self.vulkan
        net.opt.use_bf16_storage = False
        if self.threads:
            net.opt.num_threads = self.threads
        if net.load_param(str(self.param)) != 0 or net.load_model(str(self.bin)) != 0:
            raise RuntimeError(f"ncnn could not load {self.param.name}")
        self.net = net

    def __call__(self, x, cancel=None):
        import ncnn
        import torch

        outputs = []
        for image in x.detach().float().cpu().numpy():
            extractor = self.net.create_extractor()
            extractor.input("data", ncnn.Mat(np.ascontiguousarray(image)))
            status, out = extractor.extract("output")
            if status != 0:
                raise RuntimeError("ncnn failed to run the network")
            outputs.append(np.array(out))
        return torch.from_numpy(np.stack(outputs))
