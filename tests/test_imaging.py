import io
import json

import numpy as np
import pytest
from PIL import Image, ImageCms

from restorer.errors import UnreadablePhoto, UnwritableOutput
from restorer.imaging import read_photo, write_photo

from .conftest import gradient_photo, save_rgb


def _asymmetric() -> np.ndarray:
    """Landscape image, red block top-left, so any rotation or flip is visible."""
    rgb = np.zeros((20, 40, 3), dtype=np.uint8)
    rgb[:5, :10] = (255, 0, 0)
    return rgb


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "rotated.jpg"
    Image.fromarray(_asymmetric()).save(path, exif=exif, quality=100)
    photo = read_photo(path)
    assert photo.size == (20, 40)  # portrait after rotation
    # After a 90-degree clockwise turn the red block sits at the top right.
    assert photo.pixels[2, 17, 0] > 0.8 and photo.pixels[2, 2, 0] < 0.2


def test_metadata_round_trip_keeps_exif_icc_dpi_and_resets_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Kodak"  # Make
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = tmp_path / "in.jpg"
    Image.fromarray(_asymmetric()).save(source, exif=exif, icc_profile=icc, dpi=(300, 300), quality=95)
    photo = read_photo(source)
    for suffix in (".png", ".jpg", ".tif"):
        out = write_photo(photo, tmp_path / f"out{suffix}")
        with Image.open(out) as result:
            assert result.info.get("icc_profile") == icc, suffix
            assert result.getexif().get(0x010F) == "Kodak", suffix
            assert result.getexif().get(0x0112, 1) == 1, suffix  # pixels are upright now
            assert round(result.info["dpi"][0]) == 300, suffix
            assert result.size == (20, 40), suffix


def test_sixteen_bit_png_keeps_its_depth(tmp_path):
    import cv2

    values = (np.arange(16 * 16 * 3, dtype=np.uint32) * 97 % 65536).astype(np.uint16).reshape(16, 16, 3)
    source = tmp_path / "scan16.png"
    cv2.imwrite(str(source), values[..., ::-1])
    photo = read_photo(source)
    assert photo.metadata.bit_depth == 16
    assert np.allclose(photo.pixels * 65535, values, atol=0.51)
    out = write_photo(photo, tmp_path / "scan16_out.png")
    again = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert again.dtype == np.uint16 and np.array_equal(again, values)


def test_sixteen_bit_tiff_round_trip(tmp_path):
    import tifffile

    values = (np.arange(8 * 8 * 3, dtype=np.uint32) * 1013 % 65536).astype(np.uint16).reshape(8, 8, 3)
    source = tmp_path / "scan16.tif"
    tifffile.imwrite(source, values, photometric="rgb")
    photo = read_photo(source)
    assert photo.metadata.bit_depth == 16
    out = write_photo(photo, tmp_path / "out16.tif")
    assert np.array_equal(tifffile.imread(out), values)


def test_grayscale_stays_grayscale(tmp_path):
    source = tmp_path / "gray.png"
    Image.fromarray(np.tile(np.arange(32, dtype=np.uint8)[None] * 8, (8, 1))).save(source)
    photo = read_photo(source)
    assert photo.pixels.shape == (8, 32, 3) and photo.metadata.was_grayscale
    with Image.open(write_photo(photo, tmp_path / "gray_out.png")) as result:
        assert result.mode == "L"


def test_alpha_is_carried(tmp_path):
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[..., 3] = 128
    source = tmp_path / "alpha.png"
    Image.fromarray(rgba, "RGBA").save(source)
    photo = read_photo(source)
    assert photo.alpha is not None and abs(float(photo.alpha.mean()) - 128 / 255) < 1e-6
    with Image.open(write_photo(photo, tmp_path / "alpha_out.png")) as result:
        assert result.mode == "RGBA" and result.getpixel((0, 0))[3] == 128


def test_missing_file_is_one_sentence(tmp_path):
    with pytest.raises(UnreadablePhoto, match="nothere.jpg does not exist"):
        read_photo(tmp_path / "nothere.jpg")


def test_non_image_is_named(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("this is not a photo")
    with pytest.raises(UnreadablePhoto, match="notes.jpg is not an image"):
        read_photo(path)


def test_truncated_jpeg_is_reported(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray((gradient_photo(64, 64) * 255).astype(np.uint8)).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(UnreadablePhoto, match="cut.jpg could not be read"):
        read_photo(path)


def test_a_png_with_corrupt_compressed_data_is_called_damaged_in_plain_words(tmp_path):
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    Image.fromarray((rng.random((60, 80, 3)) * 255).astype(np.uint8)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[200] ^= 0xFF  # inside the IDAT chunk's deflate stream
    path = tmp_path / "flipped.png"
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadablePhoto, match=r"^flipped.png could not be read \(the file is damaged: its compressed "
                                              r"data is corrupt\)\.$"):
        read_photo(path)


def test_original_is_never_overwritten(tmp_path):
    source = save_rgb(tmp_path / "original.png", gradient_photo())
    before = source.read_bytes()
    photo = read_photo(source)
    with pytest.raises(UnwritableOutput, match="never overwrites originals"):
        write_photo(photo.with_pixels(photo.pixels * 0), source)
    assert source.read_bytes() == before


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    photo = read_photo(save_rgb(tmp_path / "a.png", gradient_photo()))
    out = write_photo(photo, tmp_path / "out" / "b.png")
    assert out.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.png"]


def test_unknown_output_format_leaves_nothing(tmp_path):
    photo = read_photo(save_rgb(tmp_path / "a.png", gradient_photo()))
    with pytest.raises(UnwritableOutput):
        write_photo(photo, tmp_path / "b.xyz")
    assert not (tmp_path / "b.xyz").exists()


def test_floating_point_tiffs_are_read_and_written_with_16_bits(tmp_path):
    """Pillow cannot decode RGB float TIFFs (some scanner and HDR software writes them); tifffile can."""
    import tifffile

    from restorer.imaging import read_photo, write_photo

    rgb = gradient_photo(40, 30)
    for dtype in (np.float32, np.float16):
        path = tmp_path / f"scan_{np.dtype(dtype).name}.tif"
        tifffile.imwrite(path, rgb.astype(dtype), photometric="rgb")
        photo = read_photo(path)
        assert photo.size == (40, 30) and photo.metadata.bit_depth == 16
        assert np.abs(photo.pixels - rgb).max() < 2e-3
    bright = tmp_path / "linear.tif"
    tifffile.imwrite(bright, (rgb * 4).astype(np.float32), photometric="rgb")  # brighter than 1: scaled by its peak
    assert read_photo(bright).pixels.max() == pytest.approx(1.0)
    written = write_photo(read_photo(tmp_path / "scan_float32.tif"), tmp_path / "out.tif")
    assert tifffile.imread(written).dtype == np.uint16
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00garbage")
    with pytest.raises(UnreadablePhoto, match="junk.tif"):
        read_photo(junk)


def test_a_multi_page_tiff_is_restored_from_page_one_and_says_so(tmp_path, capsys):
    import tifffile

    from restorer.cli import main

    pages = np.stack([(gradient_photo(40, 30, seed=i) * 255).astype(np.uint8) for i in range(3)])
    tifffile.imwrite(tmp_path / "front_and_back.tif", pages)
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "front_and_back.tif"), "-o", str(out), "--stages", "upscale",
                 "--upscale-engine", "lanczos", "--scale", "2"]) == 0
    assert "front_and_back.tif has 3 pages; only the first was restored" in capsys.readouterr().err
    report = json.loads((out / "restorer-report.json").read_text())
    (row,) = report["files"]
    assert row["status"] == "restored" and "3 pages" in row["reason"]
    restored = tifffile.imread(out / "front_and_back_restored.tif")
    assert restored.shape[:2] == (60, 80)
