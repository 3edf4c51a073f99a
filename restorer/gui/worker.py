"""RestoreWorker: loads, restores and saves photos in a background QThread.

It talks to the window only through signals. It is the only GUI module that
reaches the pipeline, and imports it only inside its slots, which run in the
worker thread, so importing the GUI never imports torch.

It keeps the result of each stage, so changing a late stage's settings (the
PSNR<->GAN slider, say) re-runs only from that stage on.
"""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from restorer.errors import Cancelled, RestorerError
from restorer.gui.qimage import to_qimage

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.05


class RestoreWorker(QObject):
    loaded = Signal(object, object, str)  # photo, QImage, path
    load_failed = Signal(str)
    stage_started = Signal(str, int, int)
    stage_finished = Signal(str, str)  # stage, note
    progress = Signal(float, str)  # overall fraction, stage
    finished = Signal(object, object, float)  # photo, QImage, seconds
    failed = Signal(str)
    cancelled = Signal()
    saved = Signal(str)
    save_failed = Signal(str)
    preview_ready = Signal(object, object, str)  # QImage, (x, y, w, h) in the photo's pixels, "fast"/"exact"
    scratches_detected = Signal(object, str)  # bool mask, summary
    detect_failed = Signal(str)
    engine_ready = Signal(str)  # e.g. "CPU · torch fp32", for the status bar
    result_loaded = Signal(object, object, str)  # photo, QImage, path: a finished result read back (the queue)


    def __init__(self, pipeline_module=None) -> None:
        super().__init__()
        self._pipeline = pipeline_module  # tests inject a fake; None means the real one
        self._cancel = None
        self._result_engine = ""  # the engines that made the last result, for the saved file's metadata
        self._cache: list[tuple[object, object]] = []  # (recipe-prefix key, photo after that stage)
        self._cache_source: object = None
        self.latest_preview = 0  # set from the GUI thread; older preview requests are dropped
        self.device = "auto"  # set from the GUI thread (View > Device); read when a run starts

    def request_cancel(self) -> None:
        """Called from the GUI thread; the pipeline checks the flag between steps."""
        if self._cancel is not None:
            self._cancel.cancel()

    def _pipeline_module(self):
        if self._pipeline is None:
            from restorer import pipeline

            self._pipeline = pipeline
        return self._pipeline

    @Slot(str)
    def load(self, path: str) -> None:
        photo = self._read(path, self.load_failed)
        if photo is not None:
            self._cache, self._cache_source, self._result_engine = [], photo, ""
            self.loaded.emit(photo, to_qimage(photo.pixels), path)

    @Slot(str, str)
    def load_pair(self, source: str, result: str) -> None:
        """Open `source` as the photo and `result` (a queue's output) as its result."""
        self.load(source)
        restored = self._read(result, self.load_failed)
        if restored is not None:
            self.result_loaded.emit(restored, to_qimage(restored.pixels), result)

    def _read(self, path: str, failed):
        """The photo at `path`, or None after `failed` got one sentence (too large, unreadable, out of memory)."""
        from restorer.imaging import read_photo
        from restorer.memory import check_open

        try:
            size = _header_size(Path(path))
            refusal = check_open(*size, Path(path).name) if size else None
            if refusal:
                failed.emit(refusal)
                return None
            return read_photo(Path(path))
        except RestorerError as exc:
            failed.emit(str(exc))
        except MemoryError:
            failed.emit(f"{Path(path).name} is too large to open with the memory available.")
        return None

    @Slot(str, str, str)
    def describe_engine(self, engine: str = "realesrgan", precision: str = "auto", quality: str = "best") -> None:
        """Say which device and engine the recipe's enlargement runs on (measured once per machine, in this
        thread): `engine`, `precision` and `quality` are the recipe's (Lanczos, int8 by choice, the fast
        mode's student)."""
        if engine == "lanczos":
            self.engine_ready.emit("Lanczos: no network enlarges")
            return
        try:
            from restorer.engines.select import describe
            from restorer.models.manager import shared_manager
            from restorer.models.precision import choose_runtime

            if quality == "fast":  # the student runs on torch, in fp32 on the CPU
                device = choose_runtime(self.device, "fp32").device
                self.engine_ready.emit(describe("torch-fp32", device.split(":")[0]) + " · fast mode")
                return
            chosen = shared_manager(self.device).sr_engine(precision)
            device = "vulkan" if chosen == "ncnn-vulkan" else choose_runtime(self.device).device
            self.engine_ready.emit(describe(chosen, device.split(":")[0]))
        except Exception as exc:  # no torch, no GPU, int8 without ONNX Runtime: the status bar says so
            self.engine_ready.emit(f"no neural engine ({exc})"[:80])

    @Slot(object, object, object)
    def restore(self, recipe, photo, mask) -> None:
        """Run `recipe` over `photo`, reusing cached stage results that are still valid."""
        pipeline = self._pipeline_module()
        from restorer.events import Finished, Progress, StageFinished, StageStarted

        self._cancel = pipeline.CancelToken()
        try:
            stages = recipe.enabled_stages()
            start_photo, first = self._reusable_prefix(recipe, photo, mask)
            if stages and first == len(stages):
                self.progress.emit(1.0, stages[-1])
                self.finished.emit(start_photo, to_qimage(start_photo.pixels), 0.0)
                return
            del self._cache[first:]
            result, seconds = start_photo, 0.0
            last_progress, last_stage = 0.0, ""
            from restorer.stages import StageContext

            context = StageContext(device=self.device, extras={})
            for event in pipeline.run(recipe.with_enabled(set(stages[first:])), start_photo, mask=mask,
                                      cancel=self._cancel, context=context):
                if isinstance(event, StageStarted):
                    self.stage_started.emit(event.stage, first + event.index, len(stages))
                elif isinstance(event, Progress):
                    # Networks report after every convolution; on a GPU that is thousands a second.
                    now = time.monotonic()
                    if (now - last_progress >= PROGRESS_INTERVAL_S or event.fraction >= 1.0
                            or event.stage != last_stage):
                        last_progress, last_stage = now, event.stage
                        # The share of this run (stages reused from the cache cost nothing): the bar
                        # and its time left follow the work still to do, weighted by each stage's cost.
                        self.progress.emit(event.overall, event.stage)
                elif isinstance(event, StageFinished):
                    if event.photo is not None:
                        self._cache.append((self._key(recipe, mask, event.stage), event.photo))
                    self.stage_finished.emit(event.stage, event.note)
                elif isinstance(event, Finished):
                    result, seconds = event.photo, event.seconds
            if "upscale" in stages[first:] or "upscale" not in stages:  # else the cached enlargement's stands
                self._result_engine = self._engine_label(context.extras.get("enlarged_with", ""))
            self.finished.emit(result, to_qimage(result.pixels), seconds)
        except Cancelled:
            self.cancelled.emit()
        except RestorerError as exc:
            self.failed.emit(str(exc))
        except MemoryError:
            self.failed.emit("The photo is too large for the memory available; try a smaller scale.")
        except Exception as exc:  # a bug: tell the user in one sentence, keep the traceback in the log
            log.error("restore failed:\n%s", traceback.format_exc())
            self.failed.emit(f"Restoring failed unexpectedly ({type(exc).__name__}: {exc}); details are in the log.")
        finally:
            self._cancel = None

    @Slot(object, object, object, object, int, float, str)
    def preview(self, recipe, photo, mask, visible, request: int, screen_scale: float = 4.0,
                mode: str = "fast") -> None:
        """Enlarge the part of the photo on screen at the recipe's alpha, at the screen's resolution.

        `screen_scale` is screen pixels per photo pixel: a zoomed-out view needs only the pixels it
        shows, so the crop is shrunk first. `mode` "fast" uses FastSR (while the slider moves), "exact"
        the real blend on the chosen engine (when it stops). Older requests are dropped.
        """
        if request != self.latest_preview or "upscale" not in recipe.enabled_stages():
            return  # a newer position of the slider is already queued
        stages = recipe.enabled_stages()
        start_photo, first = self._reusable_prefix(recipe.with_enabled(set(stages[:-1])), photo, mask)
        if first < len(stages) - 1:
            return  # earlier stages not computed yet: nothing honest to preview
        try:
            from restorer.stages.upscale import preview_view

            result, rect = preview_view(start_photo.float_pixels(), visible, screen_scale,
                                        recipe.settings("upscale"), mode)
        except RestorerError as exc:
            self.failed.emit(str(exc))
            return
        if request == self.latest_preview:
            self.preview_ready.emit(to_qimage(result), rect, mode)

    @Slot(object)
    def detect_scratches(self, photo) -> None:
        from restorer.stages.scratches import detect_scratches, scratch_network_problem

        try:
            mask = detect_scratches(photo.float_pixels())
        except RestorerError as exc:
            self.detect_failed.emit(str(exc))
            return
        except MemoryError:
            self.detect_failed.emit("Scratch detection ran out of memory on this photo.")
            return
        except Exception as exc:  # a bug: one sentence, the traceback in the log
            log.error("scratch detection failed:\n%s", traceback.format_exc())
            self.detect_failed.emit(f"Scratch detection failed unexpectedly ({type(exc).__name__}: {exc}).")
            return
        summary = f"proposed {mask.mean() * 100:.2f} % of the photo as damage"
        problem = scratch_network_problem()
        if problem:  # the classic detector answered: the user must know why the proposal is thin
            summary += f" with the classic detector ({problem.rstrip('.')})"
        self.scratches_detected.emit(mask, summary)

    @Slot(object, str)
    def save(self, photo, path: str) -> None:
        from restorer.imaging import write_photo

        try:
            written = write_photo(photo, Path(path), engine=self._result_engine)
        except RestorerError as exc:
            self.save_failed.emit(str(exc))
            return
        self.saved.emit(str(written))

    @staticmethod
    def _engine_label(enlarged_with: str) -> str:
        from restorer.batch.task import engine_label

        try:
            return engine_label(enlarged_with)
        except Exception:  # torch broken: the run itself would have said so
            return enlarged_with

    # --- stage cache --------------------------------------------------------------------

    @staticmethod
    def _key(recipe, mask, stage: str) -> tuple:
        mask_key = None if mask is None else (mask.shape, hash(np.packbits(mask).tobytes()))
        return (stage, repr(recipe.settings(stage)), mask_key if stage == "inpaint" else None)

    def _reusable_prefix(self, recipe, photo, mask):
        """(photo to start from, index of the first enabled stage that must run)."""
        if photo is not self._cache_source:
            self._cache, self._cache_source = [], photo
            return photo, 0
        start, first = photo, 0
        for index, stage in enumerate(recipe.enabled_stages()):
            if index < len(self._cache) and self._cache[index][0] == self._key(recipe, mask, stage):
                start, first = self._cache[index][1], index + 1
            else:
                break
        return start, first


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, without decoding the pixels; None if it has no readable header."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except Exception:  # read_photo gives the real reason in its own sentence
        return None
