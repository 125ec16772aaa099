"""A ring of frame buffers shared between processes: a memory-mapped file, in /dev/shm where it has room.

The decoding process (`decode_worker`) hands its frames to the parent through it; only slot numbers travel
through its pipes. Each side maps the file; the file itself is deleted as soon as both have (`remove`), so
nothing is left behind whatever happens to the processes afterwards.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from pathlib import Path

import numpy as np


def create_ring_file(slots: int, w: int, h: int) -> str:
    """A new file the size of `slots` (h, w, 3) uint8 frames; returns its path. In /dev/shm when it has the
    room (a container's is often 64 MB), else in the temporary folder: the space is reserved up front, since
    writing through a mapping into a full tmpfs kills the writer (SIGBUS) instead of raising an error."""
    size = slots * w * h * 3
    if os.path.isdir("/dev/shm"):
        try:
            return _reserved_file("/dev/shm", size)
        except OSError:
            pass
    return _reserved_file(None, size)  # None: tempfile's folder


def _reserved_file(folder: str | None, size: int) -> str:
    fh = tempfile.NamedTemporaryFile(prefix="glutecam-frames-", dir=folder, delete=False)
    try:
        with fh:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fh.fileno(), 0, size)
            else:  # pragma: no cover - macOS, Windows: no tmpfs in the way either
                fh.truncate(size)
    except OSError:
        Path(fh.name).unlink(missing_ok=True)
        raise
    return fh.name


def map_ring(path: str, slots: int, w: int, h: int) -> np.ndarray:
    """(slots, h, w, 3) uint8 over the file. numpy keeps the mmap object as its base, so the mapping stays
    until the last view of it is gone; it is never closed by hand (that would leave the views dangling)."""
    with open(path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), slots * h * w * 3)
    return np.frombuffer(mm, np.uint8).reshape(slots, h, w, 3)


def remove(path: str | None) -> None:
    """Delete the ring's file (its mappings stay valid). Windows cannot delete a file that is mapped: there
    it stays in the temporary folder."""
    if path is not None:
        try:
            Path(path).unlink(missing_ok=True)
        except PermissionError:  # pragma: no cover - Windows
            pass
