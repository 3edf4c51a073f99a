import pytest

from restorer.errors import RecipeError
from restorer.recipe import STAGE_ORDER, Recipe, Step, UpscaleSettings, load_preset, preset_names


def test_default_recipe_has_the_four_stages_in_order():
    assert tuple(s.stage for s in Recipe().steps) == STAGE_ORDER == ("artifacts", "inpaint", "colorize", "upscale")


def test_json_round_trip_keeps_every_setting():
    recipe = (Recipe().with_enabled({"artifacts", "upscale"})
              .with_settings("upscale", alpha=0.25, scale=2, engine="lanczos", ensemble=True)
              .with_settings("artifacts", strength=40))
    again = Recipe.from_json(recipe.to_json())
    assert again == recipe
    assert again.enabled_stages() == ("artifacts", "upscale")
    assert again.settings("upscale").alpha == 0.25 and again.settings("upscale").ensemble is True


def test_stages_out_of_order_are_refused():
    steps = list(Recipe().steps)
    steps[0], steps[3] = steps[3], steps[0]
    with pytest.raises(RecipeError, match="in that order"):
        Recipe(tuple(steps))


def test_wrong_settings_type_is_refused():
    steps = list(Recipe().steps)
    steps[0] = Step("artifacts", True, UpscaleSettings())
    with pytest.raises(RecipeError):
        Recipe(tuple(steps))


@pytest.mark.parametrize("change", [
    {"stage": "upscale", "alpha": 1.5}, {"stage": "upscale", "scale": 5}, {"stage": "artifacts", "strength": 101},
    {"stage": "artifacts", "strength": "strong"}, {"stage": "inpaint", "engine": "magic"},
    {"stage": "upscale", "ensemble": "yes"},
])
def test_invalid_settings_raise_a_sentence(change):
    stage = change.pop("stage")
    with pytest.raises(RecipeError) as info:
        Recipe().with_settings(stage, **change)
    assert str(info.value).endswith(".")


def test_unknown_setting_in_json_is_named():
    data = Recipe().to_dict()
    data["stages"][3]["settings"]["sharpness"] = 3
    with pytest.raises(RecipeError, match="sharpness"):
        Recipe.from_dict(data)


def test_presets_load_and_unknown_preset_is_explained():
    names = preset_names()
    assert "default" in names
    for name in names:
        assert isinstance(load_preset(name), Recipe)
    with pytest.raises(RecipeError, match="no preset named"):
        load_preset("does-not-exist")


def test_hints_file_takes_lists_and_hex_colours(tmp_path):
    from restorer.recipe import load_hints

    path = tmp_path / "hints.json"
    path.write_text('[[0.1, 0.2, 1, 0, 0], {"x": 0.5, "y": 0.75, "color": "#336699"}]')
    hints = load_hints(path)
    assert hints[0] == (0.1, 0.2, 1.0, 0.0, 0.0)
    assert hints[1][:2] == (0.5, 0.75) and abs(hints[1][2] - 0x33 / 255) < 1e-9 and abs(hints[1][4] - 0x99 / 255) < 1e-9


@pytest.mark.parametrize("text, reason", [
    ("{", "not a JSON file"), ('{"x": 1}', "list of colour hints"), ('[{"x": 0.1, "y": 0.1, "color": "red"}]', "#b03a2e"),
    ("[[0.1, 2, 1, 1, 1]]", "between 0 and 1")])
def test_bad_hints_files_get_one_sentence(tmp_path, text, reason):
    from restorer.recipe import load_hints

    path = tmp_path / "hints.json"
    path.write_text(text)
    with pytest.raises(RecipeError, match=reason):
        load_hints(path)


def test_cli_hints_reach_the_colorize_settings(tmp_path):
    from restorer.cli import build_parser, recipe_from_args

    path = tmp_path / "hints.json"
    path.write_text('[[0.25, 0.5, 0.2, 0.4, 0.6]]')
    recipe = recipe_from_args(build_parser().parse_args(["run", "x.png", "-o", str(tmp_path), "--hints", str(path),
                                                         "--saturation", "1.3"]))
    assert recipe.settings("colorize").hints == ((0.25, 0.5, 0.2, 0.4, 0.6),)
    assert recipe.settings("colorize").saturation == 1.3 and "colorize" in recipe.enabled_stages()
