"""Which CPU cores the pose model and its helper processes run on during the pose pass.

On a machine with two usable cores, `analyse` gives the pose model's thread one core to itself and the helper
processes (decoding; drawing the annotated clip) the other. Left to the scheduler, the helpers' threads
(libavcodec's and libx264's included) land on the model's core now and then and preempt it, whatever their
priority: on a 2-core VM, 600 frames of the Sports2D demo took 9.8-10.0 s of inference pinned against
10.8-11.0 s not, and the whole job 10.6-10.8 against 11.9-12.0 s (alternating, 3 runs each); with the
clip, inference 10.4-10.5 against 12.3-13.0 s and the job 14.4-14.6 against 15.1-15.9 s. A lower priority
for the clip process did not do it (`nice 19`, `SCHED_IDLE`: inference 11.5-12.5 s). With more cores the
helpers have cores of their own and nothing is pinned; two jobs at once (`--jobs 2`) are not pinned either,
as their models would share one core.

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
