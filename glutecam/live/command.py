"""`glutecam live`: coach a set from the webcam (or a replayed clip) in a window, writing everything as it goes."""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from glutecam.results import EXERCISES

if TYPE_CHECKING:
    from glutecam.pose import PoseEstimator


@click.command("live")
@click.option("--exercise", type=click.Choice(EXERCISES), required=True, help="The exercise you are doing.")
@click.option("--camera", type=click.IntRange(0, 63), default=0, show_default=True,
              help="Camera number (0 is usually the built-in one).")
@click.option("--side", type=click.Choice(["left", "right"]), default=None,
              help="Working side (front leg / stance leg / top leg); detected from your first rep if omitted.")
@click.option("--replay", type=click.Path(path_type=Path), default=None,
              help="Play a video file at real-time pace instead of using the camera (to try it out, or test).")
@click.option("--speed", type=click.FloatRange(0.1, 10.0), default=1.0, show_default=True,
              help="Replay speed (with --replay).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: ./glutecam-live/<exercise>-<date-time>).")
@click.option("--model", default=None, help="Model name (lite, full, heavy) or path to a .task file.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML file overriding the default thresholds.")
@click.option("--max-people", type=click.IntRange(1, 5), default=1, show_default=True,
              help="People the model looks for; 1 is fastest.")
@click.option("--sound/--no-sound", default=False, show_default=True,
              help="A tone per rep and spoken cues (espeak-ng) while you exercise.")
@click.option("--no-window", is_flag=True, help="No window (e.g. over ssh): coach by sound and write the files.")
@click.option("--debug", is_flag=True, help="Show latency and frame-rate figures on the picture (key d).")
@click.option("--no-setup", is_flag=True, help="Skip the set-up checks and calibrate at once.")
@click.option("--db", type=click.Path(path_type=Path), default=None,
              help="History database (default: $GLUTECAM_DB or the per-user one).")
def live_cli(exercise: str, camera: int, side: str | None, replay: Path | None, speed: float, out_dir: Path | None,
             model: str | None, config_path: Path | None, max_people: int, sound: bool, no_window: bool,
             debug: bool, no_setup: bool, db: Path | None) -> None:
    """Coach a set live: camera picture, skeleton, pelvis level, rep count and one cue at a time.

    Keys in the window: p pause, r recalibrate (capture the neutral position again), d debug figures,
    q or Esc quit. Closing the window or Ctrl+C ends the set too; everything so far is kept in --out.
    """
    sys.exit(run_live_command(exercise=exercise, camera=camera, side=side, replay=replay, speed=speed,
                              out_dir=out_dir, model=model, config_path=config_path, max_people=max_people,
                              sound=sound, no_window=no_window, debug=debug, no_setup=no_setup, db=db))


def run_live_command(exercise: str, camera: int = 0, side: str | None = None, replay: Path | None = None,
                     speed: float = 1.0, out_dir: Path | None = None, model: str | None = None,
                     config_path: Path | None = None, max_people: int = 1, sound: bool = False,
                     no_window: bool = False, debug: bool = False, no_setup: bool = False,
                     db: Path | None = None) -> int:
    """The `glutecam live` command; returns the exit status (see README, "Exit status")."""
    from glutecam.analyse import OutputError, prepare_out_dir
    from glutecam.analysers import get_analyser
    from glutecam.cli import EXIT_INTERRUPTED, EXIT_PROBLEMS, EXIT_USER_ERROR, _user_errors
    from glutecam.config import load_config
    from glutecam.interrupts import stop_on_signals
    from glutecam.live.display import CvDisplay, DisplayError, MemoryDisplay
    from glutecam.live.session import LiveOptions, LiveSession, NewestFrames
    from glutecam.live.sound import make_sound
    from glutecam.models import resolve_model
    from glutecam.sources import ReplaySource, WebcamSource

    def error(message: str) -> int:
        click.echo(f"glutecam: error: {message}", err=True)
        return EXIT_USER_ERROR

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = out_dir or Path("glutecam-live") / f"{exercise}-{stamp}"
    display = source = None
    try:
        analyser = get_analyser(exercise, config=load_config(config_path))
        found_model = resolve_model(model)
        out_dir = prepare_out_dir(out_dir)
        display = MemoryDisplay(keep=0) if no_window else CvDisplay(f"glutecam: {exercise}")
        if replay is not None:
            source = ReplaySource(replay, speed=speed)
            label = f"replay:{replay}"
        else:
            with quiet_opencv():  # probing absent cameras makes OpenCV print pages of warnings
                source = NewestFrames(WebcamSource(camera))
            label = f"camera:{camera}"
        estimator = load_pose_model(found_model.path, max_people=max_people, census_in_background=True)
    except (DisplayError, OutputError, *_user_errors()) as exc:
        for part in (source, display):
            if part is not None:
                part.close()
        return error(str(exc))
    info = source.info if replay is not None else source.source.info
    player, note = make_sound(sound)
    if note:
        click.echo(note, err=True)
    options = LiveOptions(exercise=exercise, side=side, setup=not no_setup, debug=debug, source_label=label,
                          model_name=found_model.name)
    with stop_on_signals() as stop, contextlib.closing(estimator):
        session = LiveSession(source, estimator, analyser, display, out_dir, options, (info.width, info.height),
                              info.fps, sound=player, stop=lambda: bool(stop))
        click.echo(f"glutecam live: {exercise} from {label}; writing to {out_dir}"
                   + ("" if no_window else " (keys: p pause, r recalibrate, d debug, q quit)"), err=True)
        result = session.run()
    print_summary(result)
    record_history(result, session, db)
    if result.interrupted:
        click.echo(f"Interrupted: everything up to then is in {result.out_dir}", err=True)
        return EXIT_INTERRUPTED
    if result.stop_reason.startswith("the source stopped"):
        return EXIT_PROBLEMS
    return 0


def load_pose_model(path: Path, **options: Any) -> PoseEstimator:
    """A `PoseEstimator` with its model loaded (entered: close it). A bundle that passed the file check but
    that MediaPipe cannot load raises `ModelError`, one line for the user like the other model errors."""
    from glutecam.models import ModelError
    from glutecam.pose import PoseEstimator

    estimator = PoseEstimator(path, **options)
    try:
        return estimator.__enter__()
    except (RuntimeError, ValueError) as exc:  # what MediaPipe raises on a model it cannot use
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ModelError(f"{path}: MediaPipe could not load this model ({reason})") from None


@contextlib.contextmanager
def quiet_opencv():
    """Silence OpenCV's own log lines for the duration (restored afterwards)."""
    import cv2

    try:
        old = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:  # pragma: no cover - builds without the logging module
        yield
        return
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(old)


def print_summary(result) -> None:
    s = result.summary
    st = result.set
    if st is not None:
        verdict = st.summary.get("verdict", "")
        click.echo(f"{st.exercise}: {len(st.reps)} reps, working side {st.side or 'unknown'} ({st.side_source}), "
                   f"view {st.view}; set verdict {verdict}")
        for rep in st.reps:
            faults = ", ".join(f"{f.code} {f.value:.1f} > {f.threshold:.1f}" for f in rep.faults) or "ok"
            click.echo(f"  rep {rep.index}: {rep.start_s:5.2f}-{rep.end_s:5.2f} s  {rep.verdict:<10} {faults}")
    lat = s["latency_ms"]
    if lat["median"] is not None:
        dropped = s["frames_dropped"]
        click.echo(f"{s['frames_analysed']} frames analysed"
                   + (f", {dropped} older frames skipped" if dropped else "")
                   + f"; capture-to-display latency {lat['median']:.0f} ms median, {lat['p95']:.0f} ms p95")
    for w in s["warnings"]:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"ended: {result.stop_reason}; outputs in {result.out_dir}: "
               + ", ".join(p.name for p in result.outputs.values()))


def record_history(result, session, db: Path | None) -> None:
    """Add the set to the history database (issue 5), when there is one and the set has reps."""
    from glutecam.history import record_session

    if result.set is None or not result.reps:
        return
    try:
        record_session(result.set, mode="live", performed_at=session.started_wall,
                       source=session.options.source_label, run_dir=result.out_dir, db=db)
    except Exception as exc:  # a history problem must not cost the user the set's summary
        click.echo(f"warning: the set was not recorded in the history: {exc}", err=True)
