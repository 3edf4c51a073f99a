"""Reading the TIFFs Pillow cannot decode, through tifffile: floating-point samples, 16-bit grey with a
transparency mask, and CMYK at 16 bits, with the scan's resolution, descriptive tags, EXIF and GPS
fields, IPTC, XMP and profile.

Image contract: `read_tiff_with_tifffile(path)` returns a Photo of float32 RGB in [0, 1] (grey repeated
into three channels), an (H, W) alpha or None, and metadata whose bit depth is 16; UnreadablePhoto with
one sentence otherwise. The counterpart of restorer.tiff_writer.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from restorer.errors import UnreadablePhoto
from restorer.imaging import Photo, PhotoMetadata, float_samples_to_unit


def read_tiff_with_tifffile(path: Path) -> Photo:
    """A TIFF that Pillow cannot decode (floating-point samples, grey + alpha or CMYK at 16 bits), through tifffile.

    Float samples go through float_samples_to_unit, as _decode_high_depth's do; the result is
    written with 16 bits per channel.
    """
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            separated = page.photometric == tifffile.PHOTOMETRIC.SEPARATED
            inks = page.tags.get(332)  # InkSet: 1 (or absent) is CMYK; 2 names other inks
            if separated and ((inks is not None and inks.value != 1) or page.samplesperpixel not in (4, 5)):
                raise UnreadablePhoto(f"{path.name} is a TIFF printed with {page.samplesperpixel} inks other than "
                                      "CMYK, which Restorer cannot read; convert it to RGB first.")
            data = page.asarray()
            planar = page.planarconfig == tifffile.PLANARCONFIG.SEPARATE and page.samplesperpixel > 1
            dpi = tiff_dpi(page.tags)
            # A fifth CMYK sample is transparency only when ExtraSamples says so (1, 2: alpha); else a spot ink.
            cmyk_alpha = separated and any(int(e) in (1, 2) for e in (page.extrasamples or ()))
            pages = len(tif.pages)
            icc = page.tags.get(34675)
            xmp = page.tags.get(700)
            icc_profile = bytes(icc.value) if icc is not None else None
            xmp_packet = bytes(xmp.value) if xmp is not None and isinstance(xmp.value, (bytes, bytearray)) else None
            exif, iptc = tiff_exif(page.tags), tiff_iptc(page.tags)
            orientation = int(page.tags[274].value) if 274 in page.tags else 1
    except UnreadablePhoto:
        raise
    except Exception as exc:  # tifffile raises many kinds; the user needs one sentence
        raise UnreadablePhoto(f"{path.name} is a TIFF that could not be decoded ({exc}).") from None
    if planar and data.ndim == 3:
        data = np.moveaxis(data, 0, -1)  # planar (separate) samples: (S, H, W) -> (H, W, S)
    if separated:  # CMYK (+ alpha): through the file's own profile, which describes inks, not these pixels
        rgb, alpha = _cmyk_pixels(path, data, icc_profile, cmyk_alpha)
        grayscale, icc_profile = False, None  # the pixels are sRGB now, which an untagged result means
    else:
        rgb, alpha, grayscale = _pixels(path, data)
    metadata = PhotoMetadata(source=path, format="TIFF", bit_depth=16, was_grayscale=grayscale,
                             icc_profile=icc_profile, xmp=xmp_packet, pages=pages, dpi=dpi, exif=exif, iptc=iptc)
    return _upright(Photo(rgb, metadata, alpha), orientation)


def _pixels(path: Path, data: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(float32 RGB, alpha or None, whether grey) of grey, grey + alpha, RGB or RGBA samples."""
    if data.ndim not in (2, 3) or (data.ndim == 3 and data.shape[2] not in (1, 2, 3, 4)):
        raise UnreadablePhoto(f"{path.name} holds a {data.shape} array, not a photo Restorer can restore.")
    if np.issubdtype(data.dtype, np.floating):
        pixels = float_samples_to_unit(data)
    elif np.issubdtype(data.dtype, np.integer):
        pixels = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
    else:
        raise UnreadablePhoto(f"{path.name} has {data.dtype} samples, which Restorer cannot restore.")
    grayscale = pixels.ndim == 2 or pixels.shape[2] in (1, 2)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    alpha = pixels[..., -1].copy() if pixels.shape[2] in (2, 4) else None  # grey + alpha, or RGBA
    rgb = np.repeat(pixels[..., :1], 3, axis=2) if grayscale else pixels[..., :3]
    if alpha is not None and float(alpha.min()) >= 1.0:
        alpha = None
    return (np.ascontiguousarray(np.clip(rgb, 0.0, 1.0), dtype=np.float32),
            None if alpha is None else np.clip(alpha, 0.0, 1.0), grayscale)


def _upright(photo: Photo, orientation: int) -> Photo:
    """`photo` turned as its Orientation tag (1..8) says, as Pillow's path does for every other file; the
    result is written upright, with no Orientation tag."""
    if orientation not in range(2, 9):
        return photo
    from restorer.imaging import apply_orientation

    meta = photo.metadata
    if orientation >= 5 and meta.dpi:  # a quarter turn swaps the axes
        meta = replace(meta, dpi=(meta.dpi[1], meta.dpi[0]))
    alpha = None if photo.alpha is None else apply_orientation(photo.alpha, orientation)
    return Photo(apply_orientation(photo.pixels, orientation), meta, alpha)


def _cmyk_pixels(path: Path, data: np.ndarray, profile: bytes | None, has_alpha: bool
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """(sRGB float32, alpha or None) of a CMYK TIFF's (H, W, 4|5) samples (restorer.cmyk); a fifth sample
    is alpha when `has_alpha`, else a spot ink, left out."""
    from restorer.cmyk import cmyk_to_srgb

    if data.ndim != 3 or data.shape[2] not in (4, 5) or not np.issubdtype(data.dtype, np.unsignedinteger):
        raise UnreadablePhoto(f"{path.name} holds CMYK samples laid out as {data.shape} {data.dtype}, "
                              "which Restorer cannot read; convert it to RGB first.")
    unit = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
    alpha = unit[..., 4].copy() if data.shape[2] == 5 and has_alpha else None
    if alpha is not None and float(alpha.min()) >= 1.0:
        alpha = None
    return cmyk_to_srgb(unit[..., :4], profile), alpha


def tiff_exif(tags) -> bytes | None:
    """A tifffile page's descriptive tags (caption, scanner, date, artist, copyright) and its EXIF IFD's
    text, whole-number and single-fraction fields (DateTimeOriginal, ISO, ExposureTime, FNumber and the
    like), as EXIF bytes, or None.

    The TIFFs read through tifffile (floating-point samples, 16-bit CMYK) would otherwise lose what
    the archive's scanner and catalogue wrote in them.
    """
    import tifffile

    from restorer.tiff_writer import DESCRIPTIVE_TAGS

    exif = Image.Exif()
    for code in DESCRIPTIVE_TAGS:
        tag = tags.get(code)
        if tag is not None and isinstance(tag.value, str) and tag.value.strip("\x00 "):
            exif[code] = tag.value
    sub = tags.get(34665)
    if sub is not None and isinstance(sub.value, dict):
        fields = {}
        for name, value in sub.value.items():
            code = tifffile.TIFF.TAGS.get(name) if isinstance(name, str) else name
            if not isinstance(code, int) or isinstance(value, bool):
                continue
            if isinstance(value, (str, int)):
                fields[code] = value
            elif (isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)
                  and value[1] != 0):  # tifffile gives a RATIONAL as (numerator, denominator)
                from PIL.TiffImagePlugin import IFDRational

                fields[code] = IFDRational(value[0], value[1])
        if fields:
            exif.get_ifd(0x8769).update(fields)
    gps = tags.get(34853)
    if gps is not None and isinstance(gps.value, dict):
        exif.get_ifd(0x8825).update(gps_fields(gps.value))
    try:
        return exif.tobytes() if len(exif) or exif.get_ifd(0x8769) or exif.get_ifd(0x8825) else None
    except Exception:  # noqa: BLE001 - a field Pillow cannot encode costs the EXIF, not the photo
        return None


# GPS fields that are one or more RATIONALs (latitude, longitude, altitude, time of day); tifffile gives
# them as flat (numerator, denominator, ...) tuples. The references (N/S, E/W) are text.
_GPS_RATIONALS = {2, 4, 6, 7}
_GPS_TEXT = {1, 3, 5, 18, 29}


def gps_fields(values: dict) -> dict:
    """{GPS tag: value} for Pillow from tifffile's {name: value} of a GPS IFD: position and time."""
    import tifffile
    from PIL.TiffImagePlugin import IFDRational

    fields = {}
    for name, value in values.items():
        code = tifffile.TIFF.GPS_TAGS.get(name) if isinstance(name, str) else name
        if code in _GPS_TEXT and isinstance(value, str):
            fields[code] = value
        elif code in _GPS_RATIONALS and isinstance(value, tuple) and value and len(value) % 2 == 0 \
                and all(isinstance(v, int) for v in value) and all(value[1::2]):
            pairs = tuple(IFDRational(value[i], value[i + 1]) for i in range(0, len(value), 2))
            fields[code] = pairs[0] if code == 6 else pairs  # altitude is one number
        elif code == 0 and isinstance(value, (bytes, tuple)) and len(value) == 4:
            fields[code] = bytes(value)  # GPSVersionID
    return fields


def tiff_iptc(tags) -> bytes | None:
    """The IPTC IIM block of TIFF tag 33723. tifffile gives it as the bytes in the file's order even where
    Photoshop typed it LONG; anything else is not an IIM block."""
    tag = tags.get(33723)
    value = None if tag is None else tag.value
    return bytes(value) if isinstance(value, (bytes, bytearray)) and value else None


def tiff_dpi(tags) -> tuple[float, float] | None:
    """Pixels per inch from a tifffile page's XResolution, YResolution and ResolutionUnit (2 inch, 3 cm)."""
    try:
        x, y = tags[282].value, tags[283].value
        unit = int(tags[296].value) if 296 in tags else 2
        per = {2: 1.0, 3: 2.54}.get(unit)
        if per is None:
            return None
        xs, ys = x[0] / x[1], y[0] / y[1]
        return (xs * per, ys * per) if xs > 0 and ys > 0 else None
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError):
        return None
