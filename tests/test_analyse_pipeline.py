"""Pass 2's pipeline pieces: the slow-motion replay kept on the way, the scaled annotator."""

from types import SimpleNamespace

import numpy as np
import pytest

from glutecam.analyse import ScaledAnnotator, _ReplayFrames
from glutecam.annotate import Annotator, Overlay
from glutecam.landmarks import Landmark


class ListWriter:
    def __init__(self):
        self.frames = []

    def write(self, image, time_s=None):
        self.frames.append((int(image[0, 0, 0]), time_s))


def replay(start_s, end_s, slow=3, pad_s=0.3):
    return SimpleNamespace(start_s=start_s, end_s=end_s, pad_s=pad_s, slow=slow, banner="Slow motion: rep 1",
                           clip_start_s=None, clip_end_s=None)


@pytest.mark.parametrize("start_s, end_s, fits", [
    (1.0, 3.0, True),  # an ordinary rep: kept while pass 2 goes by
    (1.0, 30.0, False),  # longer than max_frames: not held in memory (Replay.append decodes it again)
])
def test_only_reps_of_bounded_length_are_kept(start_s, end_s, fits):
    kept = _ReplayFrames(replay(start_s, end_s), fps=30.0, max_frames=450)
    assert kept.fits is fits
    assert kept.wants(2.0) is fits
    assert not kept.wants(start_s - 0.31) and not kept.wants(end_s + 0.31)


def test_kept_frames_are_written_slow_times_each_in_order_after_the_clip():
    r = replay(0.0, 0.1, slow=3)
    kept = _ReplayFrames(r, fps=10.0)
    for v in (10, 100, 200):  # flat grey frames survive JPEG within a step or two
        kept.add(np.full((16, 16, 3), v, np.uint8))
    track = SimpleNamespace(fps=10.0, time_s=np.array([0.0, 0.1, 0.2, 0.3]))
    w = ListWriter()
    assert kept.append(w, track) == 9
    values = [v for v, _ in w.frames]
    assert [round(v, -1) for v in values] == [10] * 3 + [100] * 3 + [200] * 3
    times = [t for _, t in w.frames]
    assert times == pytest.approx([0.4 + 0.1 * k for k in range(9)])
    assert r.clip_start_s == pytest.approx(0.4) and r.clip_end_s == pytest.approx(1.3)


def test_scaled_annotator_draws_landmarks_where_they_are_in_the_smaller_frame():
    ann = ScaledAnnotator(Annotator(), (200, 100), (100, 50))
    xy = np.full((33, 3), np.nan)
    xy[Landmark.LEFT_HIP] = (120, 60, 0)
    xy[Landmark.RIGHT_HIP] = (160, 60, 0)
    out = ann.annotate(np.zeros((100, 200, 3), np.uint8), xy, np.ones(33), Overlay(time_s=0.0))
    assert out.shape == (50, 100, 3)
    assert out[30, 70].any()  # the pelvis line, at half the source's coordinates (60..80, 30)
    assert not out[30, 90].any()
