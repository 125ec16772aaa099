"""Single-leg Romanian deadlift: hinge on the stance (working) leg while the free leg swings back.

Driving signal: trunk inclination from vertical. Working side: the stance leg, whose foot stays on the
floor while the free one lifts behind (or whose hip flexes as the trunk hinges while the free leg stays
in line with the trunk). Best seen from behind: from the front the
hinged trunk hides the pelvis, so pelvic obliquity is not measured there beyond `pelvis_hidden_hinge_deg`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from glutecam.analysers.base import Analyser
from glutecam.analysers.judge import FaultRule, MeasureSpec
from glutecam.analysers.split_squat import PELVIS_RULES, TEMPO_RULE, working_leg_evidence
from glutecam.metrics.columns import Measured
from glutecam.results import Side


class SingleLegRDL(Analyser):
    name: ClassVar[str] = "single-leg-rdl"
    suited_views = frozenset({"back", "front"})
    view_advice = "film from behind (or slightly to one side of behind) so the pelvis stays in view"
    rules = PELVIS_RULES + (
        FaultRule("short_range", "drive_deg", "trunk hinged only {value:.0f} deg (aim for {threshold:.0f})",
                  kind="range"),
        TEMPO_RULE,
    )
    measures = (
        MeasureSpec("peak_hinge_deg", "drive_deg"),
        MeasureSpec("peak_hip_flexion_deg", "hip_flexion_deg"),
        MeasureSpec("peak_knee_flexion_deg", "knee_flexion_deg"),
        MeasureSpec("peak_fppa_deg", "fppa_deg"),
        MeasureSpec("peak_trunk_lean_deg", "trunk_lean_deg", "extreme"),
        MeasureSpec("min_free_hip_flexion_deg", "free_hip_flexion_deg", "min"),
    )

    def side_evidence(self, m: Measured, views: np.ndarray) -> np.ndarray:
        hinged = m["trunk_inclination_deg"] >= self.ex.enter_deg
        return np.where(hinged, working_leg_evidence(m, views), 0.0)

    def drive(self, m: Measured, side: Side | None) -> np.ndarray:
        return m["trunk_inclination_deg"]

    def hidden_pelvis(self, m: Measured, views: np.ndarray) -> tuple[np.ndarray, str]:
        limit = self.ex.pelvis_hidden_hinge_deg
        if limit is None:
            return super().hidden_pelvis(m, views)
        hidden = (views == "front") & (m["trunk_inclination_deg"] >= limit)
        return hidden, f"from the front the trunk hinged beyond {limit:.0f} deg hides the pelvis"
