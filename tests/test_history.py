"""The session history: round trip, migration from an older schema, concurrent writers, the command."""

import json
import multiprocessing
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from glutecam import history
from glutecam.history import SCHEMA_VERSION, History, HistoryError, connect, record_run, record_session, trends
from glutecam.results import Fault, RepResult, SetResult


def make_set(side="left", drops=(3.0, 7.5), exercise="split-squat") -> SetResult:
    reps = []
    for i, d in enumerate(drops, start=1):
        faults = [Fault("pelvic_drop", "minor", d, 5.0, i * 2.0 + 0.5, "hip dropped")] if d > 5 else []
        reps.append(RepResult(index=i, start_s=i * 2.0, end_s=i * 2.0 + 1.5, peak_s=i * 2.0 + 0.7, side=side,
                              peak_pelvic_drop_deg=d, mean_pelvic_drop_deg=d / 2, peak_pelvic_rotation_deg=1.0 * i,
                              measures={"knee_flexion_deg": 85.0 + i, "fppa_deg": None}, faults=faults,
                              verdict="fault" if faults else "good"))
    return SetResult(exercise=exercise, side=side, side_source="auto", view="front", reps=reps,
                     summary={"verdict": "good"})


def test_round_trip_keeps_every_rep_measure_and_fault(tmp_path):
    db = tmp_path / "h.sqlite"
    when = datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)
    sid = record_session(make_set(), mode="live", performed_at=when, source="webcam 0", db=db)
    [s] = History(db).sessions()
    assert (s.id, s.mode, s.exercise, s.side, s.view, s.n_reps, s.source) == (
        sid, "live", "split-squat", "left", "front", 2, "webcam 0")
    assert s.performed_at == "2024-03-01T09:30:00+00:00" and s.verdict == "good"
    assert [r.peak_pelvic_drop_deg for r in s.reps] == [3.0, 7.5]
    assert [r.verdict for r in s.reps] == ["good", "fault"]
    assert s.reps[1].measures == {"knee_flexion_deg": 87.0, "fppa_deg": None}
    assert s.reps[1].faults == [{"code": "pelvic_drop", "severity": "minor", "value": 7.5, "threshold": 5.0,
                                 "at_s": 4.5}]
    assert s.mean_peak_drop_deg == 5.25 and s.max_peak_drop_deg == 7.5 and s.n_fault_reps == 1


def test_same_key_replaces_and_filters_select(tmp_path):
    db = tmp_path / "h.sqlite"
    record_session(make_set(drops=(9.0,)), mode="offline", key="clip-a", db=db)
    record_session(make_set(drops=(2.0,)), mode="offline", key="clip-a", db=db)  # analysed again
    record_session(make_set(side="right", exercise="single-leg-rdl"), mode="live", db=db)
    record_session(make_set(side="right", exercise="single-leg-rdl"), mode="live", db=db)  # no key: a new session
    assert [s.reps[0].peak_pelvic_drop_deg for s in History(db).sessions(exercise="split-squat")] == [2.0]
    assert len(History(db).sessions(exercise="single-leg-rdl", side="right")) == 2
    assert History(db).sessions(side="left")[0].exercise == "split-squat"
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM reps").fetchone()[0] == 1 + 2 + 2  # the replaced reps are gone


def test_new_database_is_versioned_and_in_wal_mode(tmp_path):
    db = tmp_path / "h.sqlite"
    connect(db).close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrates_a_version_1_database_made_by_hand(tmp_path):
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE sessions (id INTEGER PRIMARY KEY, exercise TEXT NOT NULL, side TEXT,
                               recorded_at TEXT NOT NULL, source TEXT, n_reps INTEGER NOT NULL);
        CREATE TABLE reps (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
                           idx INTEGER NOT NULL, peak_pelvic_drop_deg REAL, peak_pelvic_rotation_deg REAL,
                           verdict TEXT, PRIMARY KEY (session_id, idx));
        INSERT INTO sessions VALUES (1, 'split-squat', 'right', '2024-01-05T10:00:00+00:00', 'week1.mp4', 2);
        INSERT INTO reps VALUES (1, 1, 8.0, 2.0, 'fault'), (1, 2, 6.0, 1.0, 'fault');
        PRAGMA user_version = 1;
    """)
    con.close()
    record_session(make_set(side="right", drops=(4.0, 2.0)), mode="offline", key="week6",
                   performed_at="2024-02-16T10:00:00+00:00", db=db)
    old, new = History(db).sessions(exercise="split-squat")
    assert (old.source, old.mode, old.performed_at, old.key) == ("week1.mp4", "offline", "2024-01-05T10:00:00+00:00",
                                                                  "v1:1")
    assert [r.peak_pelvic_drop_deg for r in old.reps] == [8.0, 6.0] and old.reps[0].measures == {}
    assert [r.peak_pelvic_drop_deg for r in new.reps] == [4.0, 2.0]
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    [t] = trends([old, new])
    assert (t.first_deg, t.last_deg, t.change_deg) == (7.0, 3.0, -4.0)
    assert t.slope_deg_per_week == pytest.approx(-4.0 / 6.0)


@pytest.mark.parametrize("version, message", [
    (99, "newer glutecam"),  # written by a future glutecam: refuse rather than guess
    (0, "other data"),  # somebody else's SQLite file: do not touch it
])
def test_refuses_databases_it_does_not_understand(tmp_path, version, message):
    db = tmp_path / "x.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (x)")
    con.execute(f"PRAGMA user_version = {version}")
    con.close()
    with pytest.raises(HistoryError, match=message):
        connect(db)


def test_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path):
    db = tmp_path / "notes.sqlite"
    db.write_text("just some notes, not a database\n" * 100)
    with pytest.raises(HistoryError, match="not a usable glutecam history"):
        connect(db)


def _writer(args):
    db, worker = args
    for i in range(10):
        record_session(make_set(drops=(float(worker), float(i))), mode="offline", key=f"w{worker}-{i}", db=db)
    return worker


def test_opening_a_new_history_another_process_holds_waits_for_it(tmp_path):
    """Converting a new file to WAL needs it to itself, and SQLite does not wait for that: a glutecam opening
    the history while another one creates it got "database is locked" at once (1 in 80 opens of 8 processes
    racing on a new file). Now it retries until the other lets go."""
    import threading

    db = tmp_path / "h.sqlite"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # what another process's migration holds
    threading.Timer(0.3, lambda: other.execute("ROLLBACK")).start()
    con = connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()
    other.close()


def test_concurrent_writers_do_not_corrupt_the_database(tmp_path):
    db = str(tmp_path / "h.sqlite")  # not created yet: the workers race to create and migrate it too
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert sorted(pool.map(_writer, [(db, w) for w in range(4)])) == [0, 1, 2, 3]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 40
    assert con.execute("SELECT count(*) FROM reps").fetchone()[0] == 80


def test_record_run_reads_an_output_folder_and_replaces_on_reanalysis(tmp_path):
    clip = tmp_path / "client week1.mp4"
    clip.write_bytes(b"x")
    run = tmp_path / "run"
    run.mkdir()
    (run / "reps.json").write_text(json.dumps(make_set().to_dict()))
    (run / "summary.json").write_text(json.dumps({"source": {"path": str(clip)}}))
    db = tmp_path / "h.sqlite"
    assert record_run(run, db=db) is not None
    record_run(run, db=db)
    [s] = History(db).sessions()
    assert s.source == str(clip) and s.run_dir == str(run) and s.mode == "offline"
    assert datetime.fromisoformat(s.performed_at) == datetime.fromtimestamp(int(clip.stat().st_mtime), timezone.utc)
    (run / "reps.json").unlink()
    assert record_run(run, db=db) is None  # no exercise analysed: nothing to record


def test_history_command_prints_trends_and_writes_a_plot(tmp_path):
    db = tmp_path / "h.sqlite"
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for week, drop in enumerate((9.0, 7.0, 5.0)):
        record_session(make_set(side="left", drops=(drop, drop)), mode="offline", key=f"wk{week}",
                       performed_at=start + timedelta(weeks=week), source=f"[bold]week{week}.mp4", db=db)
    record_session(make_set(side="right", exercise="single-leg-rdl"), db=db)
    plot = tmp_path / "trend.png"
    proc = subprocess.run([sys.executable, "-m", "glutecam", "history", "--exercise", "split-squat", "--db", str(db),
                           "--plot", str(plot)], capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "single-leg-rdl" not in proc.stdout
    assert "[bold]week0.mp4" in proc.stdout  # file names are shown as written, not as markup
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in proc.stdout.splitlines() if "│" in line]
    assert ["split-squat", "left", "3", "+9.0", "+5.0", "-4.0", "-2.00"] in rows  # the trend: 2 deg less per week
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_command_on_an_empty_database(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "glutecam", "history", "--db", str(tmp_path / "new.sqlite")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "No sessions recorded yet" in proc.stdout


def test_default_path_is_the_user_data_dir_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("GLUTECAM_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert history.default_db_path() == tmp_path / "data" / "glutecam" / "history.sqlite"
    monkeypatch.setenv("GLUTECAM_DB", str(tmp_path / "elsewhere.sqlite"))
    assert history.default_db_path() == tmp_path / "elsewhere.sqlite"


def test_plot_path_without_suffix_is_a_png_and_a_bad_suffix_a_usage_error(tmp_path):
    from click.testing import CliRunner

    db, plot = tmp_path / "h.sqlite", tmp_path / "trend"
    record_session({"exercise": "split-squat", "side": "left", "reps": [
        {"index": 1, "start_s": 0.0, "end_s": 2.0, "peak_pelvic_drop_deg": 6.5, "verdict": "fault"}]}, db=db)
    ok = CliRunner().invoke(history.history_cli, ["--db", str(db), "--plot", str(plot)])
    assert ok.exit_code == 0, ok.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not list(tmp_path.glob("*.part"))
    bad = CliRunner().invoke(history.history_cli, ["--db", str(db), "--plot", str(tmp_path / "trend.txt")])
    assert bad.exit_code == 2 and "not an image format" in bad.output
    assert not (tmp_path / "trend.txt").exists()
