"""Formats beyond the classic ones (HEIC from phones at 8 and 10 bits, AVIF, GIF), colour profiles that must
match the pixels they travel with, grey scans that stay grey, and files a batch leaves out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from restorer.batch.jobs import expand_inputs, left_out_sentence
from restorer.cli import main
from restorer.imaging import Photo, PhotoMetadata, read_photo, write_photo

from .conftest import gradient_photo

pillow_heif = pytest.importorskip("pillow_heif")

CAMERA = "Phone of a genealogist"


def _smooth(width: int = 64, height: int = 48) -> np.ndarray:
    return gradient_photo(width, height)


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    return exif


def test_a_phone_heic_opens_with_its_pixels_and_exif(tmp_path):
    rgb = _smooth()
    path = tmp_path / "print.heic"
    pillow_heif.from_pillow(Image.fromarray((rgb * 255 + 0.5).astype(np.uint8))).save(path, quality=95,
                                                                                     exif=_exif().tobytes())
    photo = read_photo(path)
    assert photo.pixels.shape == rgb.shape and photo.metadata.bit_depth == 8
    assert float(np.abs(photo.pixels - rgb).mean()) < 0.02  # lossy, but the same picture
    assert photo.metadata.exif is not None and CAMERA.encode() in photo.metadata.exif


def test_a_ten_bit_heic_keeps_its_depth_into_a_sixteen_bit_result(tmp_path):
    """A gradient finer than 8 bits: read at full depth, it keeps more than 256 levels and is saved at 16 bits."""
    height, width = 32, 1024
    ramp = np.tile(np.linspace(0.2, 0.45, width, dtype=np.float32), (height, 1))  # ~256 10-bit levels, ~64 8-bit
    samples = (np.stack([ramp, ramp, ramp], axis=2) * 65535).astype(np.uint16)
    path = tmp_path / "hdr.heic"
    heif = pillow_heif.from_bytes(mode="RGB;16", size=(width, height), data=samples.tobytes())
    heif.save(path, quality=-1)  # lossless
    photo = read_photo(path)
    assert photo.metadata.bit_depth == 16
    assert len(np.unique(np.round(photo.pixels[..., 1] * 65535))) > 150  # 8 bits would leave about 64
    out = tmp_path / "out"
    assert main(["run", str(path), "-o", str(out), "--stages", "upscale", "--upscale-engine", "lanczos",
                 "--scale", "1"]) == 0
    assert read_photo(out / "hdr_restored.png").metadata.bit_depth == 16


def test_a_heic_renamed_jpg_still_opens(tmp_path):
    path = tmp_path / "IMG_0001.jpg"
    pillow_heif.from_pillow(Image.fromarray((_smooth() * 255).astype(np.uint8))).save(path, format="HEIF")
    assert read_photo(path).metadata.format == "HEIF"


def test_avif_and_gif_open(tmp_path):
    rgb = _smooth()
    image = Image.fromarray((rgb * 255 + 0.5).astype(np.uint8))
    image.save(tmp_path / "a.avif", quality=95)
    image.save(tmp_path / "b.gif")
    for name in ("a.avif", "b.gif"):
        photo = read_photo(tmp_path / name)
        assert photo.pixels.shape == rgb.shape
        assert float(np.abs(photo.pixels - rgb).mean()) < 0.05, name  # GIF's palette costs a little


def test_a_batch_names_the_files_it_cannot_read_instead_of_skipping_them_quietly(tmp_path, capsys):
    scans = tmp_path / "Scans"
    scans.mkdir()
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(scans / "a.png")
    for name in ("b.cr2", "c.cr2", "d.xcf"):
        (scans / name).write_bytes(b"not read by Restorer")
    (scans / "notes.txt").write_text("box 14, 1931")  # not an image at all: not mentioned
    left_out: list[Path] = []
    jobs = expand_inputs([scans], tmp_path / "out", left_out=left_out)
    assert [job.source.name for job in jobs] == ["a.png"]
    assert sorted(p.name for p in left_out) == ["b.cr2", "c.cr2", "d.xcf"]
    sentence = left_out_sentence(left_out)
    assert sentence.startswith("Left out 3 files") and "2 .cr2, 1 .xcf" in sentence
    assert left_out_sentence([]) == ""

    out = tmp_path / "out"
    assert main(["run", str(scans), "-o", str(out), "--stages", "upscale", "--upscale-engine", "lanczos",
                 "--scale", "1"]) == 0
    assert "2 .cr2, 1 .xcf" in capsys.readouterr().err
    report = json.loads((out / "restorer-report.json").read_text())
    assert sorted(Path(p).name for p in report["left_out"]) == ["b.cr2", "c.cr2", "d.xcf"]


def test_the_windows_queue_finds_the_same_photos_as_a_batch(qtbot, tmp_path):
    """A folder dropped on the queue: no hidden files, no earlier results, and the unreadable ones named."""
    from restorer.gui.queue import QueuePanel

    scans = tmp_path / "Scans"
    (scans / "Scans_restored").mkdir(parents=True)
    for name in ("a.png", "Scans_restored/a_restored.png"):
        Image.fromarray((_smooth() * 255).astype(np.uint8)).save(scans / name)
    (scans / "._a.png").write_bytes(b"\x00\x05\x16\x07 Mac OS X resource fork")
    (scans / "b.nef").write_bytes(b"raw")
    panel = QueuePanel()
    qtbot.addWidget(panel)
    panel.outdir.setText(str(scans / "Scans_restored"))
    panel.add([str(scans)])
    assert [Path(p).name for p in panel.sources()] == ["a.png"]
    assert "Left out 1 file" in panel.summary.text() and ".nef" in panel.summary.text()


CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")  # Debian's ghostscript ships it


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _with_space(profile: bytes, space: bytes) -> bytes:
    return profile[:16] + space + profile[20:]  # the header's data colour space


@pytest.mark.skipif(not CMYK_PROFILE.exists(), reason="needs a CMYK ICC profile (Debian's ghostscript ships one)")
def test_a_cmyk_jpeg_is_converted_through_its_own_profile(tmp_path):
    from PIL import ImageCms

    rgb = _smooth()
    source = Image.fromarray((rgb * 255 + 0.5).astype(np.uint8))
    profile = CMYK_PROFILE.read_bytes()
    to_cmyk = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(str(CMYK_PROFILE)),
                                      "RGB", "CMYK")
    path = tmp_path / "magazine.jpg"
    ImageCms.applyTransform(source, to_cmyk).save(path, icc_profile=profile, quality=95)
    photo = read_photo(path)
    naive = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
    assert float(np.abs(photo.pixels - rgb).mean()) < 0.5 * float(np.abs(naive - rgb).mean())
    assert photo.metadata.icc_profile is None  # the pixels are sRGB now, not CMYK
    with Image.open(write_photo(photo, tmp_path / "out.png")) as result:
        assert "icc_profile" not in result.info


def test_a_profile_is_written_only_with_pixels_of_its_colour_space(tmp_path):
    """A grey scan's grey profile must not go with its colorized result, nor an RGB profile with grey pixels."""
    srgb = _srgb_profile()
    gray_profile = _with_space(srgb, b"GRAY")
    colour = _smooth()
    grey = np.repeat(colour.mean(axis=2, keepdims=True), 3, axis=2)
    cases = [(colour, gray_profile, False, None), (colour, srgb, False, srgb),
             (grey, gray_profile, True, gray_profile), (grey, srgb, True, None)]
    for index, (pixels, profile, was_grey, expected) in enumerate(cases):
        photo = Photo(pixels, PhotoMetadata(icc_profile=profile, was_grayscale=was_grey))
        with Image.open(write_photo(photo, tmp_path / f"{index}.png")) as result:
            assert result.info.get("icc_profile") == expected, index


def test_a_grey_scan_stays_grey_through_the_networks(tmp_path):
    """ArtifactNet's three output channels drift apart on grey input; the result must still be one grey channel."""
    rng = np.random.default_rng(1)
    grey = (np.clip(_smooth(96, 64).mean(axis=2) + rng.normal(0, 0.05, (64, 96)), 0, 1) * 255).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "scan.png")
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "scan.png"), "-o", str(out), "--stages", "artifacts",
                 "--artifacts-strength", "60"]) == 0
    with Image.open(out / "scan_restored.png") as result:
        assert result.mode == "L"


@pytest.mark.parametrize("depth", [16, 8])
def test_a_tiff_result_keeps_the_scanners_and_the_archives_tags(tmp_path, depth):
    """16 bits go through tifffile, 8 through Pillow: each had left the caption and the scanner's tags behind."""
    import tifffile

    tags = {270: "Box 14, wedding 1931", 271: "Epson", 272: "Perfection V850", 306: "2019:03:01 10:00:00",
            315: "County Archive", 33432: "(c) County Archive"}
    scan = (np.repeat(_smooth()[..., :1], 3, axis=2) * np.array([1.0, 0.9, 0.8]) * 65535).astype(np.uint16)
    description = tags.pop(270)
    tifffile.imwrite(tmp_path / "scan.tif", scan, photometric="rgb", metadata=None, description=description,
                     extratags=[(code, "s", 0, text, True) for code, text in tags.items()])
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "scan.tif"), "-o", str(out), "--stages", "upscale",
                 "--upscale-engine", "lanczos", "--scale", "2", "--bit-depth", str(depth)]) == 0
    with tifffile.TiffFile(out / "scan_restored.tif") as result:
        page = result.pages[0]
        written = {code: page.tags[code].value for code in (270, *tags) if code in page.tags}
        assert page.dtype == (np.uint16 if depth == 16 else np.uint8) and page.shape[:2] == (96, 128)
        assert page.tags[305].value.startswith("Restorer")
    assert written == {270: description, **tags}


def test_the_exif_pixel_size_is_the_results(tmp_path):
    from PIL import ExifTags

    exif = _exif()
    exif.get_ifd(ExifTags.IFD.Exif).update({0xA002: 64, 0xA003: 48, 0x9003: "1931:05:04 10:00:00"})
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(tmp_path / "p.jpg", exif=exif, quality=95)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "p.jpg"), "-o", str(out), "--stages", "upscale",
                 "--upscale-engine", "lanczos", "--scale", "2"]) == 0
    with Image.open(out / "p_restored.png") as result:
        sub = result.getexif().get_ifd(ExifTags.IFD.Exif)
        assert (sub[0xA002], sub[0xA003]) == (128, 96) and sub[0x9003] == "1931:05:04 10:00:00"


@pytest.mark.parametrize("depth,bigtiff", [(16, False), (8, False), (16, True)])
def test_a_tiff_result_carries_the_exif_sub_ifd_with_its_types(tmp_path, monkeypatch, depth, bigtiff):
    """tifffile cannot write EXIF's own IFD or the GPS IFD (nor did Pillow's TIFF writer); they are appended,
    with each tag's original TIFF type, in a classic TIFF and in a BigTIFF (results over 4 GB) alike."""
    from PIL import ExifTags, TiffImagePlugin

    from restorer import tiff_writer

    if bigtiff:
        monkeypatch.setattr(tiff_writer, "BIGTIFF_FROM_BYTES", 0)  # every result a BigTIFF

    exif = _exif()
    exif.get_ifd(ExifTags.IFD.Exif).update({0x9003: "1931:05:04 10:00:00", 0xA002: 64, 0xA003: 48,
                                            0x829A: TiffImagePlugin.IFDRational(1, 125)})
    rational = TiffImagePlugin.IFDRational
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (rational(54, 1), rational(10, 1), rational(0, 1))})
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(tmp_path / "p.jpg", exif=exif, quality=95)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "p.jpg"), "-o", str(out), "--stages", "upscale", "--upscale-engine",
                 "lanczos", "--scale", "2", "--format", "tiff", "--bit-depth", str(depth)]) == 0
    assert (out / "p_restored.tif").read_bytes()[:4] == (b"II+\x00" if bigtiff else b"II*\x00")
    if bigtiff:  # Pillow does not follow a BigTIFF's sub-IFD pointers; tifffile (and libtiff) do
        import tifffile

        with tifffile.TiffFile(out / "p_restored.tif") as result:
            tags = result.pages[0].tags
            sub, gps = tags["ExifTag"].value, tags["GPSTag"].value
        assert gps["GPSLatitudeRef"] == "N" and gps["GPSLatitude"] == (54, 1, 10, 1, 0, 1)
        assert sub["DateTimeOriginal"] == "1931:05:04 10:00:00" and sub["ExposureTime"] == (1, 125)
        assert (sub["PixelXDimension"], sub["PixelYDimension"]) == (128, 96)
        return
    with Image.open(out / "p_restored.tif") as result:
        assert result.mode.startswith("RGB") or result.mode.startswith("I")  # Pillow opens it at all
        sub = result.getexif().get_ifd(ExifTags.IFD.Exif)
        gps = result.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[1] == "N" and [float(v) for v in gps[2]] == [54.0, 10.0, 0.0]
    assert sub[0x9003] == "1931:05:04 10:00:00" and (sub[0xA002], sub[0xA003]) == (128, 96)
    assert abs(float(sub[0x829A]) - 1 / 125) < 1e-9  # still a rational, not two SHORTs
    assert read_photo(out / "p_restored.tif").metadata.bit_depth == depth


def test_the_xmp_says_upright_and_the_results_size(tmp_path):
    """A scan turned upright by its EXIF orientation, whose XMP (as Lightroom writes it) says the same
    orientation: a stale tiff:Orientation would turn the result again in software that reads XMP first."""
    from restorer.provenance import parse_packet, read_title, with_geometry

    packet = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
              '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
              'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/" tiff:Orientation="6">'
              '<exif:PixelXDimension>64</exif:PixelXDimension><exif:PixelYDimension>48</exif:PixelYDimension>'
              '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Uncle Jim</rdf:li></rdf:Alt></dc:title>'
              '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()
    exif = _exif()
    exif[0x0112] = 6
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(tmp_path / "p.jpg", exif=exif, xmp=packet)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "p.jpg"), "-o", str(out), "--stages", "upscale", "--upscale-engine",
                 "lanczos", "--scale", "2"]) == 0
    result = read_photo(out / "p_restored.png")
    assert result.size == (96, 128)  # upright: the 64 x 48 scan turned a quarter, then doubled
    description = parse_packet(result.metadata.xmp).find("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")
    assert description.get("{http://ns.adobe.com/tiff/1.0/}Orientation") == "1"
    assert description.find("{http://ns.adobe.com/exif/1.0/}PixelXDimension").text == "96"
    assert description.find("{http://ns.adobe.com/exif/1.0/}PixelYDimension").text == "128"
    assert read_title(result.metadata.xmp) == "Uncle Jim"
    plain = packet.replace(b' tiff:Orientation="6"', b"").replace(b"<exif:PixelXDimension>64</exif:PixelXDimension>"
                                                                  b"<exif:PixelYDimension>48</exif:PixelYDimension>", b"")
    assert with_geometry(plain, 96, 128) == plain  # nothing to correct: the packet comes back byte for byte


def test_captions_in_png_text_chunks_and_jpeg_comments_are_kept(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "Oma 1931")
    info.add_itxt("Description", "Großmutter am Strand, Binz")
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(tmp_path / "oma.png", pnginfo=info)
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(tmp_path / "jim.jpg", comment=b"Uncle Jim, 1948")
    out = tmp_path / "out"
    lanczos = ["--stages", "upscale", "--upscale-engine", "lanczos", "--scale", "2"]
    assert main(["run", str(tmp_path / "oma.png"), str(tmp_path / "jim.jpg"), "-o", str(out), *lanczos]) == 0
    assert main(["run", str(tmp_path / "oma.png"), "-o", str(out / "deep"), *lanczos, "--bit-depth", "16"]) == 0
    assert main(["run", str(tmp_path / "oma.png"), "-o", str(out / "jpeg"), *lanczos, "--format", "jpg"]) == 0
    for path in (out / "oma_restored.png", out / "deep" / "oma_restored.png"):
        with Image.open(path) as result:
            assert result.text["Title"] == "Oma 1931" and result.text["Description"] == "Großmutter am Strand, Binz"
    with Image.open(out / "jim_restored.png") as result:
        assert result.text["Comment"] == "Uncle Jim, 1948"
    with Image.open(out / "jpeg" / "oma_restored.jpg") as result:
        assert result.info["comment"].decode("utf-8") == "Großmutter am Strand, Binz"
    # Mirrored into the XMP too, where photo managers look (and WebP, which has no text chunks, keeps them).
    from restorer.provenance import read_title

    assert main(["run", str(tmp_path / "oma.png"), "-o", str(out / "webp"), *lanczos, "--format", "webp"]) == 0
    packet = read_photo(out / "webp" / "oma_restored.webp").metadata.xmp
    assert read_title(packet) == "Oma 1931" and "Großmutter am Strand, Binz" in packet.decode("utf-8")


def test_camera_raw_and_other_formats_named_on_their_own_get_a_sentence_saying_what_to_do(tmp_path):
    """A DNG is a TIFF inside whose first image is a small preview: it must not be 'restored' as one."""
    from restorer.errors import UnreadablePhoto

    preview = tmp_path / "IMG_0042.dng"
    Image.fromarray((_smooth(32, 24) * 255).astype(np.uint8)).save(preview, format="TIFF")  # opens as a TIFF
    with pytest.raises(UnreadablePhoto, match=r"IMG_0042.dng is a camera raw file.*develop it to TIFF"):
        read_photo(preview)
    layers = tmp_path / "retouch.xcf"
    layers.write_bytes(b"gimp xcf v011")
    with pytest.raises(UnreadablePhoto, match=r"retouch.xcf is a .xcf file.*export it as TIFF or PNG"):
        read_photo(layers)


def test_sixteen_bit_tiffs_opencv_refuses_are_read_or_refused_in_one_sentence(tmp_path, capfd):
    """Grey + alpha at 16 bits (a scan with a transparency mask) is read; 16-bit CMYK is read as colours, not
    as RGBA; inks other than CMYK are refused plainly, without libtiff's own error lines on the terminal."""
    import tifffile

    from restorer.errors import UnreadablePhoto

    grey = (np.repeat(_smooth()[..., :1], 2, axis=2) * 65535).astype(np.uint16)
    grey[..., 1] = 65535
    grey[:8, :8, 1] = 0  # a transparent corner
    tifffile.imwrite(tmp_path / "masked.tif", grey, photometric="minisblack", extrasamples=["unassalpha"])
    photo = read_photo(tmp_path / "masked.tif")
    assert photo.metadata.bit_depth == 16 and photo.metadata.was_grayscale
    assert photo.alpha is not None and photo.alpha[:8, :8].max() == 0 and photo.alpha[10:, 10:].min() == 1
    assert np.allclose(photo.pixels[..., 0], grey[..., 0] / 65535, atol=1e-6)
    cmyk = (np.random.default_rng(0).random((24, 32, 4)) * 65535).astype(np.uint16)
    tifffile.imwrite(tmp_path / "inks.tif", cmyk, photometric="separated", extratags=[(332, "H", 1, 2, True)])
    capfd.readouterr()
    with pytest.raises(UnreadablePhoto, match=r"inks.tif is a TIFF printed with 4 inks other than CMYK"):
        read_photo(tmp_path / "inks.tif")
    assert "TIFF_Error" not in capfd.readouterr().err


@pytest.mark.parametrize("planar", [False, True])
def test_a_sixteen_bit_cmyk_tiff_without_a_profile_keeps_its_gradations(tmp_path, planar):
    """Without a profile the inks come off as Pillow's conversion takes them, (1 - C)(1 - K), at full depth."""
    import tifffile

    ramp = np.linspace(0, 0.25, 64, dtype=np.float32)[None, :].repeat(48, axis=0)  # a 16-bit-fine cyan ramp
    cmyk = np.stack([ramp, np.full_like(ramp, 0.5), np.zeros_like(ramp), np.full_like(ramp, 0.2)], axis=2)
    samples = (cmyk * 65535 + 0.5).astype(np.uint16)
    tifffile.imwrite(tmp_path / "press.tif", np.moveaxis(samples, -1, 0) if planar else samples,
                     photometric="separated", planarconfig="separate" if planar else "contig",
                     resolution=(300, 300), resolutionunit="INCH")
    photo = read_photo(tmp_path / "press.tif")
    expected = (1 - samples[..., :3] / 65535) * (1 - samples[..., 3:] / 65535)
    assert photo.metadata.bit_depth == 16 and not photo.metadata.was_grayscale
    assert photo.metadata.dpi == (300.0, 300.0)
    assert np.abs(photo.pixels - expected).max() < 1e-5
    assert len(np.unique(photo.pixels[0, :, 0])) == 64  # 64 steps inside 16 levels of 8 bits: not flattened


@pytest.mark.skipif(not CMYK_PROFILE.exists(), reason="needs a CMYK ICC profile (Debian's ghostscript ships it)")
def test_a_sixteen_bit_cmyk_tiff_is_converted_through_its_own_profile(tmp_path):
    """The same colours LittleCMS gives the 8-bit file, within about an 8-bit level, and smooth in between."""
    import tifffile
    from PIL import ImageCms

    rgb = _smooth()
    to_cmyk = ImageCms.buildTransform(ImageCms.createProfile("sRGB"), ImageCms.ImageCmsProfile(str(CMYK_PROFILE)),
                                      "RGB", "CMYK")
    ink8 = np.asarray(ImageCms.applyTransform(Image.fromarray((rgb * 255 + 0.5).astype(np.uint8)), to_cmyk))
    profile = CMYK_PROFILE.read_bytes()
    tifffile.imwrite(tmp_path / "press.tif", (ink8.astype(np.uint16) * 257), photometric="separated",
                     extratags=[(34675, "B", len(profile), profile, True)])
    Image.fromarray(ink8, "CMYK").save(tmp_path / "press8.tif", icc_profile=profile)
    deep, shallow = read_photo(tmp_path / "press.tif"), read_photo(tmp_path / "press8.tif")
    assert deep.metadata.bit_depth == 16 and deep.metadata.icc_profile is None
    assert float(np.abs(deep.pixels - shallow.pixels).mean()) < 1.0 / 255
    assert float(np.abs(deep.pixels - shallow.pixels).max()) < 4.0 / 255
    naive = (1 - ink8[..., :3] / 255.0) * (1 - ink8[..., 3:] / 255.0)
    assert float(np.abs(deep.pixels - rgb).mean()) < 0.5 * float(np.abs(naive - rgb).mean())


def test_a_programs_signature_in_the_comment_is_not_taken_for_a_caption(tmp_path):
    from restorer.provenance import parse_packet

    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(
        tmp_path / "web.jpg", comment=b"CREATOR: gd-jpeg v1.0 (using IJG JPEG v62), quality = 90")
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "web.jpg"), "-o", str(out), "--stages", "upscale", "--upscale-engine",
                 "lanczos", "--scale", "2"]) == 0
    result = read_photo(out / "web_restored.png")
    assert dict(result.metadata.captions)["Comment"].startswith("CREATOR: gd-jpeg")  # kept in the file
    rdf = parse_packet(result.metadata.xmp)
    assert rdf.find(".//{http://purl.org/dc/elements/1.1/}description") is None  # but not called a description


def test_a_sixteen_bit_jpeg_2000_master_is_read_at_full_depth(tmp_path):
    """Archives keep masters in JPEG 2000; Pillow alone would hand over 16-bit RGB as 8 bits."""
    import cv2

    y, x = np.mgrid[0:48, 0:64]
    master = np.stack([x * 1000, y * 1300, (x + y) * 550], axis=2).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "master.jp2"), master[..., ::-1], [cv2.IMWRITE_JPEG2000_COMPRESSION_X1000, 1000])
    photo = read_photo(tmp_path / "master.jp2")
    assert photo.metadata.bit_depth == 16
    assert np.abs(photo.pixels * 65535 - master).max() < 1  # lossless, every level kept
    out = tmp_path / "out"
    left_out: list[Path] = []
    assert [job.source.name for job in expand_inputs([tmp_path], out, left_out=left_out)] == ["master.jp2"]
    assert main(["run", str(tmp_path / "master.jp2"), "-o", str(out), "--stages", "upscale",
                 "--upscale-engine", "lanczos", "--scale", "1"]) == 0
    assert read_photo(out / "master_restored.png").metadata.bit_depth == 16


def test_a_png_keeps_its_gamma_chromaticities_and_srgb_intent_at_8_and_16_bits(tmp_path):
    """A linear (gamma 1.0) PNG displayed without its gAMA chunk looks far too dark."""
    import struct

    from PIL import PngImagePlugin

    primaries = (0.3127, 0.329, 0.64, 0.33, 0.3, 0.6, 0.15, 0.06)
    linear = PngImagePlugin.PngInfo()
    linear.add(b"gAMA", struct.pack(">I", 100_000))
    linear.add(b"cHRM", struct.pack(">8I", *(round(v * 100_000) for v in primaries)))
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(tmp_path / "linear.png", pnginfo=linear)
    declared = PngImagePlugin.PngInfo()
    declared.add(b"sRGB", b"\x01")  # rendering intent 1: relative colorimetric
    Image.fromarray((_smooth() * 255).astype(np.uint8)).save(tmp_path / "declared.png", pnginfo=declared)
    out = tmp_path / "out"
    lanczos = ["--stages", "upscale", "--upscale-engine", "lanczos", "--scale", "2"]
    for depth in ("8", "16"):
        args = ["run", str(tmp_path / "linear.png"), str(tmp_path / "declared.png"), "-o", str(out / depth)]
        assert main([*args, *lanczos, "--bit-depth", depth]) == 0
        with Image.open(out / depth / "linear_restored.png") as result:
            assert result.info["gamma"] == pytest.approx(1.0) and "srgb" not in result.info
            assert result.info["chromaticity"] == pytest.approx(primaries)
        with Image.open(out / depth / "declared_restored.png") as result:
            assert result.info["srgb"] == 1 and "gamma" not in result.info


def test_srgb_chunk_is_not_written_beside_an_icc_profile():
    """The PNG specification allows an sRGB chunk or an iCCP chunk, never both; gAMA may stay as a fallback."""
    from restorer.imaging import png_colour_chunks

    chunks = ((b"gAMA", b"\x00\x00\xb1\x8f"), (b"sRGB", b"\x00"))
    assert png_colour_chunks(PhotoMetadata(png_colour=chunks)) == chunks
    assert png_colour_chunks(PhotoMetadata(png_colour=chunks, icc_profile=b"profile")) == chunks[:1]


def test_a_tiff_is_written_in_place_and_matches_the_one_built_in_memory(tmp_path, monkeypatch):
    """A result file opened by name is written by tifffile directly, its sub-IFDs patched there (a big
    scan's encoded bytes are not held a second time); a stream that cannot be reopened gets the same bytes."""
    import os

    from PIL import ExifTags

    from restorer import tiff_writer
    from restorer.imaging import PhotoMetadata

    exif = _exif()
    exif.get_ifd(ExifTags.IFD.Exif).update({0x9003: "1931:05:04 10:00:00"})
    meta = PhotoMetadata(source=tmp_path / "p.jpg", format="JPEG", bit_depth=16, exif=exif.tobytes())
    data = (_smooth() * 65535).astype(np.uint16)

    fd = os.open(tmp_path / "fd.tif", os.O_CREAT | os.O_WRONLY)
    with os.fdopen(fd, "wb") as unnamed:  # its name is an int: built in memory, then copied
        tiff_writer.write_tiff(data, meta, unnamed)

    def no_copy_in_memory(*args):
        raise AssertionError("a named file was built in memory")

    monkeypatch.setattr(tiff_writer, "_write_through_memory", no_copy_in_memory)
    with open(tmp_path / "named.tif", "w+b") as named:
        tiff_writer.write_tiff(data, meta, named)
    assert (tmp_path / "named.tif").read_bytes() == (tmp_path / "fd.tif").read_bytes()
    with Image.open(tmp_path / "named.tif") as result:
        assert result.getexif().get_ifd(ExifTags.IFD.Exif)[0x9003] == "1931:05:04 10:00:00"


def test_a_cmyk_tiffs_fifth_sample_is_transparency_only_when_the_file_says_so(tmp_path):
    import tifffile

    cmyka = np.zeros((16, 16, 5), np.uint16)
    cmyka[..., 4] = 65535
    cmyka[:4, :4, 4] = 0  # a transparent corner, or a spot ink's empty corner
    tifffile.imwrite(tmp_path / "masked.tif", cmyka, photometric="separated", extrasamples=["unassalpha"])
    tifffile.imwrite(tmp_path / "spot.tif", cmyka, photometric="separated", extrasamples=["unspecified"])
    masked, spot = read_photo(tmp_path / "masked.tif"), read_photo(tmp_path / "spot.tif")
    assert masked.alpha is not None and masked.alpha[:4, :4].max() == 0 and masked.alpha[8:, 8:].min() == 1
    assert spot.alpha is None and np.allclose(spot.pixels, 1.0)  # no ink: white paper


def test_a_float_tiff_keeps_the_archives_tags_and_iptc(tmp_path):
    """Read through tifffile (Pillow cannot decode float samples), a scan used to lose its caption, scanner,
    date, artist, copyright, DateTimeOriginal and IPTC."""
    import tifffile

    iim = b"\x1c\x02\x00\x00\x02\x00\x04\x1c\x02\x78\x00\x0bBox 14, 1931"
    tags = [(271, "s", 0, "Epson", True), (315, "s", 0, "County Archive", True),
            (33432, "s", 0, "(c) County Archive", True), (33723, "B", len(iim), iim, True)]
    scan = np.dstack([_smooth()[..., 0]] * 3).astype(np.float32)
    tifffile.imwrite(tmp_path / "scan.tif", scan, photometric="rgb", metadata=None, description="Wedding, 1931",
                     extratags=tags)
    photo = read_photo(tmp_path / "scan.tif")
    assert photo.metadata.iptc == iim
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "scan.tif"), "-o", str(out), "--stages", "upscale",
                 "--upscale-engine", "lanczos", "--scale", "2"]) == 0
    with tifffile.TiffFile(out / "scan_restored.tif") as result:
        page = result.pages[0]
        assert {code: page.tags[code].value for code in (270, 271, 315, 33432)} == {
            270: "Wedding, 1931", 271: "Epson", 315: "County Archive", 33432: "(c) County Archive"}
        assert bytes(page.tags[33723].value) == iim


def test_the_exif_ifd_of_a_tiff_read_through_tifffile_keeps_its_dates():
    from types import SimpleNamespace

    from PIL import ExifTags

    from restorer.tiff_reader import tiff_exif

    tags = {270: SimpleNamespace(value="Wedding"), 305: SimpleNamespace(value="Scanner app 2.1"),
            34665: SimpleNamespace(value={"DateTimeOriginal": "1931:05:04 10:00:00", "ISOSpeedRatings": 100,
                                          "ExposureTime": (1, 125)})}
    exif = Image.Exif()
    exif.load(b"Exif\x00\x00" + tiff_exif(tags))
    assert exif[270] == "Wedding" and 305 not in exif  # the software is the result's own
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    assert sub[0x9003] == "1931:05:04 10:00:00" and sub[0x8827] == 100 and float(sub[0x829A]) == 1 / 125
    assert tiff_exif({}) is None


def test_a_float_tiff_keeps_its_gps_position_through_a_run(tmp_path):
    """GPS IFDs of TIFFs read through tifffile used to be dropped: the place a print was scanned or shot."""
    import tifffile
    from PIL import ExifTags, TiffImagePlugin

    from restorer.imaging import PhotoMetadata
    from restorer.tiff_writer import write_tiff

    rational = TiffImagePlugin.IFDRational
    exif = _exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (rational(54, 1), rational(10, 1), rational(30, 1)),
                                               3: "W", 4: (rational(8, 1), rational(5, 1), rational(0, 1))})
    scan = np.dstack([_smooth()[..., 0]] * 3).astype(np.float32)
    with open(tmp_path / "scan.tif", "w+b") as fh:  # float samples: Pillow cannot decode them, tifffile reads them
        write_tiff(scan, PhotoMetadata(source=tmp_path / "x.tif", format="TIFF", bit_depth=16, exif=exif.tobytes()), fh)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "scan.tif"), "-o", str(out), "--stages", "upscale",
                 "--upscale-engine", "lanczos", "--scale", "2"]) == 0
    with tifffile.TiffFile(out / "scan_restored.tif") as result:
        gps = result.pages[0].tags["GPSTag"].value
    assert gps["GPSLatitudeRef"] == "N" and gps["GPSLatitude"] == (54, 1, 10, 1, 30, 1)
    assert gps["GPSLongitudeRef"] == "W" and gps["GPSLongitude"] == (8, 1, 5, 1, 0, 1)


@pytest.mark.parametrize("fmt,grey", [("tiff", False), ("jpg", False), ("tiff", True)])
def test_a_linear_pngs_result_in_another_format_carries_a_profile_that_says_so(tmp_path, fmt, grey):
    """TIFF and JPEG have no gAMA chunk: the result gets an ICC profile with the PNG's gamma, so a viewer
    shows it as bright as the PNG (shown as sRGB, a linear mid-grey of 128 would stay 128 instead of 188)."""
    import io
    import struct

    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add(b"gAMA", struct.pack(">I", 100_000))
    pixels = np.full((16, 16, 3), 128, np.uint8)
    Image.fromarray(pixels[..., 0] if grey else pixels).save(tmp_path / "linear.png", pnginfo=info)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "linear.png"), "-o", str(out), "--stages", "upscale", "--upscale-engine",
                 "lanczos", "--scale", "2", "--format", fmt]) == 0
    result_path = next(out.glob("linear_restored.*"))
    with Image.open(result_path) as result:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(result.info["icc_profile"]))
        shown = ImageCms.profileToProfile(result, profile, ImageCms.createProfile("sRGB"), outputMode="RGB")
        assert abs(np.asarray(shown, np.float32)[4:-4, 4:-4].mean() - 188) <= 2
        assert (result.mode == "L") == grey


def test_a_png_with_srgb_or_a_plain_22_gamma_gets_no_made_up_profile():
    import struct

    from restorer.png_colour import profile_from_png_chunks

    gamma = (b"gAMA", struct.pack(">I", 45_455))
    assert profile_from_png_chunks((gamma,)) is None  # 1/2.2 without primaries: what sRGB shows anyway
    assert profile_from_png_chunks((gamma, (b"sRGB", b"\x00"))) is None
    assert profile_from_png_chunks(((b"gAMA", struct.pack(">I", 55_556)),))[16:20] == b"RGB "  # 1/1.8, old Macs


def test_a_float_tiff_is_turned_upright_by_its_orientation_tag(tmp_path):
    import tifffile

    scan = np.zeros((12, 20, 3), np.float32)
    scan[0, 0] = 1.0  # a white top-left corner, as stored
    tifffile.imwrite(tmp_path / "turned.tif", scan, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    photo = read_photo(tmp_path / "turned.tif")  # 6: the stored picture is shown turned a quarter clockwise
    assert photo.size == (12, 20) and photo.pixels[0, -1].min() == 1.0 and photo.pixels.sum() == 3.0
