"""The Qt binding must survive Python running in a worker QThread beside the GUI thread.

PySide6 6.12.0 does not: with a QThread busy in Python and the GUI thread
handling its signals, the process died with "Fatal Python error:
none_dealloc" (or bool_dealloc at exit) every time. Restorer's window works
exactly this way, so the check runs in a child process, where a crash is a
clean failure rather than the end of the test run.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = r"""
import os, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication

app = QApplication([])

class Worker(QObject):
    progress = Signal(float)
    done = Signal()

    @Slot()
    def work(self):
        total = 0
        for i in range(1_500_000):
            total += len(str(i))
            if i % 10_000 == 0:
                self.progress.emit(i / 1.5e6)
        import json, email.parser, xml.dom.minidom  # imports in the worker thread too
        self.done.emit()

class Gui(QObject):
    start = Signal()

    def __init__(self):
        super().__init__()
        self.ticks = self.updates = 0

    def tick(self):
        self.ticks += 1
        [str(i) for i in range(50)]

    @Slot(float)
    def on_progress(self, fraction):
        self.updates += 1

    @Slot()
    def on_done(self):
        app.quit()

worker, thread, gui = Worker(), QThread(), Gui()
worker.moveToThread(thread)
thread.start()
gui.start.connect(worker.work)
worker.progress.connect(gui.on_progress)
# Through a GUI-thread slot, as the window does: connected straight to
# app.quit, PySide calls quit() in the worker thread with the GIL held, and
# quit() waits for the GUI thread, which waits for the GIL (a deadlock in
# about one run in four).
worker.done.connect(gui.on_done)
timer = QTimer()
timer.timeout.connect(gui.tick)
timer.start(10)
gui.start.emit()
app.exec()
deadline = time.time() + 1.0
while time.time() < deadline:  # pytest-qt's waiting loop does exactly this
    app.processEvents()
thread.quit()
thread.wait()
import gc
gc.collect()
print("alive", gui.updates, gui.ticks)
"""


def test_python_in_a_worker_thread_does_not_corrupt_the_interpreter():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"the Qt binding crashed the interpreter:\n{done.stderr[-1500:]}"
    alive, updates, ticks = done.stdout.split()
    assert alive == "alive" and int(updates) == 150 and int(ticks) > 0
