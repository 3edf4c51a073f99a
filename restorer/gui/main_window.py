"""MainWindow: menus, toolbar, docks and status bar; routes the user's intents; computes nothing.

Emits intents (`open_requested(path)`, `run_requested()`, `cancel_requested()`,
`save_requested(path)`, `queue_add_requested(paths)`, ...); gui/app.py
connects them to the workers. Renders from the Session: busy, out of date,
result size, zoom.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QScrollArea, QSpinBox, QToolBar, QToolButton, QVBoxLayout,
                               QWidget)

from restorer import __version__
from restorer.formats import READABLE_SUFFIXES
from restorer.gui.mask_editor import MaskEditor
from restorer.gui.preferences import Preferences
from restorer.gui.queue import QueuePanel
from restorer.gui.recipe_panel import RecipePanel
from restorer.gui.session import Session

_OPEN_FILTER = f"Photos ({' '.join('*' + s for s in sorted(READABLE_SUFFIXES))});;All files (*)"
_RECIPE_FILTER = "Recipe (*.json)"
# What restorer.imaging.write_photo writes, in the order offered; the first is the default.
SAVE_FORMATS = (("PNG", ".png", "*.png"), ("TIFF", ".tif", "*.tif *.tiff"), ("JPEG", ".jpg", "*.jpg *.jpeg"),
                ("WebP (lossless)", ".webp", "*.webp"), ("BMP", ".bmp", "*.bmp"))
_WEIGHTS_FILTER = "ESRGAN weights (*.pth *.pt *.safetensors);;All files (*)"


def save_filter() -> str:
    return ";;".join(f"{name} ({patterns})" for name, _, patterns in SAVE_FORMATS)


def with_chosen_suffix(path: str, chosen_filter: str) -> str:
    """`path`, given the extension of the chosen file type when the name has none."""
    if Path(path).suffix:
        return path
    for name, suffix, patterns in SAVE_FORMATS:
        if chosen_filter.startswith(name):
            return path + suffix
    return path + SAVE_FORMATS[0][1]


class MainWindow(QMainWindow):
    open_requested = Signal(str)
    run_requested = Signal()
    cancel_requested = Signal()
    save_requested = Signal(str)
    detect_requested = Signal()
    recipe_save_requested = Signal(str)
    recipe_open_requested = Signal(str)
    queue_add_requested = Signal(object)  # list of paths (files and folders)
    checkpoint_chosen = Signal(str)
    reference_chosen = Signal(str)  # a colour photo's path, or "" to stop using one
    device_chosen = Signal(str)  # "auto", "cpu", "cuda", "mps" or "vulkan"

    def __init__(self, session: Session, preferences: Preferences | None = None) -> None:
        super().__init__()
        self.session = session
        self.preferences = preferences or Preferences()
        self.confirm_close = True  # ask before closing over unsaved work (the app turns it off on shutdown)
        self.setWindowTitle("Restorer")
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._messages: list[QMessageBox] = []
        self._run_started: float | None = None

        self.viewer = MaskEditor(session.mask_model)
        self.panel = RecipePanel(session.recipe)
        self.run_button = QPushButton("Restore")
        self.run_button.setObjectName("run_button")
        self.run_button.setToolTip("Run the ticked stages on the photo (Ctrl+R)")
        self.run_button.setAccessibleName("Restore")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.setToolTip("Stop the restoration (Esc); the photo is left as it was")
        self.cancel_button.setAccessibleName("Cancel")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setMinimumWidth(160)
        self.progress.setAccessibleName("Progress")
        self.stage_label = QLabel("")
        self.stage_label.setMinimumWidth(120)

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

        self.queue = QueuePanel()
        self.queue_dock = QDockWidget("Queue", self)
        self.queue_dock.setObjectName("queue_dock")
        self.queue_dock.setWidget(self.queue)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.queue_dock)
        self.queue_dock.hide()

        self._build_status_bar()
        self._build_menus()
        self._build_mask_toolbar()  # before the first _on_busy_changed, which updates its actions
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.panel.checkpoint_requested.connect(self._on_choose_checkpoint)
        session.photo_changed.connect(self._on_photo_changed)
        session.result_changed.connect(self._on_result_changed)
        session.busy_changed.connect(self._on_busy_changed)
        session.stale_changed.connect(self.viewer.set_stale)
        self.viewer.zoom_changed.connect(self._show_zoom)
        self._on_busy_changed(False)
        self.statusBar().showMessage("Open a photo to begin (File ▸ Open, or drop it on the window).")

    # --- building -----------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        self.engine_label = QLabel("")
        self.engine_label.setObjectName("engine_label")
        self.engine_label.setToolTip("The device and engine the neural networks run on")
        self.time_label = QLabel("")
        self.time_label.setObjectName("time_label")
        self.zoom_label = QLabel("")
        self.zoom_label.setObjectName("zoom_label")
        self.zoom_label.setToolTip("Zoom: 100 % shows one pixel of the result per screen pixel")
        for label in (self.time_label, self.zoom_label, self.engine_label):
            label.setAccessibleName(label.toolTip() or label.objectName())
            self.statusBar().addPermanentWidget(label)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.queue_action = QAction("Add to &Queue…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        self.queue_action.setToolTip("Queue several photos to restore with the current recipe")
        self.queue_action.triggered.connect(self._on_add_to_queue)
        self.queue_folder_action = QAction("Add &Folder to Queue…", self)
        self.queue_folder_action.triggered.connect(self._on_add_folder_to_queue)
        self.save_action = QAction("&Save", self, shortcut=QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self._on_save)
        self.save_as_action = QAction("Save &As…", self, shortcut=QKeySequence.StandardKey.SaveAs)
        self.save_as_action.triggered.connect(self._on_save_as)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_action)
        for action in (self.queue_action, self.queue_folder_action, self.save_action, self.save_as_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        # A recipe file holds every setting, colour hints included, for `restorer run --preset FILE`.
        self.open_recipe_action = QAction("Open Re&cipe…", self)
        self.open_recipe_action.triggered.connect(self._on_open_recipe)
        self.save_recipe_action = QAction("Save R&ecipe…", self)
        self.save_recipe_action.triggered.connect(self._on_save_recipe)
        file_menu.addAction(self.open_recipe_action)
        file_menu.addAction(self.save_recipe_action)
        file_menu.addSeparator()
        self.reference_action = QAction("Colour Re&ference…", self)
        self.reference_action.setToolTip("A colour photo of a similar scene or era: its colours steer the colorizer")
        self.reference_action.triggered.connect(self._on_choose_reference)
        self.clear_reference_action = QAction("Clear Colour Reference", self)
        self.clear_reference_action.triggered.connect(lambda: self.reference_chosen.emit(""))
        file_menu.addAction(self.reference_action)
        file_menu.addAction(self.clear_reference_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

        run_menu = self.menuBar().addMenu("&Restore")
        self.restore_action = QAction("&Restore", self)
        self.restore_action.setShortcuts([QKeySequence("Ctrl+R"), QKeySequence("Ctrl+Return")])
        self.restore_action.triggered.connect(self.run_requested)
        self.cancel_action = QAction("&Cancel", self, shortcut=QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.triggered.connect(self._on_cancel_clicked)
        run_menu.addAction(self.restore_action)
        run_menu.addAction(self.cancel_action)

        view_menu = self.menuBar().addMenu("&View")
        self.fit_action = QAction("&Fit to Window", self, shortcut=QKeySequence("Ctrl+0"))
        self.fit_action.triggered.connect(self.viewer.fit)
        self.actual_size_action = QAction("&Actual Pixels (100 %)", self, shortcut=QKeySequence("Ctrl+1"))
        self.actual_size_action.triggered.connect(lambda: self.viewer.set_actual_scale(1.0))
        self.zoom_in_action = QAction("Zoom &In", self)
        self.zoom_in_action.setShortcuts([QKeySequence.StandardKey.ZoomIn, QKeySequence("Ctrl+=")])
        self.zoom_in_action.triggered.connect(self.viewer.zoom_in)
        self.zoom_out_action = QAction("Zoom &Out", self, shortcut=QKeySequence.StandardKey.ZoomOut)
        self.zoom_out_action.triggered.connect(self.viewer.zoom_out)
        self.side_by_side_action = QAction("&Side by Side", self, checkable=True, shortcut=QKeySequence("Ctrl+D"))
        self.side_by_side_action.setToolTip("Original left, result right, instead of the divider")
        self.side_by_side_action.toggled.connect(lambda on: self.viewer.set_mode("side" if on else "split"))
        original_hint = QAction("Hold \\ to See the Original", self)
        original_hint.setEnabled(False)
        self.show_queue_action = self.queue_dock.toggleViewAction()
        self.show_queue_action.setText("&Queue")
        for action in (self.fit_action, self.actual_size_action, self.zoom_in_action, self.zoom_out_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.side_by_side_action)
        view_menu.addAction(original_hint)
        view_menu.addSeparator()
        view_menu.addAction(self.show_queue_action)
        device_menu = view_menu.addMenu("&Device")
        self.device_actions = {}
        devices = QActionGroup(self)
        for key, label in (("auto", "Automatic"), ("cpu", "CPU"), ("cuda", "NVIDIA GPU (CUDA)"),
                           ("mps", "Apple GPU (Metal)"), ("vulkan", "AMD, Intel or Apple GPU (Vulkan)")):
            action = QAction(label, self, checkable=True)
            action.triggered.connect(lambda _=False, k=key: self.device_chosen.emit(k))
            devices.addAction(action)
            device_menu.addAction(action)
            self.device_actions[key] = action
        self.device_actions["auto"].setChecked(True)
        self.mask_menu = self.menuBar().addMenu("&Mask")
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About Restorer", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About Restorer", f"Restorer {__version__}\nBring old and damaged photographs back."))
        help_menu.addAction(about)

    def _build_mask_toolbar(self) -> None:
        """Tools to paint the damage that the inpaint stage fills; every action is also in the Mask menu."""
        bar = QToolBar("Mask", self)
        bar.setObjectName("mask_toolbar")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.mask_toolbar = bar
        group = QActionGroup(self)
        self.tool_actions = {}
        for tool, label, key, tip in (("view", "Pan", "V", "drag to move around the photo"),
                                      ("brush", "Brush", "B", "paint over scratches; right button erases; "
                                                              "Ctrl+wheel sizes"),
                                      ("eraser", "Eraser", "E", "remove paint from the mask"),
                                      ("hint", "Colour hint", "H", "click to say what colour something is")):
            action = QAction(label, self, checkable=True, shortcut=QKeySequence(key))
            action.setToolTip(f"{label} ({key}): {tip}")
            action.triggered.connect(lambda _=False, t=tool: self.viewer.set_tool(t))
            group.addAction(action)
            bar.addAction(action)
            self.mask_menu.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["view"].setChecked(True)
        self.viewer.tool_changed.connect(lambda t: self.tool_actions[t].setChecked(True))
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 500)
        self.brush_size.setSuffix(" px")
        self.brush_size.setValue(self.viewer.brush_size())
        self.brush_size.setToolTip("Brush size in photo pixels (Ctrl+wheel)")
        self.brush_size.setAccessibleName("Brush size")
        self.brush_size.valueChanged.connect(self.viewer.set_brush_size)
        self.viewer.brush_size_changed.connect(self.brush_size.setValue)
        bar.addWidget(self.brush_size)
        bar.addSeparator()
        self.mask_menu.addSeparator()
        mask = self.session.mask_model
        self.undo_action = QAction("Undo", self, shortcut=QKeySequence.StandardKey.Undo, triggered=mask.undo)
        self.redo_action = QAction("Redo", self, shortcut=QKeySequence.StandardKey.Redo, triggered=mask.redo)
        self.clear_action = QAction("Clear Mask", self, triggered=mask.clear)
        self.invert_action = QAction("Invert Mask", self, triggered=mask.invert)
        self.show_mask_action = QAction("Show Mask", self, checkable=True, checked=True, shortcut=QKeySequence("M"))
        self.show_mask_action.toggled.connect(self.viewer.set_mask_visible)
        self.detect_action = QAction("Detect Scratches", self)
        self.detect_action.setToolTip("Propose a mask of scratches and dust; edit it before restoring")
        self.detect_action.triggered.connect(self.detect_requested)
        self.clear_hints_action = QAction("Clear Colour Hints", self)
        self.clear_hints_action.setToolTip("Remove all colour hints")
        self.import_mask_action = QAction("Import Mask…", self, triggered=self._on_import_mask)
        self.export_mask_action = QAction("Export Mask…", self, triggered=self._on_export_mask)
        # The toolbar keeps what is used while painting; at 800 px it must not overflow into a » menu.
        for action in (self.undo_action, self.redo_action, self.show_mask_action, self.detect_action):
            bar.addAction(action)
        for action in (self.undo_action, self.redo_action, self.clear_action, self.invert_action,
                       self.show_mask_action, self.detect_action, self.import_mask_action, self.export_mask_action,
                       self.clear_hints_action):
            self.mask_menu.addAction(action)
        for button in bar.findChildren(QToolButton):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # Tab reaches the toolbar
            if button.defaultAction() is not None:
                button.setAccessibleName(button.defaultAction().text())
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
        self.clear_hints_action.setEnabled(has_photo and bool(self.session.recipe.settings("colorize").hints))
        if hasattr(self, "clear_reference_action"):
            self.clear_reference_action.setEnabled(bool(self.session.recipe.settings("colorize").reference))

    def update_hint_actions(self) -> None:
        self._update_mask_actions()

    def _on_import_mask(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a mask (white = fill)", self.preferences.last_folder(),
                                              "PNG (*.png);;All files (*)")
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
                self.session.mask_model.export_png(Path(with_chosen_suffix(path, "PNG")))
            except Exception as exc:
                self.show_error("Could not export the mask", str(exc))

    # --- intents ------------------------------------------------------------------------

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo", self.preferences.last_folder(), _OPEN_FILTER)
        if path:
            self.open_requested.emit(path)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.preferences.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_requested.emit(p))
        if not recent:
            self.recent_menu.addAction("No recent photos").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent", self.preferences.clear_recent)

    def _on_add_to_queue(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Queue photos", self.preferences.last_folder(), _OPEN_FILTER)
        if paths:
            self.preferences.remember_folder(paths[0])
            self.queue_add_requested.emit(paths)

    def _on_add_folder_to_queue(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Queue a folder of photos", self.preferences.last_folder())
        if folder:
            self.preferences.remember_folder(folder)
            self.queue_add_requested.emit([folder])

    def _on_save(self) -> None:
        if self.session.saved_path is not None:
            self.save_requested.emit(str(self.session.saved_path))
        else:
            self._on_save_as()

    def _on_save_as(self) -> None:
        suggested = self.session.suggested_output()
        path, chosen = QFileDialog.getSaveFileName(self, "Save the restored photo", str(suggested or ""),
                                                   save_filter())
        if path:
            self.save_requested.emit(with_chosen_suffix(path, chosen))

    def _on_open_recipe(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a recipe", self.preferences.last_folder(), _RECIPE_FILTER)
        if path:
            self.recipe_open_requested.emit(path)

    def _on_save_recipe(self) -> None:
        suggested = self.session.path.with_name(f"{self.session.path.stem}_recipe.json") if self.session.path else ""
        path, _ = QFileDialog.getSaveFileName(self, "Save the recipe", str(suggested), _RECIPE_FILTER)
        if path:
            self.recipe_save_requested.emit(path if Path(path).suffix else path + ".json")

    def _on_choose_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Your own ESRGAN / Real-ESRGAN weights",
                                              self.preferences.last_folder(), _WEIGHTS_FILTER)
        if path:
            self.checkpoint_chosen.emit(path)

    def _on_choose_reference(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A colour photo of a similar scene or era",
                                              self.preferences.last_folder(), _OPEN_FILTER)
        if path:
            self.reference_chosen.emit(path)

    def _on_cancel_clicked(self) -> None:
        if not self.session.busy or not self.cancel_button.isEnabled():
            return
        # Say so at once and take the button away: a second press would only queue up behind the first.
        self.cancel_button.setEnabled(False)
        self.cancel_action.setEnabled(False)
        self.stage_label.setText("Cancelling…")
        self.statusBar().showMessage("Cancelling… the photo will be left as it was.")
        self.cancel_requested.emit()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not files:
            return
        event.acceptProposedAction()
        self.handle_dropped(files)

    def handle_dropped(self, files: list[str]) -> None:
        """One photo opens in the viewer; several, or a folder, go to the queue."""
        if len(files) == 1 and not Path(files[0]).is_dir():
            self.open_requested.emit(files[0])
        else:
            self.queue_add_requested.emit(files)

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
        self._update_mask_actions()

    def _on_result_changed(self) -> None:
        self.viewer.set_after(self.session.result_image)
        self._on_busy_changed(self.session.busy)

    def _on_busy_changed(self, busy: bool) -> None:
        has_photo = self.session.photo is not None
        self.run_button.setEnabled(has_photo and not busy)
        self.restore_action.setEnabled(has_photo and not busy)
        self.cancel_button.setEnabled(busy and self.session.busy_task == "restore")
        self.cancel_action.setEnabled(self.cancel_button.isEnabled())
        self.save_action.setEnabled(self.session.result is not None and not busy)
        self.save_as_action.setEnabled(self.session.result is not None and not busy)
        self.open_action.setEnabled(not busy)
        self.recent_menu.setEnabled(not busy)
        self._update_mask_actions()
        if busy and self.session.busy_task == "restore":
            self._run_started = time.monotonic()
        elif not busy:
            self._run_started = None
            self.time_label.setText("")

    def show_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        if self.cancel_button.isEnabled() or not self.session.busy:
            self.stage_label.setText(stage)
        if self._run_started is not None:
            elapsed = time.monotonic() - self._run_started
            text = f"{_duration(elapsed)} elapsed"
            if 0.03 < fraction < 1.0 and elapsed > 2:
                text += f", about {_duration(elapsed * (1 - fraction) / fraction)} left"
            self.time_label.setText(text)

    def show_engine(self, text: str) -> None:
        self.engine_label.setText(text)

    def _show_zoom(self, scale: float) -> None:
        self.zoom_label.setText(f"Zoom {scale * 100:.0f} %" if self.session.photo is not None else "")

    def pick_colour(self, initial: tuple[float, float, float]) -> tuple[float, float, float] | None:
        """Ask for a hint colour; None if the user cancels."""
        from PySide6.QtWidgets import QColorDialog

        colour = QColorDialog.getColor(QColor.fromRgbF(*initial), self, "Colour at this point")
        return (colour.redF(), colour.greenF(), colour.blueF()) if colour.isValid() else None

    def closing_would_lose(self) -> str:
        """What closing the window now would lose, in one or two sentences, or ""."""
        reasons = [self.session.unsaved_work()]
        if self.queue.running:
            reasons.append("A batch is running in the queue; the photos it has finished are kept, and the "
                           "same folder resumes it later.")
        return " ".join(r for r in reasons if r)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Closing over unsaved work or a running batch asks first; anything else closes at once."""
        lost = self.closing_would_lose() if self.confirm_close else ""
        if lost and not self.ask_to_close(lost):
            event.ignore()
            return
        event.accept()

    def ask_to_close(self, lost: str) -> bool:
        """True when the user chooses to quit anyway."""
        answer = QMessageBox.question(self, "Quit Restorer?", f"{lost} Quit anyway?",
                                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def show_error(self, title: str, message: str) -> None:
        """Say what went wrong without blocking: the window stays live, and each error gets its own box."""
        self.statusBar().showMessage(message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result, b=box: self._messages.remove(b) if b in self._messages else None)
        self._messages.append(box)
        box.open()

    def open_messages(self) -> list[str]:
        """The texts of the error boxes now on screen (for tests and accessibility tools)."""
        return [box.text() for box in self._messages]


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
