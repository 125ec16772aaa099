"""Frame sources: container timestamps, rotation metadata, and the real-time replay source."""

import subprocess
import time

import numpy as np
import pytest

from glutecam.sources import ReplaySource, SourceError, VideoFileSource
from tests.conftest import write_clip


def coloured_frames(n, w=64, h=48):
    """Frames whose mean brightness encodes their index, with a marker in the top-left corner."""
    frames = []
    for i in range(n):
        f = np.full((h, w, 3), 10 + 8 * i, np.uint8)
        f[:8, :8] = (0, 0, 255)
        frames.append(f)
    return frames


def test_timestamps_come_from_the_container_not_an_assumed_fps(tmp_path):
    times = [0.0, 0.05, 0.08, 0.30, 0.31, 0.50]  # variable frame rate
    clip = write_clip(tmp_path / "vfr.mp4", coloured_frames(len(times)), fps=30, times_s=times)
    got = [f.time_s for f in VideoFileSource(clip)]
    np.testing.assert_allclose(got, times, atol=0.002)


def test_stride_keeps_every_nth_frame_with_its_true_time(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", coloured_frames(10), fps=20)
    frames = list(VideoFileSource(clip, stride=3))
    assert [f.index for f in frames] == [0, 3, 6, 9]
    np.testing.assert_allclose([f.time_s for f in frames], [0, 0.15, 0.30, 0.45], atol=0.002)


def test_the_pose_pass_progress_total_counts_the_frames_a_stride_keeps(tmp_path):
    from types import SimpleNamespace

    from glutecam.analyse import run_pose
    from glutecam.track import FramePose

    class NoPose:  # stands in for PoseEstimator: nobody found, no model needed
        model = SimpleNamespace(name="none", path="none")

        def process(self, frame):
            return FramePose.missing(frame.index, frame.time_s)

    clip = write_clip(tmp_path / "c.mp4", coloured_frames(10), fps=20)
    calls = []
    track, _, _ = run_pose(VideoFileSource(clip, stride=3), NoPose(), progress=lambda *a: calls.append(a))
    assert len(track) == 4  # frames 0, 3, 6, 9
    assert calls[-1] == (4, 4, "pose")

def test_rotation_metadata_is_applied(tmp_path):
    import imageio_ffmpeg

    clip = write_clip(tmp_path / "land.mp4", coloured_frames(3, w=64, h=48))
    rotated = tmp_path / "portrait.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-display_rotation", "90",
                    "-i", str(clip), "-c", "copy", str(rotated)], check=True)
    src = VideoFileSource(rotated)
    assert (src.info.width, src.info.height, src.info.rotation_deg) == (48, 64, 90)
    first = next(iter(src)).image
    plain = next(iter(VideoFileSource(clip))).image
    # rotated 90 degrees counter-clockwise for display: the red top-left marker ends up bottom-left
    np.testing.assert_allclose(first.astype(int), np.rot90(plain, 1).astype(int), atol=6)
    assert first[-4, 4, 2] > 200 and first[4, 4, 2] < 120


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("this is text, not video"), "not a readable video"),
])
def test_unreadable_inputs_raise_source_error(tmp_path, setup, message):
    path = tmp_path / "clip.mp4"
    setup(path)
    with pytest.raises(SourceError, match=message):
        VideoFileSource(path)


def test_replay_runs_at_real_time_and_drops_frames_for_a_slow_consumer(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", coloured_frames(30), fps=30)  # 1 s of video
    replay = ReplaySource(clip)
    start = time.monotonic()
    seen = []
    for frame in replay:
        seen.append(frame.index)
        time.sleep(0.1)  # a consumer three times slower than the frame rate
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed <= 1.6
    assert seen == sorted(seen) and len(seen) < 20
    assert replay.delivered + replay.dropped == 30
    assert replay.dropped >= 10


def test_replay_delivers_every_frame_to_a_fast_consumer(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", coloured_frames(15), fps=30)
    replay = ReplaySource(clip, speed=2.0)
    assert [f.index for f in replay] == list(range(15))
    assert replay.dropped == 0
