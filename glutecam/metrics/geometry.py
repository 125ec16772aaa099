"""Vector helpers shared by the metrics: 2-D points lifted to 3-D, unit vectors, body axes, signed angles.

All functions broadcast over leading axes; the last axis holds the coordinates. Image points are
(x, y) pixels with y down; lifting appends z = 0, so image vectors and world vectors (x right, y down,
z away from the camera: a right-handed frame) use one set of formulas.
"""

from __future__ import annotations

import math

import numpy as np

#: "Up" in the image and in MediaPipe's camera-aligned world frame (both have y pointing down).
IMAGE_UP = np.array([0.0, -1.0])
WORLD_UP = np.array([0.0, -1.0, 0.0])


def as3d(v: np.ndarray) -> np.ndarray:
    """Points or vectors with 2 or 3 coordinates, as 3-D (z = 0 appended to 2-D ones).

    >>> as3d(np.array([1.0, 2.0]))
    array([1., 2., 0.])
    """
    if type(v) is np.ndarray and v.dtype == np.float64 and v.shape[-1] == 3:
        return v  # the usual case, without `asarray`'s cost
    v = np.asarray(v, dtype=np.float64)
    if v.shape[-1] == 3:
        return v
    if v.shape[-1] != 2:
        raise ValueError(f"expected 2 or 3 coordinates on the last axis, got shape {v.shape}")
    return np.concatenate([v, np.zeros(v.shape[:-1] + (1,))], axis=-1)


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _add_reduce(np.multiply(a, b), axis=-1)  # what `.sum(axis=-1)` does, without its Python wrapper


_add_reduce = np.add.reduce


def norm(v: np.ndarray) -> np.ndarray:
    """Length of each vector (last axis)."""
    return np.sqrt(dot(v, v))


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of 3-D vectors on the last axis (what `np.cross` does, without its overhead)."""
    a, b = np.asarray(a), np.asarray(b)
    return np.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                     a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                     a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)


def unit(v: np.ndarray) -> np.ndarray:
    """`v` scaled to length 1 (NaN where its length is 0 or NaN)."""
    v = np.asarray(v, dtype=np.float64)
    n = norm(v)[..., None]
    if (n > 1e-12).all():  # the usual case, without the cost of errstate and where (same numbers)
        return v / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1e-12, v / n, np.nan)


def reject(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Component of `v` perpendicular to the unit vector `axis`."""
    return v - dot(v, axis)[..., None] * axis


def body_axes(lateral: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal (lateral, up, forward) axes from a right-to-left hip vector and an approximate up.

    `up` is made perpendicular to `lateral`; `forward = lateral x up`, which points where the person faces
    (left x up = forward for a right-handed frame). 2-D inputs are lifted to 3-D.

    >>> lat, up, fwd = body_axes(np.array([1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0]))
    >>> fwd  # facing the camera: forward is towards it (-z)
    array([ 0.,  0., -1.])
    """
    lat = unit(as3d(lateral))
    up = unit(reject(as3d(up), lat))
    return lat, up, cross(lat, up)


def signed_angle_deg(a: np.ndarray, b: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Angle from `a` to `b` about `axis` (right-hand rule), degrees in (-180, 180].

    >>> float(signed_angle_deg(np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, 0, 1.0])))
    90.0
    """
    a, b, axis = as3d(a), as3d(b), unit(as3d(axis))
    angle = np.degrees(np.arctan2(dot(axis, cross(a, b)), dot(a, b)))
    return np.where(_has_length(a) & _has_length(b), angle, np.nan)  # a zero vector has no direction


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unsigned angle between two vectors, degrees in [0, 180].

    >>> float(angle_between_deg(np.array([1.0, 0.0]), np.array([1.0, 1.0])))
    45.0
    """
    a, b = as3d(a), as3d(b)
    angle = np.degrees(np.arctan2(norm(cross(a, b)), dot(a, b)))
    return np.where(_has_length(a) & _has_length(b), angle, np.nan)  # not 0 or 180 for coincident points


def _has_length(v: np.ndarray) -> np.ndarray:
    """True where a vector has a direction (length above `unit`'s zero), False for zero and NaN vectors."""
    return norm(v) > 1e-12


def wrap_deg(angle: np.ndarray) -> np.ndarray:
    """Angle wrapped into [-180, 180).

    >>> float(wrap_deg(np.array(190.0)))
    -170.0
    """
    return (np.asarray(angle, dtype=np.float64) + 180.0) % 360.0 - 180.0


# -- One vector as plain floats: the live path's single frame, without numpy's per-call cost. Vectors are 3-D
# tuples (image points lifted with z = 0, as `as3d` lifts them). Each `*_1` gives the number its array
# counterpart above gives (tests/test_live_per_frame.py pins them together).

Vec = tuple[float, float, float]
NAN3: Vec = (math.nan, math.nan, math.nan)


def sub_1(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def mid_1(a: Vec, b: Vec) -> Vec:
    """(a + b) / 2."""
    return ((a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0, (a[2] + b[2]) / 2.0)


def dot_1(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]  # summed in `dot`'s order


def norm_1(v: Vec) -> float:
    return math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


def cross_1(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def unit_1(v: Vec) -> Vec:
    """`unit`: `v` scaled to length 1, NaN where its length is 0 or NaN."""
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])  # `norm_1`, inlined: the hottest call
    return (v[0] / n, v[1] / n, v[2] / n) if n > 1e-12 else NAN3


def reject_1(v: Vec, axis: Vec) -> Vec:
    """`reject`: the component of `v` perpendicular to the unit vector `axis`."""
    d = dot_1(v, axis)
    return (v[0] - d * axis[0], v[1] - d * axis[1], v[2] - d * axis[2])


def body_axes_1(lateral: Vec, up: Vec) -> tuple[Vec, Vec, Vec]:
    """`body_axes` of one frame: (lateral, up, forward)."""
    lat = unit_1(lateral)
    u = unit_1(reject_1(up, lat))
    return lat, u, cross_1(lat, u)


def signed_angle_deg_1(a: Vec, b: Vec, axis: Vec) -> float:
    """`signed_angle_deg` of one pair of vectors, degrees."""
    if not (norm_1(a) > 1e-12 and norm_1(b) > 1e-12):
        return math.nan
    return math.degrees(math.atan2(dot_1(unit_1(axis), cross_1(a, b)), dot_1(a, b)))


def angle_between_deg_1(a: Vec, b: Vec) -> float:
    """`angle_between_deg` of one pair of vectors, degrees."""
    if not (norm_1(a) > 1e-12 and norm_1(b) > 1e-12):
        return math.nan
    return math.degrees(math.atan2(norm_1(cross_1(a, b)), dot_1(a, b)))


def clip_1(x: float, lo: float = -1.0, hi: float = 1.0) -> float:
    """`np.clip` of one number (NaN stays NaN, unlike `min`/`max`)."""
    return lo if x < lo else hi if x > hi else x


def sign_1(x: float) -> float:
    """`np.sign` of one number (NaN stays NaN)."""
    return 1.0 if x > 0 else -1.0 if x < 0 else x


def wrap_deg_1(angle: float) -> float:
    """`wrap_deg` of one angle (Python's float `%` takes the divisor's sign, as numpy's does)."""
    return (angle + 180.0) % 360.0 - 180.0
