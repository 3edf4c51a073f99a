"""ONNX Runtime for RRDBNet: the graph is exported once, each new blend only swaps its weights in.

Exporting RRDBNet takes about 12 s; building a session from an in-memory
model with new weights about 1 s. So a Look change costs a second, not an
export, and an enlargement that takes minutes on a CPU is never dominated by
it. Cancel reaches inside a tile: a watcher sets ONNX Runtime's `terminate`
flag when the pipeline's token is cancelled.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np


def available() -> tuple[bool, str]:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        return False, f"ONNX Runtime is not installed ({exc.name}); pip install onnxruntime onnx"
    return True, ""


def _exported(hyper: dict, folder: Path) -> Path:
    """The ONNX graph of an RRDBNet with these hyperparameters, exported once and cached."""
    import torch

    from restorer.models.archs.rrdbnet import RRDBNet

    name = "rrdbnet_s{scale}_f{features}_b{blocks}_g{growth}.onnx".format(**hyper)
    path = folder / name
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    net = RRDBNet(**hyper).eval()
    x = torch.rand(1, 3, 32, 32)
    tmp = path.with_suffix(".tmp")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, x, str(tmp), input_names=["x"], output_names=["y"], opset_version=17,
                          dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "H", 3: "W"}},
                          dynamo=False)
    tmp.replace(path)
    return path


# Give the arena's free memory back to the system at the end of every run. Measured on x4plus,
# seven runs over four tile shapes (160 px and smaller, one thread): resident memory after them
# 1.21 GB with the arena left to grow, 0.57 GB with no arena, 0.49 GB with the arena shrunk.
ARENA_SHRINK = ("memory.enable_memory_arena_shrinkage", "cpu:0")


class OrtNetwork:
    """A network run by ONNX Runtime from an in-memory ONNX model with input "x" and output "y";
    subclasses build the model (`_start_session`). Cancel reaches inside a run."""

    supports_cancel = True

    def __init__(self, scale: int, threads: int = 0) -> None:
        self.scale = scale
        self._threads = threads
        self._session = None

    def _start_session(self, model) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        options.log_severity_level = 3
        # The memory arena stays on (its reuse was worth 8 % on 352-px tiles and 1.75x on one default
        # 608-px tile: 235 s against 411 s, one thread), but every run ends by
        # shrinking it (ARENA_SHRINK below): with the arena simply on, each new tile shape (a photo's
        # edge tiles differ) grew it for good, 0.9 -> 2.85 GB after six shapes of x4plus, and an
        # identity evaluation over face crops grew past 12 GB.
        options.enable_cpu_mem_arena = True
        self._session = ort.InferenceSession(model.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])

    def __call__(self, x, cancel=None):
        import torch

        from restorer.errors import Cancelled

        if cancel is not None and cancel.cancelled:
            raise Cancelled("The restoration was cancelled; nothing was written.")
        import onnxruntime as ort

        array = np.ascontiguousarray(x.detach().float().cpu().numpy())
        run_options = ort.RunOptions()
        run_options.add_run_config_entry(*ARENA_SHRINK)
        watcher = None
        if cancel is not None:
            stop = threading.Event()

            def watch() -> None:
                while not stop.wait(0.05):
                    if cancel.cancelled:
                        run_options.terminate = True
                        return

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
        try:
            (out,) = self._session.run(["y"], {"x": array}, run_options)
        except Exception:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("The restoration was cancelled; nothing was written.") from None
            raise
        finally:
            if watcher is not None:
                stop.set()
        return torch.from_numpy(out)


class OnnxRRDB(OrtNetwork):
    """An RRDBNet run by ONNX Runtime; `load(state)` installs new weights (a new blend)."""

    name = "onnxruntime"

    def __init__(self, hyper: dict, folder: Path, threads: int = 0) -> None:
        import onnx

        super().__init__(hyper["scale"], threads)
        self._model = onnx.load(str(_exported(hyper, folder)))

    def load(self, state: dict, alpha: float | None = None) -> None:
        """Install a blend's weights; `alpha`, the Look it was made at, matters only to the int8 engines."""
        from onnx import numpy_helper

        names = {init.name for init in self._model.graph.initializer}
        missing = [k for k in state if k not in names]
        if missing:
            raise RuntimeError(f"the exported graph lacks weights such as {missing[0]}")
        for index, init in enumerate(self._model.graph.initializer):
            if init.name in state:
                array = state[init.name].detach().float().cpu().numpy()
                self._model.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, init.name))
        self._start_session(self._model)
