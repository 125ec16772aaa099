"""Validation against rendered ground truth, and the pelvic-drop estimate it scores.

Three layers: the ground-truth reader and the scoring maths (no model); the estimate on the clips' exact
2-D joints with MediaPipe-like noise (no model: checks signs, baselines and views); and, marked `model`,
MediaPipe on three short rendered clips with the accuracy the docs/accuracy.md table reports, so a change
that makes it worse fails here.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from glutecam import validation as V
from glutecam.metrics.pelvis_estimate import (
    IDENTITY,
    DropCalibration,
    calibration_for,
    estimate_pelvic_drop,
    estimate_pelvis_gated,
    hip_line_drop_deg,
    pelvis_gate_reasons,
)

# README joint names -> BlazePose indices.
JOINTS = {"shoulder_L": 11, "shoulder_R": 12, "hip_L": 23, "hip_R": 24, "knee_L": 25, "knee_R": 26,
          "ankle_L": 27, "ankle_R": 28}


# -- ground truth and scoring (no model) -----------------------------------------------------------------

@pytest.mark.parametrize("label, expected", [
    ("clean", {}),
    ("drop+8", {"pelvic_drop": 8.0}),  # free side lower
    ("drop-8", {"hip_hike": 8.0}),  # negative drop = hike
    ("rot+8", {"pelvic_rotation": 8.0}),
    ("hipflex+20", {"hip_flexion": 20.0}),
    ("drop+6.5", {"pelvic_drop": 6.5}),  # other fault sizes
])
def test_fault_labels_map_to_fault_codes(label, expected):
    assert V.fault_codes(label) == expected


def test_unknown_fault_label_is_an_error():
    with pytest.raises(ValueError, match="wobble"):
        V.fault_codes("wobble+3")


@pytest.mark.parametrize("meta, cli", [("split_squat", "split-squat"), ("sl_rdl", "single-leg-rdl"),
                                       ("side_lying_abduction", "side-lying-abduction")])
def test_exercise_names(meta, cli):
    assert V.exercise_cli_name(meta) == cli


def _tiny_truth(tmp_path, drops, reps, exercise="split_squat", view="front", free="L"):
    frames = [{"frame": i, "rep": r, "pelvic_drop_free_side_deg": d, "pelvic_rotation_free_side_back_deg": 0.0}
              for i, (d, r) in enumerate(zip(drops, reps))]
    meta = {"exercise": exercise, "working_side": "R" if free == "L" else "L", "free_side": free, "fps": 30,
            "camera": {"view": view}, "reps": [
                {"rep": k, "start_frame": int(np.flatnonzero(np.array(reps) == k)[0]),
                 "end_frame": int(np.flatnonzero(np.array(reps) == k)[-1]) + 1,
                 "fault": "drop+8" if max(abs(d) for d, r in zip(drops, reps) if r == k) > 0 else "clean"}
                for k in sorted(set(reps) - {0})]}
    (tmp_path / "clip.json").write_text(json.dumps({"meta": meta, "frames": frames}))
    (tmp_path / "clip.mp4").write_bytes(b"")
    return V.find_clips(tmp_path)[0]


def test_perfect_measurement_scores_perfectly(tmp_path):
    drops = [0.0] * 10 + list(np.linspace(0, 8, 10)) + [8.0] * 5 + list(np.linspace(8, 0, 10)) + [0.0] * 10
    reps = [0] * 10 + [1] * 25 + [2] * 10
    gt = _tiny_truth(tmp_path, drops, reps)
    assert gt.exercise == "split-squat" and gt.free_side == "left" and [r.faults for r in gt.reps] == [
        {"pelvic_drop": 8.0}, {}]
    m = V.Measurement(gt.drop_deg.copy(), [V.MeasuredRep(10 / 30, 35 / 30, {"pelvic_drop"}),
                                           V.MeasuredRep(35 / 30, 45 / 30, set())], "analysers")
    (row,) = V.summarise([V.score_clip(gt, m)])
    assert row.mae_deg == 0 and row.slope == pytest.approx(1) and row.bias_deg == 0 and row.coverage == 1
    assert row.gain == pytest.approx(1)
    assert row.reps_exact == "1/1"
    assert row.faults["pelvic_drop"] == {"tp": 1, "fp": 0, "fn": 0, "not_measured": 0, "precision": 1.0,
                                         "recall": 1.0}


def test_gain_is_the_slope_through_the_origin_and_slope_sees_a_bias_that_grows_with_depth():
    t = np.linspace(3, 8, 20)
    depth_bias = np.linspace(2, 4.5, 20)  # a false drop growing with the movement, as the fault does
    assert V._gain(t, 0.5 * t) == pytest.approx(0.5) and V._slope(t, 0.5 * t) == pytest.approx(0.5)
    y = 0.4 * t + depth_bias
    assert V._slope(t, y) == pytest.approx(0.9)  # 0.4 + 2.5 / 5
    assert V._gain(t, y) == pytest.approx(0.4 + float(t @ depth_bias) / float(t @ t))  # y = k t, least squares
    assert V._gain(t[:2], y[:2]) != V._gain(t[:2], y[:2])  # NaN with fewer than 3 points


def test_a_half_reading_and_a_missed_fault_are_scored_as_such(tmp_path):
    drops = [0.0] * 10 + [8.0] * 10 + [0.0] * 10
    gt = _tiny_truth(tmp_path, drops, [0] * 10 + [1] * 10 + [2] * 10)
    m = V.Measurement(gt.drop_deg / 2, [V.MeasuredRep(10 / 30, 20 / 30, set()),
                                        V.MeasuredRep(20 / 30, 30 / 30, {"pelvic_drop"}),
                                        V.MeasuredRep(30 / 30, 31 / 30, set())], "analysers")
    (row,) = V.summarise([V.score_clip(gt, m)])
    assert row.mae_deg == pytest.approx(4) and row.bias_deg == pytest.approx(-4)
    assert row.reps_exact == "0/1"  # three reps found, two true
    assert row.faults["pelvic_drop"]["tp"] == 0 and row.faults["pelvic_drop"]["fn"] == 1
    assert row.faults["pelvic_drop"]["fp"] == 1


def test_per_rep_readings_give_each_kind_of_rep_its_range_and_name_faults_the_truth_lacks(tmp_path):
    drops = [0.0] * 10 + [8.0] * 10 + [0.0] * 20
    gt = _tiny_truth(tmp_path, drops, [0] * 10 + [1] * 10 + [2] * 10 + [3] * 10)
    m = V.Measurement(gt.drop_deg, [V.MeasuredRep(10 / 30, 20 / 30, {"pelvic_drop"}, drop_held_deg=7.5),
                                    V.MeasuredRep(20 / 30, 30 / 30, {"pelvic_drop"}, drop_held_deg=5.4),
                                    V.MeasuredRep(30 / 30, 40 / 30, set(), drop_held_deg=None)], "analysers")
    score = V.score_clip(gt, m)
    assert [r[:3] for r in score.rep_readings] == [(1, "drop+8", 7.5), (2, "clean", 5.4), (3, "clean", None)]
    text = V.format_rep_readings([score])
    assert "| split-squat | front | drop held | clean 5.4-5.4 (2; 1); drop+8 7.5-7.5 (1; 0) |" in text
    assert text.endswith("Reps flagged with a code their truth does not have: clip rep 2 (clean): pelvic_drop")


@pytest.mark.model
def test_where_the_analysis_asks_for_the_side_the_true_one_is_given_and_said(synth_dir, track_of):
    """From behind a split squat's front leg is not found (the user is told to pass --side): validation does
    what the user would, and notes it."""
    gt = V.read_ground_truth(synth_dir / "bss_back_rot8_r2.json")
    m = V.analyser_measurer(track_of(gt.video), gt)
    assert m.notes == ["working side not found (the analysis asked for --side): given as left"]
    assert len(m.reps) == 3


def test_reads_the_shared_ground_truth_format(synth_dir):
    clips = {c.name: c for c in V.find_clips(synth_dir)}
    gt = clips["slha_front_hike8_r3"]
    assert gt.exercise == "side-lying-abduction" and gt.view == "front" and gt.free_side == "right"
    assert [r.faults for r in gt.reps] == [{}, {}, {"hip_hike": 8.0}]
    assert np.nanmin(gt.drop_deg) == pytest.approx(-8, abs=0.05) and len(gt.frame) == len(gt.drop_deg)


# -- the estimate on exact joints (no model) -------------------------------------------------------------

def test_hip_line_drop_is_view_independent():
    up = np.array([0.0, -1.0])
    base = np.array([True, False])
    for free_x, other_x in ((340.0, 300.0), (300.0, 340.0)):  # free hip on the image's right, then left
        free = np.array([[free_x, 250.0], [free_x, 250.0 + 40 * np.tan(np.radians(6))]])
        other = np.array([[other_x, 250.0], [other_x, 250.0]])
        assert hip_line_drop_deg(free, other, up, base)[1] == pytest.approx(6.0)
    # lying on the side, head to the image's right: the free (top) hip moving towards the feet is a drop
    up = np.array([1.0, 0.0])
    free = np.array([[300.0, 200.0], [300.0 - 40 * np.tan(np.radians(5)), 200.0]])
    other = np.array([[300.0, 240.0], [300.0, 240.0]])
    assert hip_line_drop_deg(free, other, up, base)[1] == pytest.approx(5.0)


def test_baseline_cancels_camera_roll():
    rng = np.random.default_rng(1)
    t = 60
    xy = np.full((t, 33, 2), np.nan)
    xy[:, [11, 12, 23, 24, 25, 26]] = [[350, 150], [290, 150], [340, 250], [300, 250], [340, 330], [300, 330]]
    truth = np.r_[np.zeros(20), np.linspace(0, 8, 40)]
    xy[:, 23, 1] += 40 * np.tan(np.radians(truth))  # the left (free) hip goes down
    roll = np.radians(4.0)  # a tilted camera
    c, s = np.cos(roll), np.sin(roll)
    xy = xy @ np.array([[c, s], [-s, c]]) + rng.normal(0, 0.05, xy.shape)
    est = estimate_pelvic_drop(xy, "left", np.arange(t) < 15, calibration=IDENTITY)
    np.testing.assert_allclose(est.drop_deg, truth, atol=0.5)


def _joints_image(gt_json, noise_px, rng):
    frames = json.loads(gt_json.read_text())["frames"]
    xy = np.full((len(frames), 33, 2), np.nan)
    for i, f in enumerate(frames):
        for name, idx in JOINTS.items():
            xy[i, idx] = f["joints_2d"][name]
    return xy + rng.normal(0, noise_px, xy.shape)


@pytest.mark.parametrize("clip, max_mae", [
    ("bss_front_drop8_r23", 1.2),  # standing, front view, free side on the image's right
    ("slha_front_hike8_r3", 1.2),  # lying on the side: the hip line is vertical in the image
    ("rdl_back_drop8_r3", 1.2),  # from behind: free side on the image's left
])
def test_estimate_on_exact_joints_with_landmark_noise(synth_dir, clip, max_mae):
    """With perfect joints plus 0.5 px noise (MediaPipe's frame-to-frame jitter here) the estimate follows the
    truth: what is left on real landmarks is the model, not the geometry."""
    gt = V.read_ground_truth(synth_dir / f"{clip}.json")
    xy = _joints_image(synth_dir / f"{clip}.json", 0.5, np.random.default_rng(0))
    est = estimate_pelvic_drop(xy, gt.free_side, gt.rep == 0, view=gt.view, calibration=IDENTITY)
    big = np.abs(gt.drop_deg) >= 3
    assert np.mean(np.abs(est.drop_deg[big] - gt.drop_deg[big])) < max_mae
    assert np.polyfit(gt.drop_deg[big], est.drop_deg[big], 1)[0] == pytest.approx(1.0, abs=0.15)


def test_side_view_is_not_measured(synth_dir):
    gt = V.read_ground_truth(synth_dir / "rdl_left_drop8_r23.json")
    xy = _joints_image(synth_dir / "rdl_left_drop8_r23.json", 0.5, np.random.default_rng(0))
    est = estimate_pelvic_drop(xy, gt.free_side, gt.rep == 0, view=gt.view,
                               calibration=calibration_for(gt.exercise, gt.view))
    assert np.isnan(est.drop_deg).all() and set(est.reason) == {"side_view"}


def test_rdl_hinge_hides_the_pelvis_from_the_front(synth_dir):
    gt = V.read_ground_truth(synth_dir / "rdl_front_clean.json")
    xy = _joints_image(synth_dir / "rdl_front_clean.json", 0.5, np.random.default_rng(0))
    est = estimate_pelvic_drop(xy, gt.free_side, gt.rep == 0, view="front",
                               calibration=calibration_for("single-leg-rdl", "front"))
    frames = json.loads((synth_dir / "rdl_front_clean.json").read_text())["frames"]
    bottom = np.array([f["phase"] == "bottom" for f in frames])
    assert set(est.reason[bottom]) == {"trunk_hides_pelvis"} and np.isnan(est.drop_deg[bottom]).all()
    assert np.isfinite(est.drop_deg[gt.rep == 0]).all()


def test_crossed_and_collapsed_hips_are_not_measured():
    t = 4
    xy = np.zeros((t, 33, 2))
    xy[:, [11, 12, 25, 26]] = [[350, 150], [290, 150], [340, 330], [300, 330]]
    xy[:, 23] = [[340, 250], [340, 250], [280, 250], [315, 250]]  # left hip: ok, ok, crossed, collapsed
    xy[:, 24] = [300, 250]
    est = estimate_pelvic_drop(xy, "left", np.array([True, True, False, False]), calibration=IDENTITY)
    assert est.reason.tolist() == ["", "", "hip_labels_crossed", "pelvis_edge_on"]


def test_calibration_divides_by_the_gain_and_corrects_thigh_foreshortening():
    t = 3
    xy = np.zeros((t, 33, 2))
    xy[:, [11, 12]] = [[350, 150], [290, 150]]
    xy[:, 23], xy[:, 24] = [340, 250], [300, 250]
    xy[:, 25], xy[:, 26] = [340, 330], [300, 330]
    xy[1, [23, 25], 1] += 2.0  # frame 1: left (free) hip 2 px lower, thigh unchanged -> 2.86 deg on the line
    # frame 2: the right hip landmark rose by lift * hip width * foreshortening = 0.1 * 40 px * 0.5 while its
    # thigh (measured from that landmark) shows half its baseline length
    xy[2, 24, 1] -= 0.1 * 40 * 0.5
    xy[2, 26, 1] = xy[2, 24, 1] + 40
    cal = DropCalibration(gain=0.5, thigh_lift=0.1)
    est = estimate_pelvic_drop(xy, "left", np.array([True, False, False]), calibration=cal)
    assert est.line_drop_deg[1] == pytest.approx(np.degrees(np.arctan(2 / 40)))
    assert est.drop_deg[1] == pytest.approx(2 * np.degrees(np.arctan(2 / 40)))
    assert est.drop_deg[2] == pytest.approx(0.0, abs=1e-9) and est.line_drop_deg[2] > 2


# -- MediaPipe on rendered clips (regression guard for docs/accuracy.md) -------------------------------------

# (clip, max MAE deg, slope range, clean-frame p95 max deg): today's numbers plus a margin; see
# docs/accuracy.md for what limits them.
MODEL_CASES = [
    ("bss_front_drop8_r23", 1.3, (0.9, 1.6), 5.5),
    ("slha_front_hike8_r3", 1.3, (0.85, 1.45), 3.8),
]


@pytest.mark.model
@pytest.mark.parametrize("clip, max_mae, slope_range, clean_p95", MODEL_CASES)
def test_accuracy_on_rendered_clips_does_not_regress(synth_dir, track_of, clip, max_mae, slope_range,
                                                      clean_p95):
    gt = V.read_ground_truth(synth_dir / f"{clip}.json")
    track = track_of(gt.video)
    score = V.score_clip(gt, V.estimator_measurer(track, gt))
    (row,) = V.summarise([score])
    assert row.coverage == 1.0
    assert row.mae_deg <= max_mae
    assert slope_range[0] <= row.slope <= slope_range[1]
    assert 0.8 <= row.gain <= 1.2  # issue 8's range, met as a gain (0.95 and 1.07 today): see docs/accuracy.md
    assert row.clean_p95_deg <= clean_p95
    for code, f in row.faults.items():  # every 8 deg fault found, nothing flagged on the clean reps
        assert f["fp"] == 0 and f["fn"] == 0, (code, f)


@pytest.mark.model
def test_rdl_from_the_front_says_not_measured_at_the_hinge_and_flags_nothing(synth_dir, track_of):
    gt = V.read_ground_truth(synth_dir / "rdl_front_clean.json")
    track = track_of(gt.video)
    m = V.estimator_measurer(track, gt)
    assert all(not r.fault_codes for r in m.reps)
    in_rep = gt.rep > 0
    assert np.isnan(m.drop_deg[in_rep]).mean() > 0.4  # the bottom half of every hinge
    assert np.isfinite(m.drop_deg[gt.rep == 0]).mean() > 0.9


def test_gate_needs_no_baseline_and_rejects_lost_or_hidden_pelvis():
    t = 10
    xy = np.zeros((t, 33, 2))
    xy[:, 11], xy[:, 12] = [350, 150], [290, 150]
    xy[:, 23], xy[:, 24] = [340, 250], [300, 250]
    xy[7, 23] = [285, 250]  # labels crossed
    xy[8, 23] = [312, 250]  # width 12 of 40 px
    xy[9, [11, 12], 1] = 230  # trunk 20 of 100 px along up: hinged
    reasons = pelvis_gate_reasons(xy, np.array([0.0, -1.0]))
    assert reasons.tolist() == [""] * 7 + ["hip_labels_crossed", "pelvis_edge_on", "trunk_hides_pelvis"]


@pytest.mark.model
def test_gated_estimator_removes_the_lost_pelvis_of_an_rdl_seen_from_behind(synth_dir, track_of):
    from glutecam.metrics.pelvis import estimate_pelvis

    track = track_of(synth_dir / "rdl_back_drop8_r3.mp4")
    xy, up, up_m = track.image_px[..., :2], np.array([0.0, -1.0]), np.array([0.0, -1.0, 0.0])
    naive = estimate_pelvis(xy, track.world_m, up, up_m).obliquity_deg
    gated = estimate_pelvis_gated(xy, track.world_m, up, up_m).obliquity_deg
    assert np.nanmax(np.abs(naive - np.nanmedian(naive[:15]))) > 30  # what a lost pelvis reads
    assert np.nanmax(np.abs(gated - np.nanmedian(gated[:15]))) < 8
    assert np.isfinite(gated[:15]).all()


def test_a_group_row_is_plain_json_even_where_nothing_was_measured():
    nan = float("nan")
    row = V.GroupRow("split-squat", "front", ["a"], np.int64(0), nan, nan, nan, nan, nan, "n/a",
                     {"pelvic_drop": {"tp": 0, "fp": 0, "fn": 0, "precision": nan, "recall": None}})
    d = row.as_dict()
    assert d["mae_deg"] is None and d["faults"]["pelvic_drop"]["precision"] is None
    json.dumps(d, allow_nan=False)  # raises on a NaN or a numpy scalar left anywhere
