"""Camera view: which way the person is seen in each frame, and which metrics that view can measure.

Views (the person's own sides): `front`, `back`, `left_side` (their left side faces the camera),
`right_side`, `lying_left` (lying on their left side, seen from the front or back, so the right leg is on
top), `lying_right`, `oblique`; `none` when nobody was detected.

The view comes from the hip line: its angle out of the image plane (world landmarks) separates front/back
(< `frontal_max_deg`), oblique and side (> `side_min_deg`); in the image, a mostly horizontal hip line is a
standing person (left hip on the image right = front) and a mostly vertical one a lying person.

>>> source("pelvic_drop_deg", "front"), source("pelvic_drop_deg", "left_side")
('image', None)
>>> why_not("pelvic_drop_deg", "left_side")
'the hip line points at the camera in a side view'
"""

from __future__ import annotations

import math
from collections import Counter, deque
from typing import Sequence

import numpy as np

from glutecam.landmarks import Landmark

VIEWS = ("front", "back", "left_side", "right_side", "lying_left", "lying_right", "oblique")
NO_VIEW = "none"
FRONTAL = frozenset({"front", "back"})
SIDE = frozenset({"left_side", "right_side"})
LYING = frozenset({"lying_left", "lying_right"})

_OBL = {v: "image" for v in ("front", "back", "lying_left", "lying_right")}
# Depth from behind: on the rendered clips (shared/synth_dev) MediaPipe's world landmarks of a person seen
# from behind read a clean split squat as 16 deg of pelvis rotation at the bottom of every rep, missed a true
# 8 deg, and swapped which hip was flexed; so nothing that needs depth is measured from behind.
_DEPTH = {"left_side": "image", "right_side": "image", "front": "world", "oblique": "world",
          "lying_left": "world", "lying_right": "world"}

#: metric -> view -> where it is measured from ("image" landmarks in px, or "world" landmarks in m).
#: A view that is not listed cannot show the metric; `why_not` says why. Hip abduction and trunk lean are
#: left empty in frames where their segment (thigh, trunk) turns more than 30 deg out of the image plane
#: (`glutecam.metrics.columns.IN_PLANE_MAX_DEG`).
SOURCES: dict[str, dict[str, str]] = {
    "pelvis_obliquity_deg": dict(_OBL),
    "pelvic_drop_deg": dict(_OBL),
    # A turn about the vertical (or, lying facing the camera, a roll back) moves the hips along the line of
    # sight, which only the world landmarks' depth shows, and on the rendered clips that depth does not
    # follow it: from the front it read 6-8 deg of rotation on every clean split-squat rep with the left leg
    # in front (the mirrored renderings; 0.5-3.6 deg with the right leg in front), as large as the 8 deg fault;
    # from behind it missed a true 8 deg; lying it read 2-6 deg of roll-back on clean reps. So it is measured
    # only in an oblique view, where the hip line is turned 30-60 deg out of the image plane (not validated:
    # no rendered clip has that view).
    "pelvis_rotation_deg": {"oblique": "world"},
    "hip_abduction_deg": {**_OBL, "oblique": "world"},
    # Lying facing the camera (or with the back to it) the top leg drifts forward along the line of sight,
    # which only the world landmarks' depth shows; on the rendered clips that depth read a true 30 deg drift
    # (from 10 deg extension to 20 deg flexion) as 2 deg, within the 10 deg spread of clean reps across clips.
    # The image does not show it either: at 40 deg of abduction the thigh's depth component is only
    # cos(40) sin(flexion), so the drift shortens it in the image by 2.5% (the rendered truth agrees), less
    # than the model's rep-to-rep thigh-length noise. So it is not measured there.
    "hip_flexion_deg": {v: s for v, s in _DEPTH.items() if v not in LYING},
    # From the front the bent knee points at the camera: the angle comes from the world landmarks' depth, which
    # read rendered split-squat knees of 88-94 deg as 80-97 deg with the right leg in front but 68-74 deg with
    # the left leg in front (mirrored renderings), and a 22 deg RDL stance knee as 18-32 deg.
    "knee_flexion_deg": {v: s for v, s in _DEPTH.items() if v != "front"},
    "fppa_deg": {"front": "image", "back": "image"},
    "trunk_lean_deg": {**_OBL, "oblique": "world"},
    "trunk_forward_lean_deg": {"left_side": "image", "right_side": "image", "front": "world", "oblique": "world"},
}

BEHIND = "from behind, the pose model's depth (which this needs) is unreliable"
_WHY: dict[str, dict[str, str]] = {
    "pelvis_obliquity_deg": {"side": "the hip line points at the camera in a side view",
                             "oblique": "the hip line is turned too far out of the image plane in an oblique view"},
    "pelvis_rotation_deg": {"side": "in a side view the pelvis turns along the line of sight",
                            "front": "a turn of the pelvis moves the hips along the line of sight, and the pose "
                                     "model's depth from the front reads rotations as large as the fault on "
                                     "clean reps",
                            "back": "a turn of the pelvis moves the hips along the line of sight, and from "
                                    "behind the pose model's depth does not follow it",
                            "lying": "lying facing the camera the pelvis rolls back along the line of sight, and "
                                     "the pose model's depth there reads several degrees of roll on clean reps"},
    "hip_abduction_deg": {"side": "in a side view abduction moves the thigh along the line of sight"},
    "hip_flexion_deg": {"back": BEHIND,
                        "lying": "lying facing the camera the top leg drifts forward along the line of sight, "
                                 "and the pose model's depth there does not follow it"},
    "knee_flexion_deg": {"back": BEHIND,
                         "front": "from the front the bent knee points along the line of sight, and the pose "
                                  "model's depth there misreads it by up to 20 deg"},
    "fppa_deg": {"*": "the frontal-plane projection angle needs a front or back view of a standing person"},
    "trunk_lean_deg": {"*": "lateral trunk lean needs a front or back view"},
    "trunk_forward_lean_deg": {"back": BEHIND, "*": "forward trunk lean is not defined for a person lying down"},
}
_WHY["pelvic_drop_deg"] = _WHY["pelvis_obliquity_deg"]


def source(metric: str, view: str) -> str | None:
    """"image", "world" or None (the view cannot show the metric)."""
    try:
        return SOURCES[metric].get(view)
    except KeyError:
        raise KeyError(f"unknown metric {metric!r}; known: {', '.join(SOURCES)}") from None


def why_not(metric: str, view: str) -> str:
    """Plain reason a metric cannot be measured in a view ("" when it can)."""
    if view == NO_VIEW:
        return "no person detected"
    if source(metric, view) is not None:
        return ""
    kind = "side" if view in SIDE else "lying" if view in LYING else view
    reasons = _WHY.get(metric, {})
    return reasons.get(kind) or reasons.get("*") or f"not measurable in the {view.replace('_', ' ')} view"


def hip_line_out_of_plane_deg(world_m: np.ndarray) -> np.ndarray:
    """(T,) angle of the right-to-left hip line out of the image plane, degrees (0 = parallel to it)."""
    h = world_m[:, Landmark.LEFT_HIP] - world_m[:, Landmark.RIGHT_HIP]
    return np.degrees(np.arctan2(np.abs(h[:, 2]), np.hypot(h[:, 0], h[:, 1])))


def classify_views(image_xy: np.ndarray, world_m: np.ndarray, frontal_max_deg: float = 30.0,
                   side_min_deg: float = 60.0) -> np.ndarray:
    """(T,) view label per frame from image (T, 33, 2) and world (T, 33, 3) landmarks (NaN = missing)."""
    d = image_xy[:, Landmark.LEFT_HIP] - image_xy[:, Landmark.RIGHT_HIP]
    h = world_m[:, Landmark.LEFT_HIP] - world_m[:, Landmark.RIGHT_HIP]
    tilt = hip_line_out_of_plane_deg(world_m)
    out = np.full(len(d), NO_VIEW, dtype=object)
    ok = np.isfinite(d).all(axis=1) & np.isfinite(tilt)
    lying = np.abs(d[:, 1]) > np.abs(d[:, 0])
    frontal = ok & (tilt <= frontal_max_deg)
    out[frontal & ~lying & (d[:, 0] >= 0)] = "front"
    out[frontal & ~lying & (d[:, 0] < 0)] = "back"
    out[frontal & lying & (d[:, 1] < 0)] = "lying_right"  # left hip above: lying on the right side
    out[frontal & lying & (d[:, 1] >= 0)] = "lying_left"
    out[ok & (tilt > frontal_max_deg) & (tilt < side_min_deg)] = "oblique"
    side = ok & (tilt >= side_min_deg)
    out[side & (h[:, 2] < 0)] = "left_side"  # left hip nearer the camera
    out[side & (h[:, 2] >= 0)] = "right_side"
    return out


def classify_view_1(left_hip_xy: Sequence[float], right_hip_xy: Sequence[float], left_hip_m: Sequence[float],
                    right_hip_m: Sequence[float], frontal_max_deg: float = 30.0, side_min_deg: float = 60.0) -> str:
    """`classify_views` of one frame, from its hip landmarks (image px, world m; NaN = missing)."""
    dx, dy = left_hip_xy[0] - right_hip_xy[0], left_hip_xy[1] - right_hip_xy[1]
    hx, hy, hz = left_hip_m[0] - right_hip_m[0], left_hip_m[1] - right_hip_m[1], left_hip_m[2] - right_hip_m[2]
    tilt = math.degrees(math.atan2(abs(hz), float(np.hypot(hx, hy))))  # `hip_line_out_of_plane_deg`
    if not (math.isfinite(dx) and math.isfinite(dy) and math.isfinite(tilt)):
        return NO_VIEW
    if tilt >= side_min_deg:
        return "left_side" if hz < 0 else "right_side"
    if tilt > frontal_max_deg:
        return "oblique"
    if abs(dy) > abs(dx):
        return "lying_right" if dy < 0 else "lying_left"
    return "front" if dx >= 0 else "back"


class ViewSmoother:
    """Causal smoothing of per-frame view labels: the most common label over the last `n` frames.

    Frames with nobody detected stay `none`; a tie keeps the previous label, so a view does not flicker.

    >>> s = ViewSmoother(3)
    >>> [s.update(v) for v in ["front", "oblique", "front", "oblique", "oblique", "none"]]
    ['front', 'front', 'front', 'oblique', 'oblique', 'none']
    """

    def __init__(self, n: int) -> None:
        self._window: deque[str] = deque(maxlen=max(1, int(n)))
        self._counts: dict[str, int] = {}  # labels in the window but `none`, kept as it slides
        self._last = NO_VIEW

    def update(self, view: str) -> str:
        counts = self._counts
        if len(self._window) == self._window.maxlen and self._window[0] != NO_VIEW:
            gone = self._window[0]
            counts[gone] -= 1
            if not counts[gone]:
                del counts[gone]
        self._window.append(view)
        if view == NO_VIEW:
            return NO_VIEW
        counts[view] = counts.get(view, 0) + 1
        best = max(counts.values())
        if counts.get(self._last) != best:
            self._last = view if counts[view] == best else next(
                v for v in reversed(self._window) if counts.get(v) == best)
        return self._last


def smooth_views(views: np.ndarray, n: int) -> np.ndarray:
    """`ViewSmoother` over a whole sequence (the same labels live mode would give)."""
    s = ViewSmoother(n)
    return np.array([s.update(v) for v in views], dtype=object)


def set_view(views: np.ndarray) -> str:
    """The set's view: the most common label among frames with a person (`none` if there are none)."""
    counts = Counter(v for v in views if v != NO_VIEW)
    return counts.most_common(1)[0][0] if counts else NO_VIEW


def reference_up(views: np.ndarray, image_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The body's reference "up" per frame: (T, 2) in the image and (T, 3) in MediaPipe's world frame.

    Standing views: the image's up (0, -1). Lying views: towards the head along the image's x axis (from
    the hip midpoint to the shoulder midpoint), so angles of a lying body are read against its long axis.
    """
    t = len(views)
    up_xy = np.tile([0.0, -1.0], (t, 1))
    up_m = np.tile([0.0, -1.0, 0.0], (t, 1))
    lying = np.isin(views, list(LYING))
    if lying.any():
        hips = (image_xy[:, Landmark.LEFT_HIP] + image_xy[:, Landmark.RIGHT_HIP]) / 2
        shoulders = (image_xy[:, Landmark.LEFT_SHOULDER] + image_xy[:, Landmark.RIGHT_SHOULDER]) / 2
        s = np.sign(shoulders[:, 0] - hips[:, 0])
        s = np.where(np.isfinite(s) & (s != 0), s, np.nan)
        up_xy[lying] = np.stack([s, np.zeros(t)], axis=1)[lying]
        up_m[lying] = np.stack([s, np.zeros(t), np.zeros(t)], axis=1)[lying]
    return up_xy, up_m


def reference_up_1(view: str,
                   image_xy: Sequence[Sequence[float]]) -> tuple[tuple[float, float], tuple[float, float, float]]:
    """`reference_up` of one frame: (up_xy, up_m) from its view and image landmarks (33, 2) px."""
    if view not in LYING:
        return (0.0, -1.0), (0.0, -1.0, 0.0)
    lh, rh = image_xy[Landmark.LEFT_HIP], image_xy[Landmark.RIGHT_HIP]
    ls, rs = image_xy[Landmark.LEFT_SHOULDER], image_xy[Landmark.RIGHT_SHOULDER]
    d = (ls[0] + rs[0]) / 2 - (lh[0] + rh[0]) / 2
    s = 1.0 if d > 0 else -1.0 if d < 0 else math.nan  # no direction: 0 or NaN
    return (s, 0.0), (s, 0.0, 0.0)
