"""Bundle the BlazePose `lite` and `heavy` landmark models as MediaPipe Tasks `.task` files, offline.

On a user's machine `glutecam models download lite` fetches the official bundle. This workplace has no
internet, only package registries, and `../shared/models` holds `full` only. The npm package
`@mediapipe/pose` (Apache-2.0) ships the three landmark networks (`pose_landmark_{lite,full,heavy}.tflite`;
its `full` is byte for byte the one in the `mediapipe==0.10.21` wheel that `../shared/models` was rebuilt
from). This script gives each the image-input metadata the Tasks API needs (RGB, values scaled to [0, 1]) with
MediaPipe's own metadata writer, as `../shared/models/PROVENANCE.md` describes, and bundles it with the pose
detector taken from the `full` bundle (one detector serves all three).

Check of the method: the `full` bundle made this way gives the same landmarks as `../shared/models`'s, to
0.0 px on `bss_front_drop8_r23` (median over 300 frames).

MediaPipe's current wheels no longer ship the metadata writer's C++ part, so run this in a separate venv:

    python -m venv /tmp/mp0_10 && /tmp/mp0_10/bin/pip install mediapipe==0.10.21 'numpy<2'
    npm pack @mediapipe/pose && tar xzf mediapipe-pose-*.tgz      # -> package/pose_landmark_*.tflite
    /tmp/mp0_10/bin/python benchmarks/bundle_npm_models.py package ../shared/models/pose_landmarker_full.task \
        /tmp/models                                                 # -> /tmp/models/pose_landmarker_lite.task ...
    GLUTECAM_MODEL_DIR=/tmp/models glutecam analyse ... --model lite

The bundles are for measuring, not for shipping: they are not the official float16 `.task` files.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

VARIANTS = ("lite", "full", "heavy")
LANDMARK_OUTPUTS = 5  # landmarks, pose flag, segmentation, heatmap, world landmarks


def bundle(npm_dir: Path, full_task: Path, out_dir: Path, variants=VARIANTS) -> list[Path]:
    """Write `out_dir/pose_landmarker_<variant>.task` for each variant whose network is in `npm_dir`."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, model_asset_bundle_utils

    with zipfile.ZipFile(full_task) as z:
        detector = z.read("pose_detector.tflite")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for variant in variants:
        network = npm_dir / f"pose_landmark_{variant}.tflite"
        if not network.exists():
            continue
        writer = metadata_writer.MetadataWriter.create(bytearray(network.read_bytes()))
        writer.add_general_info("pose_landmarks_detector",
                                f"BlazePose GHUM 3D ({variant}), from the @mediapipe/pose npm package")
        writer.add_image_input(norm_mean=[0.0], norm_std=[255.0])  # RGB in [0, 255] -> [0, 1]
        for _ in range(LANDMARK_OUTPUTS):
            writer.add_feature_output()
        landmarks, _ = writer.populate()
        out = out_dir / f"pose_landmarker_{variant}.task"
        model_asset_bundle_utils.create_model_asset_bundle(
            {"pose_detector.tflite": detector, "pose_landmarks_detector.tflite": bytes(landmarks)}, str(out))
        written.append(out)
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("npm_dir", type=Path, help="the npm package's folder, holding pose_landmark_*.tflite")
    ap.add_argument("full_task", type=Path, help="a pose_landmarker_full.task (for its pose detector)")
    ap.add_argument("out_dir", type=Path)
    args = ap.parse_args()
    for path in bundle(args.npm_dir, args.full_task, args.out_dir):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
