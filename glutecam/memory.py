"""Giving freed memory back to the operating system between the stages of a long job.

glibc's allocator keeps memory a process frees for its next allocations, and after a large block is freed it
serves blocks up to that size from its heap rather than mapping them afresh, so a heap whose top is still in
use cannot shrink. A 10-minute clip's analysis frees tens of MB of whole-clip arrays that way; without being
handed back, the report and the outputs after it would stack their own peak on top of it.
"""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _malloc_trim():
    # the symbols already loaded, not ctypes.util.find_library("c"): that runs ldconfig in a child process,
    # forking this one (hundreds of MB by then) for a name it does not need
    try:
        trim = ctypes.CDLL(None).malloc_trim  # glibc only
    except (OSError, AttributeError, TypeError):  # another C library, or not a POSIX system
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the operating system (`malloc_trim(0)`); False where the C library
    cannot (not glibc). Takes a few milliseconds."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
