"""Which CPU cores the pose model and its helper processes run on during the pose pass.

On a machine with two usable cores, `analyse` gives the pose model's thread one core to itself and the helper
processes (decoding; drawing the annotated clip) the other. Left to the scheduler, the helpers' threads
(libavcodec's and libx264's included) land on the model's core now and then and preempt it, whatever their
priority: on a 2-core VM, 600 frames of the Sports2D demo took 9.8-10.0 s of inference pinned against
10.8-11.0 s not, and the whole job 10.6-10.8 against 11.9-12.0 s (alternating, 3 runs each); with the
clip, inference 10.4-10.5 against 12.3-13.0 s and the job 14.4-14.6 against 15.1-15.9 s. A lower priority
for the clip process did not do it (`nice 19`, `SCHED_IDLE`: inference 11.5-12.5 s). With more cores the
helpers have cores of their own and nothing is pinned; two jobs at once (`--jobs 2`) are not pinned either,
as their models would share one core; nor are large frames (`one_core_decodes`), which one core cannot decode
as fast as the model runs.

Linux only (`os.sched_setaffinity`); elsewhere `core_split` gives None and nothing changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CoreSplit:
    """CPU numbers (as `os.sched_setaffinity` takes them) for the model's thread and for the helpers."""

    model: tuple[int, ...]
    helpers: tuple[int, ...]
    all: tuple[int, ...]  # the cores the process was allowed before: given back after the pose pass


def core_split(allowed: Iterable[int] | None = None) -> CoreSplit | None:
    """The split for a process allowed on `allowed` cores (default: this one's), or None unless there are
    exactly two.

    >>> core_split({0, 1}), core_split({2, 5}).helpers, core_split({0, 1, 2, 3}), core_split({0})
    (CoreSplit(model=(0,), helpers=(1,), all=(0, 1)), (5,), None, None)
    """
    if allowed is None:
        if not hasattr(os, "sched_getaffinity"):
            return None
        allowed = os.sched_getaffinity(0)
    cores = tuple(sorted(allowed))
    if len(cores) != 2:
        return None
    return CoreSplit(model=cores[:1], helpers=cores[1:], all=cores)


#: Pixels decoded per analysed frame (width x height x stride) up to which the decoding process keeps up with the
#: model on one core. Pinned against not, no clip, 2 runs each: the Sports2D demo as it is (1768x994 VP9, 230
#: frames) 4.8-5.0 s against 5.1; scaled to 2560x1440 H.264 (300 frames) 6.5-6.7 against 7.1-7.5 s; to 3840x2160
#: 11.2-11.4 against 10.0-10.2 s: on one core libavcodec decodes a 4K frame in about 35 ms, twice the model's
#: time, and the model waits.
MAX_PIXELS_ON_ONE_CORE = 2560 * 1440


def one_core_decodes(width: int, height: int, stride: int = 1) -> bool:
    """Whether one core decodes frames of `width` x `height` px (every `stride`-th analysed) fast enough for
    the model (`MAX_PIXELS_ON_ONE_CORE`).

    >>> one_core_decodes(1920, 1080), one_core_decodes(2560, 1440), one_core_decodes(3840, 2160)
    (True, True, False)
    >>> one_core_decodes(1920, 1080, stride=2)  # every other frame analysed: two decoded a model frame
    False
    """
    return width * height * max(1, stride) <= MAX_PIXELS_ON_ONE_CORE


def pin_thread(cores: Iterable[int] | None) -> None:
    """Keep the calling thread (and the threads it starts from now on) on `cores`; None, or a system that
    cannot, changes nothing."""
    if cores is None or not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, set(cores))
    except OSError:  # a core taken away meanwhile (a container's cpuset changed): run where allowed
        pass


def pin_process(cores: Iterable[int] | None) -> None:
    """Move every thread of this process, running ones included, to `cores` (Linux: /proc/self/task)."""
    if cores is None or not hasattr(os, "sched_setaffinity"):
        return
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for tid in threads:
        try:
            os.sched_setaffinity(tid, set(cores))
        except OSError:  # a thread that ended meanwhile
            pass
