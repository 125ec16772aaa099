"""Score glutecam against rendered ground truth: `python benchmarks/validate.py DIR [--tracks-cache DIR] [--json OUT]`.

DIR holds `NAME.mp4` + `NAME.json` pairs (the format of `shared/synth_dev/README.md`). The pose model runs once
per clip (`--tracks-cache` keeps the tracks as `NAME.npz` for the next run). The table has one row per
exercise and camera view: pelvic-drop MAE on frames whose true drop/hike is >= 3 deg, the slope of measured on
true (with intercept) and its gain (through the origin), the bias, the share of those frames measured at all, the 95th percentile of the reading on clean frames,
rep-count accuracy and per-fault precision/recall. See docs/accuracy.md.

    --measurer auto        the analysers when importable, else the estimator (default)
    --measurer analysers-gated   the analysers with pelvis_estimate.estimate_pelvis_gated as pelvis estimator
    --measurer estimator   glutecam.metrics.pelvis_estimate with its committed calibrations
    --measurer naive       the same estimator with no calibration (the baseline-relative hip line)
    --loco                 the estimator, each clip scored with a calibration fitted on the OTHER clips of its
                           exercise and view (leave-one-clip-out); also prints the fit on all clips
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
if "GLUTECAM_MODEL_DIR" not in os.environ and (REPO.parent / "shared" / "models").is_dir():
    os.environ["GLUTECAM_MODEL_DIR"] = str(REPO.parent / "shared" / "models")

from glutecam import validation as V  # noqa: E402
from glutecam.files import write_json_atomic  # noqa: E402


def load_or_run_track(gt: V.GroundTruth, cache: Path | None, log=print, max_people: int = 1, stride: int = 1,
                      model: str | None = None):
    """The clip's pose track: from `cache/NAME.npz` if present, else MediaPipe (and saved to the cache).
    `max_people`, `stride` and `model` are those of `glutecam analyse` (use one cache folder per setting)."""
    from glutecam.track import PoseTrack

    if cache is not None:
        path = cache / f"{gt.name}.npz"
        if path.is_file():
            return PoseTrack.load(path)
    from glutecam.pose import PoseEstimator
    from glutecam.sources import VideoFileSource

    t0 = time.perf_counter()
    src = VideoFileSource(gt.video, stride=stride)
    with PoseEstimator(model, max_people=max_people) as pe:
        poses = [pe.process(f) for f in src]
        name = pe.model.name
    track = PoseTrack.from_frames(poses, (src.info.width, src.info.height), src.info.fps,
                                  source=str(gt.video), model=name)
    log(f"  pose: {gt.name} ({len(track)} frames, {time.perf_counter() - t0:.1f} s)")
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        track.save(cache / f"{gt.name}.npz")
    return track


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--tracks-cache", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="write the rows (and per-clip scores) here")
    ap.add_argument("--measurer", choices=("auto", "analysers", "analysers-gated", "estimator", "naive"),
                    default="auto")
    ap.add_argument("--loco", action="store_true", help="leave-one-clip-out calibration of the estimator")
    ap.add_argument("--only", nargs="*", default=None, help="clip names to score (default: all)")
    ap.add_argument("--max-people", type=int, default=1, help="as `glutecam analyse --max-people` (default 1)")
    ap.add_argument("--stride", type=int, default=1, help="as `glutecam analyse --stride`: every n-th frame")
    ap.add_argument("--model", default=None, help="as `glutecam analyse --model` (default: full)")
    ap.add_argument("--per-rep", action="store_true",
                    help="also the drop (side-lying: hike) each kind of rep held, and faults the truth lacks")
    args = ap.parse_args(argv)

    clips = V.find_clips(args.dir)
    if args.only:
        clips = [c for c in clips if c.name in set(args.only)]
    if not clips:
        print(f"{args.dir}: no NAME.mp4 + NAME.json pairs", file=sys.stderr)
        return 2
    tracks = {gt.name: load_or_run_track(gt, args.tracks_cache, max_people=args.max_people, stride=args.stride,
                                         model=args.model) for gt in clips}

    from glutecam.metrics.pelvis_estimate import IDENTITY, calibration_for, coarse_view

    out: dict = {"dir": str(args.dir), "clips": [c.name for c in clips]}
    if args.loco:
        samples = {gt.name: V.fit_sample(tracks[gt.name], gt) for gt in clips}
        key = {gt.name: (gt.exercise, coarse_view(gt.view)) for gt in clips}
        print("calibration fitted on all clips of each exercise and view:")
        fits = {}
        for k in sorted(set(key.values())):
            members = [samples[n] for n in samples if key[n] == k]
            cal = V.fit_calibration(members, base=calibration_for(*k))
            fits[k] = cal
            print(f"  {k[0]:22s} {k[1]:6s} gain {cal.gain:.2f} thigh_lift {cal.thigh_lift:.2f}  on {list(cal.fitted_on)}")
        out["fit_all"] = {f"{k[0]}/{k[1]}": {"gain": c.gain, "thigh_lift": c.thigh_lift, "fitted_on": c.fitted_on}
                          for k, c in fits.items()}
        scores, loco = [], {}
        for gt in clips:
            train = [samples[n] for n in samples if key[n] == key[gt.name] and n != gt.name]
            cal = V.fit_calibration(train, base=calibration_for(*key[gt.name])) if train else calibration_for(
                *key[gt.name])
            loco[gt.name] = {"gain": cal.gain, "thigh_lift": cal.thigh_lift, "fitted_on": list(cal.fitted_on)}
            m = V.estimator_measurer(tracks[gt.name], gt, calibration=cal)
            scores.append(V.score_clip(gt, m))
        print("\nleave-one-clip-out calibrations:")
        for n, c in loco.items():
            print(f"  {n:24s} gain {c['gain']:.2f} thigh_lift {c['thigh_lift']:.2f}  fitted on {c['fitted_on'] or '-'}")
        out["loco"] = loco
        title = "estimator, leave-one-clip-out calibration"
    else:
        if args.measurer == "auto":
            measure = V.default_measurer()
        elif args.measurer == "analysers":
            measure = V.analyser_measurer
        elif args.measurer == "analysers-gated":
            from glutecam.metrics.pelvis_estimate import estimate_pelvis_gated

            measure = functools.partial(V.analyser_measurer, pelvis_estimator=estimate_pelvis_gated)
        elif args.measurer == "naive":
            measure = functools.partial(V.estimator_measurer, calibration=IDENTITY)
        else:
            measure = V.estimator_measurer
        measured = {gt.name: measure(tracks[gt.name], gt) for gt in clips}
        scores = [V.score_clip(gt, measured[gt.name]) for gt in clips]
        title = f"{scores[0].source if scores else ''} ({args.measurer})"
        notes = {n: m.notes for n, m in measured.items() if m.notes and m.source == "analysers"}
        for n, said in notes.items():
            print(f"  note: {n}: {'; '.join(said)}")
        out["notes"] = notes

    rows = V.summarise(scores)
    print(f"\n{title}: {len(clips)} clips from {args.dir}\n")
    print(V.format_table(rows))
    if args.per_rep:
        print("\n" + V.format_rep_readings(scores))
    out["title"] = title
    out["rows"] = [r.as_dict() for r in rows]
    out["per_clip"] = [r.as_dict() for r in V.summarise_per_clip(scores)]
    if args.json:
        write_json_atomic(args.json, out)  # NaN as null, tuples as lists; no half-written file
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
