"""The analysers on real footage of people who are not doing the target exercises (../shared/samples).

They must run without error and say honestly that the view or the movement does not suit the exercise,
rather than produce pelvic numbers from a view that cannot show them.
"""

import numpy as np
import pytest

from glutecam.analysers import ANALYSERS, get_analyser

pytestmark = pytest.mark.model

CLIPS = [
    ("pose2sim_single_cam01.mp4", 1),  # lab, seen at an angle
    ("pose2sim_single_cam04.mp4", 1),  # lab, seen from the side
    ("sports2d_demo.mp4", 2),  # outdoors, several people, side views
]
PELVIC = ("pelvic_drop", "pelvic_rotation", "hip_hike")


@pytest.mark.parametrize("clip, max_people", CLIPS, ids=[c for c, _ in CLIPS])
@pytest.mark.parametrize("exercise", sorted(ANALYSERS))
def test_analysers_run_and_are_honest_about_the_view(samples_dir, track_of, clip, max_people, exercise):
    track = track_of(samples_dir / clip, max_people=max_people)
    result = get_analyser(exercise).analyse(track)
    s = result.set
    assert len(result.frames["pelvic_drop_deg"]) == len(track)
    unsuited = [w for w in s.warnings if "does not suit" in w]
    # a side or oblique camera cannot show the pelvis's frontal-plane drop: empty on such frames, with a reason
    views = np.asarray(result.frames["view"])
    sideways = np.isin(views, ["left_side", "right_side", "oblique"])
    assert np.isnan(np.asarray(result.frames["pelvic_drop_deg"], float)[sideways]).all()
    if s.view in ("left_side", "right_side", "oblique"):
        assert unsuited, s.warnings
        assert any(n.metric == "pelvic_drop_deg" and n.reason for n in s.not_measured)
        assert not [f for r in s.reps for f in r.faults if f.code in PELVIC]
    if not s.reps:
        assert s.summary["verdict"] == "unmeasured"
        assert any("no reps" in w or "does not suit" in w or "working side" in w for w in s.warnings)
    for rep in s.reps:
        assert rep.start_s < rep.peak_s < rep.end_s
        for f in rep.faults:
            assert np.isfinite(f.value) and np.isfinite(f.threshold)
