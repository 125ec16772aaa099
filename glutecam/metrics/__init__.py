"""Pure functions from landmark arrays to angles (degrees), each documented with its definition, unit,
the camera views where it is valid and its known error.

- `pelvis`: obliquity of the hip line, pelvic drop from baseline, pelvis yaw and rotation from baseline,
  and `estimate_pelvis`, the one swappable landmarks-to-pelvis step.
- `joints`: hip flexion and abduction, knee flexion, frontal-plane projection angle (FPPA).
- `trunk`: lateral and forward trunk lean, trunk inclination.
- `columns`: all of them for every frame of a sequence, honouring the view table in `glutecam.view`.
"""

from glutecam.metrics.joints import fppa_deg, hip_abduction_deg, hip_flexion_deg, knee_flexion_deg
from glutecam.metrics.pelvis import (
    PelvisEstimate,
    PelvisEstimator,
    estimate_pelvis,
    pelvic_drop_deg,
    pelvis_obliquity_deg,
    pelvis_rotation_deg,
    pelvis_yaw_deg,
)
from glutecam.metrics.trunk import trunk_forward_lean_deg, trunk_inclination_deg, trunk_lateral_lean_deg

__all__ = [
    "PelvisEstimate",
    "PelvisEstimator",
    "estimate_pelvis",
    "fppa_deg",
    "hip_abduction_deg",
    "hip_flexion_deg",
    "knee_flexion_deg",
    "pelvic_drop_deg",
    "pelvis_obliquity_deg",
    "pelvis_rotation_deg",
    "pelvis_yaw_deg",
    "trunk_forward_lean_deg",
    "trunk_inclination_deg",
    "trunk_lateral_lean_deg",
]
