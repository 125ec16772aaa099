"""Output folders made by hand (what `glutecam analyse` writes), so report, compare and batch tests need no model.

`make_run(folder, ...)` writes summary.json, reps.json, frames.csv and an H.264 annotated.mp4 whose frames
show their own time as a grey level, so a test can tell which moment a still or a seek shows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

FPS = 30.0
DURATION_S = 6.0
#: (start_s, end_s) of the crafted reps
REP_SPANS = [(0.5, 1.9), (2.2, 3.6), (3.9, 5.3)]


def clip_frames(n: int, size_wh=(320, 240)) -> list[np.ndarray]:
    """Frames whose brightness rises with time (frame i has grey level 40 + i) and a moving white bar."""
    w, h = size_wh
    frames = []
    for i in range(n):
        img = np.full((h, w, 3), 40 + (i % 200), np.uint8)
        x = int(i * (w - 20) / max(n - 1, 1))
        img[h // 2 - 30:h // 2 + 30, x:x + 20] = 255
        frames.append(img)
    return frames


def make_run(folder: Path, name: str = "client.mp4", side: str = "left", drops=(3.0, 8.5, 6.0),
             exercise: str = "split-squat", video: bool = True, source: Path | None = None) -> Path:
    """Write a complete output folder; the drop in rep i peaks at `drops[i]` degrees."""
    from tests.conftest import write_clip

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = int(DURATION_S * FPS)
    t = np.arange(n) / FPS
    drop = np.zeros(n)
    rot = np.zeros(n)
    knee = np.full(n, 20.0)
    rep_col = np.zeros(n, dtype=int)
    reps = []
    for i, ((a, b), peak) in enumerate(zip(REP_SPANS, drops), start=1):
        inside = (t >= a) & (t <= b)
        phase = np.sin(np.pi * (t[inside] - a) / (b - a))
        drop[inside] = peak * phase
        rot[inside] = 2.0 * i * phase
        knee[inside] = 20 + 70 * phase
        rep_col[inside] = i
        faults = []
        if peak > 5.0:
            faults.append({"code": "pelvic_drop", "severity": "major" if peak > 10 else "minor", "value": peak,
                           "threshold": 5.0, "at_s": round((a + b) / 2, 3),
                           "message": "the free-side hip dropped <b>below</b> the stance hip"})
        reps.append({"index": i, "start_s": a, "end_s": b, "peak_s": (a + b) / 2, "duration_s": b - a, "side": side,
                     "peak_pelvic_drop_deg": peak, "mean_pelvic_drop_deg": round(peak * 2 / math.pi, 3),
                     "peak_pelvic_rotation_deg": 2.0 * i,
                     "measures": {"peak_knee_flexion_deg": 90.0, "peak_fppa_deg": 4.0 + i, "peak_trunk_lean_deg": None,
                                  "duration_s": b - a},
                     "faults": faults, "verdict": "fault" if faults else "good",
                     "not_measured": [{"metric": "trunk_lean_deg", "reason": "shoulders out of view",
                                       "start_s": a, "end_s": b}]})
    fppa = np.where(rep_col > 0, 5.0, 2.0)
    set_dict = {"exercise": exercise, "side": side, "side_source": "auto", "view": "front",
                "summary": {"verdict": "fault" if sum(d > 5 for d in drops) * 2 >= len(drops) else "good"},
                "warnings": [], "reps": reps,
                "not_measured": [{"metric": "trunk_lean_deg", "reason": "shoulders <i>out of view</i>",
                                  "start_s": None, "end_s": None}]}
    src = source or (folder.parent / name)
    summary = {
        "glutecam_version": "0.1.0",
        "source": {"path": str(src), "width": 320, "height": 240, "fps": FPS, "container_frames": n,
                   "duration_s": DURATION_S, "rotation_deg": 0, "codec": "h264"},
        "model": {"name": "full", "path": "/models/pose_landmarker_full.task", "origin": "GLUTECAM_MODEL_DIR"},
        "frames_analysed": n, "stride": 1, "frames_with_person": n, "frames_with_other_people": 0,
        "max_people_in_view": 1, "interrupted": False, "complete": True, "stopped_early": None,
        "exercise": exercise,
        "set": {"side": side, "side_source": "auto", "view": "front", "n_reps": len(reps)},
        "warnings": ["a warning with <em>markup</em> in it"],
        "thresholds": {"pelvic_drop": {"threshold": 5.0, "major": 10.0, "relative": None, "enabled": True},
                       "hip_hike": {"threshold": 5.0, "major": 10.0, "relative": None, "enabled": True},
                       "pelvic_rotation": {"threshold": 5.0, "major": 10.0, "relative": None, "enabled": True},
                       "knee_valgus": {"threshold": 10.0, "major": 15.0, "relative": 5.0, "enabled": True},
                       "short_range": {"threshold": 70.0, "major": 60.0, "relative": None, "enabled": True}},
        "outputs": {"track": "track.npz", "frames": "frames.csv", "reps": "reps.json"},
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (folder / "reps.json").write_text(json.dumps(set_dict, indent=1), encoding="utf-8")
    cols = {"frame": np.arange(n), "time_s": t, "detected": np.ones(n, int), "n_people": np.ones(n, int),
            "pelvis_obliquity_deg": -drop, "pelvic_drop_deg": drop, "pelvis_rotation_deg": rot,
            "knee_flexion_deg": knee, "fppa_deg": fppa, "trunk_lean_deg": np.full(n, np.nan),
            "view": np.array(["front"] * n, dtype=object), "rep": rep_col}
    from glutecam.track import write_csv

    write_csv(folder / "frames.csv", cols)
    if video:
        write_clip(folder / "annotated.mp4", clip_frames(n), fps=FPS)
        summary["outputs"]["annotated"] = "annotated.mp4"
        (folder / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return folder
