"""Cleaning landmark and metric series: visibility gating, short-gap filling, zero-lag and causal low-pass.

Everything works along axis 0 (time) of arrays of any trailing shape, column by column, and never invents
data across a gap longer than `max_gap_s`: a NaN that is not filled stays NaN.

>>> x = np.array([0.0, 1.0, np.nan, 3.0, np.nan, np.nan, np.nan, np.nan, 8.0])
>>> fill_gaps(x, fps=30.0, max_gap_s=0.1)
array([ 0.,  1.,  2.,  3., nan, nan, nan, nan,  8.])
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections import deque

import numpy as np
from scipy.signal import butter, sosfiltfilt


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """`[start, stop)` of every run of True in a 1-D boolean array.

    >>> runs(np.array([1, 1, 0, 1, 0, 0, 1], bool))
    [(0, 2), (3, 4), (6, 7)]
    """
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(d[::2], d[1::2])]


def gate_by_visibility(points: np.ndarray, visibility: np.ndarray, min_visibility: float) -> np.ndarray:
    """Copy of `points` (T, K, D) with every landmark whose visibility (T, K) is below the limit set to NaN."""
    out = np.array(points, dtype=np.float64, copy=True)
    out[np.asarray(visibility) < min_visibility] = np.nan
    return out


def body_extent(points: np.ndarray, finite: np.ndarray | None = None) -> np.ndarray:
    """(T,) size of the skeleton in each frame: the diagonal of the bounding box of its finite landmarks
    (T, K, D) (NaN with fewer than 4 landmarks). Stable across views and poses, unlike the torso.
    `finite` (T, K): which landmarks are finite, if already known."""
    p = np.asarray(points, dtype=np.float64)
    ok = np.isfinite(p).all(axis=-1) if finite is None else finite
    where = np.broadcast_to(ok[..., None], p.shape)  # reductions that skip points, no (T, K, D) copies
    lo = p.min(axis=1, where=where, initial=np.inf)
    hi = p.max(axis=1, where=where, initial=-np.inf)
    with np.errstate(invalid="ignore"):
        out = np.sqrt(((hi - lo) ** 2).sum(axis=-1))
    return np.where(ok.sum(axis=1) >= 4, out, np.nan)


def reject_glitches(points: np.ndarray, extent: np.ndarray | float, max_jump: float = 0.1,
                    collapse_ratio: float = 0.3, half_window: int = 2, chunk: int = 1024,
                    copy: bool = True) -> np.ndarray:
    """Copy of `points` (T, K, D) without pose-model glitches, which become NaN (to be filled if short):

    - frames whose skeleton has collapsed (extent below `collapse_ratio` of the clip's typical `extent`,
      e.g. every landmark on one point) lose all their landmarks;
    - a landmark further than `max_jump` x extent from its median over the `half_window` frames either
      side is dropped in that frame: smooth motion stays near that median (0.1 of a 1.7 m person is
      17 cm, a point moving 5 m/s for a frame at 30 fps), a landmark thrown across the image does not.

    `copy=False`: `points` itself is edited and returned when it is a C-contiguous float64 array (`_own`).

    >>> p = np.zeros((7, 4, 2)); p[:, 1:, 0] = [10.0, 0.0, 10.0]; p[:, 3, 1] = 10.0
    >>> p[3, 0] = [9.0, 9.0]  # one landmark thrown away for one frame
    >>> bool(np.isnan(reject_glitches(p, 14.1)[3, 0]).all()), bool(np.isfinite(reject_glitches(p, 14.1)[2]).all())
    (True, True)
    """
    p = _own(points, copy)
    if len(p) == 0:
        return p
    sizes = np.asarray(extent, dtype=np.float64).ravel()
    sizes = sizes[np.isfinite(sizes)]
    scale = float(np.median(sizes)) if len(sizes) else np.nan
    if not np.isfinite(scale) or scale <= 0:
        return p
    size = body_extent(p)
    p[~(size >= collapse_ratio * scale)] = np.nan  # collapsed (or NaN-sized) frames
    if len(p) < 2 * half_window + 1:
        return p
    # In blocks of frames: `nanmedian` over windows with NaNs goes through masked arrays, several copies of
    # 5 x the block; over a whole 10-minute clip at once that was 350 MB. Each window is local: same result.
    # Only the block's windows, medians and deviations exist at a time (whole-clip copies of them were
    # another 40 MB of a 10-minute clip's peak).
    dropped = np.zeros(p.shape[:2], dtype=bool)
    for a in range(0, len(p), chunk):
        b = min(len(p), a + chunk)
        lo, hi = max(0, a - half_window), min(len(p), b + half_window)
        nan_rows = [np.full((n,) + p.shape[1:], np.nan) for n in (half_window - (a - lo), half_window - (hi - b))]
        block = np.concatenate([nan_rows[0], p[lo:hi], nan_rows[1]])  # NaN where a window runs off the clip
        win = np.lib.stride_tricks.sliding_window_view(block, 2 * half_window + 1, axis=0)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: nothing to compare with
            med = np.nanmedian(win, axis=-1)
        dropped[a:b] = np.sqrt(((p[a:b] - med) ** 2).sum(axis=-1)) > max_jump * scale
    p[dropped] = np.nan
    return p


class GlitchGate:
    """Live counterpart of `reject_glitches`: drops a frame whose skeleton collapsed against the recent
    typical extent, and a landmark that jumped more than `max_jump` x extent (per 1/30 s) from where it
    was last accepted; after `max_gap_s` without acceptance the landmark is taken as it is again (the
    person really moved, or the model re-found them).

    Call it with one frame's points (K, D), or with a stack (G, K, D) of G skeletons gated independently,
    each with its own history (e.g. image and world landmarks in one numpy pass; pad 2-D points with z = 0).
    """

    def __init__(self, max_jump: float = 0.1, collapse_ratio: float = 0.3, max_gap_s: float = 0.1,
                 history: int = 90) -> None:
        self.max_jump, self.collapse_ratio, self.max_gap_s = max_jump, collapse_ratio, max_gap_s
        self._extents: list[deque[float]] = []  # per skeleton, the last `history` extents, in order
        self._sorted: list[list[float]] = []  # the same, sorted: the median without sorting every frame
        self._history = history
        self._last: np.ndarray | None = None
        self._t: np.ndarray | None = None

    def __call__(self, t: float, points: np.ndarray) -> np.ndarray:
        """`points` (K, D) or (G, K, D) of one frame, with glitches set to NaN."""
        p = np.array(points, dtype=np.float64, copy=True)
        if p.ndim == 2:
            return self(t, p[None])[0]
        if self._last is None:
            self._extents, self._sorted = [deque() for _ in p], [[] for _ in p]
            self._last, self._t = np.full(p.shape, np.nan), np.full(p.shape[:2], -np.inf)
        ok = np.isfinite(p).all(axis=-1)
        size = body_extent(p, ok)
        scale = np.array([_sorted_median(v) if v else math.nan for v in self._sorted])
        collapsed = np.isfinite(scale) & ~(size >= self.collapse_ratio * scale)
        if collapsed.any():
            p[collapsed] = np.nan  # all lost
            ok &= ~collapsed[:, None]
        dt = t - self._t
        jump = np.sqrt(((p - self._last) ** 2).sum(axis=-1))
        allowed = self.max_jump * scale[:, None] * np.maximum(1.0, dt * 30.0)  # NaN (no glitch) without a scale
        glitch = (jump > allowed) & (dt <= self.max_gap_s + 1e-9)  # only where a finite point jumped
        if glitch.any():
            p[glitch] = np.nan
            ok &= ~glitch
        np.copyto(self._last, p, where=ok[..., None])
        np.copyto(self._t, t, where=ok)
        for g in np.flatnonzero(np.isfinite(size) & (ok.sum(axis=1) >= 4)).tolist():
            extents, ordered = self._extents[g], self._sorted[g]
            extents.append(float(size[g]))
            bisect.insort(ordered, float(size[g]))
            if len(extents) > self._history:
                ordered.pop(bisect.bisect_left(ordered, extents.popleft()))
        return p


def _sorted_median(values: list[float]) -> float:
    """`np.median` of finite values already sorted (the same number: the middle one, or the mean of two)."""
    n = len(values)
    return float(values[n // 2]) if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0


def _columns(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1)


def _own(x: np.ndarray, copy: bool) -> np.ndarray:
    """`x` as a C-contiguous float64 array to edit in place: a copy, or with `copy=False` `x` itself when it
    is one already (a whole clip's landmarks are 14 MB a copy at 10 minutes; chained steps need not each
    make one)."""
    return np.array(x, dtype=np.float64, copy=True) if copy else np.ascontiguousarray(x, dtype=np.float64)


def fill_gaps(x: np.ndarray, fps: float, max_gap_s: float = 0.1, copy: bool = True) -> np.ndarray:
    """Linearly interpolate interior NaN runs of at most `max_gap_s` (both ends must be valid). `copy=False`:
    in `x` itself when it is a C-contiguous float64 array."""
    x = _own(x, copy)
    max_len = int(math.floor(max_gap_s * fps + 1e-9))
    if max_len < 1 or len(x) < 3:
        return x
    cols = _columns(x)
    for j in range(cols.shape[1]):
        col = cols[:, j]
        for a, b in runs(~np.isfinite(col)):
            if a == 0 or b == len(col) or b - a > max_len:
                continue
            col[a:b] = np.interp(np.arange(a, b), [a - 1, b], [col[a - 1], col[b]])
    return x


def butterworth_zero_lag(x: np.ndarray, fps: float, cutoff_hz: float = 6.0, order: int = 4,
                         copy: bool = True, block: int = 16) -> np.ndarray:
    """Zero-lag Butterworth low-pass over each unbroken run of finite samples, column by column.

    `order` is the order of the whole zero-lag filter: a Butterworth of order `order // 2` applied forwards
    and backwards (`sosfiltfilt`), so the phase lag is zero and the roll-off that of `order`. The cut-off is
    given in Hz and scaled to the clip's frame rate (kept below 0.9 x Nyquist for slow clips). Runs of fewer
    than 4 samples are left as they are; NaN stays NaN. `copy=False`: in `x` itself when it is a
    C-contiguous float64 array. `block`: columns filtered per call, which bounds the filter's working copies
    (the result does not depend on it).

    >>> t = np.arange(90) / 30.0
    >>> slow = np.sin(2 * np.pi * 0.5 * t)
    >>> out = butterworth_zero_lag(slow + 0.2 * np.sin(2 * np.pi * 12 * t), fps=30.0)
    >>> float(np.abs(out - slow)[10:-10].max()) < 0.02
    True
    """
    x = _own(x, copy)
    if len(x) < 4 or fps <= 0:
        return x
    wn = min(cutoff_hz / (fps / 2.0), 0.9)
    sos = butter(max(1, order // 2), wn, btype="low", output="sos")
    cols = _columns(x)
    finite = np.isfinite(cols)
    default_pad = 3 * (2 * len(sos) + 1)
    # Columns with the same gaps (the x, y, z of a landmark; every landmark when the person is found whole)
    # are filtered together, one sosfiltfilt call per run instead of one per column and run: same result,
    # a fraction of the time (this was most of the offline analysis's cost). At most `block` columns a call:
    # sosfiltfilt makes four copies of what it is given, 32 MB for a whole 10-minute clip's world landmarks.
    groups: dict[bytes, list[int]] = {}
    for j in range(cols.shape[1]):
        groups.setdefault(np.packbits(finite[:, j]).tobytes(), []).append(j)
    for same_gaps in groups.values():
        for a, b in runs(finite[:, same_gaps[0]]):
            if b - a < 4:
                continue
            for k in range(0, len(same_gaps), block):
                members = same_gaps[k:k + block]
                cols[a:b, members] = sosfiltfilt(sos, cols[a:b, members], axis=0,
                                                 padlen=min(default_pad, b - a - 1))
    return x


class OneEuroFilter:
    """Causal, speed-adaptive low-pass for live use (Casiez, Roussel & Vogel, CHI 2012).

    `min_cutoff_hz`: cut-off at rest (lower = less jitter, more lag when slow); `beta`: how much the cut-off
    rises per unit of speed (higher = less lag when fast), one number or an array broadcasting against the
    samples (e.g. one per column, so pixels and metres share one filter); `d_cutoff_hz`: smoothing of the
    speed estimate; `max_gap_s`: a missing sample (NaN) repeats the last output for up to this long, then
    gives NaN and the filter restarts from the next valid sample. Works element-wise on scalars or arrays of
    a fixed shape.

    >>> f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0)
    >>> [round(float(f(t / 30, 1.0)), 3) for t in range(3)]
    [1.0, 1.0, 1.0]
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float | np.ndarray = 0.0, d_cutoff_hz: float = 1.0,
                 max_gap_s: float = 0.1) -> None:
        self.min_cutoff_hz = float(min_cutoff_hz)
        self.beta = np.asarray(beta, dtype=np.float64) if np.ndim(beta) else float(beta)
        self.d_cutoff_hz = float(d_cutoff_hz)
        self.max_gap_s = float(max_gap_s)
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None  # last output
        self._dx: np.ndarray | None = None  # last smoothed speed
        self._t: np.ndarray | None = None  # time of the last valid sample, per element

    @staticmethod
    def _alpha(cutoff_hz: np.ndarray | float, dt: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + OneEuroFilter._tau(cutoff_hz) / dt)

    @staticmethod
    def _tau(cutoff_hz: np.ndarray | float) -> np.ndarray:
        return 1.0 / (2.0 * np.pi * np.asarray(cutoff_hz))

    def __call__(self, t: float, x: np.ndarray | float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None:
            self._x = np.full(x.shape, np.nan)
            self._dx = np.zeros(x.shape)
            self._t = np.full(x.shape, -np.inf)
            self._tau_d = self._tau(self.d_cutoff_hz)
        valid = np.isfinite(x)
        fresh = valid & ~np.isfinite(self._x)  # first sample, or first after a long gap
        dt = np.where(np.isfinite(self._t), t - self._t, np.inf)
        dt = np.maximum(dt, 1e-6)
        go = valid & ~fresh
        # the element-wise sums over every element, kept where `go` (no gathers; 0-d scalars alike)
        with np.errstate(invalid="ignore", divide="ignore"):
            a_d = 1.0 / (1.0 + self._tau_d / dt)
            edx = a_d * ((x - self._x) / dt) + (1 - a_d) * self._dx
            a = self._alpha(self.min_cutoff_hz + self.beta * np.abs(edx), dt)
            out = np.where(go, a * x + (1 - a) * self._x, self._x)
        self._dx = np.where(go, edx, self._dx)
        np.copyto(out, x, where=fresh)
        np.copyto(self._dx, 0.0, where=fresh)
        np.copyto(self._t, t, where=valid)
        np.copyto(out, np.nan, where=~valid & (t - self._t > self.max_gap_s + 1e-9))  # stale
        self._x = out
        return out.copy() if out.ndim else out[()]


class RunningMax:
    """Causal largest finite value seen so far, carried across calls (offline: one call over the clip;
    live: one call per frame give the same numbers). NaN before the first finite value.

    >>> r = RunningMax()
    >>> r.update(np.array([np.nan, 2.0, 1.0])).tolist(), r.update(np.array([0.5, 3.0])).tolist()
    ([nan, 2.0, 2.0], [2.0, 3.0])
    """

    def __init__(self) -> None:
        self.value = -np.inf

    def update(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = np.fmax.accumulate(np.concatenate(([self.value], np.where(np.isfinite(x), x, -np.inf))))[1:]
        if len(out):
            self.value = float(out[-1])
        return np.where(np.isfinite(out), out, np.nan)
