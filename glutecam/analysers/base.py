"""The common interface of the exercise analysers and the offline pipeline they share.

An exercise says only what is its own: its driving signal, how to tell the working side, which faults it
judges and which numbers it reports per rep. Everything else (cleaning landmarks, camera view, metrics,
baseline, rep segmentation, judging) is here and in `glutecam.analysers.live`, built on the same pure
functions, so offline and live measure alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from glutecam.analysers.baseline import Baseline, compute_baseline, track_speed
from glutecam.analysers.columns import EXTRA_COLUMNS, METRIC_COLUMNS, build_columns, column_baselines
from glutecam.analysers.judge import FaultRule, MeasureSpec, judge_rep, not_measured_spans, set_summary
from glutecam.analysers.live import LiveAnalyser
from glutecam.config import Config, ExerciseConfig, load_config
from glutecam.filters import body_extent, butterworth_zero_lag, fill_gaps, gate_by_visibility, reject_glitches
from glutecam.metrics.columns import Measured, measure
from glutecam.metrics.pelvis import MIN_BODY_SPAN_PX, PelvisEstimator, body_span_px, estimate_pelvis
from glutecam.reps import Hysteresis, RepWindow, find_reps, rep_numbers, rep_phases
from glutecam.results import RepResult, SetResult, Side
from glutecam.track import PoseTrack
from glutecam.view import FRONTAL, NO_VIEW, classify_views, reference_up, set_view, smooth_views

VIEW_PHRASES = {
    "front": "from the front", "back": "from behind", "left_side": "from their left side",
    "right_side": "from their right side", "lying_left": "lying on their left side",
    "lying_right": "lying on their right side", "oblique": "at an angle", NO_VIEW: "nowhere",
}


def other(side: Side) -> Side:
    return "right" if side == "left" else "left"


@dataclass
class Analysis:
    """What `Analyser.analyse` returns: the set's results and the per-frame columns (each of length T)."""

    set: SetResult
    frames: dict[str, np.ndarray]
    reasons: dict[str, np.ndarray] = field(default_factory=dict)  # per metric column, "" = measured
    baseline: Baseline = field(default_factory=Baseline)


def effective_fps(track: PoseTrack) -> float:
    """The track's frame rate, else one from its timestamps, else 30 (a track written by another tool may
    carry 0 or NaN)."""
    if np.isfinite(track.fps) and track.fps > 0:
        return float(track.fps)
    steps = np.diff(np.asarray(track.time_s, dtype=np.float64))
    steps = steps[np.isfinite(steps) & (steps > 0)]
    return float(1.0 / np.median(steps)) if len(steps) else 30.0


def _glitch_free(points: np.ndarray, visibility: np.ndarray, config: Config, gate: bool) -> np.ndarray:
    """A copy of landmarks (T, 33, D) with low-visibility points (if `gate`), non-finite ones and glitches
    set to NaN."""
    f = config.filters
    p = gate_by_visibility(points, visibility, f.min_visibility if gate else -np.inf)
    p[~np.isfinite(p).all(axis=-1)] = np.nan  # +-inf is as missing as NaN
    return reject_glitches(p, body_extent(p), f.max_jump, f.collapse_ratio, copy=False)


def _lost(points: np.ndarray) -> np.ndarray:
    return ~np.isfinite(points).all(axis=-1)


def _smoothed(points: np.ndarray, config: Config, fps: float) -> np.ndarray:
    """`points` (edited in place, then returned) with short gaps filled and zero-lag low-passed."""
    f = config.filters
    return butterworth_zero_lag(fill_gaps(points, fps, f.max_gap_s, copy=False), fps, f.butterworth_cutoff_hz,
                                f.butterworth_order, copy=False)


def clean_landmarks(track: PoseTrack, config: Config, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Image (T, 33, 2) and world (T, 33, 3) landmarks: low-visibility points and glitches removed (a point
    lost in either goes in both: one model output), short gaps filled, zero-lag low-passed over each
    unbroken run."""
    image = _glitch_free(track.image_px[..., :2], track.visibility, config, gate=True)
    world = _glitch_free(track.world_m, track.visibility, config, gate=True)
    lost = _lost(image) | _lost(world)
    image[lost] = world[lost] = np.nan
    return _smoothed(image, config, fps), _smoothed(world, config, fps)


def clean_world_ungated(track: PoseTrack, config: Config, fps: float) -> np.ndarray:
    """World landmarks cleaned as `clean_landmarks` does but kept whatever their visibility (the image ones
    only decide which frames are lost). One whole-clip array at a time: at 10 minutes each is 10-14 MB."""
    lost = _lost(_glitch_free(track.image_px[..., :2], track.visibility, config, gate=False))
    world = _glitch_free(track.world_m, track.visibility, config, gate=False)
    world[lost | _lost(world)] = np.nan
    return _smoothed(world, config, fps)


def _standing_span_px(image_xy: np.ndarray) -> float | None:
    """The person's size at full stretch: the 90th percentile of `body_span_px` (None without a whole body)."""
    span = body_span_px(image_xy)
    span = span[np.isfinite(span)]
    return float(np.percentile(span, 90)) if len(span) else None


class Analyser:
    """One exercise. Subclasses set the class attributes and implement `side_evidence` and `drive`."""

    name: ClassVar[str]
    phase_names: ClassVar[tuple[str, str]] = ("down", "up")
    suited_views: ClassVar[frozenset[str]] = FRONTAL
    view_advice: ClassVar[str] = "film from in front or from behind"
    free_is_working: ClassVar[bool] = False  # side-lying: the working (top) leg is also the free leg
    rules: ClassVar[tuple[FaultRule, ...]] = ()
    measures: ClassVar[tuple[MeasureSpec, ...]] = ()

    def __init__(self, config: Config | None = None, pelvis_estimator: PelvisEstimator = estimate_pelvis) -> None:
        self.config = config if config is not None else load_config(None)
        self.ex: ExerciseConfig = self.config.exercise(self.name)
        self.pelvis_estimator = pelvis_estimator
        self.hysteresis = Hysteresis(self.ex.enter_deg, self.ex.exit_deg, self.ex.min_rep_s,
                                     self.ex.phase_hysteresis_deg, self.ex.max_gap_s, self.ex.rest_window_s)

    # -- what each exercise defines ------------------------------------------------------------------
    def side_evidence(self, m: Measured, views: np.ndarray) -> np.ndarray:
        """(T,) +1 where a frame says the working side is left, -1 right, 0 no evidence."""
        raise NotImplementedError

    def drive(self, m: Measured, side: Side | None, state: object = None) -> np.ndarray:
        """(T,) the driving signal, degrees, larger = deeper into the rep (NaN where unknown). `state`: what
        `new_drive_state` returned, carried from frame to frame live (offline: one for the whole clip)."""
        raise NotImplementedError

    def new_drive_state(self) -> object:
        """Fresh state for `drive` (None: the exercise's driving signal needs none)."""
        return None

    def hidden_pelvis(self, m: Measured, views: np.ndarray,
                      drive: np.ndarray | None = None) -> tuple[np.ndarray, str]:
        """(T,) frames where the pelvis cannot be seen although the view allows it, and why (`drive`: the
        exercise's driving signal on the same frames, if known)."""
        return np.zeros(len(views), bool), ""

    # -- shared ----------------------------------------------------------------------------------------
    def free_side(self, side: Side | None) -> Side | None:
        if side is None:
            return None
        return side if self.free_is_working else other(side)

    @staticmethod
    def side_from_evidence(evidence: np.ndarray, views: np.ndarray) -> Side | None:
        """The working side: the sign of the evidence summed over the frames seen in the set's view. Frames the
        pose model sees from another side than most of the set usually have left and right swapped (a
        single-leg RDL filmed from behind reads as from the front at the bottom of a hinge): on the rendered
        RDL from behind and its mirror image, all frames voted for the right leg both times, the set's view
        for the true one both times."""
        views = np.asarray(views, dtype=object)
        total = float(np.nansum(np.asarray(evidence, dtype=np.float64)[views == set_view(views)]))
        return None if total == 0 else "left" if total > 0 else "right"

    def columns(self, m: Measured, views: np.ndarray, side: Side | None, baseline: Baseline,
                drive: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The float frame columns (METRIC_COLUMNS + EXTRA_COLUMNS) and the reasons for the metric ones."""
        hidden, hidden_why = self.hidden_pelvis(m, views, drive)
        return build_columns(m, views, side, self.free_side(side), baseline, drive, hidden, hidden_why)

    def hold_frames(self, fps: float) -> int:
        """Frames a fault must hold for to count in a rep (`judge.min_hold_s` at `fps`), at least 1."""
        return max(1, int(round(self.config.judge.min_hold_s * fps)))

    def judge(self, index: int, rep: RepWindow, frames: dict[str, np.ndarray], time_s: np.ndarray,
              reasons: dict[str, np.ndarray], baseline: Baseline, side: Side | None, fps: float) -> RepResult:
        return judge_rep(index, rep, frames, time_s, reasons, self.rules, self.ex.faults, self.measures,
                         column_baselines(baseline, side), self.hold_frames(fps), side, self.free_side(side))

    def view_warnings(self, view: str) -> list[str]:
        if view == NO_VIEW:
            return ["nobody was detected, so nothing was measured"]
        if view in self.suited_views:
            return []
        return [f"the camera sees the person {VIEW_PHRASES.get(view, view)}, which does not suit the {self.name}: "
                f"{self.view_advice}; measures this view cannot show are left empty"]

    # -- offline ---------------------------------------------------------------------------------------
    def analyse(self, track: PoseTrack, side: Side | None = None) -> Analysis:
        """Analyse a whole track; `side` (the working side) overrides the automatic choice."""
        if side not in (None, "left", "right"):
            raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
        cfg, n = self.config, len(track)
        time_s = np.asarray(track.time_s, dtype=np.float64)
        fps = effective_fps(track)
        image_xy, world = clean_landmarks(track, cfg, fps)
        # rep counting and side finding need only gross motion: they also use landmarks the model marks as
        # hardly visible (MediaPipe gives the knees of a person seen from behind about 0.05)
        world_all = clean_world_ungated(track, cfg, fps)
        raw_views = classify_views(image_xy, world, cfg.view.frontal_max_deg, cfg.view.side_min_deg)
        views = smooth_views(raw_views, max(1, round(cfg.view.smooth_s * fps)))
        up_xy, up_m = reference_up(views, image_xy)
        m = measure(image_xy, world, views, up_xy, up_m, self.pelvis_estimator, signal_world_m=world_all)
        side_source = "user" if side else "auto"
        side = side or self.side_from_evidence(self.side_evidence(m, views), views)
        drive = self.drive(m, side, self.new_drive_state())
        windows = find_reps(time_s, drive, self.hysteresis)
        rep_col = rep_numbers(n, windows)
        still = track_speed(image_xy, time_s) < cfg.baseline.still_max_speed
        usable = np.isfinite(m["pelvis_obliquity_deg"]) | np.isfinite(m["pelvis_yaw_deg"])
        baseline = compute_baseline(m.values, time_s, still, rep_col == 0, usable,
                                    max(1, round(cfg.baseline.window_s * fps)), cfg.baseline.min_frames,
                                    windows[0].start_s if windows else None, views)
        vals, why = self.columns(m, views, side, baseline, drive)
        phase = rep_phases(time_s, drive, windows, self.hysteresis, self.phase_names)
        setup_until = baseline.end_s if baseline.ready else (windows[0].start_s if windows else np.inf)
        phase = np.where(phase != "", phase, np.where(time_s <= setup_until, "setup", "rest")).astype(object)
        frames: dict[str, np.ndarray] = {k: vals[k] for k in METRIC_COLUMNS}
        frames.update(view=views, rep=rep_col, phase=phase)
        frames.update({k: vals[k] for k in EXTRA_COLUMNS})
        reasons = {k: why[k] for k in METRIC_COLUMNS}
        reps = [self.judge(i, w, frames, time_s, reasons, baseline, side, fps) for i, w in enumerate(windows, 1)]
        view = set_view(views)
        result = SetResult(
            exercise=self.name, side=side, side_source=side_source, view=view, reps=reps,
            summary={**set_summary(reps, cfg.judge.set_fault_fraction),
                     "baseline": {"source": baseline.source, "start_s": baseline.start_s, "end_s": baseline.end_s}},
            not_measured=[nm for k in METRIC_COLUMNS for nm in not_measured_spans(k, reasons[k], time_s)],
            warnings=self.set_warnings(view, side, baseline, reps, pelvis_seen=bool(usable.any()),
                                       span_px=_standing_span_px(image_xy)),
        )
        return Analysis(set=result, frames=frames, reasons=reasons, baseline=baseline)

    def side_unknown_warning(self, view: str) -> str:
        """What to tell the user when the working side could not be found in `view`."""
        return "could not tell the working side; pass --side left or --side right"

    def set_warnings(self, view: str, side: Side | None, baseline: Baseline, reps: list[RepResult],
                     pelvis_seen: bool = True, span_px: float | None = None) -> list[str]:
        """What the user should know about the set. `span_px`: the person's size in the picture (shoulders to
        ankles at full stretch, `body_span_px`)."""
        out = self.view_warnings(view)
        if view == NO_VIEW:
            return out
        if span_px is not None and span_px < MIN_BODY_SPAN_PX:
            out.append(f"the person is small in the picture (shoulders to ankles about {span_px:.0f} px; at least "
                       f"{MIN_BODY_SPAN_PX:.0f} is needed for the pelvis measures, else clean reps read a degree "
                       "or more of false drop): film closer or at a higher resolution")
        if side is None:
            out.append(self.side_unknown_warning(view))
        if not baseline.ready and pelvis_seen:
            out.append("no still moment outside the reps, so there is no neutral baseline and pelvic drop and "
                       "rotation were not measured: hold still for a second before the first rep")
        elif baseline.source == "rep tops":
            out.append("no still start: the neutral baseline was taken at the tops between reps")
        if not reps:
            out.append(f"no reps found: the driving signal never went from below {self.ex.exit_deg:.0f} to above "
                       f"{self.ex.enter_deg:.0f} deg and back")
        elif all(r.verdict == "unmeasured" for r in reps):
            out.append("no rep could be judged on pelvic drop in this view")
        return out

    def live(self, fps: float = 30.0, side: Side | None = None) -> LiveAnalyser:
        """A `LiveAnalyser` fed one `FramePose` at a time (see `glutecam.analysers.live`)."""
        if side not in (None, "left", "right"):
            raise ValueError(f"side must be 'left', 'right' or None, got {side!r}")
        return LiveAnalyser(self, fps=fps, side=side)
