"""The per-frame columns of an analysis (the `frames.csv` contract) from the side-free measurements.

`glutecam.metrics.columns.measure` measures both legs; here the working and free legs are picked, the
pelvis is read against the baseline, and every empty value gets its reason.
"""

from __future__ import annotations

import numpy as np

from glutecam.analysers.baseline import Baseline
from glutecam.metrics.columns import Measured
from glutecam.metrics.pelvis import pelvic_drop_deg, pelvis_rotation_deg
from glutecam.results import Side

NO_PERSON = "no person detected"

#: The measured columns of `Analysis.frames`, in order; then `view`, `rep`, `phase`, then `EXTRA_COLUMNS`.
METRIC_COLUMNS = (
    "pelvis_obliquity_deg",
    "pelvic_drop_deg",
    "pelvis_rotation_deg",
    "hip_abduction_deg",
    "hip_flexion_deg",
    "knee_flexion_deg",
    "fppa_deg",
    "trunk_lean_deg",
    "trunk_forward_lean_deg",
)
#: Free-leg angles and the exercise's driving signal (what rep counting reads).
EXTRA_COLUMNS = ("free_hip_abduction_deg", "free_hip_flexion_deg", "free_knee_flexion_deg", "drive_deg")

LEG_COLUMNS = ("hip_abduction_deg", "hip_flexion_deg", "knee_flexion_deg", "fppa_deg")


def column_baselines(baseline: Baseline, side: Side | None) -> dict[str, float]:
    """Baseline value of each frame column a fault rule may compare with (trunk lean, the working leg)."""
    if not baseline.ready or side is None:
        return {}
    sign = 1.0 if side == "left" else -1.0
    out = {"trunk_lean_deg": sign * baseline.values.get("trunk_lean_left_deg", np.nan)}
    for key in LEG_COLUMNS:
        out[key] = baseline.values.get(f"{side}_{key}", np.nan)
    return {k: float(v) for k, v in out.items() if np.isfinite(v)}


VIEW_CHANGED = "the view changed since the baseline (the pose model may have swapped left and right)"


def build_columns(m: Measured, views: np.ndarray, side: Side | None, free: Side | None, baseline: Baseline,
                  drive: np.ndarray, hidden: np.ndarray,
                  hidden_why: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Float columns (METRIC_COLUMNS + EXTRA_COLUMNS) and (T,) reasons for each metric column.

    `hidden`: frames where the pelvis cannot be seen though the view allows it (`hidden_why` says why).
    Pelvic drop and rotation are read only in the baseline's view: a front view turning into a back one
    mid-set means the model swapped the person's left and right. `trunk_lean_deg` is signed + towards the
    working side.
    """
    t = len(drive)
    nan = np.full(t, np.nan)
    blank = np.full(t, "", dtype=object)
    obl_why = np.where(hidden & (m.reasons["pelvis_obliquity_deg"] == ""), hidden_why,
                       m.reasons["pelvis_obliquity_deg"])
    yaw_why = np.where(hidden & (m.reasons["pelvis_yaw_deg"] == ""), hidden_why, m.reasons["pelvis_yaw_deg"])
    obl = np.where(hidden, np.nan, m["pelvis_obliquity_deg"])
    yaw = np.where(hidden, np.nan, m["pelvis_yaw_deg"])
    base_obl, base_yaw = baseline.get("pelvis_obliquity_deg"), baseline.get("pelvis_yaw_deg")
    changed = (np.asarray(views, dtype=object) != baseline.view) if baseline.ready else np.zeros(t, bool)
    drop = nan if free is None or base_obl is None else pelvic_drop_deg(obl, base_obl, free)
    rot = nan if free is None or base_yaw is None else pelvis_rotation_deg(yaw, base_yaw, free)
    vals = {
        "pelvis_obliquity_deg": obl,
        "pelvic_drop_deg": np.where(changed, np.nan, drop),
        "pelvis_rotation_deg": np.where(changed, np.nan, rot),
    }
    why = {"pelvis_obliquity_deg": obl_why,
           "pelvic_drop_deg": np.where(changed & (obl_why == ""), VIEW_CHANGED, obl_why),
           "pelvis_rotation_deg": np.where(changed & (yaw_why == ""), VIEW_CHANGED, yaw_why)}
    for key in LEG_COLUMNS:
        vals[key] = nan if side is None else m[f"{side}_{key}"]
        if side is None:  # keep the reasons that do not depend on the leg
            why[key] = np.where(m.reasons[f"left_{key}"] == NO_PERSON, NO_PERSON, blank)
        else:
            why[key] = m.reasons[f"{side}_{key}"]
    # the frontal-plane knee angle is read from the hip landmark too, and by the leg's label: where the pelvis
    # is hidden, or the model may have swapped the legs, it goes (clean RDL reps filmed from behind read 4-22
    # deg of FPPA at the bottom of the hinge across renderings of one clip)
    fppa_why = np.where(hidden & (why["fppa_deg"] == ""), hidden_why, why["fppa_deg"])
    fppa_why = np.where(changed & (fppa_why == ""), VIEW_CHANGED, fppa_why)
    vals["fppa_deg"] = np.where(fppa_why == "", vals["fppa_deg"], np.nan)
    why["fppa_deg"] = fppa_why
    # lateral trunk lean is read across the hip line, signed by its left and right: where the pelvis is
    # hidden, or the model may have swapped the sides, it goes too
    lean_why = m.reasons["trunk_lean_left_deg"]
    lean_why = np.where(hidden & (lean_why == ""), hidden_why, lean_why)
    lean_why = np.where(changed & (lean_why == ""), VIEW_CHANGED, lean_why)
    vals["trunk_lean_deg"] = nan if side is None else np.where(
        lean_why == "", (1.0 if side == "left" else -1.0) * m["trunk_lean_left_deg"], np.nan)
    why["trunk_lean_deg"] = lean_why
    vals["trunk_forward_lean_deg"] = m["trunk_forward_lean_deg"]
    why["trunk_forward_lean_deg"] = m.reasons["trunk_forward_lean_deg"]
    for key in LEG_COLUMNS[:3]:
        vals[f"free_{key}"] = nan if free is None else m[f"{free}_{key}"]
    vals["drive_deg"] = np.asarray(drive, dtype=np.float64)
    for key in METRIC_COLUMNS:  # what the view allowed but the side or the baseline did not
        missing = ~np.isfinite(vals[key]) & (why[key] == "")
        if not missing.any():
            continue
        if side is None and key != "pelvis_obliquity_deg" and key != "trunk_forward_lean_deg":
            why[key] = np.where(missing, "working side not known", why[key])
        elif key in ("pelvic_drop_deg", "pelvis_rotation_deg") and not baseline.ready:
            why[key] = np.where(missing, "no neutral baseline captured", why[key])
        elif key in ("pelvic_drop_deg", "pelvis_rotation_deg"):
            why[key] = np.where(missing, "the baseline frames did not show this measure", why[key])
        else:
            why[key] = np.where(missing, "degenerate geometry (landmarks on top of each other)", why[key])
    return vals, why
