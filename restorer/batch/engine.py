"""The batch engine: plan, run in some place, journal every file, report.

`run_batch` is what `restorer run` and the window's queue both call:

1. plan: each job becomes a task, or, when resuming, an outcome carried over
   from the journal (restored earlier with the same recipe hash and its result
   still there) or a skip (a result exists that the journal does not vouch
   for: it is left alone);
2. run the tasks in the chosen place (restorer.batch.places), recording each
   outcome in the journal the moment it arrives;
3. write restorer-report.json / .csv, also when interrupted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from restorer.batch.jobs import Job
from restorer.batch.journal import Journal, remove_partial_files
from restorer.batch.places import Gate
from restorer.batch.report import BatchReport
from restorer.batch.task import BatchOptions, FileOutcome, FileTask, candidate_outputs

REPORT_EVERY_S = 30.0


def plan(jobs: list[Job], options: BatchOptions, *, resume: bool,
         journal: Journal | None) -> tuple[list[FileTask], list[FileOutcome]]:
    """(tasks to run, outcomes already known), in the jobs' order."""
    inputs = {job.source.resolve(): job.source for job in jobs}
    earlier = journal.load() if (resume and journal is not None) else {}
    recipe_hash = options.recipe_hash
    tasks, known = [], []
    for job in jobs:
        candidates = candidate_outputs(job.target_stem, options.fmt)
        # Never write over an input: those whose name is one this result could take.
        protect = tuple(str(inputs[c.resolve()]) for c in candidates if c.resolve() in inputs)
        if resume:
            record = earlier.get(str(job.source))
            existing = [c for c in candidates if c.exists()]
            if (record is not None and record.status == "restored" and record.recipe_hash == recipe_hash
                    and Path(record.output).exists()):
                known.append(FileOutcome(record.source, "restored", record.reason, record.output, record.seconds,
                                         record.recipe_hash, record.engine, record.attempts, carried_over=True))
                continue
            if existing and (record is None or record.status != "failed"):
                reason = (f"{job.source.name}: {existing[0].name} already exists and this run's journal does not "
                          "record it with the same recipe, so it was left as it is.")
                known.append(FileOutcome(str(job.source), "skipped", reason, str(existing[0]),
                                         recipe_hash=recipe_hash))
                continue
            remove_partial_files(job.target_stem)
        tasks.append(FileTask(str(job.source), str(job.target_stem), options, protect))
    return tasks, known


def run_batch(jobs: list[Job], options: BatchOptions, place, outdir: Path, *, resume: bool = False,
              gate: Gate | None = None, on_outcome: Callable[[FileOutcome], None] | None = None,
              write_report: bool = True, left_out: list[Path] | tuple = ()) -> BatchReport:
    """Restore every job in `place`; returns the report (also written to `outdir` unless told not to).

    `left_out`: files the inputs' folders hold in formats Restorer cannot read, named in the report.
    """
    import json

    gate = gate or Gate()
    journal = Journal(outdir)
    tasks, known = plan(jobs, options, resume=resume, journal=journal)
    report = BatchReport([str(job.source) for job in jobs], json.loads(options.recipe_json), options.recipe_hash,
                         place.place, left_out=[str(path) for path in left_out])
    for outcome in known:
        report.add(outcome)
        if on_outcome:
            on_outcome(outcome)
    last_write = time.monotonic()
    try:
        for outcome in _once_each(place.run(tasks, gate)):
            report.add(outcome)
            try:
                journal.record(outcome)
                if write_report and time.monotonic() - last_write > REPORT_EVERY_S:
                    report.write(outdir)
                    last_write = time.monotonic()
            except OSError as exc:  # the output disk filled up between files
                _stop(report, gate, outdir, exc)
            if on_outcome:
                on_outcome(outcome)
            if outcome.stops_batch and not report.stopped:
                _stop(report, gate, outdir, None)
        report.interrupted = gate.cancelled or len(report.outcomes) < len(report.inputs)
    except BaseException:
        report.interrupted = True
        raise
    finally:
        try:
            journal.close()
        except OSError:
            pass  # what it held was flushed line by line; a full disk only loses the last one
        if write_report:
            try:
                report.write(outdir)
            except OSError as exc:
                report.stopped = report.stopped or _stop_sentence(outdir, exc)
    return report


def _stop_sentence(outdir: Path, exc: OSError | None) -> str:
    import errno

    if exc is None or exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"The batch stopped: the disk holding {outdir} is full. Free some space and run the same "
                "command with --resume to go on from there.")
    return f"The batch stopped: {outdir} could not be written ({exc.strerror or exc})."


def _stop(report: BatchReport, gate: Gate, outdir: Path, exc: OSError | None) -> None:
    """Stop dispatching files: every one after this would be restored only to fail to be written."""
    report.stopped = report.stopped or _stop_sentence(outdir, exc)
    gate.cancel()


def _once_each(outcomes: Iterator[FileOutcome]) -> Iterator[FileOutcome]:
    """Outcomes as they come, guarding against a place that reports a file twice."""
    seen: set[str] = set()
    for outcome in outcomes:
        if outcome.source in seen:
            continue
        seen.add(outcome.source)
        yield outcome
