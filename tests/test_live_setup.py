"""Set-up checks on real poses of the rendered clips, and on those poses moved, shrunk or relabelled."""

import dataclasses

import numpy as np
import pytest

from glutecam.landmarks import Landmark, mirror_index
from glutecam.live.setup import SetupGuide, check_setup, lying_instruction
from glutecam.track import FramePose

SIZE = (640, 480)


def frame_pose(track, i=5) -> FramePose:
    return FramePose(int(track.frame_index[i]), float(track.time_s[i]), track.image_px[i].copy(),
                     track.visibility[i].copy(), track.presence[i].copy(), track.world_m[i].copy(), 1)


@pytest.fixture(scope="module")
def poses(track_of, synth_dir):
    names = ["bss_front_drop8_r23", "bss_back_rot8_r2", "rdl_back_drop8_r3", "rdl_front_clean",
             "rdl_left_drop8_r23", "slha_front_clean"]
    return {n: frame_pose(track_of(synth_dir / f"{n}.mp4", limit=8)) for n in names}


@pytest.mark.parametrize("clip, exercise, side, expected", [
    # the views each exercise is judged from pass ...
    ("bss_front_drop8_r23", "split-squat", None, ""),
    ("bss_back_rot8_r2", "split-squat", "left", ""),  # from behind once the front leg is named
    ("rdl_back_drop8_r3", "single-leg-rdl", None, ""),
    ("slha_front_clean", "side-lying-abduction", None, ""),
    ("slha_front_clean", "side-lying-abduction", "left", ""),  # left leg on top, facing the camera
    # ... the others get one plain instruction
    ("rdl_front_clean", "single-leg-rdl", None, "Turn around so your back is to the camera"),
    ("rdl_left_drop8_r23", "split-squat", None, "Turn to face the camera"),  # filmed from the side
    ("rdl_left_drop8_r23", "single-leg-rdl", None, "Turn so your back is to the camera"),
    ("slha_front_clean", "split-squat", None, "Stand up, facing the camera"),
    ("bss_back_rot8_r2", "split-squat", None,
     "Turn to face the camera: from behind I can't tell which leg is in front (or start again with --side)"),
    ("bss_front_drop8_r23", "side-lying-abduction", "left",
     "Lie on your right side, facing the camera, with your head to the left"),
    ("slha_front_clean", "side-lying-abduction", "right",
     "Your right leg goes on top. Lie on your left side, facing the camera, with your head to the right"),
])
def test_views_that_suit_the_exercise_pass_and_others_get_an_instruction(poses, clip, exercise, side, expected):
    check = check_setup(poses[clip], exercise, SIZE, side=side)
    assert check.ok == (expected == "")
    assert check.instruction == expected


def moved(pose, dx=0.0, dy=0.0, scale=1.0):
    p = dataclasses.replace(pose, image_px=pose.image_px.copy())
    centre = np.array([320.0, 240.0])
    p.image_px[:, :2] = (p.image_px[:, :2] - centre) * scale + centre + [dx, dy]
    return p


@pytest.mark.parametrize("change, problem, words", [
    (lambda p: moved(p, dy=160), "cut_off", "Step back"),  # feet below the picture
    (lambda p: moved(p, dy=200, scale=0.5), "cut_off", "Tilt the camera down"),  # small, yet feet cut off
    (lambda p: moved(p, scale=1.9), "cut_off", "Step back"),  # too close: head and feet cut
    (lambda p: moved(p, dx=-300), "cut_off", "Step to your left"),  # facing us at the picture's left edge
    (lambda p: moved(p, dx=300), "cut_off", "Step to your right"),
    (lambda p: moved(p, scale=0.4), "too_far", "Come closer to the camera"),
    (lambda p: FramePose.missing(0, 0.0), "nobody", "Step into the picture"),
])
def test_a_person_out_of_place_is_told_where_to_go(poses, change, problem, words):
    check = check_setup(change(poses["bss_front_drop8_r23"]), "split-squat", SIZE)
    assert not check.ok and check.problem == problem and check.instruction.startswith(words)


def test_a_person_filling_a_small_picture_is_still_asked_to_come_closer(poses):
    """The same picture halved to 320x240: the person still spans half its height, but shoulders to ankles is
    now about 127 px, under the 180 the pelvis measures need (docs/accuracy.md)."""
    pose = poses["bss_front_drop8_r23"]
    assert check_setup(pose, "split-squat", SIZE).ok
    check = check_setup(moved(pose, dx=-160, dy=-120, scale=0.5), "split-squat", (320, 240))
    assert (check.problem, check.instruction) == ("too_far", "Come closer to the camera")


def test_seen_from_behind_lying_down_is_asked_to_face_the_camera(poses):
    pose = poses["slha_front_clean"]
    order = mirror_index()  # the same body labelled as if seen from behind: the right leg is now on top
    behind = dataclasses.replace(pose, image_px=pose.image_px[order], visibility=pose.visibility[order],
                                 world_m=pose.world_m[order])
    check = check_setup(behind, "side-lying-abduction", SIZE)
    assert check.problem == "facing"
    assert check.instruction == "Turn to face the camera: " + lying_instruction("right")[0].lower() + \
        lying_instruction("right")[1:]


def test_hidden_hips_are_reported(poses):
    pose = dataclasses.replace(poses["bss_front_drop8_r23"], visibility=poses["bss_front_drop8_r23"].visibility.copy())
    pose.visibility[Landmark.LEFT_HIP] = 0.2
    check = check_setup(pose, "split-squat", SIZE)
    assert check.problem == "hidden" and "hips" in check.instruction


def test_feet_cut_off_by_the_camera_itself(synth_dir, model_ready):
    """The model on a picture that really ends at the knees: MediaPipe places the feet below the picture."""
    from glutecam.pose import PoseEstimator
    from glutecam.sources import Frame, VideoFileSource

    checks = []
    with PoseEstimator(max_people=1) as est:
        for frame in VideoFileSource(synth_dir / "bss_front_drop8_r23.mp4"):
            crop = np.ascontiguousarray(frame.image[:360])  # the feet are at y ~ 430
            pose = est.process(Frame(crop, frame.index, frame.time_s, frame.captured_at))
            checks.append(check_setup(pose, "split-squat", (640, 360)))
            if len(checks) == 4:
                break
    assert [c.problem for c in checks] == ["cut_off"] * 4
    assert checks[-1].instruction.startswith("Step back")


def test_the_guide_is_ready_only_after_every_check_held_without_a_break(poses):
    good = poses["bss_front_drop8_r23"]
    bad = moved(good, dy=160)
    guide = SetupGuide("split-squat", SIZE, hold_s=0.5, view_window=1)
    seq = [good] * 10 + [bad] + [good] * 20  # 30 fps; one bad frame after a third of a second
    ready = []
    for i, p in enumerate(seq):
        guide.update(dataclasses.replace(p, time_s=i / 30))
        ready.append(guide.ready)
    first = ready.index(True)
    assert first == 11 + 15  # 0.5 s after the bad frame, not after the start
    assert all(ready[first:])
