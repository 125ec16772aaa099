"""Leg joint angles from hand-built points: each angle, its sign, both legs, image and world inputs."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.metrics.joints import fppa_defined, fppa_deg, hip_abduction_deg, hip_flexion_deg, knee_flexion_deg

UP_IMG = np.array([0.0, -1.0])
UP_W = np.array([0.0, -1.0, 0.0])


def polar(angle_deg: float, towards: np.ndarray, down: np.ndarray) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.cos(a) * down + np.sin(a) * towards


@pytest.mark.parametrize("flexion", [-15.0, 0.0, 30.0, 95.0, 120.0])
def test_hip_flexion_in_world_coordinates(flexion):
    lateral = np.array([1.0, 0.0, 0.0])  # facing the camera: forward is -z
    knee = polar(flexion, np.array([0.0, 0.0, -1.0]), np.array([0.0, 1.0, 0.0]))
    assert hip_flexion_deg(np.zeros(3), knee, lateral, UP_W) == pytest.approx(flexion, abs=1e-9)


@pytest.mark.parametrize("view, facing_x", [("left_side", -1.0), ("right_side", 1.0)])
def test_hip_flexion_from_a_side_view_image(view, facing_x):
    # the left side faces the camera: the person faces the image left; lateral points at the camera (-z)
    lateral = np.array([0.0, 0.0, -1.0 if view == "left_side" else 1.0])
    knee = np.array([facing_x * np.sin(np.radians(40)), np.cos(np.radians(40))]) * 100
    assert hip_flexion_deg(np.zeros(2), knee, lateral, UP_IMG) == pytest.approx(40.0, abs=1e-9)


def test_hip_flexion_is_read_against_the_trunk_not_gravity():
    lateral = np.array([1.0, 0.0, 0.0])
    trunk = polar(180 - 60, np.array([0.0, 0.0, -1.0]), np.array([0.0, 1.0, 0.0]))  # hinged 60 deg forward
    vertical_thigh = np.array([0.0, 1.0, 0.0])
    assert hip_flexion_deg(np.zeros(3), vertical_thigh, lateral, trunk) == pytest.approx(60.0, abs=1e-9)


@pytest.mark.parametrize("side, sign", [("left", 1.0), ("right", -1.0)])
@pytest.mark.parametrize("abduction", [-10.0, 0.0, 25.0, 45.0])
def test_hip_abduction_is_outward_positive_for_either_leg(side, sign, abduction):
    lateral = np.array([1.0, 0.0])  # front view: the left hip on the image right
    knee = polar(abduction, sign * lateral, np.array([0.0, 1.0])) * 100
    assert hip_abduction_deg(np.zeros(2), knee, lateral, UP_IMG, side) == pytest.approx(abduction, abs=1e-9)


@pytest.mark.parametrize("bend", [0.0, 20.0, 90.0, 135.0])
def test_knee_flexion(bend):
    hip, knee = np.array([0.0, -1.0, 0.0]), np.zeros(3)
    ankle = polar(bend, np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0]))
    assert knee_flexion_deg(hip, knee, ankle) == pytest.approx(bend, abs=1e-9)


@pytest.mark.parametrize("leg, medial_x", [("left", -1.0), ("right", 1.0)])
@pytest.mark.parametrize("valgus", [-8.0, 0.0, 6.0, 15.0])
def test_fppa_positive_when_the_knee_is_medial(leg, medial_x, valgus):
    # front view: thigh straight down, shank tilted so the ankle goes lateral by `valgus`
    hip, knee = np.array([0.0, 0.0]), np.array([0.0, 100.0])
    ankle = knee + polar(valgus, np.array([-medial_x, 0.0]), np.array([0.0, 1.0])) * 100
    assert fppa_deg(hip, knee, ankle, np.array([medial_x, 0.0])) == pytest.approx(valgus, abs=1e-9)


def test_fppa_is_undefined_for_a_thigh_along_the_line_of_sight():
    hip, ankle = np.zeros(2), np.array([0.0, 200.0])
    assert fppa_defined(hip, np.array([0.0, 100.0]), ankle, UP_IMG)
    assert not fppa_defined(hip, np.array([0.0, 30.0]), ankle, UP_IMG)  # foreshortened thigh
    assert not fppa_defined(hip, np.array([0.0, -80.0]), np.array([0.0, 50.0]), UP_IMG)  # knee above hip


def test_functions_broadcast_over_frames():
    t = 50
    hip, knee = np.zeros((t, 3)), np.tile([0.0, 1.0, 0.0], (t, 1))
    lat, up = np.tile([1.0, 0.0, 0.0], (t, 1)), np.tile(UP_W, (t, 1))
    assert hip_flexion_deg(hip, knee, lat, up).shape == (t,)
    assert hip_abduction_deg(hip, knee, lat, up, "left").shape == (t,)
    nan_knee = knee.copy()
    nan_knee[3] = np.nan
    assert np.isnan(knee_flexion_deg(hip - 1, nan_knee, hip + 1)[3])
