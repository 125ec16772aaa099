"""Single-leg RDL: reps, stance side, faults at +/-3 deg of their thresholds from behind (and rotation from
an oblique camera), and honest gaps from the front (the hinged trunk hides the pelvis), from the side, and
for what needs depth from behind."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.analysers import get_analyser
from tests.judging import FaultCase, analyse_schedule, check_case, codes
from tests.synthetic import REALISTIC, Noise, camera_for, single_leg_rdl

HIDDEN = ("with the trunk hinged beyond 45 deg the pose model does not follow the pelvis (from the front the "
          "trunk hides it; from behind the hip landmarks lose it)")

# thresholds: FPPA min(10, baseline + 5) = 5 here (the stance knee starts straight), hinge depth 45. Trunk
# lean cannot be read from behind once the trunk hinges towards the camera, nor rotation (it needs depth),
# nor, past a 45 deg hinge, the pelvis and the FPPA (MediaPipe stops following the hips there, see
# docs/accuracy.md), so those are checked elsewhere.
CASES = [
    FaultCase("short_range", "hinge_deg", 42.0, 48.0),
]


@pytest.fixture(scope="module", params=["left", "right"])
def schedule(request):
    return analyse_schedule(single_leg_rdl, CASES, side=request.param, camera=camera_for("back"))


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{c.code}{c.beyond:+.0f}" for c in CASES])
def test_fault_3_deg_beyond_is_flagged_and_3_deg_inside_is_not(schedule, i):
    check_case(schedule[1], CASES, i)


def test_counts_every_rep_and_finds_the_stance_leg(schedule):
    clip, res = schedule
    assert len(res.set.reps) == len(clip.reps)
    assert (res.set.side, res.set.view) == (clip.side, "back")


def test_measures_recover_the_truth_noise_free(schedule):
    clip, res = schedule
    f = res.frames
    for key in ("pelvic_drop_deg", "drive_deg"):
        err = np.abs(f[key] - clip.truth[key])
        assert np.nanmax(err) < 0.5, key
    assert np.isfinite(f["pelvic_drop_deg"][f["drive_deg"] < 44]).all()
    assert np.isnan(f["pelvic_drop_deg"][f["drive_deg"] >= 45]).all()
    # lateral lean is read from the image only while the trunk is within 30 deg of the image plane
    upright = f["drive_deg"] < 10
    assert np.nanmax(np.abs(f["trunk_lean_deg"] - clip.truth["trunk_lean_deg"])[upright]) < 0.5
    assert np.isnan(f["trunk_lean_deg"][f["drive_deg"] > 31]).all()
    for key in ("pelvis_rotation_deg", "hip_flexion_deg"):  # these need depth
        assert np.isnan(f[key]).all(), key
    rep = res.set.reps[0]
    assert rep.measures["peak_hinge_deg"] == pytest.approx(80.0, abs=0.5)


def test_rotation_from_an_oblique_camera():
    """Opening the hip (the free side turning back) is the classic RDL fault; it needs a camera that sees
    depth: slightly to one side of behind is oblique, where rotation is read from world landmarks."""
    cases = [FaultCase("pelvic_rotation", "rotation_deg", 8.0, 2.0),
             FaultCase("pelvic_rotation", "rotation_deg", -8.0, -2.0)]
    clip, res = analyse_schedule(single_leg_rdl, cases, camera=camera_for("oblique").__class__(azimuth_deg=145.0))
    assert res.set.view == "oblique"
    for i in range(len(cases)):
        check_case(res, cases, i)
    assert np.isnan(res.frames["pelvic_drop_deg"]).all()  # the hip line is too far out of the image plane


def test_from_the_front_the_pelvis_is_not_read_at_the_bottom_of_the_hinge():
    clip = single_leg_rdl(n_reps=3, faults=[{}, {"drop_deg": 8.0}, {}], camera=camera_for("front"))
    res = get_analyser("single-leg-rdl").analyse(clip.track)
    assert len(res.set.reps) == 3
    hinged = res.frames["drive_deg"] >= 45.0
    assert np.isnan(res.frames["pelvic_drop_deg"][hinged]).all()
    assert np.isfinite(res.frames["pelvic_drop_deg"][~hinged]).all()
    assert all(r.verdict == "unmeasured" for r in res.set.reps)  # no guess at the bottom
    reasons = {nm.reason for r in res.set.reps for nm in r.not_measured if nm.metric == "pelvic_drop_deg"}
    assert reasons == {HIDDEN}
    assert "pelvic_drop" not in codes(res.set.reps[1])


def test_from_the_side_reps_are_counted_but_the_pelvis_is_not_judged():
    clip = single_leg_rdl(n_reps=3, faults=[{}, {"drop_deg": 8.0}, {}], camera=camera_for("left_side"))
    res = get_analyser("single-leg-rdl").analyse(clip.track)
    assert len(res.set.reps) == 3 and res.set.view == "left_side"
    assert res.set.summary["verdict"] == "unmeasured"
    assert any("film from behind" in w for w in res.set.warnings)
    # the side view does show the hinge: forward trunk lean from the image
    assert np.nanmax(res.frames["trunk_forward_lean_deg"]) == pytest.approx(80.0, abs=0.5)


def test_knee_valgus_is_judged_in_the_upper_hinge_only():
    """The FPPA is read from the hip landmark, which MediaPipe loses from behind past a 45 deg hinge (clean
    rendered reps read 4-22 deg of FPPA there): a knee caving in while the trunk is above that is flagged, 3
    deg inside the threshold is not; beyond it the FPPA is not measured, with the pelvis's reason."""
    faults = [{}, {"valgus_deg": 8.0, "hinge_deg": 44.0}, {"valgus_deg": 2.0, "hinge_deg": 44.0}, {"valgus_deg": 8.0}]
    clip = single_leg_rdl(n_reps=4, faults=faults, camera=camera_for("back"))
    res = get_analyser("single-leg-rdl").analyse(clip.track)
    reps = res.set.reps
    assert len(reps) == 4 and "knee_valgus" not in codes(reps[0])
    assert "knee_valgus" in codes(reps[1]) and "knee_valgus" not in codes(reps[2])
    hinged = res.frames["drive_deg"] >= 45.0
    assert hinged.any() and np.isnan(res.frames["fppa_deg"][hinged]).all()
    assert set(res.reasons["fppa_deg"][hinged]) == {HIDDEN}


def test_realistic_noise_from_behind():
    cases = CASES
    for seed in range(3):
        noise = Noise(**{**REALISTIC.__dict__, "seed": 10 + seed})
        clip, res = analyse_schedule(single_leg_rdl, cases, camera=camera_for("back"), noise=noise)
        mae = np.nanmean(np.abs(res.frames["pelvis_obliquity_deg"] - clip.truth["pelvis_obliquity_deg"]))
        assert mae <= 2.0
        assert len(res.set.reps) == len(clip.reps)
        for i in range(len(cases)):
            check_case(res, cases, i)
