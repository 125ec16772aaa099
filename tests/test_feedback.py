"""The feedback layer, tick by tick on synthetic metric streams: cues come fast, hold steady, then clear."""

import math
import time
from types import SimpleNamespace

import numpy as np
import pytest

from glutecam.feedback import RULES, FeedbackEngine, FeedbackTiming, free_side
from glutecam.results import Fault, RepResult

FPS = 30.0


def state(t, faults=(), rep=None, side=None, **metrics):
    return SimpleNamespace(time_s=t, metrics=metrics, active_faults=list(faults), completed_rep=rep, side=side)


def run(engine, metric, values, fps=FPS, t0=0.0, **other):
    """Feed one metric's values (one per frame); returns the `Feedback` of every frame."""
    return [engine.update(state(t0 + i / fps, **{metric: float(v)}, **other)) for i, v in enumerate(values)]


def texts(out):
    return [o.cue.text if o.cue else None for o in out]


def shown_runs(out):
    """(code, first frame, last frame) of each stretch the same cue was on screen."""
    runs, cur = [], None
    for i, o in enumerate(out):
        code = o.cue.code if o.cue else None
        if cur and cur[0] == code:
            cur[2] = i
        else:
            if cur and cur[0]:
                runs.append(tuple(cur))
            cur = [code, i, i]
    if cur and cur[0]:
        runs.append(tuple(cur))
    return runs


def rep(index, verdict="good", faults=(), side="right"):
    return RepResult(index=index, start_s=0.0, end_s=1.0, peak_s=0.5, side=side, peak_pelvic_drop_deg=1.0,
                     mean_pelvic_drop_deg=0.5, peak_pelvic_rotation_deg=1.0, faults=list(faults), verdict=verdict)


@pytest.mark.parametrize("exercise, metric, value, code", [
    ("split-squat", "pelvic_drop_deg", 8.0, "pelvic_drop"),  # the free (rear-leg) hip drops
    ("split-squat", "pelvic_drop_deg", -8.0, "hip_hike"),  # a negative drop is a hike
    ("single-leg-rdl", "pelvis_rotation_deg", 9.0, "pelvic_rotation"),  # the lifted leg's hip opens
    ("side-lying-abduction", "hip_flexion_deg", 20.0, "hip_flexion"),  # leg drifting forward
    ("side-lying-abduction", "pelvic_drop_deg", -7.0, "hip_hike"),
    ("split-squat", "trunk_lean_deg", -14.0, "trunk_lean"),  # lean counts either way
])
def test_a_cue_appears_within_three_frames_of_a_fault(exercise, metric, value, code):
    fb = FeedbackEngine(exercise, side="right")
    values = [0.0] * 30 + [value] * 30
    out = run(fb, metric, values)
    assert all(o.cue is None for o in out[:30])
    first = next(i for i, o in enumerate(out) if o.cue)
    assert 30 + 1 <= first <= 30 + 3  # never on the first frame (noise), never later than the third
    assert out[first].cue.code == code and out[first].changed


def test_a_fault_only_the_analyser_can_see_is_cued_from_its_reports():
    fb = FeedbackEngine("single-leg-rdl", side="left")
    fault = Fault("back_rounding", "minor", 12.0, 10.0, 1.0)
    out = [fb.update(state(i / FPS)) for i in range(10)]
    out += [fb.update(state((10 + i) / FPS, faults=[fault])) for i in range(3)]
    assert texts(out)[9:] == [None, None, None, "Keep your back flat"]
    out = [fb.update(state((13 + i) / FPS)) for i in range(60)]  # reports stop: the cue goes after hold + release
    assert out[0].cue and out[-1].cue is None


def test_cues_read_metrics_the_way_the_analyser_judges_them():
    rules = [SimpleNamespace(code="pelvic_rotation", column="pelvis_rotation_deg", kind="frame", sign=1.0,
                             both_ways=True, from_baseline=False),
             SimpleNamespace(code="trunk_lean", column="trunk_lean_deg", kind="frame", sign=1.0, both_ways=True,
                             from_baseline=True),
             SimpleNamespace(code="short_range", column="drive_deg", kind="range", sign=1.0, both_ways=False,
                             from_baseline=False)]
    fb = FeedbackEngine("split-squat", side="right", fault_rules=rules)
    assert run(fb, "pelvis_rotation_deg", [-8.0] * 5)[-1].cue.code == "pelvic_rotation"  # both ways
    fb = FeedbackEngine("split-squat", side="right", fault_rules=rules)
    # lean is judged against the person's own start, which the live metrics do not carry: reports only
    assert run(fb, "trunk_lean_deg", [20.0] * 10)[-1].cue is None
    # a fault the analyser does not judge is never cued
    assert run(fb, "pelvic_drop_deg", [20.0] * 10, t0=1.0)[-1].cue is None


def test_noise_around_the_threshold_does_not_flicker():
    rng = np.random.default_rng(1)
    fb = FeedbackEngine("split-squat", side="right")
    values = 5.0 + rng.normal(0, 1.5, 600)  # 20 s hovering on the 5 deg threshold
    out = run(fb, "pelvic_drop_deg", values)
    changes = sum(o.changed for o in out)
    runs = shown_runs(out)
    assert runs, "a drop hovering on its threshold should be said at some point"
    assert changes <= 2 * len(runs) and len(runs) <= 6  # a handful of steady cues in 20 s, not 100s of blinks
    # every cue that ended stayed at least the minimum hold time
    assert all((b - a + 1) / FPS >= 1.0 for _, a, b in runs[:-1])


def test_isolated_spikes_and_subthreshold_noise_say_nothing():
    rng = np.random.default_rng(2)
    values = rng.normal(0, 1.0, 600)  # |noise| stays well inside 5 deg ...
    values[::37] = 25.0  # ... except single wild frames (a mislabelled hip)
    out = run(FeedbackEngine("split-squat", side="left"), "pelvic_drop_deg", values)
    assert all(o.cue is None for o in out)


def test_the_cue_clears_after_the_fault_ends_hold_and_release():
    timing = FeedbackTiming()
    fb = FeedbackEngine("split-squat", side="right", timing=timing)
    values = [0.0] * 30 + [8.0] * 60 + [0.0] * 90
    out = run(fb, "pelvic_drop_deg", values)
    on = next(i for i, o in enumerate(out) if o.cue)
    off = next(i for i, o in enumerate(out) if i > on and o.cue is None)
    assert all(o.cue for o in out[on:off])
    # the fault ended at frame 90: the cue goes after the release time (0.3 s), within two more frames
    assert 90 + timing.release_s * FPS <= off <= 90 + timing.release_s * FPS + 2
    assert all(o.cue is None for o in out[off:])


def test_a_brief_fault_still_shows_its_cue_for_the_minimum_hold():
    fb = FeedbackEngine("split-squat", side="right")
    out = run(fb, "pelvic_drop_deg", [0.0] * 10 + [9.0] * 4 + [0.0] * 60)
    ((code, a, b),) = shown_runs(out)
    assert code == "pelvic_drop" and (b - a + 1) / FPS >= 1.0


def test_hysteresis_keeps_the_cue_while_the_value_stays_above_off():
    fb = FeedbackEngine("split-squat", side="right")  # on 5 deg, off 3.5 deg
    out = run(fb, "pelvic_drop_deg", [6.0] * 10 + [4.0] * 90)
    assert all(o.cue for o in out[3:])  # 4 deg is under "on" but above "off": still said


@pytest.mark.parametrize("exercise, side, text", [
    # split squat: the free leg is the rear leg, opposite the working (front) leg
    ("split-squat", "left", "Keep your right hip up"),
    ("split-squat", "right", "Keep your left hip up"),
    # single-leg RDL: the lifted leg, opposite the stance leg
    ("single-leg-rdl", "right", "Keep your left hip up"),
    # side unknown: no side named rather than a guess
    ("split-squat", None, "Keep your hips level"),
])
def test_wording_names_the_free_hip(exercise, side, text):
    out = run(FeedbackEngine(exercise, side=side), "pelvic_drop_deg", [9.0] * 5)
    assert out[-1].cue.text == text


def test_the_side_is_learnt_from_the_first_rep_but_a_given_side_is_kept():
    fb = FeedbackEngine("split-squat")
    fb.update(state(0.0, rep=rep(1, side="left")))
    assert fb.side == "left" and fb.free == "right"
    fixed = FeedbackEngine("split-squat", side="right")
    fixed.update(state(0.0, rep=rep(1, side="left")))
    assert fixed.side == "right"


def test_the_more_important_fault_wins_and_only_one_cue_is_shown():
    fb = FeedbackEngine("split-squat", side="right")
    out = [fb.update(state(i / FPS, pelvic_drop_deg=7.0, trunk_lean_deg=12.0)) for i in range(10)]
    assert out[-1].cue.code == "pelvic_drop" and set(out[-1].active) == {"pelvic_drop", "trunk_lean"}


def test_a_major_fault_replaces_a_minor_one_at_once():
    fb = FeedbackEngine("split-squat", side="right")
    out = [fb.update(state(i / FPS, trunk_lean_deg=12.0)) for i in range(10)]
    assert out[-1].cue.code == "trunk_lean" and out[-1].cue.severity == "minor"
    out = [fb.update(state((10 + i) / FPS, trunk_lean_deg=12.0, pelvic_drop_deg=12.0)) for i in range(4)]
    assert out[-1].cue.code == "pelvic_drop" and out[-1].cue.severity == "major"


def test_praise_for_a_good_rep_and_none_for_a_faulty_one():
    fb = FeedbackEngine("split-squat", side="right")
    first = fb.update(state(1.0, rep=rep(1)))
    assert first.cue.severity == "praise" and "hips level" in first.cue.text.lower()
    later = [fb.update(state(1.0 + i / FPS)) for i in range(1, 90)]
    assert later[int(1.4 * FPS)].cue is not None and later[-1].cue is None  # offered ~1.5 s, then gone
    bad = fb.update(state(5.0, rep=rep(2, "fault", [Fault("pelvic_drop", "minor", 7, 5, 4.5)])))
    assert bad.cue is None


def test_a_fault_interrupts_praise():
    fb = FeedbackEngine("split-squat", side="right")
    fb.update(state(1.0, rep=rep(1)))
    out = run(fb, "pelvic_drop_deg", [8.0] * 5, t0=1.0 + 1 / FPS)
    assert out[-1].cue.code == "pelvic_drop"


@pytest.mark.parametrize("exercise, code, text", [
    ("side-lying-abduction", "short_range", "Lift a little higher next rep"),
    ("split-squat", "short_range", "Go a little deeper next rep"),
    ("single-leg-rdl", "rushed", "Slow down: about two seconds each way"),
])
def test_rep_level_faults_are_said_after_the_rep(exercise, code, text):
    fb = FeedbackEngine(exercise, side="left")
    out = fb.update(state(3.0, rep=rep(1, "fault", [Fault(code, "minor", 20, 30, 2.0)])))
    assert out.cue.text == text


def test_no_cue_while_not_coaching_and_rules_start_afresh():
    fb = FeedbackEngine("split-squat", side="right")
    out = [fb.update(state(i / FPS, pelvic_drop_deg=9.0), coaching=False) for i in range(30)]
    assert all(o.cue is None for o in out)
    out = run(fb, "pelvic_drop_deg", [9.0] * 3, t0=1.0)
    assert texts(out)[0] is None and out[-1].cue  # confirmation starts only once coaching starts


def test_unmeasurable_metrics_and_missing_keys_say_nothing():
    fb = FeedbackEngine("side-lying-abduction", side="left")
    out = [fb.update(state(i / FPS, hip_flexion_deg=math.nan)) for i in range(30)]
    out += [fb.update(SimpleNamespace(time_s=1 + i / FPS, metrics={}, active_faults=[], completed_rep=None))
            for i in range(30)]
    assert all(o.cue is None for o in out)


def test_config_thresholds_replace_the_defaults_and_can_disable_a_rule():
    fb = FeedbackEngine("split-squat", side="right", thresholds={"pelvic_drop": (8.0, 12.0), "hip_hike": None})
    assert run(fb, "pelvic_drop_deg", [7.0] * 10)[-1].cue is None
    assert run(fb, "pelvic_drop_deg", [9.0] * 5, t0=1.0)[-1].cue.code == "pelvic_drop"
    assert run(FeedbackEngine("split-squat", thresholds={"hip_hike": None}), "pelvic_drop_deg", [-20.0] * 10)[-1].cue is None


def test_every_rule_has_words_with_and_without_a_side():
    for exercise, rules in RULES.items():
        for rule in rules:
            for side in ("left", "right", None):
                words = rule.wording(free_side(exercise, side), side)
                assert words and "{" not in words and "None" not in words


def test_cost_per_frame_is_far_below_a_millisecond():
    """Loose guard; the strict goal (< 1 ms incl. analysers, issue 6) is measured in benchmarks/."""
    rng = np.random.default_rng(3)
    fb = FeedbackEngine("split-squat", side="right")
    states = [state(i / FPS, pelvic_drop_deg=v, pelvis_rotation_deg=-v, trunk_lean_deg=2 * v, fppa_deg=v)
              for i, v in enumerate(rng.normal(4, 3, 3000))]
    t0 = time.perf_counter()
    for s in states:
        fb.update(s)
    per_frame_ms = (time.perf_counter() - t0) / len(states) * 1e3
    assert per_frame_ms < 1.0


# -- on synthetic pose tracks, through the real analysers ------------------------------------------------------

@pytest.mark.parametrize("exercise, faults, code, text", [
    ("split-squat", {"drop_deg": 9.0}, "pelvic_drop", "Keep your left hip up"),  # right leg in front
    # (no single-leg RDL case: its faults peak at the bottom of the hinge, where from behind the pose model
    # loses the pelvis, so the drop is not judged there; its cues are covered by the table tests above)
    # (no side-lying hip-flexion case: lying facing the camera the drift runs along the line of sight and is
    # not measured, see glutecam/view.py; its cue is covered by the table tests above)
    ("side-lying-abduction", {"drop_deg": -9.0}, "hip_hike", "Keep your top hip down, away from your ribs"),
])
def test_on_a_synthetic_set_the_faulty_rep_is_cued_in_time_and_the_clean_ones_praised(exercise, faults, code, text):
    """The analysers measure; the feedback layer must say it within a few frames of the analyser seeing the
    fault, stop soon after, and say nothing but praise around the clean reps."""
    from glutecam.analysers import get_analyser
    from glutecam.feedback import thresholds_from_config
    from glutecam.track import FramePose
    from tests import synthetic

    make = {"split-squat": synthetic.split_squat, "single-leg-rdl": synthetic.single_leg_rdl,
            "side-lying-abduction": synthetic.side_lying_abduction}[exercise]
    clip = make(n_reps=3, faults=[{}, faults, {}], noise=synthetic.REALISTIC)
    track = clip.track
    analyser = get_analyser(exercise)
    live = analyser.live(fps=track.fps)
    timing = FeedbackTiming()
    fb = FeedbackEngine(exercise, thresholds=thresholds_from_config(analyser.config, exercise), timing=timing,
                        fault_rules=analyser.rules)
    out, reported = [], []
    for i in range(len(track)):
        pose = FramePose(int(track.frame_index[i]), float(track.time_s[i]), track.image_px[i], track.visibility[i],
                         track.presence[i], track.world_m[i], 1)
        s = live.update(pose)
        out.append(fb.update(s, coaching=s.baseline_ready))
        reported.append(any(f.code == code for f in s.active_faults))
    reported = np.array(reported)
    assert reported.any(), f"the analyser never reported {code} in the faulty rep"
    sustained = reported[:-1] & reported[1:]  # a one-frame report is noise the cue must not follow
    first_report, last_report = np.flatnonzero(sustained)[0], np.flatnonzero(reported)[-1]
    shown = np.array([o.cue is not None and o.cue.code == code for o in out])
    assert {o.cue.text for o, s in zip(out, shown) if s} == {text}
    first_shown, last_shown = np.flatnonzero(shown)[[0, -1]]
    assert first_report <= first_shown <= first_report + 3  # within three frames of the analyser seeing it
    hold = (timing.min_hold_s + timing.release_s) * track.fps
    assert last_shown <= last_report + hold + 3  # and gone once it has stopped (hold and release)
    # the faulty rep is the truth's rep 2; around the clean reps, nothing but praise
    t = track.time_s
    rep2 = clip.reps[1]
    faults_said = np.array([o.cue is not None and o.cue.severity in ("minor", "major") for o in out])
    outside = (t < rep2.start_s) | (t > rep2.end_s + timing.min_hold_s + timing.release_s)
    assert not (faults_said & outside).any()
    assert rep2.start_s <= t[first_shown] <= rep2.end_s
    praised = [t[i] for i, o in enumerate(out) if o.changed and o.cue is not None and o.cue.severity == "praise"]
    assert len(praised) == 2 and praised[0] < rep2.start_s < rep2.end_s < praised[1]
