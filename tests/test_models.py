"""Networks: tiny random RRDBNets through every supported checkpoint layout, blending, tiling."""


import numpy as np

from restorer.stages import drain
import pytest
import torch
from safetensors.torch import save_file

from restorer.errors import ModelFormatError
from restorer.models.archs.rrdbnet import RRDBNet, detect, hyperparameters
from restorer.models.interpolate import blend, check_compatible
from restorer.models.loader import load_network, read_state_dict
from restorer.models.precision import Runtime
from restorer.tiling import run_tiled

from .conftest import gradient_photo

TINY = {"features": 8, "blocks": 2, "growth": 4}


def tiny(scale: int = 4, seed: int = 0) -> RRDBNet:
    torch.manual_seed(seed)
    return RRDBNet(scale=scale, **TINY).eval()


def old_esrgan_layout(state: dict) -> dict:
    """Our modern keys -> the original ESRGAN repository's keys."""
    blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("body."))
    fixed = {"conv_first": "model.0", "conv_body": f"model.1.sub.{blocks}", "conv_up1": "model.3",
             "conv_up2": "model.6", "conv_hr": "model.8", "conv_last": "model.10"}
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "body":
            out[f"model.1.sub.{parts[1]}.RDB{parts[2][3:]}.{parts[3]}.0.{parts[4]}"] = value
        else:
            out[f"{fixed[parts[0]]}.{parts[1]}"] = value
    return out


def old_basicsr_layout(state: dict) -> dict:
    fixed = {"conv_first": "conv_first", "conv_body": "trunk_conv", "conv_up1": "upconv1", "conv_up2": "upconv2",
             "conv_hr": "HRconv", "conv_last": "conv_last"}
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "body":
            out[f"RRDB_trunk.{parts[1]}.RDB{parts[2][3:]}.{parts[3]}.{parts[4]}"] = value
        else:
            out[f"{fixed[parts[0]]}.{parts[1]}"] = value
    return out


LAYOUTS = {
    "modern.pth": lambda s: s,
    "modern.safetensors": lambda s: s,
    "params_ema.pth": lambda s: {"params_ema": s, "params": {k: v * 0 for k, v in s.items()}},
    "params.pth": lambda s: {"params": s},
    "dataparallel.pth": lambda s: {f"module.{k}": v for k, v in s.items()},
    "old_esrgan.pth": old_esrgan_layout,
    "old_basicsr.pth": old_basicsr_layout,
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_round_trips_through_the_loader(tmp_path, layout):
    net = tiny()
    state = {k: v.clone() for k, v in net.state_dict().items()}
    path = tmp_path / layout
    packed = LAYOUTS[layout](state)
    if layout.endswith(".safetensors"):
        save_file(packed, str(path))
    else:
        torch.save(packed, path)
    name, loaded = load_network(path)
    assert name == "RRDBNet"
    assert (loaded.blocks, loaded.features, loaded.growth, loaded.scale) == (2, 8, 4, 4)
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))  # the EMA weights were chosen, not the zeroed ones


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_scale_is_detected_from_the_tensors(tmp_path, scale):
    net = tiny(scale)
    torch.save(net.state_dict(), tmp_path / "net.pth")
    _, loaded = load_network(tmp_path / "net.pth")
    assert loaded.scale == scale
    with torch.no_grad():
        assert loaded(torch.rand(1, 3, 8, 8)).shape == (1, 3, 8 * scale, 8 * scale)


def test_detect_rejects_other_networks():
    assert detect(tiny().state_dict())
    assert not detect({"encoder.weight": torch.zeros(1)})


def test_unknown_architecture_names_what_was_expected(tmp_path):
    torch.save({"encoder.0.weight": torch.zeros(4, 3, 3, 3)}, tmp_path / "unet.pth")
    with pytest.raises(ModelFormatError, match="not a supported architecture .expected RRDBNet"):
        load_network(tmp_path / "unet.pth")


def test_mismatched_shapes_are_explained(tmp_path):
    state = tiny().state_dict()
    state["conv_hr.weight"] = torch.zeros(8, 8, 5, 5)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ModelFormatError, match="looks like an RRDBNet but does not fit"):
        load_network(tmp_path / "bad.pth")


def test_pickled_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"conv_first.weight": Evil()}, tmp_path / "evil.pth", _use_new_zipfile_serialization=True)
    with pytest.raises(ModelFormatError, match="not a checkpoint Restorer can read safely"):
        read_state_dict(tmp_path / "evil.pth")


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "x.pth").write_bytes(b"hello")
    with pytest.raises(ModelFormatError, match="x.pth is not a checkpoint"):
        read_state_dict(tmp_path / "x.pth")


def test_blend_endpoints_and_midpoint():
    a, b = tiny(seed=1).state_dict(), tiny(seed=2).state_dict()
    assert all(torch.equal(blend(a, b, 0.0)[k], a[k]) for k in a)
    assert all(torch.allclose(blend(a, b, 1.0)[k], b[k]) for k in a)
    mid = blend(a, b, 0.5)
    assert torch.allclose(mid["conv_first.weight"], (a["conv_first.weight"] + b["conv_first.weight"]) / 2)


def test_blend_refuses_different_architectures():
    a = tiny().state_dict()
    b = RRDBNet(scale=4, features=8, blocks=3, growth=4).state_dict()
    with pytest.raises(ModelFormatError, match="only the second has 'body.2"):
        check_compatible(a, b)
    c = RRDBNet(scale=2, **TINY).state_dict()
    with pytest.raises(ModelFormatError, match="conv_first.weight"):
        check_compatible(a, c)



def test_tiled_output_matches_untiled_away_from_borders():
    net = tiny()
    image = gradient_photo(70, 52)
    runtime = Runtime("cpu", None)
    whole = drain(run_tiled(net, image, scale=4, runtime=runtime, tile=512, out_dtype=np.float32))
    tiled = drain(run_tiled(net, image, scale=4, runtime=runtime, tile=24, pad=8, out_dtype=np.float32))
    assert whole.shape == tiled.shape == (208, 280, 3)
    inner = np.s_[16:-16, 16:-16]
    assert np.abs(whole[inner] - tiled[inner]).max() <= 2 / 255


def test_tiled_uint16_output_matches_float():
    net = tiny()
    image = gradient_photo(40, 30)
    runtime = Runtime("cpu", None)
    as_float = drain(run_tiled(net, image, scale=4, runtime=runtime, tile=16, out_dtype=np.float32))
    as_u16 = drain(run_tiled(net, image, scale=4, runtime=runtime, tile=16, out_dtype=np.uint16))
    assert as_u16.dtype == np.uint16
    assert np.abs(as_u16 / 65535.0 - as_float).max() <= 1 / 65535 + 1e-6


def test_hyperparameters_read_off_the_state():
    assert hyperparameters(RRDBNet(scale=2, features=16, blocks=3, growth=8).state_dict()) == {
        "scale": 2, "features": 16, "blocks": 3, "growth": 8}


def test_user_checkpoint_runs_through_the_pipeline(tmp_path):
    from restorer import pipeline
    from restorer.imaging import Photo
    from restorer.recipe import Recipe

    torch.save({"params_ema": tiny().state_dict()}, tmp_path / "mine.pth")
    recipe = Recipe().with_enabled({"upscale"}).with_settings("upscale", checkpoint=str(tmp_path / "mine.pth"),
                                                              precision="fp32")
    result = pipeline.run_to_end(recipe, Photo(gradient_photo(20, 16)))
    assert result.size == (80, 64)


@pytest.mark.parametrize("scale", [2, 4])
def test_fused_bf16_network_matches_the_plain_one(scale):
    from restorer.models.archs.rrdbnet_fused import FusedRRDBNet, available

    if not available():
        pytest.skip("this torch build or CPU has no fused bf16 oneDNN convolution")
    net = tiny(scale)
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        reference = net(x)
    fused = FusedRRDBNet(net)
    assert torch.allclose(fused(x), reference, atol=0.02)
    with torch.no_grad():  # a new blend must reach the fused copy
        for p in net.parameters():
            p.mul_(0.5)
        reference = net(x)
    fused.refresh()
    assert torch.allclose(fused(x), reference, atol=0.02)


@pytest.mark.parametrize("length", [1, 100, 448, 512, 608, 609, 832, 1000, 1400, 4001])
def test_tiles_cover_the_photo_with_windows_no_wider_than_a_full_tile(length):
    from restorer.tiling import windows

    tile, context = 448, 80
    grid = windows(length, 3, tile, context)
    covered = np.zeros(length, int)
    for win in grid:
        covered[win.y : win.y_end] += 1
        assert win.y1 - win.y0 <= tile + 2 * context  # the memory bound a full tile already had
        assert win.y0 == max(0, win.y - context) and win.y1 == min(length, win.y_end + context)
    assert (covered == 1).all()  # every row in exactly one core
    # A photo a little longer than a tile is one window, not a tile and a sliver with its own context.
    if length <= tile + 2 * context:
        assert len(grid) == 1
    # Never much more work than fixed tiles from the top; far less where those left a sliver.
    old_work = sum(min(length, y + tile + context) - max(0, y - context) for y in range(0, length, tile))
    work = sum(win.y1 - win.y0 for win in grid)
    assert work <= 1.02 * old_work
    if length == 512:
        assert (work, old_work) == (512, 656)
