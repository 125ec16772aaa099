"""The annotated clip's review features: fault labels from the moment a fault starts, and a slow-motion
replay of the worst rep appended at the end (banner "Slow motion: rep N").

Both read the analysis (`analysis.set`, a `SetResult`, and `analysis.frames`, per-frame columns), so the
clip, `reps.json` and `report.html` always tell the same story.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glutecam.report.run import LOWER_IS_WORSE, NEGATIVE_CODES, fault_badness, fault_measure

LEAD_S = 0.25  # a label without a measurable onset appears this long before the fault's worst moment
HOLD_S = 0.6  # ... and stays at least this long after it (and always to the end of its rep)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def fault_label(f: Any) -> str:
    """Short on-screen text: `pelvic drop 8 (limit 5)`."""
    word = "target" if _get(f, "code") in LOWER_IS_WORSE else "limit"
    return f"{str(_get(f, 'code')).replace('_', ' ')} {float(_get(f, 'value')):.0f} ({word} {float(_get(f, 'threshold')):.0f})"


def fault_onset_s(f: Any, rep: Any, frames: dict[str, np.ndarray] | None, exercise: str | None) -> float:
    """When the fault starts: the first frame of the rep, up to its worst moment, where the measure it is
    judged on is past the threshold; `LEAD_S` before the worst moment when that cannot be read."""
    at, start = float(_get(f, "at_s")), float(_get(rep, "start_s"))
    fallback = max(start, at - LEAD_S)
    code = _get(f, "code")
    col = fault_measure(code, exercise)
    if frames is None or col is None or code in LOWER_IS_WORSE or col not in frames or "time_s" not in frames:
        return fallback
    t, v = np.asarray(frames["time_s"], float), np.asarray(frames[col], float)
    if code in NEGATIVE_CODES:
        v = -v
    thr = float(_get(f, "threshold"))
    past = (t >= start) & (t <= at) & np.isfinite(v) & (v >= thr)
    return float(t[np.argmax(past)]) if past.any() else fallback


def fault_windows(analysis: Any) -> list[tuple[float, float, str]]:
    """(start_s, end_s, label) for every fault: from its onset to the end of its rep (at least `HOLD_S`
    after its worst moment). `analysis` has `.set` (SetResult) and `.frames` (per-frame columns)."""
    if analysis is None:
        return []
    s = _get(analysis, "set")
    frames = _get(analysis, "frames")
    exercise = _get(s, "exercise")
    out = []
    for rep in _get(s, "reps") or []:
        for f in _get(rep, "faults") or []:
            at = float(_get(f, "at_s"))
            out.append((fault_onset_s(f, rep, frames, exercise), max(float(_get(rep, "end_s")), at + HOLD_S),
                        fault_label(f)))
    return out


def worst_rep(set_result: Any) -> Any | None:
    """The rep to replay: the one with the worst fault, else the largest peak pelvic drop."""
    reps = list(_get(set_result, "reps") or [])
    if not reps:
        return None

    def as_dict(f: Any) -> dict[str, Any]:
        return f if isinstance(f, dict) else dataclasses.asdict(f)

    def score(r: Any) -> tuple[float, float]:
        drop = _get(r, "peak_pelvic_drop_deg")
        drop = abs(float(drop)) if drop is not None and math.isfinite(float(drop)) else 0.0
        return (max((fault_badness(as_dict(f)) for f in _get(r, "faults") or []), default=0.0), drop)

    return max(reps, key=score)


def write_slowed(writer, images, t: float, dt: float, slow: int, stop=None) -> tuple[float, int]:
    """Write each of `images` once, shown `slow` frame intervals of `dt` s, from `t` s on; the last one also
    at its last interval (an MP4 shows its last frame one interval), so the clip lasts to the end. Returns
    (end time s, frames written). A frame shown longer rather than written `slow` times: x264 took 2.8 times
    as long for the repeated frames (1.1 vs 0.4 s for 78 720p frames three times)."""
    last, written = None, 0
    for image in images:
        if stop:
            break
        writer.write(image, t)
        t += slow * dt
        last, written = image, written + 1
    if last is not None and slow > 1:
        writer.write(last, t - dt)
        written += 1
    return t, written


@dataclass
class Replay:
    """A slow-motion replay of one rep, appended to the annotated clip by `write_annotated`.

    Each frame of the rep (plus `pad_s` either side) is drawn with the banner and shown `slow` times as long.
    After `append`, `info()` says where in the clip the replay starts (for the report's "watch" button).
    """

    source_path: Path
    rep: int
    start_s: float
    end_s: float
    stride: int = 1
    slow: int = 3
    pad_s: float = 0.3
    clip_start_s: float | None = None  # set by append: where the replay starts in the annotated clip
    clip_end_s: float | None = None

    @classmethod
    def for_worst_rep(cls, source_path: Path, analysis: Any, stride: int = 1, slow: int = 3) -> "Replay | None":
        if analysis is None:
            return None
        rep = worst_rep(_get(analysis, "set"))
        if rep is None:
            return None
        return cls(Path(source_path), int(_get(rep, "index")), float(_get(rep, "start_s")), float(_get(rep, "end_s")),
                   stride=stride, slow=slow)

    @property
    def banner(self) -> str:
        return f"Slow motion: rep {self.rep}"

    @property
    def span_s(self) -> tuple[float, float]:
        """The source times replayed (s): the rep and `pad_s` either side."""
        return self.start_s - self.pad_s, self.end_s + self.pad_s

    def append(self, writer, annotator, track, overlays: list, stop=None) -> int:
        """Decode the rep again and write it slowed down after what `writer` holds; returns frames written."""
        from glutecam.prefetch import prefetch
        from glutecam.sources import VideoFileSource

        by_index = {int(fi): i for i, fi in enumerate(track.frame_index)}
        fps = track.fps or 30.0
        dt = 1.0 / fps
        t = float(track.time_s[-1]) + dt
        self.clip_start_s = t
        a, b = self.span_s

        def drawn():
            for frame in prefetch(VideoFileSource(self.source_path, stride=self.stride), maxsize=4):
                if frame.time_s > b:
                    break
                i = by_index.get(frame.index)
                if frame.time_s >= a and i is not None:
                    overlay = dataclasses.replace(overlays[i], banner=self.banner)
                    yield annotator.annotate(frame.image, track.image_px[i], track.visibility[i], overlay)

        self.clip_end_s, written = write_slowed(writer, drawn(), t, dt, self.slow, stop)
        return written

    def info(self) -> dict[str, Any] | None:
        """For summary.json: the replayed rep and where its replay sits in annotated.mp4."""
        if self.clip_start_s is None:
            return None
        return {"rep": self.rep, "start_s": round(self.clip_start_s, 3), "end_s": round(self.clip_end_s or 0.0, 3),
                "slow_factor": self.slow, "rep_start_s": self.start_s, "rep_end_s": self.end_s}


def thresholds_of(config: Any, exercise: str) -> dict[str, dict[str, Any]]:
    """The fault thresholds in force for `exercise` (for summary.json, so reports show what was used)."""
    ex = config.exercise(exercise)
    return {code: {"threshold": t.threshold, "major": t.major, "relative": t.relative, "enabled": t.enabled}
            for code, t in ex.faults.items()}
