"""The `glutecam` command line. Every user error ends in one clear line and a non-zero exit status."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from glutecam import __version__
from glutecam.results import EXERCISES

# Exit statuses: 0 done; 1 finished with problems (some clips failed, data incomplete);
# 2 user error (bad arguments, unreadable input, no model); 130 interrupted (results so far kept).
EXIT_PROBLEMS, EXIT_USER_ERROR, EXIT_INTERRUPTED = 1, 2, 130


def _user_errors() -> tuple[type[BaseException], ...]:
    from glutecam.analyse import OutputError
    from glutecam.config import ConfigError
    from glutecam.models import ModelError
    from glutecam.sources import SourceError
    from glutecam.track import TrackFileError

    return (OutputError, ConfigError, ModelError, SourceError, TrackFileError)


def fail(message: str, status: int = EXIT_USER_ERROR) -> None:
    click.echo(f"glutecam: error: {message}", err=True)
    sys.exit(status)


class _Progress:
    """A rich progress bar on a terminal; silent when stderr is not a terminal (pipes, CI, tests)."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.enabled = self.console.is_terminal
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeRemainingColumn(), console=self.console, disable=not self.enabled,
                             transient=False)
        self._tasks: dict[str, int] = {}
        self.label = label

    def __enter__(self) -> "_Progress":
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def __call__(self, done: int, total: int | None, stage: str) -> None:
        if not self.enabled:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(f"{self.label} {stage:>5}", total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glutecam")
def cli() -> None:
    """glutecam: rep-by-rep feedback on hip stability from a webcam or a video."""


@cli.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: ./glutecam-out/<video name>).")
@click.option("--exercise", type=click.Choice(EXERCISES), default=None,
              help="Exercise to judge; without it only the pose track and pelvis line are produced.")
@click.option("--side", type=click.Choice(["left", "right"]), default=None,
              help="Working side (stance leg / front leg / top leg); detected automatically if omitted.")
@click.option("--model", default=None, help="Model name (lite, full, heavy) or path to a .task file.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML file overriding the default thresholds.")
@click.option("--no-video", is_flag=True, help="Skip the annotated clip (faster).")
@click.option("--stride", type=click.IntRange(1, 8), default=1,
              help="Analyse every n-th frame (2 halves the work on 60 fps clips).")
@click.option("--max-people", type=click.IntRange(1, 5), default=1,
              help="People the model tracks each frame. 1 (default): one person, tracked steadily; bystanders "
                   "are counted once a second. 2+: everyone, each frame; the largest, most central at the start is "
                   "followed.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1,
              help="With a FOLDER: clips analysed at once, each in its own process (on 2 cores, 2 is faster "
                   "only with --no-video).")
@click.option("--db", type=click.Path(path_type=Path), default=None,
              help="History database to record the session in (default: the user data folder).")
def analyse(video: Path, out_dir: Path | None, exercise: str | None, side: str | None, model: str | None,
            config_path: Path | None, no_video: bool, stride: int, max_people: int, jobs: int,
            db: Path | None) -> None:
    """Analyse a recorded VIDEO (or every clip in a FOLDER): writes track.npz, frames.csv, summary.json,
    annotated.mp4, report.html (and reps.json); a folder also gets index.html."""
    from glutecam.analyse import AnalyseOptions, analyse_video

    if video.is_dir():
        from glutecam.batch import batch_command

        sys.exit(batch_command(video, out_dir, dict(exercise=exercise, side=side, model=model,
                                                    config_path=config_path, video=not no_video, stride=stride,
                                                    max_people=max_people), jobs, db))
    out_dir = out_dir or Path("glutecam-out") / video.stem
    opts = AnalyseOptions(exercise=exercise, side=side, model=model, config_path=config_path,
                          video=not no_video, stride=stride, max_people=max_people)
    try:
        with _Progress(video.name) as progress:
            result = analyse_video(video, out_dir, opts, progress=progress)
    except _user_errors() as exc:
        fail(str(exc))
        return
    _print_result(result)
    _record_history(result, db)
    if result.interrupted:
        click.echo(f"Interrupted: results for the {len(result.track)} frames analysed so far are in {result.out_dir}",
                   err=True)
        sys.exit(EXIT_INTERRUPTED)
    if result.stopped_early:
        sys.exit(EXIT_PROBLEMS)


def _record_history(result, db: Path | None) -> None:
    """Record an analysed set in the history database; a history problem is a warning, not a failure."""
    if result.analysis is None:
        return
    from glutecam.history import HistoryError, record_run

    try:
        record_run(result.out_dir, db=db)
    except HistoryError as exc:
        click.echo(f"warning: the session was not recorded in the history: {exc}", err=True)


def _print_result(result) -> None:
    s = result.summary
    click.echo(f"{s['source']['path']}: {s['frames_analysed']} frames, person found in {s['frames_with_person']}")
    if result.analysis is not None:
        st = result.analysis.set
        click.echo(f"{st.exercise}: {len(st.reps)} reps, working side {st.side or 'unknown'} "
                   f"({st.side_source}), view {st.view}")
        for rep in st.reps:
            faults = ", ".join(f"{f.code} {f.value:.1f} > {f.threshold:.1f}" for f in rep.faults) or "ok"
            click.echo(f"  rep {rep.index}: {rep.start_s:5.2f}-{rep.end_s:5.2f} s  {rep.verdict:<10} {faults}")
        from glutecam.accuracy import accuracy_line

        click.echo(accuracy_line(st.exercise, st.view) + " (report.html says more)")
    for w in s["warnings"]:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"outputs in {result.out_dir}: " + ", ".join(p.name for p in result.outputs.values()))


@cli.group()
def models() -> None:
    """List or download the pose models."""


@models.command("list")
def models_list() -> None:
    """Show where models are searched for and which were found."""
    from glutecam.models import MODEL_NAMES, file_name, list_models, search_dirs

    for origin, folder in search_dirs():
        click.echo(f"{origin}: {folder}")
    found = list_models()
    if not found:
        click.echo("no models found; run `glutecam models download full` on a machine with internet")
        return
    for m in found:
        click.echo(f"  {m.name:<6} {m.size_bytes / 1e6:6.1f} MB  {m.path}  ({m.origin})")
    missing = [n for n in MODEL_NAMES if n not in {m.name for m in found}]
    if missing:
        click.echo("not present: " + ", ".join(file_name(n) for n in missing))


@models.command("download")
@click.argument("names", nargs=-1)
@click.option("--dest", type=click.Path(path_type=Path), default=None, help="Folder (default: the user cache).")
def models_download(names: tuple[str, ...], dest: Path | None) -> None:
    """Download official model bundles (lite, full, heavy; default full) with a progress bar."""
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    from glutecam.models import ModelError, download_model

    for name in names or ("full",):
        with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn()) as bar:
            task = bar.add_task(f"pose_landmarker_{name}", total=None)
            try:
                path = download_model(name, dest, progress=lambda d, t: bar.update(task, completed=d, total=t))
            except ModelError as exc:
                fail(str(exc))
        click.echo(f"saved {path}")


# Coach-review commands (issue 5), defined in their own modules.
from glutecam.compare import compare_cli  # noqa: E402
from glutecam.history import history_cli  # noqa: E402
from glutecam.report.report import report_cli  # noqa: E402

cli.add_command(history_cli)
cli.add_command(compare_cli)
cli.add_command(report_cli)

# Live coaching (issue 4), defined in glutecam.live.
from glutecam.live.command import live_cli  # noqa: E402

cli.add_command(live_cli)


def main() -> None:
    from glutecam.interrupts import install_sigterm_handler
    from glutecam.privacy import block_model_telemetry

    install_sigterm_handler()  # SIGTERM (kill, schedulers) stops like Ctrl+C: results so far are kept
    if sys.argv[1:3] != ["models", "download"]:  # the one command that needs the network
        block_model_telemetry()  # MediaPipe would post usage metrics to Google (see glutecam.privacy)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("glutecam: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.echo("glutecam: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit:
        raise
    except BrokenPipeError:
        sys.exit(EXIT_PROBLEMS)
    except Exception as exc:  # a bug, not a user error: one line, the traceback only on request
        if os.environ.get("GLUTECAM_DEBUG"):
            raise
        click.echo(f"glutecam: internal error: {type(exc).__name__}: {exc} "
                   "(set GLUTECAM_DEBUG=1 to see the traceback, and please report it)", err=True)
        sys.exit(EXIT_PROBLEMS)
