"""Inference time of two pose models on the same frames, in one process, in alternating blocks.

    python benchmarks/compare_models.py CLIP MODEL_A MODEL_B [--frames 300] [--blocks 4] [--census 1]

The shared machine's speed drifts by half within minutes, so two bench runs one after the other can differ
more than the models do. Here each block runs one model on all `--frames` frames (decoded beforehand, RGB, as
pass 1 hands them over) through `PoseEstimator.process` (VIDEO mode, the census every `--census` s; 0: off),
after one warm-up frame, in the order A B B A A B ...; the ratio is taken per pair of blocks. Prints ms a
frame per block, the median ratio A/B, and each model's 10th/50th/90th percentile of per-frame time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def decoded(clip: Path, n: int) -> list:
    """The first `n` frames of `clip` in RGB, as pass 1 hands them over (`Frame`s, contiguous)."""
    from glutecam.pose import model_rgb
    from glutecam.sources import VideoFileSource

    frames = []
    for f in VideoFileSource(clip).frames(rgb=True):
        f.image = model_rgb(f.image, is_rgb=True)  # copied now, not inside the timing
        frames.append(f)
        if len(frames) >= n:
            break
    return frames


def block_ms(model: str, frames: list, census_s: float) -> np.ndarray:
    """Per-frame time of `PoseEstimator.process`, ms, for frames[1:] (frames[0] warms the model up)."""
    from glutecam.pose import PoseEstimator

    with PoseEstimator(model=model, census_every_s=census_s) as est:
        est.process(frames[0])
        times = []
        for f in frames[1:]:
            t = time.perf_counter()
            est.process(f)
            times.append(1000 * (time.perf_counter() - t))
    return np.array(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", type=Path)
    ap.add_argument("model_a")
    ap.add_argument("model_b")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--blocks", type=int, default=4, help="blocks per model")
    ap.add_argument("--census", type=float, default=1.0, help="seconds between censuses (0: none)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    frames = decoded(args.clip, args.frames)
    runs: dict[str, list[np.ndarray]] = {"a": [], "b": []}
    for k in range(args.blocks):
        for which in ("ab" if k % 2 == 0 else "ba"):
            model = args.model_a if which == "a" else args.model_b
            runs[which].append(block_ms(model, frames, args.census))
    mean = {w: [float(r.mean()) for r in rs] for w, rs in runs.items()}
    ratio = float(np.median(np.array(mean["a"]) / np.array(mean["b"])))
    result = {"clip": str(args.clip), "frames": len(frames), "census_s": args.census,
              "model_a": args.model_a, "model_b": args.model_b,
              "ms_per_frame_blocks": {w: [round(v, 2) for v in m] for w, m in mean.items()},
              "median_ratio_a_over_b": round(ratio, 3),
              "ms_p10_p50_p90": {w: np.percentile(np.concatenate(rs), [10, 50, 90]).round(2).tolist()
                                 for w, rs in runs.items()}}
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
