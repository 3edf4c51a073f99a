"""Frozen settings per stage, and the Recipe that orders them.

A Recipe is the whole description of a restoration: which of the four stages
run, in the fixed order artifacts -> inpaint -> colorize -> upscale, and with
which settings. It round-trips through JSON (saved next to every output and
as presets in resources/presets).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from restorer.errors import RecipeError
from restorer.paths import resources_dir

STAGE_ORDER = ("artifacts", "inpaint", "colorize", "upscale")
RECIPE_VERSION = 1


@dataclass(frozen=True)
class ArtifactsSettings:
    """JPEG blocking/ringing and noise removal: `engine` "model" (ArtifactNet) or "classic" (non-local means).

    `strength` is "auto" (estimated from the photo) or 0..100; 0 leaves the photo unchanged.
    `descreen`: a printed photo's halftone screen is found and removed first ("auto"), never
    looked for ("off"), or removed at a given period in scan pixels (a number; what `auto` found
    on the whole photo, when the stage runs on a crop of it).
    """

    engine: str = "model"
    strength: str | int = "auto"
    descreen: str | float = "auto"

    def __post_init__(self) -> None:
        _check_choice("artifacts engine", self.engine, ("model", "classic"))
        if self.strength != "auto" and not (isinstance(self.strength, int) and 0 <= self.strength <= 100):
            raise RecipeError(f"Artifact strength must be 'auto' or a whole number from 0 to 100, not {self.strength!r}.")
        if self.descreen not in ("auto", "off") and not (
                isinstance(self.descreen, (int, float)) and not isinstance(self.descreen, bool)
                and 2.0 <= self.descreen <= 32.0):
            raise RecipeError("Descreen must be 'auto', 'off' or a halftone period from 2 to 32 pixels, "
                              f"not {self.descreen!r}.")


@dataclass(frozen=True)
class InpaintSettings:
    """Fill the masked (white) pixels.

    `engine`: "model" (our trained InpaintNet), "telea" or "ns" (OpenCV classics;
    `radius` is their neighbourhood in pixels) or "lama" (a LaMa TorchScript export
    such as big-lama.pt at `model_path`). `detect`: also fill what the scratch
    detector proposes (ScratchNet), for batches nobody paints masks for. `grain`: give
    what is filled the photo's own grain (restorer.grain), so a fill does not read as
    a smooth smudge on a grainy print; a clean photo gets none.
    """

    engine: str = "model"
    radius: int = 5
    model_path: str = ""
    detect: bool = False
    grain: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.detect, bool):
            raise RecipeError(f"Detecting scratches is true or false, not {self.detect!r}.")
        if not isinstance(self.grain, bool):
            raise RecipeError(f"Grain in filled areas is true or false, not {self.grain!r}.")
        _check_choice("inpainting engine", self.engine, ("model", "telea", "ns", "lama"))
        if self.engine == "lama" and not self.model_path:
            raise RecipeError("The LaMa engine needs the path of a TorchScript file such as big-lama.pt.")
        if not 1 <= int(self.radius) <= 50:
            raise RecipeError(f"Inpainting radius must be between 1 and 50 pixels, not {self.radius}.")


@dataclass(frozen=True)
class ColorizeSettings:
    """Colour.

    `engine`: "auto" colorizes black-and-white and sepia photos with ColorNet and
    revives faded colour photos (levels, saturation); "revive" only
    revives; "model" colorizes from lightness even if the photo has colour.
    `hints`: the user's colour clicks, each (x, y, r, g, b) with x, y in 0..1 of the
    photo's width/height and r, g, b in 0..1. `saturation` multiplies chroma;
    `strength` blends the result with the original (0 = unchanged).
    `reference`: the path of a colour photo of a similar scene or era whose colours,
    per lightness band, steer the colorization (restorer.stages.colour_reference).
    `tone`: give a faded black-and-white print its blacks back (restorer.stages.tone),
    before it is colorized or, with "revive", keeping it black and white.
    `skin`: give the faces the colorizer colours skin's hue (restorer.stages.skin).
    """

    engine: str = "auto"
    strength: float = 1.0
    saturation: float = 1.0
    hints: tuple = ()
    reference: str = ""
    tone: bool = True
    skin: bool = True

    def __post_init__(self) -> None:
        _check_choice("colorization engine", self.engine, ("auto", "revive", "model"))
        try:
            hints = tuple(tuple(float(v) for v in hint) for hint in self.hints)
        except (TypeError, ValueError):
            raise RecipeError("Colour hints are lists of five numbers: x, y, red, green, blue.") from None
        if any(len(h) != 5 or not all(0.0 <= v <= 1.0 for v in h) for h in hints):
            raise RecipeError("Each colour hint is x, y, red, green, blue, all between 0 and 1.")
        object.__setattr__(self, "hints", hints)
        if not 0.0 <= float(self.strength) <= 1.0:
            raise RecipeError(f"Colour strength must be between 0 and 1, not {self.strength}.")
        if not 0.0 <= float(self.saturation) <= 3.0:
            raise RecipeError(f"Saturation must be between 0 and 3, not {self.saturation}.")
        if not isinstance(self.tone, bool):
            raise RecipeError(f"Reviving a faded print's tone is true or false, not {self.tone!r}.")
        if not isinstance(self.skin, bool):
            raise RecipeError(f"Natural skin tones on faces is true or false, not {self.skin!r}.")


@dataclass(frozen=True)
class UpscaleSettings:
    """Super resolution.

    `engine` "realesrgan" blends our faithful (PSNR) and Real-ESRGAN's sharp (GAN)
    networks by `alpha` (0 faithful .. 1 sharp); "lanczos" is the classic resampler.
    `precision` "auto" uses the engine measured fastest at full accuracy on this machine,
    "fp32" forces full precision, "bf16" bfloat16, "int8" integer convolutions on
    ONNX Runtime (the built-in pair only: faster, 0.1-0.3 dB less faithful).
    `checkpoint`, when set, is the path of a user's own ESRGAN-family weights file,
    used instead of the built-in pair (alpha is then ignored). `ensemble` averages
    the network over the eight flips and rotations of the photo: eight times the
    time for a slightly more faithful result (best quality for unattended batches).
    `quality` "fast" runs FastSR, a compact network distilled from the pair with
    the slider as its input (about 30x fewer operations; README gives its cost
    in fidelity), instead of the exact blend ("best").
    `faces`: keep faces the same person: each face found is enlarged again at a
    faithful alpha, alpha * (1 - `face_strength`), and blended back over the face
    (restorer.faces.blend); hair and background keep `alpha`.
    """

    engine: str = "realesrgan"
    scale: int = 4
    alpha: float = 0.7
    # 448 + 64 px of context costs (576/448)^2 = 1.65x one pass and ~2 GB at x4; smaller saves memory.
    tile: int = 448
    precision: str = "auto"
    checkpoint: str = ""
    ensemble: bool = False
    faces: bool = True
    face_strength: float = 0.7
    quality: str = "best"

    def __post_init__(self) -> None:
        _check_choice("enlargement quality", self.quality, ("best", "fast"))
        if not isinstance(self.faces, bool):
            raise RecipeError(f"Keeping faces faithful is true or false, not {self.faces!r}.")
        if not 0.0 <= float(self.face_strength) <= 1.0:
            raise RecipeError(f"The face strength must be between 0 and 1, not {self.face_strength}.")
        if not isinstance(self.ensemble, bool):
            raise RecipeError(f"The self-ensemble setting is true or false, not {self.ensemble!r}.")
        _check_choice("upscaling engine", self.engine, ("realesrgan", "lanczos"))
        _check_choice("scale", self.scale, (1, 2, 3, 4))
        _check_choice("precision", self.precision, ("auto", "fp32", "bf16", "int8"))
        if not 0.0 <= float(self.alpha) <= 1.0:
            raise RecipeError(f"The PSNR-GAN blend alpha must be between 0 and 1, not {self.alpha}.")
        if not 32 <= int(self.tile) <= 2048:
            raise RecipeError(f"Tile size must be between 32 and 2048 pixels, not {self.tile}.")


SETTINGS_TYPES: dict[str, type] = {
    "artifacts": ArtifactsSettings,
    "inpaint": InpaintSettings,
    "colorize": ColorizeSettings,
    "upscale": UpscaleSettings,
}

Settings = ArtifactsSettings | InpaintSettings | ColorizeSettings | UpscaleSettings


def _check_choice(what: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise RecipeError(f"Unknown {what} {value!r}; choose one of {', '.join(map(str, choices))}.")


@dataclass(frozen=True)
class Step:
    """One stage of a recipe: its id, whether it runs, and its settings."""

    stage: str
    enabled: bool
    settings: Settings


def _default_steps() -> tuple[Step, ...]:
    return tuple(Step(s, s != "inpaint", SETTINGS_TYPES[s]()) for s in STAGE_ORDER)


@dataclass(frozen=True)
class Recipe:
    """The four stages in their fixed order. Build variants with `with_settings`/`with_enabled`."""

    steps: tuple[Step, ...] = field(default_factory=_default_steps)

    def __post_init__(self) -> None:
        if tuple(s.stage for s in self.steps) != STAGE_ORDER:
            raise RecipeError(f"A recipe lists the stages {', '.join(STAGE_ORDER)} in that order.")
        for step in self.steps:
            if not isinstance(step.settings, SETTINGS_TYPES[step.stage]):
                raise RecipeError(f"Stage {step.stage} was given {type(step.settings).__name__}.")

    def step(self, stage: str) -> Step:
        return self.steps[STAGE_ORDER.index(stage)]

    def settings(self, stage: str) -> Settings:
        return self.step(stage).settings

    def enabled_stages(self) -> tuple[str, ...]:
        return tuple(s.stage for s in self.steps if s.enabled)

    def with_enabled(self, stages: set[str] | frozenset[str] | tuple[str, ...]) -> "Recipe":
        unknown = set(stages) - set(STAGE_ORDER)
        if unknown:
            raise RecipeError(f"Unknown stage {sorted(unknown)[0]!r}; the stages are {', '.join(STAGE_ORDER)}.")
        return Recipe(tuple(replace(s, enabled=s.stage in stages) for s in self.steps))

    def with_settings(self, stage: str, **changes: Any) -> "Recipe":
        steps = list(self.steps)
        index = STAGE_ORDER.index(stage)
        try:
            steps[index] = replace(steps[index], settings=replace(steps[index].settings, **changes))
        except TypeError as exc:
            raise RecipeError(f"Stage {stage} has no such setting ({exc}).") from None
        return Recipe(tuple(steps))

    # --- JSON ---------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {"version": RECIPE_VERSION,
                "stages": [{"stage": s.stage, "enabled": s.enabled, "settings": asdict(s.settings)} for s in self.steps]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "Recipe":
        if not isinstance(data, dict) or data.get("version") != RECIPE_VERSION:
            raise RecipeError(f"This recipe is not a version {RECIPE_VERSION} Restorer recipe.")
        given = {entry.get("stage"): entry for entry in data.get("stages", []) if isinstance(entry, dict)}
        steps = []
        for stage in STAGE_ORDER:
            entry = given.get(stage, {})
            kind = SETTINGS_TYPES[stage]
            known = {f.name for f in fields(kind)}
            raw = entry.get("settings", {}) or {}
            extra = set(raw) - known
            if extra:
                raise RecipeError(f"Stage {stage} has no setting named {sorted(extra)[0]!r}.")
            steps.append(Step(stage, bool(entry.get("enabled", False)), kind(**raw)))
        return cls(tuple(steps))

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise RecipeError(f"The recipe is not valid JSON ({exc.msg} at line {exc.lineno}).") from None


def presets_dir() -> Path:
    return resources_dir() / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in presets_dir().glob("*.json"))


def load_preset(name: str) -> Recipe:
    """A named preset from resources/presets, or a recipe file given by path."""
    path = Path(name)
    if not path.suffix:
        path = presets_dir() / f"{name}.json"
    if not path.is_file():
        raise RecipeError(f"There is no preset named {name!r}; the presets are {', '.join(preset_names())}.")
    return Recipe.from_json(path.read_text(encoding="utf-8"))


def load_hints(path: Path) -> tuple:
    """Colour hints from a JSON file, as ColorizeSettings.hints.

    The file holds a list; each hint is either [x, y, r, g, b] (all 0..1) or
    {"x": 0.4, "y": 0.7, "color": "#b03a2e"} with x, y in 0..1 of the photo's
    width and height. A recipe file saved by the window carries its hints too.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecipeError(f"Cannot read the hints file {path}: {exc.strerror or exc}.") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RecipeError(f"{path} is not a JSON file of colour hints.") from None
    if not isinstance(data, list):
        raise RecipeError(f"{path} must hold a list of colour hints.")
    hints = []
    for item in data:
        if isinstance(item, dict):
            colour = str(item.get("color", item.get("colour", "")))
            if len(colour) != 7 or not colour.startswith("#"):
                raise RecipeError(f"{path}: each hint's colour is written like \"#b03a2e\", not {colour!r}.")
            try:
                rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
                hints.append((float(item["x"]), float(item["y"]), *rgb))
            except (KeyError, ValueError, TypeError):
                raise RecipeError(f"{path}: each hint needs numbers x and y and a colour like \"#b03a2e\".") from None
        else:
            hints.append(item)
    return ColorizeSettings(hints=tuple(hints)).hints
