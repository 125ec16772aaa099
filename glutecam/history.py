"""Session history: a small SQLite database of every analysed or live session, for trends over weeks.

Where: `$GLUTECAM_DB` if set, else `history.sqlite` in the per-user data folder
(`platformdirs.user_data_dir("glutecam")`, e.g. `~/.local/share/glutecam` on Linux); `--db` picks another.

Schema (version in `PRAGMA user_version`, upgraded in place by `MIGRATIONS`, one transaction per step):

- `sessions`: one row per analysed clip or live set: `key` (unique; re-analysing the same clip replaces its
  row), `mode` (offline/live), `exercise`, `side`, `performed_at` (when the exercise was done: the clip's
  modification time or the live start, ISO 8601 UTC), `recorded_at`, `source`, `run_dir`, `view`,
  `verdict` (the set's), `n_reps`, `glutecam_version`.
- `reps`: one row per rep: `session_id`, `idx`, `side`, `start_s`, `end_s`, `verdict`,
  `peak_pelvic_drop_deg`, `mean_pelvic_drop_deg`, `peak_pelvic_rotation_deg`, `measures_json` (the
  exercise's own measures), `faults_json` (code, severity, value, threshold, at_s).

Concurrency: the database runs in WAL mode with a busy timeout, and every write is one `BEGIN IMMEDIATE`
transaction, so several batch workers (processes) can record at once; a reader never blocks a writer.

>>> import tempfile, pathlib
>>> folder = tempfile.TemporaryDirectory()
>>> db = pathlib.Path(folder.name) / "h.sqlite"
>>> sid = record_session({"exercise": "split-squat", "side": "left", "view": "front", "reps": [
...     {"index": 1, "start_s": 0.0, "end_s": 2.0, "peak_pelvic_drop_deg": 6.5, "verdict": "fault"}]},
...     db=db, mode="live", source="webcam 0")
>>> [(s.exercise, s.side, s.n_reps, s.mean_peak_drop_deg) for s in History(db).sessions()]
[('split-squat', 'left', 1, 6.5)]
>>> folder.cleanup()
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from glutecam.files import replacing
from glutecam.report.run import finite_float, set_verdict

BUSY_TIMEOUT_MS = 30_000


class HistoryError(RuntimeError):
    """The history database cannot be opened, is newer than this glutecam, or is not a glutecam database."""


def default_db_path() -> Path:
    """`$GLUTECAM_DB`, else `<user data dir>/history.sqlite`."""
    env = os.environ.get("GLUTECAM_DB")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("glutecam", appauthor=False)) / "history.sqlite"


# -- schema -------------------------------------------------------------------------------------------------

def _v1(con: sqlite3.Connection) -> None:
    """Version 1: sessions with their reps' pelvic measures."""
    con.execute("""CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        exercise TEXT NOT NULL,
        side TEXT,
        recorded_at TEXT NOT NULL,
        source TEXT,
        n_reps INTEGER NOT NULL)""")
    con.execute("""CREATE TABLE reps (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        peak_pelvic_drop_deg REAL,
        peak_pelvic_rotation_deg REAL,
        verdict TEXT,
        PRIMARY KEY (session_id, idx))""")


def _v2(con: sqlite3.Connection) -> None:
    """Version 2: live sessions, the date the exercise was done, per-rep measures and faults, a unique key."""
    for ddl in ("ALTER TABLE sessions ADD COLUMN key TEXT",
                "ALTER TABLE sessions ADD COLUMN mode TEXT NOT NULL DEFAULT 'offline'",
                "ALTER TABLE sessions ADD COLUMN performed_at TEXT",
                "ALTER TABLE sessions ADD COLUMN run_dir TEXT",
                "ALTER TABLE sessions ADD COLUMN view TEXT",
                "ALTER TABLE sessions ADD COLUMN verdict TEXT",
                "ALTER TABLE sessions ADD COLUMN glutecam_version TEXT",
                "ALTER TABLE reps ADD COLUMN side TEXT",
                "ALTER TABLE reps ADD COLUMN start_s REAL",
                "ALTER TABLE reps ADD COLUMN end_s REAL",
                "ALTER TABLE reps ADD COLUMN mean_pelvic_drop_deg REAL",
                "ALTER TABLE reps ADD COLUMN measures_json TEXT NOT NULL DEFAULT '{}'",
                "ALTER TABLE reps ADD COLUMN faults_json TEXT NOT NULL DEFAULT '[]'"):
        con.execute(ddl)
    # v1 rows: the only date known is when they were recorded; their key is their id (never collides).
    con.execute("UPDATE sessions SET performed_at = recorded_at WHERE performed_at IS NULL")
    con.execute("UPDATE sessions SET key = 'v1:' || id WHERE key IS NULL")
    con.execute("CREATE UNIQUE INDEX sessions_key ON sessions(key)")
    con.execute("CREATE INDEX sessions_exercise ON sessions(exercise, side, performed_at)")


#: MIGRATIONS[i] takes a database from version i to i + 1. Append only; never edit a released step.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: str | Path | None = None) -> sqlite3.Connection:
    """Open (creating and upgrading as needed) the history database. Raises `HistoryError`."""
    path = Path(path) if path is not None else default_db_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise HistoryError(f"{path}: cannot open the history database ({exc})") from None
    try:
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(con)
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA synchronous = NORMAL")
        _migrate(con, path)
    except sqlite3.DatabaseError as exc:
        con.close()
        raise HistoryError(f"{path}: not a usable glutecam history database ({exc})") from None
    except HistoryError:
        con.close()
        raise
    con.row_factory = sqlite3.Row
    return con


#: How long `_use_wal` retries converting a new file to WAL while other processes hold it, seconds.
WAL_RETRY_S = 5.0


def _use_wal(con: sqlite3.Connection) -> None:
    """Put the database in WAL mode (readers and one writer at once), a lasting property of the file.
    Converting needs the file to itself and SQLite does not wait for that (no busy handler: several processes
    opening a new history at once got "database is locked"), so the conversion is retried for `WAL_RETRY_S`;
    a file that stays in another mode (still busy, or a network file system) is still correct, only less
    concurrent."""
    deadline, pause = time.monotonic() + WAL_RETRY_S, 0.005
    while True:
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                return
            time.sleep(pause)
            pause = min(2 * pause, 0.1)


def _migrate(con: sqlite3.Connection, path: Path) -> None:
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path}: written by a newer glutecam (schema {version}, this one knows "
                           f"{SCHEMA_VERSION}); upgrade glutecam or use --db with another file")
    if version == SCHEMA_VERSION:
        return
    # BEGIN IMMEDIATE takes the write lock first, so two processes opening a new database at once do not
    # both run the same step; the version is read again under the lock.
    con.execute("BEGIN IMMEDIATE")
    try:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 and con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise HistoryError(f"{path}: this file holds other data, not a glutecam history")
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](con)
            con.execute(f"PRAGMA user_version = {step + 1}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# -- writing ------------------------------------------------------------------------------------------------

def _now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _iso(value: datetime | str | float | None) -> str:
    if value is None:
        return _now_iso()
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(float(value), tz=timezone.utc)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.astimezone()
        return value.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    return str(value)


def _as_dict(set_result: Any) -> dict[str, Any]:
    if isinstance(set_result, dict):
        return set_result
    if hasattr(set_result, "to_dict"):
        return set_result.to_dict()
    raise TypeError(f"record_session needs a SetResult or its dict, got {type(set_result).__name__}")


def record_session(set_result: Any, *, mode: str = "live", performed_at: datetime | str | float | None = None,
                   source: str = "", run_dir: str | Path | None = None, key: str | None = None,
                   db: str | Path | None = None) -> int:
    """Record one set (a `glutecam.results.SetResult` or its `to_dict()`); returns the session id.

    For the live mode: call once when a set ends, e.g.
    `record_session(set_result, mode="live", performed_at=start_time, source="webcam 0")`.
    `key` identifies the session: recording again with the same key replaces the earlier row (the offline
    job uses the clip's path, size and time); without it every call adds a session. `performed_at` is when
    the exercise was done (default: now). Raises `HistoryError` when the database cannot be used.
    """
    from glutecam import __version__

    s = _as_dict(set_result)
    reps = list(s.get("reps") or [])
    verdict = set_verdict(s)
    con = connect(db)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            if key is not None:
                con.execute("DELETE FROM sessions WHERE key = ?", (key,))
            cur = con.execute(
                "INSERT INTO sessions (exercise, side, recorded_at, source, n_reps, key, mode, performed_at, "
                "run_dir, view, verdict, glutecam_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (s.get("exercise") or "unknown", s.get("side"), _now_iso(), str(source), len(reps), key, mode,
                 _iso(performed_at), str(run_dir) if run_dir else None, s.get("view"), verdict, __version__))
            sid = int(cur.lastrowid)
            if key is None:
                con.execute("UPDATE sessions SET key = ? WHERE id = ?", (f"{mode}:{sid}", sid))
            con.executemany(
                "INSERT INTO reps (session_id, idx, side, start_s, end_s, verdict, peak_pelvic_drop_deg, "
                "mean_pelvic_drop_deg, peak_pelvic_rotation_deg, measures_json, faults_json) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(sid, int(r.get("index", i + 1)), r.get("side") or s.get("side"), finite_float(r.get("start_s")),
                  finite_float(r.get("end_s")), r.get("verdict"), finite_float(r.get("peak_pelvic_drop_deg")),
                  finite_float(r.get("mean_pelvic_drop_deg")), finite_float(r.get("peak_pelvic_rotation_deg")),
                  json.dumps({k: finite_float(v) for k, v in (r.get("measures") or {}).items()}),
                  json.dumps([{k: f.get(k) for k in ("code", "severity", "value", "threshold", "at_s")}
                              for f in (r.get("faults") or [])]))
                 for i, r in enumerate(reps)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return sid
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot record the session in the history database ({exc})") from None
    finally:
        con.close()


def record_run(run_dir: str | Path, db: str | Path | None = None) -> int | None:
    """Record an `analyse` output folder (reads reps.json and summary.json); None when it has no reps.json
    or the run was interrupted (Ctrl+C, SIGTERM).

    The key is the source clip (absolute path, size, modification time), exercise and side, so analysing the
    same clip again replaces its entry; the session's date is the clip's modification time.
    """
    run_dir = Path(run_dir)
    reps_path = run_dir / "reps.json"
    if not reps_path.is_file():
        return None
    set_dict = json.loads(reps_path.read_text(encoding="utf-8"))
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
    if summary.get("interrupted"):  # a set stopped part-way is not a session, and would replace a whole one
        return None
    src = (summary.get("source") or {}).get("path") or ""
    performed_at = None
    ident = str(run_dir.resolve())
    if src:
        p = Path(src)
        try:
            st = p.stat()
            performed_at = st.st_mtime
            ident = f"{p.resolve()}|{st.st_size}|{int(st.st_mtime)}"
        except OSError:
            ident = str(p)
    key = f"offline:{ident}|{set_dict.get('exercise')}|{set_dict.get('side')}"
    return record_session(set_dict, mode="offline", performed_at=performed_at, source=src, run_dir=run_dir,
                          key=key, db=db)


# -- reading ------------------------------------------------------------------------------------------------

@dataclass
class RepRecord:
    idx: int
    side: str | None
    verdict: str | None
    peak_pelvic_drop_deg: float | None
    peak_pelvic_rotation_deg: float | None
    mean_pelvic_drop_deg: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    measures: dict[str, float | None] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SessionRecord:
    id: int
    key: str
    mode: str
    exercise: str
    side: str | None
    performed_at: str
    recorded_at: str
    source: str
    run_dir: str | None
    view: str | None
    verdict: str | None
    n_reps: int
    reps: list[RepRecord] = field(default_factory=list)

    def _values(self, name: str) -> list[float]:
        return [v for v in (getattr(r, name) for r in self.reps) if v is not None]

    @property
    def mean_peak_drop_deg(self) -> float | None:
        v = self._values("peak_pelvic_drop_deg")
        return round(statistics.fmean(v), 3) if v else None

    @property
    def max_peak_drop_deg(self) -> float | None:
        v = self._values("peak_pelvic_drop_deg")
        return max(v) if v else None

    @property
    def mean_peak_rotation_deg(self) -> float | None:
        v = self._values("peak_pelvic_rotation_deg")
        return round(statistics.fmean(v), 3) if v else None

    @property
    def n_fault_reps(self) -> int:
        return sum(1 for r in self.reps if r.verdict == "fault")


class History:
    """Read access to the database: `History(db).sessions(exercise=...)`, oldest first."""

    def __init__(self, db: str | Path | None = None) -> None:
        self.path = Path(db) if db is not None else default_db_path()

    def sessions(self, exercise: str | None = None, side: str | None = None) -> list[SessionRecord]:
        con = connect(self.path)
        try:
            where, args = [], []
            if exercise:
                where.append("exercise = ?")
                args.append(exercise)
            if side:
                where.append("side = ?")
                args.append(side)
            sql = "SELECT * FROM sessions" + (" WHERE " + " AND ".join(where) if where else "")
            rows = con.execute(sql + " ORDER BY performed_at, id", args).fetchall()
            out = []
            for row in rows:
                reps = [RepRecord(idx=r["idx"], side=r["side"], verdict=r["verdict"],
                                  peak_pelvic_drop_deg=r["peak_pelvic_drop_deg"],
                                  peak_pelvic_rotation_deg=r["peak_pelvic_rotation_deg"],
                                  mean_pelvic_drop_deg=r["mean_pelvic_drop_deg"], start_s=r["start_s"],
                                  end_s=r["end_s"], measures=json.loads(r["measures_json"] or "{}"),
                                  faults=json.loads(r["faults_json"] or "[]"))
                        for r in con.execute("SELECT * FROM reps WHERE session_id = ? ORDER BY idx", (row["id"],))]
                out.append(SessionRecord(id=row["id"], key=row["key"], mode=row["mode"], exercise=row["exercise"],
                                         side=row["side"], performed_at=row["performed_at"],
                                         recorded_at=row["recorded_at"], source=row["source"] or "",
                                         run_dir=row["run_dir"], view=row["view"], verdict=row["verdict"],
                                         n_reps=row["n_reps"], reps=reps))
            return out
        finally:
            con.close()


def _parse_date(s: str) -> datetime:
    d = datetime.fromisoformat(s)
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


@dataclass
class Trend:
    """Mean peak pelvic drop over the sessions of one exercise and side."""

    exercise: str
    side: str | None
    n_sessions: int
    first_deg: float | None
    last_deg: float | None
    slope_deg_per_week: float | None  # least-squares slope over time; None with < 2 dated sessions

    @property
    def change_deg(self) -> float | None:
        if self.first_deg is None or self.last_deg is None:
            return None
        return self.last_deg - self.first_deg


def trends(sessions: Iterable[SessionRecord]) -> list[Trend]:
    """One `Trend` per (exercise, side): first and last session's mean peak drop and the weekly slope."""
    groups: dict[tuple[str, str | None], list[SessionRecord]] = {}
    for s in sessions:
        groups.setdefault((s.exercise, s.side), []).append(s)
    out = []
    for (exercise, side), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        pts = [(_parse_date(s.performed_at), s.mean_peak_drop_deg) for s in group if s.mean_peak_drop_deg is not None]
        slope = None
        if len(pts) >= 2:
            t0 = pts[0][0]
            xs = [(d - t0).total_seconds() / (7 * 86400) for d, _ in pts]
            ys = [v for _, v in pts]
            if max(xs) - min(xs) > 1e-9:
                slope = statistics.linear_regression(xs, ys).slope
        out.append(Trend(exercise, side, len(group), pts[0][1] if pts else None, pts[-1][1] if pts else None,
                         slope))
    return out


def plot_history(sessions: list[SessionRecord], path: str | Path) -> Path:
    """Write a PNG (or the format of `path`'s suffix): mean peak pelvic drop and rotation per session over time, one line per exercise and side."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    groups: dict[tuple[str, str | None], list[SessionRecord]] = {}
    for s in sessions:
        groups.setdefault((s.exercise, s.side), []).append(s)
    for (exercise, side), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        dates = [_parse_date(s.performed_at) for s in group]
        label = f"{exercise} ({side or 'side unknown'})"
        ax1.plot(dates, [s.mean_peak_drop_deg if s.mean_peak_drop_deg is not None else float("nan") for s in group],
                 marker="o", label=label)
        ax2.plot(dates, [s.mean_peak_rotation_deg if s.mean_peak_rotation_deg is not None else float("nan")
                         for s in group], marker="o", label=label)
    ax1.set_ylabel("mean peak pelvic drop (deg)")
    ax2.set_ylabel("mean peak pelvic rotation (deg)")
    ax2.set_xlabel("session date")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    if groups:
        ax1.legend(fontsize="small")
    ax1.set_title("glutecam history")
    fig.autofmt_xdate()
    fig.tight_layout()
    with replacing(path) as tmp:  # a plot cut short by Ctrl+C never replaces a good one, nor leaves a .part
        try:
            fig.savefig(tmp, dpi=100, format=plot_format(path))
        finally:
            plt.close(fig)
    return path


def plot_format(path: Path) -> str:
    """The image format a plot path asks for: its suffix, PNG without one."""
    return Path(path).suffix[1:].lower() or "png"


# -- command line -------------------------------------------------------------------------------------------

def _fmt(v: float | None, spec: str = "+.1f") -> str:
    return "–" if v is None else format(v, spec)


def history_command(exercise: str | None, side: str | None, plot: Path | None, db: Path | None) -> int:
    """`glutecam history`: the sessions as a table, the trend per exercise and side, optionally a plot."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    hist = History(db)
    sessions = hist.sessions(exercise=exercise, side=side)
    if not sessions:
        console.print(f"No sessions recorded yet in {hist.path}" + (f" for {exercise}" if exercise else "") + ".",
                      markup=False, highlight=False)
        if plot:
            plot_history([], plot)
        return 0
    table = Table(title=escape(f"Sessions ({hist.path})"), title_justify="left")
    for col in ("date", "exercise", "side", "mode", "reps", "fault reps", "mean peak drop", "max peak drop",
                "mean peak rot.", "verdict", "source"):
        table.add_column(col, justify="right" if col in ("reps", "fault reps") or "peak" in col else "left")
    for s in sessions:
        cells = [_parse_date(s.performed_at).astimezone().strftime("%Y-%m-%d %H:%M"), s.exercise, s.side or "?", s.mode, str(s.n_reps),
                 str(s.n_fault_reps), _fmt(s.mean_peak_drop_deg), _fmt(s.max_peak_drop_deg),
                 _fmt(s.mean_peak_rotation_deg), s.verdict or "–", Path(s.source).name if s.source else ""]
        table.add_row(*map(escape, cells))
    console.print(table)
    tt = Table(title="Trend of the mean peak pelvic drop (deg; negative = less drop = better)", title_justify="left")
    for col in ("exercise", "side", "sessions", "first", "last", "change", "per week"):
        tt.add_column(col, justify="left" if col in ("exercise", "side") else "right")
    for t in trends(sessions):
        tt.add_row(escape(t.exercise), escape(t.side or "?"), str(t.n_sessions), _fmt(t.first_deg), _fmt(t.last_deg),
                   _fmt(t.change_deg), _fmt(t.slope_deg_per_week, "+.2f"))
    console.print(tt)
    if plot:
        console.print(f"plot written to {plot_history(sessions, plot)}", markup=False, highlight=False)
    return 0


def _click_command():
    import click

    def plot_path(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        from matplotlib.backend_bases import FigureCanvasBase

        known = FigureCanvasBase.get_supported_filetypes()
        if value is not None and plot_format(value) not in known:
            raise click.BadParameter(f"{value.suffix} is not an image format; use one of "
                                     f"{', '.join('.' + k for k in sorted(known))} (or no suffix for PNG)")
        return value

    @click.command("history")
    @click.option("--exercise", default=None, help="Only this exercise (e.g. split-squat).")
    @click.option("--side", type=click.Choice(["left", "right"]), default=None, help="Only this working side.")
    @click.option("--plot", type=click.Path(path_type=Path), default=None, callback=plot_path,
                  help="Write a trend plot (PNG) here.")
    @click.option("--db", type=click.Path(path_type=Path), default=None,
                  help="History database (default: $GLUTECAM_DB, else history.sqlite in the user data folder).")
    def history_cli(exercise: str | None, side: str | None, plot: Path | None, db: Path | None) -> None:
        """Show recorded sessions and how the pelvic drop trends over time."""
        import sys

        from glutecam.cli import fail

        try:
            sys.exit(history_command(exercise, side, plot, db))
        except HistoryError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write the plot {plot}: {exc.strerror or exc}")

    return history_cli


history_cli = _click_command()
