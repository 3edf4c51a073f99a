"""The queue: many photos, one recipe, in the window, through the same batch engine as `restorer run`.

`QueueWorker` lives in its own thread and calls restorer.batch.run_batch
(in this process, one photo after another, so the window's progress bar and
Cancel reach inside a photo); `QueuePanel` is the table the user sees, one
row per file with its status, time and the reason when it failed. Pause
takes effect between photos, Cancel at once. Double-clicking a finished row
opens the photo and its result in the viewer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

_COLUMNS = ("Photo", "Status", "Time", "Message")


class QueueWorker(QObject):
    """Runs a batch in its thread; everything it reports goes out through signals."""

    started = Signal(int)  # number of photos
    file_started = Signal(str)  # source path
    file_progress = Signal(str, float)  # source path, fraction of that photo
    file_done = Signal(object)  # FileOutcome
    finished = Signal(object)  # BatchReport

    def __init__(self) -> None:
        super().__init__()
        self.gate = None  # restorer.batch.Gate of the running batch; its methods are safe from any thread

    @Slot(object, object, str)
    def run(self, sources, recipe, outdir: str) -> None:
        from restorer.batch import BatchOptions, Gate, InProcess, expand_inputs, run_batch
        from restorer.models.manager import ModelManager

        self.gate = Gate()
        jobs = expand_inputs([Path(s) for s in sources], Path(outdir), recursive=True)
        self.started.emit(len(jobs))
        current: list[str] = []

        def on_event(task, event) -> None:
            from restorer.events import Progress, StageStarted

            if isinstance(event, StageStarted) and event.index == 0 and current[-1:] != [task.source]:
                current.append(task.source)
                self.file_started.emit(task.source)
            elif isinstance(event, Progress):
                self.file_progress.emit(task.source, event.overall)

        # Its own networks: the window may restore (and re-blend the enlarger) at the same time.
        place = InProcess(on_event=on_event, models=ModelManager())
        report = run_batch(jobs, BatchOptions(recipe.to_json()), place, Path(outdir), resume=True, gate=self.gate,
                           on_outcome=self.file_done.emit)
        self.finished.emit(report)

    def pause(self) -> None:
        if self.gate:
            self.gate.pause()

    def resume(self) -> None:
        if self.gate:
            self.gate.resume()

    def cancel(self) -> None:
        if self.gate:
            self.gate.cancel()


class QueuePanel(QWidget):
    """The queue's table and controls. Emits intents; gui/app.py connects them to the QueueWorker."""

    start_requested = Signal(object, str)  # list of source paths, output folder
    pause_requested = Signal()
    resume_requested = Signal()
    cancel_requested = Signal()
    open_requested = Signal(str, str)  # source, result

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sources: list[str] = []
        self._rows: dict[str, int] = {}
        self._outputs: dict[str, str] = {}
        self.running = False
        layout = QVBoxLayout(self)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Save to"))
        self.outdir = QLineEdit()
        self.outdir.setObjectName("queue_outdir")
        self.outdir.setAccessibleName("Output folder for the queue")
        self.outdir.setPlaceholderText("Choose the folder for the restored photos")
        folder_row.addWidget(self.outdir, 1)
        self.browse = QPushButton("Browse…")
        self.browse.setAccessibleName("Choose the output folder")
        self.browse.clicked.connect(self._choose_outdir)
        folder_row.addWidget(self.browse)
        layout.addLayout(folder_row)
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setObjectName("queue_table")
        self.table.setAccessibleName("Queued photos")
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.summary = QLabel("Drop photos or folders on the window, or use File ▸ Add to Queue.")
        self.summary.setWordWrap(True)
        buttons.addWidget(self.summary, 1)
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.clear_button = QPushButton("Clear")
        for button, tip in ((self.start_button, "Restore every queued photo with the current recipe"),
                            (self.pause_button, "Pause after the photo being restored; press again to resume"),
                            (self.cancel_button, "Stop now; finished photos stay, the rest can be resumed later"),
                            (self.clear_button, "Empty the queue")):
            button.setToolTip(tip)
            button.setAccessibleName(button.text() + " queue")
            buttons.addWidget(button)
        self.start_button.clicked.connect(self._on_start)
        self.pause_button.clicked.connect(self._on_pause)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.clear_button.clicked.connect(self.clear)
        layout.addLayout(buttons)
        self._update_buttons()

    # --- contents -------------------------------------------------------------------------

    def add(self, paths: list[str]) -> None:
        """Queue photos and folders (folders are searched, sub-folders included)."""
        from restorer.batch.jobs import folder_photos, left_out_sentence

        left_out: list[Path] = []
        for path in paths:
            item = Path(path)
            if item.is_dir() and not self.outdir.text():
                self.outdir.setText(str(item.parent / f"{item.name}_restored"))
            # The same photos a command-line batch finds: no hidden files, no earlier results.
            files = ([str(p) for p in folder_photos(item, Path(self.outdir.text()), recursive=True, left_out=left_out)]
                     if item.is_dir() else [str(item)])
            for file in files:
                if file not in self._rows:
                    self._rows[file] = self.table.rowCount()
                    self._sources.append(file)
                    self.table.insertRow(self.table.rowCount())
                    self._set(file, Path(file).name, "queued", "", "")
        if self._sources and not self.outdir.text():
            self.outdir.setText(str(Path(self._sources[0]).parent / "restored"))
        self.summary.setText(" ".join(filter(None, (f"{len(self._sources)} photos queued.", left_out_sentence(left_out)))))
        self._update_buttons()

    def sources(self) -> list[str]:
        return list(self._sources)

    def clear(self) -> None:
        if self.running:
            return
        self._sources, self._rows, self._outputs = [], {}, {}
        self.table.setRowCount(0)
        self.summary.setText("Queue empty.")
        self._update_buttons()

    def status_of(self, source: str) -> str:
        row = self._rows.get(source)
        return self.table.item(row, 1).text() if row is not None else ""

    def message_of(self, source: str) -> str:
        row = self._rows.get(source)
        return self.table.item(row, 3).text() if row is not None else ""

    def _set(self, source: str, name: str | None, status: str, seconds: str, message: str) -> None:
        row = self._rows[source]
        for column, text in enumerate((name, status, seconds, message)):
            if text is None:
                continue
            item = QTableWidgetItem(text)
            if column == 3 and text:
                item.setToolTip(text)
            self.table.setItem(row, column, item)

    # --- from the worker --------------------------------------------------------------------

    def on_started(self, count: int) -> None:
        self.running = True
        self.summary.setText(f"Restoring {count} photos…")
        self._update_buttons()

    def on_file_started(self, source: str) -> None:
        if source in self._rows:
            self._set(source, None, "restoring", "", "")
            self.table.scrollToItem(self.table.item(self._rows[source], 0))

    def on_file_progress(self, source: str, fraction: float) -> None:
        if source in self._rows:
            self._set(source, None, f"restoring {fraction * 100:.0f} %", None, None)

    def on_file_done(self, outcome) -> None:
        source = outcome.source
        if source not in self._rows:
            return
        status = "restored (earlier)" if outcome.carried_over else outcome.status
        self._set(source, None, status, f"{outcome.seconds:.1f} s" if outcome.seconds else "", outcome.reason)
        if outcome.output and outcome.status != "failed":
            self._outputs[source] = outcome.output

    def on_finished(self, report) -> None:
        self.running = False
        totals = report.totals()
        self.summary.setText(f"{'Stopped' if report.interrupted else 'Done'}: {totals['restored']} restored, "
                             f"{totals['skipped']} skipped, {totals['failed']} failed. Report: "
                             f"{Path(self.outdir.text()) / 'restorer-report.csv'}"
                             + (f"\n{report.stopped}" if report.stopped else ""))
        self.pause_button.setText("Pause")
        self._update_buttons()

    # --- intents ------------------------------------------------------------------------------

    def _choose_outdir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the restored photos", self.outdir.text())
        if folder:
            self.outdir.setText(folder)

    def _on_start(self) -> None:
        if self._sources and self.outdir.text() and not self.running:
            self.running = True
            self._update_buttons()
            self.start_requested.emit(self.sources(), self.outdir.text())

    def _on_pause(self) -> None:
        if self.pause_button.text() == "Pause":
            self.pause_button.setText("Resume")
            self.summary.setText("Pausing after the current photo…")
            self.pause_requested.emit()
        else:
            self.pause_button.setText("Pause")
            self.summary.setText("Resumed.")
            self.resume_requested.emit()

    def _on_double_click(self, row: int, _column: int) -> None:
        source = self._sources[row]
        if source in self._outputs:
            self.open_requested.emit(source, self._outputs[source])

    def result_of(self, source: str) -> str | None:
        return self._outputs.get(source)

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(bool(self._sources) and not self.running)
        self.pause_button.setEnabled(self.running)
        self.cancel_button.setEnabled(self.running)
        self.clear_button.setEnabled(bool(self._sources) and not self.running)
        self.browse.setEnabled(not self.running)
        self.outdir.setEnabled(not self.running)
