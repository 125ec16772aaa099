"""Live analysis: one `FramePose` in, one `LiveState` out, with the offline analysis's own functions.

Causal versions of the offline steps: a One Euro filter instead of the zero-lag Butterworth, a trailing
view smoother, the `RepCounter` state machine instead of `find_reps`, and a baseline collected as frames
arrive (measures read against it are NaN until it is ready). A finished rep is judged by the same
`judge_rep` over the frames it spanned.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from glutecam.analysers.baseline import STILL_LANDMARKS, BaselineCollector
from glutecam.analysers.columns import EXTRA_COLUMNS, METRIC_COLUMNS, column_baselines
from glutecam.analysers.judge import frame_faults
from glutecam.filters import GlitchGate, OneEuroFilter
from glutecam.landmarks import Landmark
from glutecam.metrics.columns import measure
from glutecam.reps import RepCounter, RepWindow
from glutecam.results import Fault, RepResult, Side
from glutecam.track import FramePose
from glutecam.view import ViewSmoother, classify_views, reference_up

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


_STILL = list(STILL_LANDMARKS)
_LH, _RH, _LS, _RS = Landmark.LEFT_HIP, Landmark.RIGHT_HIP, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER


def _frame_speed(prev_xy: np.ndarray, xy: np.ndarray, dt_s: float) -> float:
    """`body_speed` of one frame (1, 33, 2), the same number without `nanmedian`'s masked-array cost."""
    step = np.linalg.norm(xy[:, _STILL] - prev_xy[:, _STILL], axis=-1)[0]
    finite = np.isfinite(step)
    if finite.sum() < 4:
        return np.nan
    torso = float(np.linalg.norm((xy[:, _LS] + xy[:, _RS]) / 2 - (xy[:, _LH] + xy[:, _RH]) / 2, axis=-1)[0])
    if not torso > 0:
        return np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.median(step[finite]) / np.asarray(dt_s) / torso)


class LiveAnalyser:
    """Feed frames in time order with `update(frame_pose)`; `reset_baseline()` re-captures the neutral."""

    def __init__(self, analyser: "Analyser", fps: float = 30.0, side: Side | None = None) -> None:
        self.analyser = analyser
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.user_side = side
        cfg = analyser.config
        f = cfg.filters
        self._image_filter = OneEuroFilter(f.one_euro_min_cutoff_hz, f.one_euro_beta_px, f.one_euro_d_cutoff_hz,
                                           f.max_gap_s)
        self._world_filter = OneEuroFilter(f.one_euro_min_cutoff_hz, f.one_euro_beta_m, f.one_euro_d_cutoff_hz,
                                           f.max_gap_s)
        self._all_world_filter = OneEuroFilter(f.one_euro_min_cutoff_hz, f.one_euro_beta_m, f.one_euro_d_cutoff_hz,
                                               f.max_gap_s)  # whatever the visibility: rep counting, side
        self._all_world_gate = GlitchGate(f.max_jump, f.collapse_ratio, f.max_gap_s)
        self._image_gate = GlitchGate(f.max_jump, f.collapse_ratio, f.max_gap_s)
        self._world_gate = GlitchGate(f.max_jump, f.collapse_ratio, f.max_gap_s)
        self._views = ViewSmoother(max(1, round(cfg.view.smooth_s * self.fps)))
        self.counter = RepCounter(analyser.hysteresis, analyser.phase_names)
        self._baseline = BaselineCollector(max(1, round(cfg.baseline.window_s * self.fps)), cfg.baseline.min_frames)
        self._evidence = 0.0
        self._drive_state = analyser.new_drive_state()
        self._side_locked = side is not None
        self._prev: tuple[float, np.ndarray] | None = None
        self._history: deque[tuple[float, dict[str, float], dict[str, str]]] = deque(
            maxlen=int(HISTORY_S * self.fps))
        self._n = 0
        self.reps: list[RepResult] = []

    @property
    def side(self) -> Side | None:
        if self.user_side is not None:
            return self.user_side
        return None if self._evidence == 0 else "left" if self._evidence > 0 else "right"

    def reset_baseline(self) -> None:
        """Forget the neutral baseline and capture it again from the next still frames between reps."""
        self._baseline.reset()

    def update(self, pose: FramePose) -> LiveState:
        a, cfg = self.analyser, self.analyser.config
        t = float(pose.time_s)
        vis = np.asarray(pose.visibility)[None]
        low = vis < cfg.filters.min_visibility
        image = np.where(low[..., None], np.nan, np.asarray(pose.image_px, dtype=np.float64)[None, :, :2])
        world_all = np.asarray(pose.world_m, dtype=np.float64)[None].copy()
        world_all[~np.isfinite(world_all).all(axis=-1)] = np.nan
        world_all[0] = self._all_world_gate(t, world_all[0])
        world_all = self._all_world_filter(t, world_all)
        world = np.where(low[..., None], np.nan, np.asarray(pose.world_m, dtype=np.float64)[None])
        image[~np.isfinite(image).all(axis=-1)] = np.nan
        world[~np.isfinite(world).all(axis=-1)] = np.nan
        image[0], world[0] = self._image_gate(t, image[0]), self._world_gate(t, world[0])
        lost = ~np.isfinite(image).all(axis=-1) | ~np.isfinite(world).all(axis=-1)
        image[lost], world[lost] = np.nan, np.nan
        image = self._image_filter(t, image)
        world = self._world_filter(t, world)
        raw_view = classify_views(image, world, cfg.view.frontal_max_deg, cfg.view.side_min_deg)[0]
        views = np.array([self._views.update(raw_view)], dtype=object)
        up_xy, up_m = reference_up(views, image)
        m = measure(image, world, views, up_xy, up_m, a.pelvis_estimator, signal_world_m=world_all)

        if not self._side_locked:
            self._evidence += float(np.nansum(a.side_evidence(m, views)))
        side = self.side
        drive = a.drive(m, side, self._drive_state)
        was_active = self.counter.active
        window = self.counter.update(t, float(drive[0]))
        if window is not None and not self._side_locked:
            self._side_locked = True  # the first rep settles the working side

        speed = np.nan if self._prev is None else _frame_speed(self._prev[1], image, t - self._prev[0])
        self._prev = (t, image)
        usable = bool(np.isfinite(m["pelvis_obliquity_deg"][0]) or np.isfinite(m["pelvis_yaw_deg"][0]))
        baseline = self._baseline.offer(t, {k: float(v[0]) for k, v in m.values.items()},
                                        still=bool(speed < cfg.baseline.still_max_speed),
                                        rest=not self.counter.active and window is None, usable=usable,
                                        view=str(views[0]), rep_started=self.counter.active and not was_active)
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
        return LiveState(time_s=t, metrics=metrics, view=str(views[0]), rep_count=self.counter.count, phase=phase,
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
