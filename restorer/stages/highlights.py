"""Whites stay white: ColorNet's yellow taken out of a colorized photo's highlights.

Contract: `neutral_highlights(ab, light)` takes ColorNet's a*b* (H, W, 2) and the
photo's L* (H, W, 0..100) at the same size, float32, and returns a*b* with the
chroma of light, yellowish pixels scaled down: by nothing at L* HIGHLIGHT_FROM and
below, to HIGHLIGHT_KEEP of it at L* 100; in full at YELLOW_HUE, fading to nothing
YELLOW_HUE_WIDTH degrees either side. Hue is kept; other colours are untouched.

Why: where ColorNet is unsure it gives the mean of what it learned, and light
things in photos are warm on average, so white dresses, bed sheets, aprons and
the print's mount come out lemon or cream. On photos it never saw, its mean b*
over L* 70-85 is 8.5 above the truth (the held-out ImageNet photos) and 5.8 above
(BSD100); over L* 85 and up, 10.5 and 4.3 (Kodak24: within 1.3 of the truth). On
old prints it gives b* 25 over L* 70-85 and 20 above, against 11-19 in the truth
of those photos. Measured with `restorer eval colorize` (PSNR / colourfulness /
hue hit rate / chroma on saturated pixels), without -> with this step: held-out
ImageNet 21.92 / 0.856 / 0.437 / 0.534 -> 22.16 / 0.816 / 0.437 / 0.524; Kodak24
22.93 / 0.848 / 0.455 / 0.483 -> 22.96 / 0.830 / 0.453 / 0.472; BSD100 23.76 /
0.913 / 0.590 / 0.660 -> 23.89 / 0.877 / 0.589 / 0.639. PSNR rises on all three
and the hue hit rate stays within 0.003: the chroma it takes is mostly yellow
that was not there. Tried and not kept: every hue faded (L* 70 up, to 0.3):
hue hit rate 0.455 -> 0.427 on Kodak24, the sky and yellow flowers lost too; a
wider window (+-45 degrees): 0.445; fading from L* 60: 0.440.
"""

from __future__ import annotations

import numpy as np

HIGHLIGHT_FROM = 70.0  # L* above which yellowish chroma is scaled down
HIGHLIGHT_KEEP = 0.3  # the share of it kept at L* 100
YELLOW_HUE = 85.0  # degrees on the a*b* plane: yellow, between orange (~60) and yellow-green (~110)
YELLOW_HUE_WIDTH = 30.0


def neutral_highlights(ab: np.ndarray, light: np.ndarray) -> np.ndarray:
    """a*b* (H, W, 2) with the chroma of light yellowish pixels scaled down; see the module's contract."""
    hue = np.degrees(np.arctan2(ab[..., 1], ab[..., 0]))
    off_yellow = np.abs((hue - YELLOW_HUE + 180.0) % 360.0 - 180.0)
    yellowness = np.clip(1.0 - off_yellow / YELLOW_HUE_WIDTH, 0.0, 1.0)
    height = np.clip((light - HIGHLIGHT_FROM) / (100.0 - HIGHLIGHT_FROM), 0.0, 1.0)
    gain = 1.0 - (1.0 - HIGHLIGHT_KEEP) * height * yellowness
    return (ab * gain[..., None]).astype(np.float32)
