"""Every metric of every frame of a pose sequence, measured only where the camera view allows it.

`measure` applies the pure metric functions to whole landmark arrays, choosing per frame the source the
view table (`glutecam.view.SOURCES`) names: image landmarks where the movement lies in the image plane,
world landmarks otherwise, nothing where the view cannot show it. Each value that is not measured is NaN
and has a reason; a value is never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from glutecam.landmarks import Landmark
from glutecam.metrics.geometry import NAN3, Vec, mid_1, norm_1, sub_1
from glutecam.metrics.joints import (
    fppa_defined,
    fppa_defined_1,
    fppa_deg,
    fppa_deg_1,
    hip_abduction_deg,
    hip_abduction_deg_1,
    hip_flexion_deg,
    hip_flexion_deg_1,
    knee_flexion_deg,
    knee_flexion_deg_1,
)
from glutecam.metrics.pelvis import PelvisEstimator, estimate_pelvis, pelvis_obliquity_deg_1, pelvis_yaw_deg_1
from glutecam.metrics.trunk import (
    trunk_forward_lean_deg,
    trunk_forward_lean_deg_1,
    trunk_height_px,
    trunk_height_px_1,
    trunk_inclination_deg,
    trunk_inclination_deg_1,
    trunk_lateral_lean_deg,
    trunk_lateral_lean_deg_1,
)
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
#: Why the pose itself leaves an image value undefined, for the keys that can be.
_POSE_WHY = {"trunk_lean_left_deg": TRUNK_OFF_PLANE, "left_hip_abduction_deg": THIGH_OFF_PLANE,
             "right_hip_abduction_deg": THIGH_OFF_PLANE, "left_fppa_deg": FPPA_UNDEFINED,
             "right_fppa_deg": FPPA_UNDEFINED}
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


_REQUIRED = {key: _required(key) for key in RULE}


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

    def undefined_where(key: str, mask: np.ndarray, value: np.ndarray) -> np.ndarray:
        geometry[key] = (mask, _POSE_WHY[key])
        return np.where(mask, np.nan, value)

    out: dict[str, tuple[Candidate | None, Candidate | None]] = {
        "trunk_lean_left_deg": (
            lambda: undefined_where("trunk_lean_left_deg", out_of_image_plane(w_trunk),
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
                f"{leg}_hip_abduction_deg", out_of_image_plane(wk - wh),
                hip_abduction_deg(ih, ik, img_lat, img_trunk, leg)),
            lambda wh=wh, wk=wk, leg=leg: hip_abduction_deg(wh, wk, w_lat, w_trunk, leg))
        out[f"{leg}_knee_flexion_deg"] = (lambda ih=ih, ik=ik, ia=ia: knee_flexion_deg(ih, ik, ia),
                                          lambda wh=wh, wk=wk, wa=wa: knee_flexion_deg(wh, wk, wa))
        out[f"{leg}_fppa_deg"] = (
            lambda ih=ih, ik=ik, ia=ia, leg=leg, other=other: undefined_where(
                f"{leg}_fppa_deg", ~fppa_defined(ih, ik, ia, up_xy),
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
    reasons = np.full(len(values), "", dtype=object)
    if len(values) == 1 and np.isfinite(values[0]):  # live, measured: nothing to explain
        return reasons
    pose_mask, pose_why = geometry.get(key, (np.zeros(len(values), bool), ""))
    for i in np.flatnonzero(~np.isfinite(values)):
        reasons[i] = _reason(key, views[i], image_xy[i], world_m[i], bool(pose_mask[i]), pose_why)
    return reasons


def _finite_point(p: Sequence[float]) -> bool:
    return all(map(math.isfinite, p))


def _reason(key: str, view: str, image_pts: Sequence[Sequence[float]], world_pts: Sequence[Sequence[float]],
            pose_undefined: bool, pose_why: str) -> str:
    """Why `key` is NaN in one frame seen from `view`, given that frame's landmarks (33, D) (array rows or
    lists) and whether the pose itself leaves the image value undefined (`pose_why`)."""
    metric = RULE[key]
    why = why_not(metric, view)
    if why:
        return why
    need = _REQUIRED[key]
    from_image = SOURCES[metric].get(view) == "image"
    pts = image_pts if from_image else world_pts
    missing = [lm for lm in need if not _finite_point(pts[lm])]
    if missing and len(missing) == len(need) and not any(math.isfinite(c) for p in pts for c in p):
        return "no person detected"
    if missing:
        return "low visibility: " + ", ".join(lm.name.lower().replace("_", " ") for lm in missing)
    if from_image and pose_undefined:
        return pose_why
    return "degenerate geometry (landmarks on top of each other)"


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


# -- One frame as plain floats (the live path) -------------------------------------------------------------

def out_of_image_plane_1(segment_m: Vec, max_deg: float = IN_PLANE_MAX_DEG) -> bool:
    """`out_of_image_plane` of one world segment (3,)."""
    return abs(segment_m[2]) > math.sin(math.radians(max_deg)) * norm_1(segment_m)


def _side_lateral_1(view: str) -> Vec:
    return (0.0, 0.0, -1.0) if view == "left_side" else (0.0, 0.0, 1.0) if view == "right_side" else NAN3


FrameCandidate = Callable[[], float]


def _frame_candidates(img: list[Vec], wld: list[Vec], view: str, up_xy: Vec, up_m: Vec,
                      undefined: dict[str, bool]) -> dict[str, tuple[FrameCandidate | None, FrameCandidate | None]]:
    """`_candidates` of one frame (landmarks as 33 3-D tuples, image ones lifted with z = 0); image functions
    record in `undefined` whether the pose itself leaves the value undefined."""
    lh, rh, ls, rs = HIPS + SHOULDERS
    img_hip, img_sho, w_hip, w_sho = mid_1(img[lh], img[rh]), mid_1(img[ls], img[rs]), mid_1(wld[lh], wld[rh]), \
        mid_1(wld[ls], wld[rs])
    img_lat, img_trunk = sub_1(img[lh], img[rh]), sub_1(img_sho, img_hip)
    w_lat, w_trunk = sub_1(wld[lh], wld[rh]), sub_1(w_sho, w_hip)
    side_lat = _side_lateral_1(view)

    def undefined_where(key: str, flag: bool, value: float) -> float:
        undefined[key] = flag
        return math.nan if flag else value

    out: dict[str, tuple[FrameCandidate | None, FrameCandidate | None]] = {
        "trunk_lean_left_deg": (
            lambda: undefined_where("trunk_lean_left_deg", out_of_image_plane_1(w_trunk),
                                    trunk_lateral_lean_deg_1(img_hip, img_sho, img_lat, up_xy)),
            lambda: trunk_lateral_lean_deg_1(w_hip, w_sho, w_lat, up_m)),
        "trunk_forward_lean_deg": (lambda: trunk_forward_lean_deg_1(img_hip, img_sho, side_lat, up_xy),
                                   lambda: trunk_forward_lean_deg_1(w_hip, w_sho, w_lat, up_m)),
    }
    for leg in LEGS:
        hip, knee, ankle = _lm(leg, "hip"), _lm(leg, "knee"), _lm(leg, "ankle")
        other = _lm("right" if leg == "left" else "left", "hip")
        ih, ik, ia, wh, wk, wa = img[hip], img[knee], img[ankle], wld[hip], wld[knee], wld[ankle]
        out[f"{leg}_hip_flexion_deg"] = (lambda ih=ih, ik=ik: hip_flexion_deg_1(ih, ik, side_lat, img_trunk),
                                         lambda wh=wh, wk=wk: hip_flexion_deg_1(wh, wk, w_lat, w_trunk))
        out[f"{leg}_hip_abduction_deg"] = (
            lambda ih=ih, ik=ik, wh=wh, wk=wk, leg=leg: undefined_where(
                f"{leg}_hip_abduction_deg", out_of_image_plane_1(sub_1(wk, wh)),
                hip_abduction_deg_1(ih, ik, img_lat, img_trunk, leg)),
            lambda wh=wh, wk=wk, leg=leg: hip_abduction_deg_1(wh, wk, w_lat, w_trunk, leg))
        out[f"{leg}_knee_flexion_deg"] = (lambda ih=ih, ik=ik, ia=ia: knee_flexion_deg_1(ih, ik, ia),
                                          lambda wh=wh, wk=wk, wa=wa: knee_flexion_deg_1(wh, wk, wa))
        out[f"{leg}_fppa_deg"] = (
            lambda ih=ih, ik=ik, ia=ia, leg=leg, other=other: undefined_where(
                f"{leg}_fppa_deg", not fppa_defined_1(ih, ik, ia, up_xy),
                fppa_deg_1(ih, ik, ia, sub_1(img[other], ih))),
            None)
    return out


def measure_frame(image_xy: np.ndarray, world_m: np.ndarray, view: str, up_xy: Vec, up_m: Vec,
                  pelvis_estimator: PelvisEstimator = estimate_pelvis,
                  signal_world_m: np.ndarray | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """`measure` of one frame, as plain floats (the live path): `image_xy` (33, 2) px, `world_m` (33, 3) m
    (NaN = missing), the frame's view and its reference up vectors (2,) and (3,) (`reference_up_1`). Returns
    the values (the keys of `Measured.values`, in degrees / m / px as there) and the reasons ("" = measured)
    of the view-checked ones: what `measure` gives for the frame, within float rounding."""
    img = [(x, y, 0.0) for x, y in image_xy.tolist()]  # lifted once, as `as3d` lifts them
    wld = world_m.tolist()
    sw = wld if signal_world_m is None else signal_world_m.tolist()
    up_xy, up_m = (float(up_xy[0]), float(up_xy[1]), 0.0), (float(up_m[0]), float(up_m[1]), float(up_m[2]))
    if view == NO_VIEW:
        return dict.fromkeys(_FRAME_KEYS, math.nan), {key: why_not(RULE[key], NO_VIEW) for key in RULE}
    undefined: dict[str, bool] = {}
    how = _frame_candidates(img, wld, view, up_xy, up_m, undefined)
    if pelvis_estimator is estimate_pelvis:
        how["pelvis_obliquity_deg"] = (lambda: pelvis_obliquity_deg_1(img[HIPS[0]], img[HIPS[1]], up_xy), None)
        how["pelvis_yaw_deg"] = (None, lambda: pelvis_yaw_deg_1(wld[HIPS[0]], wld[HIPS[1]], up_m))
    else:
        est = pelvis_estimator(image_xy[None], world_m[None], np.array([up_xy[:2]]), np.array([up_m]))
        how["pelvis_obliquity_deg"] = (lambda: float(est.obliquity_deg[0]), None)
        how["pelvis_yaw_deg"] = (None, lambda: float(est.yaw_deg[0]))
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for key, metric in RULE.items():
        src = SOURCES[metric].get(view)
        fn = how[key][0] if src == "image" else how[key][1] if src == "world" else None
        v = math.nan if fn is None else fn()
        values[key] = v
        reasons[key] = "" if math.isfinite(v) else _reason(key, view, img, wld, undefined.get(key, False),
                                                           _POSE_WHY.get(key, ""))
    lh, rh, ls, rs = HIPS + SHOULDERS
    w_hip, w_sho, w_lat = mid_1(sw[lh], sw[rh]), mid_1(sw[ls], sw[rs]), sub_1(sw[lh], sw[rh])
    w_trunk = sub_1(w_sho, w_hip)
    values["trunk_inclination_deg"] = trunk_inclination_deg_1(w_hip, w_sho, up_m)
    values["trunk_height_px"] = trunk_height_px_1(mid_1(img[lh], img[rh]), mid_1(img[ls], img[rs]), up_xy)
    for leg, (hip, knee, ankle), (flexion, abduction, knee_flexion, ankle_height) in _SIGNALS:
        hip, knee, ankle = sw[hip], sw[knee], sw[ankle]
        values[flexion] = hip_flexion_deg_1(hip, knee, w_lat, w_trunk)
        values[abduction] = hip_abduction_deg_1(hip, knee, w_lat, w_trunk, leg)
        values[knee_flexion] = knee_flexion_deg_1(hip, knee, ankle)
        values[ankle_height] = -(ankle[1] - w_hip[1])  # y points down
    return values, reasons


#: Per leg: its hip, knee and ankle, and the keys of its view-independent signals.
_SIGNALS = tuple((leg, (_lm(leg, "hip"), _lm(leg, "knee"), _lm(leg, "ankle")),
                  tuple(f"world_{leg}_{m}" for m in ("hip_flexion_deg", "hip_abduction_deg", "knee_flexion_deg",
                                                    "ankle_height_m"))) for leg in LEGS)
#: Every key of `Measured.values`, in `measure`'s order.
_FRAME_KEYS = (*RULE, "trunk_inclination_deg", "trunk_height_px", *(k for _, _, keys in _SIGNALS for k in keys))
