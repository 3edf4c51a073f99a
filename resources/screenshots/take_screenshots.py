"""Take README's window screenshots by driving the real window (run under Xvfb: `xvfb-run -a python ...`).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python resources/screenshots/take_screenshots.py [SHOT ...]

SHOT names the shots to take (default: all): main (the first five, one restoration) and detect
(Detect scratches, fill and colour on the example scan).

Uses photos from ../shared/data/old_photos when present (the example photo otherwise) and writes PNGs
next to this script. Each shot waits for the state it documents; nothing is staged by hand.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OLD = ROOT.parent / "shared" / "data" / "old_photos"


def wait(app: QApplication, condition, timeout: float = 600.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the state to photograph")
        app.processEvents()
        time.sleep(0.02)


def settle(app: QApplication, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def shoot(qt, window, name: str) -> None:
    settle(qt)
    window.grab().save(str(HERE / name))
    print("wrote", HERE / name)


def main(shots: list[str]) -> int:
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    if not shots or "main" in shots:
        main_shots(qt)
    if not shots or "detect" in shots:
        detect_shot(qt)
    return 0


def detect_shot(qt) -> None:
    """6. The example scan after Detect scratches (red: the proposal), restored with filling and colour on."""
    from restorer.gui.app import Application
    from restorer.recipe import Recipe

    app = Application()
    app.window.resize(1280, 800)
    app.window.show()
    try:
        app.open(str(ROOT / "resources" / "examples" / "astronaut_scratched.png"))
        wait(qt, lambda: app.session.photo is not None and not app.session.busy)
        app.set_recipe(Recipe().with_enabled({"inpaint", "colorize"}))
        app.detect_scratches()
        wait(qt, lambda: not app.session.busy and app.session.mask_model.mask.any())
        app.restore()
        wait(qt, lambda: app.session.result is not None and not app.session.busy)
        app.window.viewer.fit()
        app.window.viewer.set_split(0.5)
        shoot(qt, app.window, "detect-fill-colorize.png")
    finally:
        app.shutdown()


def main_shots(qt) -> None:
    """1-5: one scratched portrait restored with the default stages, then the Look slider and the queue."""
    from restorer.gui.app import Application
    from restorer.recipe import Recipe

    portrait = OLD / "BringingOldPhotos_test_images" / "old_w_scratch" / "c.png"
    if not portrait.exists():
        portrait = ROOT / "resources" / "examples" / "astronaut_faded.jpg"
    app = Application()
    app.window.resize(1280, 800)
    app.window.show()
    try:
        # A scratched portrait restored with the default stages.
        app.open(str(portrait))
        wait(qt, lambda: app.session.photo is not None and not app.session.busy)
        app.set_recipe(Recipe().with_enabled({"artifacts", "colorize", "upscale"}))
        app.restore()
        wait(qt, lambda: app.session.result is not None and not app.session.busy)
        viewer = app.window.viewer
        viewer.set_split(0.5)
        # 1. The whole window as a new user first sees a result: README's opening picture.
        viewer.fit()
        shoot(qt, app.window, "main-window.png")
        # 2. The same portrait at 100 %, on the face, with the zoom readout in the status bar.
        width, height = app.session.photo.size
        face = viewer.image_to_widget(QPointF(width * 0.5, height * 0.33))
        viewer.set_actual_scale(1.0, anchor=face)
        viewer._pan_by(QPointF(viewer.width() / 2, viewer.height() / 2) - viewer.image_to_widget(
            QPointF(width * 0.5, height * 0.33)))
        shoot(qt, app.window, "zoom-100-face.png")
        # 3. The Look slider held mid-drag: FastSR's preview of the view on screen, with its badge.
        slider = app.window.panel.upscale_alpha
        slider.setSliderDown(True)
        for value in (60, 45, 30):
            slider.setValue(value)
            settle(qt, 0.05)
        wait(qt, lambda: viewer.patch_badge() == "preview")
        shoot(qt, app.window, "slider-drag-preview.png")
        slider.setSliderDown(False)  # released: the exact blend replaces the preview, then a re-run
        wait(qt, lambda: app.session.result is not None and not app.session.busy and not viewer.patch_badge())
        # 4. The settings changed after the result: the banner says the result is out of date.
        viewer.fit()
        app.window.panel.upscale_scale.setCurrentIndex(app.window.panel.upscale_scale.findData(2))
        wait(qt, lambda: bool(viewer.stale_message()))
        shoot(qt, app.window, "out-of-date.png")
        # 5. The queue, mid-run: a shoebox of scans, one of them not a photo at all.
        shoebox = Path(tempfile.mkdtemp(prefix="restorer-shoebox-"))
        sources = [OLD / "CodeFormer_inputs" / "whole_imgs" / n for n in ("01.jpg", "04.jpg")]
        sources += [OLD / "DeOldify_test_images" / n for n in ("Rutherford_Hayes.jpg", "BoxedBedEarly1900s.jpg",
                                                                   "SchoolKidsConnemaraIreland1901.jpg")]
        for source in [s for s in sources if s.exists()] or [portrait]:
            (shoebox / source.name).write_bytes(source.read_bytes())
        (shoebox / "letter_from_aunt.jpg").write_text("Dear Anna, here are the photographs...")
        app.set_recipe(Recipe().with_enabled({"artifacts", "upscale"}).with_settings("upscale", scale=2))
        app.queue_add([str(shoebox)])
        app.window.queue.outdir.setText(str(shoebox.parent / f"{shoebox.name}_restored"))
        app.window.queue.start_button.click()
        panel = app.window.queue
        wait(qt, lambda: sum(panel.status_of(s) in ("restored", "failed") for s in panel.sources()) >= 3
             and any(panel.status_of(s).startswith("restoring") for s in panel.sources()))
        shoot(qt, app.window, "queue-mid-run.png")
        wait(qt, lambda: not panel.running)
    finally:
        app.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
