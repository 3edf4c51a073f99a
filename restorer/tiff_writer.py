"""Writing TIFF results, 8 or 16 bits, with everything the scan said about itself.

Image contract: `write_tiff(data, meta, out, xmp)` takes uint8 or uint16 samples, (H, W) grey or
(H, W, 3|4) RGB[A], and writes one deflate-compressed, little-endian TIFF to the binary file `out`,
which starts empty. A file opened by name for reading and writing ("w+b") is written in place, so a
large result is never held a second time in memory as its encoded bytes; any other stream gets the
bytes built in memory first.

tifffile writes the pixels (Pillow cannot write 48-bit RGB) with the ICC profile, the XMP packet,
the IPTC block and the scan's descriptive tags (caption, scanner, date, artist, copyright). EXIF's
own IFD (DateTimeOriginal, exposure, lens) and the GPS IFD are sub-IFDs, which tifffile refuses to
write: it writes a private placeholder tag for each instead, the sub-IFDs are appended after the
image, and each placeholder entry is renumbered, in place, into the pointer tag aimed at its IFD, in a
classic TIFF and in a BigTIFF (a result over 4 GB) alike.
"""

from __future__ import annotations

import io
import struct
from typing import TYPE_CHECKING

import numpy as np
from PIL import TiffImagePlugin

if TYPE_CHECKING:
    from restorer.imaging import PhotoMetadata

# The first IFD's descriptive tags an archive's scanner or catalogue writes: document name, caption,
# scanner make and model, page name, date, artist, host computer, copyright.
DESCRIPTIVE_TAGS = (269, 270, 271, 272, 285, 306, 315, 316, 33432)

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
# Private tag numbers tifffile will write, one per sub-IFD; _append_sub_ifds renumbers them.
_PLACEHOLDERS = {EXIF_IFD: 65000, GPS_IFD: 65001}
_INTEROP_IFD = 0xA005  # inside the EXIF IFD: an offset into the source's EXIF, meaningless here
_LONG, _IFD8 = 4, 18  # TIFF field types: a classic TIFF's IFD offset, a BigTIFF's
# tifffile's own threshold for BigTIFF (a classic TIFF's offsets end at 4 GB); a test lowers it.
BIGTIFF_FROM_BYTES = 2**32 - 2**25


def _read_exif(exif: bytes | None, width: int, height: int) -> tuple[dict[int, str], dict[int, tuple[dict, dict]]]:
    """From one parse of `exif`: its descriptive first-IFD tags (DESCRIPTIVE_TAGS) as ASCII text, and its
    EXIF and GPS IFDs by pointer tag, each as (values, TIFF types) by tag, the EXIF IFD's pixel size made
    `width` x `height`. What is missing or unreadable is left out.

    The types are the file's own: guessed again from the values, a rational like 1/125 s would come
    back as two SHORTs, which libtiff-based software rejects.
    """
    from restorer.imaging import EXIF_PIXEL_X, EXIF_PIXEL_Y, exif_body

    tags: dict[int, str] = {}
    found: dict[int, tuple[dict, dict]] = {}
    if not exif:
        return tags, found
    data = exif_body(exif)
    try:
        order = "<" if data[:2] == b"II" else ">"
        stream = io.BytesIO(data)
        first = TiffImagePlugin.ImageFileDirectory_v2(data[:8])
        stream.seek(struct.unpack_from(order + "I", data, 4)[0])
        first.load(stream)
        for code in DESCRIPTIVE_TAGS:
            value = first.get(code)
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if isinstance(value, str) and value.strip("\x00 ") and value.isascii() \
                    and not (code == 270 and value.startswith('{"shape"')):  # tifffile's own note, not a caption
                tags[code] = value.rstrip("\x00")
        for pointer in (EXIF_IFD, GPS_IFD):
            if pointer in first:
                sub = TiffImagePlugin.ImageFileDirectory_v2(data[:8])
                stream.seek(int(first[pointer]))
                sub.load(stream)
                values, types = dict(sub), dict(sub.tagtype)
                values.pop(_INTEROP_IFD, None)
                if values:
                    found[pointer] = (values, types)
    except Exception:  # noqa: BLE001 - EXIF of unknown origin: keep what was read, the pixels matter more
        pass
    if EXIF_IFD in found:
        values, types = found[EXIF_IFD]
        if EXIF_PIXEL_X in values or EXIF_PIXEL_Y in values:
            values[EXIF_PIXEL_X], values[EXIF_PIXEL_Y] = int(width), int(height)
            types[EXIF_PIXEL_X] = types[EXIF_PIXEL_Y] = _LONG
    return tags, found


def write_tiff(data: np.ndarray, meta: PhotoMetadata, out, xmp: bytes | None = None) -> None:
    """Write `data` with `meta`'s profile, IPTC, descriptive tags and sub-IFDs, and `xmp`, to `out`."""
    import tifffile

    from restorer import __version__

    extratags = []
    if meta.icc_profile:
        extratags.append((34675, "B", len(meta.icc_profile), meta.icc_profile, True))
    if xmp:
        extratags.append((700, "B", len(xmp), xmp, True))
    if meta.iptc:
        extratags.append((33723, "B", len(meta.iptc), meta.iptc, True))
    tags, subs = _read_exif(meta.exif, data.shape[1], data.shape[0])
    for code, text in tags.items():
        extratags.append((code, "s", 0, text, True))
    for pointer in subs:
        extratags.append((_PLACEHOLDERS[pointer], "I", 1, 0, True))
    # metadata=None: no tifffile JSON in ImageDescription, which holds the scan's own caption if any.
    kwargs: dict = {"metadata": None, "software": f"Restorer {__version__}"}
    if meta.dpi:
        kwargs.update(resolution=(meta.dpi[0], meta.dpi[1]), resolutionunit="INCH")
    photometric = "minisblack" if data.ndim == 2 else "rgb"
    extrasamples = ("unassalpha",) if data.ndim == 3 and data.shape[2] == 4 else None
    options = dict(photometric=photometric, compression="zlib", extratags=extratags, extrasamples=extrasamples,
                   byteorder="<", bigtiff=data.nbytes >= BIGTIFF_FROM_BYTES, **kwargs)
    if _writable_in_place(out):
        tifffile.imwrite(out, data, **options)
        if subs:
            _append_sub_ifds(out, subs)
    else:
        _write_through_memory(data, options, subs, out)


def _write_through_memory(data: np.ndarray, options: dict, subs: dict, out) -> None:
    """For a stream tifffile cannot write into (an os.fdopen handle's name is an int) or that cannot be
    read back to patch the sub-IFDs: the whole file built in memory, then copied to `out`."""
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, data, **options)
    if subs:
        _append_sub_ifds(buffer, subs)
    out.write(buffer.getbuffer())


def _writable_in_place(out) -> bool:
    """Whether tifffile can write straight into `out` and the sub-IFDs be patched there."""
    if isinstance(out, io.BytesIO):
        return True
    try:
        return isinstance(getattr(out, "name", None), str) and out.readable() and out.seekable()
    except (AttributeError, ValueError, OSError):
        return False


# Per kind of TIFF: the header Pillow needs to encode an IFD for it, where the first IFD's offset is,
# and the IFD's entry count format, entry size, offset format and the sub-IFD pointer's field type.
_LAYOUTS = {
    b"II*\x00": (b"II*\x00" + bytes(4), 4, "<H", 12, "<I", _LONG),  # classic TIFF
    b"II+\x00": (b"II+\x00\x08\x00\x00\x00" + bytes(8), 8, "<Q", 20, "<Q", _IFD8),  # BigTIFF
}


def _append_sub_ifds(fh, subs: dict[int, tuple[dict, dict]]) -> None:
    """Append `subs` to the TIFF in the seekable, readable and writable `fh` (little-endian, classic or
    BigTIFF, its first IFD holding the placeholders) and point the first IFD's entries at them.

    Only the header, the first IFD's entry table and the end of the file are read or written.
    """
    fh.seek(0)
    header = fh.read(16)
    layout = _LAYOUTS.get(bytes(header[:4]))
    if layout is None:
        return
    ifh, first_at, count_format, entry_size, offset_format, pointer_type = layout
    first = struct.unpack_from(offset_format, header, first_at)[0]
    fh.seek(first)
    count = struct.unpack(count_format, fh.read(struct.calcsize(count_format)))[0]
    table = first + struct.calcsize(count_format)
    raw = fh.read(entry_size * count)
    entries = [raw[entry_size * i : entry_size * (i + 1)] for i in range(count)]
    codes = [struct.unpack_from("<H", entry)[0] for entry in entries]
    end = fh.seek(0, io.SEEK_END)
    for pointer, (values, types) in subs.items():
        placeholder = _PLACEHOLDERS[pointer]
        if placeholder not in codes or pointer in codes:
            continue
        start = end + (end % 2)  # IFDs start on a word boundary
        directory = TiffImagePlugin.ImageFileDirectory_v2(ifh=ifh)
        for tag, value in values.items():
            if tag in types:
                directory.tagtype[tag] = types[tag]
            directory[tag] = value
        try:
            block = directory.tobytes(start)
        except Exception:  # noqa: BLE001 - a value Pillow cannot encode: keep the file, without this IFD
            continue
        fh.seek(end)
        fh.write(b"\x00" * (start - end) + block)
        end = start + len(block)
        index = codes.index(placeholder)
        # One offset: the IFD's. The entry's count and value fields are 4 bytes wide, or 8 in BigTIFF.
        entries[index] = struct.pack("<HH", pointer, pointer_type) + struct.pack(offset_format, 1) + \
            struct.pack(offset_format, start)
        codes[index] = pointer
    order = sorted(range(count), key=lambda i: codes[i])  # TIFF wants the entries sorted by tag
    fh.seek(table)
    fh.write(b"".join(entries[i] for i in order))
    fh.seek(0, io.SEEK_END)
