"""Report stills: the frame nearest each moment, as a full decode of the clip would pick it."""

from pathlib import Path

import numpy as np
import pytest

from glutecam.report.report import _nearest_frames
from glutecam.sources import VideoFileSource

DEMO = Path(__file__).resolve().parents[1] / "samples" / "bss_front_drop8_r23.mp4"


@pytest.mark.skipif(not DEMO.is_file(), reason="demo clip missing")
def test_nearest_frames_match_a_full_decode():
    frames = list(VideoFileSource(DEMO))
    t = np.array([f.time_s for f in frames])
    times = [-1.0, 0.0, 0.04, 1.0, 1.0 + 1 / 60, 3.333, t[-1], t[-1] + 5.0]  # before, on, between, after
    got = _nearest_frames(DEMO, times)
    for target, image in zip(times, got):
        expected = frames[int(np.argmin(np.abs(t - target)))].image  # earliest on a tie, as argmin
        np.testing.assert_array_equal(image, expected)
