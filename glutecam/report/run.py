"""An `analyse` output folder read back for review: summary, set, per-frame measures, thresholds.

The report, the batch index, `compare` and the clip's fault labels all read runs through this module, so
they agree on which measure belongs to which fault and which moment of a rep is its worst.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Per-frame measures the report can draw: column -> (label, fault codes judged on it).
MEASURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pelvic_drop_deg": ("Pelvic drop (+ = free side lower)", ("pelvic_drop", "hip_hike")),
    "pelvis_rotation_deg": ("Pelvic rotation (+ = free side back)", ("pelvic_rotation", "pelvis_roll_back")),
    "knee_flexion_deg": ("Knee flexion", ("knee_bend",)),
    "hip_abduction_deg": ("Hip abduction", ()),
    "hip_flexion_deg": ("Hip flexion", ("hip_flexion",)),
    "fppa_deg": ("Knee FPPA (+ = knee inward)", ("knee_valgus",)),
    "trunk_lean_deg": ("Lateral trunk lean", ("trunk_lean",)),
    "trunk_forward_lean_deg": ("Forward trunk lean", ()),
    "pelvis_obliquity_deg": ("Raw hip line (+ = left hip higher)", ()),
}

#: The exercise's key measures, drawn after pelvic drop and rotation.
KEY_MEASURES: dict[str, tuple[str, ...]] = {
    "split-squat": ("knee_flexion_deg", "fppa_deg", "trunk_lean_deg"),
    "single-leg-rdl": ("trunk_forward_lean_deg", "fppa_deg", "trunk_lean_deg"),
    "side-lying-abduction": ("hip_abduction_deg", "hip_flexion_deg", "knee_flexion_deg"),
}

#: The measure whose range `short_range` judges (a target to reach, not a limit to stay under).
RANGE_MEASURE = {"split-squat": "knee_flexion_deg", "single-leg-rdl": "trunk_forward_lean_deg",
                 "side-lying-abduction": "hip_abduction_deg"}

#: Faults judged on a value falling below the threshold.
LOWER_IS_WORSE = frozenset({"short_range", "rushed"})

#: Fault codes drawn below zero on their measure's axis (a hike is a negative drop).
NEGATIVE_CODES = frozenset({"hip_hike"})


def fault_measure(code: str, exercise: str | None) -> str | None:
    """The per-frame column a fault is judged on (None for tempo and unknown codes)."""
    if code == "short_range":
        return RANGE_MEASURE.get(exercise or "")
    for col, (_, codes) in MEASURES.items():
        if code in codes:
            return col
    return None


def rep_measure(rep: dict[str, Any], col: str) -> float | None:
    """A rep's value of a per-frame measure: `measures["peak_<col>"]` (the analysers' key), else `measures[col]`."""
    m = rep.get("measures") or {}
    return finite_float(m.get(f"peak_{col}", m.get(col)))


def measure_label(key: str) -> str:
    """Display label of a `measures` key such as `peak_knee_flexion_deg` -> `Knee flexion, peak (°)`."""
    prefix = ""
    for p in ("peak_", "mean_", "min_", "max_"):
        if key.startswith(p):
            prefix, key = p[:-1], key[len(p):]
            break
    label = MEASURES[key][0] if key in MEASURES else key.rsplit("_", 1)[0].replace("_", " ").capitalize()
    unit = {"deg": "°", "s": "s", "m": "m", "px": "px"}.get(key.rsplit("_", 1)[-1], "")
    return f"{label}{', ' + prefix if prefix else ''}{f' ({unit})' if unit else ''}"


def fault_badness(f: dict[str, Any]) -> float:
    """How far past its threshold a fault went, as a ratio (> 1), major faults first."""
    value, thr = finite_float(f.get("value")), finite_float(f.get("threshold"))
    ratio = 1.0
    if value is not None and thr:
        ratio = (abs(thr) / max(abs(value), 1e-6)) if f.get("code") in LOWER_IS_WORSE else abs(value) / abs(thr)
    return ratio + (10.0 if f.get("severity") == "major" else 0.0)


def finite_float(v: Any) -> float | None:
    """`v` as a finite float; None for None, NaN, infinities and anything that is not a number.

    >>> finite_float("2.5"), finite_float(float("nan")), finite_float(None), finite_float("n/a")
    (2.5, None, None, None)
    """
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def set_verdict(set_dict: dict[str, Any]) -> str | None:
    """A set's verdict (a `reps.json` dict): the one its summary recorded; for a set written before summaries
    had one, `fault` when at least half its reps had a fault, else `good`; None for such a set without reps.

    >>> set_verdict({"summary": {"verdict": "unmeasured"}}), set_verdict({"reps": [{"verdict": "fault"}, {}]})
    ('unmeasured', 'fault')
    """
    v = (set_dict.get("summary") or {}).get("verdict")
    if v:
        return str(v)
    reps = set_dict.get("reps") or []
    if not reps:
        return None
    n_fault = sum(1 for r in reps if r.get("verdict") == "fault")
    return "fault" if n_fault * 2 >= len(reps) else "good"


def verdict_label(set_dict: dict[str, Any] | None) -> str:
    """The verdict pages show: `set_verdict`, else `no reps`; `no exercise` without a set (no reps.json)."""
    if set_dict is None:
        return "no exercise"
    return set_verdict(set_dict) or "no reps"


class RunError(ValueError):
    """A folder that is not a glutecam output folder (no summary.json) or whose files cannot be read."""


@dataclass
class Run:
    """One output folder of `glutecam analyse`."""

    path: Path
    summary: dict[str, Any]
    set: dict[str, Any] | None  # reps.json (SetResult.to_dict()), None without --exercise
    frames: dict[str, np.ndarray] = field(default_factory=dict)  # numeric columns of frames.csv
    views: list[str] = field(default_factory=list)  # frames.csv `view`, when present

    # -- what the run is ------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The clip's file name (from summary.json), else the folder's name."""
        src = (self.summary.get("source") or {}).get("path")
        return Path(src).name if src else self.path.name

    @property
    def exercise(self) -> str | None:
        return (self.set or {}).get("exercise") or self.summary.get("exercise")

    @property
    def side(self) -> str | None:
        return (self.set or {}).get("side")

    @property
    def reps(self) -> list[dict[str, Any]]:
        return list((self.set or {}).get("reps") or [])

    @property
    def video(self) -> Path | None:
        """The annotated clip in the folder, if this run wrote it: one left by an earlier run in the same
        folder (this run interrupted, or made with --no-video) belongs to another analysis."""
        p = self.path / "annotated.mp4"
        outputs = self.summary.get("outputs")
        if isinstance(outputs, dict) and p.name not in outputs.values():
            return None
        return p if p.is_file() else None

    @property
    def source_video(self) -> Path | None:
        src = (self.summary.get("source") or {}).get("path")
        return Path(src) if src and Path(src).is_file() else None

    @property
    def verdict(self) -> str:
        """The set's verdict (good/fault/unmeasured), `no reps` with an exercise but no rep, `no exercise`."""
        return verdict_label(self.set)

    @property
    def duration_s(self) -> float:
        t = self.frames.get("time_s")
        if t is not None and len(t) and np.isfinite(t).any():
            return float(np.nanmax(t))
        return float((self.summary.get("source") or {}).get("duration_s") or 0.0)

    # -- thresholds and moments -----------------------------------------------------------------------------
    def thresholds(self) -> tuple[dict[str, dict[str, Any]], str]:
        """Fault thresholds in force, and where they came from (the run itself, or glutecam's defaults)."""
        if self.summary.get("thresholds"):
            return dict(self.summary["thresholds"]), "as used for this run"
        found: dict[str, dict[str, Any]] = {}
        if self.exercise:
            from glutecam.config import ConfigError, load_config
            from glutecam.report.clip import thresholds_of

            try:
                found = thresholds_of(load_config(None), self.exercise)
            except ConfigError:  # an exercise this glutecam does not know: fall back to the faults' own
                found = {}
        for rep in self.reps:
            for f in rep.get("faults") or []:
                found.setdefault(f["code"], {"threshold": f.get("threshold"), "major": None})
        return found, "glutecam defaults (the run did not record its own)"

    def worst_moment_s(self, rep: dict[str, Any]) -> float:
        """The moment a still of this rep should show: its worst fault, else its largest pelvic drop."""
        faults = rep.get("faults") or []
        if faults:
            f = max(faults, key=fault_badness)
            if finite_float(f.get("at_s")) is not None:
                return float(f["at_s"])
        t, drop = self.frames.get("time_s"), self.frames.get("pelvic_drop_deg")
        if t is not None and drop is not None:
            inside = (t >= rep["start_s"]) & (t <= rep["end_s"]) & np.isfinite(drop)
            if inside.any():
                idx = np.flatnonzero(inside)
                return float(t[idx[np.argmax(np.abs(drop[idx]))]])
        return float(rep.get("peak_s") if finite_float(rep.get("peak_s")) is not None else rep["start_s"])


def _read_frames(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    wanted = {"time_s", "frame", "rep", "detected", *MEASURES}
    cols: dict[str, list[float]] = {}
    views: list[str] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        idx = {name: i for i, name in enumerate(header) if name in wanted}
        view_i = header.index("view") if "view" in header else None
        for name in idx:
            cols[name] = []
        for row in reader:
            for name, i in idx.items():
                cell = row[i] if i < len(row) else ""
                try:
                    cols[name].append(float(cell) if cell != "" else math.nan)
                except ValueError:
                    cols[name].append(math.nan)
            if view_i is not None:
                views.append(row[view_i] if view_i < len(row) else "")
    return {k: np.asarray(v, dtype=float) for k, v in cols.items()}, views


def load_run(path: str | Path) -> Run:
    """Read an output folder; raises `RunError` when it has no readable summary.json."""
    path = Path(path)
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise RunError(f"{path}: not a glutecam output folder (no summary.json)")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        set_dict = None
        if (path / "reps.json").is_file():
            set_dict = json.loads((path / "reps.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: unreadable results ({exc})") from None
    frames, views = ({}, [])
    if (path / "frames.csv").is_file():
        try:
            frames, views = _read_frames(path / "frames.csv")
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RunError(f"{path / 'frames.csv'}: unreadable ({exc})") from None
    return Run(path=path, summary=summary, set=set_dict, frames=frames, views=views)
