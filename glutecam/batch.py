"""Batch: `glutecam analyse FOLDER --exercise X --jobs N` runs every clip of a folder.

Each clip runs `analyse_video` in a worker process (spawned, so each has its own pose model) and writes to
`OUT/<clip stem>/`. A clip that fails is reported with its reason and the others go on. At the end the
reports of clips of the same exercise done on both sides get a left-versus-right table, and
`OUT/index.html` lists every clip with its verdict. Each analysed set is recorded in the history database.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from glutecam.files import write_text_atomic

if TYPE_CHECKING:
    from glutecam.report.run import Run

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".3gp"})


@dataclass
class ClipResult:
    """What happened to one clip of a batch."""

    clip: str
    out_dir: str
    status: str  # done | incomplete (finished with problems) | failed | interrupted | not run
    reason: str | None = None
    exercise: str | None = None
    side: str | None = None
    verdict: str | None = None
    n_reps: int = 0
    n_fault_reps: int = 0
    frames: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "done"

    @property
    def name(self) -> str:
        return Path(self.clip).name


def find_clips(folder: Path) -> list[Path]:
    """Video files directly in `folder` (by extension, hidden files skipped), sorted by name."""
    return sorted((p for p in Path(folder).iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in VIDEO_EXTENSIONS),
                  key=lambda p: p.name.lower())


def out_dirs(clips: list[Path], out_root: Path) -> list[Path]:
    """`OUT/<stem>` per clip; clips sharing a stem (a.mp4, a.mov) get the extension added (`a.mov`)."""
    stems: dict[str, int] = {}
    for c in clips:
        stems[c.stem] = stems.get(c.stem, 0) + 1
    return [out_root / (c.stem if stems[c.stem] == 1 else c.name) for c in clips]


def analyse_one(clip: str, out_dir: str, options: dict[str, Any], db: str | None) -> ClipResult:
    """Analyse one clip (in a worker process); never raises: a failure is a `ClipResult` with its reason."""
    from glutecam.analyse import AnalyseOptions, OutputError, analyse_video, stopped_early_reason
    from glutecam.config import ConfigError
    from glutecam.models import ModelError
    from glutecam.sources import SourceError

    t0 = time.perf_counter()
    res = ClipResult(clip=clip, out_dir=out_dir, status="failed", exercise=options.get("exercise"))
    try:
        result = analyse_video(clip, out_dir, AnalyseOptions(**options))
    except (SourceError, ModelError, OutputError, ConfigError) as exc:
        res.reason = str(exc)
        res.seconds = time.perf_counter() - t0
        return res
    except Exception as exc:  # a bug: say so, keep the batch going
        res.reason = f"internal error: {type(exc).__name__}: {exc}"
        res.seconds = time.perf_counter() - t0
        return res
    res.seconds = time.perf_counter() - t0
    res.frames = len(result.track)
    res.warnings = list(result.summary.get("warnings") or [])
    if result.interrupted:
        res.status, res.reason = "interrupted", "interrupted; results cover the frames analysed before"
    elif result.stopped_early:
        res.status, res.reason = "incomplete", stopped_early_reason(result.stopped_early)
    else:
        res.status = "done"
    from glutecam.report.run import verdict_label

    set_dict = result.analysis.set.to_dict() if result.analysis is not None else None  # what reps.json holds
    res.verdict = verdict_label(set_dict)
    if result.analysis is not None:
        s = result.analysis.set
        res.side, res.n_reps = s.side, len(s.reps)
        res.n_fault_reps = sum(1 for r in s.reps if r.verdict == "fault")
        from glutecam.history import HistoryError, record_run

        try:
            record_run(out_dir, db=db)
        except HistoryError as exc:
            res.warnings.append(f"not recorded in the history: {exc}")
    return res


class _BatchProgress:
    """One overall bar (clips finished / clips) on a terminal; nothing otherwise."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True)
        self.enabled = self.console.is_terminal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                            console=self.console, disable=not self.enabled)
        self.task = self.bar.add_task("clips", total=total)

    def __enter__(self) -> "_BatchProgress":
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def running(self, names: list[str]) -> None:
        self.bar.update(self.task, description="clips (" + ", ".join(names)[:60] + ")" if names else "clips")

    def advance(self) -> None:
        self.bar.advance(self.task)


def run_batch(clips: list[Path], dirs: list[Path], options: dict[str, Any], jobs: int = 1, db: str | None = None,
              job: Callable[..., ClipResult] = analyse_one,
              on_result: Callable[[ClipResult], None] | None = None) -> tuple[list[ClipResult], bool]:
    """Run `job` on every clip in a pool of `jobs` processes. Returns (results in clip order, interrupted).

    A clip whose worker process dies (a crash in native code, the out-of-memory killer) breaks the pool for
    every clip running beside it; those are then run again one by one, each in a fresh process, so only the
    culprit is reported as failed. Ctrl+C stops handing out clips; running clips stop at their next frame and
    keep what they computed.
    """
    results: dict[int, ClipResult] = {}
    interrupted = False
    jobs = max(1, jobs)
    options = {**options, "pin_cores": jobs == 1}  # two jobs' models would share a core (glutecam.cores)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter per worker: no inherited threads or model
    queue = list(range(len(clips)))

    def finish(i: int, res: ClipResult) -> None:
        results[i] = res
        progress.advance()
        if on_result:
            on_result(res)

    def died(i: int, exc: BaseException) -> ClipResult:
        return ClipResult(clip=str(clips[i]), out_dir=str(dirs[i]), status="failed",
                          reason=f"the worker process died while analysing it ({type(exc).__name__}: {exc})",
                          exercise=options.get("exercise"))

    with _BatchProgress(len(clips)) as progress:
        pool = None
        pending: dict[Future, int] = {}
        try:
            while queue or pending:
                if pool is None:
                    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)
                while queue and len(pending) < jobs:
                    i = queue.pop(0)
                    pending[pool.submit(job, str(clips[i]), str(dirs[i]), options, db)] = i
                progress.running([clips[i].name for i in pending.values()])
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                suspects = []
                for fut in done:
                    i = pending.pop(fut)
                    try:
                        finish(i, fut.result())
                    except BrokenProcessPool:
                        suspects.append(i)
                    except Exception as exc:  # the job itself raised (analyse_one never does)
                        finish(i, died(i, exc))
                if suspects:  # the pool is broken: every clip still in it failed with it
                    suspects += list(pending.values())
                    pending.clear()
                    pool.shutdown(wait=True, cancel_futures=True)
                    pool = None
                    for i in sorted(suspects):
                        progress.running([clips[i].name])
                        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as alone:
                            try:
                                finish(i, alone.submit(job, str(clips[i]), str(dirs[i]), options, db).result())
                            except Exception as exc:
                                finish(i, died(i, exc))
        except KeyboardInterrupt as exc:
            interrupted = True
            _forward_sigterm(pool, exc)
            for fut in pending:
                fut.cancel()
            for fut, i in pending.items():  # workers got the same Ctrl+C and are wrapping up
                try:
                    res = fut.result(timeout=120)
                except BaseException:
                    res = ClipResult(clip=str(clips[i]), out_dir=str(dirs[i]), status="interrupted",
                                     reason="interrupted", exercise=options.get("exercise"))
                results[i] = res
                if on_result:
                    on_result(res)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    for i in range(len(clips)):
        if i not in results:
            results[i] = ClipResult(clip=str(clips[i]), out_dir=str(dirs[i]), status="not run",
                                    reason="the batch was interrupted first", exercise=options.get("exercise"))
            if on_result:
                on_result(results[i])
    return [results[i] for i in range(len(clips))], interrupted


def _forward_sigterm(pool: ProcessPoolExecutor | None, exc: BaseException) -> None:
    """Pass a SIGTERM on to the workers. Ctrl+C reaches every process of the terminal's group, but `kill`
    or a scheduler signals only this one: without this the workers would finish their clips first."""
    import os
    import signal

    from glutecam.interrupts import Terminated

    if pool is None or not isinstance(exc, Terminated):
        return
    workers = getattr(pool, "_processes", None) or {}  # pid -> Process (CPython's executor)
    for proc in list(workers.values()):
        try:
            os.kill(proc.pid, signal.SIGTERM)  # each stops at its next frame and writes what it has
        except (OSError, AttributeError):
            pass


def load_runs(results: list[ClipResult]) -> list[Run]:
    """The output folders of the clips analysed with an exercise (those with a reps.json), read once for the
    side comparisons and the index."""
    from glutecam.report import load_run

    return [load_run(r.out_dir) for r in results
            if r.status in ("done", "incomplete") and (Path(r.out_dir) / "reps.json").is_file()]


def add_side_comparisons(runs: Sequence[Run]) -> int:
    """Rewrite the reports of runs whose exercise was also done on the other side in this batch, with a
    left-versus-right table. Returns how many reports were rewritten."""
    from glutecam.report import write_report

    n = 0
    for run in runs:
        others = [o for o in runs if o is not run and o.exercise == run.exercise and o.side and o.side != run.side]
        if others:
            write_report(run.path, others=others)
            n += 1
    return n


def write_index(out_root: Path, folder: Path, results: list[ClipResult], interrupted: bool = False,
                runs: Sequence[Run] = ()) -> Path:
    """`OUT/index.html`: every clip with its status, verdict and a link to its report; `runs` (see
    `load_runs`) give the left-versus-right tables."""
    from glutecam.report.report import environment, href, side_comparison

    rows = []
    for r in results:
        report = Path(r.out_dir) / "report.html"
        rows.append({**asdict(r), "name": r.name, "report": href(report, out_root) if report.is_file() else None})
    runs_by_exercise: dict[str, list[Run]] = {}
    for run in runs:
        runs_by_exercise.setdefault(run.exercise or "", []).append(run)
    sides = []
    for exercise, runs in sorted(runs_by_exercise.items()):
        lefts = [r for r in runs if r.side == "left"]
        rights = [r for r in runs if r.side == "right"]
        if lefts and rights:
            sides.append(side_comparison(lefts + rights))
    counts = {s: sum(1 for r in results if r.status == s) for s in ("done", "incomplete", "failed", "interrupted",
                                                                      "not run")}
    html = environment().get_template("index.html.j2").render(
        title=f"glutecam batch: {folder.name}", folder=str(folder), rows=rows, counts=counts, sides=sides,
        interrupted=interrupted, generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"))
    out = out_root / "index.html"
    return write_text_atomic(out, html)


def batch_command(folder: Path, out_root: Path | None, options: dict[str, Any], jobs: int,
                  db: Path | None) -> int:
    """The CLI's batch mode; returns the exit status (0 all done, 1 some failed, 2 nothing to do, 130 Ctrl+C)."""
    import click

    from glutecam.analyse import OutputError, prepare_out_dir

    folder = Path(folder)
    clips = find_clips(folder)
    if not clips:
        click.echo(f"glutecam: error: {folder}: is a folder, not a video file, and holds no video clips to "
                   f"analyse ({', '.join(sorted(VIDEO_EXTENSIONS))})", err=True)
        return 2
    out_root = Path(out_root) if out_root else Path("glutecam-out") / (folder.resolve().name or "batch")
    try:
        prepare_out_dir(out_root)
    except OutputError as exc:
        click.echo(f"glutecam: error: {exc}", err=True)
        return 2
    dirs = out_dirs(clips, out_root)
    click.echo(f"{len(clips)} clips in {folder}, {max(1, jobs)} at a time, results in {out_root}", err=True)

    def say(r: ClipResult) -> None:
        if r.status == "done":
            reps = f", {r.n_reps} reps ({r.n_fault_reps} with a fault)" if r.verdict not in (None, "no exercise") else ""
            click.echo(f"  ok      {r.name}: {r.verdict}{reps} [{r.seconds:.0f} s]")
        else:
            click.echo(f"  {r.status:<7} {r.name}: {r.reason}", err=True)

    results, interrupted = run_batch(clips, dirs, options, jobs, str(db) if db else None, on_result=say)
    runs = load_runs(results)
    add_side_comparisons(runs)
    index = write_index(out_root, folder, results, interrupted, runs)
    bad = [r for r in results if not r.ok]
    click.echo(f"{len(results) - len(bad)} of {len(results)} clips done"
               + (f"; not done: {', '.join(r.name for r in bad)}" if bad else "") + f". Index: {index}")
    if interrupted:
        return 130
    return 1 if bad else 0
