"""The history database under interruption and damage: a session is recorded whole or not at all, a
killed writer leaves a consistent database, and a damaged database is one clear line, never a lost set."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from glutecam import history


def a_set(n_reps: int = 5) -> dict:
    return {"exercise": "split-squat", "side": "left", "view": "front",
            "reps": [{"index": i + 1, "start_s": 2.0 * i, "end_s": 2.0 * i + 1.5, "peak_pelvic_drop_deg": 4.0 + i,
                      "verdict": "good", "faults": []} for i in range(n_reps)]}


def counts(db) -> tuple[int, int]:
    with sqlite3.connect(db) as con:
        return (con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0],
                con.execute("SELECT COUNT(*) FROM reps").fetchone()[0])


class _InterruptedConnection:
    """A connection whose batch insert of the reps is interrupted, as by Ctrl+C."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con

    def executemany(self, *args, **kwargs):
        raise KeyboardInterrupt

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_an_interrupted_recording_leaves_no_half_session(tmp_path, monkeypatch):
    db = tmp_path / "h.sqlite"
    history.record_session(a_set(), db=db, mode="live", source="webcam 0")
    assert counts(db) == (1, 5)
    real_connect = history.connect
    monkeypatch.setattr(history, "connect", lambda path=None: _InterruptedConnection(real_connect(path)))
    with pytest.raises(KeyboardInterrupt):
        history.record_session(a_set(), db=db, mode="live", source="webcam 0")
    monkeypatch.undo()
    assert counts(db) == (1, 5)  # the session row inserted before the interruption was rolled back


WRITER = textwrap.dedent("""
    import sys
    from glutecam.history import record_session
    reps = [{"index": i + 1, "start_s": float(i), "end_s": i + 0.8, "peak_pelvic_drop_deg": 3.0,
             "verdict": "good"} for i in range(20)]
    n = 0
    while True:
        record_session({"exercise": "split-squat", "side": "left", "reps": reps}, db=sys.argv[1], mode="live",
                       source="webcam 0")
        n += 1
        if n == 3:
            print("recording", flush=True)
""")


def test_a_writer_killed_mid_transaction_leaves_a_consistent_database(tmp_path):
    """SIGKILL (no handler runs, no rollback in Python): SQLite's journal alone keeps every session whole."""
    db = tmp_path / "h.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "recording"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        sessions = con.execute("SELECT id, n_reps FROM sessions").fetchall()
        assert len(sessions) >= 3
        for sid, n_reps in sessions:
            assert con.execute("SELECT COUNT(*) FROM reps WHERE session_id = ?", (sid,)).fetchone()[0] == n_reps == 20
    assert len(history.History(db).sessions()) == len(sessions)  # and glutecam still reads it


@pytest.mark.parametrize("content", [os.urandom(4096), b"SQLite format 3\x00" + b"\x00" * 200, b""],
                         ids=["random-bytes", "damaged-header", "empty"])
def test_a_damaged_history_database_is_one_clear_line(tmp_path, content):
    db = tmp_path / "h.sqlite"
    db.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "glutecam", "history", "--db", str(db)], capture_output=True,
                          text=True, timeout=120)
    if not content:  # an empty file is a new database: SQLite creates it
        assert proc.returncode == 0, proc.stderr
        return
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("glutecam: error: ") and str(db) in lines[0]
    assert "Traceback" not in proc.stderr
    assert db.read_bytes() == content  # never "repaired" by overwriting the user's file


def test_a_damaged_history_database_does_not_lose_the_analysis(tmp_path, samples_dir, model_ready):
    from tests.badinput import encode, person_frames

    clip = encode(tmp_path / "set.mp4", person_frames(6))
    db = tmp_path / "h.sqlite"
    db.write_bytes(b"not a database" * 100)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "glutecam", "analyse", str(clip), "--exercise", "split-squat",
                           "--out", str(out), "--no-video", "--db", str(db)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "warning: the session was not recorded in the history" in proc.stderr
    assert (out / "reps.json").exists() and (out / "summary.json").exists()


def test_an_interrupted_run_does_not_replace_the_whole_one_in_the_history(tmp_path):
    import json

    clip = tmp_path / "set.mp4"
    clip.write_bytes(b"stands in for the clip: the history keys a run by its path, size and date")
    run = tmp_path / "run"
    run.mkdir()

    def write_run(n_reps: int, interrupted: bool) -> None:
        (run / "reps.json").write_text(json.dumps(a_set(n_reps)))
        (run / "summary.json").write_text(json.dumps({"source": {"path": str(clip)}, "interrupted": interrupted}))

    db = tmp_path / "h.sqlite"
    write_run(5, interrupted=False)
    assert history.record_run(run, db=db) is not None
    write_run(1, interrupted=True)  # the same clip analysed again, stopped after one rep
    assert history.record_run(run, db=db) is None
    assert counts(db) == (1, 5)
