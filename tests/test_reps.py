"""Rep segmentation: find_peaks offline and the live state machine find the same reps, sample for sample."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glutecam.reps import Hysteresis, RepCounter, find_reps, rep_numbers, rep_phases

H = Hysteresis(enter=55.0, exit=40.0, min_rep_s=0.4, phase_hysteresis=5.0, max_gap_s=0.5)
FROM_REST = Hysteresis(enter=30.0, exit=15.0, min_rep_s=0.4, phase_hysteresis=5.0, max_gap_s=0.5, rest_window_s=3.0)


def reps_signal(fps=30.0, n=3, top=20.0, bottom=95.0, rep_s=2.0, rest_s=0.5, lead_s=1.0):
    t = np.arange(int((lead_s + n * (rep_s + rest_s)) * fps)) / fps
    s = np.full(len(t), top)
    for i in range(n):
        a = lead_s + i * (rep_s + rest_s)
        m = (t >= a) & (t <= a + rep_s)
        s[m] = top + (bottom - top) * np.sin(np.pi * (t[m] - a) / rep_s) ** 2
    return t, s


def live(t, s, hyst=H, names=("down", "up")):
    c = RepCounter(hyst, names)
    phases = []
    reps = []
    for ti, si in zip(t, s):
        r = c.update(ti, si)
        phases.append(c.phase)
        if r:
            reps.append(r)
    assert c.count == len(reps)
    return reps, phases


def test_counts_reps_and_marks_start_peak_end():
    t, s = reps_signal()
    reps = find_reps(t, s, H)
    assert len(reps) == 3
    for r in reps:
        assert s[r.start] <= H.exit < s[r.start + 1]
        assert s[r.end] <= H.exit < s[r.end - 1]
        assert r.peak_value == pytest.approx(95.0, abs=0.1)
        assert r.start < r.peak < r.end
    assert reps[0].peak_s == pytest.approx(2.0, abs=0.04)


def test_live_finds_the_same_reps_and_phases():
    t, s = reps_signal()
    offline = find_reps(t, s, H)
    online, phases = live(t, s)
    assert online == offline
    off_phase = rep_phases(t, s, offline, H)
    # live can only know a rep once the signal passes `enter`; from there on the phases agree
    for r in offline:
        started = r.start + int(np.argmax(s[r.start:] >= H.enter))
        assert phases[started:r.end] == list(off_phase[started:r.end])
        assert set(phases[started:r.end]) == {"down", "up"}
        assert phases[r.end] == ""


def test_shallow_and_short_excursions_are_not_reps():
    t = np.arange(200) / 30.0
    s = np.full(200, 20.0)
    s[20:60] = 50.0  # never passes enter
    s[100:105] = 80.0  # passes it for 1/6 s: shorter than min_rep_s between exit crossings
    assert find_reps(t, s, H) == []
    assert live(t, s)[0] == []


def test_a_wobble_above_exit_does_not_split_a_rep():
    t, s = reps_signal(n=1)
    peak = int(np.argmax(s))
    s[peak + 5: peak + 8] = 50.0  # a dip between enter and exit
    assert len(find_reps(t, s, H)) == 1
    assert len(live(t, s)[0]) == 1


def test_short_gaps_keep_the_rep_long_gaps_break_it():
    t, s = reps_signal(n=2)
    short = s.copy()
    short[45:52] = np.nan  # 0.23 s inside rep 1
    assert len(find_reps(t, short, H)) == 2 and live(t, short)[0] == find_reps(t, short, H)
    long = s.copy()
    long[45:70] = np.nan  # 0.8 s: rep 1 is lost, rep 2 survives
    reps = find_reps(t, long, H)
    assert len(reps) == 1 and reps[0].start_s > 3.0
    assert live(t, long)[0] == reps


def test_rep_numbers():
    t, s = reps_signal()
    reps = find_reps(t, s, H)
    n = rep_numbers(len(s), reps)
    assert set(n) == {0, 1, 2, 3}
    assert (n[reps[1].start:reps[1].end + 1] == 2).all()


@pytest.mark.parametrize("rest", [0.0, 20.0, 45.0])
def test_thresholds_from_the_rest_level_count_reps_whatever_the_rest(rest):
    """A person resting a little bent, or a model reading rest a few degrees off, still gets their reps."""
    t, s = reps_signal(top=rest, bottom=rest + 70.0)
    reps = find_reps(t, s, FROM_REST)
    assert len(reps) == 3 and live(t, s, FROM_REST)[0] == reps
    assert reps[0].peak_value == pytest.approx(rest + 70.0, abs=0.1)  # the signal's own value
    assert len(find_reps(t, s, H)) == (3 if rest <= H.exit else 0)  # absolute thresholds miss a high rest


def test_bad_hysteresis_is_rejected():
    with pytest.raises(ValueError):
        Hysteresis(enter=40.0, exit=40.0)


@settings(max_examples=60, deadline=None)
@given(
    knots=st.lists(st.floats(0.0, 100.0), min_size=4, max_size=40),
    gaps=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 25)), max_size=4),
    fps=st.sampled_from([15.0, 30.0, 60.0]),
    hyst=st.sampled_from([H, FROM_REST]),
)
def test_offline_and_live_agree_on_any_signal(knots, gaps, fps, hyst):
    """Property: on any signal (random shape, random missing runs) both find exactly the same reps."""
    n = 10 * len(knots)
    s = np.interp(np.arange(n), np.linspace(0, n - 1, len(knots)), knots)
    for a, k in gaps:
        s[a:a + k] = np.nan
    t = np.arange(n) / fps
    assert live(t, s, hyst)[0] == find_reps(t, s, hyst)
