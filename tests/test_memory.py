"""Memory that does not grow with the clip beyond its own data: the offline analysis's working copies, the
report written as it is rendered, freed memory handed back between stages (issue 6's 10-minute target)."""

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
    time (2.8 here). It was 5.2 before the cleaning steps worked in place and sosfiltfilt took 16 columns a call."""
    n1, p1 = _analysis_peak_bytes(30)
    n2, p2 = _analysis_peak_bytes(90)
    per_frame = (p2 - p1) / (n2 - n1)
    copies = per_frame / (33 * 3 * 8)
    assert 2.0 < copies < 4.0, f"{copies:.2f} copies of the world landmarks a frame"


_FREED_BETWEEN_BLOCKS = """
import numpy as np
from glutecam.memory import release_free_memory

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))

if not release_free_memory():
    print("unsupported")
    raise SystemExit
big = np.ones(16 << 17)  # 16 MB, mapped; once freed, glibc serves blocks up to that size from its heap
del big
blocks = []
for _ in range(100):
    blocks.append(np.ones(1 << 17))  # 1 MB, freed below
    blocks.append(np.ones(1 << 13))  # 64 kB after it, kept
del blocks[::2]
before = rss_mb()
release_free_memory()
print(before - rss_mb())
"""


def test_memory_freed_between_blocks_in_use_goes_back_to_the_system():
    """The heap a stage leaves: blocks freed between blocks still in use, which glibc cannot give back by
    shrinking its heap. `release_free_memory` returns their pages. In a fresh interpreter, whose heap is known
    (a test session's own heap has been shaped by every test before)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _FREED_BETWEEN_BLOCKS], capture_output=True, text=True,
                         check=True).stdout.strip()
    if out == "unsupported":
        pytest.skip("the C library here cannot trim its heap (not glibc)")
    assert float(out) > 60  # MB, of the 100 freed


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


def test_releasing_memory_starts_no_process(monkeypatch):
    """Looking the C library up by name (ctypes.util.find_library) runs ldconfig in a child process: a fork
    of a process of hundreds of MB, whose copy then counts as a child's peak memory."""
    import subprocess

    from glutecam import memory

    def no_process(*args, **kwargs):
        raise AssertionError(f"started a process: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    memory._malloc_trim.cache_clear()
    try:
        memory.release_free_memory()
    finally:
        memory._malloc_trim.cache_clear()
