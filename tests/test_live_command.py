"""`glutecam live` as a user runs it, headless: replayed clip, Ctrl+C, a missing camera, no screen."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from glutecam.track import PoseTrack

CLIP = "bss_front_drop8_r23.mp4"


def live(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "glutecam", "live", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=env, **kw)


@pytest.mark.model
def test_a_replayed_set_prints_its_summary_writes_its_files_and_joins_the_history(tmp_path, synth_dir, model_ready,
                                                                                 private_history_db):
    out = tmp_path / "set"
    proc = live("--exercise", "split-squat", "--replay", synth_dir / CLIP, "--speed", 2, "--no-window",
                "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "split-squat: 3 reps, working side right (auto)" in proc.stdout
    assert "capture-to-display latency" in proc.stdout
    assert {p.name for p in out.iterdir()} >= {"frames.csv", "reps.jsonl", "events.jsonl", "track.npz", "reps.json",
                                               "summary.json", "session.json"}
    assert json.loads((out / "session.json").read_text())["complete"] is True
    assert len(PoseTrack.load(out / "track.npz")) > 20
    with sqlite3.connect(private_history_db) as con:
        rows = con.execute("SELECT mode, exercise, n_reps FROM sessions WHERE run_dir = ?", (str(out),)).fetchall()
    assert rows == [("live", "split-squat", 3)]


@pytest.mark.model
def test_ctrl_c_keeps_the_set_so_far_and_prints_the_summary(tmp_path, synth_dir, model_ready):
    out = tmp_path / "set"
    proc = subprocess.Popen([sys.executable, "-m", "glutecam", "live", "--exercise", "split-squat", "--replay",
                             str(synth_dir / CLIP), "--no-window", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the first rep is counted (the clip plays in real time)
        if (out / "reps.jsonl").exists() and '"counted": true' in (out / "reps.jsonl").read_text():
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Interrupted" in stderr
    assert "rep 1:" in stdout and "ended: interrupted" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] and summary["set"]["n_reps"] >= 1
    assert json.loads((out / "session.json").read_text())["complete"] is True  # ended cleanly, if early


def test_a_missing_camera_lists_the_cameras_found(tmp_path, model_ready):
    proc = live("--exercise", "split-squat", "--camera", 9, "--no-window", "--out", tmp_path / "x")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "glutecam: error: camera 9 could not be opened; cameras found: none"
    assert "WARN" not in proc.stderr and "Traceback" not in proc.stderr  # OpenCV's probing noise is silenced


def test_without_a_screen_it_says_to_use_no_window(tmp_path, model_ready):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = live("--exercise", "split-squat", "--out", tmp_path / "x", env=env)
    assert proc.returncode == 2 and "--no-window" in proc.stderr and "Traceback" not in proc.stderr


def test_a_model_mediapipe_cannot_load_is_one_clear_line_and_closes_display_and_source(tmp_path, monkeypatch,
                                                                                       capsys):
    import zipfile

    import numpy as np

    import glutecam.live.display
    import glutecam.sources
    from glutecam.live.command import run_live_command
    from tests.conftest import write_clip

    bad = tmp_path / "pose_landmarker_bad.task"
    with zipfile.ZipFile(bad, "w") as z:  # passes the bundle check: both members, intact
        z.writestr("pose_detector.tflite", b"not a model" * 10)
        z.writestr("pose_landmarks_detector.tflite", b"not a model" * 10)
    clip = write_clip(tmp_path / "clip.mp4", [np.zeros((64, 64, 3), np.uint8)] * 3)
    closed = []

    class Display(glutecam.live.display.MemoryDisplay):
        def close(self):
            closed.append("display")
            super().close()

    class Source(glutecam.sources.ReplaySource):
        def close(self):
            closed.append("source")
            super().close()

    monkeypatch.setattr(glutecam.live.display, "MemoryDisplay", Display)
    monkeypatch.setattr(glutecam.sources, "ReplaySource", Source)
    status = run_live_command("split-squat", replay=clip, model=str(bad), no_window=True, out_dir=tmp_path / "out")
    assert status == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"glutecam: error: {bad}: MediaPipe could not load this model (")
    assert sorted(closed) == ["display", "source"]
