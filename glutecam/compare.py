"""`glutecam compare RUN_A RUN_B`: two sessions of the same exercise side by side (e.g. week 1 and week 6).

Per rep and for the whole set: pelvic drop, pelvic rotation and the exercise's key measures, with the
change from A to B, on the terminal (a rich table) and as a page with both clips.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from glutecam.files import write_text_atomic
from glutecam.report.run import (KEY_MEASURES, MEASURES, RANGE_MEASURE, Run, RunError, finite_float, load_run,
                                 rep_measure)

#: Changes smaller than this are within what 2-D video can tell apart (smallest detectable change of 2-D
#: pelvic measures, 3-4 deg: Schurr et al. 2017; Dingenen et al. 2014; see defaults.toml).
SMALLEST_CHANGE_DEG = 3.0


class CompareError(ValueError):
    """Two runs that cannot be compared (not output folders, no exercise, different exercises)."""


@dataclass
class Row:
    """One measure in A and B. `better`: "smaller" (closer to 0: drop, rotation, lean, valgus), "larger"
    (range: knee flexion, abduction, hinge), "fewer" (a count of faults), or None (no direction)."""

    label: str
    a: float | None
    b: float | None
    better: str | None = "smaller"

    @property
    def change(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def is_count(self) -> bool:
        return self.better in ("fewer", None)

    @property
    def meaning(self) -> str:
        c = self.change
        if c is None or self.better is None:
            return ""
        if self.better == "fewer":
            return "" if c == 0 else ("better" if c < 0 else "worse")
        if self.better == "smaller":
            c = abs(self.b) - abs(self.a)
        if abs(c) < SMALLEST_CHANGE_DEG:
            return "no clear change"
        return "better" if (c < 0) == (self.better == "smaller") else "worse"


@dataclass
class Comparison:
    a: Run
    b: Run
    set_rows: list[Row]
    rep_rows: list[dict[str, Any]]  # index, verdicts, and Rows per measure
    measures: list[str]  # labels of the per-rep measures, in order


def _mean(vals: list[float | None]) -> float | None:
    v = [float(x) for x in vals if x is not None and math.isfinite(float(x))]
    return statistics.fmean(v) if v else None


def _rep_mean(reps: list[dict[str, Any]], key: str) -> float | None:
    """The mean of a per-rep key over the reps that have it, signed (a hike offsets a drop), like the report's
    left-versus-right table and the history's mean peak drop."""
    return _mean([finite_float(r.get(key)) for r in reps])


def _largest(reps: list[dict[str, Any]], key: str) -> float | None:
    """The largest finite value of a per-rep key (None when no rep has one)."""
    return max((v for v in (finite_float(r.get(key)) for r in reps) if v is not None), default=None)


def _direction(col: str) -> str:
    """Range measures are better larger; deviations (drop, rotation, lean, valgus) better closer to 0."""
    return "larger" if col in RANGE_MEASURE.values() else "smaller"


def compare_runs(run_a: str | Path | Run, run_b: str | Path | Run) -> Comparison:
    """Line up two runs rep by rep. Raises `CompareError` when they cannot be compared."""
    try:
        a = run_a if isinstance(run_a, Run) else load_run(run_a)
        b = run_b if isinstance(run_b, Run) else load_run(run_b)
    except RunError as exc:
        raise CompareError(str(exc)) from None
    for r in (a, b):
        if r.set is None:
            raise CompareError(f"{r.path}: no reps.json (analyse it with --exercise to compare reps)")
    if a.exercise != b.exercise:
        raise CompareError(f"different exercises: {a.exercise} ({a.path}) and {b.exercise} ({b.path})")
    keys = list(KEY_MEASURES.get(a.exercise or "", ()))
    per_rep = [("Peak pelvic drop (°)", "peak_pelvic_drop_deg", "smaller"),
               ("Peak pelvic rotation (°)", "peak_pelvic_rotation_deg", "smaller")]
    set_rows = [
        Row("Reps", float(len(a.reps)), float(len(b.reps)), better=None),
        Row("Reps with a fault", float(sum(r.get("verdict") == "fault" for r in a.reps)),
            float(sum(r.get("verdict") == "fault" for r in b.reps)), better="fewer"),
        Row("Mean peak pelvic drop (°)", _rep_mean(a.reps, "peak_pelvic_drop_deg"),
            _rep_mean(b.reps, "peak_pelvic_drop_deg")),
        Row("Largest peak pelvic drop (°)", _largest(a.reps, "peak_pelvic_drop_deg"),
            _largest(b.reps, "peak_pelvic_drop_deg")),
        Row("Mean peak pelvic rotation (°)", _rep_mean(a.reps, "peak_pelvic_rotation_deg"),
            _rep_mean(b.reps, "peak_pelvic_rotation_deg")),
    ]
    for k in keys:
        set_rows.append(Row(f"{MEASURES[k][0]}, rep peak, mean (°)", _mean([rep_measure(r, k) for r in a.reps]),
                            _mean([rep_measure(r, k) for r in b.reps]), better=_direction(k)))
    rep_rows = []
    for i in range(max(len(a.reps), len(b.reps))):
        ra = a.reps[i] if i < len(a.reps) else {}
        rb = b.reps[i] if i < len(b.reps) else {}
        rows = [Row(label, finite_float(ra.get(key)), finite_float(rb.get(key)), lib) for label, key, lib in per_rep]
        rows += [Row(f"{MEASURES[k][0]}, peak (°)", rep_measure(ra, k) if ra else None,
                     rep_measure(rb, k) if rb else None, better=_direction(k)) for k in keys]
        rep_rows.append({"index": i + 1, "verdict_a": ra.get("verdict", "–"), "verdict_b": rb.get("verdict", "–"),
                         "start_a": finite_float(ra.get("start_s")), "start_b": finite_float(rb.get("start_s")),
                         "rows": rows})
    labels = [label for label, _, _ in per_rep] + [f"{MEASURES[k][0]}, peak (°)" for k in keys]
    return Comparison(a=a, b=b, set_rows=set_rows, rep_rows=rep_rows, measures=labels)


def _fmt(v: float | None, signed: bool = False, count: bool = False) -> str:
    if v is None:
        return "–"
    return format(v, ("+" if signed else "") + (".0f" if count else ".1f"))


def print_comparison(c: Comparison, console=None) -> None:
    """Two rich tables: the set, then rep by rep (A, B and the change for each measure)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    console.print(f"A: {escape(c.a.name)} ({escape(str(c.a.path))}), B: {escape(c.b.name)} ({escape(str(c.b.path))})",
                  highlight=False)
    t = Table(title=f"{escape(c.a.exercise or '')}: set", title_justify="left")
    for col in ("measure", "A", "B", "change", ""):
        t.add_column(col, justify="left" if col in ("measure", "") else "right")
    for row in c.set_rows:
        n = row.is_count
        t.add_row(escape(row.label), _fmt(row.a, count=n), _fmt(row.b, count=n), _fmt(row.change, True, n),
                  row.meaning)
    console.print(t)
    r = Table(title="Rep by rep (A → B, change)", title_justify="left")
    r.add_column("rep", justify="right")
    r.add_column("verdict")
    for label in c.measures:
        r.add_column(escape(label), justify="right")
    for rep in c.rep_rows:
        cells = [f"{_fmt(x.a)} → {_fmt(x.b)} ({_fmt(x.change, True)})" for x in rep["rows"]]
        r.add_row(str(rep["index"]), f"{rep['verdict_a']} → {rep['verdict_b']}", *cells)
    console.print(r)


def write_comparison_page(c: Comparison, out: str | Path) -> Path:
    """A self-contained page with both clips and the tables; clicking a rep seeks that clip."""
    from glutecam.report.report import environment, href

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clips = []
    for tag, run in (("a", c.a), ("b", c.b)):
        video = run.video or run.source_video
        clips.append({"tag": tag, "name": run.name, "path": str(run.path),
                      "src": href(video, out.parent) if video else None,
                      "report": href(run.path / "report.html", out.parent)
                      if (run.path / "report.html").is_file() else None,
                      "verdict": run.verdict, "side": run.side or "?"})
    html = environment().get_template("compare.html.j2").render(
        title=f"glutecam: {c.a.name} vs {c.b.name}", c=c, clips=clips, fmt=_fmt,
        smallest=SMALLEST_CHANGE_DEG, generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"))
    return write_text_atomic(out, html)


def _click_command():
    import click

    @click.command("compare")
    @click.argument("run_a", type=click.Path(path_type=Path))
    @click.argument("run_b", type=click.Path(path_type=Path))
    @click.option("--out", type=click.Path(path_type=Path), default=Path("compare.html"), show_default=True,
                  help="Where to write the comparison page.")
    def compare_cli(run_a: Path, run_b: Path, out: Path) -> None:
        """Compare two analysed sessions (output folders of `glutecam analyse`), e.g. week 1 and week 6."""
        from glutecam.cli import fail

        try:
            c = compare_runs(run_a, run_b)
        except CompareError as exc:
            fail(str(exc))
        print_comparison(c)
        try:
            page = write_comparison_page(c, out)
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}")
        click.echo(f"page: {page}")

    return compare_cli


compare_cli = _click_command()
