"""The output folder's journal: what each input became, so a resumed batch knows exactly.

One JSON line per finished file (restored or failed), appended and flushed to
disk as each file finishes, by the coordinating process only (workers, local
or remote, never write it). A batch killed at any moment leaves at most a
half-written last line, which is ignored. A result file is either complete or
absent (results are written atomically); what a killed run leaves besides is
only temporary `.part` files, which a resumed run removes for the files it
redoes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from restorer.batch.task import FileOutcome

JOURNAL_NAME = "restorer-journal.jsonl"


class Journal:
    def __init__(self, outdir: Path) -> None:
        self.path = Path(outdir) / JOURNAL_NAME
        self._handle = None

    def load(self) -> dict[str, FileOutcome]:
        """The last record per input (by path) from earlier runs; unreadable lines are skipped."""
        records: dict[str, FileOutcome] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return records
        for line in text.splitlines():
            try:
                row = json.loads(line)
                outcome = FileOutcome.from_row(row)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # a line cut short by a kill
            records[outcome.source] = outcome
        return records

    def record(self, outcome: FileOutcome) -> None:
        """Append `outcome` durably (flushed and fsynced: the journal must survive a power cut)."""
        if outcome.status == "skipped" or outcome.carried_over:
            return  # nothing was done; the journal holds what was
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(outcome.to_row(), ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def remove_partial_files(target_stem: Path) -> int:
    """Delete the temporary `.part` files an interrupted write of this result left; returns how many."""
    folder = target_stem.parent
    if not folder.is_dir():
        return 0
    removed = 0
    for leftover in folder.glob(f".{target_stem.name}.*.part"):
        try:
            leftover.unlink()
            removed += 1
        except OSError:
            pass
    return removed
