"""The live pipeline on a replayed clip, for `benchmarks/bench.py`: frame rate, latency and stage costs.

The window is an in-memory display, sound is off and the set-up checks are skipped (so the analysers and
the feedback layer run on every frame whatever the clip shows). The replay runs at real-time pace and
drops the frames the loop is too slow for, as a camera would.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any


def run_replay_benchmark(clip: str | Path, max_frames: int | None = None, max_people: int = 1,
                         exercise: str | None = None, speed: float = 1.0, model: str | None = None) -> dict[str, Any]:
    """Run `glutecam live` on `clip` (the first `max_frames` frames' worth of time) and return its figures.

    Latency is capture to display: from the moment the replay publishes a frame (as a camera would) to the
    moment the picture with that frame's skeleton and cue has been handed to the display.
    """
    from glutecam.analysers import get_analyser
    from glutecam.live.display import MemoryDisplay
    from glutecam.live.session import LiveOptions, LiveSession
    from glutecam.pose import PoseEstimator
    from glutecam.sources import ReplaySource

    exercise = exercise or os.environ.get("BENCH_EXERCISE") or "split-squat"
    source = ReplaySource(clip, speed=speed)
    info = source.info
    fps = info.fps or 30.0
    max_time_s = (max_frames - 1) / fps if max_frames else None
    with tempfile.TemporaryDirectory(prefix="glutecam-live-bench-") as out, \
            PoseEstimator(model, max_people=max_people, census_in_background=True) as estimator:
        options = LiveOptions(exercise=exercise, setup=False, max_time_s=max_time_s, source_label=str(clip),
                              track_every_s=0)
        session = LiveSession(source, estimator, get_analyser(exercise), MemoryDisplay(keep=0), Path(out), options,
                              (info.width, info.height), fps)
        t0 = time.perf_counter()
        result = session.run()
        wall = time.perf_counter() - t0
    s = result.summary
    seen = s["frames_seen"]
    dropped = s["frames_dropped"] or 0  # replaced in the source, or passed over by the model for a fresher one
    stage = {f"{k}_ms": v for k, v in s["stage_ms"].items()}
    return {
        "exercise": exercise,
        "frames_offered": seen + dropped,
        "frames_processed": seen,
        "frames_dropped": dropped,
        "frames_passed_over": session.frames_passed_over,
        "processed_fps": round(seen / wall, 2) if wall > 0 else None,
        "latency_median_ms": s["latency_ms"]["median"],
        "latency_p95_ms": s["latency_ms"]["p95"],
        "latency_max_ms": s["latency_ms"]["max"],
        **stage,
        "reps": len(result.reps),
        "cues": len(result.cues),
    }
