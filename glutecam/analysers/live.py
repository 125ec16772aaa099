"""Live analysis: one `FramePose` in, one `LiveState` out, with the offline analysis's own functions.

Causal versions of the offline steps: a One Euro filter instead of the zero-lag Butterworth, a trailing
view smoother, the `RepCounter` state machine instead of `find_reps`, and a baseline collected as frames
arrive (measures read against it are NaN until it is ready). A finished rep is judged by the same
`judge_rep` over the frames it spanned.

A frame is measured with the one-frame, plain-float versions of the offline functions (`measure_frame`,
`classify_view_1`, `columns_1`, ...): numpy's per-call cost on arrays of one frame was most of the time.
tests/test_live_per_frame.py pins each to its clip-wide counterpart.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from glutecam.analysers.baseline import Baseline, BaselineCollector, body_speed_1
from glutecam.analysers.columns import (
    EXTRA_COLUMNS,
    LEG_COLUMNS,
    METRIC_COLUMNS,
    NO_PERSON,
    VIEW_CHANGED,
    column_baselines,
)
from glutecam.analysers.judge import frame_faults
from glutecam.filters import GlitchGate, OneEuroFilter
from glutecam.landmarks import Landmark
from glutecam.metrics.columns import Measured, measure_frame
from glutecam.metrics.pelvis import pelvic_drop_deg_1, pelvis_rotation_deg_1
from glutecam.reps import RepCounter, RepWindow
from glutecam.results import Fault, RepResult, Side
from glutecam.track import FramePose
from glutecam.view import NO_VIEW, ViewSmoother, classify_view_1, reference_up_1

if TYPE_CHECKING:  # pragma: no cover
    from glutecam.analysers.base import Analyser

#: Frames kept for judging a rep when it ends; a rep longer than this is judged on its last part only.
HISTORY_S = 60.0


@dataclass
class LiveState:
    """The analysis after one frame."""

    time_s: float
    metrics: dict[str, float]  # METRIC_COLUMNS + EXTRA_COLUMNS, NaN when not measurable
    view: str
    rep_count: int
    phase: str  # setup / rest / down / up (lift / lower for side-lying)
    active_faults: list[Fault] = field(default_factory=list)
    completed_rep: RepResult | None = None  # set on the frame a rep ends
    baseline_ready: bool = False
    side: Side | None = None
    reasons: dict[str, str] = field(default_factory=dict)  # why a metric is NaN ("" = measured)


_LH, _RH = Landmark.LEFT_HIP, Landmark.RIGHT_HIP


def columns_1(values: dict[str, float], reasons: dict[str, str], view: str, side: Side | None, free: Side | None,
              baseline: Baseline, drive: float, hidden: bool,
              hidden_why: str) -> tuple[dict[str, float], dict[str, str]]:
    """`build_columns` of one frame, as plain floats: `values` and `reasons` from `measure_frame`; the float
    columns (METRIC_COLUMNS + EXTRA_COLUMNS) and the reasons of the metric ones."""
    nan = math.nan
    obl_why, yaw_why = reasons["pelvis_obliquity_deg"], reasons["pelvis_yaw_deg"]
    if hidden:
        obl_why, yaw_why = obl_why or hidden_why, yaw_why or hidden_why
    obl = nan if hidden else values["pelvis_obliquity_deg"]
    yaw = nan if hidden else values["pelvis_yaw_deg"]
    base_obl, base_yaw = baseline.get("pelvis_obliquity_deg"), baseline.get("pelvis_yaw_deg")
    changed = baseline.ready and view != baseline.view
    drop = nan if free is None or base_obl is None else pelvic_drop_deg_1(obl, base_obl, free)
    rot = nan if free is None or base_yaw is None else pelvis_rotation_deg_1(yaw, base_yaw, free)
    vals = {"pelvis_obliquity_deg": obl, "pelvic_drop_deg": nan if changed else drop,
            "pelvis_rotation_deg": nan if changed else rot}
    why = {"pelvis_obliquity_deg": obl_why,
           "pelvic_drop_deg": VIEW_CHANGED if changed and not obl_why else obl_why,
           "pelvis_rotation_deg": VIEW_CHANGED if changed and not yaw_why else yaw_why}
    for key in LEG_COLUMNS:
        vals[key] = nan if side is None else values[f"{side}_{key}"]
        if side is None:  # keep the reasons that do not depend on the leg
            why[key] = NO_PERSON if reasons[f"left_{key}"] == NO_PERSON else ""
        else:
            why[key] = reasons[f"{side}_{key}"]
    fppa_why = why["fppa_deg"] or (hidden_why if hidden else "") or (VIEW_CHANGED if changed else "")
    if fppa_why:  # as `build_columns`: read from the hip landmark and the leg's label
        vals["fppa_deg"], why["fppa_deg"] = nan, fppa_why
    lean_why = reasons["trunk_lean_left_deg"]
    if hidden and not lean_why:
        lean_why = hidden_why
    if changed and not lean_why:
        lean_why = VIEW_CHANGED
    vals["trunk_lean_deg"] = nan if side is None or lean_why else (
        (1.0 if side == "left" else -1.0) * values["trunk_lean_left_deg"])
    why["trunk_lean_deg"] = lean_why
    vals["trunk_forward_lean_deg"] = values["trunk_forward_lean_deg"]
    why["trunk_forward_lean_deg"] = reasons["trunk_forward_lean_deg"]
    for key in LEG_COLUMNS[:3]:
        vals[f"free_{key}"] = nan if free is None else values[f"{free}_{key}"]
    vals["drive_deg"] = float(drive)
    for key in METRIC_COLUMNS:  # what the view allowed but the side or the baseline did not
        if math.isfinite(vals[key]) or why[key]:
            continue
        if side is None and key != "pelvis_obliquity_deg" and key != "trunk_forward_lean_deg":
            why[key] = "working side not known"
        elif key in ("pelvic_drop_deg", "pelvis_rotation_deg"):
            why[key] = ("no neutral baseline captured" if not baseline.ready
                        else "the baseline frames did not show this measure")
        else:
            why[key] = "degenerate geometry (landmarks on top of each other)"
    return {k: vals[k] for k in METRIC_COLUMNS + EXTRA_COLUMNS}, {k: why[k] for k in METRIC_COLUMNS}


def measured_1(values: dict[str, float], reasons: dict[str, str]) -> Measured:
    """One frame's `measure_frame` output as the (1,) arrays of `Measured`, for the analysers' hooks."""
    vals = np.array(list(values.values()))[:, None]
    why = np.array(list(reasons.values()), dtype=object)[:, None]
    return Measured(dict(zip(values, vals)), dict(zip(reasons, why)))


class LiveAnalyser:
    """Feed frames in time order with `update(frame_pose)`; `reset_baseline()` re-captures the neutral."""

    def __init__(self, analyser: "Analyser", fps: float = 30.0, side: Side | None = None) -> None:
        from glutecam.analysers.base import Analyser  # here: base imports this module

        self.analyser = analyser
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.user_side = side
        cfg = analyser.config
        f = cfg.filters
        # one One Euro filter for the three landmark sets, columns: image x y (px), world x y z (m), world x y z
        # kept whatever the visibility (m; rep counting, side)
        beta = np.array([f.one_euro_beta_px] * 2 + [f.one_euro_beta_m] * 6)
        self._filter = OneEuroFilter(f.one_euro_min_cutoff_hz, beta, f.one_euro_d_cutoff_hz, f.max_gap_s)
        # one gate for the three sets, each with its own history: image (z = 0), world, world whatever the visibility
        self._gate = GlitchGate(f.max_jump, f.collapse_ratio, f.max_gap_s)
        self._views = ViewSmoother(max(1, round(cfg.view.smooth_s * self.fps)))
        self.counter = RepCounter(analyser.hysteresis, analyser.phase_names)
        self._baseline = BaselineCollector(max(1, round(cfg.baseline.window_s * self.fps)), cfg.baseline.min_frames)
        self._evidence: dict[str, float] = {}  # working-side evidence summed per view
        self._view_counts: dict[str, int] = {}  # frames per view (not `none`), until the side is settled
        self._drive_state = analyser.new_drive_state()
        self._side_locked = side is not None
        self._own_columns = type(analyser).columns is Analyser.columns  # else the analyser's, on (1,) arrays
        self._prev: tuple[float, list[list[float]]] | None = None
        self._history: deque[tuple[float, dict[str, float], dict[str, str]]] = deque(
            maxlen=int(HISTORY_S * self.fps))
        self._n = 0
        self.reps: list[RepResult] = []

    @property
    def side(self) -> Side | None:
        if self.user_side is not None:
            return self.user_side
        counted = self._evidence.get(self._main_view(), 0.0)  # as `Analyser.side_from_evidence`: the set's view
        return None if counted == 0 else "left" if counted > 0 else "right"

    def _vote(self, view: str, evidence: float) -> None:
        """One frame's working-side evidence (+ left, - right, NaN none), counted under its view."""
        if view != NO_VIEW:
            self._view_counts[view] = self._view_counts.get(view, 0) + 1
        if evidence == evidence:  # `np.nansum`
            self._evidence[view] = self._evidence.get(view, 0.0) + evidence

    def _main_view(self) -> str:
        """The most common view so far among frames with a person (`set_view` of the frames seen)."""
        return max(self._view_counts, key=self._view_counts.__getitem__) if self._view_counts else NO_VIEW

    def reset_baseline(self) -> None:
        """Forget the neutral baseline and capture it again from the next still frames between reps."""
        self._baseline.reset()

    def _clean(self, t: float, pose: FramePose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image (33, 2), world (33, 3) and ungated world (33, 3) landmarks of one frame: `clean_landmarks`'s
        steps made causal (visibility gate, `GlitchGate`, a point lost in either set lost in both, One Euro)."""
        image = np.asarray(pose.image_px, dtype=np.float64)
        world = np.asarray(pose.world_m, dtype=np.float64)
        sets = np.empty((3,) + world.shape)
        sets[0, :, :2], sets[0, :, 2], sets[1], sets[2] = image[:, :2], 0.0, world, world
        keep = np.isfinite(sets).all(axis=-1)
        keep[:2] &= ~(np.asarray(pose.visibility) < self.analyser.config.filters.min_visibility)
        sets[~keep] = np.nan  # from here on a point is whole or all NaN
        sets = self._gate(t, sets)
        points = np.concatenate([sets[0, :, :2], sets[1], sets[2]], axis=1)
        points[np.isnan(points[:, 0]) | np.isnan(points[:, 2]), :5] = np.nan  # lost in either: lost in both
        points = self._filter(t, points)
        return points[:, :2], points[:, 2:5], points[:, 5:]

    def update(self, pose: FramePose) -> LiveState:
        a, cfg = self.analyser, self.analyser.config
        t = float(pose.time_s)
        image, world, world_all = self._clean(t, pose)
        xy, xyz = image.tolist(), world.tolist()
        view = self._views.update(classify_view_1(xy[_LH], xy[_RH], xyz[_LH], xyz[_RH], cfg.view.frontal_max_deg,
                                                  cfg.view.side_min_deg))
        up_xy, up_m = reference_up_1(view, xy)
        values, m_reasons = measure_frame(image, world, view, up_xy, up_m, a.pelvis_estimator,
                                          signal_world_m=world_all)
        m, views = measured_1(values, m_reasons), np.array([view], dtype=object)

        if not self._side_locked:
            self._vote(view, float(a.side_evidence(m, views)[0]))
        side = self.side
        drive = a.drive(m, side, self._drive_state)
        was_active = self.counter.active
        window = self.counter.update(t, float(drive[0]))
        if window is not None and not self._side_locked:
            self._side_locked = True  # the first rep settles the working side

        speed = math.nan if self._prev is None else body_speed_1(self._prev[1], xy, t - self._prev[0])
        self._prev = (t, xy)
        usable = math.isfinite(values["pelvis_obliquity_deg"]) or math.isfinite(values["pelvis_yaw_deg"])
        baseline = self._baseline.offer(t, values, still=speed < cfg.baseline.still_max_speed,
                                        rest=not self.counter.active and window is None, usable=usable,
                                        view=view, rep_started=self.counter.active and not was_active)
        if self._own_columns:
            hidden, hidden_why = a.hidden_pelvis(m, views, drive)
            metrics, reasons = columns_1(values, m_reasons, view, side, a.free_side(side), baseline,
                                         float(drive[0]), bool(hidden[0]), hidden_why)
        else:
            vals, why = a.columns(m, views, side, baseline, drive)
            metrics = {k: float(vals[k][0]) for k in METRIC_COLUMNS + EXTRA_COLUMNS}
            reasons = {k: str(why[k][0]) for k in METRIC_COLUMNS}
        self._history.append((t, metrics, reasons))
        self._n += 1

        baselines = column_baselines(baseline, side)
        sides = {"free": a.free_side(side) or "free", "working": side or "working"}
        active = frame_faults(a.rules, a.ex.faults, metrics, t, baselines, sides) if baseline.ready else []
        completed = self._judge(window, baseline, side) if window is not None else None
        if self.counter.active:
            phase = self.counter.phase
        else:
            phase = "rest" if baseline.ready else "setup"
        return LiveState(time_s=t, metrics=metrics, view=view, rep_count=self.counter.count, phase=phase,
                         active_faults=active, completed_rep=completed, baseline_ready=baseline.ready, side=side,
                         reasons=reasons)

    def _judge(self, window: RepWindow, baseline, side: Side | None) -> RepResult:
        """Judge a finished rep on the frames it spanned (those still in the history)."""
        first_index = self._n - len(self._history)
        start = max(window.start, first_index)
        rows = list(self._history)[start - first_index:window.end - first_index + 1]
        times = np.array([r[0] for r in rows])
        frames = {k: np.array([r[1][k] for r in rows]) for k in METRIC_COLUMNS + EXTRA_COLUMNS}
        reasons = {k: np.array([r[2][k] for r in rows], dtype=object) for k in METRIC_COLUMNS}
        local = RepWindow(0, max(window.peak - start, 0), len(rows) - 1, max(window.start_s, float(times[0])),
                          window.peak_s, window.end_s, window.peak_value)
        rep = self.analyser.judge(len(self.reps) + 1, local, frames, times, reasons, baseline, side, self.fps)
        self.reps.append(rep)
        return rep
