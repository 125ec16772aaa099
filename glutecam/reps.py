"""Rep segmentation of an exercise's driving signal (degrees, larger = deeper into the rep).

One definition, two implementations that agree sample for sample on the same signal:

- a rep is an excursion of the signal that rises from at most `exit` to at least `enter` and falls back
  to at most `exit`; it starts at the last sample at or below `exit` before it, peaks at its (first)
  maximum and ends at the first sample at or below `exit` after it; it must last `min_rep_s`;
- missing samples (NaN) are skipped, unless they last longer than `max_gap_s` (from the last valid
  sample to the last missing one): such a gap breaks the signal, an excursion cut by it is not a rep, and
  the next rep must start from at most `exit` again. A pose model losing the person for a few frames
  does not lose a rep; a person walking out of view does;
- with `rest_window_s`, `enter` and `exit` count from the signal's lowest value over the last
  `rest_window_s` seconds (its rest level, computed causally), so a person who rests a little bent, or a
  pose model that reads rest a few degrees off, still has their reps counted.

`find_reps` (offline) finds the excursions with `scipy.signal.find_peaks`; `RepCounter` (live) is a
hysteresis state machine fed one sample at a time with `update(t, value)`.

>>> t = np.arange(0, 6, 0.1)
>>> s = 40 - 40 * np.cos(2 * np.pi * t / 3)   # two reps, 0..80 deg
>>> [(r.start, r.peak, r.end) for r in find_reps(t, s, Hysteresis(enter=55, exit=40))]
[(7, 15, 23), (37, 45, 53)]
>>> c = RepCounter(Hysteresis(enter=55, exit=40))
>>> [(r.start, r.peak, r.end) for r in (c.update(ti, si) for ti, si in zip(t, s)) if r]
[(7, 15, 23), (37, 45, 53)]
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks



@dataclass(frozen=True)
class Hysteresis:
    """Thresholds of the driving signal; `phase_hysteresis`: how far below its running peak the signal
    must fall before the phase turns from the first (down/lift) to the second (up/lower)."""

    enter: float
    exit: float
    min_rep_s: float = 0.4
    phase_hysteresis: float = 5.0
    max_gap_s: float = 0.5
    rest_window_s: float | None = None

    def __post_init__(self) -> None:
        if not self.exit < self.enter:
            raise ValueError(f"exit ({self.exit}) must be below enter ({self.enter})")


@dataclass(frozen=True)
class RepWindow:
    """One rep: sample indices of its start, peak and end (inclusive), and their times in seconds."""

    start: int
    peak: int
    end: int
    start_s: float
    peak_s: float
    end_s: float
    peak_value: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


class RunningFloor:
    """Causal lowest valid value over the last `window_s` seconds (NaN before the first valid sample).

    >>> f = RunningFloor(1.0)
    >>> [f.update(t, v) for t, v in [(0.0, 5.0), (0.5, 3.0), (1.0, 4.0), (1.6, 6.0), (2.2, 7.0)]]
    [5.0, 3.0, 3.0, 4.0, 6.0]
    """

    def __init__(self, window_s: float) -> None:
        self.window_s = float(window_s)
        self._q: deque[tuple[float, float]] = deque()  # increasing values, oldest first

    def update(self, t: float, value: float) -> float:
        if math.isfinite(value):
            while self._q and self._q[-1][1] >= value:
                self._q.pop()
            self._q.append((t, float(value)))
        while self._q and self._q[0][0] < t - self.window_s - 1e-9:
            self._q.popleft()
        return self._q[0][1] if self._q else float("nan")


def heights(time_s: np.ndarray, signal: np.ndarray, hyst: Hysteresis) -> np.ndarray:
    """The signal as the thresholds see it: above its rest level (`RunningFloor`) when the hysteresis has
    a `rest_window_s`, else as it is."""
    signal = np.asarray(signal, dtype=np.float64)
    if not hyst.rest_window_s:
        return signal
    floor = RunningFloor(hyst.rest_window_s)
    return signal - np.array([floor.update(float(t), float(v)) for t, v in zip(time_s, signal)])


def _pieces(time_s: np.ndarray, signal: np.ndarray, max_gap_s: float) -> list[np.ndarray]:
    """Indices of the valid samples, split where a run of missing ones lasts longer than `max_gap_s`."""
    valid = np.flatnonzero(np.isfinite(signal))
    if not len(valid):
        return []
    pieces, first = [], 0
    for k in range(1, len(valid)):
        a, b = valid[k - 1], valid[k]
        if b - a > 1 and time_s[b - 1] - time_s[a] > max_gap_s + 1e-9:
            pieces.append(valid[first:k])
            first = k
    pieces.append(valid[first:])
    return pieces


def find_reps(time_s: np.ndarray, signal: np.ndarray, hyst: Hysteresis) -> list[RepWindow]:
    """All reps of a whole signal (offline). `RepWindow.peak_value` is the signal's own value."""
    time_s = np.asarray(time_s, dtype=np.float64)
    signal = np.asarray(signal, dtype=np.float64)
    height = heights(time_s, signal, hyst)
    found: dict[tuple[int, int], int] = {}
    for idx in _pieces(time_s, height, hyst.max_gap_s):
        seg = height[idx]
        low = np.flatnonzero(seg <= hyst.exit)
        if len(low) < 2:
            continue
        peaks, _ = find_peaks(seg, height=hyst.enter, plateau_size=(1, None))
        for p in peaks:
            k = np.searchsorted(low, p)
            if k == 0 or k == len(low):
                continue  # cut by the start or end of the valid piece
            a, b = int(low[k - 1]), int(low[k])
            key = (int(idx[a]), int(idx[b]))
            if key not in found:
                found[key] = int(idx[a + int(np.argmax(seg[a:b + 1]))])
    reps = []
    for (start, end), peak in sorted(found.items()):
        if time_s[end] - time_s[start] + 1e-9 < hyst.min_rep_s:
            continue
        reps.append(RepWindow(start, peak, end, float(time_s[start]), float(time_s[peak]), float(time_s[end]),
                              float(signal[peak])))
    return reps


def rep_phases(time_s: np.ndarray, signal: np.ndarray, reps: list[RepWindow], hyst: Hysteresis,
               names: tuple[str, str] = ("down", "up")) -> np.ndarray:
    """(T,) phase inside each rep ("" outside): `names[1]` once the signal has fallen `phase_hysteresis`
    below its running peak since the rep's start, `names[0]` otherwise (what `RepCounter.phase` says)."""
    out = np.full(len(signal), "", dtype=object)
    height = heights(time_s, signal, hyst)
    for r in reps:
        seg = height[r.start:r.end + 1]
        running = np.fmax.accumulate(np.where(np.isfinite(seg), seg, -np.inf))
        out[r.start:r.end + 1] = np.where(seg < running - hyst.phase_hysteresis, names[1], names[0])
    return out


def rep_numbers(n: int, reps: list[RepWindow]) -> np.ndarray:
    """(T,) 1-based rep number of each sample, 0 outside reps."""
    out = np.zeros(n, dtype=np.int64)
    for i, r in enumerate(reps, start=1):
        out[r.start:r.end + 1] = i
    return out


class RepCounter:
    """Live rep segmentation: feed samples in time order with `update(t, value)`.

    `update` returns the `RepWindow` on the sample where a rep ends, else None; `active`, `phase` (the
    `names` of `rep_phases`, "" between reps) and `count` describe the current state.
    """

    def __init__(self, hyst: Hysteresis, names: tuple[str, str] = ("down", "up")) -> None:
        self.hyst = hyst
        self.names = names
        self.reps: list[RepWindow] = []
        self._i = 0
        self._armed = False  # seen a sample at or below `exit` since the last break
        self._rest: tuple[int, float] = (0, 0.0)  # last sample at or below `exit`
        self._start: tuple[int, float] | None = None
        self._peak: tuple[int, float, float] = (0, 0.0, -np.inf)
        self._last_valid_s = -np.inf
        self._floor = RunningFloor(hyst.rest_window_s) if hyst.rest_window_s else None
        self._peak_raw = float("nan")
        self.phase = ""

    @property
    def count(self) -> int:
        return len(self.reps)

    @property
    def active(self) -> bool:
        return self._start is not None

    def update(self, t: float, value: float) -> RepWindow | None:
        i = self._i
        self._i += 1
        h = self.hyst
        raw = float(value)
        if self._floor is not None:
            value = raw - self._floor.update(t, raw)
        if not math.isfinite(value):
            if t - self._last_valid_s > h.max_gap_s + 1e-9:
                self._start, self._armed, self.phase = None, False, ""
            return None
        self._last_valid_s = t
        if self._start is None:
            if value <= h.exit:
                self._armed, self._rest = True, (i, t)
            elif value >= h.enter and self._armed:
                self._start = self._rest
                self._peak, self._peak_raw = (i, t, value), raw
            if self._start is None:
                self.phase = ""
                return None
        if value > self._peak[2]:
            self._peak, self._peak_raw = (i, t, value), raw
        if value <= h.exit:
            (si, st), (pi, pt, _) = self._start, self._peak
            self._start, self._rest, self.phase = None, (i, t), ""
            if t - st + 1e-9 < h.min_rep_s:
                return None
            rep = RepWindow(si, pi, i, float(st), float(pt), float(t), self._peak_raw)
            self.reps.append(rep)
            return rep
        self.phase = self.names[1] if value < self._peak[2] - h.phase_hysteresis else self.names[0]
        return None
