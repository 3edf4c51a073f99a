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


class OnnxRRDB:
    """An RRDBNet run by ONNX Runtime; `load(state)` installs new weights (a new blend)."""

    name = "onnxruntime"
    supports_cancel = True

    def __init__(self, hyper: dict, folder: Path, threads: int = 0) -> None:
        import onnx

        self.scale = hyper["scale"]
        self._model = onnx.load(str(_exported(hyper, folder)))
        self._threads = threads
        self._session = None

    def load(self, state: dict) -> None:
        import onnxruntime as ort
        from onnx import numpy_helper

        names = {init.name for init in self._model.graph.initializer}
        missing = [k for k in state if k not in names]
        if missing:
            raise RuntimeError(f"the exported graph lacks weights such as {missing[0]}")
        for index, init in enumerate(self._model.graph.initializer):
            if init.name in state:
                array = state[init.name].detach().float().cpu().numpy()
                self._model.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, init.name))
        options = ort.SessionOptions()
        if self._threads:
            options.intra_op_num_threads = self._threads
        options.log_severity_level = 3
        # No memory arena: with it, every new tile shape (the photo's edge tiles differ) grew the
        # arena for good, 0.9 -> 2.85 GB after six shapes of x4plus, and an identity evaluation over
        # face crops grew past 12 GB. Without it memory returns after each run (restorer bench's peak
        # 10.2 -> 4.89 GB), at the same speed on 192-px tiles (median 12.0 s against 12.1 s) but
        # about 8 % slower on 352-px ones (40.2 s against 37.0 s): a trade for machines with 8 GB.
        options.enable_cpu_mem_arena = False
        self._session = ort.InferenceSession(self._model.SerializeToString(), options,
                                             providers=["CPUExecutionProvider"])

    def __call__(self, x, cancel=None):
        import torch

        from restorer.errors import Cancelled

        if cancel is not None and cancel.cancelled:
            raise Cancelled("The restoration was cancelled; nothing was written.")
        array = np.ascontiguousarray(x.detach().float().cpu().numpy())
        run_options = None
        watcher = None
        if cancel is not None:
            import onnxruntime as ort

            run_options = ort.RunOptions()
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
