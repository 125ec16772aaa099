"""Pelvis measures: obliquity and yaw of the hip line, and their change from baseline (drop, rotation).

`estimate_pelvis` is the one place that turns landmarks into pelvis angles; analysers take it as a
parameter (`PelvisEstimator`), so a better estimator (issue 8: MediaPipe's hip line under-reads a drop)
can replace it without touching anything else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from glutecam.landmarks import Landmark
from glutecam.metrics.geometry import (
    IMAGE_UP,
    WORLD_UP,
    Vec,
    as3d,
    dot,
    norm,
    norm_1,
    reject,
    reject_1,
    signed_angle_deg,
    signed_angle_deg_1,
    sub_1,
    unit,
    unit_1,
    wrap_deg,
    wrap_deg_1,
)

#: Shoulders to ankles (the long side of their box in the image, standing or lying still), pixels, below which
#: the pelvis measures lose accuracy: on the rendered split squats shrunk to 60% (shoulders to ankles 133-152 px
#: instead of 222-254) clean reps read 5.2-6.0 deg of drop instead of 3.9-5.0, over the 5 deg threshold; side-lying
#: clips at 157-182 px read as at full size. The hips are then 20-22 px apart, one pixel over 2.5 deg.
MIN_BODY_SPAN_PX = 180.0
_BODY = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP,
         Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE, Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE]


def body_span_px(image_xy: np.ndarray) -> np.ndarray:
    """(T,) long side of the box around shoulders, hips, knees and ankles in image `image_xy` (T, 33, 2),
    pixels; NaN where one of them is missing. Compare its high percentile (the person at full stretch) with
    `MIN_BODY_SPAN_PX`.

    >>> xy = np.zeros((1, 33, 2)); xy[0, _BODY, 1] = np.linspace(100, 300, 8); float(body_span_px(xy)[0])
    200.0
    """
    pts = np.asarray(image_xy, dtype=np.float64)[:, _BODY, :2]
    return (pts.max(axis=1) - pts.min(axis=1)).max(axis=1)


def pelvis_obliquity_deg(left_hip_xy: np.ndarray, right_hip_xy: np.ndarray,
                         up_xy: np.ndarray = IMAGE_UP) -> np.ndarray:
    """Angle of the hip-to-hip line against the image horizontal, degrees; + = the person's left hip higher.

    Definition: `atan2(y_right - y_left, |x_left - x_right|)` in pixels with y pointing down. For a person
    lying on their side pass `up_xy`, the image direction of their head: the angle is then taken against
    the perpendicular of `up_xy` and + = the left hip nearer the head. The absolute value in the
    denominator makes the sign the same from the front and from behind.

    Valid views: front, back, lying_left, lying_right (the hip line must lie close to the image plane;
    a pelvis rotated by r degrees shows a drop d as atan(tan d / cos r)). Known error: MediaPipe's hip
    landmarks sit higher and wider than the hip joints and follow only part of a true drop (about 0.76
    of it raw for a split squat from the front, synth_dev README); read the change from a baseline
    (`pelvic_drop_deg`), which also cancels camera roll.

    >>> round(float(pelvis_obliquity_deg(np.array([340.0, 270.0]), np.array([300.0, 280.0]))), 3)  # left higher
    14.036
    >>> round(float(pelvis_obliquity_deg(np.array([300.0, 270.0]), np.array([340.0, 280.0]))), 3)  # from behind
    14.036
    """
    with np.errstate(invalid="ignore", over="ignore"):  # a non-finite landmark gives NaN, without a warning
        e = np.asarray(left_hip_xy, dtype=np.float64) - np.asarray(right_hip_xy, dtype=np.float64)
        u = unit(np.asarray(up_xy, dtype=np.float64))
        across = np.stack([-u[..., 1], u[..., 0]], axis=-1)
        angle = np.degrees(np.arctan2(dot(e, u), np.abs(dot(e, across))))
        return np.where(norm(e) > 1e-12, angle, np.nan)  # coincident hips have no line, not a level one


def _side_sign(free_side: str) -> float:
    if free_side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {free_side!r}")
    return -1.0 if free_side == "left" else 1.0


def pelvic_drop_deg(obliquity_deg: np.ndarray, baseline_deg: float, free_side: str) -> np.ndarray:
    """Obliquity change from the neutral baseline, degrees; + = the pelvis drops on the free-leg side.

    The free side is the single-leg RDL's lifted leg, the split squat's rear leg, the side-lying top leg;
    a negative value is a hike of the free side (for side-lying abduction, the `hip_hike` fault). The
    baseline (median obliquity over a still window, see `glutecam.analysers.baseline`) cancels camera roll
    and the person's own asymmetry. Valid views and error: those of `pelvis_obliquity_deg`; 2-D video
    pelvic measures have a standard error of 2-4 deg.

    >>> float(pelvic_drop_deg(np.array(-6.0), baseline_deg=1.0, free_side="left"))  # left hip went down
    7.0
    >>> float(pelvic_drop_deg(np.array(-6.0), baseline_deg=1.0, free_side="right"))
    -7.0
    """
    return _side_sign(free_side) * (np.asarray(obliquity_deg, dtype=np.float64) - baseline_deg)


def pelvis_yaw_deg(left_hip_m: np.ndarray, right_hip_m: np.ndarray, up_m: np.ndarray = WORLD_UP) -> np.ndarray:
    """Heading of the hip line about the body's vertical `up_m`, degrees; + = the left hip turned backward.

    World landmarks (metres, MediaPipe's camera-aligned frame: x right, y down, z away from the camera).
    The zero is the camera's x axis (or, if `up_m` is along it as for a person lying on their side, the
    image up direction), so only changes of yaw mean anything: see `pelvis_rotation_deg`.

    >>> round(float(pelvis_yaw_deg(np.array([0.1, 0.0, 0.02]), np.array([-0.1, 0.0, -0.02]))), 3)  # left hip further away
    11.31
    """
    h = as3d(np.asarray(left_hip_m, dtype=np.float64) - np.asarray(right_hip_m, dtype=np.float64))
    u = unit(np.broadcast_to(np.asarray(up_m, dtype=np.float64), h.shape))
    ref = reject(np.broadcast_to(np.array([1.0, 0.0, 0.0]), h.shape), u)
    alt = reject(np.broadcast_to(np.array([0.0, -1.0, 0.0]), h.shape), u)
    ref = np.where((norm(ref) > 0.5)[..., None], ref, alt)
    return signed_angle_deg(ref, reject(h, u), u)


def pelvis_rotation_deg(yaw_deg: np.ndarray, baseline_yaw_deg: float, free_side: str) -> np.ndarray:
    """Pelvis rotation about the vertical from baseline, degrees; + = the free-leg side rotates backward.

    From world landmarks via `pelvis_yaw_deg`. The hip width's foreshortening in the image is not used: it
    is unsigned and flat near zero (cos 5 deg = 0.996, a 0.4 % change in width). Valid views: front, back,
    oblique, lying_left, lying_right (rotation moves the hips along the line of sight in a side view).
    Known error: MediaPipe's world depth is its least accurate axis; expect several degrees.

    >>> float(pelvis_rotation_deg(np.array(8.0), 1.0, "left"))
    7.0
    >>> float(pelvis_rotation_deg(np.array(-179.0), 179.0, "right"))  # wraps
    -2.0
    """
    # each angle wrapped before the difference, which then cannot overflow to infinity (and become NaN)
    return -_side_sign(free_side) * wrap_deg(wrap_deg(yaw_deg) - wrap_deg(baseline_yaw_deg))


@dataclass(frozen=True)
class PelvisEstimate:
    """Absolute pelvis angles per frame (T,), before any baseline: image obliquity and world yaw, degrees."""

    obliquity_deg: np.ndarray
    yaw_deg: np.ndarray


class PelvisEstimator(Protocol):
    """Landmarks -> pelvis angles. `image_xy` (T, 33, 2) px and `world_m` (T, 33, 3) m, NaN where missing;
    `up_xy` (T, 2) and `up_m` (T, 3): the body's reference up in the image and in the world frame."""

    def __call__(self, image_xy: np.ndarray, world_m: np.ndarray, up_xy: np.ndarray,
                 up_m: np.ndarray) -> PelvisEstimate: ...


def estimate_pelvis(image_xy: np.ndarray, world_m: np.ndarray, up_xy: np.ndarray, up_m: np.ndarray) -> PelvisEstimate:
    """The default estimator: MediaPipe's hip landmarks taken as they are (the naive hip line)."""
    lh, rh = Landmark.LEFT_HIP, Landmark.RIGHT_HIP
    return PelvisEstimate(
        obliquity_deg=pelvis_obliquity_deg(image_xy[:, lh], image_xy[:, rh], up_xy),
        yaw_deg=pelvis_yaw_deg(world_m[:, lh], world_m[:, rh], up_m),
    )


# -- One frame as plain floats (the live path): 3-D tuples, image points lifted with z = 0 as `as3d` lifts
# them; the same numbers as the array functions above.

def pelvis_obliquity_deg_1(left_hip_xy: Vec, right_hip_xy: Vec, up_xy: Vec) -> float:
    """`pelvis_obliquity_deg` of one frame (x, y of the points), degrees."""
    ex, ey = left_hip_xy[0] - right_hip_xy[0], left_hip_xy[1] - right_hip_xy[1]
    ux, uy, _ = unit_1((up_xy[0], up_xy[1], 0.0))
    if not math.sqrt(ex * ex + ey * ey) > 1e-12:
        return math.nan
    return math.degrees(math.atan2(ex * ux + ey * uy, abs(ex * -uy + ey * ux)))


def pelvis_yaw_deg_1(left_hip_m: Vec, right_hip_m: Vec, up_m: Vec) -> float:
    """`pelvis_yaw_deg` of one frame, degrees."""
    h = sub_1(left_hip_m, right_hip_m)
    u = unit_1(up_m)
    ref = reject_1((1.0, 0.0, 0.0), u)
    if not norm_1(ref) > 0.5:
        ref = reject_1((0.0, -1.0, 0.0), u)
    return signed_angle_deg_1(ref, reject_1(h, u), u)


def pelvic_drop_deg_1(obliquity_deg: float, baseline_deg: float, free_side: str) -> float:
    """`pelvic_drop_deg` of one frame, degrees."""
    return _side_sign(free_side) * (obliquity_deg - baseline_deg)


def pelvis_rotation_deg_1(yaw_deg: float, baseline_yaw_deg: float, free_side: str) -> float:
    """`pelvis_rotation_deg` of one frame, degrees."""
    return -_side_sign(free_side) * wrap_deg_1(wrap_deg_1(yaw_deg) - wrap_deg_1(baseline_yaw_deg))
