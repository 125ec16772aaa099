"""A ring of frame buffers shared between processes: a memory-mapped file, in /dev/shm where there is one.

The decoding and encoding processes (`decode_worker`, `encode_worker`) exchange images through it; only slot
numbers travel through their pipes. Each side maps the file; the file itself is deleted as soon as both have
(`remove`), so nothing is left behind whatever happens to the processes afterwards.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from pathlib import Path

import numpy as np


def create_ring_file(slots: int, w: int, h: int) -> str:
    """A new file the size of `slots` (h, w, 3) uint8 frames; returns its path."""
    shm_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.NamedTemporaryFile(prefix="glutecam-frames-", dir=shm_dir, delete=False) as fh:
        fh.truncate(slots * w * h * 3)
        return fh.name


def map_ring(path: str, slots: int, w: int, h: int) -> np.ndarray:
    """(slots, h, w, 3) uint8 over the file. numpy keeps the mmap object as its base, so the mapping stays
    until the last view of it is gone; it is never closed by hand (that would leave the views dangling)."""
    with open(path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), slots * h * w * 3)
    return np.frombuffer(mm, np.uint8).reshape(slots, h, w, 3)


def remove(path: str | None) -> None:
    if path is not None:
        Path(path).unlink(missing_ok=True)
