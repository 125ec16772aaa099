"""Every metric of every frame of a pose sequence, measured only where the camera view allows it.

`measure` applies the pure metric functions to whole landmark arrays, choosing per frame the source the
view table (`glutecam.view.SOURCES`) names: image landmarks where the movement lies in the image plane,
world landmarks otherwise, nothing where the view cannot show it. Each value that is not measured is NaN
and has a reason; a value is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from glutecam.landmarks import Landmark
from glutecam.metrics.joints import fppa_defined, fppa_deg, hip_abduction_deg, hip_flexion_deg, knee_flexion_deg
from glutecam.metrics.pelvis import PelvisEstimator, estimate_pelvis
from glutecam.metrics.trunk import trunk_forward_lean_deg, trunk_height_px, trunk_inclination_deg, trunk_lateral_lean_deg
from glutecam.view import NO_VIEW, SOURCES, why_not

LEGS = ("left", "right")
#: A segment is read from the image only while within this angle of the image plane; beyond it the image
#: angle is inflated by foreshortening (a 20 deg lean of a trunk hinged 60 deg towards the camera reads 36).
#: World landmarks are no substitute there: on the rendered clips MediaPipe's world trunk read 12-15 deg of
#: lean in a clean single-leg RDL seen from the front. So the value is left empty.
IN_PLANE_MAX_DEG = 30.0
FPPA_UNDEFINED = "the thigh points along the line of sight, so the knee has no frontal-plane angle"
TRUNK_OFF_PLANE = "the trunk is turned more than 30 deg out of the image plane"
THIGH_OFF_PLANE = "the thigh is turned more than 30 deg out of the image plane"
HIPS = (Landmark.LEFT_HIP, Landmark.RIGHT_HIP)
SHOULDERS = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)


def _lm(side: str, part: str) -> Landmark:
    return _LM[side, part]


_LM = {(side, part): Landmark[f"{side.upper()}_{part.upper()}"]
       for side in ("left", "right") for part in ("hip", "knee", "ankle", "shoulder")}


@dataclass
class Measured:
    """Per-frame metrics (T,) keyed by name, and (T,) reasons ("" = measured) for those that have a view rule.

    Keys: `pelvis_obliquity_deg`, `pelvis_yaw_deg`, `trunk_lean_left_deg` (+ = towards the person's left),
    `trunk_forward_lean_deg`, `<leg>_hip_flexion_deg`, `<leg>_hip_abduction_deg`, `<leg>_knee_flexion_deg`,
    `<leg>_fppa_deg` (view-checked), and the view-independent 3-D signals that drive rep counting and side
    detection: `trunk_inclination_deg`, `world_<leg>_hip_flexion_deg`, `world_<leg>_hip_abduction_deg`,
    `world_<leg>_knee_flexion_deg`, `world_<leg>_ankle_height_m` (above the hips' midpoint, along the
    camera's up), and from the image `trunk_height_px` (hip-to-shoulder length along the body's up).
    """

    values: dict[str, np.ndarray]
    reasons: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]


#: view-table metric behind each per-frame key.
RULE = {
    "pelvis_obliquity_deg": "pelvis_obliquity_deg",
    "pelvis_yaw_deg": "pelvis_rotation_deg",
    "trunk_lean_left_deg": "trunk_lean_deg",
    "trunk_forward_lean_deg": "trunk_forward_lean_deg",
    **{f"{leg}_{m}": m for leg in LEGS for m in ("hip_flexion_deg", "hip_abduction_deg", "knee_flexion_deg", "fppa_deg")},
}


def _required(key: str) -> tuple[Landmark, ...]:
    trunk = HIPS + SHOULDERS
    if key in ("pelvis_obliquity_deg", "pelvis_yaw_deg"):
        return HIPS
    if key.startswith("trunk"):
        return trunk
    leg = key.split("_", 1)[0]
    if "hip_" in key:
        return trunk + (_lm(leg, "knee"),)
    if "knee_flexion" in key:
        return (_lm(leg, "hip"), _lm(leg, "knee"), _lm(leg, "ankle"))
    return HIPS + (_lm(leg, "knee"), _lm(leg, "ankle"))  # fppa


def _mid(points: np.ndarray, pair: tuple[Landmark, Landmark]) -> np.ndarray:
    return (points[:, pair[0]] + points[:, pair[1]]) / 2.0


def _side_lateral(views: np.ndarray) -> np.ndarray:
    """Right-to-left direction in camera coordinates for side views: towards the camera (-z) when the left
    side faces it. NaN elsewhere."""
    lat = np.full((len(views), 3), np.nan)
    lat[views == "left_side"] = (0.0, 0.0, -1.0)
    lat[views == "right_side"] = (0.0, 0.0, 1.0)
    return lat


def out_of_image_plane(segment_m: np.ndarray, max_deg: float = IN_PLANE_MAX_DEG) -> np.ndarray:
    """(T,) True where world segment vectors (T, 3) are surely more than `max_deg` out of the image plane
    (False where unknown)."""
    with np.errstate(invalid="ignore"):
        return np.abs(segment_m[:, 2]) > np.sin(np.radians(max_deg)) * np.linalg.norm(segment_m, axis=-1)


Geometry = dict[str, tuple[np.ndarray, str]]
Candidate = Callable[[], np.ndarray]


def _candidates(image_xy: np.ndarray, world_m: np.ndarray, views: np.ndarray, up_xy: np.ndarray,
                up_m: np.ndarray, geometry: Geometry) -> dict[str, tuple[Candidate | None, Candidate | None]]:
    """For each view-checked key, how to compute it from image and from world landmarks (None: not from
    that source). Computed only for the sources some frame's view asks for (live: one frame, one view).
    Image functions record in `geometry` the frames where the pose itself leaves the value undefined."""
    img_hip, img_sho = _mid(image_xy, HIPS), _mid(image_xy, SHOULDERS)
    w_hip, w_sho = _mid(world_m, HIPS), _mid(world_m, SHOULDERS)
    img_lat, img_trunk = image_xy[:, HIPS[0]] - image_xy[:, HIPS[1]], img_sho - img_hip
    w_lat, w_trunk = world_m[:, HIPS[0]] - world_m[:, HIPS[1]], w_sho - w_hip
    side_lat = _side_lateral(views)

    def undefined_where(key: str, mask: np.ndarray, why: str, value: np.ndarray) -> np.ndarray:
        geometry[key] = (mask, why)
        return np.where(mask, np.nan, value)

    out: dict[str, tuple[Candidate | None, Candidate | None]] = {
        "trunk_lean_left_deg": (
            lambda: undefined_where("trunk_lean_left_deg", out_of_image_plane(w_trunk), TRUNK_OFF_PLANE,
                                    trunk_lateral_lean_deg(img_hip, img_sho, img_lat, up_xy)),
            lambda: trunk_lateral_lean_deg(w_hip, w_sho, w_lat, up_m)),
        "trunk_forward_lean_deg": (lambda: trunk_forward_lean_deg(img_hip, img_sho, side_lat, up_xy),
                                   lambda: trunk_forward_lean_deg(w_hip, w_sho, w_lat, up_m)),
    }
    for leg in LEGS:
        hip, knee, ankle = _lm(leg, "hip"), _lm(leg, "knee"), _lm(leg, "ankle")
        other = _lm("right" if leg == "left" else "left", "hip")
        ih, ik, ia, wh, wk, wa = (image_xy[:, hip], image_xy[:, knee], image_xy[:, ankle],
                                  world_m[:, hip], world_m[:, knee], world_m[:, ankle])
        out[f"{leg}_hip_flexion_deg"] = (lambda ih=ih, ik=ik: hip_flexion_deg(ih, ik, side_lat, img_trunk),
                                         lambda wh=wh, wk=wk: hip_flexion_deg(wh, wk, w_lat, w_trunk))
        out[f"{leg}_hip_abduction_deg"] = (
            lambda ih=ih, ik=ik, wh=wh, wk=wk, leg=leg: undefined_where(
                f"{leg}_hip_abduction_deg", out_of_image_plane(wk - wh), THIGH_OFF_PLANE,
                hip_abduction_deg(ih, ik, img_lat, img_trunk, leg)),
            lambda wh=wh, wk=wk, leg=leg: hip_abduction_deg(wh, wk, w_lat, w_trunk, leg))
        out[f"{leg}_knee_flexion_deg"] = (lambda ih=ih, ik=ik, ia=ia: knee_flexion_deg(ih, ik, ia),
                                          lambda wh=wh, wk=wk, wa=wa: knee_flexion_deg(wh, wk, wa))
        out[f"{leg}_fppa_deg"] = (
            lambda ih=ih, ik=ik, ia=ia, leg=leg, other=other: undefined_where(
                f"{leg}_fppa_deg", ~fppa_defined(ih, ik, ia, up_xy), FPPA_UNDEFINED,
                fppa_deg(ih, ik, ia, image_xy[:, other] - ih)),
            None)
    return out


def _pick(views: np.ndarray, metric: str, image_fn: Candidate | None, world_fn: Candidate | None) -> np.ndarray:
    rule = SOURCES[metric]
    if len(views) == 1:  # live: one frame, one source (the same numbers without the per-frame arrays)
        fn = {"image": image_fn, "world": world_fn}.get(rule.get(views[0], ""))
        return np.full(1, np.nan) if fn is None else np.array(fn(), dtype=np.float64).reshape(1)
    src = np.array([rule.get(v, "") for v in views], dtype=object)
    out = np.full(len(views), np.nan)
    if image_fn is not None and (src == "image").any():
        out = np.where(src == "image", image_fn(), out)
    if world_fn is not None and (src == "world").any():
        out = np.where(src == "world", world_fn(), out)
    return out


def _reasons(key: str, values: np.ndarray, views: np.ndarray, image_xy: np.ndarray, world_m: np.ndarray,
             geometry: Geometry) -> np.ndarray:
    metric = RULE[key]
    reasons = np.full(len(values), "", dtype=object)
    if len(values) == 1 and np.isfinite(values[0]):  # live, measured: nothing to explain
        return reasons
    need = _required(key)
    pose_mask, pose_why = geometry.get(key, (np.zeros(len(values), bool), ""))
    for i in np.flatnonzero(~np.isfinite(values)):
        view = views[i]
        why = why_not(metric, view)
        if not why:
            from_image = SOURCES[metric].get(view) == "image"
            pts = image_xy[i] if from_image else world_m[i]
            missing = [lm for lm in need if not np.isfinite(pts[lm]).all()]
            if missing and len(missing) == len(need) and not np.isfinite(pts).any():
                why = "no person detected"
            elif missing:
                why = "low visibility: " + ", ".join(lm.name.lower().replace("_", " ") for lm in missing)
            elif from_image and pose_mask[i]:
                why = pose_why
            else:
                why = "degenerate geometry (landmarks on top of each other)"
        reasons[i] = why
    return reasons


def measure(image_xy: np.ndarray, world_m: np.ndarray, views: np.ndarray, up_xy: np.ndarray, up_m: np.ndarray,
            pelvis_estimator: PelvisEstimator = estimate_pelvis, signal_world_m: np.ndarray | None = None) -> Measured:
    """All metrics for frames `image_xy` (T, 33, 2) px and `world_m` (T, 33, 3) m (NaN = missing), given
    each frame's view (T,) and reference up vectors (`glutecam.view.reference_up`). The view-independent
    signals (`trunk_inclination_deg`, `world_*`) come from `signal_world_m` if given (e.g. landmarks kept
    whatever their visibility), else from `world_m`."""
    views = np.asarray(views, dtype=object)
    pelvis = pelvis_estimator(image_xy, world_m, up_xy, up_m)
    geometry: Geometry = {}
    how = _candidates(image_xy, world_m, views, up_xy, up_m, geometry)
    how["pelvis_obliquity_deg"] = (lambda: pelvis.obliquity_deg, None)
    how["pelvis_yaw_deg"] = (None, lambda: pelvis.yaw_deg)
    values: dict[str, np.ndarray] = {}
    reasons: dict[str, np.ndarray] = {}
    for key in RULE:
        values[key] = _pick(views, RULE[key], *how[key])
        reasons[key] = _reasons(key, values[key], views, image_xy, world_m, geometry)
    sw = world_m if signal_world_m is None else signal_world_m
    w_lat = sw[:, HIPS[0]] - sw[:, HIPS[1]]
    w_hip, w_sho = _mid(sw, HIPS), _mid(sw, SHOULDERS)
    w_trunk = w_sho - w_hip
    values["trunk_inclination_deg"] = trunk_inclination_deg(w_hip, w_sho, up_m)
    values["trunk_height_px"] = trunk_height_px(_mid(image_xy, HIPS), _mid(image_xy, SHOULDERS), up_xy)
    for leg in LEGS:
        hip, knee, ankle = sw[:, _lm(leg, "hip")], sw[:, _lm(leg, "knee")], sw[:, _lm(leg, "ankle")]
        values[f"world_{leg}_hip_flexion_deg"] = hip_flexion_deg(hip, knee, w_lat, w_trunk)
        values[f"world_{leg}_hip_abduction_deg"] = hip_abduction_deg(hip, knee, w_lat, w_trunk, leg)
        values[f"world_{leg}_knee_flexion_deg"] = knee_flexion_deg(hip, knee, ankle)
        values[f"world_{leg}_ankle_height_m"] = -(ankle[:, 1] - w_hip[:, 1])  # y points down
    no_person = views == NO_VIEW
    if no_person.any():
        for key in values:
            values[key] = np.where(no_person, np.nan, values[key])
    return Measured(values=values, reasons=reasons)
