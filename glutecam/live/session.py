"""The live loop: newest frame -> pose -> set-up checks or analysis -> feedback -> picture, written as it goes.

Stages: **setup** (the set-up checks guide the person until every check has held for `setup_hold_s`),
**calibrating** (a fresh `LiveAnalyser` captures the neutral baseline while the person holds still), then
**counting** (reps, faults, cues). Keys: p pause/resume, r recalibrate (capture the baseline again), d the
debug overlay, q or Esc quit. Closing the window, Ctrl+C or a source that stops (camera unplugged, end of
the replayed clip) end the session the same way: everything so far is written and the summary returned.

The loop always works on the newest frame: the sources hand over only the latest capture (`ReplaySource`
does so itself; a webcam is wrapped in `NewestFrames`), so a slow frame means skipped frames, never a queue.
The pose model runs on its own thread one frame ahead (`_posed_frames`), so a frame waits for the model only,
not for the drawing of the one before; the window is drawn and shown on this thread.
Every frame's capture-to-display latency is measured and written.
"""

from __future__ import annotations

import dataclasses
import math
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from glutecam import __version__
from glutecam.feedback import Feedback, FeedbackEngine, thresholds_from_config
from glutecam.landmarks import Landmark
from glutecam.live.display import Display
from glutecam.live.hud import Hud, LiveAnnotator
from glutecam.live.setup import SUITED_VIEWS, VIEW_LIMITS, SetupGuide
from glutecam.live.sound import NoSound, Sound
from glutecam.live.writer import SessionWriter
from glutecam.pose import quiet_stderr, tracker_restarts_report
from glutecam.prefetch import prefetch
from glutecam.sources import Frame
from glutecam.track import FramePose

KEYS = {"p": "pause", "P": "pause", " ": "pause", "r": "recalibrate", "R": "recalibrate", "d": "debug",
        "D": "debug", "q": "quit", "Q": "quit", "\x1b": "quit"}


class PoseModel(Protocol):
    """What the loop needs of the pose stage (`glutecam.pose.PoseEstimator`)."""

    def process(self, frame: Frame) -> FramePose: ...


@dataclass
class LiveOptions:
    """How a live session runs. Times are seconds of the source's clock unless said otherwise."""

    exercise: str
    side: str | None = None  # working side; detected by the analyser when None
    setup: bool = True  # guide the person into place before counting (False: calibrate at once)
    setup_hold_s: float = 1.0  # every set-up check must pass this long without a break
    rate_frames: int = 6  # frames timed before the analyser starts, to learn the rate the loop achieves
    warm_up: bool = True  # run the pose model once on a blank picture before the first frame
    pipelined: bool = True  # the pose model works on the next frame while this one is analysed and drawn
    start_banner_s: float = 1.5  # "Start your set" shown this long once counting starts
    debug: bool = False  # latency / frame-rate overlay (toggle with d)
    track_every_s: float = 10.0  # wall-clock period of the background track.npz save
    max_time_s: float | None = None  # stop after this much source time (benchmarks)
    source_label: str = ""
    model_name: str = ""


@dataclass
class LiveResult:
    """How the session went; everything here is also in the output folder."""

    out_dir: Path
    reps: list[Any]  # RepResult, the reps counted (finished after the set-up and first calibration)
    set: Any | None  # SetResult
    summary: dict[str, Any]
    outputs: dict[str, Path]
    stop_reason: str
    interrupted: bool = False
    cues: list[tuple[float, str]] = field(default_factory=list)  # (time_s, text) of every cue shown
    latencies_ms: list[float] = field(default_factory=list)


class NewestFrames:
    """A camera-like wrapper: a thread reads `source` as fast as it delivers; iteration yields the newest
    frame not seen yet and `dropped` counts the ones replaced before anyone took them."""

    def __init__(self, source: Iterable[Frame]) -> None:
        self.source = source
        self.dropped = 0
        self.error: str | None = None
        self._slot: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._end = object()

    def close(self) -> None:
        """Close the wrapped source, for a session that never started (iterating closes it at the end)."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    def _put_newest(self, item: object) -> None:
        """Replace the frame waiting in the slot, if any (this thread is the only producer: never blocks)."""
        try:
            self._slot.get_nowait()
            self.dropped += 1
        except queue.Empty:
            pass
        self._slot.put(item)

    def _run(self) -> None:
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                self._put_newest(frame)
        except Exception as exc:  # handed to the consumer as the source's error
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.error = self.error or getattr(self.source, "error", None)
            try:  # give the consumer a moment to take the last frame before the end replaces it
                self._slot.put(self._end, timeout=0.1)
            except queue.Full:
                if not self._stop.is_set():
                    self._put_newest(self._end)

    def __iter__(self) -> Iterator[Frame]:
        thread = threading.Thread(target=self._run, name="glutecam-newest-frame", daemon=True)
        thread.start()
        try:
            while True:
                item = self._slot.get()
                if item is self._end:
                    return
                yield item
        finally:
            self._stop.set()
            close = getattr(self.source, "close", None)
            thread.join(timeout=1)
            if close is not None and not thread.is_alive():
                close()


def freshest(frames: Iterable[Frame], max_age_s: float, clock: Callable[[], float] = time.monotonic,
             may_pass_over: Callable[[Frame], bool] = lambda frame: True,
             on_skip: Callable[[], None] = lambda: None) -> Iterator[Frame]:
    """`frames` as a pose model slower than the camera should take them: a frame already more than
    `max_age_s` old when it is taken (on `clock`, against its `captured_at`) is passed over for the next
    one, which is then due soon, unless `may_pass_over(frame)` says no; `on_skip` counts them. With the model slower
    than the camera, the newest frame is on average half a frame interval old when the model is free; with
    `max_age_s` half an interval, that age drops to an eighth of an interval for an eighth of an interval of
    waiting. A faster model always finds its frame just captured, and nothing is passed over."""
    it = iter(frames)
    for frame in it:
        if clock() - frame.captured_at > max_age_s and may_pass_over(frame):
            following = next(it, None)
            if following is not None:  # else the source has ended: the last frame is still worth a pose
                on_skip()
                frame = following
        yield frame


def raw_obliquity_deg(pose: FramePose) -> float:
    """The hip line's angle in the image, + = the person's left hip higher (docs/outputs.md)."""
    l, r = pose.image_px[Landmark.LEFT_HIP], pose.image_px[Landmark.RIGHT_HIP]
    return math.degrees(math.atan2(r[1] - l[1], abs(l[0] - r[0])))


def _percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


class LiveSession:
    """One live set: construct, then `run()`. The parts are passed in, so tests can swap any of them:
    the frame source, the pose model, the analyser (`glutecam.analysers.Analyser`), the display and sound."""

    def __init__(self, source: Iterable[Frame], pose_model: PoseModel, analyser: Any, display: Display,
                 out_dir: str | Path, options: LiveOptions, frame_size_wh: tuple[int, int], fps: float,
                 sound: Sound | None = None, stop: Callable[[], bool] | None = None) -> None:
        self.source = source
        self.pose_model = pose_model
        self.analyser = analyser
        self.display = display
        self.options = options
        self.frame_size_wh = frame_size_wh
        self.source_fps = fps if fps and fps > 0 else 30.0
        self.sound = sound or NoSound()
        self.stop = stop or (lambda: False)
        self.annotator = LiveAnnotator()
        self.thresholds = thresholds_from_config(analyser.config, options.exercise)
        self.feedback = FeedbackEngine(options.exercise, side=options.side, thresholds=self.thresholds,
                                       fault_rules=getattr(analyser, "rules", None))
        suited = SUITED_VIEWS.get(options.exercise, frozenset())
        theirs = frozenset(getattr(analyser, "suited_views", ()) or ())
        suited = (suited & theirs) or suited or theirs
        self.guide = SetupGuide(options.exercise, frame_size_wh, side=options.side, hold_s=options.setup_hold_s,
                                suited_views=suited)
        from glutecam.analysers.columns import EXTRA_COLUMNS, METRIC_COLUMNS

        self.writer = SessionWriter(out_dir, (*METRIC_COLUMNS, *EXTRA_COLUMNS), frame_size_wh, self.source_fps,
                                    source=options.source_label, model=options.model_name,
                                    track_every_s=options.track_every_s)
        self.out_dir = self.writer.out_dir
        # state
        self.stage = "setup"
        self.paused = False
        self.debug = options.debug
        self.live: Any = None
        self.state: Any = None
        self.reps: list[Any] = []
        self.cues: list[tuple[float, str]] = []
        self.views: Counter[str] = Counter()
        self.latencies_ms: list[float] = []
        self._recent_latency: deque[float] = deque(maxlen=30)
        self._stage_ms: dict[str, list[float]] = {"pose": [], "analyse": [], "feedback": [], "draw": []}
        self._loop_times: deque[float] = deque(maxlen=30)
        self._pending: list[FramePose] = []  # poses seen before the analyser started
        self._baseline_since: float | None = None  # when the current baseline became ready
        self._reset_at: float | None = None  # reset the baseline at the first analysed frame from this time
        self._setup_ok = False
        self._last_cue: tuple[str, float] | None = None
        self._setup_said: Counter[str] = Counter()  # set-up instructions given, and on how many frames
        self._resume_gap = False
        self._counting_since: float | None = None
        self._setup_bad_since: float | None = None
        self._last_said = ("", -math.inf)
        self.frames_seen = 0
        self.frames_passed_over = 0  # by the pose model for a fresher one (`freshest`)
        self._inferred = 0  # frames the pose model has seen
        self.events: dict[str, float | None] = {"setup_done_s": None, "counting_s": None}
        self.effective_fps = self.source_fps
        self.started_wall = datetime.now(timezone.utc).astimezone()
        self._t0 = time.monotonic()

    # -- stages -------------------------------------------------------------------------------------
    def _start_analysis(self) -> None:
        """Once `rate_frames` frames are in: a `LiveAnalyser` at the frame rate the loop really achieves
        (its windows count frames), fed the frames seen so far, so it sees the session from its start."""
        times = np.array([p.time_s for p in self._pending])
        steps = np.diff(times)[1:]  # the first step includes the model's warm-up
        steps = steps[steps > 0]
        if len(steps):
            self.effective_fps = float(min(self.source_fps, 1.0 / np.median(steps)))
        self.live = self.analyser.live(fps=self.effective_fps, side=self.options.side)
        self.writer.fps = self.effective_fps
        self.writer.event("analysis_started", float(times[-1]) if len(times) else 0.0, fps=self.effective_fps)
        pending, self._pending = self._pending, []
        for pose in pending:
            self._analyse(pose)

    def _analyse(self, pose: FramePose) -> Any:
        if self._reset_at is not None and pose.time_s >= self._reset_at:
            self._reset_baseline()  # the baseline comes only from frames where the set-up is right
        state = self.live.update(pose)
        self.writer.add_pose(pose)
        self.state = state
        if state.baseline_ready:
            if self._baseline_since is None:
                self._baseline_since = state.time_s
        else:
            self._baseline_since = None
        if state.completed_rep is not None:
            self._on_rep(state.completed_rep, state.time_s)
        return state

    def _setup_done(self, t: float) -> None:
        """Every check held for `setup_hold_s`; the baseline has been collecting since they began to pass."""
        self.events["setup_done_s"] = t
        self.stage = "calibrating"
        note = VIEW_LIMITS.get(self.options.exercise, "")
        self.writer.event("setup_done", t, baseline_ready=self._baseline_since is not None, view_limit=note)
        if note:  # what this camera cannot show: said once, shown until the set starts
            self.sound.say(note)

    def _reset_baseline(self) -> None:
        self.live.reset_baseline()
        self._reset_at, self._baseline_since = None, None

    def recalibrate(self, t: float) -> None:
        """Capture the neutral baseline again (key r); during set-up, restart the set-up hold."""
        if self.stage == "setup" or self.live is None:
            self.guide.reset()
            return
        self._reset_baseline()
        self.feedback.reset()
        self.stage = "calibrating"
        self.writer.event("recalibrate", t)

    def toggle_pause(self, t: float) -> None:
        self.paused = not self.paused
        if not self.paused:
            self._resume_gap = True
            self.feedback.reset()
        self.writer.event("pause" if self.paused else "resume", t)

    # -- one frame ----------------------------------------------------------------------------------
    def _infer(self, frame: Frame) -> FramePose:
        self._inferred += 1
        if self._inferred <= 3:  # MediaPipe logs set-up notes on its first tracking steps
            with quiet_stderr():
                return self.pose_model.process(frame)
        return self.pose_model.process(frame)

    def _posed_frames(self) -> Iterator[tuple[Frame, tuple[FramePose, float] | None]]:
        """(frame, (pose, ms of inference)) from the source, the pose model running on a worker thread one
        frame ahead: while a frame is analysed, drawn and shown here (the display stays on this thread), the
        model already works on the newest next one. The loop then takes frames at the model's pace instead
        of the model's plus the drawing's, so when those together are about the camera's frame interval, a
        frame no longer waits for most of an interval before it is taken. Stale frames are still dropped by
        the source, never queued; at most one posed frame waits here; a model slower than the camera waits
        for the next frame rather than take one over half an interval old (`freshest`). While paused,
        frames pass unposed."""
        def posed(frame: Frame) -> tuple[Frame, tuple[FramePose, float] | None]:
            if self.paused:  # shown paused, without a skeleton: the model rests
                return frame, None
            c0 = time.perf_counter()
            pose = self._infer(frame)
            return frame, (pose, (time.perf_counter() - c0) * 1e3)

        def passed_over() -> None:
            self.frames_passed_over += 1

        frames = freshest(self.source, 0.5 / self.source_fps, may_pass_over=lambda frame: not self.paused,
                          on_skip=passed_over)
        return prefetch(map(posed, frames), maxsize=1)

    @property
    def frames_dropped(self) -> int | None:
        """Frames never analysed: replaced in the source before anyone took them (if it counts them), or
        passed over by the pose model for a fresher one; None when neither is known to have happened."""
        dropped = getattr(self.source, "dropped", None)
        if dropped is None and not self.frames_passed_over:
            return None
        return (dropped or 0) + self.frames_passed_over

    def step(self, frame: Frame, posed: tuple[FramePose, float] | None = None) -> None:
        """Analyse, draw and show one frame. `posed`: its pose and the inference's ms, when already run."""
        self.frames_seen += 1
        t = float(frame.time_s)
        if self.paused:
            hud = Hud(time_s=t, stage=self.stage, paused=True, rep_count=self._rep_count())
            image = self.annotator.annotate(frame.image, None, hud, self.debug)
            self.display.show(image)
            return
        c0 = time.perf_counter()
        pose, pose_ms = posed if posed is not None else (self._infer(frame), None)
        c1 = time.perf_counter()
        state = None
        if self._resume_gap:  # a pause breaks the signals here, live and offline alike
            gap = FramePose.missing(max(0, frame.index - 1), t - 1e-3)
            self._pending.append(gap) if self.live is None else self._analyse(gap)
            self._resume_gap = False
        if self.live is None:
            self._pending.append(pose)
            if len(self._pending) >= self.options.rate_frames:
                self._start_analysis()
                state = self.state
        else:
            state = self._analyse(pose)
        instruction, progress = "", 0.0
        check = self.guide.update(pose)
        if self.stage == "setup" and check.ok and not self._setup_ok:
            self._reset_at = t  # the checks begin to pass: capture the baseline from here
            if self.live is not None:
                self._reset_baseline()
        self._setup_ok = check.ok
        if self.stage == "setup":
            if check.instruction:
                self._setup_said[check.instruction] += 1
            instruction = check.instruction or "Hold still: getting ready"
            progress = min(1.0, self.guide.held_s / max(self.options.setup_hold_s, 1e-6)) if check.ok else 0.0
            if self.guide.ready and self.live is not None:
                self._setup_done(t)
        c2 = time.perf_counter()
        counting = self._advance(state, t)
        fb: Feedback | None = self.feedback.update(state, coaching=counting) if state is not None else None
        c3 = time.perf_counter()
        cue = fb.cue if fb is not None else None
        if cue is not None and (cue.code, cue.since_s) != self._last_cue:
            # a new cue (a cue growing from minor to major is the same cue: logged and said once)
            self._last_cue = (cue.code, cue.since_s)
            self.cues.append((t, cue.text))
            self.writer.event("cue", t, code=cue.code, text=cue.text, severity=cue.severity)
            if cue.severity != "praise":
                self.sound.say(cue.text)
        if self.stage == "calibrating":
            instruction = "Hold still in your start position"
        elif counting and self._counting_since is not None and t - self._counting_since < self.options.start_banner_s:
            instruction = "Start your set"
        if instruction and self.stage != "counting":
            self._say_instruction(instruction, t)
        warning = self._setup_warning(check, t) if counting else ""
        hud = self._hud(t, pose, state, fb, instruction, progress, warning)
        image = self.annotator.annotate(frame.image, pose, hud, self.debug)
        c4 = time.perf_counter()
        self.display.show(image)
        latency_ms = (time.monotonic() - frame.captured_at) * 1e3
        self.latencies_ms.append(latency_ms)
        self._recent_latency.append(latency_ms)
        self._loop_times.append(time.monotonic())
        ms = {"pose": (c1 - c0) * 1e3 if pose_ms is None else pose_ms, "analyse": (c2 - c1) * 1e3,
              "feedback": (c3 - c2) * 1e3, "draw": (c4 - c3) * 1e3}
        for k, v in ms.items():
            self._stage_ms[k].append(v)
        if state is not None and state.view != "none":
            self.views[state.view] += 1
        self._write_row(frame, pose, state, fb, latency_ms, ms)

    def _advance(self, state: Any, t: float) -> bool:
        """Calibrating -> counting once the baseline is captured. Returns whether cues are given now."""
        if state is None:
            return False
        if self.stage == "calibrating" and self._baseline_since is not None:  # a baseline since the last reset
            self.stage = "counting"
            self._counting_since = t
            if self.events["counting_s"] is None:
                self.events["counting_s"] = t
            self.writer.event("counting", t, baseline_ready=True)
        return self.stage == "counting"

    def _on_rep(self, rep: Any, t: float) -> None:
        """A rep the analyser finished: counted (and numbered in the set) once counting has begun."""
        counted = self.events["counting_s"] is not None
        if counted:
            rep = dataclasses.replace(rep, index=len(self.reps) + 1)
            self.reps.append(rep)
            self.sound.rep_done(None if rep.verdict == "unmeasured" else rep.verdict == "good")
        self.writer.rep(rep, {"counted": counted, "detected_at_s": t, "stage": self.stage,
                              "wall": round(time.monotonic() - self._t0, 3)})

    def _say_instruction(self, text: str, t: float) -> None:
        last, when = self._last_said
        if text != last and t - when >= 2.5:
            self.sound.say(text)
            self._last_said = (text, t)

    def _setup_warning(self, check: Any, t: float) -> str:
        """A set-up problem that lasts a second during the set (walked out of the picture, turned)."""
        if check is None or check.ok:
            self._setup_bad_since = None
            return ""
        if self._setup_bad_since is None:
            self._setup_bad_since = t
        return check.instruction if t - self._setup_bad_since >= 1.0 else ""

    def _rep_count(self) -> int:
        return len(self.reps)

    def _hud(self, t, pose, state, fb, instruction, progress, warning) -> Hud:
        metrics = state.metrics if state is not None else {}
        obliquity = metrics.get("pelvis_obliquity_deg", math.nan)
        if not math.isfinite(obliquity) and pose.detected:
            obliquity = raw_obliquity_deg(pose)
        limit_code = "hip_hike" if self.options.exercise == "side-lying-abduction" else "pelvic_drop"
        limit = (self.thresholds.get(limit_code) or (5.0, 10.0))[0]
        last, good = "", None
        if self.reps:
            rep = self.reps[-1]
            if rep.verdict == "good":
                last, good = f"Rep {rep.index}: good", True
            elif rep.verdict == "unmeasured":
                last = f"Rep {rep.index}: not measured"
            else:
                f = rep.faults[0]
                unit = "s" if f.code == "rushed" else "deg"
                last, good = f"Rep {rep.index}: {f.code.replace('_', ' ')} {f.value:.0f} {unit}", False
        debug = []
        if self.debug:
            lat = sorted(self._recent_latency)
            med = lat[len(lat) // 2] if lat else math.nan
            fps = ((len(self._loop_times) - 1) / (self._loop_times[-1] - self._loop_times[0])
                   if len(self._loop_times) > 1 and self._loop_times[-1] > self._loop_times[0] else math.nan)
            dropped = self.frames_dropped or 0
            last_ms = {k: (v[-1] if v else math.nan) for k, v in self._stage_ms.items()}
            debug = [f"capture->display {med:.0f} ms  {fps:.1f} fps  dropped {dropped}",
                     f"pose {last_ms['pose']:.0f}  analyse {last_ms['analyse']:.1f}  "
                     f"feedback {last_ms['feedback']:.2f}  draw {last_ms['draw']:.1f} ms",
                     f"view {getattr(state, 'view', '-')}  side {getattr(state, 'side', None) or '?'}"]
        # what the view cannot show, while the person sets up and as the set starts
        note = (VIEW_LIMITS.get(self.options.exercise, "")
                if self.stage == "calibrating" or (instruction and self.stage == "counting") else "")
        return Hud(time_s=t, stage=self.stage, instruction=instruction, progress=progress,
                   cue=fb.cue if fb is not None else None, rep_count=self._rep_count(), last_rep=last,
                   last_rep_good=good, pelvis_obliquity_deg=obliquity,
                   level_deg=metrics.get("pelvic_drop_deg", math.nan), level_limit_deg=limit,
                   movement_phase=getattr(state, "phase", "") if state is not None else "", warning=warning,
                   note=note, debug=debug)

    def _write_row(self, frame: Frame, pose: FramePose, state: Any, fb: Feedback | None, latency_ms: float,
                   ms: dict[str, float]) -> None:
        values: dict[str, Any] = {"frame": frame.index, "time_s": frame.time_s, "detected": pose.detected,
                                  "n_people": pose.n_people, "stage": self.stage}
        if state is not None:
            values.update(state.metrics)
            values.update(view=state.view, rep=state.rep_count, phase=state.phase)
        elif pose.detected:
            values["pelvis_obliquity_deg"] = raw_obliquity_deg(pose)
        values.update(cue=fb.cue.text if fb is not None and fb.cue is not None else "", latency_ms=latency_ms,
                      pose_ms=ms["pose"], analyse_ms=ms["analyse"], feedback_ms=ms["feedback"], draw_ms=ms["draw"])
        self.writer.frame(pose, values)

    # -- the whole session ----------------------------------------------------------------------------
    def handle_key(self, key: str | None, t: float) -> bool:
        """Apply one key press; returns False when the session should end."""
        action = KEYS.get(key or "")
        if action == "quit":
            return False
        if action == "pause":
            self.toggle_pause(t)
        elif action == "recalibrate":
            self.recalibrate(t)
        elif action == "debug":
            self.debug = not self.debug
        return True

    def run(self) -> LiveResult:
        opts = self.options
        self.writer.start({"glutecam_version": __version__, "mode": "live", "exercise": opts.exercise,
                           "side": opts.side, "source": opts.source_label, "model": opts.model_name,
                           "started_at": self.started_wall.isoformat(timespec="seconds"),
                           "frame_size_wh": list(self.frame_size_wh), "source_fps": self.source_fps})
        if not opts.setup:
            self.stage = "calibrating"
        if opts.warm_up:  # the model's first inference is slow: do it before the source's clock starts
            w, h = self.frame_size_wh
            with quiet_stderr():
                self.pose_model.process(Frame(np.zeros((h, w, 3), np.uint8), 0, 0.0, time.monotonic()))
        stop_reason, interrupted = "", False
        t = 0.0
        frames = self._posed_frames() if opts.pipelined else ((f, None) for f in self.source)
        try:
            for frame, posed in frames:
                t = float(frame.time_s)
                self.step(frame, posed)
                if not self.handle_key(self.display.poll_key(), t):
                    stop_reason = "quit key"
                    break
                if self.display.closed:
                    stop_reason = "window closed"
                    break
                if self.stop():
                    stop_reason = "interrupted"
                    interrupted = True
                    break
                if opts.max_time_s is not None and t >= opts.max_time_s:
                    stop_reason = "time limit"
                    break
            else:
                error = getattr(self.source, "error", None)
                stop_reason = f"the source stopped: {error}" if error else "end of the video"
        except KeyboardInterrupt:
            stop_reason, interrupted = "interrupted", True
        finally:
            frames.close()  # the model's thread stops before the session is written up
            if not stop_reason:
                stop_reason = "error"
            self.writer.event("end", t, reason=stop_reason)
            result = self._finish(stop_reason, interrupted)
            try:
                self.display.close()
            finally:
                self.sound.close()
        return result

    def _finish(self, stop_reason: str, interrupted: bool) -> LiveResult:
        from glutecam.analysers.judge import set_summary
        from glutecam.results import SetResult

        set_result = None
        self.writer.add_poses(self._pending)  # frames seen before the analysis started are kept too
        self._pending = []
        side = (getattr(self.live, "side", None) if self.live is not None else None) or self.options.side
        if self.live is not None:
            summary = set_summary(self.reps, self.analyser.config.judge.set_fault_fraction)
            view = self.views.most_common(1)[0][0] if self.views else "none"
            warnings = list(self.analyser.view_warnings(view)) if hasattr(self.analyser, "view_warnings") else []
            set_result = SetResult(exercise=self.options.exercise, side=side,
                                   side_source="user" if self.options.side else "auto", view=view,
                                   reps=list(self.reps), summary={**summary, "mode": "live"}, warnings=warnings)
        lat = self.latencies_ms
        warnings = list(set_result.warnings) if set_result is not None else []
        if self.events["setup_done_s"] is None and self.options.setup:
            said = self._setup_said.most_common(1)
            warnings.append("the set-up was never completed, so nothing was counted"
                            + (f" (the instruction given most: {said[0][0]})" if said else ""))
        elif self.events["counting_s"] is None:
            warnings.append("the neutral baseline was never captured (the person never held still), "
                            "so no cues were given")
        if stop_reason.startswith("the source stopped"):
            warnings.append(stop_reason)
        # PoseEstimator's restarts; test models lack them
        restarts_s, restart_warnings = tracker_restarts_report(getattr(self.pose_model, "tracker_restarts_s", ()))
        warnings += restart_warnings
        summary = {
            "glutecam_version": __version__,
            "mode": "live",
            "exercise": self.options.exercise,
            "source": {"label": self.options.source_label, "width": self.frame_size_wh[0],
                       "height": self.frame_size_wh[1], "fps": self.source_fps},
            "model": self.options.model_name,
            "started_at": self.started_wall.isoformat(timespec="seconds"),
            "wall_s": round(time.monotonic() - self._t0, 3),
            "stop_reason": stop_reason,
            "interrupted": interrupted,
            "complete": stop_reason in ("end of the video", "quit key", "window closed", "time limit"),
            "frames_seen": self.frames_seen,
            "frames_analysed": self.writer.frames_tracked,
            "frames_dropped": self.frames_dropped,
            "analysis_fps": round(self.effective_fps, 2),
            "latency_ms": {"median": _percentile(lat, 50), "p95": _percentile(lat, 95),
                           "max": round(max(lat), 2) if lat else None},
            "stage_ms": {k: _percentile(v, 50) for k, v in self._stage_ms.items()},
            "setup_done_s": self.events["setup_done_s"],
            "counting_from_s": self.events["counting_s"],
            "cues_shown": len(self.cues),
            "tracker_restarts_s": restarts_s,
            "set": ({"side": set_result.side, "side_source": set_result.side_source, "view": set_result.view,
                     **set_result.summary} if set_result is not None else None),
            "warnings": warnings,
        }
        outputs = self.writer.finish(set_result, summary)
        return LiveResult(out_dir=self.out_dir, reps=list(self.reps), set=set_result, summary=summary,
                          outputs=outputs, stop_reason=stop_reason, interrupted=interrupted, cues=list(self.cues),
                          latencies_ms=list(lat))
