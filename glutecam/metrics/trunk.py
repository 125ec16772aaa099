"""Trunk measures: lateral lean, forward lean and overall inclination of the hip-to-shoulder line."""

from __future__ import annotations

import numpy as np

from glutecam.metrics.geometry import IMAGE_UP, angle_between_deg, as3d, cross, dot, norm, reject, unit


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
