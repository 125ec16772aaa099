"""The neutral baseline: how the person stands (or lies) when still, outside a rep.

It is the median of each metric over the first `window_s` of frames that are still and outside a rep,
so the still lead-in of a set when there is one, else the tops between reps. Measures read against it
(pelvic drop, rotation, trunk lean, FPPA beyond baseline) are free of camera roll and of the person's own
asymmetry. Offline and live pick frames by the same rule; live, measures that need it wait until it is
ready.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from glutecam.landmarks import Landmark
from glutecam.metrics.geometry import wrap_deg
from glutecam.view import set_view

#: Landmarks whose image speed decides stillness.
STILL_LANDMARKS = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP,
                   Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE, Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE)

#: Values whose median is circular (degrees).
CIRCULAR = frozenset({"pelvis_yaw_deg"})


def body_speed(prev_xy: np.ndarray, xy: np.ndarray, dt_s: np.ndarray | float) -> np.ndarray:
    """Median image speed of the key landmarks in torso lengths per second, between two (T, 33, 2)
    landmark arrays `dt_s` apart (NaN when too few landmarks are visible)."""
    idx = list(STILL_LANDMARKS)
    step = np.linalg.norm(xy[:, idx] - prev_xy[:, idx], axis=-1)
    hips = (xy[:, Landmark.LEFT_HIP] + xy[:, Landmark.RIGHT_HIP]) / 2
    shoulders = (xy[:, Landmark.LEFT_SHOULDER] + xy[:, Landmark.RIGHT_SHOULDER]) / 2
    torso = np.linalg.norm(shoulders - hips, axis=-1)
    enough = np.isfinite(step).sum(axis=1) >= 4
    with np.errstate(invalid="ignore", divide="ignore"):
        med = np.nanmedian(np.where(enough[:, None], step, 0.0), axis=1)
        speed = med / np.asarray(dt_s) / torso
    return np.where(enough & (torso > 0), speed, np.nan)


def body_speed_1(prev_xy: Sequence[Sequence[float]], xy: Sequence[Sequence[float]], dt_s: float) -> float:
    """`body_speed` of one frame, torso lengths per second, from two frames' landmarks (33, 2) px as lists."""
    steps = []
    for lm in STILL_LANDMARKS:
        dx, dy = xy[lm][0] - prev_xy[lm][0], xy[lm][1] - prev_xy[lm][1]
        step = math.sqrt(dx * dx + dy * dy)
        if math.isfinite(step):
            steps.append(step)
    if len(steps) < 4:
        return math.nan
    lh, rh, ls, rs = (xy[lm] for lm in (Landmark.LEFT_HIP, Landmark.RIGHT_HIP, Landmark.LEFT_SHOULDER,
                                         Landmark.RIGHT_SHOULDER))
    tx, ty = (ls[0] + rs[0]) / 2 - (lh[0] + rh[0]) / 2, (ls[1] + rs[1]) / 2 - (lh[1] + rh[1]) / 2
    torso = math.sqrt(tx * tx + ty * ty)
    if not torso > 0:
        return math.nan
    steps.sort()
    n = len(steps)
    med = steps[n // 2] if n % 2 else (steps[n // 2 - 1] + steps[n // 2]) / 2.0  # `np.median`
    if dt_s == 0:  # numpy's division: inf, or NaN for no motion
        return math.copysign(math.inf, dt_s) if med > 0 else math.nan
    return med / dt_s / torso


def track_speed(image_xy: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """(T,) `body_speed` between each frame and the one before (NaN for the first)."""
    out = np.full(len(image_xy), np.nan)
    if len(image_xy) > 1:
        out[1:] = body_speed(image_xy[:-1], image_xy[1:], np.diff(time_s))
    return out


@dataclass(frozen=True)
class Baseline:
    """Median values over the baseline frames; `source`: "start" (still lead-in), "rep tops" or "none"."""

    values: dict[str, float] = field(default_factory=dict)
    start_s: float | None = None
    end_s: float | None = None
    n_frames: int = 0
    source: str = "none"
    view: str = "none"  # the camera view the baseline was taken in

    @property
    def ready(self) -> bool:
        return self.n_frames > 0

    def get(self, key: str) -> float | None:
        v = self.values.get(key)
        return None if v is None or not np.isfinite(v) else v


def median_values(values: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, float]:
    out = {}
    for key, col in values.items():
        x = np.asarray(col, dtype=np.float64)[idx]
        x = x[np.isfinite(x)]
        if not len(x):
            out[key] = np.nan
        elif key in CIRCULAR:
            out[key] = float(wrap_deg(x[0] + np.median(wrap_deg(x - x[0]))))
        else:
            out[key] = float(np.median(x))
    return out


def baseline_frames(still: np.ndarray, rest: np.ndarray, usable: np.ndarray, n_needed: int) -> np.ndarray:
    """Indices of the first `n_needed` frames that are still, at rest (outside a rep) and usable."""
    ok = np.flatnonzero(still & rest & usable)
    return ok[:n_needed]


def compute_baseline(values: dict[str, np.ndarray], time_s: np.ndarray, still: np.ndarray, rest: np.ndarray,
                     usable: np.ndarray, n_needed: int, min_frames: int, first_rep_s: float | None,
                     views: np.ndarray) -> Baseline:
    """The offline baseline (see module doc); fewer than `min_frames` candidate frames give no baseline."""
    idx = baseline_frames(still, rest, usable, n_needed)
    if len(idx) < min_frames:
        return Baseline()
    end_s = float(time_s[idx[-1]])
    source = "start" if first_rep_s is None or end_s <= first_rep_s else "rep tops"
    return Baseline(median_values(values, idx), float(time_s[idx[0]]), end_s, len(idx), source,
                    set_view(np.asarray(views, dtype=object)[idx]))


class BaselineCollector:
    """Live baseline: offered one frame at a time, ready after `n_needed` still, resting, usable frames."""

    def __init__(self, n_needed: int, min_frames: int) -> None:
        self.n_needed = max(int(n_needed), int(min_frames), 1)
        self.reset()

    def reset(self) -> None:
        self._rows: list[dict[str, float]] = []
        self._times: list[float] = []
        self._views: list[str] = []
        self._first_rep_seen = False
        self.baseline = Baseline()

    def offer(self, t: float, values: dict[str, float], still: bool, rest: bool, usable: bool,
              view: str, rep_started: bool = False) -> Baseline:
        self._first_rep_seen |= rep_started
        if self.baseline.ready or not (still and rest and usable):
            return self.baseline
        self._rows.append(values)
        self._times.append(t)
        self._views.append(view)
        if len(self._rows) >= self.n_needed:
            cols = {k: np.array([r.get(k, np.nan) for r in self._rows]) for k in self._rows[0]}
            idx = np.arange(len(self._rows))
            self.baseline = Baseline(median_values(cols, idx), self._times[0], self._times[-1], len(idx),
                                     "rep tops" if self._first_rep_seen else "start",
                                     set_view(np.array(self._views, dtype=object)))
        return self.baseline
