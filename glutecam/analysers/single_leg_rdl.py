"""Single-leg Romanian deadlift: hinge on the stance (working) leg while the free leg swings back.

Driving signal: trunk inclination from vertical (3-D world landmarks), replaced by the hinge the image shows
where only the image shows a clear hinge: the trunk's image height along the body's up shrinks as cos(hinge) from any
view, while MediaPipe's world trunk can snap back towards upright for a few frames when it loses the
pelvis at the bottom of a hinge seen from behind (one rep read as two). Working side: the stance leg, whose foot stays on the
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
from glutecam.filters import RunningMax
from glutecam.metrics.columns import Measured
from glutecam.metrics.trunk import hinge_from_height_deg
from glutecam.results import Side
from glutecam.view import FRONTAL


#: The image hinge counts only beyond this angle: nearer upright arccos of the height ratio is too sensitive
#: to noise (see `hinge_from_height_deg`), and a hinge this deep is clearly inside a rep.
IMAGE_HINGE_MIN_DEG = 40.0
#: ... and replaces the world angle only when it is this much deeper: a camera 2-3 m away biases the image
#: hinge by up to ~6 deg through perspective, while the model losing the pelvis reads 25-50 deg too upright.
CONTRADICTION_DEG = 20.0


class SingleLegRDL(Analyser):
    name: ClassVar[str] = "single-leg-rdl"
    suited_views = FRONTAL
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

    def new_drive_state(self) -> RunningMax:
        return RunningMax()  # the trunk's upright image height: its largest so far

    def drive(self, m: Measured, side: Side | None, state: object = None) -> np.ndarray:
        upright = (state if isinstance(state, RunningMax) else RunningMax()).update(m["trunk_height_px"])
        image = hinge_from_height_deg(m["trunk_height_px"], upright)
        world = m["trunk_inclination_deg"]
        with np.errstate(invalid="ignore"):
            # only where the two disagree about a clear hinge: the image's perspective biases its depth by a
            # few degrees (deeper from behind, shallower from the front), so the world angle stays the measure
            contradicted = (image >= IMAGE_HINGE_MIN_DEG) & ~(world >= image - CONTRADICTION_DEG)
        return np.where(contradicted, image, world)

    def hidden_pelvis(self, m: Measured, views: np.ndarray,
                      drive: np.ndarray | None = None) -> tuple[np.ndarray, str]:
        limit = self.ex.pelvis_hidden_hinge_deg
        if limit is None:
            return super().hidden_pelvis(m, views, drive)
        hinge = m["trunk_inclination_deg"] if drive is None else np.fmax(drive, m["trunk_inclination_deg"])
        hidden = np.isin(views, list(FRONTAL)) & (hinge >= limit)
        return hidden, (f"with the trunk hinged beyond {limit:.0f} deg the pose model does not follow the pelvis "
                        f"(from the front the trunk hides it; from behind the hip landmarks lose it)")
