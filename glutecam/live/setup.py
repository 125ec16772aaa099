"""The set-up phase: is the person where the camera can judge this exercise? If not, one plain instruction.

`check_setup(pose, exercise, frame_size_wh)` judges one frame, in this order: someone is there; the whole
body (shoulders to feet) is in the picture and big enough; the camera sees them from a direction that suits
the exercise (front or back for the split squat, back only when the user named the front leg; from behind or
slightly to the side for the single-leg RDL; lying on their side and facing the camera for side-lying
abduction); shoulders and hips are clearly visible. `SetupGuide` smooths the view over a few frames and
declares the set-up done once every check has passed for `hold_s` seconds without a break.

"Left" and "right" in instructions are the person's own, except "head to the left/right of the picture".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from glutecam.landmarks import Landmark
from glutecam.metrics.pelvis import MIN_BODY_SPAN_PX
from glutecam.track import FramePose
from glutecam.view import LYING, NO_VIEW, ViewSmoother, classify_views

#: The body from shoulders to feet must be in the picture.
BODY = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP,
        Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE, Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE)
#: What the pelvis measures are read from: these must be clearly visible (not just guessed by the model).
TORSO = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP)

#: Views each exercise can be judged from. `LiveSession` narrows these to the views the analyser also
#: judges (its `suited_views`), falling back to either set alone when the two do not overlap.
SUITED_VIEWS: dict[str, frozenset[str]] = {
    "split-squat": frozenset({"front", "back"}),
    "single-leg-rdl": frozenset({"back", "oblique"}),
    "side-lying-abduction": frozenset(LYING),
}


#: Suited views where the working side cannot be found, so `--side` must name it; else this instruction (the
#: split squat from behind: the pose model draws both legs alike, see `SplitSquat.side_evidence`).
NEEDS_SIDE: dict[str, dict[str, str]] = {
    "split-squat": {"back": "Turn to face the camera: from behind I can't tell which leg is in front "
                            "(or start again with --side)"},
}


#: What even a suited view cannot show, told to the person once the set-up is done (see docs/accuracy.md:
#: from behind, the pose model loses the pelvis, and with it the knee's frontal-plane angle, past a ~45 deg
#: hinge, and no other camera does better).
VIEW_LIMITS: dict[str, str] = {
    "single-leg-rdl": "Your hips and knees are checked in the upper half of each hinge only",
}


@dataclass(frozen=True)
class SetupLimits:
    """What counts as "in the picture" (fractions of the frame) and "clearly visible"."""

    margin: float = 0.01  # a landmark nearer the edge than this is treated as cut off
    min_extent: float = 0.3  # the body (shoulders to feet) spans at least this share of the frame
    min_span_px: float = MIN_BODY_SPAN_PX  # ... and at least this many pixels (the pelvis measures' resolution)
    fits_span: float = 0.5  # cut off yet longer than this share of the frame: too close (else aim the camera)
    min_presence: float = 0.5  # a body point less present than this is taken to be outside the picture
    min_visibility: float = 0.5  # shoulders and hips at least this visible (MediaPipe's default cut)


@dataclass(frozen=True)
class SetupCheck:
    """One frame's verdict: `ok`, else the problem's code and the instruction to give."""

    ok: bool
    problem: str  # "" when ok; else nobody, cut_off, too_far, view, facing, wrong_side, hidden
    instruction: str  # plain words for the person ("Step back: ...")
    view: str  # the camera view judged on this frame (`glutecam.view` labels)


def _lying_geometry(xy: np.ndarray) -> tuple[str, str]:
    """(top hip side, head direction in the picture) of a person lying on their side."""
    lh, rh = xy[Landmark.LEFT_HIP], xy[Landmark.RIGHT_HIP]
    top = "left" if lh[1] < rh[1] else "right"
    shoulders = (xy[Landmark.LEFT_SHOULDER] + xy[Landmark.RIGHT_SHOULDER]) / 2
    head = "left" if shoulders[0] < (lh[0] + rh[0]) / 2 else "right"
    return top, head


def lying_instruction(top: str) -> str:
    """How to lie so that the `top` leg is on top and the person faces the camera.

    Facing the camera with the left leg on top (lying on the right side), the head is on the picture's left.

    >>> lying_instruction("left")
    'Lie on your right side, facing the camera, with your head to the left'
    """
    under = "right" if top == "left" else "left"
    return f"Lie on your {under} side, facing the camera, with your head to the {top}"


def _view_instruction(exercise: str, view: str, side: str | None) -> str:
    standing = view not in LYING
    if exercise == "side-lying-abduction":
        if standing:
            return lying_instruction(side) if side else "Lie down on your side, facing the camera"
        return "Put the camera in front of you, level with your hips"
    if exercise == "single-leg-rdl":
        if not standing:
            return "Stand up with your back to the camera"
        if view == "front":
            return "Turn around so your back is to the camera"
        return "Turn so your back is to the camera"
    if not standing:
        return "Stand up, facing the camera"
    if view == "oblique":
        return "Turn a little more to face the camera"
    return "Turn to face the camera"


def check_setup(pose: FramePose, exercise: str, frame_size_wh: tuple[int, int], side: str | None = None,
                view: str | None = None, suited_views: Collection[str] | None = None,
                limits: SetupLimits = SetupLimits()) -> SetupCheck:
    """Judge one frame. `view`: the (smoothed) view if known, else classified from this frame alone;
    `side`: the working side the user asked for (side-lying: the top leg)."""
    lying_ex = exercise == "side-lying-abduction"
    if not pose.detected:
        text = "Lie down in front of the camera, on your side" if lying_ex else "Step into the picture"
        return SetupCheck(False, "nobody", text, NO_VIEW)
    xy = pose.image_px[:, :2]
    if view is None:
        view = str(classify_views(xy[None], pose.world_m[None])[0])
    lying = view in LYING
    w, h = frame_size_wh
    body = xy[list(BODY)]
    if not np.isfinite(body).all():
        text = "Move further from the camera" if lying or lying_ex else "Step back"
        return SetupCheck(False, "cut_off", text + ": I need to see you from shoulders to feet", view)
    mx, my = limits.margin * w, limits.margin * h
    lo, hi = body.min(axis=0), body.max(axis=0)
    # MediaPipe guesses where a point outside the picture is (often too close to the edge) and lowers its
    # presence: a point counts as cut off when it is near the edge or its presence is low.
    gone = pose.presence[list(BODY)] < limits.min_presence
    near = gone[:, None] & (np.abs(body - [w / 2, h / 2]) > [w / 4, h / 4])
    cut_lo = (body < [mx, my]) | (near & (body < [w / 2, h / 2]))
    cut_hi = (body > [w - mx, h - my]) | (near & (body >= [w / 2, h / 2]))
    cut_x = bool(cut_lo[:, 0].any() or cut_hi[:, 0].any())
    cut_y = bool(cut_lo[:, 1].any() or cut_hi[:, 1].any())
    if cut_x or cut_y:
        along_body = cut_x if lying else cut_y
        if along_body:
            span = (hi[0] - lo[0]) / w if lying else (hi[1] - lo[1]) / h
            if span > limits.fits_span:  # a good share of the picture already: too close
                text = "Move further from the camera" if lying else "Step back"
                return SetupCheck(False, "cut_off", text + ": I need to see you from shoulders to feet", view)
            if not lying:  # small in the picture yet cut off: the camera points too high or too low
                text = ("Tilt the camera down: your feet are out of the picture" if cut_hi[:, 1].any()
                        else "Tilt the camera up: your shoulders are out of the picture")
                return SetupCheck(False, "cut_off", text, view)
        if not lying and not cut_y and view in ("front", "back"):
            # facing the camera, the picture's left is the person's right
            off_left = bool(cut_lo[:, 0].any())
            step = ("left" if off_left else "right") if view == "front" else ("right" if off_left else "left")
            return SetupCheck(False, "cut_off", f"Step to your {step}: you are at the edge of the picture", view)
        return SetupCheck(False, "cut_off", "Move the camera so all of you is in the middle of the picture", view)
    extent = max((hi[0] - lo[0]) / w, (hi[1] - lo[1]) / h)
    if extent < limits.min_extent or max(hi - lo) < limits.min_span_px:
        return SetupCheck(False, "too_far", "Come closer to the camera", view)
    suited = frozenset(suited_views) if suited_views else SUITED_VIEWS.get(exercise, frozenset())
    if suited and view not in suited:
        return SetupCheck(False, "view", _view_instruction(exercise, view, side), view)
    if side is None and view in NEEDS_SIDE.get(exercise, {}):
        return SetupCheck(False, "view", NEEDS_SIDE[exercise][view], view)
    if lying_ex and lying:
        top, head = _lying_geometry(xy)
        if side and top != side:
            return SetupCheck(False, "wrong_side", f"Your {side} leg goes on top. {lying_instruction(side)}", view)
        if head != top:  # seen from behind: facing the camera, the top leg's side is the head's side
            return SetupCheck(False, "facing", f"Turn to face the camera: {lying_instruction(top)[0].lower()}"
                                               f"{lying_instruction(top)[1:]}", view)
    vis = pose.visibility[list(TORSO)]
    if float(vis.min()) < limits.min_visibility:
        return SetupCheck(False, "hidden", "I can't see your hips and shoulders clearly: "
                                           "check the light and that nothing is in the way", view)
    return SetupCheck(True, "", "", view)


class SetupGuide:
    """Feed every frame of the set-up phase with `update`; `ready` once all checks held for `hold_s`.

    The view is smoothed over `view_window` frames (as the analysers do), so one odd frame neither passes
    nor fails the set-up.
    """

    def __init__(self, exercise: str, frame_size_wh: tuple[int, int], side: str | None = None,
                 hold_s: float = 1.0, view_window: int = 9, suited_views: Collection[str] | None = None,
                 limits: SetupLimits = SetupLimits()) -> None:
        self.exercise = exercise
        self.frame_size_wh = frame_size_wh
        self.side = side
        self.hold_s = hold_s
        self.suited_views = suited_views
        self.limits = limits
        self._views = ViewSmoother(view_window)
        self._ok_since: float | None = None
        self.last: SetupCheck | None = None
        self.ready = False
        self.held_s = 0.0  # how long every check has passed without a break

    def reset(self) -> None:
        self._ok_since, self.ready, self.held_s = None, False, 0.0

    def update(self, pose: FramePose) -> SetupCheck:
        view = NO_VIEW
        if pose.detected:
            view = str(classify_views(pose.image_px[None, :, :2], pose.world_m[None])[0])
        view = self._views.update(view)
        check = check_setup(pose, self.exercise, self.frame_size_wh, self.side,
                            view if pose.detected else None, self.suited_views, self.limits)
        if check.ok:
            if self._ok_since is None:
                self._ok_since = pose.time_s
            self.held_s = pose.time_s - self._ok_since
            self.ready = self.ready or self.held_s >= self.hold_s - 1e-9
        else:
            self._ok_since, self.held_s = None, 0.0
        self.last = check
        return check
