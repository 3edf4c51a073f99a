"""Photoshop files (.psd, .psb) at full depth: the flattened composite every such file carries.

Pillow reads 8-bit PSD only, and no PSB. Retouched masters are often kept as 16-bit PSD, and
reading them as 8 bits would throw away the depth an archivist scanned for. Every Photoshop file
ends with the merged picture as Photoshop last showed it ("maximise compatibility" keeps it
even in layered files), stored planar, raw or PackBits-compressed; that is what this reads, with
the colour profile, EXIF, XMP and IPTC from the file's image resources. Layers are not merged
here, so adjustment layers and effects look exactly as Photoshop drew them. A CMYK file's inks
(stored inverted: full scale is no ink) are made sRGB through its own profile (restorer.cmyk).

Image contract: `read_psd_composite` returns float32 pixels in [0, 1], (H, W, 3) (grey
repeated into three channels), and an (H, W) alpha or None.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from restorer.errors import UnreadablePhoto

PSD_SIGNATURE = b"8BPS"
_GRAY, _RGB, _CMYK = 1, 3, 4
_COLOURS = {_GRAY: 1, _RGB: 3, _CMYK: 4}
_MODE_NAMES = {0: "bitmap", 2: "indexed-colour", 4: "CMYK", 7: "multichannel", 8: "duotone", 9: "Lab"}
# Image resource IDs (Adobe's Photoshop File Formats Specification).
_RESOLUTION, _ICC, _IPTC, _EXIF, _XMP = 1005, 1039, 1028, 1058, 1060


@dataclass(frozen=True)
class PsdComposite:
    pixels: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    gray: bool
    icc_profile: bytes | None
    exif: bytes | None  # TIFF-structured EXIF, without JPEG's "Exif\0\0" header
    xmp: bytes | None
    iptc: bytes | None
    dpi: tuple[float, float] | None = None


def is_photoshop_file(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == PSD_SIGNATURE
    except OSError:
        return False


def read_psd_composite(path: Path) -> PsdComposite:
    """The flattened picture of a grey, RGB or CMYK Photoshop file of 8 or 16 bits; UnreadablePhoto otherwise."""
    data = Path(path).read_bytes()
    name = Path(path).name
    if data[:4] != PSD_SIGNATURE:
        raise UnreadablePhoto(f"{name} is not a Photoshop file.")
    if len(data) < 26:
        raise UnreadablePhoto(f"{name} could not be read (the file is truncated or damaged).")
    version, channels, height, width, depth, mode = struct.unpack(">H6xHIIHH", data[4:26])
    if version not in (1, 2):
        raise UnreadablePhoto(f"{name} is a Photoshop file of an unknown version ({version}).")
    if mode not in _COLOURS or depth not in (8, 16):
        kind = f"{depth}-bit" if depth not in (8, 16) else _MODE_NAMES.get(mode, f"mode-{mode}")
        raise UnreadablePhoto(f"{name} is a {kind} Photoshop file, which Restorer cannot read; in Photoshop, "
                              "convert it to RGB or Greyscale at 8 or 16 bits, or export it as TIFF.")
    colours = _COLOURS[mode]
    if channels < colours:
        raise UnreadablePhoto(f"{name} is damaged: {channels} channel(s) in an image that needs {colours}.")
    from PIL import Image

    if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:  # the limit every other format has
        raise UnreadablePhoto(f"{name} is larger than {Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels, which "
                              "Restorer refuses to open.")
    try:
        offset = 26
        offset += 4 + struct.unpack(">I", data[offset : offset + 4])[0]  # colour mode data
        resources_length = struct.unpack(">I", data[offset : offset + 4])[0]
        resources = image_resources(data[offset + 4 : offset + 4 + resources_length])
        offset += 4 + resources_length
        length_size = 4 if version == 1 else 8  # layer and mask information
        section = int.from_bytes(data[offset : offset + length_size], "big")
        merged_transparency = section > 0 and _layer_count(data, offset + length_size, length_size) < 0
        offset += length_size + section
        planes = _composite_planes(data, offset, version, channels, height, width, depth)
    except _UnsupportedCompression as exc:
        raise UnreadablePhoto(f"{name} stores its merged picture with {exc}, which Restorer cannot read; save it "
                              "again from Photoshop or export it as TIFF.") from None
    except (struct.error, ValueError, IndexError):
        raise UnreadablePhoto(f"{name} could not be read (the file is truncated or damaged).") from None
    scale = 255.0 if depth == 8 else 65535.0
    colour = planes[:colours].transpose(1, 2, 0).astype(np.float32) / scale
    profile = resources.get(_ICC)
    if mode == _CMYK:
        from restorer.cmyk import cmyk_to_srgb

        colour = cmyk_to_srgb(1.0 - colour, profile)
        profile = None  # it described the inks; the pixels are sRGB now
    pixels = np.repeat(colour, 3, axis=2) if colours == 1 else colour
    # Extra channels are saved selections ("Alpha 1"), except that a negative layer count says the first
    # one is the merged picture's transparency. Taking a selection for transparency would cut holes.
    alpha = planes[colours].astype(np.float32) / scale if merged_transparency and channels > colours else None
    if alpha is not None and float(alpha.min()) >= 1.0:
        alpha = None
    return PsdComposite(np.ascontiguousarray(pixels), alpha, depth, colours == 1, profile,
                        resources.get(_EXIF), resources.get(_XMP), resources.get(_IPTC),
                        _dpi(resources.get(_RESOLUTION)))


def _layer_count(data: bytes, at: int, length_size: int) -> int:
    """The signed layer count at the start of the layer info inside the layer and mask section at `at`."""
    if int.from_bytes(data[at : at + length_size], "big") < 2:
        return 0
    return struct.unpack(">h", data[at + length_size : at + length_size + 2])[0]


def _dpi(info: bytes | None) -> tuple[float, float] | None:
    """Pixels per inch from a ResolutionInfo resource. Its resolutions are 16.16 fixed point and always per
    inch; the unit fields beside them only say how Photoshop displays them."""
    if not info or len(info) < 16:
        return None
    h_res, _, _, v_res, _, _ = struct.unpack(">IHHIHH", info[:16])
    dpi = (h_res / 65536, v_res / 65536)
    return dpi if min(dpi) > 0 else None


def image_resources(block: bytes) -> dict[int, bytes]:
    """{resource id: data} of a run of Photoshop image resource blocks: a PSD's resource section, or
    what follows "Photoshop 3.0\\0" in a JPEG's APP13 segment. Stops quietly at damage."""
    found, at = {}, 0
    while at + 12 <= len(block) and block[at : at + 4] == b"8BIM":
        rid = struct.unpack(">H", block[at + 4 : at + 6])[0]
        name_length = block[at + 6]
        at += 6 + ((1 + name_length + 1) & ~1)  # a Pascal string padded to an even length
        if at + 4 > len(block):
            break
        size = struct.unpack(">I", block[at : at + 4])[0]
        if at + 4 + size > len(block):
            break
        found[rid] = bytes(block[at + 4 : at + 4 + size])
        at += 4 + size + (size & 1)
    return found


IPTC_RESOURCE = _IPTC
JPEG_APP13_HEADER = b"Photoshop 3.0\x00"


def iim_as_app13(iim: bytes) -> bytes:
    """An IPTC IIM block wrapped as the body of a JPEG APP13 segment (one image resource, ID 1028)."""
    return JPEG_APP13_HEADER + b"8BIM" + struct.pack(">HHI", _IPTC, 0, len(iim)) + iim + b"\x00" * (len(iim) & 1)


class _UnsupportedCompression(ValueError):
    pass


def _composite_planes(data: bytes, offset: int, version: int, channels: int, height: int, width: int,
                      depth: int) -> np.ndarray:
    """(channels, H, W) uint8 or uint16 of the image data section that starts at `offset`."""
    compression = struct.unpack(">H", data[offset : offset + 2])[0]
    offset += 2
    row_bytes = width * depth // 8
    dtype = np.dtype(">u1" if depth == 8 else ">u2")
    if compression == 0:
        size = channels * height * row_bytes
        raw = np.frombuffer(data, np.uint8, size, offset)
    elif compression == 1:
        count_size = 2 if version == 1 else 4
        rows = channels * height
        counts = np.frombuffer(data, np.dtype(">u2" if count_size == 2 else ">u4"), rows, offset)
        offset += rows * count_size
        packed = data[offset : offset + int(counts.sum())]
        raw = unpack_bits(packed, row_bytes, rows)
    else:
        raise _UnsupportedCompression("ZIP compression" if compression in (2, 3) else f"compression {compression}")
    return raw.view(dtype).reshape(channels, height, width).astype(np.uint8 if depth == 8 else np.uint16)


def unpack_bits(packed: bytes, row_bytes: int, rows: int) -> np.ndarray:
    """Decode `rows` lines of `row_bytes` bytes, each packed on its own with PackBits (the run-length
    code of Macintosh, TIFF and Photoshop), into one flat uint8 array.

    Pillow's own decoder does the work, in C, as it does for TIFF's PackBits strips: the lines fill
    an 8-bit image `row_bytes` wide. A stream that ends short is damage, not a picture.
    """
    from PIL import Image

    if row_bytes == 0 or rows == 0:
        return np.zeros(0, np.uint8)
    try:
        image = Image.frombytes("L", (row_bytes, rows), packed, "packbits", "L")
    except ValueError as exc:
        raise ValueError(f"the compressed picture ends early ({exc})") from None
    return np.asarray(image, dtype=np.uint8).reshape(-1)
