"""Coach review: the HTML report of one run, and the annotated clip's fault labels and slow-motion replay.

`write_report(run_dir)` writes `report.html` into an `analyse` output folder; `load_run(run_dir)` reads one.
"""

from glutecam.report.report import render_report, write_report
from glutecam.report.run import Run, RunError, load_run

__all__ = ["Run", "RunError", "load_run", "render_report", "write_report"]
