"""How early is each frame's overlay final? `python benchmarks/overlay_finality.py RUN_DIR [...] [--lags 1,2,4]`.

The annotated clip shows the analysis of the whole track, so it is drawn after the pose pass (see
benchmarks/README.md). Drawing it *during* the pose pass would need each frame's overlay (pelvic-drop text,
rep number, fault labels) to be final some seconds after the frame. This measures that: for every second T
of a run (`glutecam analyse` output folder: `track.npz`, `summary.json` with its exercise), the analysis of
the first T seconds is compared with the whole run's on every frame older than T - lag; printed is the share
of those frames whose overlay is already the final one, per lag (seconds).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from glutecam.analyse import frame_overlays  # noqa: E402
from glutecam.analysers import get_analyser  # noqa: E402
from glutecam.track import PoseTrack  # noqa: E402

PER_FRAME = ("time_s", "frame_index", "image_px", "visibility", "presence", "world_m", "n_people")


def first_frames(track: PoseTrack, n: int) -> PoseTrack:
    """The track's first `n` frames."""
    return dataclasses.replace(track, **{k: getattr(track, k)[:n] for k in PER_FRAME})


def overlay_keys(track: PoseTrack, analyser) -> list[tuple]:
    """What the clip shows besides the skeleton, per frame."""
    return [(tuple(o.lines), o.rep, tuple(o.faults)) for o in frame_overlays(track, analyser.analyse(track))]


def final_share(track: PoseTrack, exercise: str, lag_s: float) -> float:
    """Share of (prefix, frame older than prefix end - lag) pairs whose overlay equals the whole run's."""
    analyser = get_analyser(exercise)
    final = overlay_keys(track, analyser)
    fps, lag = track.fps or 30.0, int(round(lag_s * (track.fps or 30.0)))
    same = total = 0
    for n in range(int(2 * fps), len(track), int(fps)):
        early = overlay_keys(first_frames(track, n), analyser)
        settled = n - lag
        same += sum(early[i] == final[i] for i in range(max(0, settled)))
        total += max(0, settled)
    return same / total if total else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path, help="output folders of `glutecam analyse --exercise ...`")
    ap.add_argument("--lags", default="1,2,4", help="seconds, comma-separated")
    args = ap.parse_args(argv)
    lags = [float(v) for v in args.lags.split(",")]
    print("| run | exercise | frames | " + " | ".join(f"final after {v:g} s" for v in lags) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in lags) + " |")
    for run in args.runs:
        exercise = json.loads((run / "summary.json").read_text())["exercise"]
        track = PoseTrack.load(run / "track.npz")
        shares = [final_share(track, exercise, v) for v in lags]
        print(f"| {run.name} | {exercise} | {len(track)} | " + " | ".join(f"{s:.3f}" for s in shares) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
