"""Nothing lost: the live session's files, written as the set goes.

In the output folder:

- `session.json`: written at the start (exercise, source, model, start time) with `"complete": false`,
  rewritten at the end with the summary and `"complete": true`; a folder whose `session.json` still says
  false was cut off (power loss, killed process), and everything below is still readable;
- `frames.csv`: one row per frame the loop handled, appended and flushed to the OS every frame;
- `reps.jsonl`: one JSON line per finished rep (its result and verdict), flushed and synced to disk at once;
- `events.jsonl`: set-up done, calibration, cues shown, pause/resume, how the session ended;
- `track.npz`: the pose track of the analysed frames, saved every `track_every_s` (or less often when a
  save takes long, so that saving uses at most 5 % of the time) in a background thread, written under a
  temporary name and renamed like every whole-file output, and at the end;
- at the end: `reps.json` (the set, like `glutecam analyse`) and `summary.json`.
"""

from __future__ import annotations

import csv
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from glutecam.files import dumps, write_json_atomic
from glutecam.track import FramePose, TrackBuilder, csv_cell, landmark_block, landmark_columns

#: frames.csv columns before the measures (the analyser's metric columns follow, then LIVE_COLUMNS).
BASE_COLUMNS = ("frame", "time_s", "detected", "n_people", "stage")
#: Live-only columns: the analyser's view, rep and phase, the cue on screen and the loop's timings.
LIVE_COLUMNS = ("view", "rep", "phase", "cue", "latency_ms", "pose_ms", "analyse_ms", "feedback_ms", "draw_ms")


class SessionWriter:
    """Writes a live session's files as it goes (see the module docstring). Use as a context manager.

    `metric_columns`: the analyser's per-frame measures, in order (fixed for the whole session).
    """

    def __init__(self, out_dir: str | Path, metric_columns: Sequence[str], frame_size_wh: tuple[int, int],
                 fps: float, source: str = "", model: str = "", track_every_s: float = 10.0) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.metric_columns = tuple(metric_columns)
        self.value_columns = (*BASE_COLUMNS, *self.metric_columns, *LIVE_COLUMNS)
        self.columns = (*self.value_columns, *landmark_columns())
        self.frame_size_wh = frame_size_wh
        self.fps = fps
        self.source = source
        self.model = model
        self.track_every_s = track_every_s
        self._track = TrackBuilder(dtype=np.float64)  # float64: the poses exactly as the live analysis saw them
        self.frames_written = 0
        self.reps_written = 0
        self._lock = threading.Lock()  # one track save at a time
        self._saver: threading.Thread | None = None
        self._last_save = time.monotonic()
        self.save_errors: list[str] = []
        self.last_save_s = 0.0  # how long the last track save took
        self._frames = open(self.out_dir / "frames.csv", "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._frames)
        self._csv.writerow(self.columns)
        self._frames.flush()
        self._reps = open(self.out_dir / "reps.jsonl", "w", encoding="utf-8")
        self._events = open(self.out_dir / "events.jsonl", "w", encoding="utf-8")
        self._meta: dict[str, Any] = {}
        self.closed = False

    # -- as the set goes ----------------------------------------------------------------------------
    def start(self, meta: dict[str, Any]) -> None:
        """Write `session.json` marked incomplete (rewritten complete by `finish`)."""
        self._meta = dict(meta)
        write_json_atomic(self.out_dir / "session.json", {**self._meta, "complete": False})

    def frame(self, pose: FramePose, values: dict[str, Any]) -> None:
        """Append one row: the pose's landmarks plus `values` (BASE/metric/LIVE columns; missing = empty)."""
        row = [csv_cell(values.get(c)) for c in self.value_columns]
        row += [csv_cell(v) for v in landmark_block(pose.image_px, pose.visibility).tolist()]
        self._csv.writerow(row)
        self._frames.flush()
        self.frames_written += 1

    def add_pose(self, pose: FramePose) -> None:
        """A frame that went into the analysis: part of the session's track."""
        self._track.append(pose)
        # a long set's track takes longer to compress: save at most 5 % of the time, to spare the CPU
        every = max(self.track_every_s, 20 * self.last_save_s) if self.track_every_s else 0
        if every and time.monotonic() - self._last_save >= every:
            self.save_track_in_background()

    def add_poses(self, poses: Sequence[FramePose]) -> None:
        """Frames kept in the track without a save (those seen before the analysis started)."""
        for pose in poses:
            self._track.append(pose)

    @property
    def frames_tracked(self) -> int:
        """Frames in the session's track so far."""
        return len(self._track)

    def rep(self, rep: Any, extra: dict[str, Any] | None = None) -> None:
        d = asdict(rep) if not isinstance(rep, dict) else dict(rep)
        if hasattr(rep, "duration_s"):
            d["duration_s"] = rep.duration_s
        d.update(extra or {})
        self._reps.write(dumps(d) + "\n")
        self._reps.flush()
        try:
            os.fsync(self._reps.fileno())
        except OSError:
            pass
        self.reps_written += 1

    def event(self, kind: str, time_s: float | None, **data: Any) -> None:
        self._events.write(dumps({"event": kind, "time_s": time_s, "wall": time.time(), **data}) + "\n")
        self._events.flush()

    # -- the track ----------------------------------------------------------------------------------
    def _save(self) -> None:
        with self._lock:
            t0 = time.monotonic()
            try:
                self._track.build(self.frame_size_wh, self.fps, source=self.source, model=self.model,
                                  info={"live": True}).save(self.out_dir / "track.npz")
            except Exception as exc:  # a full disk must not stop the coaching; reported at the end
                self.save_errors.append(f"track.npz: {type(exc).__name__}: {exc}")
            self.last_save_s = time.monotonic() - t0

    def save_track_in_background(self) -> None:
        """Save the track so far on a worker thread (skipped while the previous save runs)."""
        self._last_save = time.monotonic()
        if self._saver is not None and self._saver.is_alive():
            return
        self._saver = threading.Thread(target=self._save, name="glutecam-track-save", daemon=True)
        self._saver.start()

    # -- the end ------------------------------------------------------------------------------------
    def finish(self, set_result: Any | None, summary: dict[str, Any]) -> dict[str, Path]:
        """Write the final track, reps.json, summary.json and the completed session.json; close the files."""
        self.close()
        if self._saver is not None:
            self._saver.join()
        outputs = {"frames": self.out_dir / "frames.csv", "reps_log": self.out_dir / "reps.jsonl",
                   "events": self.out_dir / "events.jsonl"}
        self._save()
        if (self.out_dir / "track.npz").exists():
            outputs["track"] = self.out_dir / "track.npz"
        if set_result is not None:
            outputs["reps"] = write_json_atomic(self.out_dir / "reps.json", set_result.to_dict())
        summary = {**summary, "outputs": {k: p.name for k, p in outputs.items()}}
        if self.save_errors:
            summary.setdefault("warnings", []).extend(self.save_errors)
        outputs["summary"] = write_json_atomic(self.out_dir / "summary.json", summary)
        outputs["session"] = write_json_atomic(self.out_dir / "session.json",
                                               {**self._meta, "complete": True, "summary": summary})
        return outputs

    def close(self) -> None:
        """Flush and close the appended files (idempotent; `finish` calls it)."""
        if self.closed:
            return
        self.closed = True
        for fh in (self._frames, self._reps, self._events):
            try:
                fh.flush()
                fh.close()
            except Exception:
                pass

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
