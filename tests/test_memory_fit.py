"""Enlarging on a machine short of memory: smaller tiles instead of swapping or refusing."""

from __future__ import annotations

import numpy as np

from restorer import memory
from restorer.imaging import Photo
from restorer.recipe import Recipe, UpscaleSettings
from restorer.stages import StageContext, drain, upscale


def test_the_tile_shrinks_until_its_enlargement_fits_and_never_below_the_minimum():
    default = UpscaleSettings().tile
    assert memory.tile_that_fits(default, 10**12) == default
    spare = memory.enlarge_working_set(default) // 2
    fitted = memory.tile_that_fits(default, spare)
    assert memory.MIN_TILE <= fitted < default
    assert memory.enlarge_working_set(fitted) <= spare < memory.enlarge_working_set(fitted + 32)
    assert memory.tile_that_fits(default, 1) == memory.MIN_TILE


def test_the_estimate_grows_with_the_tile_and_the_default_tile_needs_over_four_gb():
    sizes = [memory.enlarge_working_set(t) for t in (128, 256, 448, 640)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    # Measured: one default tile of x4plus peaked 4.2 GB above the loaded model (ONNX Runtime).
    assert memory.enlarge_working_set(448) > 4e9


def test_the_run_estimate_assumes_the_tile_that_fits(monkeypatch):
    recipe = Recipe().with_enabled({"upscale"})
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 * 10**9)
    roomy = memory.run_bytes(640, 480, recipe)
    monkeypatch.setattr(memory, "available_bytes", lambda: 3 * 10**9)
    tight = memory.run_bytes(640, 480, recipe)
    assert tight < roomy and tight <= memory.budget_bytes()


def test_the_enlargement_runs_in_smaller_tiles_when_memory_is_short_and_says_so(monkeypatch):
    rng = np.random.default_rng(0)
    photo = Photo(rng.random((20, 24, 3), dtype=np.float32))
    settings = UpscaleSettings(faces=False)
    monkeypatch.setattr(memory, "available_bytes", lambda: 1_600_000_000)
    small, note = drain(upscale.run(photo, settings, StageContext()))
    assert "tiles of" in note and "to fit the memory free" in note
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 * 10**9)
    roomy, roomy_note = drain(upscale.run(photo, settings, StageContext()))
    assert "tiles of" not in roomy_note
    # The photo is smaller than either tile, so the pixels must not change with it.
    assert np.allclose(small.float_pixels(), roomy.float_pixels(), atol=1e-5)
