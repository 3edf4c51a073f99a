"""Photoshop masters: the flattened picture of a 16-bit PSD or a PSB is read at full depth with its
profile, resolution and metadata, and damaged or unsupported ones get one sentence."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.batch.jobs import expand_inputs
from restorer.cli import main
from restorer.errors import UnreadablePhoto
from restorer.imaging import read_photo
from restorer.psd import image_resources, unpack_bits

from .conftest import gradient_photo

def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


PROFILE = _srgb_profile()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'


def _pack_line(line: bytes) -> bytes:
    """PackBits for one line: runs of three or more equal bytes as repeats, the rest as literals."""
    out, i = bytearray(), 0
    while i < len(line):
        j = i
        while j < len(line) and j - i < 128 and line[j] == line[i]:
            j += 1
        if j - i >= 3:
            out += bytes([257 - (j - i), line[i]])
            i = j
        else:
            k = i + 1
            while k < len(line) and k - i < 128 and not (k + 2 < len(line) and line[k] == line[k + 1] == line[k + 2]):
                k += 1
            out += bytes([k - i - 1]) + line[i:k]
            i = k
    return bytes(out)


def _resource(rid: int, data: bytes) -> bytes:
    return b"8BIM" + struct.pack(">HHI", rid, 0, len(data)) + data + b"\x00" * (len(data) & 1)


def photoshop_file(planes: np.ndarray, *, mode: int = 3, version: int = 1, rle: bool = True,
                   resources: bytes = b"", merged_transparency: bool = False) -> bytes:
    """A Photoshop file whose composite is `planes` (channels, H, W), uint8 or uint16. With
    `merged_transparency` its layer info says (by a negative layer count, and no layer records here) that
    the first extra channel is the composite's transparency; otherwise extra channels are selections."""
    channels, height, width = planes.shape
    depth = 16 if planes.dtype == np.uint16 else 8
    header = b"8BPS" + struct.pack(">H6xHIIHH", version, channels, height, width, depth, mode)
    length = ">I" if version == 1 else ">Q"
    if merged_transparency:
        layers = struct.pack(length, 2) + struct.pack(">h", -1)
        layer_info = struct.pack(length, len(layers)) + layers
    else:
        layer_info = struct.pack(length, 0)
    body = planes.astype(">u2" if depth == 16 else "u1")
    if rle:
        lines = [_pack_line(body[c, y].tobytes()) for c in range(channels) for y in range(height)]
        counts = np.array([len(line) for line in lines], ">u2" if version == 1 else ">u4").tobytes()
        image = struct.pack(">H", 1) + counts + b"".join(lines)
    else:
        image = struct.pack(">H", 0) + body.tobytes()
    return header + struct.pack(">I", 0) + struct.pack(">I", len(resources)) + resources + layer_info + image


def _deep_rgb(width: int = 40, height: int = 24) -> np.ndarray:
    """(3, H, W) uint16 with thousands of distinct levels and flat runs for PackBits to repeat."""
    rgb = gradient_photo(width, height)
    rgb[:, : width // 4] = 0.5  # a flat band
    return (rgb.transpose(2, 0, 1) * 65535 + 0.5).astype(np.uint16)


def test_unpack_bits_inverts_packbits_and_refuses_a_short_stream():
    rng = np.random.default_rng(3)
    lines = [bytes(rng.integers(0, 256, 20, dtype=np.uint8)) + b"\x07" * 200 + b"ab" for _ in range(3)]
    packed = b"".join(_pack_line(line) for line in lines)
    assert unpack_bits(packed, 222, 3).tobytes() == b"".join(lines)
    with pytest.raises(ValueError, match="ends early"):
        unpack_bits(packed[:-30], 222, 3)


def test_a_16_bit_psd_is_read_at_full_depth_with_its_profile_resolution_and_xmp(tmp_path):
    planes = _deep_rgb()
    resolution = struct.pack(">IHHIHH", 300 << 16, 2, 2, 300 << 16, 2, 2)  # 300 ppi, shown per cm
    resources = _resource(1005, resolution) + _resource(1039, PROFILE) + _resource(1060, XMP)
    path = tmp_path / "master.psd"
    path.write_bytes(photoshop_file(planes, resources=resources))
    photo = read_photo(path)
    assert photo.metadata.bit_depth == 16 and photo.metadata.format == "PSD"
    assert np.abs(photo.pixels - planes.transpose(1, 2, 0) / 65535).max() < 1e-6
    assert photo.metadata.icc_profile == PROFILE and photo.metadata.xmp == XMP
    assert photo.metadata.dpi == pytest.approx((300, 300))

    out = tmp_path / "out"
    assert main(["run", str(path), "-o", str(out), "--stages", "upscale", "--upscale-engine", "lanczos",
                 "--scale", "1"]) == 0
    result = read_photo(out / "master_restored.tif")  # a Photoshop master's result is a TIFF
    assert result.metadata.bit_depth == 16 and result.metadata.icc_profile == PROFILE
    levels = np.unique(np.round(result.float_pixels() * 65535))
    assert len(levels) > 1000  # not squeezed through 8 bits


def test_grey_with_transparency_raw_and_a_psb_with_long_line_counts(tmp_path):
    grey = _deep_rgb()[:1]
    alpha = np.full_like(grey, 65535)
    alpha[0, :, :5] = 0
    path = tmp_path / "grey.psd"
    path.write_bytes(photoshop_file(np.concatenate([grey, alpha]), mode=1, rle=False, merged_transparency=True))
    photo = read_photo(path)
    assert photo.metadata.was_grayscale and photo.pixels.shape == (24, 40, 3)
    assert np.allclose(photo.pixels[..., 0], photo.pixels[..., 2])
    assert photo.alpha is not None and photo.alpha[:, :5].max() == 0 and photo.alpha[:, 5:].min() == 1
    selection = tmp_path / "with_a_saved_selection.psd"  # a flat file: the extra channel is "Alpha 1"
    selection.write_bytes(photoshop_file(np.concatenate([grey, alpha]), mode=1, rle=False))
    assert read_photo(selection).alpha is None

    big = tmp_path / "poster.psb"  # the large-document format: 4-byte line counts, 8-byte section lengths
    eight = (_deep_rgb() >> 8).astype(np.uint8)
    big.write_bytes(photoshop_file(eight, version=2, merged_transparency=True))  # 8-byte lengths throughout
    photo = read_photo(big)
    assert photo.metadata.bit_depth == 8
    assert np.abs(photo.pixels * 255 - eight.transpose(1, 2, 0)).max() < 1e-3


def test_cmyk_and_damaged_photoshop_files_get_one_sentence_and_a_batch_goes_on(tmp_path):
    folder = tmp_path / "masters"
    folder.mkdir()
    (folder / "press.psd").write_bytes(photoshop_file(np.zeros((3, 8, 8), np.uint16), mode=9))
    whole = photoshop_file(_deep_rgb())
    (folder / "cut.psd").write_bytes(whole[: len(whole) - 300])
    (folder / "good.psd").write_bytes(whole)
    with pytest.raises(UnreadablePhoto, match=r"press.psd is a Lab Photoshop file.*RGB or Greyscale"):
        read_photo(folder / "press.psd")
    with pytest.raises(UnreadablePhoto, match=r"^cut.psd could not be read \(the file is truncated or damaged\)\.$"):
        read_photo(folder / "cut.psd")
    compression_at = 26 + 4 + 4 + 4  # header, then empty colour mode data, resources and layer sections
    (folder / "zipped.psd").write_bytes(whole[:compression_at] + b"\x00\x02" + whole[compression_at + 2 :])
    with pytest.raises(UnreadablePhoto, match=r"zipped.psd stores its merged picture with ZIP compression"):
        read_photo(folder / "zipped.psd")
    huge = tmp_path / "huge.psd"  # a header claiming 900 megapixels: refused before any memory is spent
    huge.write_bytes(b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 30000, 30000, 16, 3) + bytes(16))
    with pytest.raises(UnreadablePhoto, match=r"huge.psd is larger than 600 megapixels"):
        read_photo(huge)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    assert sorted(job.source.name for job in expand_inputs([folder], tmp_path / "out")) == \
        ["cut.psd", "good.psd", "press.psd", "zipped.psd"]  # Photoshop files are photos to a batch now
    code = main(["run", str(folder), "-o", str(tmp_path / "out"), "--stages", "upscale", "--upscale-engine",
                 "lanczos", "--scale", "1"])
    assert code != 0 and (tmp_path / "out" / "good_restored.tif").exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # originals untouched


def test_photoshop_resources_stop_quietly_at_damage():
    block = _resource(1039, PROFILE) + _resource(1028, b"\x1c\x02\x05\x00\x02ab")
    assert image_resources(block) == {1039: PROFILE, 1028: b"\x1c\x02\x05\x00\x02ab"}
    assert image_resources(block[:-4]) == {1039: PROFILE}
    assert image_resources(b"junk") == {}


def test_an_8_bit_psd_keeps_its_xmp_and_an_8_bit_cmyk_one_opens_as_pillow_would(tmp_path):
    """Pillow reads 8-bit PSD but drops its XMP, EXIF and IPTC; ours reads grey, RGB and CMYK, Pillow the rest."""
    eight = (_deep_rgb() >> 8).astype(np.uint8)
    path = tmp_path / "flat.psd"
    path.write_bytes(photoshop_file(eight, resources=_resource(1060, XMP)))
    photo = read_photo(path)
    assert photo.metadata.pages == 1 and photo.metadata.bit_depth == 8 and photo.metadata.xmp == XMP
    assert np.abs(photo.pixels * 255 - eight.transpose(1, 2, 0)).max() < 1e-3
    cmyk = tmp_path / "press8.psd"
    cmyk.write_bytes(photoshop_file(np.zeros((4, 8, 8), np.uint8), mode=4))
    with Image.open(cmyk) as image:
        assert image.mode == "CMYK"  # Pillow's reader gives the same colours
        pillows = np.asarray(image.convert("RGB"), np.float32) / 255
    assert np.abs(read_photo(cmyk).pixels - pillows).max() < 1e-6


def test_a_sixteen_bit_cmyk_psd_is_read_at_full_depth_as_srgb(tmp_path):
    """Photoshop stores inks inverted (full scale is no ink); without a CMYK profile they come off as
    (1 - C)(1 - K), and the file's profile is not attached to the sRGB pixels made from it."""
    ink = np.zeros((4, 8, 64), np.float32)
    ink[0] = np.linspace(0, 0.25, 64)[None, :]  # cyan, finer than 8 bits can step
    ink[3] = 0.2
    stored = ((1.0 - ink) * 65535 + 0.5).astype(np.uint16)
    path = tmp_path / "press.psd"
    path.write_bytes(photoshop_file(stored, mode=4, resources=_resource(1039, PROFILE)))  # an RGB profile
    photo = read_photo(path)
    inks = 1.0 - stored.transpose(1, 2, 0) / 65535
    expected = (1 - inks[..., :3]) * (1 - inks[..., 3:])
    assert photo.metadata.bit_depth == 16 and not photo.metadata.was_grayscale
    assert photo.metadata.icc_profile is None
    assert np.abs(photo.pixels - expected).max() < 1e-5
    assert len(np.unique(photo.pixels[0, :, 0])) == 64
