"""RecipePanel: turn stages on and off and set their settings.

It shows a Recipe and emits `recipe_changed(Recipe)` whenever the user edits
it; it never runs anything itself. The Look slider also emits
`alpha_moved(float)` while it is being dragged, for the live preview.
A preset drop-down at the top emits `preset_chosen(name)`, and the Enlarge
section's model picker `checkpoint_requested()` when the user wants to
choose their own ESRGAN weights (the window owns the file dialog).
Every slider shows its value; every control has a tooltip and an
accessible name.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSlider,
                               QSpinBox, QVBoxLayout, QWidget)

from restorer.recipe import Recipe

_TITLES = {"artifacts": "1  Remove JPEG artifacts and noise", "inpaint": "2  Fill scratches and tears",
           "colorize": "3  Colour", "upscale": "4  Enlarge (super resolution)"}
_TIPS = {"artifacts": "Removes JPEG blocks and ringing, film grain and sensor noise, and the dots of a photo "
                      "printed in a book or newspaper.",
         "inpaint": "Fills what you paint with the Brush (or what Detect scratches proposes).",
         "colorize": "Colours black-and-white and sepia photos; revives the colour of faded prints.",
         "upscale": "Enlarges the photo with a neural network, from faithful to sharp."}
CUSTOM_PRESET = "Custom"


def _slider(low: int, high: int, value: int, name: str, tip: str) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    slider.setToolTip(tip)
    slider.setAccessibleName(name)
    slider.setAccessibleDescription(tip)
    return slider


def _ticked_box(text: str, name: str, tip: str) -> QCheckBox:
    """A check box that starts ticked (a default-on setting), named for tests and screen readers."""
    box = QCheckBox(text)
    box.setObjectName(name)
    box.setChecked(True)
    box.setToolTip(tip)
    box.setAccessibleDescription(tip)
    return box


def _with_value(slider: QSlider, fmt) -> tuple[QWidget, QLabel]:
    """The slider with a label after it that always shows its value, formatted by `fmt(int)`."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    label = QLabel(fmt(slider.value()))
    label.setMinimumWidth(44)
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    slider.valueChanged.connect(lambda v: label.setText(fmt(v)))
    row.addWidget(slider, 1)
    row.addWidget(label)
    return box, label


class RecipePanel(QWidget):
    recipe_changed = Signal(object)
    alpha_moved = Signal(float)
    preset_chosen = Signal(str)
    checkpoint_requested = Signal()

    def __init__(self, recipe: Recipe | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._recipe = recipe or Recipe()
        self._updating = False
        layout = QVBoxLayout(self)
        self._build_presets(layout)
        self.groups: dict[str, QGroupBox] = {}
        for stage in ("artifacts", "inpaint", "colorize", "upscale"):
            group = QGroupBox(_TITLES[stage])
            group.setCheckable(True)
            group.setObjectName(f"stage_{stage}")
            group.setToolTip(_TIPS[stage])
            group.setAccessibleName(_TITLES[stage].split("  ", 1)[1])
            group.toggled.connect(self._on_edited)
            self.groups[stage] = group
            layout.addWidget(group)
        self._build_artifacts()
        self._build_inpaint()
        self._build_colorize()
        self._build_upscale()
        self.output_size = QLabel("")
        self.output_size.setObjectName("output_size")
        self.output_size.setWordWrap(True)
        self.output_size.setAccessibleName("Result size")
        layout.addWidget(self.output_size)
        layout.addStretch(1)
        self.set_recipe(self._recipe)

    # --- building -----------------------------------------------------------------------

    def _build_presets(self, layout: QVBoxLayout) -> None:
        from restorer.errors import RestorerError
        from restorer.recipe import load_preset, preset_names

        self._presets: dict[str, Recipe] = {}
        for name in preset_names():
            try:
                self._presets[name] = load_preset(name)
            except RestorerError:  # a broken preset file must not break the panel
                continue
        row = QHBoxLayout()
        label = QLabel("Preset")
        self.preset = QComboBox()
        self.preset.setObjectName("preset")
        self.preset.setAccessibleName("Preset")
        self.preset.setToolTip("Start from a saved recipe; any change afterwards makes it Custom")
        self.preset.addItem(CUSTOM_PRESET, "")
        for name in self._presets:
            self.preset.addItem(name.replace("-", " ").capitalize(), name)
        label.setBuddy(self.preset)
        row.addWidget(label)
        row.addWidget(self.preset, 1)
        layout.addLayout(row)
        self.preset.activated.connect(self._on_preset)

    def _build_artifacts(self) -> None:
        form = QFormLayout(self.groups["artifacts"])
        self.artifacts_engine = QComboBox()
        self.artifacts_engine.addItem("Neural (ArtifactNet)", "model")
        self.artifacts_engine.addItem("Classic (non-local means)", "classic")
        self.artifacts_engine.setAccessibleName("Artifact removal method")
        self.artifacts_engine.setToolTip("The neural network keeps more detail; the classic filter is a baseline")
        form.addRow("Method", self.artifacts_engine)
        self.artifacts_engine.currentIndexChanged.connect(self._on_edited)
        self.artifacts_auto = QCheckBox("Automatic")
        self.artifacts_auto.setToolTip("Estimated from the file's JPEG quality tables and the image's noise level")
        self.artifacts_auto.setAccessibleName("Automatic artifact strength")
        self.artifacts_strength = _slider(0, 100, 50, "Artifact removal strength",
                                          "How hard to clean: 0 leaves the photo as it is, 100 removes the most "
                                          "(and some fine detail with it)")
        strength_box, self.artifacts_strength_value = _with_value(self.artifacts_strength, str)
        self.artifacts_estimate = QLabel("")
        self.artifacts_estimate.setWordWrap(True)
        self.artifacts_estimate.setObjectName("artifacts_estimate")
        form.addRow(self.artifacts_auto)
        form.addRow("Strength", strength_box)
        form.addRow(self.artifacts_estimate)
        self.artifacts_auto.toggled.connect(self._on_edited)
        self.artifacts_strength.valueChanged.connect(self._on_edited)
        self.artifacts_descreen = QCheckBox("Remove a printed photo's halftone dots")
        self.artifacts_descreen.setAccessibleName("Remove halftone screen")
        self.artifacts_descreen.setToolTip("Photos printed in books, magazines and newspapers are made of a grid of "
                                           "ink dots; when the scan shows one, it is found and smoothed away before "
                                           "the enlargement can sharpen it into a pattern")
        form.addRow(self.artifacts_descreen)
        self.artifacts_descreen.toggled.connect(self._on_edited)

    def _build_inpaint(self) -> None:
        form = QFormLayout(self.groups["inpaint"])
        self.inpaint_engine = QComboBox()
        self.inpaint_engine.addItem("InpaintNet (trained)", "model")
        self.inpaint_engine.addItem("Telea (fast marching)", "telea")
        self.inpaint_engine.addItem("Navier-Stokes", "ns")
        self.inpaint_engine.setAccessibleName("Filling method")
        self.inpaint_engine.setToolTip("InpaintNet invents plausible texture; the classic methods smooth from the edges")
        self.inpaint_radius = QSpinBox()
        self.inpaint_radius.setRange(1, 50)
        self.inpaint_radius.setAccessibleName("Classic filling radius")
        self.inpaint_radius.setToolTip("Neighbourhood the classic methods look at, in pixels")
        self.inpaint_grain = QCheckBox("Give filled areas the photo's grain")
        self.inpaint_grain.setToolTip("A fill is smooth; on a grainy print that reads as a smudge. The grain "
                                      "added is measured on the photo itself, so a clean photo gets none")
        form.addRow("Method", self.inpaint_engine)
        form.addRow("Radius (px)", self.inpaint_radius)
        form.addRow(self.inpaint_grain)
        hint = QLabel("Paint over the damage with the Brush (or Detect scratches), then Restore.")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.inpaint_engine.currentIndexChanged.connect(self._on_edited)
        self.inpaint_radius.valueChanged.connect(self._on_edited)
        self.inpaint_grain.toggled.connect(self._on_edited)

    def _build_colorize(self) -> None:
        form = QFormLayout(self.groups["colorize"])
        self.colorize_engine = QComboBox()
        self.colorize_engine.addItem("Automatic (colorize B&W, revive faded colour)", "auto")
        self.colorize_engine.addItem("Revive faded prints only", "revive")
        self.colorize_engine.addItem("Colorize from lightness", "model")
        self.colorize_engine.setAccessibleName("Colour mode")
        self.colorize_engine.setToolTip("What to do with colour; Automatic decides from the photo")
        form.addRow("Mode", self.colorize_engine)
        self.colorize_engine.currentIndexChanged.connect(self._on_edited)
        self.colorize_strength = _slider(0, 100, 100, "Colour amount",
                                         "How much of the new colour to apply: 0 % keeps the photo as it was, "
                                         "100 % applies it fully")
        self.colorize_saturation = _slider(0, 300, 100, "Colour saturation",
                                           "Makes the new colours stronger (above 1.00×) or paler (below)")
        amount_box, self.colorize_strength_value = _with_value(self.colorize_strength, lambda v: f"{v} %")
        saturation_box, self.colorize_saturation_value = _with_value(self.colorize_saturation, lambda v: f"{v / 100:.2f}×")
        form.addRow("Amount", amount_box)
        form.addRow("Saturation", saturation_box)
        self.colorize_tone = _ticked_box("Restore a faded print's blacks", "colorize_tone",
                                         "A black-and-white print that has faded to greys gets its deep shadows "
                                         "back before it is coloured (with Revive faded prints only, it stays black "
                                         "and white). A print that still has its blacks is left as it is")
        form.addRow(self.colorize_tone)
        self.colorize_skin = _ticked_box("Natural skin tones on faces", "colorize_skin",
                                         "The colorizer leans yellow on faces; this pulls each face it finds towards "
                                         "the hue skin has. A colour hint on a face still wins")
        form.addRow(self.colorize_skin)
        self.colorize_reference = QLabel("")
        self.colorize_reference.setObjectName("colorize_reference")
        self.colorize_reference.setWordWrap(True)
        self.colorize_reference.setToolTip("File ▸ Colour Reference chooses a colour photo whose colours steer these")
        form.addRow(self.colorize_reference)
        # What the last run's colour stage did, and why ("left unchanged: it has true blacks"): Automatic
        # decides from the photo, and a decision the user cannot see reads as a fault.
        self.colorize_outcome = QLabel("")
        self.colorize_outcome.setObjectName("colorize_outcome")
        self.colorize_outcome.setWordWrap(True)
        form.addRow(self.colorize_outcome)
        self.colorize_strength.valueChanged.connect(self._on_edited)
        self.colorize_saturation.valueChanged.connect(self._on_edited)
        self.colorize_tone.toggled.connect(self._on_edited)
        self.colorize_skin.toggled.connect(self._on_edited)

    def _build_upscale(self) -> None:
        form = QFormLayout(self.groups["upscale"])
        self.upscale_engine = QComboBox()
        self.upscale_engine.addItem("Real-ESRGAN (neural)", "realesrgan")
        self.upscale_engine.addItem("Lanczos (classic)", "lanczos")
        self.upscale_engine.setAccessibleName("Enlargement method")
        self.upscale_engine.setToolTip("The neural network adds real detail; Lanczos only resamples")
        self.upscale_model = QComboBox()
        self.upscale_model.setObjectName("upscale_model")
        self.upscale_model.setAccessibleName("Enlargement model")
        self.upscale_model.setToolTip("The built-in faithful-to-sharp pair, or your own ESRGAN / Real-ESRGAN weights")
        self.upscale_model.addItem("Built-in (faithful ↔ sharp)", "")
        self.upscale_model.addItem("Your own checkpoint…", "choose")
        self.upscale_quality = QComboBox()
        self.upscale_quality.setObjectName("upscale_quality")
        self.upscale_quality.addItem("Best (exact blend)", "best")
        self.upscale_quality.addItem("Fast (compact network)", "fast")
        self.upscale_quality.setAccessibleName("Enlargement quality")
        self.upscale_quality.setToolTip("Best runs the faithful and sharp networks blended by the Look. Fast runs a "
                                        "compact network taught to imitate them: about 100x faster on a CPU, softer, "
                                        "and a little less faithful to what Best would make")
        self.upscale_scale = QComboBox()
        for scale in (1, 2, 3, 4):
            self.upscale_scale.addItem(f"×{scale}", scale)
        self.upscale_scale.setAccessibleName("Enlargement factor")
        self.upscale_scale.setToolTip("How many times larger the result is, in width and height")
        self.upscale_alpha = _slider(0, 100, 70, "Look, from faithful to sharp",
                                     "Faithful keeps what the photo shows; sharp invents crisp detail. "
                                     "Dragging previews the part on screen")
        self.upscale_alpha.setObjectName("upscale_alpha")
        look_box = QWidget()
        row = QHBoxLayout(look_box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Faithful"))
        row.addWidget(self.upscale_alpha, 1)
        row.addWidget(QLabel("Sharp"))
        self.upscale_alpha_value = QLabel("0.70")
        self.upscale_alpha_value.setMinimumWidth(34)
        self.upscale_alpha.valueChanged.connect(lambda v: self.upscale_alpha_value.setText(f"{v / 100:.2f}"))
        row.addWidget(self.upscale_alpha_value)
        form.addRow("Engine", self.upscale_engine)
        form.addRow("Model", self.upscale_model)
        form.addRow("Quality", self.upscale_quality)
        form.addRow("Scale", self.upscale_scale)
        form.addRow("Look", look_box)
        self.upscale_ensemble = QCheckBox("Self-ensemble (8 passes, 8× slower)")
        self.upscale_ensemble.setToolTip("Averages the network over eight flips and rotations of the photo: "
                                         "slightly more faithful detail, when the result is worth the wait.")
        self.upscale_ensemble.setAccessibleName("Self-ensemble, eight passes")
        form.addRow("", self.upscale_ensemble)
        self.upscale_int8 = QCheckBox("Integer arithmetic (int8), even where not chosen automatically")
        self.upscale_int8.setObjectName("upscale_int8")
        self.upscale_int8.setToolTip("Runs the exact blend's convolutions in 8-bit integers, even where the automatic "
                                     "choice would not: about 3.6x plain full precision on an AVX-512 CPU with VNNI "
                                     "and within 0.07 dB of it (OpenVINO where installed, else ONNX Runtime); on CPUs "
                                     "without VNNI it gains less and is a little less faithful; built-in pair only")
        self.upscale_int8.setAccessibleName("Integer arithmetic")
        form.addRow("", self.upscale_int8)
        self.upscale_faces = QCheckBox("Keep faces faithful")
        self.upscale_faces.setObjectName("upscale_faces")
        self.upscale_faces.setToolTip("Faces are enlarged again, more faithfully, and blended in over the face, so "
                                      "eyes, mouth and skin keep their character; hair and background keep the Look")
        self.upscale_faces.setAccessibleName("Keep faces faithful")
        self.upscale_face_strength = _slider(0, 100, 70, "Face faithfulness",
                                             "How much more faithful faces are than the rest: 0 % as the Look, "
                                             "100 % fully faithful")
        face_box, self.upscale_face_strength_value = _with_value(self.upscale_face_strength, lambda v: f"{v} %")
        form.addRow("Faces", self.upscale_faces)
        form.addRow("", face_box)
        self.upscale_faces.toggled.connect(self._on_edited)
        self.upscale_face_strength.valueChanged.connect(self._on_edited)
        self.upscale_engine.currentIndexChanged.connect(self._on_edited)
        self.upscale_quality.currentIndexChanged.connect(self._on_edited)
        self.upscale_model.activated.connect(self._on_model_chosen)
        self.upscale_ensemble.toggled.connect(self._on_edited)
        self.upscale_int8.toggled.connect(self._on_edited)
        self.upscale_scale.currentIndexChanged.connect(self._on_edited)
        self.upscale_alpha.sliderReleased.connect(self._on_edited)
        self.upscale_alpha.valueChanged.connect(self._on_alpha_value)

    # --- recipe <-> widgets -------------------------------------------------------------

    def recipe(self) -> Recipe:
        return self._recipe

    def set_recipe(self, recipe: Recipe, preset: str | None = None) -> None:
        """Show `recipe`; `preset` names the preset it came from (None: Custom unless it equals one)."""
        self._updating = True
        try:
            for stage, group in self.groups.items():
                group.setChecked(stage in recipe.enabled_stages())
            art = recipe.settings("artifacts")
            self.artifacts_engine.setCurrentIndex(self.artifacts_engine.findData(art.engine))
            self.artifacts_auto.setChecked(art.strength == "auto")
            self.artifacts_strength.setEnabled(art.strength != "auto")
            self.artifacts_descreen.setChecked(art.descreen != "off")
            if art.strength != "auto":
                self.artifacts_strength.setValue(int(art.strength))
            inp = recipe.settings("inpaint")
            self.inpaint_engine.setCurrentIndex(self.inpaint_engine.findData(inp.engine))
            self.inpaint_radius.setValue(inp.radius)
            self.inpaint_grain.setChecked(inp.grain)
            col = recipe.settings("colorize")
            self.colorize_engine.setCurrentIndex(self.colorize_engine.findData(col.engine))
            self.colorize_strength.setValue(int(round(col.strength * 100)))
            self.colorize_saturation.setValue(int(round(col.saturation * 100)))
            self.colorize_tone.setChecked(col.tone)
            self.colorize_skin.setChecked(col.skin)
            self.colorize_reference.setText(f"Colours from {Path(col.reference).name}" if col.reference else "")
            up = recipe.settings("upscale")
            self.upscale_engine.setCurrentIndex(self.upscale_engine.findData(up.engine))
            self._show_checkpoint(up.checkpoint)
            self.upscale_model.setEnabled(up.engine == "realesrgan")
            self.upscale_quality.setCurrentIndex(self.upscale_quality.findData(up.quality))
            self.upscale_quality.setEnabled(up.engine == "realesrgan" and not up.checkpoint)
            self.upscale_scale.setCurrentIndex(self.upscale_scale.findData(up.scale))
            self.upscale_alpha.setValue(int(round(up.alpha * 100)))
            self.upscale_alpha.setEnabled(up.engine == "realesrgan" and not up.checkpoint)
            self.upscale_ensemble.setChecked(up.ensemble)
            self.upscale_ensemble.setEnabled(up.engine == "realesrgan")
            self.upscale_int8.setChecked(up.precision == "int8")
            self.upscale_int8.setEnabled(up.engine == "realesrgan" and not up.checkpoint and up.quality == "best")
            self.upscale_faces.setChecked(up.faces)
            self.upscale_faces.setEnabled(up.engine == "realesrgan" and not up.checkpoint)
            self.upscale_face_strength.setValue(int(round(up.face_strength * 100)))
            self.upscale_face_strength.setEnabled(up.faces and up.engine == "realesrgan" and not up.checkpoint)
            self._show_preset(recipe, preset)
        finally:
            self._updating = False
        self._recipe = recipe

    def _show_checkpoint(self, checkpoint: str) -> None:
        """The model picker shows the built-in pair, or the chosen file's name as its own entry."""
        while self.upscale_model.count() > 2:
            self.upscale_model.removeItem(2)
        if checkpoint:
            self.upscale_model.addItem(Path(checkpoint).name, checkpoint)
            self.upscale_model.setCurrentIndex(2)
            self.upscale_model.setToolTip(checkpoint)
        else:
            self.upscale_model.setCurrentIndex(0)

    def _show_preset(self, recipe: Recipe, preset: str | None) -> None:
        if preset is None:
            preset = next((name for name, known in self._presets.items() if known == recipe), "")
        self.preset.setCurrentIndex(max(0, self.preset.findData(preset)))

    def show_estimate(self, text: str) -> None:
        self.artifacts_estimate.setText(text)

    def show_colour_outcome(self, text: str) -> None:
        """What the colour stage did in the last run (its note, first letter raised), under its settings."""
        self.colorize_outcome.setText(text[:1].upper() + text[1:] + ("." if text and not text.endswith(".") else ""))

    def show_output_size(self, text: str, warning: bool = False) -> None:
        """The size the result will have (and a memory warning, in colour, when it is one)."""
        self.output_size.setText(text)
        self.output_size.setStyleSheet("color: #b35c00; font-weight: bold;" if warning else "")

    def _read_widgets(self) -> Recipe:
        enabled = {stage for stage, group in self.groups.items() if group.isChecked()}
        strength: str | int = "auto" if self.artifacts_auto.isChecked() else self.artifacts_strength.value()
        # Ticked keeps a recipe's own period (a number) where it gave one; unticked is "off".
        descreen = self._recipe.settings("artifacts").descreen
        if not self.artifacts_descreen.isChecked():
            descreen = "off"
        elif descreen == "off":
            descreen = "auto"
        checkpoint = self.upscale_model.currentData() if self.upscale_model.currentIndex() >= 2 else ""
        return (
            self._recipe.with_enabled(enabled)
            .with_settings("artifacts", strength=strength, engine=self.artifacts_engine.currentData(),
                           descreen=descreen)
            .with_settings("inpaint", engine=self.inpaint_engine.currentData(), radius=self.inpaint_radius.value(),
                           grain=self.inpaint_grain.isChecked())
            .with_settings("colorize", engine=self.colorize_engine.currentData(),
                           strength=self.colorize_strength.value() / 100,
                           saturation=self.colorize_saturation.value() / 100,
                           tone=self.colorize_tone.isChecked(), skin=self.colorize_skin.isChecked())
            .with_settings("upscale", engine=self.upscale_engine.currentData(), scale=self.upscale_scale.currentData(),
                           alpha=self.upscale_alpha.value() / 100, ensemble=self.upscale_ensemble.isChecked(),
                           checkpoint=checkpoint, faces=self.upscale_faces.isChecked(),
                           quality=self.upscale_quality.currentData(), precision=self._precision(),
                           face_strength=self.upscale_face_strength.value() / 100)
        )

    def _precision(self) -> str:
        """int8 when asked for; otherwise the recipe's own choice (a recipe file may say fp32), int8 undone."""
        if self.upscale_int8.isChecked():
            return "int8"
        current = self._recipe.settings("upscale").precision
        return "auto" if current == "int8" else current

    def _on_edited(self, *_args) -> None:
        if self._updating:
            return
        recipe = self._read_widgets()
        self.set_recipe(recipe)  # keeps dependent widgets (enabled states, preset name) consistent
        self.recipe_changed.emit(recipe)

    def _on_preset(self, index: int) -> None:
        name = self.preset.itemData(index)
        if name:
            self.preset_chosen.emit(name)

    def _on_model_chosen(self, index: int) -> None:
        if self.upscale_model.itemData(index) == "choose":
            self._show_checkpoint(self._recipe.settings("upscale").checkpoint)  # until a file is chosen
            self.checkpoint_requested.emit()
        else:
            self._on_edited()

    def _on_alpha_value(self, value: int) -> None:
        if self._updating:
            return
        if self.upscale_alpha.isSliderDown():
            self.alpha_moved.emit(value / 100)
        else:
            self._on_edited()  # keyboard or click: a committed change
