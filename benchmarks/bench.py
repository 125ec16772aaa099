"""glutecam benchmark: one clip, every stage, ratios to the inference-only floor.

    python benchmarks/bench.py [--clip VIDEO] [--frames N] [--repeat R] [--max-people P] [--json FILE]
    python benchmarks/bench.py --memory [--long-minutes 10]      # peak memory: 10 s clip vs 10 min clip
    python benchmarks/bench.py --batch                           # a folder with --jobs 1 vs --jobs 2

The clip is the first N frames of `--clip` (looped when shorter: `ffmpeg -stream_loop`), re-encoded once
to H.264 and cached, so every stage sees the same frames. Each stage runs in its own interpreter, so its
peak memory (VmHWM) and its imports are its own. Stages run in rounds (`--repeat`); each round measures the
floor and the pipelines back to back, the ratio to the floor is taken per round, and medians are reported:
ratios cancel most of the noise of a machine shared with other work, and medians drop the odd slow round.

Stages:
- decode: decoding alone (PyAV, BGR frames);
- floor: `PoseEstimator.process` on frames decoded beforehand (inference alone, after one warm-up frame),
  with glutecam's once-a-second census (a fresh detection that counts bystanders and checks the tracker) on
  the same thread, where `analyse` has its decoding process take it;
- model_only: the same without the census, the tracking model's own speed (`ratio_to_model_only`);
- bare_loop: the naive serial loop, decode then inference, nothing else;
- analyse / analyse_video: `analyse_video` without / with the annotated clip (model load, pass 1, analysis,
  every output file and the report: what a user waits for);
- per_frame_costs: drawing, encoding at the clip's size, metrics + analysers (offline and live) + feedback;
- live: the live pipeline on the replay source (latency from capture to the drawn cue).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = REPO.parent / "shared" / "samples" / "sports2d_demo.mp4"
CACHE = Path(tempfile.gettempdir()) / "glutecam-bench"


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """A process's peak resident memory (VmHWM), MB, this one's by default. Unlike getrusage's ru_maxrss it
    starts afresh at exec, so a child does not inherit the peak of the process that started it. Another
    process: None when it is gone or has exited (a zombie has no memory figures)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        text = ""
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    if pid != "self":
        return None
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover - not Linux


# ---------------------------------------------------------------- stages (each run in a child process)
def _frames(clip: str, n: int):
    from glutecam.sources import VideoFileSource

    out = []
    for f in VideoFileSource(clip):
        out.append(f)
        if len(out) >= n:
            break
    return out


def _opts() -> dict:
    return json.loads(os.environ.get("BENCH_OPTIONS") or "{}")


def stage_decode(clip: str, n: int, max_people: int) -> dict:
    from glutecam.sources import VideoFileSource

    t0 = time.perf_counter()
    k = 0
    for _ in VideoFileSource(clip):
        k += 1
        if k >= n:
            break
    return {"frames": k, "seconds": time.perf_counter() - t0}


def stage_floor(clip: str, n: int, max_people: int, census_every_s: float = 1.0) -> dict:
    """Inference alone on frames decoded beforehand (at most 300 held in memory; the rest are not timed), with
    the once-a-second census (a second landmarker's fresh detection) on the same thread."""
    from glutecam.pose import PoseEstimator

    frames = _frames(clip, min(n, 300))
    with PoseEstimator(_opts().get("model"), max_people=max_people, census_every_s=census_every_s) as est:
        est.process(frames[0])  # warm-up outside the timing
        t0 = time.perf_counter()
        for f in frames[1:]:
            est.process(f)
        dt = time.perf_counter() - t0
    return {"frames": len(frames) - 1, "seconds": dt}


def stage_model_only(clip: str, n: int, max_people: int) -> dict:
    """The floor without glutecam's census: the tracking model's own speed."""
    return stage_floor(clip, n, max_people, census_every_s=0.0)


def stage_bare_loop(clip: str, n: int, max_people: int) -> dict:
    """The naive serial loop: decode a frame, run the model, repeat."""
    from glutecam.pose import PoseEstimator
    from glutecam.sources import VideoFileSource

    with PoseEstimator(_opts().get("model"), max_people=max_people) as est:
        t0 = time.perf_counter()
        k = 0
        for f in VideoFileSource(clip, threads=False):
            est.process(f)
            k += 1
            if k >= n:
                break
        dt = time.perf_counter() - t0
    return {"frames": k, "seconds": dt}


class ChildPeaks:
    """The peak resident memory (VmHWM) of each process this one starts, read from /proc every `every_s`
    while they run (a high-water mark, so a sample after the peak sees it).

    Not getrusage(RUSAGE_CHILDREN): a child forked then exec'd keeps, in ru_maxrss, the resident size of the
    parent at the fork, so a decoding process started after a long analysis "peaked" at the parent's size.
    """

    def __init__(self, every_s: float = 0.25) -> None:
        import threading

        self.peaks_mb: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)
        self._thread.start()

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            for pid in self._descendants(os.getpid()):
                peak = peak_rss_mb(pid)
                if peak is not None:  # not gone meanwhile
                    self.peaks_mb[pid] = max(self.peaks_mb.get(pid, 0.0), peak)

    @staticmethod
    def _descendants(pid: int) -> list[int]:
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            kids = []
            for task in Path(f"/proc/{p}/task").glob("*"):  # a child belongs to the thread that started it
                try:
                    kids += [int(k) for k in (task / "children").read_text().split()]
                except OSError:  # gone meanwhile
                    pass
            out += kids
            todo += kids
        return out

    def stop(self) -> dict[str, float | None]:
        """Stop sampling: the largest child's peak and the sum of every child's (an upper bound of what they
        held at once), MB; None if no child was seen."""
        self._stop.set()
        self._thread.join()
        return {"child_peak_rss_mb": max(self.peaks_mb.values(), default=None),
                "children_peak_sum_mb": sum(self.peaks_mb.values()) if self.peaks_mb else None}


def _analyse(clip: str, n: int, max_people: int, video: bool) -> dict:
    from glutecam.analyse import AnalyseOptions, analyse_video

    o = _opts()
    children = ChildPeaks()
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        res = analyse_video(clip, out, AnalyseOptions(video=video, max_people=max_people, exercise=o.get("exercise"),
                                                      stride=o.get("stride", 1), model=o.get("model")))
        dt = time.perf_counter() - t0
        size = (Path(out) / "annotated.mp4").stat().st_size if video else 0
    r = {"frames": len(res.track), "seconds": dt, "timings_s": res.timings_s,
         "reps": len(res.analysis.set.reps) if res.analysis is not None else None,
         # the decoding process (which holds the census model), the clip's, a second decoding for the clip
         **children.stop()}
    if video:
        r["clip_kB"] = size // 1000
        r["replay"] = res.summary.get("replay")
    return r


def stage_analyse(clip, n, max_people):
    return _analyse(clip, n, max_people, video=False)


def stage_analyse_video(clip, n, max_people):
    return _analyse(clip, n, max_people, video=True)


def stage_per_frame_costs(clip: str, n: int, max_people: int) -> dict:
    """Drawing, encoding, and metrics+analysers+feedback per frame, each timed alone."""
    from glutecam.analyse import CLIP_CRF, CLIP_X264, ScaledAnnotator
    from glutecam.annotate import Annotator, Overlay
    from glutecam.clip_worker import gop_frames
    from glutecam.pose import PoseEstimator
    from glutecam.track import PoseTrack
    from glutecam.video_out import H264Writer, capped_size_wh

    frames = _frames(clip, min(n, 150))
    src_wh = (frames[0].image.shape[1], frames[0].image.shape[0])
    size_wh = capped_size_wh(src_wh, 1280)
    with PoseEstimator(_opts().get("model"), max_people=max_people) as est:
        poses = [est.process(f) for f in frames]
    track = PoseTrack.from_frames(poses, src_wh, 30.0)
    ann = ScaledAnnotator(Annotator(), src_wh, size_wh)
    scaled = [ann._scale(f.image) for f in frames]
    t0 = time.perf_counter()
    for f in frames:
        ann._scale(f.image)
    scale = (time.perf_counter() - t0) / len(frames)
    scenes = [img.copy() for img in scaled]  # copied before timing: a fresh 2.7 MB array costs page faults
    t0 = time.perf_counter()
    drawn = [ann.annotate(img, p.image_px, p.visibility,
                          Overlay(f.time_s, 1.0, ["pelvic drop +4.0 deg"], 1, ["pelvic drop 9 (limit 6)"]))
             for f, p, img in zip(frames, poses, scenes)]
    draw = (time.perf_counter() - t0) / len(frames)
    out = {"clip_size_wh": list(size_wh), "scale_ms": scale * 1e3, "draw_ms": draw * 1e3}
    # the presets as they are (libx264's threads: as many as it likes), then the clip's own settings on one
    # thread, as the clip process encodes during the pose pass (`encode_clip_ms`)
    clip_settings = {"crf": CLIP_CRF, "keyint": gop_frames(30.0), "x264": CLIP_X264, "threads": 1}
    with tempfile.TemporaryDirectory() as d:
        for name, preset, settings in (("superfast", "superfast", {}), ("veryfast", "veryfast", {}),
                                       ("clip", "superfast", clip_settings)):
            w = H264Writer(Path(d) / "x.mp4", 30.0, size_wh, preset=preset, **settings)
            t0 = time.perf_counter()
            for f, img in zip(frames, drawn):
                w.write(img, f.time_s)
            w.close()
            out[f"encode_{name}_ms"] = (time.perf_counter() - t0) / len(frames) * 1e3
    from glutecam.analysers import get_analyser
    from glutecam.feedback import FeedbackEngine

    analyser = get_analyser(_opts().get("exercise") or "split-squat")
    analyser.analyse(track)  # first call pays one-off set-up (filter design)
    t0 = time.perf_counter()
    analyser.analyse(track)
    out["analysers_offline_ms"] = (time.perf_counter() - t0) / len(track) * 1e3
    # live: a fresh analyser per run, median of 5 runs; CPU time too, as the machine may be shared
    wall, cpu = [], []
    for _ in range(5):
        live = analyser.live(fps=30.0)
        t0, c0 = time.perf_counter(), time.process_time()
        states = [live.update(p) for p in poses]
        wall.append((time.perf_counter() - t0) / len(poses) * 1e3)
        cpu.append((time.process_time() - c0) / len(poses) * 1e3)
    out["analysers_live_ms"] = statistics.median(wall)
    out["analysers_live_cpu_ms"] = statistics.median(cpu)
    fb = FeedbackEngine()
    t0 = time.perf_counter()
    for s in states:
        fb.update(s)
    out["feedback_ms"] = (time.perf_counter() - t0) / len(states) * 1e3
    out["metrics_analysers_feedback_ms"] = out["analysers_live_ms"] + out["feedback_ms"]
    return out


def stage_live(clip: str, n: int, max_people: int) -> dict:
    """The live pipeline on the replay source, window replaced by an in-memory sink."""
    from glutecam.live.bench import run_replay_benchmark  # provided by the live package

    o = _opts()  # --model and --exercise, as the other stages take them
    return run_replay_benchmark(clip, max_frames=n, max_people=max_people, exercise=o.get("exercise"),
                                model=o.get("model"))


STAGES = {
    "decode": stage_decode,
    "floor": stage_floor,
    "model_only": stage_model_only,
    "bare_loop": stage_bare_loop,
    "analyse": stage_analyse,
    "analyse_video": stage_analyse_video,
    "per_frame_costs": stage_per_frame_costs,
    "live": stage_live,
}
ROUND_STAGES = ("floor", "model_only", "bare_loop", "analyse", "analyse_video")  # repeated each round
ONCE_STAGES = ("decode", "per_frame_costs", "live")


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def prepared_clip(clip: str, n: int, size: str | None = None) -> str:
    """The first `n` frames of `clip`, looped when it is shorter, H.264, cached by name. `size`: "W:H"."""
    CACHE.mkdir(exist_ok=True)
    tag = f"_{size.replace(':', 'x')}" if size else ""
    target = CACHE / f"{Path(clip).stem}_{n}{tag}.mp4"
    if not target.exists() and n > 600:  # long: loop a short encoded piece without re-encoding (seconds)
        base = prepared_clip(clip, 300, size)
        tmp = target.with_name(target.stem + ".part.mp4")
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-stream_loop", str(-(-n // 300) - 1), "-i", base,
                        "-frames:v", str(n), "-c", "copy", str(tmp)], check=True)
        tmp.replace(target)
    if not target.exists():
        tmp = target.with_name(target.stem + ".part.mp4")
        cmd = [ffmpeg(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(clip), "-frames:v", str(n), "-an",
               "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
        if size:
            cmd += ["-vf", f"scale={size}"]
        subprocess.run(cmd + [str(tmp)], check=True)
        tmp.replace(target)
    return str(target)


# ---------------------------------------------------------------- driver
def run_child(stage: str, clip: str, n: int, max_people: int, options: dict | None = None) -> dict:
    """Run one stage in a fresh interpreter; returns its result plus the child's peak RSS."""
    code = (f"import json,sys; sys.path.insert(0,{str(REPO)!r}); from benchmarks.bench import STAGES, peak_rss_mb; "
            f"r=STAGES[{stage!r}]({clip!r},{n},{max_people}); r['peak_rss_mb']=peak_rss_mb(); "
            "print('BENCH'+json.dumps(r))")
    env = {**os.environ, "BENCH_OPTIONS": json.dumps(options or {})}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("BENCH")), None)
    if proc.returncode != 0 or line is None:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    r = json.loads(line[5:])
    if r.get("frames") and r.get("seconds"):
        r["fps"] = r["frames"] / r["seconds"]
        r["ms_per_frame"] = 1e3 * r["seconds"] / r["frames"]
    return r


def _fmt(r: dict) -> str:
    return ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()
                     if not isinstance(v, (dict, list)))


def _median_of(rounds: list[dict], key: str) -> float | None:
    vals = [r[key] for r in rounds if isinstance(r.get(key), (int, float))]
    return statistics.median(vals) if vals else None


def load_avg() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:  # pragma: no cover
        return None


def bench_pipeline(args, options: dict) -> dict:
    clip = prepared_clip(args.clip, args.frames, args.size)
    stages = [s for s in args.stages.split(",") if s]
    results: dict = {"rounds": [], "once": {}}
    for rnd in range(args.repeat):
        row = {"load_avg_1min": load_avg()}
        for stage in [s for s in ROUND_STAGES if s in stages]:
            row[stage] = run_child(stage, clip, args.frames, args.max_people, options)
            print(f"round {rnd + 1} {stage:>14}: {_fmt(row[stage])}", flush=True)
        floor = row.get("floor", {}).get("fps")
        if floor:
            row["ratios"] = {s: row[s]["fps"] / floor for s in ROUND_STAGES if s in row and row[s].get("fps")}
            row["ratios_pass1"] = {s: (row[s]["frames"] / row[s]["timings_s"]["pass1_s"]) / floor
                                   for s in ("analyse", "analyse_video") if s in row and "timings_s" in row[s]}
            # the pose pass once the model is loaded: does decoding overlap inference?
            row["ratios_stream"] = {
                s: (row[s]["frames"] / (row[s]["timings_s"]["pass1_s"] - row[s]["timings_s"]["model_load_s"])) / floor
                for s in ("analyse", "analyse_video") if s in row and "model_load_s" in row[s].get("timings_s", {})}
            model = row.get("model_only", {}).get("fps")
            if model:  # against the model alone, census off
                row["ratios_model_only"] = {s: row[s]["fps"] / model for s in ROUND_STAGES
                                            if s in row and row[s].get("fps")}
            print(f"round {rnd + 1} ratios: " + ", ".join(f"{k}={v:.2f}" for k, v in row["ratios"].items()),
                  flush=True)
        results["rounds"].append(row)
    for stage in [s for s in ONCE_STAGES if s in stages]:
        results["once"][stage] = run_child(stage, clip, args.frames, args.max_people, options)
        print(f"{stage:>16}: {_fmt(results['once'][stage])}", flush=True)
    rounds = results["rounds"]
    med: dict = {}
    for s in ROUND_STAGES:
        rs = [r[s] for r in rounds if s in r and "fps" in r[s]]
        if rs:
            med[s] = {"fps": _median_of(rs, "fps"), "ms_per_frame": _median_of(rs, "ms_per_frame"),
                      "peak_rss_mb": _median_of(rs, "peak_rss_mb"),
                      "ratio_to_floor": _median_of([r["ratios"] for r in rounds if "ratios" in r], s),
                      "ratio_to_model_only": _median_of([r["ratios_model_only"] for r in rounds
                                                         if "ratios_model_only" in r], s)}
            if "timings_s" in rs[0]:
                for k in ("pass1_s", "pose_s", "pass2_s"):
                    v = _median_of([r["timings_s"] for r in rs], k)
                    if v is not None:
                        med[s][k.replace("_s", "_ms_per_frame")] = 1e3 * v / rs[0]["frames"]
                for k in ("model_load_s", "analysis_s", "report_s"):  # fixed costs, in seconds
                    med[s][k] = _median_of([r["timings_s"] for r in rs], k)
                for k in ("clip_frames_early", "clip_frames_redrawn", "clip_frames_raw"):  # during pass 1; again; on raw copies
                    med[s][k] = _median_of([r["timings_s"] for r in rs], k)
                med[s]["pass1_ratio_to_floor"] = _median_of([r["ratios_pass1"] for r in rounds], s)
                med[s]["stream_ratio_to_floor"] = _median_of([r["ratios_stream"] for r in rounds], s)
    results["median"] = med
    print("medians over", len(rounds), "rounds:")
    for s, m in med.items():
        print(f"  {s:>14}: " + ", ".join(f"{k}={v:.2f}" for k, v in m.items() if v is not None))
    return results


def bench_memory(args, options: dict) -> dict:
    """Peak RSS of `analyse` on a 10 s and a long 1080p clip looped from the same sample."""
    out = {}
    fps = 30
    for label, n in (("short_10s", 10 * fps), (f"long_{args.long_minutes:g}min", int(args.long_minutes * 60 * fps))):
        clip = prepared_clip(args.clip, n, size="1920:1080")
        for stage in args.memory_stages.split(","):
            r = run_child(stage, clip, n, args.max_people, options)
            out[f"{label}_{stage}"] = r
            print(f"{label} {stage}: {_fmt(r)}", flush=True)
    for stage in args.memory_stages.split(","):
        a = out.get(f"short_10s_{stage}", {}).get("peak_rss_mb")
        b = out.get(f"long_{args.long_minutes:g}min_{stage}", {}).get("peak_rss_mb")
        if a and b:
            out[f"ratio_{stage}"] = b / a
            print(f"peak RSS long / short ({stage}): {b / a:.3f}")
    return out


def bench_batch(args, options: dict) -> dict:
    """`glutecam analyse FOLDER --jobs 1` vs `--jobs 2` on a folder of 4 copies of the benchmark clip."""
    clip = prepared_clip(args.clip, args.batch_frames)
    folder = CACHE / f"batch_{args.batch_frames}"
    folder.mkdir(exist_ok=True)
    for i in range(4):
        p = folder / f"clip{i}.mp4"
        if not p.exists():
            p.symlink_to(clip)
    out: dict = {}
    for rnd in range(args.repeat):
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory() as d:
                cmd = [sys.executable, "-m", "glutecam", "analyse", str(folder), "--exercise",
                       options.get("exercise") or "split-squat", "--jobs", str(jobs), "--out", d,
                       "--max-people", str(args.max_people), "--db", str(Path(d) / "h.sqlite")]
                if not options.get("video", True):
                    cmd.append("--no-video")
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True)
                dt = time.perf_counter() - t0
            out.setdefault(f"jobs{jobs}_s", []).append(dt)
            print(f"round {rnd + 1} --jobs {jobs}: {dt:.1f} s (exit {proc.returncode})", flush=True)
    j1, j2 = statistics.median(out["jobs1_s"]), statistics.median(out["jobs2_s"])
    out["speedup_jobs2_over_jobs1"] = j1 / j2
    print(f"--jobs 2 is {j1 / j2:.2f}x as fast as --jobs 1 (median of {args.repeat})")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", default=str(DEFAULT_CLIP))
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--size", default=None, help="W:H: scale the clip (e.g. a 640x480 render to 1920:1080)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-people", type=int, default=1, help="as analyse --max-people (default 1)")
    ap.add_argument("--exercise", default="split-squat")
    ap.add_argument("--stride", type=int, default=1)
    ap.add_argument("--model", default=None, help="model name or path (default: full)")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--memory", action="store_true", help="peak memory, 10 s vs --long-minutes clip")
    ap.add_argument("--long-minutes", type=float, default=10.0)
    ap.add_argument("--memory-stages", default="analyse")
    ap.add_argument("--batch", action="store_true", help="--jobs 1 vs --jobs 2 on 4 clips")
    ap.add_argument("--batch-frames", type=int, default=300)
    ap.add_argument("--no-video", action="store_true", help="batch: without the annotated clip")
    ap.add_argument("--json", default=str(REPO / "benchmarks" / "results.json"))
    args = ap.parse_args()
    os.environ.setdefault("GLUTECAM_MODEL_DIR", str(REPO.parent / "shared" / "models"))
    options = {"exercise": args.exercise, "stride": args.stride, "model": args.model, "video": not args.no_video}
    results: dict = {"clip": args.clip, "size": args.size, "frames": args.frames, "max_people": args.max_people, "options": options,
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_avg_1min_start": load_avg()}
    if args.memory:
        results["memory"] = bench_memory(args, options)
    elif args.batch:
        results["batch"] = bench_batch(args, options)
    else:
        results.update(bench_pipeline(args, options))
    results["load_avg_1min_end"] = load_avg()
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2))
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
