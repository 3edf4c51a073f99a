"""A PNG's gAMA and cHRM chunks as an ICC profile, so a result in another format looks the same.

A PNG may say how to show its pixels with a gamma (gAMA: a linear PNG from scientific software,
1/1.8 from an old Mac) and its primaries (cHRM) instead of an ICC profile. A PNG result keeps those
chunks (restorer.imaging.png_colour_chunks). TIFF, JPEG and WebP have no such chunks, so without a
profile their result would be shown as sRGB: a linear scan would look far too dark. Here the two
chunks become a small ICC v2 display profile (white point, three colorants adapted to D50 with the
Bradford transform, and one gamma curve per channel), which every colour-managed viewer reads.

Contract: `profile_from_png_chunks(chunks)` takes PhotoMetadata.png_colour ((type, payload) pairs)
and returns ICC profile bytes, or None where there is nothing to say: no gAMA, an sRGB chunk (the
file is sRGB), or a gamma of about 1/2.2 with no primaries, which sRGB already is to a viewer.
"""

from __future__ import annotations

import struct

import numpy as np

# sRGB's primaries and D65 white (x, y): what a PNG without cHRM is shown with.
_SRGB_CHROMATICITY = ((0.3127, 0.3290), (0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
_D50 = np.array([0.9642, 1.0, 0.8249])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def profile_from_png_chunks(chunks: tuple[tuple[bytes, bytes], ...], *, gray: bool = False) -> bytes | None:
    """The ICC profile that says what `chunks` say, for RGB pixels or, with `gray`, one grey channel."""
    found = dict(chunks)
    if b"sRGB" in found or len(found.get(b"gAMA", b"")) != 4:
        return None
    file_gamma = struct.unpack(">I", found[b"gAMA"])[0] / 100_000  # encoding exponent, e.g. 0.45455
    if file_gamma <= 0:
        return None
    chromaticity = _SRGB_CHROMATICITY
    if len(found.get(b"cHRM", b"")) == 32:
        values = [v / 100_000 for v in struct.unpack(">8I", found[b"cHRM"])]
        chromaticity = tuple(zip(values[0::2], values[1::2]))
        if any(y <= 0 for _, y in chromaticity):
            chromaticity = _SRGB_CHROMATICITY
    elif abs(file_gamma - 1 / 2.2) < 0.005:
        return None
    description = f"Restorer: PNG gamma {1.0 / file_gamma:.2f}"
    return display_profile(1.0 / file_gamma, chromaticity, description, gray=gray)


def display_profile(gamma: float, chromaticity, description: str, *, gray: bool = False) -> bytes:
    """An ICC v2 display profile: decoding `gamma`, `chromaticity` ((white), (red), (green), (blue)) xy;
    with `gray`, a grey profile (one curve) instead of an RGB one."""
    tags = [(b"desc", _text_description(description)),
            (b"cprt", b"text" + bytes(4) + b"No copyright, use freely\x00"),
            (b"wtpt", _xyz(_D50))]
    if not gray:
        white, *primaries = (np.array([x / y, 1.0, (1 - x - y) / y]) for x, y in chromaticity)
        columns = np.stack(primaries, axis=1)
        scale = np.linalg.solve(columns, white)  # each primary's share so that R = G = B = 1 is the white
        adapt = np.linalg.inv(_BRADFORD) @ np.diag((_BRADFORD @ _D50) / (_BRADFORD @ white)) @ _BRADFORD
        colorants = adapt @ (columns * scale)
        tags += [(b"rXYZ", _xyz(colorants[:, 0])), (b"gXYZ", _xyz(colorants[:, 1])), (b"bXYZ", _xyz(colorants[:, 2]))]
    curves = (b"kTRC",) if gray else (b"rTRC", b"gTRC", b"bTRC")
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, int(round(gamma * 256))) + bytes(2)  # u8Fixed8, padded
    offset = 128 + 4 + 12 * (len(tags) + len(curves))
    table, data = [], b""
    for signature, body in tags:
        table.append(struct.pack(">4sII", signature, offset + len(data), len(body)))
        data += body + bytes(-len(body) % 4)
    curve_at = offset + len(data)  # the channels share one curve
    for signature in curves:
        table.append(struct.pack(">4sII", signature, curve_at, len(curve) - 2))
    data += curve
    body = struct.pack(">I", len(tags) + len(curves)) + b"".join(table) + data
    size = 128 + len(body)
    space = b"GRAY" if gray else b"RGB "
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"mntr", space, b"XYZ ")
    header += bytes(12) + b"acsp" + bytes(4) + bytes(4) + bytes(8) + bytes(8) + struct.pack(">I", 0)
    header += _xyz(_D50)[8:] + bytes(4)
    header += bytes(128 - len(header))
    return header + body


def _xyz(value) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(struct.pack(">i", int(round(v * 65536))) for v in value)


def _text_description(text: str) -> bytes:
    ascii_text = text.encode("ascii", "replace") + b"\x00"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(4 + 4 + 2 + 1 + 67)
