"""Pelvis metrics: the obliquity formula and its signs, drop and rotation from baseline, the estimator."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.landmarks import Landmark
from glutecam.metrics.pelvis import (
    PelvisEstimate,
    estimate_pelvis,
    pelvic_drop_deg,
    pelvis_obliquity_deg,
    pelvis_rotation_deg,
    pelvis_yaw_deg,
)


def hip_pair(angle_deg: float, facing: str, width: float = 50.0):
    """Left and right hip pixels of a hip line rising `angle_deg` towards the person's left."""
    a = np.radians(angle_deg)
    half = np.array([np.cos(a), -np.sin(a)]) * width / 2  # y down: left higher = smaller y
    if facing == "back":  # the left hip is on the image's left
        half = np.array([-half[0], half[1]])
    c = np.array([300.0, 200.0])
    return c + half, c - half


@pytest.mark.parametrize("angle", [-12.0, -3.0, 0.0, 4.5, 10.0])
@pytest.mark.parametrize("facing", ["front", "back"])
def test_obliquity_is_the_same_angle_from_front_and_back(angle, facing):
    left, right = hip_pair(angle, facing)
    assert pelvis_obliquity_deg(left, right) == pytest.approx(angle, abs=1e-9)


def test_obliquity_matches_the_documented_formula():
    rng = np.random.default_rng(0)
    left, right = rng.uniform(0, 500, (100, 2)), rng.uniform(0, 500, (100, 2))
    expected = np.degrees(np.arctan2(right[:, 1] - left[:, 1], np.abs(left[:, 0] - right[:, 0])))
    np.testing.assert_allclose(pelvis_obliquity_deg(left, right), expected)


@pytest.mark.parametrize("head_x", [-1.0, 1.0])  # head towards the image left / right
@pytest.mark.parametrize("left_on_top", [True, False])  # lying on the right / the left side
@pytest.mark.parametrize("towards_head", [1.0, -1.0])
def test_obliquity_of_a_lying_person_is_read_against_the_head_direction(head_x, left_on_top, towards_head):
    # the hip line is vertical in the image; the left hip is moved 5 deg towards (or away from) the head
    right = np.array([300.0, 250.0])
    left = np.array([300.0 + towards_head * head_x * 50 * np.tan(np.radians(5)), 200.0 if left_on_top else 300.0])
    obl = pelvis_obliquity_deg(left, right, up_xy=np.array([head_x, 0.0]))
    assert obl == pytest.approx(5.0 * towards_head, abs=1e-9)


@pytest.mark.parametrize("obliquity, baseline, free, expected", [
    (-8.0, 0.0, "left", 8.0),  # left (free) hip lower: a drop on the free side
    (-8.0, 0.0, "right", -8.0),  # the free right side went up: a hike
    (3.0, -2.0, "right", 5.0),  # baseline of -2 (camera roll or asymmetry) cancelled
    (2.0, 2.0, "left", 0.0),
])
def test_pelvic_drop_sign(obliquity, baseline, free, expected):
    assert pelvic_drop_deg(np.array(obliquity), baseline, free) == pytest.approx(expected)


def test_pelvic_drop_rejects_a_bad_side():
    with pytest.raises(ValueError):
        pelvic_drop_deg(np.zeros(3), 0.0, "L")


def hips_m(yaw_deg: float, facing: str = "front"):
    """World hips (MediaPipe axes) of a pelvis turned `yaw_deg` with the left hip backward."""
    a = np.radians(yaw_deg)
    if facing == "front":  # left hip on +x, backward = away from the camera (+z)
        h = np.array([np.cos(a), 0.0, np.sin(a)]) * 0.1
    else:  # seen from behind: left hip on -x, backward = towards the camera (-z)
        h = np.array([-np.cos(a), 0.0, -np.sin(a)]) * 0.1
    return h, -h


@pytest.mark.parametrize("facing", ["front", "back"])
@pytest.mark.parametrize("yaw", [-20.0, -5.0, 0.0, 7.0, 30.0])
def test_yaw_change_is_left_hip_backward_from_either_side(facing, yaw):
    base = pelvis_yaw_deg(*hips_m(0.0, facing))
    now = pelvis_yaw_deg(*hips_m(yaw, facing))
    assert pelvis_rotation_deg(now, base, "left") == pytest.approx(yaw, abs=1e-9)
    assert pelvis_rotation_deg(now, base, "right") == pytest.approx(-yaw, abs=1e-9)


def test_yaw_about_the_long_axis_of_a_lying_person():
    # lying on the right side facing the camera, head to the image left: left hip up (-y)
    up = np.array([-1.0, 0.0, 0.0])
    a = np.radians(6.0)
    left = np.array([0.0, -np.cos(a), np.sin(a)]) * 0.1  # top hip rolled back (away from the camera)
    base = pelvis_yaw_deg(np.array([0.0, -0.1, 0.0]), np.array([0.0, 0.1, 0.0]), up)
    now = pelvis_yaw_deg(left, -left, up)
    assert pelvis_rotation_deg(now, base, "left") == pytest.approx(6.0, abs=1e-9)


def test_estimate_pelvis_reads_the_hip_landmarks():
    image = np.full((2, 33, 2), np.nan)
    world = np.full((2, 33, 3), np.nan)
    left, right = hip_pair(6.0, "front")
    image[:, Landmark.LEFT_HIP], image[:, Landmark.RIGHT_HIP] = left, right
    world[:, Landmark.LEFT_HIP], world[:, Landmark.RIGHT_HIP] = hips_m(4.0)
    est = estimate_pelvis(image, world, np.tile([0.0, -1.0], (2, 1)), np.tile([0.0, -1.0, 0.0], (2, 1)))
    assert isinstance(est, PelvisEstimate)
    np.testing.assert_allclose(est.obliquity_deg, 6.0)
    np.testing.assert_allclose(est.yaw_deg, 4.0)


def test_non_finite_hips_give_nan_without_a_warning():
    import warnings

    left = np.array([[np.inf, 1.0], [1.0, 2.0], [np.nan, 1.0], [340.0, 270.0]])
    right = np.array([[0.0, 1.0], [np.inf, -np.inf], [0.0, 0.0], [300.0, 280.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = pelvis_obliquity_deg(left, right)
    assert np.isnan(a[:3]).all() and a[3] == pytest.approx(14.036, abs=1e-3)
