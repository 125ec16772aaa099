"""Memory that does not grow with the clip beyond its own data: the offline analysis's working copies, the
report written as it is rendered (issue 6's 10-minute target)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from glutecam.analysers import get_analyser
from tests.synthetic import split_squat


def _analysis_peak_bytes(n_reps: int) -> tuple[int, int]:
    """(frames, traced peak bytes of one offline analysis) of a split-squat set of `n_reps` reps."""
    track = split_squat(n_reps=n_reps, faults=[{"drop_deg": 8.0}] * n_reps).track
    analyser = get_analyser("split-squat")
    analyser.analyse(track[:300])  # one-off set-up (imports, filter design) outside the measure
    tracemalloc.start()
    try:
        analysis = analyser.analyse(track)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(analysis.set.reps) == n_reps
    return len(track), peak


def test_the_analysis_holds_a_few_copies_of_the_landmarks_per_frame_not_one_per_step():
    """Each frame longer costs the analysis at most 4 copies of a frame's world landmarks (33 x 3 float64):
    the image and world landmarks, cleaned, and the ungated world ones, with working copies made a block at a
    time (2.8 here). Before the cleaning steps worked in place and sosfiltfilt took 16 columns at a time, 5.2."""
    n1, p1 = _analysis_peak_bytes(30)
    n2, p2 = _analysis_peak_bytes(90)
    per_frame = (p2 - p1) / (n2 - n1)
    copies = per_frame / (33 * 3 * 8)
    assert 2.0 < copies < 4.0, f"{copies:.2f} copies of the world landmarks a frame"


def test_the_report_is_written_as_it_is_rendered_not_held_whole(tmp_path):
    """A set of hundreds of reps makes a page of tens of MB (a still each); the page is written piece by
    piece: writing it costs about twice its size (the stills in base64, then each as it is written), where
    rendering it whole cost 5 times."""
    from glutecam.report import write_report
    from tests.runs import make_run

    run = make_run(tmp_path / "run", video=False)
    stills = [bytes(np.random.default_rng(i).integers(0, 256, 3 << 20, dtype=np.uint8)) for i in range(3)]
    tracemalloc.start()
    try:
        page = write_report(run, stills=stills)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = page.stat().st_size
    assert size > 12e6  # 9 MB of stills, in base64
    assert peak < 2.5 * size, f"peak {peak / 1e6:.1f} MB for a page of {size / 1e6:.1f} MB"

