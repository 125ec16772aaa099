"""The bad-input corpus through the real command: each case ends in a clear message and the right exit
status (README: 0 done, 1 finished but incomplete, 2 user error), never a traceback.

Every input is generated here (see tests/badinput.py) from a few frames of real footage, so the runs of
the pose model stay short. Clips a user cannot analyse are rejected before the model is loaded.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glutecam.track import PoseTrack
from tests import badinput as bad

FRAMES = 24  # frames of the person clip (every 2nd of the 60 fps original: 0.8 s of movement at 30 fps)


def run(*args, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "glutecam", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def assert_no_crash(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr


def assert_user_error(proc: subprocess.CompletedProcess, message: str) -> None:
    """Exit status 2 and exactly one line on stderr, which says what is wrong."""
    assert_no_crash(proc)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("glutecam: error: ") and message in lines[0], lines[0]


def outputs(out: Path) -> tuple[dict, PoseTrack, list[dict]]:
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    track = PoseTrack.load(out / "track.npz")
    rows = list(csv.DictReader(open(out / "frames.csv", newline="", encoding="utf-8")))
    assert len(track) == len(rows) == summary["frames_analysed"]
    assert not list(out.glob("*.part*"))
    return summary, track, rows


@pytest.fixture(scope="module")
def person(tmp_path_factory, samples_dir) -> list[np.ndarray]:
    """FRAMES frames of a real person, 180x320 (portrait)."""
    return bad.person_frames(FRAMES)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


# -- files that are not a video at all: rejected before the model loads ------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda p: p, "no such file"),  # missing path
    (lambda p: (p.mkdir(), p)[1], "is a folder, not a video file"),  # a directory
    (lambda p: (p.write_bytes(b""), p)[1], "the file is empty (0 bytes)"),  # zero bytes
    (lambda p: (p.write_text("holiday notes\n" * 50), p)[1], "not a readable video"),  # text named .mp4
    (lambda p: (p.write_bytes(np.random.default_rng(0).bytes(50_000)), p)[1], "not a readable video"),  # noise
], ids=["missing", "directory", "zero-bytes", "text-as-mp4", "random-bytes"])
def test_not_a_video(tmp_path, make, message):
    path = make(tmp_path / "clip.mp4")
    proc = run("analyse", path, "--out", tmp_path / "out")
    assert_user_error(proc, message)
    assert not (tmp_path / "out").exists()  # nothing is created for an input that cannot be read


# -- cut-short MP4s ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def long_clips(corpus, person):
    """The same 48 frames (two passes of the person clip) with the index last and first (`+faststart`)."""
    frames = person + person[::-1]
    return {fs: bad.encode(corpus / f"long_faststart{int(fs)}.mp4", frames, fps=30, faststart=fs)
            for fs in (False, True)}


@pytest.mark.parametrize("faststart, keep, message", [
    (True, 100, "'moov' box should hold"),  # cut inside the header
    (True, 0.12, "no frame could be decoded"),  # cut inside the first keyframe
    (False, 0.1, "'moov' box) is missing"),  # index written last: early cut, nothing is decodable
    (False, 0.6, "'moov' box) is missing"),  # ... and a mid-file cut too
    (False, -200, "'moov' box should hold"),  # cut inside the index at the end
], ids=["header", "first-keyframe", "no-index-early", "no-index-mid", "inside-index"])
def test_cut_short_before_any_frame_is_a_user_error(tmp_path, long_clips, faststart, keep, message):
    src = long_clips[faststart]
    keep = src.stat().st_size + keep if isinstance(keep, int) and keep < 0 else keep
    cut = bad.truncated(src, tmp_path / "cut.mp4", keep)
    assert_user_error(run("analyse", cut, "--out", tmp_path / "out"), message)


def test_cut_short_mid_file_is_analysed_up_to_the_damage_and_says_where(tmp_path, long_clips, model_ready):
    cut = bad.truncated(long_clips[True], tmp_path / "cut.mp4", 0.6)
    out = tmp_path / "out"
    proc = run("analyse", cut, "--exercise", "split-squat", "--out", out, "--no-video")
    assert_no_crash(proc)
    assert proc.returncode == 1, proc.stderr  # finished but incomplete
    summary, track, _ = outputs(out)
    n = summary["frames_analysed"]
    assert 5 <= n < 48 and track.detected.all()
    assert summary["complete"] is False and summary["interrupted"] is False
    assert summary["stopped_early"].startswith(f"only the first {n} of 48 frames could be read")
    assert "cut short" in summary["stopped_early"]
    assert f"only the first {n} of 48 frames" in proc.stderr  # the user is told, not only the file
    assert (out / "reps.json").exists()


def test_a_cut_file_is_said_the_same_way_whether_the_decoder_raises_or_stops(tmp_path, long_clips):
    """Frame-threaded (several cores) the decoder just stops at the cut; on one core (as `analyse`'s decoding
    process is on two: glutecam.cores) it raises. Both say how far the file could be read, and why."""
    import os

    from glutecam.cores import pin_thread
    from glutecam.sources import VideoFileSource

    cut = bad.truncated(long_clips[True], tmp_path / "cut.mp4", 0.6)
    allowed = sorted(os.sched_getaffinity(0))
    for cores in (allowed, allowed[:1]):  # the codec takes its threads from the cores it may use
        pin_thread(cores)
        try:
            src = VideoFileSource(cut)
            n = sum(1 for _ in src.frames())
        finally:
            pin_thread(allowed)
        assert 5 <= n < 48 and src.error.startswith(f"only the first {n} of 48 frames could be read (up to ")
        assert "the file is cut short" in src.error


# -- odd but valid videos: analysed, with what was found said plainly ------------------------------------
def analyse_ok(tmp_path, clip, *extra) -> tuple[dict, PoseTrack, list[dict], subprocess.CompletedProcess]:
    out = tmp_path / "out"
    proc = run("analyse", clip, "--out", out, *extra)
    assert_no_crash(proc)
    assert proc.returncode == 0, proc.stderr
    return (*outputs(out), proc)


def no_faults(out: Path) -> None:
    reps = json.loads((out / "reps.json").read_text())
    assert all(not r["faults"] for r in reps["reps"])


@pytest.mark.parametrize("make", [
    lambda d, person: bad.encode(d / "black.mp4", [np.zeros((240, 320, 3), np.uint8)] * 10),
    lambda d, person: bad.encode(d / "nobody.mp4", bad.scene_frames(10)),
], ids=["all-black", "nobody-in-view"])
def test_nobody_in_view(tmp_path, person, make, model_ready):
    clip = make(tmp_path, person)
    summary, track, rows, proc = analyse_ok(tmp_path, clip, "--exercise", "split-squat", "--no-video")
    assert summary["frames_analysed"] == 10 and summary["frames_with_person"] == 0
    assert "warning: nobody was found in any frame" in proc.stderr
    assert all(r["detected"] == "0" and r["left_hip_x_px"] == "" for r in rows)
    no_faults(tmp_path / "out")


def test_a_single_frame(tmp_path, person, model_ready):
    clip = bad.encode(tmp_path / "one.mp4", person[:1])
    summary, track, _, _ = analyse_ok(tmp_path, clip, "--exercise", "split-squat")
    assert summary["frames_analysed"] == 1 and summary["frames_with_person"] == 1
    no_faults(tmp_path / "out")
    assert (tmp_path / "out" / "annotated.mp4").stat().st_size > 0


def test_a_person_who_walks_out_half_way(tmp_path, person, model_ready):
    frames = [f if i < FRAMES // 2 else np.full_like(f, 40) for i, f in enumerate(person)]
    clip = bad.encode(tmp_path / "walkout.mp4", frames)
    summary, track, _, proc = analyse_ok(tmp_path, clip, "--exercise", "split-squat", "--no-video")
    half = FRAMES // 2
    assert track.detected[:half - 2].all() and not track.detected[half + 2:].any()
    assert f"no person found in {FRAMES - summary['frames_with_person']} of {FRAMES} frames" in proc.stderr
    no_faults(tmp_path / "out")


def test_two_people_side_by_side(tmp_path, samples_dir, model_ready):
    left = bad.person_frames(12, size_wh=(270, 480), step=2)
    right = bad.person_frames(12, size_wh=(270, 480), step=3)  # the same person, mirrored, out of step
    clip = bad.encode(tmp_path / "two.mp4", [np.hstack([a, b[:, ::-1]]) for a, b in zip(left, right)])
    # --max-people 2: the model reports both people on every frame (the default's once-a-second census
    # gets a single look at a 12-frame clip); the default path is tested in test_pose.py
    summary, track, _, proc = analyse_ok(tmp_path, clip, "--no-video", "--max-people", "2")
    assert summary["max_people_in_view"] == 2 and summary["frames_with_other_people"] >= 1
    assert "other people were in view" in proc.stderr and "largest and most central" in proc.stderr
    hips_x = track.xy(23)[track.detected, 0]
    assert len(hips_x) >= 8
    assert (hips_x < 270).all() or (hips_x > 270).all()  # one subject followed throughout, never swapped


def test_a_portrait_phone_clip_with_rotation_metadata(tmp_path, person, model_ready):
    # a phone held upright stores landscape frames and a display rotation of 90 degrees
    sideways = [np.ascontiguousarray(np.rot90(f, -1)) for f in person[:12]]
    stored = bad.encode(tmp_path / "stored.mp4", sideways)
    assert sideways[0].shape[:2] == (180, 320)
    clip = bad.with_rotation(stored, tmp_path / "phone.mp4", 90)
    summary, track, _, _ = analyse_ok(tmp_path, clip, "--no-video")
    src = summary["source"]
    assert (src["width"], src["height"], src["rotation_deg"]) == (180, 320, 90)
    assert summary["frames_with_person"] >= 10
    d = track.detected
    assert (track.xy(11)[d, 1] < track.xy(23)[d, 1]).all()  # shoulders above hips: the person is upright
    assert (track.xy(23)[d, 0] < 180).all() and (track.xy(23)[d, 1] < 320).all()


def test_a_variable_frame_rate_clip_keeps_its_timestamps(tmp_path, person, model_ready):
    gaps = [0.03, 0.05, 0.02, 0.10, 0.033, 0.033, 0.2, 0.01, 0.04, 0.03, 0.03]
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    clip = bad.encode(tmp_path / "vfr.mp4", person[:12], times_s=list(times))
    summary, _, rows, _ = analyse_ok(tmp_path, clip, "--no-video")
    np.testing.assert_allclose([float(r["time_s"]) for r in rows], times, atol=0.002)


def test_a_4k_clip(tmp_path, samples_dir, model_ready):
    import cv2

    frames = []
    for f in bad.read_frames(bad.PERSON_CLIP, 3, step=10):  # the person at full height in a 3840x2160 frame
        canvas = np.full((2160, 3840, 3), 90, np.uint8)
        canvas[:, 1300:1300 + 1215] = cv2.resize(f, (1215, 2160))
        frames.append(canvas)
    clip = bad.encode(tmp_path / "uhd.mp4", frames)
    summary, track, _, _ = analyse_ok(tmp_path, clip, "--no-video")
    assert (summary["source"]["width"], summary["source"]["height"]) == (3840, 2160)
    assert summary["frames_with_person"] == 3
    assert (1300 < track.xy(23)[:, 0]).all() and (track.xy(23)[:, 0] < 1300 + 1215).all()


def test_a_64x64_clip(tmp_path, person, model_ready):
    import cv2

    clip = bad.encode(tmp_path / "tiny.mp4", [cv2.resize(f, (64, 64)) for f in person[:8]])
    summary, _, _, _ = analyse_ok(tmp_path, clip, "--exercise", "split-squat")
    assert (summary["source"]["width"], summary["source"]["height"]) == (64, 64)
    assert summary["frames_analysed"] == 8
    no_faults(tmp_path / "out")
    assert (tmp_path / "out" / "annotated.mp4").stat().st_size > 0  # drawing on a tiny frame works


def test_a_path_with_spaces_and_non_ascii_characters(tmp_path, person, model_ready):
    folder = tmp_path / "séances de kiné" / "день 1"
    folder.mkdir(parents=True)
    clip = bad.encode(folder / "squat gauche – 日本 ü.mp4", person[:6])
    out = folder / "résultats ü"
    proc = run("analyse", clip, "--out", out, "--no-video")
    assert_no_crash(proc)
    assert proc.returncode == 0, proc.stderr
    summary, _, _ = outputs(out)
    assert summary["source"]["path"] == str(clip) and summary["frames_with_person"] == 6
    assert str(out) in proc.stdout


# -- options and files around the video ----------------------------------------------------------------
def test_an_output_folder_that_cannot_be_created(tmp_path, person):
    clip = bad.encode(tmp_path / "clip.mp4", person[:2])
    blocker = tmp_path / "notes.txt"  # a regular file where a folder should be: fails even for root
    blocker.write_text("not a folder")
    assert_user_error(run("analyse", clip, "--out", blocker / "sub"), "cannot write to output folder")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write to read-only folders")
def test_a_read_only_output_folder(tmp_path, person):
    clip = bad.encode(tmp_path / "clip.mp4", person[:2])
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert_user_error(run("analyse", clip, "--out", ro / "out"), "cannot write to output folder")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("text, message", [
    ("this is = = not toml [", "not valid TOML"),
    ("[filters]\nbutterworth_cutoff_hz = \"fast\"\n", "must be a number"),
    ("[filters]\nno_such_setting = 1\n", "unknown key [filters.no_such_setting]"),
    (None, "not UTF-8"),
    ("[filters]\nbutterworth_cutoff_hz = nan\n", "must be a finite number"),  # TOML allows nan and inf
    ("[split-squat.faults.pelvic_drop]\nthreshold = inf\nmajor = inf\n", "must be a finite number"),
], ids=["syntax", "wrong-type", "unknown-key", "binary", "nan", "inf"])
@pytest.mark.parametrize("exercise", [["--exercise", "split-squat"], []], ids=["exercise", "no-exercise"])
def test_a_bad_config_file(tmp_path, person, text, message, exercise):
    clip = bad.encode(tmp_path / "clip.mp4", person[:2])
    cfg = tmp_path / "bad.toml"
    cfg.write_bytes(b"\xff\xfe\x00\x81 binary" if text is None else text.encode())
    proc = run("analyse", clip, "--config", cfg, *exercise, "--out", tmp_path / "out")
    assert_user_error(proc, message)
    assert str(cfg) in proc.stderr


def test_a_missing_config_file(tmp_path, person):
    clip = bad.encode(tmp_path / "clip.mp4", person[:2])
    assert_user_error(run("analyse", clip, "--config", tmp_path / "nope.toml"), "cannot read config file")


def test_an_unknown_exercise(tmp_path):
    proc = run("analyse", tmp_path / "x.mp4", "--exercise", "jumping-jacks", cwd=tmp_path)
    assert_no_crash(proc)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Invalid value for '--exercise': 'jumping-jacks' is not one of")
    assert "split-squat" in last


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),  # cut short
    lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 200),  # a zip header and nothing else
    lambda p: p.write_text("not a track"),
    lambda p: p.write_bytes(b""),
], ids=["cut-short", "zip-header-only", "text", "empty"])
def test_a_corrupt_track_file_is_one_clear_error(tmp_path, damage):
    from glutecam.track import TrackFileError

    path = tmp_path / "track.npz"
    PoseTrack.empty((64, 48), 30.0).save(path)
    damage(path)
    with pytest.raises(TrackFileError, match=r"track\.npz: unreadable track file") as info:
        PoseTrack.load(path)
    assert "\n" not in str(info.value)
