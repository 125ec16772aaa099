"""glutecam benchmark: one clip, every stage, ratios to the inference-only floor.

    python benchmarks/bench.py [--clip VIDEO] [--frames N] [--json benchmarks/results.json] [--long]

Each configuration runs in its own subprocess so that its peak memory (max RSS) is its own. Ratios to the
floor (inference alone on pre-decoded frames) cancel most machine noise; run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO.parent / "shared" / "samples" / "sports2d_demo.mp4"


# ---------------------------------------------------------------- stages (each run in a child process)
def _frames(clip: str, n: int):
    from glutecam.sources import VideoFileSource

    out = []
    for f in VideoFileSource(clip):
        out.append(f)
        if len(out) >= n:
            break
    return out


def stage_decode(clip: str, n: int, max_people: int) -> dict:
    from glutecam.sources import VideoFileSource

    t0 = time.perf_counter()
    k = 0
    for _ in VideoFileSource(clip):
        k += 1
        if k >= n:
            break
    return {"frames": k, "seconds": time.perf_counter() - t0}


def stage_floor(clip: str, n: int, max_people: int) -> dict:
    """Inference alone on frames decoded beforehand."""
    from glutecam.pose import PoseEstimator

    frames = _frames(clip, n)
    with PoseEstimator(max_people=max_people) as est:
        est.process(frames[0])  # warm-up outside the timing
        t0 = time.perf_counter()
        for f in frames[1:]:
            est.process(f)
        dt = time.perf_counter() - t0
    return {"frames": len(frames) - 1, "seconds": dt}


def stage_bare_loop(clip: str, n: int, max_people: int) -> dict:
    """The naive serial loop: decode a frame, run the model, repeat."""
    from glutecam.pose import PoseEstimator
    from glutecam.sources import VideoFileSource

    with PoseEstimator(max_people=max_people) as est:
        t0 = time.perf_counter()
        k = 0
        for f in VideoFileSource(clip, threads=False):
            est.process(f)
            k += 1
            if k >= n:
                break
        dt = time.perf_counter() - t0
    return {"frames": k, "seconds": dt}


def _analyse(clip: str, n: int, max_people: int, video: bool, exercise: str | None) -> dict:
    from glutecam.analyse import AnalyseOptions, analyse_video

    clip = _trimmed(clip, n)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        res = analyse_video(clip, out, AnalyseOptions(video=video, max_people=max_people, exercise=exercise))
        dt = time.perf_counter() - t0
    return {"frames": len(res.track), "seconds": dt, "timings_s": res.timings_s}


def stage_analyse(clip, n, max_people):
    return _analyse(clip, n, max_people, video=False, exercise=os.environ.get("BENCH_EXERCISE"))


def stage_analyse_video(clip, n, max_people):
    return _analyse(clip, n, max_people, video=True, exercise=os.environ.get("BENCH_EXERCISE"))


def stage_per_frame_costs(clip: str, n: int, max_people: int) -> dict:
    """Drawing, encoding, and metrics+analysers+feedback per frame, each timed alone."""
    import numpy as np

    from glutecam.annotate import Annotator, Overlay
    from glutecam.pose import PoseEstimator
    from glutecam.track import PoseTrack
    from glutecam.video_out import H264Writer

    frames = _frames(clip, min(n, 120))
    with PoseEstimator(max_people=max_people) as est:
        poses = [est.process(f) for f in frames]
    track = PoseTrack.from_frames(poses, (frames[0].image.shape[1], frames[0].image.shape[0]), 30.0)
    ann = Annotator()
    t0 = time.perf_counter()
    drawn = [ann.annotate(f.image.copy(), p.image_px, p.visibility, Overlay(f.time_s, 1.0, ["x"], 1, ["f"]))
             for f, p in zip(frames, poses)]
    draw = (time.perf_counter() - t0) / len(frames)
    with tempfile.TemporaryDirectory() as d:
        w = H264Writer(Path(d) / "x.mp4", 30.0, (frames[0].image.shape[1], frames[0].image.shape[0]))
        t0 = time.perf_counter()
        for f, img in zip(frames, drawn):
            w.write(img, f.time_s)
        w.close()
        encode = (time.perf_counter() - t0) / len(frames)
    out = {"draw_ms": draw * 1e3, "encode_ms": encode * 1e3}
    try:
        from glutecam.analysers import get_analyser

        analyser = get_analyser(os.environ.get("BENCH_EXERCISE") or "split-squat")
        t0 = time.perf_counter()
        analyser.analyse(track)
        out["analysers_offline_ms"] = (time.perf_counter() - t0) / len(track) * 1e3
        live = analyser.live(fps=30.0)
        t0 = time.perf_counter()
        states = [live.update(p) for p in poses]
        out["analysers_live_ms"] = (time.perf_counter() - t0) / len(poses) * 1e3
        try:
            from glutecam.feedback import FeedbackEngine

            fb = FeedbackEngine()
            t0 = time.perf_counter()
            for s in states:
                fb.update(s)
            out["feedback_ms"] = (time.perf_counter() - t0) / len(states) * 1e3
        except ImportError:
            pass
    except ImportError:
        pass
    return out


def stage_live(clip: str, n: int, max_people: int) -> dict:
    """The live pipeline on the replay source, window replaced by an in-memory sink."""
    from glutecam.live.bench import run_replay_benchmark  # provided by the live package

    return run_replay_benchmark(clip, max_frames=n, max_people=max_people)


STAGES = {
    "decode": stage_decode,
    "floor": stage_floor,
    "bare_loop": stage_bare_loop,
    "analyse": stage_analyse,
    "analyse_video": stage_analyse_video,
    "per_frame_costs": stage_per_frame_costs,
    "live": stage_live,
}


def _trimmed(clip: str, n: int) -> str:
    """The first n frames of a clip, re-encoded once and cached, so every stage sees the same frames."""
    cache = Path(tempfile.gettempdir()) / "glutecam-bench"
    cache.mkdir(exist_ok=True)
    target = cache / f"{Path(clip).stem}_{n}.mp4"
    if not target.exists():
        from glutecam.video_out import H264Writer

        frames = _frames(clip, n)
        with H264Writer(target, 30.0, (frames[0].image.shape[1], frames[0].image.shape[0]), crf=18) as w:
            for f in frames:
                w.write(f.image, f.time_s)
    return str(target)


# ---------------------------------------------------------------- driver
def run_child(stage: str, clip: str, n: int, max_people: int, env_extra: dict | None = None) -> dict:
    """Run one stage in a fresh interpreter; returns its result plus the child's peak RSS."""
    code = (f"import json,sys,resource; sys.path.insert(0,{str(REPO)!r}); from benchmarks.bench import STAGES; "
            f"r=STAGES[{stage!r}]({clip!r},{n},{max_people}); "
            "r['peak_rss_mb']=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024; "
            "print('BENCH'+json.dumps(r))")
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    out, err = proc.communicate()
    line = next((l for l in out.splitlines() if l.startswith("BENCH")), None)
    if proc.returncode != 0 or line is None:
        return {"error": (err.strip().splitlines() or ["failed"])[-1]}
    return json.loads(line[5:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", default=str(DEFAULT_CLIP))
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--max-people", type=int, default=2)
    ap.add_argument("--exercise", default="split-squat")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--json", default=str(REPO / "benchmarks" / "results.json"))
    args = ap.parse_args()
    os.environ.setdefault("GLUTECAM_MODEL_DIR", str(REPO.parent / "shared" / "models"))
    os.environ["BENCH_EXERCISE"] = args.exercise
    clip = _trimmed(args.clip, args.frames)
    results: dict = {"clip": args.clip, "frames": args.frames, "max_people": args.max_people,
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()}, "stages": {}}
    for stage in args.stages.split(","):
        r = run_child(stage, clip, args.frames, args.max_people)
        if "frames" in r and r.get("seconds"):
            r["fps"] = r["frames"] / r["seconds"]
            r["ms_per_frame"] = 1e3 * r["seconds"] / r["frames"]
        results["stages"][stage] = r
        print(f"{stage:>16}: " + ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                           for k, v in r.items() if not isinstance(v, dict)), flush=True)
    floor = results["stages"].get("floor", {}).get("fps")
    if floor:
        results["ratios_to_floor"] = {s: r["fps"] / floor for s, r in results["stages"].items() if r.get("fps")}
        print("ratios to the inference-only floor:")
        for s, v in results["ratios_to_floor"].items():
            print(f"  {s:>14}: {v:.2f}")
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
