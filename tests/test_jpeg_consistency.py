"""The JPEG quantisation constraint: results stay consistent with the file, never move away from the original."""

import cv2
import numpy as np
import pytest
from PIL import Image

from restorer.imaging import JpegLayout, apply_orientation, read_photo
from restorer.stages.jpeg_consistency import _TO_YCC, _block_dct, project_to_jpeg

from .conftest import gradient_photo


def _photo_u8(height: int = 96, width: int = 120, seed: int = 0) -> np.ndarray:
    """Mid-tone gradient with blocky texture: no clipping at black or white."""
    rng = np.random.default_rng(seed)
    base = 0.25 + 0.5 * gradient_photo(width, height, seed)
    texture = cv2.resize(rng.normal(0, 0.08, (height // 6, width // 6, 3)).astype(np.float32), (width, height))
    return np.clip((base + texture) * 255, 0, 255).astype(np.uint8)


def _save_and_read(tmp_path, pixels: np.ndarray, quality: int = 20, subsampling: int = 2, exif=None):
    path = tmp_path / "photo.jpg"
    options = {"quality": quality, "subsampling": subsampling}
    if exif is not None:
        options["exif"] = exif
    Image.fromarray(pixels).save(path, **options)
    return read_photo(path)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float64) * 255.0) @ _TO_YCC[0].astype(np.float64)


def _luma_mse(rgb: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean((_luma(rgb) - _luma(truth)) ** 2))


@pytest.mark.parametrize(("subsampling", "step"), [(0, (1, 1)), (1, (1, 2)), (2, (2, 2))])
def test_layout_records_the_chroma_sampling(tmp_path, subsampling, step):
    photo = _save_and_read(tmp_path, _photo_u8(), subsampling=subsampling)
    layout = photo.metadata.jpeg_layout
    assert layout == JpegLayout(96, 120, 0, 1, step, 1)


def test_greyscale_jpeg_has_a_luma_only_layout(tmp_path):
    path = tmp_path / "grey.jpg"
    Image.fromarray(_photo_u8()[..., 1]).save(path, quality=30)
    layout = read_photo(path).metadata.jpeg_layout
    assert layout is not None and layout.chroma_table is None


def test_png_has_no_layout(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(_photo_u8()).save(path)
    assert read_photo(path).metadata.jpeg_layout is None


@pytest.mark.parametrize("subsampling", [0, 2])
def test_projection_brings_a_smoothed_result_closer_to_the_original(tmp_path, subsampling):
    original = _photo_u8()
    photo = _save_and_read(tmp_path, original, quality=15, subsampling=subsampling)
    decoded = photo.pixels
    oversmoothed = cv2.GaussianBlur(decoded, (0, 0), 2.0)
    projected = project_to_jpeg(oversmoothed, decoded, photo.metadata.jpeg_quantization, photo.metadata.jpeg_layout)
    truth = original.astype(np.float32) / 255.0
    # Luma is where the guarantee is sharp (full resolution, orthonormal DCT); colour must not suffer.
    assert _luma_mse(projected, truth) < 0.95 * _luma_mse(oversmoothed, truth)
    assert np.mean((projected - truth) ** 2) < np.mean((oversmoothed - truth) ** 2)
    # Its luma now lies in the file's quantisation intervals (up to the pixels' float rounding).
    steps = np.asarray(photo.metadata.jpeg_quantization[0], np.float32).reshape(8, 8)
    k = np.round(_block_dct(_luma(decoded) - 128) / steps)
    levels = _block_dct(_luma(projected) - 128) / steps
    assert np.max(np.abs(levels - k)) <= 0.5 + 1e-3


def test_projection_leaves_the_decoded_file_as_it_is(tmp_path):
    photo = _save_and_read(tmp_path, _photo_u8(), quality=25)
    same = project_to_jpeg(photo.pixels, photo.pixels, photo.metadata.jpeg_quantization, photo.metadata.jpeg_layout)
    assert np.max(np.abs(same - photo.pixels)) < 1e-4


def test_pixels_edited_after_decoding_are_left_alone(tmp_path):
    """Brightening by 2 levels moves every luma block's DC half a step off the lattice (step 32 at q25).

    (Chroma was not edited, so its blocks still match the file and may be constrained.)
    """
    photo = _save_and_read(tmp_path, _photo_u8(), quality=25)
    assert photo.metadata.jpeg_quantization[0][0] == 32
    edited = (photo.pixels + np.float32(2 / 255)).astype(np.float32)
    smoothed = cv2.GaussianBlur(edited, (0, 0), 2.0)
    kept = project_to_jpeg(smoothed, edited, photo.metadata.jpeg_quantization, photo.metadata.jpeg_layout)
    assert np.max(np.abs(_luma(kept) - _luma(smoothed))) < 1e-3


def test_a_preview_crop_is_left_alone(tmp_path):
    photo = _save_and_read(tmp_path, _photo_u8(), quality=25)
    crop = photo.pixels[:64, :64]
    smoothed = cv2.GaussianBlur(crop, (0, 0), 2.0)
    assert np.array_equal(
        project_to_jpeg(smoothed, crop, photo.metadata.jpeg_quantization, photo.metadata.jpeg_layout), smoothed)


def test_rotated_file_is_projected_on_the_files_own_block_grid(tmp_path):
    original = _photo_u8(88, 120)  # 88 rows: the block grid does not survive a naive rotation
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    photo = _save_and_read(tmp_path, original, quality=15, exif=exif)
    assert photo.pixels.shape[:2] == (120, 88) and photo.metadata.jpeg_layout.orientation == 6
    upright_truth = apply_orientation(original.astype(np.float32) / 255.0, 6)
    smoothed = cv2.GaussianBlur(photo.pixels, (0, 0), 2.0)
    projected = project_to_jpeg(smoothed, photo.pixels, photo.metadata.jpeg_quantization, photo.metadata.jpeg_layout)
    assert _luma_mse(projected, upright_truth) < 0.95 * _luma_mse(smoothed, upright_truth)
