"""Ctrl+C and SIGTERM during `glutecam analyse`: everything computed so far is written, readable, and
says it was interrupted; no output is ever left half-written under its final name.

The command runs as a user runs it (`python -m glutecam`) in a subprocess. A `sitecustomize.py` put on
its PYTHONPATH counts the frames the pose model and the video writer have handled, so the test sends the
signal after a known number of frames instead of guessing a delay. In the process that draws the clip
(`glutecam.clip_worker`) it also slows each frame down, so that the clip is still being drawn when the pose
pass ends; it changes nothing else.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glutecam.track import PoseTrack
from tests.badinput import encode, person_frames

pytestmark = pytest.mark.model

HOOK = '''
import os, signal, sys, time
from pathlib import Path

_log = Path(os.environ["GLUTECAM_TEST_LOG"])


def _counted(name, fn):
    calls = [0]

    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        calls[0] += 1
        with open(_log, "a") as fh:
            fh.write(f"{name} {calls[0]}\\n")
        return out
    return wrapper


_os_replace = os.replace


def _logged_replace(src, dst, *args, **kwargs):  # every rename into place, to check writers use temp names
    with open(_log, "a") as fh:
        fh.write(f"replace {os.fspath(src)} -> {os.fspath(dst)}\\n")
    return _os_replace(src, dst, *args, **kwargs)


os.replace = _logged_replace

def _entered(name, fn):  # logged when called, not when it returns
    def wrapper(*args, **kwargs):
        with open(_log, "a") as fh:
            fh.write(f"{name} 1\\n")
        return fn(*args, **kwargs)
    return wrapper


def _slowed(fn):
    def wrapper(*args, **kwargs):
        time.sleep(0.05)
        return fn(*args, **kwargs)
    return wrapper


import glutecam.analyse, glutecam.clip_worker, glutecam.pose, glutecam.video_out

if "glutecam.clip_worker" in sys.orig_argv:  # the process drawing the clip: "clip" frames, slowly
    glutecam.video_out.H264Writer.write = _counted("clip", _slowed(glutecam.video_out.H264Writer.write))
else:
    glutecam.pose.PoseEstimator.process = _counted("pose", glutecam.pose.PoseEstimator.process)
    glutecam.video_out.H264Writer.write = _counted("video", glutecam.video_out.H264Writer.write)
    # "finish 1": the pose pass and the analysis are done; the clip process is told to finish the clip
    glutecam.clip_worker.ClipWorker.finish = _entered("finish", glutecam.clip_worker.ClipWorker.finish)
    if os.environ.get("GLUTECAM_TEST_NO_KEPT"):  # as for a recording too long to keep its frames: the clip
        glutecam.analyse.clip_frames_file = lambda *a, **k: None  # is drawn by a child after the analysis


def _signalled(signame, fn):
    def wrapper(*args, **kwargs):
        os.kill(os.getpid(), getattr(signal, signame))
        return fn(*args, **kwargs)
    return wrapper


# "write_csv:SIGINT": the signal arrives while frames.csv is being written;
# "model:SIGTERM": while the pose model is being loaded, before the first frame.
_self_signal = os.environ.get("GLUTECAM_TEST_SELF_SIGNAL")
if _self_signal:
    where, signame = _self_signal.split(":")
    if where == "write_csv":
        glutecam.analyse.write_csv = _signalled(signame, glutecam.analyse.write_csv)
    elif where == "model":
        glutecam.pose.PoseEstimator.__enter__ = _signalled(signame, glutecam.pose.PoseEstimator.__enter__)
'''


@pytest.fixture(scope="module")
def clip(tmp_path_factory, model_ready):
    return encode(tmp_path_factory.mktemp("clip") / "set.mp4", person_frames(40, step=2), fps=30)


def start(tmp_path, *args, env_extra=None):
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(HOOK)
    log = tmp_path / "hook.log"
    env = {**os.environ, "PYTHONPATH": str(hook_dir), "GLUTECAM_TEST_LOG": str(log), **(env_extra or {})}
    proc = subprocess.Popen([sys.executable, "-m", "glutecam", "analyse", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, log


def wait_for(proc, log, stage, n, timeout=120):
    """Block until the hook has logged `n` calls of `stage` (pose/video)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and f"{stage} {n}\n" in log.read_text():
            return
        if proc.poll() is not None:
            pytest.fail(f"glutecam ended before {n} {stage} frames: {proc.stderr.read()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no {stage} frame {n} within {timeout} s")


def read_outputs(out):
    summary = json.loads((out / "summary.json").read_text())
    track = PoseTrack.load(out / "track.npz")
    rows = list(csv.DictReader(open(out / "frames.csv", newline="")))
    return summary, track, rows


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_pose_keeps_the_frames_so_far(tmp_path, clip, signum):
    out = tmp_path / "out"
    out.mkdir()
    stale = (out / "annotated.mp4")
    stale.write_bytes(clip.read_bytes())  # left by an earlier run into the same folder
    proc, log = start(tmp_path, clip, "--out", out)
    wait_for(proc, log, "pose", 5)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"Interrupted: results for the" in stderr and str(out) in stderr
    summary, track, rows = read_outputs(out)
    assert summary["interrupted"] is True and summary["complete"] is False
    assert 5 <= summary["frames_analysed"] < 40
    assert len(track) == len(rows) == summary["frames_analysed"]
    assert track.detected.sum() == summary["frames_with_person"] > 0
    assert any("interrupted" in w for w in summary["warnings"])
    assert not list(out.glob("*.part*"))
    # no clip pretends to cover the whole video: the earlier run's clip is not this run's output
    assert "annotated" not in summary["outputs"]
    assert "annotated.mp4" not in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("kept", [True, False], ids=["drawn-during-the-pass", "drawn-after-it"])
def test_a_signal_while_drawing_the_clip_keeps_the_analysis_and_leaves_no_finished_looking_clip(tmp_path, clip,
                                                                                                kept):
    import av

    out = tmp_path / "out"
    proc, log = start(tmp_path, clip, "--out", out, env_extra=None if kept else {"GLUTECAM_TEST_NO_KEPT": "1"})
    wait_for(proc, log, "finish", 1)  # the clip process is behind (slowed down): it is still drawing
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    summary, track, rows = read_outputs(out)
    assert summary["interrupted"] is True and summary["complete"] is False
    assert summary["frames_analysed"] == len(track) == len(rows) == 40  # pass 1 had finished
    assert not (out / "annotated.mp4").exists()
    partial = out / "annotated.part.mp4"
    drawn = log.read_text().count("clip ")
    assert "video 1" not in log.read_text()  # drawn by the clip process, not by this one
    with av.open(str(partial)) as c:  # closed properly: what was drawn plays
        assert 1 <= sum(1 for _ in c.decode(video=0)) <= drawn < 40
    assert any("annotated.part.mp4" in w for w in summary["warnings"])
    assert "annotated" not in summary["outputs"]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # pass 1's kept frames are gone


def test_a_signal_while_outputs_are_written_does_not_cut_them_short(tmp_path, clip):
    out = tmp_path / "out"
    proc, _ = start(tmp_path, clip, "--out", out, env_extra={"GLUTECAM_TEST_SELF_SIGNAL": "write_csv:SIGINT"})
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    summary, track, rows = read_outputs(out)
    assert summary["frames_analysed"] == len(track) == len(rows) == 40
    assert summary["interrupted"] is True
    assert any("after the whole video was analysed" in w for w in summary["warnings"])
    assert not list(out.glob("*.part*")) and not (out / "annotated.mp4").exists()


def test_a_signal_before_the_first_frame_still_writes_readable_empty_outputs(tmp_path, clip):
    out = tmp_path / "out"
    proc, _ = start(tmp_path, clip, "--out", out, env_extra={"GLUTECAM_TEST_SELF_SIGNAL": "model:SIGTERM"})
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    summary, track, rows = read_outputs(out)
    assert summary["frames_analysed"] == len(track) == len(rows) == 0
    assert summary["interrupted"] is True


def test_every_output_is_written_under_a_temporary_name_and_renamed_into_place(tmp_path, clip):
    """No writer creates a final file directly, so a half-written file never has a finished file's name."""
    out = tmp_path / "out"
    proc, log = start(tmp_path, clip, "--exercise", "split-squat", "--out", out)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Error in sitecustomize" not in stderr and "pose 1\n" in log.read_text()  # the spy is active
    plot = tmp_path / "trend.png"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "hook"), "GLUTECAM_TEST_LOG": str(log)}
    history = subprocess.run([sys.executable, "-m", "glutecam", "history", "--plot", str(plot)], env=env,
                             capture_output=True, text=True, timeout=120)
    assert history.returncode == 0, history.stderr
    renamed = {}
    for line in log.read_text().splitlines():
        if line.startswith("replace "):
            src, dst = line[len("replace "):].split(" -> ")
            renamed[Path(dst)] = Path(src)
    finals = sorted(p for p in out.iterdir() if p.is_file()) + [plot]
    assert {p.name for p in finals} >= {"track.npz", "frames.csv", "reps.json", "summary.json", "annotated.mp4",
                                        "report.html", "trend.png"}
    for path in finals:
        assert path in renamed, f"{path.name} was written in place"
        assert ".part" in renamed[path].name and renamed[path].parent == path.parent


def test_sigterm_to_a_batch_stops_its_workers_at_their_next_frame(tmp_path, clip):
    """`kill` signals only the parent; the workers must stop too, not finish their clips first."""
    import shutil

    folder = tmp_path / "clips"
    folder.mkdir()
    frames = person_frames(40, step=2)
    encode(folder / "a.mp4", frames + frames[::-1], fps=30)
    shutil.copy(folder / "a.mp4", folder / "b.mp4")
    out = tmp_path / "out"
    proc, log = start(tmp_path, folder, "--exercise", "split-squat", "--jobs", "2", "--out", out, "--no-video")
    wait_for(proc, log, "pose", 5)
    proc.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - t0 < 30
    # a worker still starting up (before its clip began) may end without outputs: nothing was computed
    summaries = [json.loads(p.read_text()) for p in sorted(out.glob("*/summary.json"))]
    assert summaries and all(s["interrupted"] and s["frames_analysed"] < 80 for s in summaries)
    assert max(s["frames_analysed"] for s in summaries) >= 5


def test_stop_request_is_set_by_the_first_signal_and_the_second_one_raises():
    from glutecam.interrupts import stop_on_signals

    before = signal.getsignal(signal.SIGINT)
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert stop and stop.reason == "Ctrl+C"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is before
