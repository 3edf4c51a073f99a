"""Skin: each face the colorizer colours is turned to skin's hue, and the correction stays on the person."""

import math

import numpy as np
import pytest
import torch

from restorer.colorspace import rgb_to_lab
from restorer.faces.detect import Face, detect_faces
from restorer.imaging import read_photo
from restorer.paths import resources_dir
from restorer.stages import StageContext
from restorer.stages.colorize import colorize_model
from restorer.stages.skin import SKIN_CHROMA_CAP, SKIN_HUE, SKIN_PULL, correct_skin

EXAMPLE = resources_dir() / "examples" / "astronaut_faded.jpg"


def hue_and_chroma(ab: np.ndarray) -> tuple[float, float]:
    mean = ab.reshape(-1, 2).mean(axis=0)
    return math.degrees(math.atan2(mean[1], mean[0])), float(np.hypot(*mean))


def portrait(chroma_b: float):
    """A 128x128 working image: a face of even skin (L* 60) above a dark collar (L* 30), all yellow."""
    light = np.full((128, 128), 60.0, np.float32)
    light[96:, :] = 30.0  # the collar: an edge in lightness under the chin
    ab = np.zeros((128, 128, 2), np.float32)
    ab[..., 1] = chroma_b  # a* 0, b* > 0: yellow, the network's guess
    return ab, light, Face((48.0, 36.0, 32.0, 40.0), 0.9)


def test_a_yellow_face_is_turned_to_skins_hue_keeping_its_chroma():
    ab, light, face = portrait(28.0)
    out = correct_skin(ab, light, [face])
    hue, chroma = hue_and_chroma(out[50:70, 56:72])
    assert abs(hue - (90 + SKIN_PULL * (SKIN_HUE - 90))) < 4 and abs(chroma - 28.0) < 3  # most of the way
    assert abs(hue_and_chroma(ab[50:70, 56:72])[0] - SKIN_HUE) > 30  # it was not skin-coloured before
    # The correction fades away from the face and stops at the collar's edge.
    assert np.abs(out[2:8, 2:8] - ab[2:8, 2:8]).max() < 0.3 * np.abs(out[60, 64] - ab[60, 64]).max()
    assert np.abs(out[110:, 56:72] - ab[110:, 56:72]).max() < 2.0


def test_a_garish_face_is_calmed_to_the_chroma_cap_and_no_face_changes_nothing():
    ab, light, face = portrait(55.0)
    assert abs(hue_and_chroma(correct_skin(ab, light, [face])[50:70, 56:72])[1] - SKIN_CHROMA_CAP) < 3
    stronger = correct_skin(ab, light, [face], saturation=1.5)  # the user's saturation slider moves the cap
    assert abs(hue_and_chroma(stronger[50:70, 56:72])[1] - min(55.0, 1.5 * SKIN_CHROMA_CAP)) < 3
    assert correct_skin(ab, light, []) is ab


class _YellowColorNet(torch.nn.Module):
    """Stands in for ColorNet at its most jaundiced: the same yellow everywhere."""

    def forward(self, light, hints):
        yellow = torch.tensor([0.0, 30.0 / 110]).view(1, 2, 1, 1)
        return yellow.expand(light.shape[0], -1, *light.shape[2:]) + 0 * light


class _YellowModels:
    def color_network(self):
        from restorer.models.precision import Runtime

        return _YellowColorNet(), Runtime("cpu", None)


def test_the_colour_stage_gives_the_face_it_finds_skins_hue_and_leaves_the_rest():
    colour = read_photo(EXAMPLE).pixels
    grey = np.repeat(colour.mean(axis=2, keepdims=True), 3, axis=2)
    (face,) = detect_faces(grey)
    x, y, w, h = (int(v) for v in face.box)
    cheeks = (slice(y + h // 3, y + 2 * h // 3), slice(x + w // 4, x + 3 * w // 4))
    context = StageContext(models=_YellowModels(), used=[])
    plain = rgb_to_lab(colorize_model(grey, (), 1.0, context, skin=False))
    skin = rgb_to_lab(colorize_model(grey, (), 1.0, context))
    assert abs(hue_and_chroma(plain[cheeks][..., 1:])[0] - 90) < 5  # the network's yellow
    assert abs(hue_and_chroma(skin[cheeks][..., 1:])[0] - (90 + SKIN_PULL * (SKIN_HUE - 90))) < 8
    corner = (slice(0, 20), slice(-40, None))  # far from her face
    assert np.abs(skin[corner][..., 1:] - plain[corner][..., 1:]).max() < 1.5
    assert np.percentile(np.abs(skin[..., 0] - plain[..., 0]), 99) < 0.5  # lightness untouched (bar gamut clipping)
    assert "yunet-2023mar" in {use.model_id for use in context.used}  # the detector is in the provenance


def test_the_skin_prior_is_measured_as_documented(tmp_path):
    from restorer.training.skin_prior import face_colours, summary

    (tmp_path / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    (tmp_path / "notes.txt").write_text("not a photo")
    colours = face_colours(tmp_path)
    assert colours.shape == (1, 2)  # her face, and nothing else
    hues = np.array([[10.0, 10.0], [0.0, 20.0], [-10.0, 10.0], [10.0, 0.0]])  # 45, 90, 135 and 0 degrees
    stats = summary(hues.astype(np.float32))
    assert stats["faces"] == 4 and stats["hue_median"] == 67.5
    assert stats["chroma_median"] == round(float(np.median(np.hypot(hues[:, 0], hues[:, 1]))), 1)


def test_skin_is_in_the_recipe_the_command_line_and_the_window(qtbot):
    from restorer.cli import build_parser, recipe_from_args
    from restorer.recipe import ColorizeSettings, Recipe, RecipeError
    from tests.gui_helpers import check_box_follows_recipe

    assert Recipe().settings("colorize").skin is True
    with pytest.raises(RecipeError):
        ColorizeSettings(skin="on")
    args = build_parser().parse_args(["run", "photo.jpg", "-o", "out", "--skin", "off"])
    assert recipe_from_args(args).settings("colorize").skin is False
    check_box_follows_recipe(qtbot, "colorize_skin", "colorize", "skin")


def test_the_skin_evaluation_scores_what_it_says(tmp_path):
    from restorer.evaluation.skin import _hue_hits, evaluate_skin

    truth = np.array([[20.0, 20.0], [15.0, 25.0], [3.0, 2.0]], np.float32)  # two saturated pixels, one nearly grey
    assert _hue_hits(truth, truth) == (2, 2)
    turned = np.stack([-truth[:, 1], truth[:, 0]], axis=1)  # every hue turned by 90 degrees
    assert _hue_hits(turned, truth) == (0, 2) and _hue_hits(np.zeros_like(truth), truth) == (0, 2)
    assert evaluate_skin([tmp_path])["faces"] == 0  # an empty folder: nothing to score
    (tmp_path / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    result = evaluate_skin([tmp_path])
    assert result["photos"] == 1 and result["faces"] == 1
    assert result["ab_error_on"] != result["ab_error_off"]  # the step changed her face's colour
    assert 0.0 <= result["hue_hit_rate_on"] <= 1.0


def test_a_pixel_is_pulled_towards_skins_hue_never_past_it():
    ab, light, face = portrait(28.0)
    ab[60:64, 60:64] = (26.0, 8.0)  # a reddish shadow inside the face (hue 17 degrees)
    out = correct_skin(ab, light, [face])
    hue = math.degrees(math.atan2(out[62, 62, 1], out[62, 62, 0]))
    assert 17 < hue <= SKIN_HUE + 1  # towards skin, from the red side: not turned magenta


def test_the_pull_stays_on_the_head_where_no_edge_stops_it():
    ab, light, face = portrait(28.0)  # even lightness beside the face: nothing for the spreading to stop at
    out = correct_skin(ab, light, [face])
    assert np.abs(out[52:60, 92:96] - ab[52:60, 92:96]).max() < 1.0  # beside the head, past its grown ellipse
    assert np.abs(out[52:60, 62:66] - ab[52:60, 62:66]).max() > 10  # on the face itself


def test_the_stage_note_says_how_many_faces_got_skins_hue():
    from restorer.imaging import Photo
    from restorer.recipe import ColorizeSettings
    from restorer.stages import colorize, drain

    grey = np.repeat(read_photo(EXAMPLE).pixels.mean(axis=2, keepdims=True), 3, axis=2)
    context = StageContext(models=_YellowModels())
    _, note = drain(colorize.run(Photo(grey), ColorizeSettings(), context))
    assert "skin's hue on 1 face" in note
    _, note = drain(colorize.run(Photo(grey), ColorizeSettings(skin=False), context))
    assert "skin" not in note
