"""From per-frame columns to verdicts: fault rules, one rep's result, the set's summary, not-measured spans.

A fault rule reads one column. Per rep, its value is the *sustained* extreme: the largest level the value
holds for at least `min_hold_s` (so one noisy frame is not a fault); live, it is the current frame's value.

>>> sustained_peak(np.array([0.0, 9.0, 1.0, 6.0, 6.5, 6.2, 2.0]), 3)
(6.0, 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from glutecam.config import LOWER_IS_WORSE, FaultThreshold
from glutecam.filters import runs
from glutecam.reps import RepWindow
from glutecam.results import Fault, NotMeasured, RepResult

Kind = Literal["frame", "range", "tempo"]


@dataclass(frozen=True)
class FaultRule:
    """How one fault code is read from the frame columns.

    kind "frame": `column` times `sign` (absolute value if `both_ways`), minus its baseline value if
    `from_baseline`, must stay above the threshold for `min_hold_s`; "range": the rep's peak of `column`
    must reach the threshold; "tempo": the rep must last the threshold (seconds). `message` is formatted
    with value, threshold, free and working (sides).
    """

    code: str
    column: str
    message: str
    kind: Kind = "frame"
    sign: float = 1.0
    both_ways: bool = False
    from_baseline: bool = False

    def values(self, col: np.ndarray, baseline: float | None) -> np.ndarray:
        v = np.asarray(col, dtype=np.float64)
        if self.from_baseline:
            v = v - (np.nan if baseline is None else baseline)
        return np.abs(v) if self.both_ways else self.sign * v

    def value_1(self, x: float, baseline: float | None) -> float:
        """`values` of one frame's value (live)."""
        if self.from_baseline:
            x = x - (math.nan if baseline is None else baseline)
        return abs(x) if self.both_ways else self.sign * x


def sustained_peak(x: np.ndarray, n: int) -> tuple[float, int]:
    """Largest level `x` holds for `n` consecutive samples, and the index of the peak inside that window
    ((NaN, -1) when no window of `n` finite samples exists)."""
    x = np.asarray(x, dtype=np.float64)
    n = max(1, int(n))
    if len(x) < n:
        return math.nan, -1
    win = sliding_window_view(x, n)
    ok = np.isfinite(win).all(axis=1)
    if not ok.any():
        return math.nan, -1
    lows = np.where(ok, win.min(axis=1), -np.inf)
    k = int(np.argmax(lows))
    return float(lows[k]), k + int(np.argmax(win[k]))


def _severity(code: str, value: float, cfg: FaultThreshold) -> str:
    if code in LOWER_IS_WORSE:
        return "major" if value <= cfg.major else "minor"
    return "major" if value >= cfg.major else "minor"


def _beyond(code: str, value: float, threshold: float) -> bool:
    return value < threshold if code in LOWER_IS_WORSE else value > threshold


def _fault(rule: FaultRule, value: float, threshold: float, cfg: FaultThreshold, at_s: float,
           sides: Mapping[str, str]) -> Fault:
    # the threshold of a relative rule may sit below the absolute one; major stays as far beyond it
    major = FaultThreshold(threshold, cfg.major - cfg.threshold + threshold) if cfg.relative is not None else cfg
    return Fault(code=rule.code, severity=_severity(rule.code, value, major), value=round(float(value), 2),
                 threshold=round(float(threshold), 2), at_s=round(float(at_s), 3),
                 message=rule.message.format(value=value, threshold=threshold, **sides))


def rule_threshold(rule: FaultRule, cfg: FaultThreshold, baselines: Mapping[str, float]) -> float:
    return cfg.effective_threshold(baselines.get(rule.column))


def rep_faults(rules: tuple[FaultRule, ...], faults_cfg: Mapping[str, FaultThreshold], frames: Mapping[str, np.ndarray],
               time_s: np.ndarray, rep: RepWindow, baselines: Mapping[str, float], hold_n: int,
               sides: Mapping[str, str]) -> tuple[list[Fault], list[str]]:
    """Faults of one rep, and the codes that could not be judged (their column was never measured)."""
    faults, unjudged = [], []
    sl = slice(rep.start, rep.end + 1)
    for rule in rules:
        cfg = faults_cfg.get(rule.code)
        if cfg is None or not cfg.enabled:
            continue
        threshold = rule_threshold(rule, cfg, baselines)
        if rule.kind == "tempo":
            value, at = rep.duration_s, rep.end_s
        else:
            v = rule.values(frames[rule.column][sl], baselines.get(rule.column))
            if rule.kind == "range":
                ok = np.isfinite(v)
                if not ok.any():
                    unjudged.append(rule.code)
                    continue
                k = int(np.nanargmax(v))
                value, at = float(v[k]), float(time_s[rep.start + k])
            else:
                value, k = sustained_peak(v, hold_n)
                if k < 0:
                    unjudged.append(rule.code)
                    continue
                at = float(time_s[rep.start + k])
        if np.isfinite(threshold) and _beyond(rule.code, value, threshold):
            faults.append(_fault(rule, value, threshold, cfg, at, sides))
    return faults, unjudged


def frame_faults(rules: tuple[FaultRule, ...], faults_cfg: Mapping[str, FaultThreshold], values: Mapping[str, float],
                 t: float, baselines: Mapping[str, float], sides: Mapping[str, str]) -> list[Fault]:
    """Faults beyond their threshold in one frame (live); rep-level rules (range, tempo) are left out."""
    out = []
    for rule in rules:
        cfg = faults_cfg.get(rule.code)
        if rule.kind != "frame" or cfg is None or not cfg.enabled:
            continue
        value = rule.value_1(float(values.get(rule.column, math.nan)), baselines.get(rule.column))
        threshold = rule_threshold(rule, cfg, baselines)
        if math.isfinite(value) and math.isfinite(threshold) and _beyond(rule.code, value, threshold):
            out.append(_fault(rule, value, threshold, cfg, t, sides))
    return out


def not_measured_spans(metric: str, reasons: np.ndarray, time_s: np.ndarray, merge_gap_s: float = 0.5) -> list[NotMeasured]:
    """Runs of frames with the same reason as `NotMeasured` spans; runs of one reason closer than
    `merge_gap_s` are merged, so a flickering landmark gives one entry, not hundreds."""
    out: list[NotMeasured] = []
    reasons = np.asarray(reasons, dtype=object)
    for reason in sorted({r for r in reasons if r}):
        spans: list[list[float]] = []
        for a, b in runs(reasons == reason):
            start, end = float(time_s[a]), float(time_s[b - 1])
            if spans and start - spans[-1][1] <= merge_gap_s:
                spans[-1][1] = end
            else:
                spans.append([start, end])
        out += [NotMeasured(metric, reason, round(s, 3), round(e, 3)) for s, e in spans]
    return sorted(out, key=lambda nm: (nm.start_s, nm.metric))


def _extreme(x: np.ndarray) -> float | None:
    """Signed value of largest magnitude (None if nothing was measured)."""
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).any():
        return None
    return round(float(x[np.nanargmax(np.abs(x))]), 2)


def _mean(x: np.ndarray) -> float | None:
    x = np.asarray(x, dtype=np.float64)
    return round(float(np.nanmean(x)), 2) if np.isfinite(x).any() else None


@dataclass(frozen=True)
class MeasureSpec:
    """One of an exercise's own per-rep numbers: `name` (keyed `<name>_<unit>`) = `reduce` of `column`."""

    name: str
    column: str
    reduce: Literal["max", "min", "extreme", "mean"] = "max"

    def __call__(self, col: np.ndarray) -> float | None:
        col = np.asarray(col, dtype=np.float64)
        if not np.isfinite(col).any():
            return None
        if self.reduce == "extreme":
            return _extreme(col)
        f = {"max": np.nanmax, "min": np.nanmin, "mean": np.nanmean}[self.reduce]
        return round(float(f(col)), 2)


def judge_rep(index: int, rep: RepWindow, frames: Mapping[str, np.ndarray], time_s: np.ndarray,
              reasons: Mapping[str, np.ndarray], rules: tuple[FaultRule, ...],
              faults_cfg: Mapping[str, FaultThreshold], measures: tuple[MeasureSpec, ...],
              baselines: Mapping[str, float], hold_n: int, side: str, free_side: str,
              primary: str = "pelvic_drop_deg") -> RepResult:
    """The `RepResult` of one rep from the frame columns over its window.

    Verdict: "fault" with any fault; else "unmeasured" when the `primary` measure is missing around the
    rep's peak (the moment that matters, e.g. the bottom of a hinge hidden from the front); else "good".
    """
    sl = slice(rep.start, rep.end + 1)
    sides = {"free": free_side, "working": side}
    faults, unjudged = rep_faults(rules, faults_cfg, frames, time_s, rep, baselines, hold_n, sides)
    t = time_s[sl]
    not_measured = [nm for metric, r in reasons.items() for nm in not_measured_spans(metric, r[sl], t)]
    measured = {m.name: m(frames[m.column][sl]) for m in measures}
    measured["duration_s"] = round(rep.duration_s, 3)
    near_peak = slice(max(rep.start, rep.peak - hold_n), min(rep.end, rep.peak + hold_n) + 1)
    primary_seen = np.isfinite(np.asarray(frames[primary][near_peak], dtype=np.float64)).any()
    verdict = "fault" if faults else "good" if primary_seen else "unmeasured"
    if unjudged:
        not_measured.append(NotMeasured("faults", "could not judge: " + ", ".join(unjudged), rep.start_s, rep.end_s))
    return RepResult(
        index=index, start_s=round(rep.start_s, 3), end_s=round(rep.end_s, 3), peak_s=round(rep.peak_s, 3),
        side=side, peak_pelvic_drop_deg=_extreme(frames["pelvic_drop_deg"][sl]),
        mean_pelvic_drop_deg=_mean(frames["pelvic_drop_deg"][sl]),
        peak_pelvic_rotation_deg=_extreme(frames["pelvis_rotation_deg"][sl]),
        measures=measured, faults=sorted(faults, key=lambda f: f.at_s), verdict=verdict,
        not_measured=sorted(not_measured, key=lambda nm: (nm.start_s or 0.0, nm.metric)),
    )


def set_summary(reps: list[RepResult], fault_fraction: float) -> dict:
    """The set's summary: counts, per-fault tallies, the faults seen in several reps, and the verdict.

    Verdict: "unmeasured" without a judged rep; "fault" when at least `fault_fraction` of the reps (and
    at least one) has a fault; else "good".
    """
    n = len(reps)
    faulty = [r for r in reps if r.faults]
    counts: dict[str, int] = {}
    for r in reps:
        for code in sorted({f.code for f in r.faults}):
            counts[code] = counts.get(code, 0) + 1
    judged = [r for r in reps if r.verdict != "unmeasured"]
    need = max(1, math.ceil(fault_fraction * n - 1e-9))
    if not judged:
        verdict = "unmeasured"
    else:
        verdict = "fault" if len(faulty) >= need else "good"
    drops = [r.peak_pelvic_drop_deg for r in reps if r.peak_pelvic_drop_deg is not None]
    return {
        "n_reps": n,
        "verdict": verdict,
        "reps_with_faults": len(faulty),
        "reps_unmeasured": n - len(judged),
        "fault_counts": counts,
        "consistent_faults": sorted(c for c, k in counts.items() if k >= need),
        "max_pelvic_drop_deg": max(drops) if drops else None,
        "mean_rep_s": round(float(np.mean([r.duration_s for r in reps])), 3) if reps else None,
    }

