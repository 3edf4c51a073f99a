"""Rebuild the example photos from scikit-image's public-domain astronaut.png.

Source: skimage/data/astronaut.png in the scikit-image 0.26.0 wheel, a NASA
photograph of Eileen Collins, "no known copyright restrictions, released into
the public domain". We age it the way old prints and web copies age: fade
and a warm cast, film grain, then a low-quality JPEG.

    python resources/examples/make_examples.py path/to/astronaut.png
"""

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

here = Path(__file__).parent
rng = np.random.default_rng(1961)
source = Image.open(sys.argv[1]).convert("RGB").resize((256, 256), Image.LANCZOS)
rgb = np.asarray(source, dtype=np.float32) / 255.0
luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
faded = luma[..., None] + 0.45 * (rgb - luma[..., None])           # colours washed out
faded = 0.12 + 0.78 * faded                                          # lifted blacks, dull whites
faded = faded * np.array([1.06, 0.98, 0.80], dtype=np.float32)       # yellowed print
faded += rng.normal(0, 0.025, faded.shape[:2])[..., None]            # grain, shared by channels
faded = np.clip(faded * 255 + 0.5, 0, 255).astype(np.uint8)
buffer = io.BytesIO()
Image.fromarray(faded).save(buffer, "JPEG", quality=40, subsampling=2)
(here / "astronaut_faded.jpg").write_bytes(buffer.getvalue())

# A black-and-white, scratched copy with its damage mask, for the inpainting demo.
gray = np.asarray(Image.open(buffer).convert("L"), dtype=np.uint8).copy()
mask = np.zeros_like(gray)
import cv2  # noqa: E402

for _ in range(5):
    pts = np.cumsum(rng.normal(0, 6, (12, 2)), axis=0) + rng.uniform(20, 236, 2)
    cv2.polylines(mask, [pts.astype(np.int32)], False, 255, int(rng.integers(1, 3)))
gray[mask > 0] = 235
Image.fromarray(gray).save(here / "astronaut_scratched.png")
Image.fromarray(mask).save(here / "astronaut_scratched_mask.png")
