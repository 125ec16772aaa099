"""The annotated clip's review features: when fault labels appear, which rep is replayed."""

import numpy as np
import pytest

from glutecam.report.clip import HOLD_S, LEAD_S, fault_windows, worst_rep
from glutecam.results import Fault, RepResult, SetResult


class Analysis:
    def __init__(self, reps, frames, exercise="split-squat"):
        self.set = SetResult(exercise=exercise, side="right", side_source="auto", view="front", reps=reps)
        self.frames = frames


def rep(index, start, end, faults, drop=5.0):
    return RepResult(index=index, start_s=start, end_s=end, peak_s=(start + end) / 2, side="right",
                     peak_pelvic_drop_deg=drop, mean_pelvic_drop_deg=drop / 2, peak_pelvic_rotation_deg=0.0,
                     faults=faults, verdict="fault" if faults else "good")


T = np.arange(0, 6, 1 / 30)
DROP = np.clip((T - 2.0) * 10, -3, 8)  # crosses +5 deg at 2.5 s, peaks at 2.8 s
FRAMES = {"time_s": T, "pelvic_drop_deg": DROP, "pelvis_rotation_deg": -DROP}


@pytest.mark.parametrize("fault, start", [
    # the label appears on the first frame past the threshold, not at the worst moment
    (Fault("pelvic_drop", "minor", 8.0, 5.0, 2.9), 2.5),
    # a hike is a negative drop: its measure never goes below -5 here, so it falls back to LEAD_S early
    (Fault("hip_hike", "minor", 6.0, 5.0, 2.9), 2.9 - LEAD_S),
    # a range that was not reached has no onset: shown from just before the bottom of the rep
    (Fault("short_range", "minor", 60.0, 70.0, 3.0), 3.0 - LEAD_S),
    # a threshold crossed before the rep started does not pull the label out of the rep
    (Fault("pelvic_drop", "minor", 8.0, 1.0, 3.0), 2.2),
])
def test_fault_labels_start_when_the_fault_starts(fault, start):
    [(a, b, label)] = fault_windows(Analysis([rep(1, 2.2, 3.6, [fault])], FRAMES))
    assert a == pytest.approx(start, abs=1 / 60)
    assert b == pytest.approx(max(3.6, fault.at_s + HOLD_S))
    assert label.startswith(fault.code.replace("_", " "))


def test_labels_say_limit_or_target():
    windows = fault_windows(Analysis([rep(1, 2.2, 3.6, [Fault("pelvic_drop", "minor", 8.4, 5.0, 2.9),
                                                         Fault("short_range", "major", 58.0, 70.0, 3.0)])], FRAMES))
    assert [w[2] for w in windows] == ["pelvic drop 8 (limit 5)", "short range 58 (target 70)"]


def test_no_analysis_no_labels():
    assert fault_windows(None) == []


@pytest.mark.parametrize("reps, expected", [
    # a major fault beats a larger minor one
    ([rep(1, 0, 1, [Fault("pelvic_drop", "minor", 9.5, 5.0, 0.5)]),
      rep(2, 1, 2, [Fault("pelvic_drop", "major", 10.5, 10.0, 1.5)])], 2),
    # among minor faults, the one furthest past its threshold
    ([rep(1, 0, 1, [Fault("pelvic_drop", "minor", 6.0, 5.0, 0.5)]),
      rep(2, 1, 2, [Fault("trunk_lean", "minor", 14.0, 10.0, 1.5)])], 2),
    # a short range counts by how far below its target it stayed
    ([rep(1, 0, 1, [Fault("short_range", "minor", 40.0, 70.0, 0.5)]),
      rep(2, 1, 2, [Fault("pelvic_drop", "minor", 6.0, 5.0, 1.5)])], 1),
    # no fault anywhere: the largest peak drop
    ([rep(1, 0, 1, [], drop=2.0), rep(2, 1, 2, [], drop=-4.0), rep(3, 2, 3, [], drop=3.0)], 2),
])
def test_worst_rep(reps, expected):
    assert worst_rep(Analysis(reps, FRAMES).set).index == expected


def test_no_reps_no_replay():
    assert worst_rep(Analysis([], FRAMES).set) is None
