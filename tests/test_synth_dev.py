"""The analysers on the rendered development clips (shared/synth_dev), fed the clips' true joints: 3 reps
each, the working side found, the faulty reps flagged with the right code, the clean ones left alone, and
an honest "not measured" where the camera cannot show the pelvis. Skipped when the clips are absent."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.analysers import get_analyser
from tests.judging import codes
from tests.synthetic import track_from_ground_truth

EXERCISE = {"split_squat": "split-squat", "sl_rdl": "single-leg-rdl", "side_lying_abduction": "side-lying-abduction"}
FAULT = {"drop+8": "pelvic_drop", "drop-8": "hip_hike", "rot+8": "pelvic_rotation", "hipflex+20": "hip_flexion"}
PELVIC = {"pelvic_drop", "hip_hike", "pelvic_rotation", "pelvis_roll_back"}
CLIPS = ["bss_back_rot8_r2", "bss_front_clean", "bss_front_drop8_r23", "rdl_back_drop8_r3", "rdl_front_clean",
         "rdl_left_drop8_r23", "slha_front_clean", "slha_front_flex20_r2", "slha_front_hike8_r3"]
#: clips whose camera cannot show the pelvis through the whole rep (see the README's table)
HINGE_HIDES = ("with the trunk hinged beyond 45 deg the pose model does not follow the pelvis (from the front the "
               "trunk hides it; from behind the hip landmarks lose it)")
#: (from behind, true joints would show the drop, but MediaPipe loses the pelvis there: see docs/accuracy.md)
NOT_JUDGED = {"rdl_left_drop8_r23": "the hip line points at the camera in a side view",
              "rdl_front_clean": HINGE_HIDES, "rdl_back_drop8_r3": HINGE_HIDES}
#: faults the clip's camera cannot show: (metric, reason) - a turn is along the line of sight from behind
UNSEEN = {"bss_back_rot8_r2": ("pelvis_rotation_deg", "a turn of the pelvis moves the hips along the line of sight, "
                                                      "and from behind the pose model's depth does not follow it"),
          # true joints would show it, but MediaPipe's depth does not (docs/accuracy.md), so it is not measured
          "slha_front_flex20_r2": ("hip_flexion_deg", "lying facing the camera the top leg drifts forward along the "
                                                      "line of sight, and the pose model's depth there does not "
                                                      "follow it")}

_CACHE: dict[str, tuple] = {}


@pytest.fixture
def analysed(synth_dir, request):
    name = request.param
    path = synth_dir / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    if name not in _CACHE:
        track, meta, frames = track_from_ground_truth(path)
        res = get_analyser(EXERCISE[meta["exercise"]]).analyse(track)
        _CACHE[name] = (name, track, meta, frames, res)
    return _CACHE[name]


@pytest.mark.parametrize("analysed", CLIPS, indirect=True)
def test_three_reps_on_the_working_side(analysed):
    name, track, meta, frames, res = analysed
    assert len(res.set.reps) == len(meta["reps"]) == 3
    assert res.set.side == {"L": "left", "R": "right"}[meta["working_side"]]
    for rep, truth in zip(res.set.reps, meta["reps"]):
        assert truth["start_frame"] / meta["fps"] <= rep.peak_s <= truth["end_frame"] / meta["fps"]


@pytest.mark.parametrize("analysed", [c for c in CLIPS if c not in NOT_JUDGED], indirect=True)
def test_faulty_reps_are_flagged_and_clean_ones_are_not(analysed):
    name, track, meta, frames, res = analysed
    for rep, truth in zip(res.set.reps, meta["reps"]):
        if truth["fault"] == "clean":
            assert codes(rep) == set(), (rep.index, rep.faults)
            assert rep.verdict == "good"
        elif name in UNSEEN:  # reported as not measured, not as a fault and not as a pass of that measure
            metric, reason = UNSEEN[name]
            assert FAULT[truth["fault"]] not in codes(rep)
            assert (metric, reason) in {(nm.metric, nm.reason) for nm in rep.not_measured}
        else:
            assert FAULT[truth["fault"]] in codes(rep), (rep.index, truth["fault"], rep.faults)
            assert codes(rep) & PELVIC <= {FAULT[truth["fault"]]}


@pytest.mark.parametrize("analysed", ["bss_front_drop8_r23", "slha_front_hike8_r3",
                                      "bss_front_clean"], indirect=True)
def test_pelvic_drop_follows_the_truth(analysed):
    """With true joints the hip line is exact: the drop from baseline is within 1 deg of the truth."""
    name, track, meta, frames, res = analysed
    truth = np.array([f["pelvic_drop_free_side_deg"] for f in frames])
    err = np.abs(res.frames["pelvic_drop_deg"] - truth)
    assert np.isfinite(err).mean() > 0.95
    assert np.nanmax(err) < 1.0


@pytest.mark.parametrize("analysed", list(NOT_JUDGED), indirect=True)
def test_views_that_hide_the_pelvis_are_reported_not_guessed(analysed):
    name, track, meta, frames, res = analysed
    assert all(r.verdict == "unmeasured" and not (codes(r) & PELVIC) for r in res.set.reps)
    reasons = {nm.reason for r in res.set.reps for nm in r.not_measured if nm.metric == "pelvic_drop_deg"}
    assert NOT_JUDGED[name] in reasons
    assert res.set.summary["verdict"] == "unmeasured"
