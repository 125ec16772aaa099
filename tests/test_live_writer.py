"""Nothing lost: the live session's files are readable while it runs and after it is killed."""

import csv
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from glutecam.live.writer import SessionWriter
from glutecam.results import Fault, RepResult, SetResult
from glutecam.track import FramePose, PoseTrack

REPO = Path(__file__).resolve().parents[1]


def pose(i, t):
    p = FramePose.missing(i, t, 1)
    p.image_px[:] = np.arange(33 * 3).reshape(33, 3) + i
    p.visibility[:] = 0.9
    p.world_m[:] = 0.1 * i
    return p


def rep(index):
    return RepResult(index=index, start_s=index, end_s=index + 1.5, peak_s=index + 0.7, side="right",
                     peak_pelvic_drop_deg=7.5, mean_pelvic_drop_deg=4.0, peak_pelvic_rotation_deg=1.0,
                     faults=[Fault("pelvic_drop", "minor", 7.5, 5.0, index + 0.7)], verdict="fault")


def writer(tmp_path, **kw):
    return SessionWriter(tmp_path, ("pelvic_drop_deg",), (640, 480), 30.0, source="test", **kw)


def test_rows_and_reps_can_be_read_while_the_session_runs(tmp_path):
    w = writer(tmp_path)
    w.start({"exercise": "split-squat"})
    for i in range(3):
        w.frame(pose(i, i / 30), {"frame": i, "time_s": i / 30, "pelvic_drop_deg": float("nan"), "cue": "x"})
    w.rep(rep(1))
    rows = list(csv.DictReader(open(tmp_path / "frames.csv")))  # another reader, writer still open
    assert [r["frame"] for r in rows] == ["0", "1", "2"]
    assert rows[0]["pelvic_drop_deg"] == "" and rows[2]["left_hip_x_px"] == f"{69 + 2:.3f}"
    (line,) = open(tmp_path / "reps.jsonl").read().splitlines()
    assert json.loads(line)["faults"][0]["code"] == "pelvic_drop"
    assert json.loads((tmp_path / "session.json").read_text())["complete"] is False
    w.close()


def test_the_track_is_saved_in_the_background_as_the_set_goes(tmp_path):
    w = writer(tmp_path, track_every_s=0.05)
    for i in range(5):
        w.add_pose(pose(i, i / 30))
    time.sleep(0.06)
    w.add_pose(pose(5, 5 / 30))  # due: a snapshot of the 6 poses is saved on a worker thread
    w._saver.join(timeout=5)
    track = PoseTrack.load(tmp_path / "track.npz")
    assert len(track) == 6 and track.frame_index.tolist() == list(range(6))
    w.close()


def test_finish_writes_the_set_summary_and_marks_the_session_complete(tmp_path):
    w = writer(tmp_path, track_every_s=0)
    w.start({"exercise": "split-squat"})
    for i in range(4):
        w.add_pose(pose(i, i / 30))
        w.frame(pose(i, i / 30), {"frame": i})
    w.rep(rep(1))
    st = SetResult("split-squat", "right", "auto", "front", [rep(1)], summary={"verdict": "fault"})
    out = w.finish(st, {"stop_reason": "quit key", "warnings": []})
    assert {p.name for p in out.values()} == {"frames.csv", "reps.jsonl", "events.jsonl", "track.npz", "reps.json",
                                             "summary.json", "session.json"}
    assert json.loads((tmp_path / "reps.json").read_text())["reps"][0]["duration_s"] == 1.5
    assert json.loads((tmp_path / "session.json").read_text())["complete"] is True
    assert len(PoseTrack.load(tmp_path / "track.npz")) == 4
    assert not list(tmp_path.glob("*.part"))


def test_a_killed_session_keeps_every_row_and_rep_written(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from tests.test_live_writer import pose, rep
        from glutecam.live.writer import SessionWriter
        w = SessionWriter({str(tmp_path)!r}, ("pelvic_drop_deg",), (640, 480), 30.0)
        w.start({{"exercise": "split-squat"}})
        for i in range(50):
            w.frame(pose(i, i / 30), {{"frame": i}})
        w.rep(rep(1))
        print("written", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "written"
    proc.send_signal(signal.SIGKILL)  # no chance to flush or close anything
    proc.wait(timeout=10)
    rows = list(csv.DictReader(open(tmp_path / "frames.csv")))
    assert len(rows) == 50 and rows[-1]["frame"] == "49"
    assert len(open(tmp_path / "reps.jsonl").read().splitlines()) == 1
    assert json.loads((tmp_path / "session.json").read_text())["complete"] is False  # says it was cut off
