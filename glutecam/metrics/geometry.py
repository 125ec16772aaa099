"""Vector helpers shared by the metrics: 2-D points lifted to 3-D, unit vectors, body axes, signed angles.

All functions broadcast over leading axes; the last axis holds the coordinates. Image points are
(x, y) pixels with y down; lifting appends z = 0, so image vectors and world vectors (x right, y down,
z away from the camera: a right-handed frame) use one set of formulas.
"""

from __future__ import annotations

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
