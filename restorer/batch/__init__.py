"""Restore many files with one recipe: the archivist's overnight job.

One engine (`run_batch`) for the command line and the window's queue, running
in this process, in local worker processes or on a Dask cluster
(restorer.batch.places). A bad file is reported in one sentence and the batch
goes on; each result is written atomically with its provenance; the output
folder keeps a journal (resume knows exactly what is done) and a report
(restorer-report.json / .csv) with an exit code scripts can trust.
"""

from restorer.batch.engine import plan, run_batch
from restorer.batch.jobs import Job, expand_inputs, name_file, read_mask
from restorer.batch.places import DaskPlace, Gate, InProcess, LocalPool
from restorer.batch.report import BatchReport
from restorer.batch.task import BatchOptions, FileOutcome, FileTask, restore_file

__all__ = ["BatchOptions", "BatchReport", "DaskPlace", "FileOutcome", "FileTask", "Gate", "InProcess", "Job",
           "LocalPool", "expand_inputs", "name_file", "plan", "read_mask", "restore_file", "run_batch"]
