"""RecipePanel: turn stages on and off and set their settings.

It shows a Recipe and emits `recipe_changed(Recipe)` whenever the user edits
it; it never runs anything itself. The PSNR<->GAN slider also emits
`alpha_moved(float)` while it is being dragged, for the live preview.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSlider,
                               QSpinBox, QVBoxLayout, QWidget)

from restorer.recipe import Recipe

_TITLES = {"artifacts": "1  Remove JPEG artifacts and noise", "inpaint": "2  Fill scratches and tears",
           "colorize": "3  Colour", "upscale": "4  Enlarge (super resolution)"}


def _slider(low: int, high: int, value: int) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(low, high)
    slider.setValue(value)
    return slider


class RecipePanel(QWidget):
    recipe_changed = Signal(object)
    alpha_moved = Signal(float)

    def __init__(self, recipe: Recipe | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._recipe = recipe or Recipe()
        self._updating = False
        layout = QVBoxLayout(self)
        self.groups: dict[str, QGroupBox] = {}
        for stage in ("artifacts", "inpaint", "colorize", "upscale"):
            group = QGroupBox(_TITLES[stage])
            group.setCheckable(True)
            group.setObjectName(f"stage_{stage}")
            group.toggled.connect(self._on_edited)
            self.groups[stage] = group
            layout.addWidget(group)
        self._build_artifacts()
        self._build_inpaint()
        self._build_colorize()
        self._build_upscale()
        layout.addStretch(1)
        self.set_recipe(self._recipe)

    # --- building -----------------------------------------------------------------------

    def _build_artifacts(self) -> None:
        form = QFormLayout(self.groups["artifacts"])
        self.artifacts_engine = QComboBox()
        self.artifacts_engine.addItem("Neural (ArtifactNet)", "model")
        self.artifacts_engine.addItem("Classic (non-local means)", "classic")
        form.addRow("Method", self.artifacts_engine)
        self.artifacts_engine.currentIndexChanged.connect(self._on_edited)
        self.artifacts_auto = QCheckBox("Automatic")
        self.artifacts_auto.setToolTip("Estimated from the file's JPEG quality tables and the image's noise level")
        self.artifacts_strength = _slider(0, 100, 50)
        self.artifacts_estimate = QLabel("")
        self.artifacts_estimate.setWordWrap(True)
        self.artifacts_estimate.setObjectName("artifacts_estimate")
        form.addRow(self.artifacts_auto)
        form.addRow("Strength", self.artifacts_strength)
        form.addRow(self.artifacts_estimate)
        self.artifacts_auto.toggled.connect(self._on_edited)
        self.artifacts_strength.valueChanged.connect(self._on_edited)

    def _build_inpaint(self) -> None:
        form = QFormLayout(self.groups["inpaint"])
        self.inpaint_engine = QComboBox()
        self.inpaint_engine.addItem("InpaintNet (trained)", "model")
        self.inpaint_engine.addItem("Telea (fast marching)", "telea")
        self.inpaint_engine.addItem("Navier-Stokes", "ns")
        self.inpaint_radius = QSpinBox()
        self.inpaint_radius.setRange(1, 50)
        form.addRow("Method", self.inpaint_engine)
        form.addRow("Radius (px)", self.inpaint_radius)
        hint = QLabel("Paint over the damage with the Brush (or Detect scratches), then Restore.")
        hint.setWordWrap(True)
        form.addRow(hint)
        self.inpaint_engine.currentIndexChanged.connect(self._on_edited)
        self.inpaint_radius.valueChanged.connect(self._on_edited)

    def _build_colorize(self) -> None:
        form = QFormLayout(self.groups["colorize"])
        self.colorize_engine = QComboBox()
        self.colorize_engine.addItem("Automatic (colorize B&W, revive faded colour)", "auto")
        self.colorize_engine.addItem("Revive faded colour only", "revive")
        self.colorize_engine.addItem("Colorize from lightness", "model")
        form.addRow("Mode", self.colorize_engine)
        self.colorize_engine.currentIndexChanged.connect(self._on_edited)
        self.colorize_strength = _slider(0, 100, 100)
        self.colorize_saturation = _slider(0, 300, 100)
        form.addRow("Correction", self.colorize_strength)
        form.addRow("Saturation", self.colorize_saturation)
        self.colorize_strength.valueChanged.connect(self._on_edited)
        self.colorize_saturation.valueChanged.connect(self._on_edited)

    def _build_upscale(self) -> None:
        form = QFormLayout(self.groups["upscale"])
        self.upscale_engine = QComboBox()
        self.upscale_engine.addItem("Real-ESRGAN (neural)", "realesrgan")
        self.upscale_engine.addItem("Lanczos (classic)", "lanczos")
        self.upscale_scale = QComboBox()
        for scale in (1, 2, 3, 4):
            self.upscale_scale.addItem(f"×{scale}", scale)
        self.upscale_alpha = _slider(0, 100, 70)
        self.upscale_alpha.setObjectName("upscale_alpha")
        row = QHBoxLayout()
        row.addWidget(QLabel("Faithful"))
        row.addWidget(self.upscale_alpha, 1)
        row.addWidget(QLabel("Sharp"))
        form.addRow("Engine", self.upscale_engine)
        form.addRow("Scale", self.upscale_scale)
        form.addRow("Look", row)
        self.upscale_ensemble = QCheckBox("Best quality (8 passes, 8× slower)")
        self.upscale_ensemble.setToolTip("Averages the network over eight flips and rotations of the photo: "
                                         "slightly more faithful detail, when the result is worth the wait.")
        form.addRow("", self.upscale_ensemble)
        self.upscale_engine.currentIndexChanged.connect(self._on_edited)
        self.upscale_ensemble.toggled.connect(self._on_edited)
        self.upscale_scale.currentIndexChanged.connect(self._on_edited)
        self.upscale_alpha.sliderReleased.connect(self._on_edited)
        self.upscale_alpha.valueChanged.connect(self._on_alpha_value)

    # --- recipe <-> widgets -------------------------------------------------------------

    def recipe(self) -> Recipe:
        return self._recipe

    def set_recipe(self, recipe: Recipe) -> None:
        self._updating = True
        try:
            for stage, group in self.groups.items():
                group.setChecked(stage in recipe.enabled_stages())
            art = recipe.settings("artifacts")
            self.artifacts_engine.setCurrentIndex(self.artifacts_engine.findData(art.engine))
            self.artifacts_auto.setChecked(art.strength == "auto")
            self.artifacts_strength.setEnabled(art.strength != "auto")
            if art.strength != "auto":
                self.artifacts_strength.setValue(int(art.strength))
            inp = recipe.settings("inpaint")
            self.inpaint_engine.setCurrentIndex(self.inpaint_engine.findData(inp.engine))
            self.inpaint_radius.setValue(inp.radius)
            col = recipe.settings("colorize")
            self.colorize_engine.setCurrentIndex(self.colorize_engine.findData(col.engine))
            self.colorize_strength.setValue(int(round(col.strength * 100)))
            self.colorize_saturation.setValue(int(round(col.saturation * 100)))
            up = recipe.settings("upscale")
            self.upscale_engine.setCurrentIndex(self.upscale_engine.findData(up.engine))
            self.upscale_scale.setCurrentIndex(self.upscale_scale.findData(up.scale))
            self.upscale_alpha.setValue(int(round(up.alpha * 100)))
            self.upscale_alpha.setEnabled(up.engine == "realesrgan")
            self.upscale_ensemble.setChecked(up.ensemble)
            self.upscale_ensemble.setEnabled(up.engine == "realesrgan")
        finally:
            self._updating = False
        self._recipe = recipe

    def show_estimate(self, text: str) -> None:
        self.artifacts_estimate.setText(text)

    def _read_widgets(self) -> Recipe:
        enabled = {stage for stage, group in self.groups.items() if group.isChecked()}
        strength: str | int = "auto" if self.artifacts_auto.isChecked() else self.artifacts_strength.value()
        return (
            self._recipe.with_enabled(enabled)
            .with_settings("artifacts", strength=strength, engine=self.artifacts_engine.currentData())
            .with_settings("inpaint", engine=self.inpaint_engine.currentData(), radius=self.inpaint_radius.value())
            .with_settings("colorize", engine=self.colorize_engine.currentData(),
                           strength=self.colorize_strength.value() / 100,
                           saturation=self.colorize_saturation.value() / 100)
            .with_settings("upscale", engine=self.upscale_engine.currentData(), scale=self.upscale_scale.currentData(),
                           alpha=self.upscale_alpha.value() / 100, ensemble=self.upscale_ensemble.isChecked())
        )

    def _on_edited(self, *_args) -> None:
        if self._updating:
            return
        recipe = self._read_widgets()
        self.set_recipe(recipe)  # keeps dependent widgets (enabled states) consistent
        self.recipe_changed.emit(recipe)

    def _on_alpha_value(self, value: int) -> None:
        if self._updating:
            return
        if self.upscale_alpha.isSliderDown():
            self.alpha_moved.emit(value / 100)
        else:
            self._on_edited()  # keyboard or click: a committed change
