"""Bulgarian split squat: the front leg works, the rear foot rests on a bench (the free side).

Driving signal: knee flexion of the front leg. Working side: the foot on the floor (the rear one is up on
the bench), or without a bench the leg whose hip is more flexed (the front hip is flexed throughout the
split stance, the rear one extended); from behind neither shows, so there the user names it. Best seen from
in front (or from behind with `--side`).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from glutecam.analysers.base import Analyser
from glutecam.analysers.judge import FaultRule, MeasureSpec
from glutecam.metrics.columns import Measured
from glutecam.results import Side
from glutecam.view import FRONTAL

#: Hip flexion difference between the legs (deg) that counts as evidence of which leg is in front.
SIDE_EVIDENCE_DEG = 15.0
#: Ankle height difference (m) that counts as evidence of which foot is on the floor (the other on a bench,
#: or lifted behind in an RDL).
ANKLE_EVIDENCE_M = 0.15
#: Why the front leg is not found from behind, and what to do.
BEHIND_NO_SIDE = ("could not tell which leg is in front: from behind the pose model draws both legs of a split "
                  "stance alike; pass --side left or --side right (the front leg), or film from the front")

PELVIS_RULES = (
    FaultRule("pelvic_drop", "pelvic_drop_deg", "pelvis dropped {value:.0f} deg on the {free} side (limit {threshold:.0f})"),
    FaultRule("hip_hike", "pelvic_drop_deg", "{free} hip hiked {value:.0f} deg (limit {threshold:.0f})", sign=-1.0),
    FaultRule("pelvic_rotation", "pelvis_rotation_deg", "pelvis rotated {value:.0f} deg (limit {threshold:.0f})",
              both_ways=True),
    FaultRule("trunk_lean", "trunk_lean_deg", "trunk leaned {value:.0f} deg sideways from the start (limit {threshold:.0f})",
              both_ways=True, from_baseline=True),
    FaultRule("knee_valgus", "fppa_deg", "{working} knee moved inward: FPPA {value:.0f} deg (limit {threshold:.0f})"),
)
TEMPO_RULE = FaultRule("rushed", "drive_deg", "rep took {value:.1f} s (at least {threshold:.1f} s)", kind="tempo")


def leg_with_more_hip_flexion(m: Measured, min_diff_deg: float = SIDE_EVIDENCE_DEG) -> np.ndarray:
    """(T,) +1 where the left hip is flexed at least `min_diff_deg` more than the right (world landmarks),
    -1 for the reverse, 0 otherwise."""
    d = m["world_left_hip_flexion_deg"] - m["world_right_hip_flexion_deg"]
    return np.where(np.isfinite(d) & (np.abs(d) >= min_diff_deg), np.sign(d), 0.0)


def leg_with_lower_ankle(m: Measured, min_diff_m: float = ANKLE_EVIDENCE_M) -> np.ndarray:
    """(T,) +1 where the left ankle is at least `min_diff_m` lower than the right (world landmarks, along
    the camera's up, which the pose model gets right from any side), -1 for the reverse, 0 otherwise."""
    d = m["world_right_ankle_height_m"] - m["world_left_ankle_height_m"]
    return np.where(np.isfinite(d) & (np.abs(d) >= min_diff_m), np.sign(d), 0.0)


def working_leg_evidence(m: Measured, views: np.ndarray) -> np.ndarray:
    """(T,) which leg works: the foot on the floor where the feet are at clearly different heights, else
    the leg with more hip flexion, except from behind, where the pose model's depth (and so hip flexion)
    cannot be trusted."""
    ankle = leg_with_lower_ankle(m)
    hip = np.where(np.asarray(views, dtype=object) == "back", 0.0, leg_with_more_hip_flexion(m))
    return np.where(ankle != 0, ankle, hip)


def measured_or_world(m: Measured, key: str) -> np.ndarray:
    """The view-checked measure where there is one, else the same angle from world landmarks."""
    return np.where(np.isfinite(m[key]), m[key], m[f"world_{key}"])


class SplitSquat(Analyser):
    name: ClassVar[str] = "split-squat"
    suited_views = FRONTAL
    view_advice = "film from in front or from behind so the pelvis faces the camera"
    rules = PELVIS_RULES + (
        # the knee angle as measured, not the driving signal (which counts reps from the world angle in any
        # view): from the front and behind its depth errors (up to 20-35 deg) exceed the 20 deg the judgment
        # needs, so depth is judged only where the knee is seen side-on
        FaultRule("short_range", "knee_flexion_deg", "front knee bent only {value:.0f} deg (aim for {threshold:.0f})",
                  kind="range"),
        TEMPO_RULE,
    )
    measures = (
        MeasureSpec("peak_knee_flexion_deg", "knee_flexion_deg"),
        MeasureSpec("peak_hip_flexion_deg", "hip_flexion_deg"),
        MeasureSpec("peak_fppa_deg", "fppa_deg"),
        MeasureSpec("peak_trunk_lean_deg", "trunk_lean_deg", "extreme"),
        MeasureSpec("peak_trunk_forward_lean_deg", "trunk_forward_lean_deg"),
    )

    def side_evidence(self, m: Measured, views: np.ndarray) -> np.ndarray:
        """`working_leg_evidence`. Seen from behind MediaPipe draws both legs of a split stance almost alike
        (feet at one height, knees barely visible) and its depth (hip flexion) is not trusted, so from behind
        the front leg is not found: the user says which it is (`--side`). (The rear knee is bent more, but
        from behind the model's world knees read the right knee 7-10 deg more bent whichever leg is in front,
        on the rendered clip and its mirror image.)"""
        return working_leg_evidence(m, views)

    def side_unknown_warning(self, view: str) -> str:
        return BEHIND_NO_SIDE if view == "back" else super().side_unknown_warning(view)

    def drive(self, m: Measured, side: Side | None, state: object = None) -> np.ndarray:
        if side is None:
            return np.full(len(m["trunk_inclination_deg"]), np.nan)
        return measured_or_world(m, f"{side}_knee_flexion_deg")
