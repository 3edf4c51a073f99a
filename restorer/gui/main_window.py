"""MainWindow: routes the user's intents; computes nothing.

Emits `open_requested(path)`, `run_requested()`, `cancel_requested()` and
`save_requested(path)`; gui/app.py connects them to the worker.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QScrollArea, QSpinBox, QToolBar, QVBoxLayout, QWidget)

from restorer import __version__
from restorer.gui.recipe_panel import RecipePanel
from restorer.gui.session import Session
from restorer.gui.mask_editor import MaskEditor

_OPEN_FILTER = "Photos (*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.webp);;All files (*)"
_RECIPE_FILTER = "Recipe (*.json)"
_SAVE_FILTER = "PNG (*.png);;TIFF (*.tif *.tiff);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"


class MainWindow(QMainWindow):
    open_requested = Signal(str)
    run_requested = Signal()
    cancel_requested = Signal()
    save_requested = Signal(str)
    detect_requested = Signal()
    recipe_save_requested = Signal(str)
    recipe_open_requested = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setWindowTitle("Restorer")
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.viewer = MaskEditor(session.mask_model)
        self.panel = RecipePanel(session.recipe)
        self.run_button = QPushButton("Restore")
        self.run_button.setObjectName("run_button")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_button")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.stage_label = QLabel("")

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.viewer, 1)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 6)
        bar.addWidget(self.stage_label, 1)
        bar.addWidget(self.progress, 2)
        bar.addWidget(self.run_button)
        bar.addWidget(self.cancel_button)
        layout.addLayout(bar)
        self.setCentralWidget(central)

        scroll = QScrollArea()
        scroll.setWidget(self.panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        dock = QDockWidget("Restoration", self)
        dock.setObjectName("recipe_dock")
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.setMinimumWidth(340)

        self._build_menus()
        self._build_mask_toolbar()  # before the first _on_busy_changed, which updates its actions
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        session.photo_changed.connect(self._on_photo_changed)
        session.result_changed.connect(self._on_result_changed)
        session.busy_changed.connect(self._on_busy_changed)
        self._on_busy_changed(False)
        self.statusBar().showMessage("Open a photo to begin (File ▸ Open, or drop it on the window).")

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open)
        self.save_action = QAction("Save &As…", self, shortcut=QKeySequence.StandardKey.SaveAs)
        self.save_action.triggered.connect(self._on_save_as)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (self.open_action, self.save_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        # A recipe file holds every setting, colour hints included, for `restorer run --preset FILE`.
        self.open_recipe_action = QAction("Open &Recipe…", self)
        self.open_recipe_action.triggered.connect(self._on_open_recipe)
        self.save_recipe_action = QAction("Save R&ecipe…", self)
        self.save_recipe_action.triggered.connect(self._on_save_recipe)
        file_menu.addAction(self.open_recipe_action)
        file_menu.addAction(self.save_recipe_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        view_menu = self.menuBar().addMenu("&View")
        fit_action = QAction("&Fit to window", self, shortcut=QKeySequence("Ctrl+0"))
        fit_action.triggered.connect(self.viewer.fit)
        view_menu.addAction(fit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Restorer", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About Restorer", f"Restorer {__version__}\nBring old and damaged photographs back."))
        help_menu.addAction(about)

    def _build_mask_toolbar(self) -> None:
        """Tools to paint the damage that the inpaint stage fills."""
        bar = QToolBar("Mask", self)
        bar.setObjectName("mask_toolbar")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        group = QActionGroup(self)
        self.tool_actions = {}
        for tool, label, key in (("view", "Pan", "V"), ("brush", "Brush", "B"), ("eraser", "Eraser", "E"),
                                 ("hint", "Colour hint", "H")):
            action = QAction(label, self, checkable=True, shortcut=QKeySequence(key))
            action.setToolTip(f"{label} ({key})" + (": paint over scratches; right button erases; Ctrl+wheel sizes"
                                                    if tool == "brush" else ""))
            action.triggered.connect(lambda _=False, t=tool: self.viewer.set_tool(t))
            group.addAction(action)
            bar.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["view"].setChecked(True)
        self.viewer.tool_changed.connect(lambda t: self.tool_actions[t].setChecked(True))
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 500)
        self.brush_size.setSuffix(" px")
        self.brush_size.setValue(self.viewer.brush_size())
        self.brush_size.setToolTip("Brush size in photo pixels (Ctrl+wheel)")
        self.brush_size.valueChanged.connect(self.viewer.set_brush_size)
        self.viewer.brush_size_changed.connect(self.brush_size.setValue)
        bar.addWidget(self.brush_size)
        bar.addSeparator()
        mask = self.session.mask_model
        self.undo_action = QAction("Undo", self, shortcut=QKeySequence.StandardKey.Undo, triggered=mask.undo)
        self.redo_action = QAction("Redo", self, shortcut=QKeySequence.StandardKey.Redo, triggered=mask.redo)
        self.clear_action = QAction("Clear", self, triggered=mask.clear)
        self.invert_action = QAction("Invert", self, triggered=mask.invert)
        self.show_mask_action = QAction("Show mask", self, checkable=True, checked=True, shortcut=QKeySequence("M"))
        self.show_mask_action.toggled.connect(self.viewer.set_mask_visible)
        self.detect_action = QAction("Detect scratches", self)
        self.detect_action.setToolTip("Propose a mask of thin scratches and dust; edit it before restoring")
        self.detect_action.triggered.connect(self.detect_requested)
        self.clear_hints_action = QAction("Clear hints", self)
        self.clear_hints_action.setToolTip("Remove all colour hints")
        self.import_mask_action = QAction("Import mask…", self, triggered=self._on_import_mask)
        self.export_mask_action = QAction("Export mask…", self, triggered=self._on_export_mask)
        for action in (self.undo_action, self.redo_action, self.clear_action, self.invert_action,
                       self.show_mask_action, self.detect_action, self.import_mask_action, self.export_mask_action,
                       self.clear_hints_action):
            bar.addAction(action)
        mask.changed.connect(lambda _rect: self._update_mask_actions())
        self._update_mask_actions()

    def _update_mask_actions(self) -> None:
        mask = self.session.mask_model
        has_photo = self.session.photo is not None
        self.undo_action.setEnabled(mask.can_undo())
        self.redo_action.setEnabled(mask.can_redo())
        for action in (self.clear_action, self.invert_action, self.export_mask_action):
            action.setEnabled(has_photo and (action is self.invert_action or not mask.is_empty()))
        self.detect_action.setEnabled(has_photo and not self.session.busy)
        self.import_mask_action.setEnabled(has_photo)

    def _on_import_mask(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a mask (white = fill)", "", "PNG (*.png);;All files (*)")
        if path:
            try:
                self.session.mask_model.import_png(Path(path))
            except Exception as exc:  # RestorerError from a bad file: one sentence
                self.show_error("Could not import the mask", str(exc))

    def _on_export_mask(self) -> None:
        suggested = self.session.path.with_name(f"{self.session.path.stem}_mask.png") if self.session.path else ""
        path, _ = QFileDialog.getSaveFileName(self, "Export the mask", str(suggested), "PNG (*.png)")
        if path:
            try:
                self.session.mask_model.export_png(Path(path))
            except Exception as exc:
                self.show_error("Could not export the mask", str(exc))

    # --- intents ------------------------------------------------------------------------

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", "", _OPEN_FILTER)
        if path:
            self.open_requested.emit(path)

    def _on_save_as(self) -> None:
        suggested = self.session.suggested_output()
        path, _ = QFileDialog.getSaveFileName(self, "Save the restored photo", str(suggested or ""), _SAVE_FILTER)
        if path:
            self.save_requested.emit(path)

    def _on_open_recipe(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a recipe", "", _RECIPE_FILTER)
        if path:
            self.recipe_open_requested.emit(path)

    def _on_save_recipe(self) -> None:
        suggested = self.session.path.with_name(f"{self.session.path.stem}_recipe.json") if self.session.path else ""
        path, _ = QFileDialog.getSaveFileName(self, "Save the recipe", str(suggested), _RECIPE_FILTER)
        if path:
            self.recipe_save_requested.emit(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.open_requested.emit(files[0])
            event.acceptProposedAction()

    # --- rendering from the session -----------------------------------------------------

    def _on_photo_changed(self) -> None:
        s = self.session
        self.viewer.show_pair(s.photo_image, None)
        self.viewer.fit()
        if s.photo is not None:
            w, h = s.photo.size
            depth = s.photo.metadata.bit_depth
            self.setWindowTitle(f"{s.path.name} — Restorer")
            self.statusBar().showMessage(f"{s.path.name}: {w}×{h}, {depth}-bit. Choose the stages, then Restore.")

    def _on_result_changed(self) -> None:
        self.viewer.set_after(self.session.result_image)
        self._on_busy_changed(self.session.busy)

    def _on_busy_changed(self, busy: bool) -> None:
        has_photo = self.session.photo is not None
        self.run_button.setEnabled(has_photo and not busy)
        self.cancel_button.setEnabled(busy)
        self.save_action.setEnabled(self.session.result is not None and not busy)
        self.open_action.setEnabled(not busy)
        self._update_mask_actions()

    def show_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        self.stage_label.setText(stage)

    def pick_colour(self, initial: tuple[float, float, float]) -> tuple[float, float, float] | None:
        """Ask for a hint colour; None if the user cancels."""
        from PySide6.QtWidgets import QColorDialog

        colour = QColorDialog.getColor(QColor.fromRgbF(*initial), self, "Colour at this point")
        return (colour.redF(), colour.greenF(), colour.blueF()) if colour.isValid() else None

    def show_error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message)
        QMessageBox.warning(self, title, message)
