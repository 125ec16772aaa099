"""Leg joint angles: hip flexion and abduction, knee flexion, and the knee's frontal-plane projection angle.

Hip angles are read in the body's own axes (`body_axes`): lateral = the right-to-left hip line, up = the
trunk (hip midpoint to shoulder midpoint) made perpendicular to it, forward = lateral x up. So hip flexion
is the thigh against the trunk (as 2-D video analysis measures it), not against gravity. Inputs are points
with 2 (image px) or 3 (world m) coordinates; for an image from the side pass a 3-D `lateral` along the
line of sight (see `glutecam.metrics.columns`).
"""

from __future__ import annotations

import math

import numpy as np

from glutecam.metrics.geometry import (
    Vec,
    angle_between_deg,
    angle_between_deg_1,
    as3d,
    body_axes,
    body_axes_1,
    clip_1,
    dot,
    dot_1,
    norm,
    norm_1,
    reject,
    reject_1,
    sign_1,
    sub_1,
    unit,
    unit_1,
)


def _side(side: str) -> float:
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return 1.0 if side == "left" else -1.0


def hip_flexion_deg(hip: np.ndarray, knee: np.ndarray, lateral: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Hip flexion, degrees: the thigh's angle in the body's sagittal plane from straight down,
    + = thigh forward (flexion), - = thigh behind the trunk line (extension).

    `lateral`: right-to-left hip vector; `up`: hip-to-shoulder (trunk) vector. Valid views: left_side and
    right_side from the image; any view from world landmarks (front/back/oblique/lying), where MediaPipe's
    depth error (often 5-10 deg on the thigh) applies. Includes the lumbo-pelvic contribution: the
    pelvis itself is not visible separately.

    >>> lat, up = np.array([0.0, 0.0, -1.0]), np.array([0.0, -1.0, 0.0])  # seen from the left side
    >>> round(float(hip_flexion_deg(np.array([0.0, 0.0]), np.array([-1.0, 1.0]), lat, up)), 6)  # faces -x
    45.0
    """
    _, u, f = body_axes(lateral, up)
    v = as3d(knee) - as3d(hip)
    angle = np.degrees(np.arctan2(dot(v, f), -dot(v, u)))
    return np.where(norm(v) > 1e-12, angle, np.nan)  # a thigh of no length has no direction


def hip_abduction_deg(hip: np.ndarray, knee: np.ndarray, lateral: np.ndarray, up: np.ndarray,
                      side: str) -> np.ndarray:
    """Hip abduction of the `side` leg, degrees: the thigh's angle out of the body's sagittal plane,
    + = outward (abduction), - = across the midline (adduction).

    Valid views: front, back, lying_left, lying_right from the image (the frontal plane faces the camera);
    oblique from world landmarks. Known error: from the image, a flexed thigh is foreshortened and its
    abduction over-read (by 1/cos of the flexion); a camera looking down on a lying person under-reads it.

    >>> lat, up = np.array([1.0, 0.0]), np.array([0.0, -1.0])  # front view: left hip on the image right
    >>> round(float(hip_abduction_deg(np.array([0.0, 0.0]), np.array([1.0, 1.0]), lat, up, "left")), 6)
    45.0
    """
    lat, _, _ = body_axes(lateral, up)
    v = unit(as3d(knee) - as3d(hip))
    return np.degrees(np.arcsin(np.clip(_side(side) * dot(v, lat), -1.0, 1.0)))


def knee_flexion_deg(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """Knee flexion, degrees: 180 minus the angle at the knee between thigh and shank; 0 = straight.

    Valid views: left_side and right_side from the image; any other view from world landmarks, with
    MediaPipe's depth error. Unsigned (hyperextension reads as a small flexion).

    >>> float(knee_flexion_deg(np.array([0.0, 0.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0])))
    90.0
    """
    return 180.0 - angle_between_deg(as3d(hip) - as3d(knee), as3d(ankle) - as3d(knee))


def fppa_deg(hip_xy: np.ndarray, knee_xy: np.ndarray, ankle_xy: np.ndarray, medial_xy: np.ndarray) -> np.ndarray:
    """Frontal-plane projection angle of the knee, degrees: the angle between thigh (hip->knee) and shank
    (knee->ankle) in the image, + = the knee medial to the hip-ankle line (valgus), - = lateral (varus).

    `medial_xy`: any image vector pointing towards the body's midline from this leg (e.g. other hip minus
    this hip). Valid views: front and back only (a 2-D measure by definition; Willson & Davis 2008).
    Known error: 2-D FPPA conflates hip rotation and knee flexion with valgus; reliability
    (Munro et al. 2012) is good but it is not the 3-D knee abduction angle.

    >>> round(float(fppa_deg(np.zeros(2), np.array([-1.0, 10.0]), np.array([0.0, 20.0]), np.array([-1.0, 0.0]))), 3)
    11.421
    """
    hip, knee, ankle = as3d(hip_xy), as3d(knee_xy), as3d(ankle_xy)
    bend = 180.0 - angle_between_deg(hip - knee, ankle - knee)
    offset = reject(knee - hip, unit(ankle - hip))
    return np.sign(dot(offset, as3d(medial_xy))) * bend


def fppa_defined(hip_xy: np.ndarray, knee_xy: np.ndarray, ankle_xy: np.ndarray, up_xy: np.ndarray,
                 min_thigh_ratio: float = 0.5, max_thigh_tilt_deg: float = 60.0) -> np.ndarray:
    """Where the FPPA means something: the thigh seen at least `min_thigh_ratio` as long as the shank in the
    image, and thigh and shank both pointing down within `max_thigh_tilt_deg` of the body's down. A thigh
    flexed towards the camera (or away from it, when the knee shows above the hip from behind), or a shank
    folded back (the rear leg of a split squat), has no frontal-plane angle.

    >>> bool(fppa_defined(np.zeros(2), np.array([0.0, 10.0]), np.array([0.0, 20.0]), np.array([0.0, -1.0])))
    True
    >>> bool(fppa_defined(np.zeros(2), np.array([0.0, 2.0]), np.array([0.0, 20.0]), np.array([0.0, -1.0])))
    False
    """
    thigh = as3d(knee_xy) - as3d(hip_xy)
    shank = as3d(ankle_xy) - as3d(knee_xy)
    t_len, s_len = norm(thigh), norm(shank)
    down = -unit(as3d(np.broadcast_to(up_xy, np.shape(hip_xy))))
    steep = np.cos(np.radians(max_thigh_tilt_deg))
    with np.errstate(invalid="ignore"):
        return (t_len >= min_thigh_ratio * s_len) & (dot(unit(thigh), down) >= steep) & (dot(unit(shank), down) >= steep)


# -- One frame as plain floats (the live path): 3-D tuples, image points lifted with z = 0 as `as3d` lifts
# them; the same numbers as the array functions above.

def hip_flexion_deg_1(hip: Vec, knee: Vec, lateral: Vec, up: Vec) -> float:
    """`hip_flexion_deg` of one frame, degrees."""
    _, u, f = body_axes_1(lateral, up)
    v = sub_1(knee, hip)
    return math.degrees(math.atan2(dot_1(v, f), -dot_1(v, u))) if norm_1(v) > 1e-12 else math.nan


def hip_abduction_deg_1(hip: Vec, knee: Vec, lateral: Vec, up: Vec, side: str) -> float:
    """`hip_abduction_deg` of one frame, degrees."""
    lat = unit_1(lateral)
    v = unit_1(sub_1(knee, hip))
    return math.degrees(math.asin(clip_1(_side(side) * dot_1(v, lat))))


def knee_flexion_deg_1(hip: Vec, knee: Vec, ankle: Vec) -> float:
    """`knee_flexion_deg` of one frame, degrees."""
    return 180.0 - angle_between_deg_1(sub_1(hip, knee), sub_1(ankle, knee))


def fppa_deg_1(hip_xy: Vec, knee_xy: Vec, ankle_xy: Vec, medial_xy: Vec) -> float:
    """`fppa_deg` of one frame, degrees."""
    bend = 180.0 - angle_between_deg_1(sub_1(hip_xy, knee_xy), sub_1(ankle_xy, knee_xy))
    offset = reject_1(sub_1(knee_xy, hip_xy), unit_1(sub_1(ankle_xy, hip_xy)))
    return sign_1(dot_1(offset, medial_xy)) * bend


def fppa_defined_1(hip_xy: Vec, knee_xy: Vec, ankle_xy: Vec, up_xy: Vec, min_thigh_ratio: float = 0.5,
                   max_thigh_tilt_deg: float = 60.0) -> bool:
    """`fppa_defined` of one frame."""
    thigh, shank = sub_1(knee_xy, hip_xy), sub_1(ankle_xy, knee_xy)
    u = unit_1(up_xy)
    down = (-u[0], -u[1], -u[2])
    steep = math.cos(math.radians(max_thigh_tilt_deg))
    return (norm_1(thigh) >= min_thigh_ratio * norm_1(shank) and dot_1(unit_1(thigh), down) >= steep
            and dot_1(unit_1(shank), down) >= steep)
