"""restorer-report.json and restorer-report.csv: one row per input, for scripts and spreadsheets.

Both are written atomically in the output folder at the end of every run
(also an interrupted one) and rewritten now and then while it runs, so a
script polling the folder sees a consistent file. A resumed run's report
covers the whole batch: files an earlier, interrupted run restored appear as
restored, with `earlier_run` set.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from restorer.batch.jobs import left_out_sentence
from restorer.batch.task import FileOutcome

REPORT_JSON = "restorer-report.json"
REPORT_CSV = "restorer-report.csv"
COLUMNS = ("input", "status", "reason", "output", "seconds", "recipe_hash", "engine", "attempts", "earlier_run")

# Exit codes scripts can rely on (README documents them).
EXIT_OK, EXIT_NONE_SUCCEEDED, EXIT_USAGE, EXIT_SOME_FAILED = 0, 1, 2, 3


@dataclass
class BatchReport:
    """The state of a batch: an outcome per input, in the inputs' order."""

    inputs: list[str]
    recipe: dict
    recipe_hash: str
    place: str
    started: str = field(default_factory=lambda: datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"))
    outcomes: dict[str, FileOutcome] = field(default_factory=dict)
    interrupted: bool = False
    stopped: str = ""  # why the batch stopped early on its own (the output disk is full), in one sentence
    left_out: list[str] = field(default_factory=list)  # files in the folders in formats Restorer cannot read

    def add(self, outcome: FileOutcome) -> None:
        self.outcomes[outcome.source] = outcome

    def rows(self) -> list[dict]:
        rows = []
        for source in self.inputs:
            outcome = self.outcomes.get(source)
            if outcome is None:
                outcome = FileOutcome(source, "failed", f"{Path(source).name} was not restored: the batch stopped "
                                                        "before reaching it; run it again with --resume.",
                                      recipe_hash=self.recipe_hash, attempts=0)
            rows.append(outcome.to_row())
        return rows

    def totals(self, *, this_run_only: bool = False) -> Counter:
        counts: Counter = Counter({"restored": 0, "skipped": 0, "failed": 0})
        for row in self.rows():
            if this_run_only and row["earlier_run"]:
                continue
            counts[row["status"]] += 1
        return counts

    def exit_code(self) -> int:
        """0 all restored or skipped; 3 some failed; 1 every file failed."""
        totals = self.totals()
        if totals["failed"] == 0:
            return EXIT_OK
        return EXIT_NONE_SUCCEEDED if totals["failed"] == len(self.inputs) else EXIT_SOME_FAILED

    def summary(self) -> str:
        """One line for the terminal that tells restored, skipped and failed apart."""
        now, total = self.totals(this_run_only=True), self.totals()
        earlier = total["restored"] - now["restored"]
        parts = [f"{now['restored']} restored"]
        if earlier:
            parts.append(f"{earlier} already restored by an earlier run")
        parts += [f"{now['skipped']} skipped", f"{total['failed']} failed"]
        count = len(self.inputs)
        line = f"{count} photo{'' if count == 1 else 's'}: " + ", ".join(parts) + ("; interrupted" if self.interrupted else "") + "."
        return " ".join(part for part in (line, self.stopped, left_out_sentence(self.left_out)) if part)

    def write(self, outdir: Path) -> tuple[Path, Path]:
        """Write both files atomically; returns their paths."""
        from restorer.imaging import write_text_atomically

        rows = self.rows()
        document = {"software": _software(), "started": self.started,
                    "finished": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
                    "place": self.place, "recipe_hash": self.recipe_hash, "recipe": self.recipe,
                    "interrupted": self.interrupted, "stopped": self.stopped, "left_out": self.left_out,
                    "totals": dict(self.totals()),
                    "exit_code": self.exit_code(), "files": rows}
        outdir = Path(outdir)
        json_path = write_text_atomically(outdir / REPORT_JSON, json.dumps(document, indent=2, ensure_ascii=False))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        csv_path = write_text_atomically(outdir / REPORT_CSV, buffer.getvalue())
        return json_path, csv_path


def _software() -> str:
    from restorer import __version__

    return f"Restorer {__version__}"
