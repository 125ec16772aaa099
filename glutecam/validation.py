"""Accuracy against rendered ground truth: read a folder of `NAME.mp4` + `NAME.json`, score the measures.

The ground-truth format is the one of `shared/synth_dev/README.md`: `NAME.json` holds `meta` (exercise,
working/free side as "L"/"R", fps, camera with its `view`, and `reps` with start/end frame, a fault label
such as "clean", "drop+8", "drop-8", "rot+8", "hipflex+20" and amplitudes) and `frames` (one dict per frame
with `rep`, `pelvic_drop_free_side_deg` (+ = free side lower), `pelvic_rotation_free_side_back_deg`, ...).

Two ways to measure a clip (`Measurer`):
- `analyser_measurer`: the product's analysers (`glutecam.analysers.get_analyser(name).analyse(track)`),
  scored on their per-frame `pelvic_drop_deg`, their rep count and their per-rep fault codes;
- `estimator_measurer`: `glutecam.metrics.pelvis_estimate.estimate_pelvic_drop` directly, judged per
  ground-truth rep window (no rep counting: reps are "n/a").
`default_measurer()` picks the analysers when they can be imported. Everything here is pure logic over
arrays and dataclasses; running the pose model is the caller's business (`benchmarks/validate.py`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glutecam.files import jsonable

#: README `meta.exercise` -> CLI exercise name.
EXERCISE_NAMES = {
    "split_squat": "split-squat",
    "bulgarian_split_squat": "split-squat",
    "sl_rdl": "single-leg-rdl",
    "single_leg_rdl": "single-leg-rdl",
    "side_lying_abduction": "side-lying-abduction",
    "side_lying_hip_abduction": "side-lying-abduction",
}

#: Fault label word -> (fault code for a positive amplitude, for a negative one).
FAULT_WORDS = {
    "drop": ("pelvic_drop", "hip_hike"),
    "hike": ("hip_hike", "pelvic_drop"),
    "rot": ("pelvic_rotation", "pelvic_rotation"),
    "rotation": ("pelvic_rotation", "pelvic_rotation"),
    "hipflex": ("hip_flexion", "hip_flexion"),
    "flex": ("hip_flexion", "hip_flexion"),
}

#: Fault codes the ground truth can label (others an analyser raises are not scored).
SCORED_CODES = ("pelvic_drop", "hip_hike", "pelvic_rotation", "hip_flexion")

#: Codes read from the pelvic drop (a rep whose drop was not measured cannot raise them).
DROP_CODES = ("pelvic_drop", "hip_hike")

#: Frames whose true |drop| is at least this are scored for the drop error (issue 8).
MIN_TRUE_DROP_DEG = 3.0
#: Frames whose true |drop| is below this count as "clean" for the false-reading percentile.
CLEAN_MAX_DEG = 0.5


def exercise_cli_name(meta_exercise: str) -> str:
    """README exercise value -> CLI name; unknown values pass through with "_" turned into "-".

    >>> exercise_cli_name("sl_rdl"), exercise_cli_name("split_squat")
    ('single-leg-rdl', 'split-squat')
    """
    return EXERCISE_NAMES.get(meta_exercise, meta_exercise.replace("_", "-"))


def fault_codes(label: str) -> dict[str, float]:
    """Fault label of a ground-truth rep -> {fault code: amplitude}; "clean" -> {}.

    >>> fault_codes("drop+8"), fault_codes("drop-8"), fault_codes("rot+8"), fault_codes("hipflex+20")
    ({'pelvic_drop': 8.0}, {'hip_hike': 8.0}, {'pelvic_rotation': 8.0}, {'hip_flexion': 20.0})
    >>> fault_codes("clean")
    {}
    """
    out: dict[str, float] = {}
    for word, amp in re.findall(r"([a-z_]+?)_?([+-]\d+(?:\.\d+)?)", label.lower()):
        if word not in FAULT_WORDS:
            raise ValueError(f"unknown fault label {label!r} (word {word!r})")
        value = float(amp)
        code = FAULT_WORDS[word][0 if value >= 0 else 1]
        out[code] = abs(value)
    if not out and label.lower() not in ("clean", "", "none"):
        raise ValueError(f"unknown fault label {label!r}")
    return out


def _side(s: str) -> str:
    return {"L": "left", "R": "right"}.get(s, s)


@dataclass
class TruthRep:
    index: int  # 1-based, as `meta.reps[].rep`
    start_frame: int
    end_frame: int
    label: str
    faults: dict[str, float]  # code -> amplitude, deg


@dataclass
class GroundTruth:
    """One clip's truth, as arrays over its frames (T,)."""

    name: str
    video: Path
    exercise: str  # CLI name
    view: str  # camera view as in meta.camera.view
    working_side: str  # "left" / "right"
    free_side: str
    fps: float
    reps: list[TruthRep]
    frame: np.ndarray  # (T,) frame numbers
    rep: np.ndarray  # (T,) 0 = between reps
    drop_deg: np.ndarray  # (T,) pelvic_drop_free_side_deg, + = free side lower
    rotation_deg: np.ndarray  # (T,) pelvic_rotation_free_side_back_deg
    meta: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def group(self) -> tuple[str, str]:
        return (self.exercise, self.view)


def read_ground_truth(json_path: str | Path) -> GroundTruth:
    """Read `NAME.json` (README format); the video is `NAME.mp4` beside it."""
    path = Path(json_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    meta, frames = data["meta"], data["frames"]

    def col(key: str) -> np.ndarray:
        return np.array([np.nan if f.get(key) is None else float(f[key]) for f in frames], dtype=np.float64)

    reps = [TruthRep(int(r["rep"]), int(r["start_frame"]), int(r["end_frame"]), str(r.get("fault", "clean")),
                     fault_codes(str(r.get("fault", "clean")))) for r in meta.get("reps", [])]
    return GroundTruth(
        name=path.stem,
        video=path.with_suffix(".mp4"),
        exercise=exercise_cli_name(str(meta["exercise"])),
        view=str(meta.get("camera", {}).get("view", "unknown")),
        working_side=_side(str(meta.get("working_side", ""))),
        free_side=_side(str(meta.get("free_side", ""))),
        fps=float(meta.get("fps", 30.0)),
        reps=reps,
        frame=np.array([int(f["frame"]) for f in frames]),
        rep=np.array([int(f.get("rep", 0) or 0) for f in frames]),
        drop_deg=col("pelvic_drop_free_side_deg"),
        rotation_deg=col("pelvic_rotation_free_side_back_deg"),
        meta=meta,
    )


def find_clips(folder: str | Path) -> list[GroundTruth]:
    """Every `NAME.json` in `folder` that has a `NAME.mp4` beside it, sorted by name."""
    folder = Path(folder)
    return [read_ground_truth(p) for p in sorted(folder.glob("*.json")) if p.with_suffix(".mp4").is_file()]


# -- measuring ---------------------------------------------------------------------------------------------

def _unmeasured_codes(rep) -> frozenset[str]:
    """Fault codes (besides the pelvic drop's) whose measure the analyser left empty over the whole rep."""
    peaks = {"pelvic_rotation": rep.peak_pelvic_rotation_deg,
             "hip_flexion": rep.measures.get("peak_hip_flexion_deg", 0.0)}
    return frozenset(code for code, peak in peaks.items() if peak is None)


@dataclass
class MeasuredRep:
    start_s: float
    end_s: float
    fault_codes: set[str]
    drop_measured: bool = True  # False: the pelvic drop was "not measured" in this rep (view, occlusion)
    unmeasured: frozenset[str] = frozenset()  # other fault codes whose measure the view left empty in this rep
    # the largest pelvic drop (+) and hike (as a positive number) the rep held for the judge's hold, deg, as
    # the pelvic_drop / hip_hike rules compare them with their threshold (None: never held that long)
    drop_held_deg: float | None = None
    hike_held_deg: float | None = None


@dataclass
class Measurement:
    """What a measurer reports for a clip: per-frame drop on the truth's frames, reps with their faults."""

    drop_deg: np.ndarray  # (T,) aligned with GroundTruth.frame; NaN = not measured
    reps: list[MeasuredRep] | None  # None: this measurer does not count reps
    source: str  # "analysers" or "estimator"
    notes: list[str] = field(default_factory=list)


Measurer = Callable[[Any, GroundTruth], Measurement]


def _align(values: np.ndarray, frame_index: np.ndarray, truth_frames: np.ndarray) -> np.ndarray:
    out = np.full(len(truth_frames), np.nan)
    pos = {int(f): i for i, f in enumerate(frame_index)}
    for j, f in enumerate(truth_frames):
        i = pos.get(int(f))
        if i is not None:
            out[j] = values[i]
    return out


def analyser_measurer(track, gt: GroundTruth, pelvis_estimator=None) -> Measurement:
    """Measure with the product's analyser for the clip's exercise (side found automatically; where the
    analyser cannot tell it and asks for `--side`, as from behind a split squat, the clip's true working side
    is passed, as the user would, and a note says so); `pelvis_estimator` replaces the analysers' default
    (`glutecam.metrics.pelvis.PelvisEstimator`)."""
    from glutecam.analysers import get_analyser
    from glutecam.analysers.base import effective_fps
    from glutecam.analysers.judge import sustained_peak

    kw = {} if pelvis_estimator is None else {"pelvis_estimator": pelvis_estimator}
    analyser = get_analyser(gt.exercise, **kw)
    res = analyser.analyse(track, side=None)
    notes = []
    if res.set.side is None and res.set.view != "none" and gt.working_side in ("left", "right"):
        res = analyser.analyse(track, side=gt.working_side)
        notes.append(f"working side not found (the analysis asked for --side): given as {gt.working_side}")
    frames = res.frames
    drop = np.asarray(frames["pelvic_drop_deg"], dtype=np.float64)
    hold = analyser.hold_frames(effective_fps(track))  # as the analysis judges its reps
    t = np.asarray(track.time_s, dtype=np.float64)

    def held(r, sign: float) -> float | None:
        value, k = sustained_peak(sign * drop[(t >= r.start_s - 1e-6) & (t <= r.end_s + 1e-6)], hold)
        return None if k < 0 else round(value, 2)

    reps = [MeasuredRep(float(r.start_s), float(r.end_s), {f.code for f in r.faults},
                        drop_measured=r.peak_pelvic_drop_deg is not None,
                        unmeasured=_unmeasured_codes(r), drop_held_deg=held(r, 1.0), hike_held_deg=held(r, -1.0))
            for r in res.set.reps]
    return Measurement(_align(drop, track.frame_index, gt.frame), reps, "analysers", notes=notes)


#: Threshold and hold used by `estimator_measurer` (issue 3's starting points: 5 deg held 0.1 s).
DIRECT_THRESHOLD_DEG = 5.0
DIRECT_HOLD_S = 0.1


def _held_extreme(x: np.ndarray, hold: int, sign: float) -> float:
    """Largest value `sign * x` keeps for `hold` consecutive frames (NaN frames break a run)."""
    y = sign * x
    if len(y) < hold or not np.isfinite(y).any():
        return float("nan")
    win = np.lib.stride_tricks.sliding_window_view(y, hold)
    with np.errstate(invalid="ignore"):
        lows = np.where(np.isfinite(win).all(axis=1), win.min(axis=1), np.nan)
    return float(np.nanmax(lows)) if np.isfinite(lows).any() else float("nan")


def estimator_measurer(track, gt: GroundTruth, calibration=None) -> Measurement:
    """Measure with `estimate_pelvic_drop` (calibration for the clip's exercise and view), baseline = the
    first 0.5 s of still frames; faults judged in each ground-truth rep window (drop/hike held >= 0.1 s
    beyond 5 deg). Rotation and hip flexion are not judged here (the analysers own them). `calibration`
    overrides `calibration_for(exercise, view)` (e.g. a leave-one-clip-out fit)."""
    from glutecam.metrics.pelvis_estimate import calibration_for, estimate_pelvic_drop, still_lead_in

    xy = track.image_px[..., :2]
    base = still_lead_in(xy, track.fps)
    cal = calibration if calibration is not None else calibration_for(gt.exercise, gt.view)
    est = estimate_pelvic_drop(xy, gt.free_side, base, view=gt.view, calibration=cal,
                               visibility=track.visibility)
    drop = _align(est.drop_deg, track.frame_index, gt.frame)
    hold = max(1, int(round(DIRECT_HOLD_S * gt.fps)))
    reps = []
    for r in gt.reps:
        seg = drop[(gt.frame >= r.start_frame) & (gt.frame < r.end_frame)]
        codes = set()
        if _held_extreme(seg, hold, +1.0) >= DIRECT_THRESHOLD_DEG:
            codes.add("pelvic_drop")
        if _held_extreme(seg, hold, -1.0) >= DIRECT_THRESHOLD_DEG:
            codes.add("hip_hike")
        reps.append(MeasuredRep(r.start_frame / gt.fps, r.end_frame / gt.fps, codes,
                                drop_measured=bool(np.isfinite(seg).any())))
    return Measurement(drop, reps, "estimator", notes=["reps: ground-truth windows (not counted)",
                                                       "faults judged: pelvic_drop, hip_hike"])


def default_measurer() -> Measurer:
    """The analysers when they are importable, else the estimator. Swap here, in one line."""
    try:
        from glutecam.analysers import get_analyser  # noqa: F401
    except ImportError:
        return estimator_measurer
    return analyser_measurer


# -- scoring -------------------------------------------------------------------------------------------

@dataclass
class ClipScore:
    name: str
    exercise: str
    view: str
    true_drop_deg: np.ndarray  # frames with |truth| >= MIN_TRUE_DROP_DEG (all of them, measured or not)
    measured_drop_deg: np.ndarray  # same frames; NaN = not measured
    clean_abs_deg: np.ndarray  # |measured| on frames with |truth| < CLEAN_MAX_DEG, measured ones only
    clean_frames: int
    reps_true: int
    reps_measured: int | None
    fault_matches: list[tuple[str, bool, bool, float, bool]]  # (code, in truth, flagged, amplitude, measurable)
    source: str
    # per truth rep: (rep, label, drop held, hike held, codes flagged) of the measured rep matched to it
    rep_readings: list[tuple[int, str, float | None, float | None, list[str]]] = field(default_factory=list)


def _match_reps(gt: GroundTruth, reps: list[MeasuredRep]) -> list[MeasuredRep | None]:
    """For each truth rep, the measured rep overlapping it most (or None)."""
    out = []
    for r in gt.reps:
        a, b = r.start_frame / gt.fps, r.end_frame / gt.fps
        best, best_ov = None, 0.0
        for m in reps:
            ov = min(b, m.end_s) - max(a, m.start_s)
            if ov > best_ov:
                best, best_ov = m, ov
        out.append(best)
    return out


def score_clip(gt: GroundTruth, m: Measurement, codes: Iterable[str] | None = None) -> ClipScore:
    """Compare one clip's measurement with its truth. `codes`: the fault codes to score (default: those the
    measurer judges, i.e. all codes for the analysers, drop/hike for the estimator)."""
    big = np.abs(gt.drop_deg) >= MIN_TRUE_DROP_DEG
    clean = np.abs(gt.drop_deg) < CLEAN_MAX_DEG
    clean_vals = m.drop_deg[clean]
    judged = set(codes) if codes is not None else (
        {"pelvic_drop", "hip_hike"} if m.source == "estimator" else set(SCORED_CODES))
    matches, readings = [], []
    if m.reps is not None:
        for r, mr in zip(gt.reps, _match_reps(gt, m.reps)):
            measured = mr.fault_codes if mr is not None else set()
            readings.append((r.index, r.label, mr.drop_held_deg if mr else None, mr.hike_held_deg if mr else None,
                             sorted(measured)))
            for c in sorted(judged):
                measurable = mr is None or ((mr.drop_measured or c not in DROP_CODES) and c not in mr.unmeasured)
                matches.append((c, c in r.faults, c in measured, float(r.faults.get(c, 0.0)), measurable))
    return ClipScore(
        name=gt.name, exercise=gt.exercise, view=gt.view,
        true_drop_deg=gt.drop_deg[big], measured_drop_deg=m.drop_deg[big],
        clean_abs_deg=np.abs(clean_vals[np.isfinite(clean_vals)]), clean_frames=int(clean.sum()),
        reps_true=len(gt.reps), reps_measured=(None if m.source == "estimator" or m.reps is None else len(m.reps)),
        fault_matches=matches, source=m.source, rep_readings=readings,
    )


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x (with intercept); NaN with fewer than 3 points or no spread."""
    if len(x) < 3 or np.ptp(x) < 1e-9:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def _gain(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x through the origin (y = k x): the share of the truth measured; NaN
    with fewer than 3 points."""
    if len(x) < 3 or float(x @ x) == 0.0:
        return float("nan")
    return float((x @ y) / (x @ x))


@dataclass
class GroupRow:
    """One line of the accuracy table: an exercise seen from one view, pooled over its clips."""

    exercise: str
    view: str
    clips: list[str]
    frames_scored: int  # frames with |true drop| >= 3 deg
    coverage: float  # share of them measured (not NaN)
    mae_deg: float
    slope: float
    bias_deg: float
    clean_p95_deg: float  # 95th percentile of |measured| where the truth is < 0.5 deg
    reps_exact: str  # "k/n clips" or "n/a"
    faults: dict[str, dict[str, Any]]  # code -> {tp, fp, fn, not_measured (of fn), precision, recall}
    # slope through the origin, the share of the truth read: with intercept, a bias that grows with the
    # movement (as the fault does) inflates `slope`; see docs/accuracy.md
    gain: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN -> None)."""
        return jsonable(asdict(self))


def summarise(scores: list[ClipScore]) -> list[GroupRow]:
    """Pool clip scores per (exercise, view) into table rows."""
    groups: dict[tuple[str, str], list[ClipScore]] = {}
    for s in scores:
        groups.setdefault((s.exercise, s.view), []).append(s)
    rows = []
    for (ex, view), ss in sorted(groups.items()):
        t = np.concatenate([s.true_drop_deg for s in ss])
        y = np.concatenate([s.measured_drop_deg for s in ss])
        ok = np.isfinite(y)
        clean = np.concatenate([s.clean_abs_deg for s in ss])
        counted = [s for s in ss if s.reps_measured is not None]
        faults: dict[str, dict[str, Any]] = {}
        for s in ss:
            for code, truth, flagged, _amp, measurable in s.fault_matches:
                f = faults.setdefault(code, {"tp": 0, "fp": 0, "fn": 0, "not_measured": 0})
                f["tp"] += truth and flagged
                f["fp"] += (not truth) and flagged
                f["fn"] += truth and not flagged
                f["not_measured"] += truth and not flagged and not measurable
        for f in faults.values():
            f["precision"] = f["tp"] / (f["tp"] + f["fp"]) if f["tp"] + f["fp"] else None
            f["recall"] = f["tp"] / (f["tp"] + f["fn"]) if f["tp"] + f["fn"] else None
        rows.append(GroupRow(
            exercise=ex, view=view, clips=[s.name for s in ss], frames_scored=int(len(t)),
            coverage=float(ok.mean()) if len(t) else float("nan"),
            mae_deg=float(np.mean(np.abs(y[ok] - t[ok]))) if ok.any() else float("nan"),
            slope=_slope(t[ok], y[ok]),
            gain=_gain(t[ok], y[ok]),
            bias_deg=float(np.mean(y[ok] - t[ok])) if ok.any() else float("nan"),
            clean_p95_deg=float(np.percentile(clean, 95)) if len(clean) else float("nan"),
            reps_exact=(f"{sum(s.reps_measured == s.reps_true for s in counted)}/{len(counted)}"
                        if counted else "n/a"),
            faults=faults,
        ))
    return rows


def _fmt(v: Any, nd: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{nd}f}" if isinstance(v, float) else str(v)


def format_table(rows: list[GroupRow]) -> str:
    """Markdown table of the rows (also readable in a terminal)."""
    head = ("| exercise | view | clips | frames ≥3° | measured | MAE ° | slope | gain | bias ° | clean p95 ° | "
            "reps exact | faults: P / R (tp fp fn; fn not measured) |")
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in rows:
        faults = "; ".join(
            f"{c} {_fmt(f['precision'])} / {_fmt(f['recall'])} ({f['tp']} {f['fp']} {f['fn']}"
            + (f"; {f['not_measured']} n/m)" if f["not_measured"] else ")")
            for c, f in sorted(r.faults.items()) if f["tp"] + f["fp"] + f["fn"]) or "–"
        lines.append(
            f"| {r.exercise} | {r.view} | {len(r.clips)} | {r.frames_scored} | {_fmt(r.coverage)} | "
            f"{_fmt(r.mae_deg)} | {_fmt(r.slope)} | {_fmt(r.gain)} | {_fmt(r.bias_deg)} | {_fmt(r.clean_p95_deg)} | "
            f"{r.reps_exact} | {faults} |")
    return "\n".join(lines)


# -- calibration fitting (leave-one-clip-out) ----------------------------------------------------------------

@dataclass
class FitSample:
    """What fitting a `DropCalibration` needs from one clip: its landmarks and its truth, on the same frames."""

    name: str
    image_xy: np.ndarray  # (T, 33, 2) px
    visibility: np.ndarray  # (T, 33)
    baseline: np.ndarray  # (T,) bool
    free_side: str
    view: str
    true_drop_deg: np.ndarray  # (T,) NaN where the truth has no frame


def fit_sample(track, gt: GroundTruth) -> FitSample:
    from glutecam.metrics.pelvis_estimate import still_lead_in

    xy = track.image_px[..., :2]
    return FitSample(gt.name, xy, track.visibility, still_lead_in(xy, track.fps), gt.free_side, gt.view,
                     _align(gt.drop_deg, gt.frame, track.frame_index))


def _drops(samples: list[FitSample], cal) -> list[tuple[np.ndarray, np.ndarray]]:
    from glutecam.metrics.pelvis_estimate import estimate_pelvic_drop

    return [(estimate_pelvic_drop(s.image_xy, s.free_side, s.baseline, view=s.view, calibration=cal,
                                  visibility=s.visibility).drop_deg, s.true_drop_deg) for s in samples]


def fit_calibration(samples: list[FitSample], base=None, lifts: Iterable[float] = np.arange(0.0, 0.301, 0.01)):
    """Fit `thigh_lift` then `gain` of a `DropCalibration` on clips of one exercise and view.

    thigh_lift: the value (grid) that brings the estimate closest to 0 (mean square) on clean frames
    (|truth| < 0.5 deg); 0 if no clean frame. gain: least-squares slope through the origin of the
    gain-1 estimate on the truth over frames with |truth| >= 1 deg, clipped to 0.2..1.2; 1 if none.
    `base` supplies the fields not fitted (validity thresholds).
    """
    from dataclasses import replace

    from glutecam.metrics.pelvis_estimate import DropCalibration

    base = base or DropCalibration()
    best_lift, best_err = 0.0, math.inf
    for lift in lifts:
        cal = replace(base, gain=1.0, thigh_lift=float(lift))
        errs = [d[(np.abs(t) < CLEAN_MAX_DEG) & np.isfinite(d)] for d, t in _drops(samples, cal)]
        errs = np.concatenate(errs) if errs else np.array([])
        if len(errs) == 0:
            best_lift = 0.0
            break
        e = float(np.mean(errs ** 2))
        if e < best_err - 1e-9:
            best_lift, best_err = float(lift), e
    cal = replace(base, gain=1.0, thigh_lift=best_lift)
    num = den = 0.0
    for d, t in _drops(samples, cal):
        m = (np.abs(t) >= 1.0) & np.isfinite(d)
        num += float(t[m] @ d[m])
        den += float(t[m] @ t[m])
    gain = float(np.clip(num / den, 0.2, 1.2)) if den > 0 else 1.0
    return replace(base, gain=gain, thigh_lift=best_lift, fitted_on=tuple(s.name for s in samples))


def format_rep_readings(scores: list[ClipScore]) -> str:
    """Markdown: per exercise and view, the range of the drop (or, side-lying, the hike) each kind of truth rep
    held for the judge's hold, and any rep whose flagged codes the truth does not have."""
    groups: dict[tuple[str, str], dict[str, list[float]]] = {}
    odd = []
    reads_hike = {"side-lying-abduction"}  # the exercises whose reading is the hike, not the drop
    for s in scores:
        for index, label, drop, hike, codes in s.rep_readings:
            value = hike if s.exercise in reads_hike else drop
            groups.setdefault((s.exercise, s.view), {}).setdefault(label, []).append(
                float("nan") if value is None else value)
            truth = set(fault_codes(label))
            extra = [c for c in codes if c not in truth]
            if extra:
                odd.append(f"{s.name} rep {index} ({label}): {', '.join(extra)}")
    lines = ["| exercise | view | reading | per kind of rep: min-max (reps; not measured) |",
             "| --- | --- | --- | --- |"]
    for (ex, view), kinds in sorted(groups.items()):
        parts = []
        for label, vals in sorted(kinds.items()):
            v = np.array(vals)
            ok = v[np.isfinite(v)]
            rng = f"{ok.min():.1f}-{ok.max():.1f}" if len(ok) else "-"
            parts.append(f"{label} {rng} ({len(v)}; {int((~np.isfinite(v)).sum())})")
        what = "hike" if ex in reads_hike else "drop"
        lines.append(f"| {ex} | {view} | {what} held | {'; '.join(parts)} |")
    lines.append("")
    lines.append("Reps flagged with a code their truth does not have: " + ("; ".join(odd) if odd else "none"))
    return "\n".join(lines)


def summarise_per_clip(scores: list[ClipScore]) -> list[GroupRow]:
    """One row per clip (same columns as `summarise`)."""
    rows = []
    for s in scores:
        (row,) = summarise([s])
        row.view = f"{s.view} ({s.name})"
        rows.append(row)
    return rows
