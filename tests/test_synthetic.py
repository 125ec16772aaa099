"""The ground-truth kit itself: bones keep their length, the camera projects like a pinhole, world
landmarks agree with the image, angles land where they were set, and noise is what it says."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.landmarks import Landmark as L
from tests.synthetic import (
    REALISTIC,
    Body,
    Camera,
    Noise,
    camera_for,
    pose_scene,
    render,
    side_lying_abduction,
    single_leg_rdl,
    split_squat,
    static_motion,
)


def test_bones_keep_their_length_through_a_set():
    clip = split_squat(faults=[{"drop_deg": 8, "rotation_deg": 6, "valgus_deg": 9}])
    p = pose_scene(clip.motion)
    b = Body()
    for leg in ("LEFT", "RIGHT"):
        thigh = np.linalg.norm(p[:, L[f"{leg}_KNEE"]] - p[:, L[f"{leg}_HIP"]], axis=1)
        shank = np.linalg.norm(p[:, L[f"{leg}_ANKLE"]] - p[:, L[f"{leg}_KNEE"]], axis=1)
        np.testing.assert_allclose(thigh, b.thigh_m)
        np.testing.assert_allclose(shank, b.shank_m)
    width = np.linalg.norm(p[:, L.LEFT_HIP] - p[:, L.RIGHT_HIP], axis=1)
    np.testing.assert_allclose(width, 2 * b.hip_half_width_m)


def test_the_grounded_foot_stays_on_the_floor():
    clip = single_leg_rdl(side="left")
    p = pose_scene(clip.motion)
    np.testing.assert_allclose(p[:, L.LEFT_ANKLE, 2], Body().ankle_height_m)
    assert p[:, L.RIGHT_ANKLE, 2].max() > 0.3  # the free leg lifts


def test_set_obliquity_is_the_elevation_of_the_hip_line():
    p = pose_scene(static_motion(3, pelvis_obliquity_deg=7.0, pelvis_rotation_deg=20.0, hinge_deg=30.0))
    h = p[0, L.LEFT_HIP] - p[0, L.RIGHT_HIP]
    assert np.degrees(np.arcsin(h[2] / np.linalg.norm(h))) == pytest.approx(7.0)


def test_camera_is_a_pinhole_and_world_landmarks_match_it():
    track = render(static_motion(2), camera_for("front"))
    cam = Camera()
    # the subject's left hip is on the image's right seen from the front
    assert track.image_px[0, L.LEFT_HIP, 0] > track.image_px[0, L.RIGHT_HIP, 0]
    # world landmarks: hip-centred, y down, metres
    np.testing.assert_allclose((track.world_m[0, L.LEFT_HIP] + track.world_m[0, L.RIGHT_HIP]) / 2, 0, atol=1e-12)
    assert track.world_m[0, L.NOSE, 1] < 0 < track.world_m[0, L.LEFT_ANKLE, 1]
    # re-project the world landmarks at the hips' depth: same pixels up to perspective of the depth spread
    scene = pose_scene(static_motion(2))
    x_cam = (scene[0] - cam.position_m) @ cam.rotation.T
    u = cam.focal_px * x_cam[:, 0] / x_cam[:, 2] + cam.size_wh[0] / 2
    np.testing.assert_allclose(u, track.image_px[0, :, 0])


def test_back_camera_puts_the_left_hip_on_the_image_left():
    track = render(static_motion(2), camera_for("back"))
    assert track.image_px[0, L.LEFT_HIP, 0] < track.image_px[0, L.RIGHT_HIP, 0]
    assert track.world_m[0, L.LEFT_HIP, 0] < 0


def test_lying_body_shows_the_top_hip_above():
    clip = side_lying_abduction(side="left")
    img = clip.track.image_px[0]
    assert img[L.LEFT_HIP, 1] < img[L.RIGHT_HIP, 1]  # left (top) hip higher in the image
    assert img[L.LEFT_SHOULDER, 0] < img[L.LEFT_HIP, 0]  # head towards the image left


def test_reps_follow_the_schedule_and_faults_peak_mid_rep():
    clip = split_squat(n_reps=3, faults=[{}, {"drop_deg": 8}], rep_s=2.0, rest_s=0.5, lead_s=1.0)
    assert [(r.start_s, r.end_s) for r in clip.reps] == [(1.0, 3.0), (3.5, 5.5), (6.0, 8.0)]
    drop = clip.truth["pelvic_drop_deg"]
    i = int(np.argmax(drop))
    assert drop[i] == pytest.approx(8.0, abs=0.05) and clip.track.time_s[i] == pytest.approx(4.5, abs=0.05)
    assert drop[clip.track.time_s < 3.4].max() == 0.0


def test_noise_is_reproducible_and_of_the_stated_size():
    motion = static_motion(300)
    clean = render(motion)
    noisy = render(motion, noise=Noise(pixel_sd=1.0, seed=3))
    again = render(motion, noise=Noise(pixel_sd=1.0, seed=3))
    assert noisy == again
    err = (noisy.image_px - clean.image_px)[..., :2]
    assert err.std() == pytest.approx(1.0, rel=0.05)


def test_dropouts_look_like_frames_without_a_person():
    track = render(static_motion(600), noise=Noise(dropout_rate=0.02, dropout_frames=2, seed=1))
    missing = track.n_people == 0
    assert 0 < missing.mean() < 0.1
    assert np.isnan(track.image_px[missing]).all() and (track.visibility[missing] == 0).all()
    assert not track.detected[missing].any()


def test_realistic_noise_is_mediapipe_sized():
    """About 1.5x the hip-line jitter MediaPipe shows on the rendered clips (see REALISTIC)."""
    motion = static_motion(600)
    track = render(motion, noise=REALISTIC)
    clean = render(motion)
    ok = track.n_people > 0
    width = np.linalg.norm(clean.image_px[0, L.LEFT_HIP, :2] - clean.image_px[0, L.RIGHT_HIP, :2])
    err = np.abs(track.image_px[ok, L.LEFT_HIP, 1] - clean.image_px[ok, L.LEFT_HIP, 1])
    assert 0.005 < np.median(err) / width < 0.03
