"""MainWindow: routes the user's intents; computes nothing.

Emits `open_requested(path)`, `run_requested()`, `cancel_requested()` and
`save_requested(path)`; gui/app.py connects them to the worker.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from restorer import __version__
from restorer.gui.recipe_panel import RecipePanel
from restorer.gui.session import Session
from restorer.gui.viewer import BeforeAfterViewer

_OPEN_FILTER = "Photos (*.jpg *.jpeg *.png *.tif *.tiff *.bmp *.webp);;All files (*)"
_SAVE_FILTER = "PNG (*.png);;TIFF (*.tif *.tiff);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"


class MainWindow(QMainWindow):
    open_requested = Signal(str)
    run_requested = Signal()
    cancel_requested = Signal()
    save_requested = Signal(str)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.setWindowTitle("Restorer")
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.viewer = BeforeAfterViewer()
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

    def show_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        self.stage_label.setText(stage)

    def show_error(self, title: str, message: str) -> None:
        self.statusBar().showMessage(message)
        QMessageBox.warning(self, title, message)
