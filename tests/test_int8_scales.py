"""The per-channel int8 scheme both int8 engines share: folding scales into weights, the calibration table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restorer.engines import int8_scales
from .engine_helpers import SMALL_HYPER as HYPER, peaks_table, random_state, snr as _snr


def _state(seed: int) -> dict:
    return random_state(seed)


def _table(tmp_path, states: dict[float, dict]):
    return peaks_table(tmp_path, states)


def test_folded_weights_reproduce_the_float_convolution_of_per_channel_integers():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 5, 3, 3)).astype(np.float32)
    b = rng.normal(size=6).astype(np.float32)
    scale_in = np.array([0.01, 1.0, 30.0, 0.5, 2.0], np.float32)  # channels differing by 3000x
    scale_out = np.array([0.1, 1.0, 10.0, 0.2, 3.0, 0.05], np.float32)
    q_in = rng.integers(-127, 128, size=(1, 5, 7, 7)).astype(np.float32)
    x = torch.from_numpy(q_in * scale_in[None, :, None, None])
    expected = torch.nn.functional.conv2d(x, torch.from_numpy(w), torch.from_numpy(b), padding=1)
    q, step, bias = int8_scales.fold_weights(w, b, scale_in, scale_out)
    assert q.dtype == np.int8 and bias.dtype == np.int32 and np.abs(q).max() == 127
    folded = torch.nn.functional.conv2d(torch.from_numpy(q_in), torch.from_numpy(q * step[:, None, None, None]),
                                        torch.from_numpy((bias * step).astype(np.float32)), padding=1)
    got = folded * torch.from_numpy(scale_out)[None, :, None, None]  # back to true units
    assert _snr(got, expected) > 35.0  # only the int8 weights' rounding is left
    unfolded, _, _ = int8_scales.fold_weights(w, b, np.ones(5, np.float32), None)
    assert not np.array_equal(unfolded, q)  # the scales really went into the weights


def test_peaks_interpolate_between_alphas_clamp_outside_and_split_per_block(tmp_path):
    table = _table(tmp_path, {0.0: _state(1), 1.0: _state(2)})
    assert table["sizes"] == [16, 8, 8, 8, 8, 16]
    assert table["blocks"] == int8_scales.dense_blocks_of(HYPER)
    low, high, mid = int8_scales.peaks_at(table, 0.0), int8_scales.peaks_at(table, 1.0), int8_scales.peaks_at(table, 0.5)
    for name in table["blocks"]:
        for a, b, m in zip(low[name], high[name], mid[name]):
            assert np.allclose(m, (a + b) / 2) and np.all(a >= 0)
    assert np.array_equal(int8_scales.peaks_at(table, -3)["body.1.rdb2"][3], low["body.1.rdb2"][3])
    assert np.array_equal(int8_scales.peaks_at(table, 9)["body.1.rdb2"][3], high["body.1.rdb2"][3])


def test_a_file_that_is_not_a_calibration_is_refused(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, alphas=np.zeros(2, np.float32), peaks=np.zeros((3, 1, 4), np.float32), blocks=np.asarray(["a"]),
             sizes=np.ones(6, np.int32))
    with pytest.raises(ValueError, match="not a per-channel int8 calibration"):
        int8_scales.load_table(path)
