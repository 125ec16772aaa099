"""Trunk metrics: lateral lean towards the person's left from front and back, forward lean, inclination."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.metrics.trunk import trunk_forward_lean_deg, trunk_inclination_deg, trunk_lateral_lean_deg


@pytest.mark.parametrize("facing, left_x", [("front", 1.0), ("back", -1.0)])
@pytest.mark.parametrize("lean", [-12.0, 0.0, 4.0, 20.0])
def test_lateral_lean_towards_the_left_from_front_and_back(facing, left_x, lean):
    a = np.radians(lean)
    shoulders = np.array([left_x * np.sin(a), -np.cos(a)]) * 200  # image: y down
    assert trunk_lateral_lean_deg(np.zeros(2), shoulders, np.array([left_x, 0.0])) == pytest.approx(lean, abs=1e-9)


def test_lateral_lean_ignores_the_hip_line_tilt():
    shoulders = np.array([0.0, -200.0])
    tilted_hips = np.array([np.cos(np.radians(8)), -np.sin(np.radians(8))])
    assert trunk_lateral_lean_deg(np.zeros(2), shoulders, tilted_hips) == pytest.approx(0.0, abs=1e-9)


def test_lateral_lean_stays_defined_when_the_trunk_hinges():
    # world: trunk hinged 80 deg forward (towards -z) and leaning 6 deg to the left (+x)
    h, lam = np.radians(80), np.radians(6)
    t = np.array([np.sin(lam), -np.cos(h) * np.cos(lam), -np.sin(h) * np.cos(lam)])
    lat, up = np.array([1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0])
    assert trunk_lateral_lean_deg(np.zeros(3), t, lat, up) == pytest.approx(6.0, abs=1e-9)
    assert trunk_forward_lean_deg(np.zeros(3), t, lat, up) == pytest.approx(80.0, abs=1e-9)
    assert trunk_inclination_deg(np.zeros(3), t, up) == pytest.approx(np.degrees(np.arccos(np.cos(h) * np.cos(lam))))


@pytest.mark.parametrize("side, lateral_z, facing_x", [("left_side", -1.0, -1.0), ("right_side", 1.0, 1.0)])
def test_forward_lean_from_a_side_view(side, lateral_z, facing_x):
    a = np.radians(35)
    shoulders = np.array([facing_x * np.sin(a), -np.cos(a)]) * 200
    lean = trunk_forward_lean_deg(np.zeros(2), shoulders, np.array([0.0, 0.0, lateral_z]))
    assert lean == pytest.approx(35.0, abs=1e-9)
