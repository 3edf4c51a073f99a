"""Read and write photos, keeping what matters to the person who owns them.

The one colour convention inside Restorer is RGB float32 (H, W, 3) in [0, 1].
`read_photo` applies the EXIF orientation, so pixels are always upright, and
remembers the file's EXIF (orientation reset to 1), ICC profile, DPI, bit
depth, alpha channel and, for JPEGs, the quantisation tables and block
layout. `write_photo` carries all of that to the new file (not the JPEG
details, which describe the old file), writes it atomically (temporary file in
the same folder, then rename) and refuses to overwrite the original.

16-bit PNG and TIFF scans are decoded with OpenCV (Pillow reads 48-bit RGB as
8-bit) and written back at 16 bits: PNG through OpenCV with the ICC/EXIF/DPI
chunks spliced in, TIFF through tifffile.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import sys
import tempfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from restorer.errors import UnreadablePhoto, UnwritableOutput, unwritable
from restorer.formats import CAMERA_RAW_SUFFIXES, HEIF_SUFFIXES, UNREADABLE_IMAGE_SUFFIXES
from restorer.heif import ensure_heif_opener, heif_bit_depth, read_deep_heif

# Decompression bombs: allow large archival scans (up to ~600 Mpx), refuse worse.
Image.MAX_IMAGE_PIXELS = 600_000_000

WRITABLE_FORMATS = {"png": ".png", "jpg": ".jpg", "tiff": ".tif", "webp": ".webp", "bmp": ".bmp"}
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class JpegLayout:
    """How a JPEG file coded its pixels, so a restoration can stay consistent with the file.

    `height` x `width` is the image in the file's own orientation; `orientation` the EXIF
    orientation `read_photo` applied to make it upright. `luma_table` / `chroma_table` index
    PhotoMetadata.jpeg_quantization (chroma None for a greyscale file); `chroma_step` is
    (rows, columns) of luma per chroma sample: (2, 2) for 4:2:0, (1, 2) for 4:2:2, (1, 1) for 4:4:4.
    """

    height: int
    width: int
    luma_table: int
    chroma_table: int | None
    chroma_step: tuple[int, int]
    orientation: int = 1


def jpeg_layout_of(image: Image.Image, orientation: int = 1) -> JpegLayout | None:
    """The layout of an opened JPEG in Pillow, or None where it is not plain YCbCr or greyscale.

    Adobe RGB-coded and CMYK files, and chroma sampled other than by 1 or 2 per axis, get None:
    their pixels are not the YCbCr planes the consistency projection reasons about.
    """
    layers = getattr(image, "layer", None)
    tables = getattr(image, "quantization", None)
    if image.format != "JPEG" or not layers or not tables:
        return None
    if image.mode == "L" and len(layers) == 1:
        return JpegLayout(image.height, image.width, int(layers[0][3]), None, (1, 1), orientation)
    if image.mode != "RGB" or len(layers) != 3 or image.info.get("adobe_transform") == 0:
        return None
    (_, luma_h, luma_v, luma_table), (_, cb_h, cb_v, chroma_table), (_, cr_h, cr_v, cr_table) = layers
    if (cb_h, cb_v, chroma_table) != (cr_h, cr_v, cr_table) or luma_h % cb_h or luma_v % cb_v:
        return None
    step = (luma_v // cb_v, luma_h // cb_h)
    if not set(step) <= {1, 2} or {luma_table, chroma_table} - set(tables):
        return None
    return JpegLayout(image.height, image.width, int(luma_table), int(chroma_table), step, orientation)


@dataclass(frozen=True)
class PhotoMetadata:
    """What a file said about itself besides its pixels."""

    source: Path | None = None
    format: str = "PNG"
    bit_depth: int = 8
    was_grayscale: bool = False
    icc_profile: bytes | None = None
    exif: bytes | None = None
    dpi: tuple[float, float] | None = None
    jpeg_quantization: dict[int, list[int]] | None = None
    jpeg_layout: JpegLayout | None = None
    xmp: bytes | None = None  # the file's own XMP packet, carried over and merged on writing
    iptc: bytes | None = None  # IPTC IIM (JPEG APP13 / TIFF tag 33723), carried over
    # What the pipeline did to these pixels, stage by stage (restorer.provenance.StageRecord);
    # written into the result's XMP packet.
    history: tuple = ()
    # Pages (frames) in the file: a multi-page TIFF is restored from its first page only, and says so.
    pages: int = 1
    # The file's own captions, (keyword, text): PNG text chunks (Title, Author, Description...) and a
    # JPEG's comment as "Comment". Scanning software and old catalogues put who and when there.
    captions: tuple[tuple[str, str], ...] = ()
    # A PNG's colour encoding without a profile: (chunk type, payload) of its gAMA, cHRM and sRGB
    # chunks. A PNG saved with gamma 1.0 (linear) or 1/1.8 (old Macs) looks wrong when they are lost.
    png_colour: tuple[tuple[bytes, bytes], ...] = ()

    def pages_notice(self) -> str:
        """One sentence when the file has pages the result will not hold, else ""."""
        if self.pages <= 1 or self.source is None:
            return ""
        unit = "pages" if self.format in ("TIFF", "PDF") else "frames"  # an animated GIF, a HEIF burst
        return (f"{self.source.name} has {self.pages} {unit}; only the first was restored "
                f"(the original keeps them all).")


@dataclass(frozen=True, eq=False)
class Photo:
    """Pixels plus metadata.

    `pixels` is RGB (H, W, 3), float32 in [0, 1]. The final super-resolution
    stage may hand back uint16 (0..65535) instead, so that a 48-megapixel
    result never needs a float32 copy; call `float_pixels()` when unsure.
    `alpha`, when the file had one, is float32 (H, W) in [0, 1].
    """

    pixels: np.ndarray
    metadata: PhotoMetadata = field(default_factory=PhotoMetadata)
    alpha: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    def float_pixels(self) -> np.ndarray:
        """Pixels as float32 in [0, 1], whatever the storage."""
        if self.pixels.dtype == np.uint16:
            return self.pixels.astype(np.float32) / 65535.0
        return self.pixels

    def with_pixels(self, pixels: np.ndarray, alpha: np.ndarray | None = None) -> "Photo":
        """A new Photo with other pixels (and alpha, resized by the caller if the size changed)."""
        return replace(self, pixels=pixels, alpha=alpha if alpha is not None else self.alpha)


# --- reading ------------------------------------------------------------------------------


def read_photo(path: Path | str) -> Photo:
    """Decode `path` into an upright Photo.

    Raises UnreadablePhoto with one sentence naming the file and the reason.
    """
    path = Path(path)
    if not path.exists():
        raise UnreadablePhoto(f"{path} does not exist.")
    if path.is_dir():
        raise UnreadablePhoto(f"{path} is a folder, not a photo.")
    if path.stat().st_size == 0:  # a copy that never finished, or a placeholder a sync left
        raise UnreadablePhoto(f"{path.name} is empty (0 bytes), so there is no picture in it to read.")
    if path.suffix.lower() in CAMERA_RAW_SUFFIXES:
        raise UnreadablePhoto(f"{path.name} is a camera raw file, which Restorer cannot read; develop it to "
                              "TIFF (16-bit keeps its depth) in your raw converter first.")
    if path.suffix.lower() in HEIF_SUFFIXES or _looks_like_heif(path):
        ensure_heif_opener(path)
    from restorer.psd import is_photoshop_file

    if is_photoshop_file(path):
        # Ours first: Pillow reads 8-bit PSD only, and drops its EXIF, XMP and IPTC. Pillow second, for
        # the 8-bit modes ours leaves out (CMYK, indexed, Lab, duotone); our sentence if both fail.
        try:
            return _photo_from_psd(path)
        except UnreadablePhoto as ours:
            try:
                return _open_with_pillow(path)
            except UnreadablePhoto:
                raise ours from None
    return _open_with_pillow(path)


def _open_with_pillow(path: Path) -> Photo:
    """Decode `path` through Pillow (tifffile for the TIFFs Pillow cannot decode); UnreadablePhoto otherwise."""
    try:
        with Image.open(path) as image:
            image.load()
            return _photo_from_pil(path, image)
    except UnreadablePhoto:
        raise
    except UnidentifiedImageError:
        if path.suffix.lower() in (".tif", ".tiff"):
            return read_tiff_with_tifffile(path)  # floating-point samples, which Pillow cannot decode
        suffix = path.suffix.lower()
        if suffix in UNREADABLE_IMAGE_SUFFIXES:
            raise UnreadablePhoto(f"{path.name} is a {suffix} file, a format Restorer cannot read; export it as "
                                  "TIFF or PNG first.") from None
        raise UnreadablePhoto(f"{path.name} is not an image Restorer can read (unknown or unsupported format).") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc).rstrip(".") or type(exc).__name__
        if "truncated" in reason.lower():
            reason = "the file is truncated or damaged"
        elif "broken data stream" in reason.lower():  # zlib's complaint: a PNG's compressed data is corrupt
            reason = "the file is damaged: its compressed data is corrupt"
        raise UnreadablePhoto(f"{path.name} could not be read ({reason}).") from None
    except Image.DecompressionBombError:
        raise UnreadablePhoto(f"{path.name} is larger than 600 megapixels, which Restorer refuses to open.") from None


# The brands of an ISO-BMFF 'ftyp' box that mark a HEIF still image (a .heic renamed .jpg still opens).
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def _looks_like_heif(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False  # Image.open below says why, in one sentence
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _photo_from_pil(path: Path, image: Image.Image) -> Photo:
    orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
    bit_depth = _bit_depth(image)
    grayscale = image.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
    alpha = None
    if image.format == "HEIF" and bit_depth == 16:
        rgb, alpha = read_deep_heif(path)  # upright already: libheif applies the file's rotation
    elif bit_depth == 16 or image.mode in ("I", "F"):
        try:
            rgb, alpha = _decode_high_depth(path, image)
        except UnreadablePhoto:
            if image.format != "TIFF":
                raise
            return read_tiff_with_tifffile(path)  # grey + alpha, CMYK and other layouts OpenCV refuses
        rgb = apply_orientation(rgb, orientation)
        alpha = None if alpha is None else apply_orientation(alpha, orientation)
    else:
        upright = ImageOps.exif_transpose(image) if orientation != 1 else image
        if upright.mode == "CMYK" and image.info.get("icc_profile"):
            upright = _cmyk_to_srgb(path, upright, image.info["icc_profile"])
        if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
            rgba = upright.convert("RGBA")
            alpha = np.asarray(rgba, dtype=np.float32)[..., 3] / 255.0
            rgb = np.asarray(rgba.convert("RGB"), dtype=np.float32) / 255.0
        else:
            rgb = np.asarray(upright.convert("RGB"), dtype=np.float32) / 255.0
    if alpha is not None and float(alpha.min()) >= 1.0:
        alpha = None
    metadata = PhotoMetadata(
        source=path,
        format=image.format or path.suffix.lstrip(".").upper(),
        bit_depth=bit_depth,
        was_grayscale=grayscale,
        # A CMYK profile does not describe the RGB pixels made from it (_cmyk_to_srgb made them sRGB).
        icc_profile=None if image.mode == "CMYK" else image.info.get("icc_profile") or None,
        exif=_exif_without_orientation(image.getexif()),
        dpi=_dpi(image),
        jpeg_quantization=getattr(image, "quantization", None) if image.format == "JPEG" else None,
        jpeg_layout=jpeg_layout_of(image, int(orientation)),
        xmp=_xmp_of(image),
        iptc=_iptc_of(image),
        # A PSD's "frames" are its layers; the picture read is their flattened composite, all of them.
        pages=1 if image.format == "PSD" else int(getattr(image, "n_frames", 1) or 1),
        captions=_captions_of(image),
        png_colour=_png_colour_of(image),
    )
    return Photo(np.ascontiguousarray(rgb, dtype=np.float32), metadata, alpha)


def _cmyk_to_srgb(path: Path, image: Image.Image, profile: bytes) -> Image.Image:
    """A CMYK image (a print shop's or a publisher's scan) in sRGB through its own ICC profile.

    Pillow's plain conversion ignores the profile; through it, the colours are the ones the file
    means. A profile LittleCMS cannot use falls back to the plain conversion.
    """
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB",
                                         renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image


def _photo_from_psd(path: Path) -> Photo:
    """A Photoshop file's flattened picture at its own depth (restorer.psd), with its profile and metadata."""
    from restorer.psd import read_psd_composite

    psd = read_psd_composite(path)
    exif = None
    if psd.exif:  # Photoshop stores the picture as it shows it: upright
        try:
            parsed = Image.Exif()
            parsed.load(b"Exif\x00\x00" + psd.exif)
            exif = _exif_without_orientation(parsed)
        except Exception:  # noqa: BLE001 - damaged EXIF costs the EXIF, not the photo
            exif = None
    metadata = PhotoMetadata(source=path, format="PSD", bit_depth=psd.bit_depth, was_grayscale=psd.gray,
                             icc_profile=psd.icc_profile, exif=exif, dpi=psd.dpi, xmp=psd.xmp, iptc=psd.iptc)
    return Photo(psd.pixels, metadata, psd.alpha)


def icc_profile_for(profile: bytes | None, *, gray: bool) -> bytes | None:
    """`profile` if it describes pixels of this kind (grey, or RGB), else None.

    A file whose profile is for another colour space is invalid, and colour-managed software
    rejects or misrenders it: a grey scan's grey profile cannot go with its colorized result,
    nor an RGB profile with a result written as one grey channel. Untagged RGB is read as sRGB.
    """
    if not profile or len(profile) < 20:
        return None
    space = profile[16:20]  # the ICC header's data colour space
    return profile if space == (b"GRAY" if gray else b"RGB ") else None


def float_samples_to_unit(data: np.ndarray) -> np.ndarray:
    """Floating-point samples as float32 meant for 0..1: NaN as 0, and scaled down by their peak when
    brighter than 1 (linear HDR scans), so nothing clips to white."""
    pixels = np.nan_to_num(data.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    peak = float(pixels.max()) if pixels.size else 1.0
    return pixels / peak if peak > 1.0 else pixels


def read_tiff_with_tifffile(path: Path) -> Photo:
    """A TIFF Pillow cannot decode, through restorer.tiff_reader (imported here, as it imports this module)."""
    from restorer.tiff_reader import read_tiff_with_tifffile as read

    return read(path)


def _xmp_of(image: Image.Image) -> bytes | None:
    """The raw XMP packet: JPEG APP1, WebP XMP chunk, TIFF tag 700 (Pillow's "xmp"), PNG iTXt."""
    packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if isinstance(packet, str):
        packet = packet.encode("utf-8")
    return bytes(packet) if packet else None


def _iptc_of(image: Image.Image) -> bytes | None:
    """The IPTC IIM block, bare (as TIFF's tag 33723 holds it): from a TIFF's tag 33723, or unwrapped
    from the Photoshop image resource in a JPEG's APP13 segment. One form, so each writer can put it
    where its format expects it: a JPEG's wrapper in a TIFF tag is unreadable, and so is bare IIM in APP13."""
    if image.format == "JPEG":
        from restorer.psd import IPTC_RESOURCE, JPEG_APP13_HEADER, image_resources

        for marker, data in getattr(image, "applist", []):
            if marker == "APP13" and data.startswith(JPEG_APP13_HEADER):
                return image_resources(data[len(JPEG_APP13_HEADER) :]).get(IPTC_RESOURCE)
    if image.format == "TIFF":
        value = image.tag_v2.get(33723)
        if isinstance(value, bytes):
            return value
        if isinstance(value, tuple):
            try:
                return bytes(value)
            except (TypeError, ValueError):
                return None
    return None


def _bit_depth(image: Image.Image) -> int:
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        return 16
    if image.format == "HEIF" and heif_bit_depth(image) > 8:
        return 16
    if image.format == "JPEG2000" and _jpeg2000_bits(image.filename) > 8:  # type: ignore[arg-type]
        return 16  # Pillow hands over 16-bit RGB JPEG 2000 as 8-bit RGB
    if image.format == "TIFF":
        bits = image.tag_v2.get(258)  # BitsPerSample
        if bits and max(bits if isinstance(bits, tuple) else (bits,)) > 8:
            return 16
    if image.format == "PNG" and image.mode == "RGB":
        # Pillow reads 48-bit PNG as 8-bit RGB; the IHDR says what the file really holds.
        with open(image.filename, "rb") as fh:  # type: ignore[arg-type]
            header = fh.read(33)
        if len(header) >= 25 and header[24] == 16:
            return 16
    return 8


def _jpeg2000_bits(path) -> int:
    """Bits per sample of a JPEG 2000 file, from its header: the JP2 'ihdr' box, or a bare codestream's
    SIZ marker (first component). 8 when the header cannot be read."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except (OSError, TypeError):
        return 8
    box = head.find(b"ihdr")
    if box >= 0 and len(head) > box + 14:
        bpc = head[box + 14]  # after height (4), width (4) and components (2)
        return (bpc & 0x7F) + 1 if bpc != 0xFF else 16  # 0xFF: bits vary by component
    siz = head.find(b"\xff\x51")
    if head[:2] == b"\xff\x4f" and siz >= 0 and len(head) > siz + 40:
        return (head[siz + 40] & 0x7F) + 1  # Ssiz of the first component
    return 8


def _decode_high_depth(path: Path, image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    data = np.fromfile(str(path), dtype=np.uint8)
    quiet = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # a refusal is ours to word, in one sentence
    try:
        decoded = cv2.imdecode(data, cv2.IMREAD_UNCHANGED | cv2.IMREAD_ANYDEPTH)
    finally:
        cv2.utils.logging.setLogLevel(quiet)
    if decoded is None:
        raise UnreadablePhoto(f"{path.name} is a high-bit-depth image that could not be decoded.")
    if decoded.dtype == np.uint16:
        scale = 65535.0
    elif decoded.dtype == np.uint8:
        scale = 255.0
    else:
        decoded, scale = float_samples_to_unit(decoded), 1.0
    pixels = decoded.astype(np.float32) / scale
    alpha = None
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[..., None], 3, axis=2)
    elif pixels.shape[2] == 4:
        alpha = pixels[..., 3].copy()
        pixels = pixels[..., 2::-1]
    else:
        pixels = pixels[..., 2::-1]  # OpenCV decodes BGR; convert at the edge.
    return np.ascontiguousarray(np.clip(pixels, 0.0, 1.0)), alpha


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an (H, W[, C]) array."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.rot90(a, 1)[::-1],
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(int(orientation))
    return np.ascontiguousarray(op(pixels)) if op else pixels


def _exif_without_orientation(exif: Image.Exif) -> bytes | None:
    if not exif:
        return None
    if _EXIF_ORIENTATION in exif:
        exif[_EXIF_ORIENTATION] = 1  # pixels are upright now; a stale tag would rotate them twice
    return exif.tobytes()


def _captions_of(image: Image.Image) -> tuple[tuple[str, str], ...]:
    """A file's text chunks and comment (see PhotoMetadata.captions); not its XMP, carried on its own."""
    captions = []
    if image.format == "PNG":
        for keyword, text in (getattr(image, "text", None) or {}).items():
            # ImageMagick's "Raw profile type exif/iptc/xmp" chunks hold hex dumps of other blocks.
            if isinstance(text, str) and keyword != "XML:com.adobe.xmp" and not keyword.startswith("Raw profile"):
                captions.append((keyword, text))
    comment = image.info.get("comment")
    if isinstance(comment, bytes):
        try:
            comment = comment.decode("utf-8")
        except UnicodeDecodeError:
            comment = comment.decode("latin-1")
    if isinstance(comment, str) and comment.strip("\x00 \n"):
        captions.append(("Comment", comment.strip("\x00")))
    return tuple(captions)


def _png_colour_of(image: Image.Image) -> tuple[tuple[bytes, bytes], ...]:
    """A PNG's gAMA, cHRM and sRGB chunks as (type, payload), rebuilt from what Pillow parsed."""
    if image.format != "PNG":
        return ()
    chunks = []
    gamma, white_and_primaries, intent = (image.info.get(k) for k in ("gamma", "chromaticity", "srgb"))
    if isinstance(gamma, (int, float)) and gamma > 0:
        chunks.append((b"gAMA", struct.pack(">I", int(round(gamma * 100_000)))))
    if isinstance(white_and_primaries, tuple) and len(white_and_primaries) == 8:
        chunks.append((b"cHRM", struct.pack(">8I", *(int(round(v * 100_000)) for v in white_and_primaries))))
    if isinstance(intent, int) and 0 <= intent <= 3:
        chunks.append((b"sRGB", bytes([intent])))
    return tuple(chunks)


def png_colour_chunks(meta: PhotoMetadata) -> tuple[tuple[bytes, bytes], ...]:
    """The colour chunks to write into a PNG result: sRGB only where no ICC profile goes with it
    (the PNG specification forbids both); gAMA and cHRM stay as the fallback for readers without ICC."""
    return tuple(c for c in meta.png_colour if not (c[0] == b"sRGB" and meta.icc_profile))


def _png_text_chunk(keyword: str, text: str) -> tuple[bytes, bytes]:
    """(chunk type, payload) for a caption: tEXt when Latin-1 holds it, else iTXt (UTF-8)."""
    key = keyword.encode("latin-1", "replace")[:79]
    try:
        return b"tEXt", key + b"\x00" + text.encode("latin-1")
    except UnicodeEncodeError:
        return b"iTXt", key + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")


EXIF_PIXEL_X, EXIF_PIXEL_Y = 0xA002, 0xA003  # in the Exif sub-IFD: the picture's size in pixels


def exif_body(exif: bytes) -> bytes:
    """EXIF bytes without the "Exif\\0\\0" header JPEG's APP1 puts before the TIFF structure."""
    return exif[6:] if exif.startswith(b"Exif\x00\x00") else exif


def exif_for_size(exif: bytes, width: int, height: int) -> bytes:
    """EXIF bytes whose recorded pixel size, if it has one, is `width` x `height`.

    An enlarged result keeping the scan's 640 x 480 there misleads the software that trusts it.
    (Pillow already leaves out the scan's embedded thumbnail, which would show the damaged original.)
    """
    from PIL import ExifTags

    parsed = Image.Exif()
    try:
        parsed.load(exif_body(exif))
        sub = parsed.get_ifd(ExifTags.IFD.Exif)
    except Exception:  # noqa: BLE001 - EXIF of unknown origin: write it back as it came
        return exif
    if EXIF_PIXEL_X not in sub and EXIF_PIXEL_Y not in sub:
        return exif
    sub[EXIF_PIXEL_X], sub[EXIF_PIXEL_Y] = int(width), int(height)
    return parsed.tobytes()


def _dpi(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        return float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None


# --- writing ------------------------------------------------------------------------------


def output_suffix(photo: Photo, requested: str | None) -> str:
    """The file suffix for a result: the requested format, else lossless and deep enough.

    JPEG inputs become PNG by default: re-encoding a restored photo as JPEG
    would put back the artifacts we just removed.
    """
    if requested:
        key = requested.lower().lstrip(".").replace("jpeg", "jpg").replace("tif", "tiff").replace("tifff", "tiff")
        if key not in WRITABLE_FORMATS:
            raise UnwritableOutput(f"Restorer cannot write '{requested}' files; choose one of {', '.join(WRITABLE_FORMATS)}.")
        return WRITABLE_FORMATS[key]
    if photo.metadata.format in ("TIFF", "PSD"):  # a Photoshop master's result: the archival format
        return ".tif"
    return ".png"


def write_photo(photo: Photo, path: Path | str, *, bit_depth: int | None = None, jpeg_quality: int = 95,
                protect: tuple[Path, ...] = (), recipe_hash: str = "", engine: str = "") -> Path:
    """Write `photo` to `path` atomically and return the path.

    `bit_depth` defaults to the source's (16 only for PNG and TIFF). The
    source file and every path in `protect` are never overwritten. The file's
    XMP packet is the source's, merged with a record of `photo.metadata.history`
    (restorer.provenance), tagged with `recipe_hash` and `engine` when given.
    Raises UnwritableOutput with one sentence naming the file and the reason.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    protected = [p for p in (photo.metadata.source, *protect) if p is not None]
    for original in protected:
        if _same_file(path, original):
            raise UnwritableOutput(f"{path.name} is an original photo; Restorer never overwrites originals, choose another name.")
    depth = bit_depth or photo.metadata.bit_depth
    if suffix not in (".png", ".tif", ".tiff"):
        depth = 8
    if suffix not in _FORMATS:
        raise UnwritableOutput(f"Restorer cannot write '{suffix}' files; choose .png, .jpg, .tif, .webp or .bmp.")
    xmp = _xmp_packet(photo.metadata, recipe_hash, engine, photo.size)
    try:
        with atomic_file(path) as fh:
            _encode(photo, suffix, depth, jpeg_quality, fh, xmp)  # straight to disk: no copy in memory
    except OSError as exc:
        raise unwritable(path, exc) from None
    return path


@contextlib.contextmanager
def atomic_file(path: Path):
    """A binary file handle whose content appears at `path` only once complete.

    Writes to a temporary file in the same folder, then fsyncs and renames it into
    place; on any error the temporary file is removed and `path` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part", dir=path.parent)
    try:
        # mkstemp makes 0600 files; results should get the user's usual permissions.
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.close(fd)
        # Opened by name, readable: writers that patch what they wrote (TIFF's sub-IFDs) do it in place.
        with open(tmp_name, "w+b") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str) -> Path:
    """Write UTF-8 text (a recipe, a sidecar) atomically; raises OSError on failure."""
    with atomic_file(Path(path)) as fh:
        fh.write(text.encode("utf-8"))
    return Path(path)


def _umask() -> int:
    if sys.platform == "win32":
        return 0
    current = os.umask(0o022)
    os.umask(current)
    return current


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _quantize(photo: Photo, depth: int) -> np.ndarray:
    """(H, W, 3|4) uint8 or uint16 RGB(A), rounding rather than truncating."""
    if depth == 16:
        if photo.pixels.dtype == np.uint16:
            rgb = photo.pixels
        else:
            rgb = (np.clip(photo.pixels, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)
        maxval = 65535.0
    else:
        if photo.pixels.dtype == np.uint16:
            # Rounds like the float path, with no 32-bit temporaries (a 48 Mpx result would need 1.2 GB).
            rgb = cv2.convertScaleAbs(photo.pixels, alpha=255.0 / 65535.0)
        else:
            rgb = (np.clip(photo.pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        maxval = 255.0
    if photo.alpha is not None:
        alpha = (np.clip(photo.alpha, 0.0, 1.0) * maxval + 0.5).astype(rgb.dtype)
        rgb = np.concatenate([rgb, alpha[..., None]], axis=2)
    return rgb


def _still_gray(photo: Photo) -> bool:
    if not photo.metadata.was_grayscale:
        return False
    px = photo.pixels[::7, ::7]
    tolerance = 257 if px.dtype == np.uint16 else 1.0 / 255.0
    return bool(np.abs(px[..., 0].astype(np.float32) - px[..., 1]).max() <= tolerance
                and np.abs(px[..., 1].astype(np.float32) - px[..., 2]).max() <= tolerance)


_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP",
            ".bmp": "BMP"}


def _xmp_packet(meta: PhotoMetadata, recipe_hash: str, engine: str, size: tuple[int, int]) -> bytes | None:
    """The packet to embed: the source's own, with this run's provenance merged in when there is one,
    upright and `size` (width, height) wherever it states an orientation or a size."""
    from restorer.provenance import with_geometry

    if not meta.history:
        return with_geometry(meta.xmp, *size)
    from restorer import __version__
    from restorer.provenance import Provenance, build_packet

    record = Provenance(f"Restorer {__version__}", tuple(meta.history), recipe_hash, engine)
    return with_geometry(build_packet(record, meta.xmp, meta.iptc, meta.captions), *size)


# A JPEG marker segment holds at most 65,533 bytes; XMP's own header takes 29 of them.
_JPEG_XMP_LIMIT = 65_504


def _encode(photo: Photo, suffix: str, depth: int, jpeg_quality: int, out, xmp: bytes | None = None) -> None:
    """Encode `photo` into the binary file object `out`, with `xmp` as its XMP packet."""
    data = _quantize(photo, depth)
    gray = _still_gray(photo) and data.shape[2] == 3
    meta = photo.metadata
    one_channel = gray or data.shape[2] == 1
    if suffix != ".png" and not meta.icc_profile and meta.png_colour:
        # A PNG result keeps the gAMA/cHRM chunks themselves; other formats have none, so they get the
        # profile that says the same (a linear PNG's result would otherwise be shown as sRGB, too dark).
        from restorer.png_colour import profile_from_png_chunks

        meta = replace(meta, icc_profile=profile_from_png_chunks(meta.png_colour, gray=one_channel))
    meta = replace(meta, icc_profile=icc_profile_for(meta.icc_profile, gray=one_channel))
    if depth == 16 and suffix == ".png":
        arr = data[..., 0] if gray else cv2.cvtColor(data, cv2.COLOR_RGBA2BGRA if data.shape[2] == 4 else cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".png", arr)
        if not ok:
            raise UnwritableOutput("OpenCV could not encode the 16-bit PNG.")
        out.write(_png_with_metadata(buf.tobytes(), meta, xmp))
        return
    if suffix in (".tif", ".tiff"):
        # 8 and 16 bits alike through tifffile: Pillow cannot write 48-bit RGB, and its TIFF writer
        # drops EXIF's own IFD (DateTimeOriginal) and the scan's descriptive tags.
        from restorer.tiff_writer import write_tiff

        write_tiff(data[..., 0] if gray else data, meta, out, xmp)
        return
    image = Image.fromarray(data[..., 0] if gray else data)
    if suffix in (".jpg", ".jpeg") and image.mode == "RGBA":
        image = image.convert("RGB")  # JPEG has no alpha channel
    options: dict = {}
    if meta.icc_profile:
        options["icc_profile"] = meta.icc_profile
    if meta.exif and suffix in (".jpg", ".jpeg", ".png", ".webp"):
        options["exif"] = exif_for_size(meta.exif, image.width, image.height)
    if meta.dpi:
        options["dpi"] = meta.dpi
    format_name = _FORMATS[suffix]
    if format_name == "JPEG":
        options.update(quality=jpeg_quality, subsampling=0)
        if meta.iptc:  # the IPTC IIM block goes into APP13, wrapped as a Photoshop image resource
            from restorer.psd import iim_as_app13

            segment = iim_as_app13(meta.iptc)
            options["extra"] = b"\xff\xed" + struct.pack(">H", len(segment) + 2) + segment
        if xmp and len(xmp) > _JPEG_XMP_LIMIT:
            xmp = _compact_packet(xmp)
    if format_name == "PNG" and (xmp or meta.captions or meta.png_colour):
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        for kind, payload in png_colour_chunks(meta):
            info.add(kind, payload)
        for keyword, text in meta.captions:
            info.add(*_png_text_chunk(keyword, text))
        if xmp:
            info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
        options["pnginfo"] = info
    elif format_name in ("JPEG", "WEBP") and xmp:
        options["xmp"] = xmp
    if format_name == "JPEG":
        by_keyword = dict(meta.captions)
        # A JPEG holds one comment: the scan's own, else its PNG description, else its title.
        comment = by_keyword.get("Comment") or by_keyword.get("Description") or by_keyword.get("Title")
        if comment:
            options["comment"] = comment.encode("utf-8")
    if format_name == "WEBP":
        options.update(lossless=True)
    image.save(out, format=format_name, **options)


def _compact_packet(xmp: bytes) -> bytes | None:
    """`xmp` without its indentation, or None if even that will not fit one JPEG segment."""
    import re

    compact = re.sub(rb">\s+<", b"><", xmp)
    return compact if len(compact) <= _JPEG_XMP_LIMIT else None


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def _png_with_metadata(png: bytes, meta: PhotoMetadata, xmp: bytes | None = None) -> bytes:
    """Splice gAMA, cHRM, sRGB, iCCP, pHYs, eXIf, text and XMP (iTXt) chunks in after IHDR (OpenCV writes
    none of them)."""
    chunks = b"".join(_png_chunk(kind, payload) for kind, payload in png_colour_chunks(meta))
    chunks += b"".join(_png_chunk(*_png_text_chunk(keyword, text)) for keyword, text in meta.captions)
    if meta.icc_profile:
        chunks += _png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(meta.icc_profile))
    if meta.dpi:
        ppm = [max(1, int(round(d / 0.0254))) for d in meta.dpi]
        chunks += _png_chunk(b"pHYs", struct.pack(">IIB", ppm[0], ppm[1], 1))
    if meta.exif:
        width, height = struct.unpack(">II", png[16:24])  # from IHDR
        exif = exif_for_size(meta.exif, width, height)
        chunks += _png_chunk(b"eXIf", exif_body(exif))
    if xmp:  # iTXt: keyword, no compression, no language, no translated keyword, then the text
        chunks += _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp)
    ihdr_end = 8 + 4 + 4 + 13 + 4
    return png[:ihdr_end] + chunks + png[ihdr_end:]
