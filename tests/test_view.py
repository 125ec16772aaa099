"""Camera view: classified from the hip line, smoothed without flicker, and the per-metric table."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.analysers.columns import METRIC_COLUMNS
from glutecam.view import (
    NO_VIEW,
    SOURCES,
    VIEWS,
    ViewSmoother,
    classify_views,
    reference_up,
    set_view,
    smooth_views,
    source,
    why_not,
)
from tests.synthetic import camera_for, lying_camera, render, side_lying_abduction, static_motion


@pytest.mark.parametrize("view", ["front", "back", "left_side", "right_side", "oblique"])
def test_standing_views(view):
    track = render(static_motion(3), camera_for(view))
    views = classify_views(track.image_px[..., :2], track.world_m)
    assert list(views) == [view] * 3


@pytest.mark.parametrize("heading, view", [(0.0, "front"), (25.0, "front"), (40.0, "oblique"), (70.0, "right_side"),
                                           (-70.0, "left_side"), (160.0, "back")])
def test_a_turned_body_changes_the_view(heading, view):
    # the body turned by `heading` (counter-clockwise from above) in front of a front camera: turned +70 deg
    # it faces the image right, so its right side faces the camera
    track = render(static_motion(1, heading_deg=heading), camera_for("front"))
    assert classify_views(track.image_px[..., :2], track.world_m)[0] == view


@pytest.mark.parametrize("top, view", [("left", "lying_right"), ("right", "lying_left")])
def test_lying_views(top, view):
    clip = side_lying_abduction(n_reps=1, side=top, camera=lying_camera())
    views = classify_views(clip.track.image_px[..., :2], clip.track.world_m)
    assert set(views) == {view}
    up_xy, up_m = reference_up(views, clip.track.image_px[..., :2])
    head_x = -1.0 if top == "left" else 1.0  # head towards the image left when lying on the right side
    np.testing.assert_array_equal(up_xy[0], [head_x, 0.0])
    np.testing.assert_array_equal(up_m[0], [head_x, 0.0, 0.0])


def test_no_person_is_none():
    image, world = np.full((2, 33, 2), np.nan), np.full((2, 33, 3), np.nan)
    assert list(classify_views(image, world)) == [NO_VIEW, NO_VIEW]
    assert set_view(np.array([NO_VIEW, NO_VIEW], dtype=object)) == NO_VIEW


def test_smoothing_ignores_single_frame_flips():
    raw = np.array(["front"] * 5 + ["oblique"] + ["front"] * 5 + ["oblique"] * 6, dtype=object)
    out = smooth_views(raw, 5)
    assert "oblique" not in out[:11]
    assert out[-1] == "oblique"
    live = ViewSmoother(5)
    assert [live.update(v) for v in raw] == list(out)  # live and offline alike


def test_set_view_is_the_most_common():
    assert set_view(np.array(["none", "back", "back", "oblique"], dtype=object)) == "back"


def test_every_reported_metric_has_a_rule_and_every_gap_a_reason():
    assert set(SOURCES) == set(METRIC_COLUMNS)
    for metric in METRIC_COLUMNS:
        for view in VIEWS:
            assert (source(metric, view) is None) == bool(why_not(metric, view)), (metric, view)
        assert why_not(metric, NO_VIEW) == "no person detected"


@pytest.mark.parametrize("metric, view, expected", [
    ("pelvic_drop_deg", "front", "image"),
    ("pelvic_drop_deg", "right_side", None),
    ("pelvic_drop_deg", "oblique", None),
    ("pelvis_rotation_deg", "front", None),  # along the line of sight: the model's depth read false turns
    ("pelvis_rotation_deg", "back", None),  # ... and missed a true one
    ("pelvis_rotation_deg", "oblique", "world"),
    ("pelvis_rotation_deg", "left_side", None),
    ("hip_flexion_deg", "left_side", "image"),
    ("hip_flexion_deg", "lying_left", None),  # along the line of sight; the model's depth does not follow it
    ("hip_flexion_deg", "front", "world"),
    ("hip_abduction_deg", "lying_right", "image"),
    ("fppa_deg", "lying_right", None),
    ("trunk_forward_lean_deg", "lying_left", None),
])
def test_view_table(metric, view, expected):
    assert source(metric, view) == expected


def test_unknown_metric_is_an_error():
    with pytest.raises(KeyError):
        source("pelvic_tilt_deg", "front")
