import subprocess
import sys


def test_gui_does_not_import_torch():
    code = ("import sys; import restorer.gui.app, restorer.gui.main_window, restorer.gui.worker; "
            "bad = [m for m in ('torch', 'restorer.pipeline', 'restorer.stages.upscale') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_core_does_not_import_qt_or_torch():
    code = ("import sys; import restorer.pipeline, restorer.cli, restorer.batch, restorer.recipe; "
            "bad = [m for m in ('PySide6', 'torch') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
