"""The clip writer: encoding in a child process keeps order and timing, loses nothing, leaves nothing behind
and reports errors."""

from pathlib import Path

import numpy as np
import pytest

from glutecam.encode_worker import ProcessEncodedWriter
from glutecam.sources import VideoFileSource
from glutecam.video_out import capped_size_wh


def frame(value, size_wh=(64, 48)):
    return np.full((size_wh[1], size_wh[0], 3), value, np.uint8)


def decoded(path):
    return [(int(np.median(f.image)), round(f.time_s, 3)) for f in VideoFileSource(path)]


def ring_files():
    return set(Path("/dev/shm").glob("glutecam-frames-*"))


def test_frames_arrive_in_order_with_their_times_and_none_is_lost(tmp_path):
    before = ring_files()
    with ProcessEncodedWriter(tmp_path / "a.mp4", 30.0, (64, 48), slots=2) as w:
        for i in range(40):
            w.write(frame(20 + 5 * i), i / 20)  # 20 fps timing in a 30 fps stream: times are kept
    assert w.frames_written == 40
    got = decoded(tmp_path / "a.mp4")
    assert [t for _, t in got] == [round(i / 20, 3) for i in range(40)]
    values = [v for v, _ in got]  # grey levels shift a little in the YUV round trip; the order does not
    assert all(abs(v - (20 + 5 * i)) <= 5 for i, v in enumerate(values)) and np.all(np.diff(values) > 0)
    assert ring_files() == before and w._proc is None  # no process or shared file left


def test_frames_of_another_size_are_scaled_to_the_writers(tmp_path):
    # e.g. the slow-motion replay drawn at the source's size
    with ProcessEncodedWriter(tmp_path / "a.mp4", 30.0, (65, 49)) as w:  # odd: cut to even for yuv420p
        assert w.size_wh == (64, 48)
        w.write(frame(200, (128, 96)))
    src = VideoFileSource(tmp_path / "a.mp4")
    assert (src.info.width, src.info.height) == (64, 48) and decoded(tmp_path / "a.mp4")[0][0] >= 195


def test_closed_incomplete_keeps_the_temporary_name(tmp_path):
    w = ProcessEncodedWriter(tmp_path / "a.mp4", 30.0, (64, 48))
    for i in range(5):
        w.write(frame(i * 40), i / 30)
    assert w.close(complete=False) is None
    assert w.partial_path == tmp_path / "a.part.mp4"
    assert (tmp_path / "a.part.mp4").is_file() and not (tmp_path / "a.mp4").exists()
    assert len(decoded(tmp_path / "a.part.mp4")) == 5  # finished so that it plays


def test_an_encoder_that_dies_is_an_error_for_the_caller_and_the_clip_is_not_complete(tmp_path):
    w = ProcessEncodedWriter(tmp_path / "a.mp4", 30.0, (64, 48), slots=2)
    w.write(frame(1))
    w._proc.kill()
    with pytest.raises(RuntimeError, match="encoding process ended unexpectedly"):
        for i in range(10):
            w.write(frame(i))
    with pytest.raises(RuntimeError):
        w.close()
    assert not (tmp_path / "a.mp4").exists()


@pytest.mark.parametrize("size_wh, max_side, expected", [
    ((1920, 1080), 1280, (1280, 720)),  # landscape 1080p
    ((1080, 1920), 1280, (720, 1280)),  # portrait phone clip
    ((1768, 994), 1280, (1280, 720)),  # odd aspect: rounded to even numbers (yuv420p)
    ((640, 480), 1280, (640, 480)),  # smaller than the cap: unchanged
    ((1920, 1080), None, (1920, 1080)),  # no cap
])
def test_capped_size(size_wh, max_side, expected):
    assert capped_size_wh(size_wh, max_side) == expected
