"""Whites stay white: light yellowish chroma from ColorNet is scaled down, nothing else."""

from __future__ import annotations

import numpy as np

from restorer.stages.highlights import HIGHLIGHT_FROM, HIGHLIGHT_KEEP, YELLOW_HUE, neutral_highlights


def _ab(chroma: float, hue_deg: float) -> np.ndarray:
    return np.array([chroma * np.cos(np.radians(hue_deg)), chroma * np.sin(np.radians(hue_deg))], np.float32)


def test_a_light_yellow_loses_chroma_keeps_its_hue_and_a_dark_yellow_or_a_light_blue_is_untouched():
    # One row: a lemon white dress (L* 95), the same yellow in shadow (L* 40), a pale sky (L* 95, blue),
    # and a white at L* 100, where only HIGHLIGHT_KEEP of the chroma stays.
    ab = np.stack([_ab(30, YELLOW_HUE), _ab(30, YELLOW_HUE), _ab(20, -100), _ab(30, YELLOW_HUE)])[None]
    light = np.array([[95.0, 40.0, 95.0, 100.0]], np.float32)
    out = neutral_highlights(ab, light)

    chroma = np.hypot(out[..., 0], out[..., 1])[0]
    assert chroma[0] < 0.5 * 30  # the dress: less than half its yellow left
    hue_in, hue_out = np.arctan2(ab[0, 0, 1], ab[0, 0, 0]), np.arctan2(out[0, 0, 1], out[0, 0, 0])
    assert abs(hue_out - hue_in) < 1e-4
    np.testing.assert_allclose(out[0, 1], ab[0, 1])  # in shadow: below HIGHLIGHT_FROM
    np.testing.assert_allclose(out[0, 2], ab[0, 2])  # blue: not yellow
    np.testing.assert_allclose(chroma[3], 30 * HIGHLIGHT_KEEP, rtol=1e-5)


def test_the_fade_grows_with_lightness_and_with_nearness_to_yellow():
    light = np.linspace(HIGHLIGHT_FROM - 10, 100, 12, dtype=np.float32)[None]
    ab = np.repeat(_ab(25, YELLOW_HUE)[None, None], 12, axis=1)
    chroma = np.hypot(*neutral_highlights(ab, light)[0].T)
    assert np.all(np.diff(chroma) <= 1e-5) and chroma[0] == np.float32(25) and chroma[-1] < chroma[0]

    hues = np.array([YELLOW_HUE, YELLOW_HUE + 15, YELLOW_HUE - 15, YELLOW_HUE + 40, 0.0])
    ab = np.stack([_ab(25, h) for h in hues])[None]
    chroma = np.hypot(*neutral_highlights(ab, np.full((1, 5), 95.0, np.float32))[0].T)
    assert chroma[0] < chroma[1] < chroma[3] and abs(chroma[1] - chroma[2]) < 1e-4
    assert chroma[3] == np.float32(25) and chroma[4] == np.float32(25)  # green-yellow and red: untouched
