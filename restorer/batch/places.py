"""Where a batch runs: this process, a pool of local worker processes, or a Dask cluster.

Each place takes the same `FileTask`s and yields the same `FileOutcome`s
(in the order files finish) from the same `restore_file`, so every place
writes the same files and the same report.

- `InProcess`: one file after another in the calling process, with progress
  events, pause and cancel; the window's queue and a one-worker run use it.
- `LocalPool`: N worker processes (spawned, so no state leaks in from the
  parent), each loading the models once and running with cores/N torch
  threads. A worker that dies mid-file (killed, out of memory) costs only
  that file: it is retried once on a fresh worker, then reported failed.
- `DaskPlace`: a Dask `distributed` cluster, an existing scheduler's address
  or `local:N` for a LocalCluster of N single-threaded worker processes on
  this machine. Files travel as paths: every worker must see the inputs and
  the output folder at the same paths (shared storage), and have Restorer
  installed. A task whose worker dies is rescheduled once
  (`distributed.scheduler.allowed-failures` = 1 on a local cluster; a remote
  scheduler applies its own setting) and then reported failed.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import replace

from restorer.batch.task import FileOutcome, FileTask, restore_file

# A file gets two chances on a worker that dies under it: the first death may be the machine's fault.
MAX_ATTEMPTS = 2


def _died_twice(task: FileTask, how: str) -> FileOutcome:
    from pathlib import Path

    name = Path(task.source).name
    return FileOutcome(task.source, "failed", f"{name} was not restored: the worker process restoring it {how} "
                                              f"{MAX_ATTEMPTS} times (it may need more memory than is available).",
                       recipe_hash=task.options.recipe_hash, attempts=task.attempt)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Gate:
    """Pause and cancel for a running batch, set from any thread."""

    def __init__(self) -> None:
        self._running = threading.Event()
        self._running.set()
        self.cancelled = False

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self) -> None:
        self.cancelled = True
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float = 0.2) -> None:
        self._running.wait(timeout)


class InProcess:
    """One file after another in this process: progress events, pause between files, cancel inside one.

    `models`, when given, is the ModelManager to use instead of the process-wide one: the window's
    queue runs beside the window's own restorations and must not re-blend the networks under them.
    """

    def __init__(self, on_event: Callable | None = None, models=None) -> None:
        self.on_event = on_event
        self.models = models
        self.place = "this process"

    def run(self, tasks: list[FileTask], gate: Gate) -> Iterator[FileOutcome]:
        from restorer.pipeline import CancelToken

        for task in tasks:
            while gate.paused and not gate.cancelled:
                gate.wait_while_paused()
            if gate.cancelled:
                return
            token = CancelToken()
            watcher = _CancelBridge(gate, token)
            try:
                yield restore_file(task, on_event=(lambda e, t=task: self.on_event(t, e)) if self.on_event else None,
                                   cancel=token, models=self.models)
            finally:
                watcher.stop()

    def close(self) -> None:
        pass


class _CancelBridge:
    """Forwards a gate's cancel into the pipeline's token while one file runs."""

    def __init__(self, gate: Gate, token) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(gate, token), daemon=True)
        self._thread.start()

    def _watch(self, gate: Gate, token) -> None:
        while not self._stop.wait(0.05):
            if gate.cancelled:
                token.cancel()
                return

    def stop(self) -> None:
        self._stop.set()


def _die_with_parent() -> None:
    """On Linux, have the kernel end this worker when the batch process dies (even by SIGKILL), so a killed
    batch leaves no orphan restoring a file nobody will record."""
    import signal
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _pool_worker(conn, function) -> None:
    """A pool process: run `function` on the tasks it is sent until told to stop. The parent handles Ctrl+C."""
    import signal

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(function(task))


class _Worker:
    def __init__(self, context, function) -> None:
        parent, child = context.Pipe()
        self.conn = parent
        self.process = context.Process(target=_pool_worker, args=(child, function), daemon=True,
                                       name="restorer-worker")
        self.process.start()
        child.close()
        self.task: FileTask | None = None

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class LocalPool:
    """N worker processes on this machine, cores divided between them.

    `function` is what a worker runs per task: `restore_file`, or in tests a stand-in
    (importable by name, since workers are spawned) that misbehaves on purpose.
    """

    def __init__(self, workers: int, function: Callable[[FileTask], FileOutcome] = restore_file) -> None:
        import multiprocessing

        self.function = function
        self.size = max(1, workers)
        self.threads = max(1, cores() // self.size)
        self.place = f"{self.size} local worker processes ({self.threads} thread{'s' if self.threads > 1 else ''} each)"
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []

    def run(self, tasks: list[FileTask], gate: Gate) -> Iterator[FileOutcome]:
        from multiprocessing.connection import wait

        pending = deque(replace(task, threads=self.threads) for task in tasks)
        if not self._workers:
            self._workers = [_Worker(self._context, self.function) for _ in range(min(self.size, max(1, len(pending))))]
        try:
            while pending or any(w.task for w in self._workers):
                if gate.cancelled:
                    return
                if not gate.paused:
                    for worker in self._workers:
                        if worker.task is None and pending:
                            worker.task = pending.popleft()
                            worker.conn.send(worker.task)
                busy = [w for w in self._workers if w.task is not None]
                if not busy:
                    gate.wait_while_paused()
                    continue
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=0.5))
                for worker in busy:
                    if worker.conn not in ready and worker.process.sentinel not in ready:
                        continue
                    try:
                        outcome = worker.conn.recv() if worker.conn.poll() else None
                    except (EOFError, OSError):
                        outcome = None
                    if outcome is not None:
                        worker.task = None
                        yield outcome
                        continue
                    if worker.process.is_alive():
                        continue
                    task = worker.task
                    self._replace(worker)
                    if task.attempt < MAX_ATTEMPTS:
                        pending.appendleft(replace(task, attempt=task.attempt + 1))
                    else:
                        yield _died_twice(task, "died")
        finally:
            if gate.cancelled:
                self.close(kill=True)

    def _replace(self, dead: _Worker) -> None:
        dead.conn.close()
        dead.process.join(timeout=1)
        self._workers[self._workers.index(dead)] = _Worker(self._context, self.function)

    def close(self, *, kill: bool = False) -> None:
        for worker in self._workers:
            worker.stop(kill=kill)
        self._workers = []


class DaskPlace:
    """A Dask cluster: `address` of a running scheduler, or "local:N" for a LocalCluster of N workers."""

    def __init__(self, address: str) -> None:
        import logging

        import dask
        from distributed import Client, LocalCluster

        self._cluster = None
        # The scheduler and nannies log every worker's arrival at INFO; a batch prints its own lines.
        for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core",
                     "distributed.worker", "distributed.http.proxy"):
            logging.getLogger(name).setLevel(logging.ERROR)
        if address.startswith("local:"):
            try:
                count = int(address.split(":", 1)[1])
            except ValueError:
                raise ValueError(f"--cluster local:N needs a number of workers, not {address!r}") from None
            # Retry a task once when its worker dies, then report it (set before the scheduler starts).
            dask.config.set({"distributed.scheduler.allowed-failures": MAX_ATTEMPTS - 1})
            self._cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self._cluster)
            self.threads = max(1, cores() // count)
            self.place = f"Dask LocalCluster of {count} workers"
        else:
            self.client = Client(address, timeout="30s")
            self.threads = 0  # a remote worker's own OMP_NUM_THREADS / core count decides
            self.place = f"Dask cluster at {address}"

    def run(self, tasks: list[FileTask], gate: Gate) -> Iterator[FileOutcome]:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        queue = deque(replace(task, threads=self.threads) for task in tasks)
        window = max(2, 2 * len(self.client.scheduler_info().get("workers", {})) or 4)
        running: dict = {}

        def submit(task: FileTask):
            future = self.client.submit(restore_file, task, pure=False, key=f"restore-{time.monotonic_ns()}")
            running[future.key] = (future, task)
            return future

        completed = as_completed([submit(queue.popleft()) for _ in range(min(window, len(queue)))])
        for future in completed:
            _, task = running.pop(future.key)
            try:
                yield future.result()
            except KilledWorker:
                yield _died_twice(replace(task, attempt=MAX_ATTEMPTS), "died")
            except Exception as exc:  # the task could not run there at all (e.g. Restorer missing on a worker)
                from pathlib import Path

                yield FileOutcome(task.source, "failed", f"{Path(task.source).name} was not restored: the cluster "
                                                         f"could not run it ({type(exc).__name__}: {exc}).",
                                  recipe_hash=task.options.recipe_hash)
            if gate.cancelled:
                self.client.cancel([other for other, _ in running.values()])
                return
            while gate.paused and not gate.cancelled:
                gate.wait_while_paused()
            if queue and not gate.cancelled:
                completed.add(submit(queue.popleft()))

    def close(self, *, kill: bool = False) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
