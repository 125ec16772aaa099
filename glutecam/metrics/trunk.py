"""Trunk measures: lateral lean, forward lean and overall inclination of the hip-to-shoulder line."""

from __future__ import annotations

import math

import numpy as np

from glutecam.metrics.geometry import (
    IMAGE_UP,
    Vec,
    angle_between_deg,
    angle_between_deg_1,
    as3d,
    clip_1,
    cross,
    cross_1,
    dot,
    dot_1,
    norm,
    norm_1,
    reject,
    reject_1,
    sub_1,
    unit,
    unit_1,
)


def _trunk_axes(lateral: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u = unit(as3d(np.broadcast_to(up, np.shape(lateral)[:-1] + (np.shape(up)[-1],))))
    lat = unit(reject(as3d(lateral), u))
    return lat, u, cross(lat, u)


def trunk_lateral_lean_deg(hip_mid: np.ndarray, shoulder_mid: np.ndarray, lateral: np.ndarray,
                           up: np.ndarray = IMAGE_UP) -> np.ndarray:
    """Lateral trunk lean, degrees: the hip-to-shoulder line's angle out of the body's sagittal plane,
    + = towards the person's left (`lateral`: right-to-left hip vector, made perpendicular to `up`).

    For an upright trunk this is its angle from vertical in the frontal plane; reading it out of the
    sagittal plane keeps it defined when the trunk hinges forward. `up` is the image up for a standing
    person, the head direction for a lying one. Valid views: front, back, lying_left, lying_right from the
    image while the trunk is near the image plane, world landmarks otherwise and in oblique views. Known
    error: camera roll adds to the image reading one for one, so faults compare with the baseline.

    >>> round(float(trunk_lateral_lean_deg(np.array([0.0, 0.0]), np.array([1.0, -10.0]), np.array([1.0, 0.0]))), 3)
    5.711
    """
    lat, _, _ = _trunk_axes(lateral, up)
    t = unit(as3d(shoulder_mid) - as3d(hip_mid))
    return np.degrees(np.arcsin(np.clip(dot(t, lat), -1.0, 1.0)))


def trunk_forward_lean_deg(hip_mid: np.ndarray, shoulder_mid: np.ndarray, lateral: np.ndarray,
                           up: np.ndarray = IMAGE_UP) -> np.ndarray:
    """Forward trunk lean, degrees: the hip-to-shoulder line's angle from vertical in the sagittal plane,
    + = forward (towards where the person faces, `lateral x up`).

    Valid views: left_side and right_side from the image (pass `lateral` along the line of sight,
    (0, 0, -1) when the left side faces the camera); front, back and oblique from world landmarks.
    Not defined for a lying person.

    >>> round(float(trunk_forward_lean_deg(np.zeros(2), np.array([-1.0, -1.0]), np.array([0.0, 0.0, -1.0]))), 6)
    45.0
    """
    _, u, f = _trunk_axes(lateral, up)
    t = as3d(shoulder_mid) - as3d(hip_mid)
    angle = np.degrees(np.arctan2(dot(t, f), dot(t, u)))
    return np.where(norm(t) > 1e-12, angle, np.nan)  # coincident hips and shoulders: no trunk line


def trunk_inclination_deg(hip_mid: np.ndarray, shoulder_mid: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Unsigned angle of the hip-to-shoulder line from `up`, degrees (0 = upright, 90 = horizontal).

    3-D world landmarks, any view; drives the single-leg RDL's rep count.

    >>> float(trunk_inclination_deg(np.zeros(3), np.array([0.0, -1.0, -1.0]), np.array([0.0, -1.0, 0.0])))
    45.0
    """
    return angle_between_deg(as3d(shoulder_mid) - as3d(hip_mid), np.broadcast_to(as3d(up), np.shape(as3d(shoulder_mid))))


def trunk_height_px(hip_mid: np.ndarray, shoulder_mid: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Image length of the hip-to-shoulder line along the body's `up`, pixels (negative: shoulders below
    the hips). Upright it is the trunk's full length; hinged by θ it is that times cos θ whichever way the
    trunk tips (towards or away from the camera, or across the image), so it shows a hinge from any view.

    >>> float(trunk_height_px(np.array([0.0, 100.0]), np.array([0.0, 50.0]), np.array([0.0, -1.0])))
    50.0
    """
    return np.sum((np.asarray(shoulder_mid, dtype=np.float64) - hip_mid) * up, axis=-1)


def hinge_from_height_deg(height_px: np.ndarray, upright_px: np.ndarray | float) -> np.ndarray:
    """Trunk angle from upright, degrees, from its image height and its upright height: arccos of their
    ratio (clipped to [-1, 1]; NaN where either is unknown or the upright height is not positive).

    Near upright the angle is too sensitive to read (a 2 % error in the ratio is 11 deg at 0 deg, 1.7 deg
    at 40 deg), so use it only for clear hinges.

    >>> round(float(hinge_from_height_deg(50.0, 100.0)), 1)
    60.0
    """
    h = np.asarray(height_px, dtype=np.float64)
    ref = np.asarray(upright_px, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.clip(h / ref, -1.0, 1.0)
        return np.where(np.isfinite(ratio) & (ref > 0), np.degrees(np.arccos(ratio)), np.nan)


# -- One frame as plain floats (the live path): 3-D tuples, image points lifted with z = 0 as `as3d` lifts
# them; the same numbers as the array functions above.

def _trunk_axes_1(lateral: Vec, up: Vec) -> tuple[Vec, Vec, Vec]:
    u = unit_1(up)
    lat = unit_1(reject_1(lateral, u))
    return lat, u, cross_1(lat, u)


def trunk_lateral_lean_deg_1(hip_mid: Vec, shoulder_mid: Vec, lateral: Vec, up: Vec) -> float:
    """`trunk_lateral_lean_deg` of one frame, degrees."""
    lat, _, _ = _trunk_axes_1(lateral, up)
    return math.degrees(math.asin(clip_1(dot_1(unit_1(sub_1(shoulder_mid, hip_mid)), lat))))


def trunk_forward_lean_deg_1(hip_mid: Vec, shoulder_mid: Vec, lateral: Vec, up: Vec) -> float:
    """`trunk_forward_lean_deg` of one frame, degrees."""
    _, u, f = _trunk_axes_1(lateral, up)
    t = sub_1(shoulder_mid, hip_mid)
    return math.degrees(math.atan2(dot_1(t, f), dot_1(t, u))) if norm_1(t) > 1e-12 else math.nan


def trunk_inclination_deg_1(hip_mid: Vec, shoulder_mid: Vec, up: Vec) -> float:
    """`trunk_inclination_deg` of one frame, degrees."""
    return angle_between_deg_1(sub_1(shoulder_mid, hip_mid), up)


def trunk_height_px_1(hip_mid: Vec, shoulder_mid: Vec, up: Vec) -> float:
    """`trunk_height_px` of one frame, pixels."""
    return (shoulder_mid[0] - hip_mid[0]) * up[0] + (shoulder_mid[1] - hip_mid[1]) * up[1]
