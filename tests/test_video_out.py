"""The clip writers: the background encoder keeps order, loses nothing, stays bounded and reports errors."""

import threading
import time

import numpy as np
import pytest

from glutecam.video_out import BackgroundWriter, H264Writer, capped_size_wh
from tests.conftest import x264_options


class RecordingWriter:
    """Stands in for `H264Writer`: records what it is given; can be slow or fail at a given frame."""

    def __init__(self, size_wh=(64, 48), delay_s=0.0, fail_at=None):
        self.size_wh = size_wh
        self.delay_s = delay_s
        self.fail_at = fail_at
        self.written: list[tuple[int, float, tuple]] = []
        self.closed_complete = None
        self.threads: set[str] = set()
        self.frames_written = 0
        self.partial_path = None

    def write(self, image, time_s=None):
        self.threads.add(threading.current_thread().name)
        if self.fail_at is not None and len(self.written) == self.fail_at:
            raise OSError("disk full")
        time.sleep(self.delay_s)
        self.written.append((int(image[0, 0, 0]), time_s, image.shape))
        self.frames_written += 1

    def close(self, complete=True):
        self.closed_complete = complete
        return "path" if complete else None


def frame(value, size_wh=(64, 48)):
    return np.full((size_wh[1], size_wh[0], 3), value, np.uint8)


def test_frames_arrive_in_order_and_none_is_lost():
    inner = RecordingWriter()
    with BackgroundWriter(inner, maxsize=2) as w:
        for i in range(50):
            w.write(frame(i), i / 30)
    assert [v for v, _, _ in inner.written] == list(range(50))
    assert [t for _, t, _ in inner.written] == [i / 30 for i in range(50)]
    assert inner.closed_complete is True
    assert inner.threads == {"glutecam-encode"}  # encoded off the caller's thread


def test_a_slow_encoder_holds_the_caller_back_instead_of_queueing_without_bound():
    inner = RecordingWriter(delay_s=0.02)
    w = BackgroundWriter(inner, maxsize=3)
    ahead = []
    for i in range(20):
        w.write(frame(i))
        ahead.append(i + 1 - len(inner.written))  # frames handed over but not yet encoded
    w.close()
    assert max(ahead) <= 3 + 1  # the queue plus the one being encoded
    assert len(inner.written) == 20


@pytest.mark.parametrize("size_wh, expected", [
    ((64, 48), (64, 48)),  # already the writer's size: passed as is
    ((128, 96), (64, 48)),  # larger (e.g. the slow-motion replay drawn at the source size): scaled down
])
def test_frames_of_another_size_are_scaled_to_the_writers(size_wh, expected):
    inner = RecordingWriter(size_wh=(64, 48))
    with BackgroundWriter(inner) as w:
        w.write(frame(7, size_wh))
    assert inner.written[0][2] == (expected[1], expected[0], 3)


def test_an_encoder_error_reaches_the_caller_and_the_clip_stays_incomplete():
    inner = RecordingWriter(fail_at=3)
    w = BackgroundWriter(inner, maxsize=2)
    with pytest.raises(OSError, match="disk full"):
        for i in range(100):
            w.write(frame(i))
        w.close()
    assert len(inner.written) == 3
    w.close()  # closing again after the error is harmless
    assert inner.closed_complete is False


def test_closed_incomplete_keeps_the_temporary_name(tmp_path):
    w = BackgroundWriter(H264Writer(tmp_path / "a.mp4", 30.0, (64, 48)))
    for i in range(5):
        w.write(frame(i * 40), i / 30)
    assert w.close(complete=False) is None
    assert (tmp_path / "a.part.mp4").is_file() and not (tmp_path / "a.mp4").exists()


@pytest.mark.parametrize("size_wh, max_side, expected", [
    ((1920, 1080), 1280, (1280, 720)),  # landscape 1080p
    ((1080, 1920), 1280, (720, 1280)),  # portrait phone clip
    ((1768, 994), 1280, (1280, 720)),  # odd aspect: rounded to even numbers (yuv420p)
    ((640, 480), 1280, (640, 480)),  # smaller than the cap: unchanged
    ((1920, 1080), None, (1920, 1080)),  # no cap
])
def test_capped_size(size_wh, max_side, expected):
    assert capped_size_wh(size_wh, max_side) == expected


@pytest.mark.parametrize("size_wh", [(96, 64), (97, 65)])  # an odd size is cropped to even (yuv420p)
def test_colours_come_back_as_written(tmp_path, size_wh):
    # OpenCV converts to YUV 4:2:0 before PyAV: its colours must be the ones a decoder (swscale) assumes
    from glutecam.sources import VideoFileSource

    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (60, 110, 200), (250, 250, 250), (20, 20, 20)]  # BGR
    image = np.zeros((size_wh[1], size_wh[0], 3), np.uint8)
    for k, c in enumerate(colours):
        image[:, 16 * k:16 * (k + 1)] = c
    with H264Writer(tmp_path / "c.mp4", 30.0, size_wh, crf=12) as w:
        for i in range(3):
            w.write(image, i / 30)
    back = [f.image for f in VideoFileSource(tmp_path / "c.mp4")]
    assert len(back) == 3 and back[-1].shape == (64, 96, 3)
    for k, c in enumerate(colours):  # the middle of each band, clear of chroma bleeding at its edges
        got = back[-1][8:56, 16 * k + 5:16 * (k + 1) - 5].reshape(-1, 3).mean(axis=0)
        assert np.abs(got - c).max() < 8, (c, got)


@pytest.mark.parametrize("x264, expected", [(None, {"subme=1", "b_adapt=1"}),
                                             ({"subme": 0, "b-adapt": 0}, {"subme=0", "b_adapt=0"})])
def test_libx264_settings_are_the_presets_unless_changed(tmp_path, x264, expected):
    image = np.zeros((64, 96, 3), np.uint8)
    path = H264Writer(tmp_path / "s.mp4", 30.0, (96, 64), preset="superfast", keyint=10, x264=x264)
    for i in range(3):
        image[:, 10 * i: 10 * i + 10] = 200
        path.write(image, i / 30)
    out = path.close()
    options = x264_options(out)
    assert expected <= set(options) and "keyint=10" in options  # with the keyframe settings, not instead of them
