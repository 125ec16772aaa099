"""Side-lying hip abduction: lying on one side, the top leg lifts sideways, kept straight and slightly
extended, while the pelvis stays still (no hike towards the head, no roll backwards).

Driving signal: abduction of the top (working) leg. Working side: the top leg, from the lying view.
Best seen from in front of the person (or behind them), the camera at their side's height.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from glutecam.analysers.base import Analyser
from glutecam.analysers.judge import FaultRule, MeasureSpec
from glutecam.analysers.split_squat import TEMPO_RULE, measured_or_world
from glutecam.metrics.columns import Measured
from glutecam.results import Side


class SideLyingAbduction(Analyser):
    name: ClassVar[str] = "side-lying-abduction"
    phase_names = ("lift", "lower")
    suited_views = frozenset({"lying_left", "lying_right"})
    view_advice = "lie on your side facing the camera, head to one side of the picture, whole body in view"
    free_is_working = True
    rules = (
        FaultRule("hip_hike", "pelvic_drop_deg", "top hip hiked {value:.0f} deg towards the head (limit {threshold:.0f})",
                  sign=-1.0),
        FaultRule("pelvic_drop", "pelvic_drop_deg", "top hip dropped {value:.0f} deg (limit {threshold:.0f})"),
        FaultRule("pelvis_roll_back", "pelvis_rotation_deg",
                  "pelvis rolled back {value:.0f} deg (limit {threshold:.0f})"),
        FaultRule("hip_flexion", "hip_flexion_deg",
                  "top leg drifted {value:.0f} deg forward into hip flexion (limit {threshold:.0f})",
                  from_baseline=True),
        FaultRule("knee_bend", "knee_flexion_deg", "top knee bent {value:.0f} deg more than at rest (limit {threshold:.0f})",
                  from_baseline=True),
        FaultRule("short_range", "drive_deg", "leg lifted only {value:.0f} deg (aim for {threshold:.0f})",
                  kind="range"),
        TEMPO_RULE,
    )
    measures = (
        MeasureSpec("peak_hip_abduction_deg", "drive_deg"),
        MeasureSpec("peak_hip_flexion_deg", "hip_flexion_deg"),
        MeasureSpec("peak_knee_flexion_deg", "knee_flexion_deg"),
        MeasureSpec("peak_pelvis_roll_back_deg", "pelvis_rotation_deg"),
    )

    def side_evidence(self, m: Measured, views: np.ndarray) -> np.ndarray:
        # lying on the right side leaves the left leg on top
        return np.select([views == "lying_right", views == "lying_left"], [1.0, -1.0], 0.0)

    def drive(self, m: Measured, side: Side | None, state: object = None) -> np.ndarray:
        if side is None:
            return np.full(len(m["trunk_inclination_deg"]), np.nan)
        return measured_or_world(m, f"{side}_hip_abduction_deg")
