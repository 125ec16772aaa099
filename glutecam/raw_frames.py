"""Raw copies of the annotated clip's frames, passed from the decoding process to the clip process.

The decoding process keeps every frame of the pose pass as a JPEG at the clip's size
(`thumbnails.FrameJpegFile`), and the clip process draws on them. Decompressing a 720p JPEG took 3-4 ms of
the clip process's 12 a frame, on the core it shares with the decoding process. So the decoding process also
copies each frame into a ring of raw frames (YUV 4:2:0 at the clip's size, 1.4 MB a 720p frame) when a slot
is free, and says which slot with the JPEG's place. The clip process converts the copy to BGR and gives the
slot back: 4 bytes through a pipe to the decoding process.

The decoding process never waits for a slot. When the clip process falls a whole ring behind, frames go
without a copy and are read from their JPEG. The JPEGs stay the record for everything else: the groups of
pictures drawn again, the replay, the report's stills, and a clip drawn by the main process.

The ring holds 180 frames of 720p (250 MB), fewer where an eighth of the available memory is less. It is an
anonymous `memfd` handed to both processes as a file descriptor: it has no name to delete, whatever happens
to the processes, and /dev/shm's size does not limit it. Linux only: elsewhere `RawFrameRing.create` returns
None and every frame is read from its JPEG.
"""

from __future__ import annotations

import mmap
import os
import struct

import numpy as np

#: Bytes of raw frames the ring holds at most: 180 frames of 1280x720 (6 s at 30 frames/s).
RING_BYTES = 250_000_000
#: Slots at most, whatever the frame size.
MAX_SLOTS = 240
#: The ring takes at most this share of the memory the system says is available.
MEMORY_SHARE = 1 / 8

_SLOT = struct.Struct("<I")


def frame_bytes(size_wh: tuple[int, int]) -> int:
    """Bytes of one YUV 4:2:0 frame of `size_wh` (w, h, px; both even)."""
    w, h = size_wh
    return w * h * 3 // 2


class RawFrameRing:
    """The parent's side: the ring's memory and the pipe that gives slots back, for both children.

    Pass `decoder_spec()` / `clip_spec()` to the child and `decoder_fds()` / `clip_fds()` to its
    `subprocess.Popen(pass_fds=...)`; `close()` once both have started, or when the job ends: each child keeps
    its own descriptors and mapping, and the memory goes with the last of them.
    """

    def __init__(self, size_wh: tuple[int, int], slots: int, fd: int, free_r: int, free_w: int) -> None:
        self.size_wh = (int(size_wh[0]), int(size_wh[1]))
        self.slots = slots
        self.fd, self.free_r, self.free_w = fd, free_r, free_w

    @classmethod
    def create(cls, size_wh: tuple[int, int], budget: int = RING_BYTES) -> "RawFrameRing | None":
        """A ring of `ring_slots(size_wh, budget)` frames; None where it cannot be made (not Linux, an odd size,
        too little memory): the clip process then reads JPEGs."""
        w, h = int(size_wh[0]), int(size_wh[1])
        slots = ring_slots((w, h), budget)
        if not hasattr(os, "memfd_create") or w % 2 or h % 2 or slots < 2:
            return None
        try:
            fd = os.memfd_create("glutecam-raw-frames")
        except OSError:
            return None
        try:
            # reserved up front: writing through a mapping into memory that is not there kills the writer
            os.posix_fallocate(fd, 0, slots * frame_bytes((w, h)))
            free_r, free_w = os.pipe()
        except OSError:
            os.close(fd)
            return None
        return cls((w, h), slots, fd, free_r, free_w)

    def decoder_spec(self) -> dict:
        """What the decoding process needs (`RawFrameWriter`): the ring and the pipe's reading end."""
        return {"fd": self.fd, "free": self.free_r, "slots": self.slots, "size_wh": list(self.size_wh)}

    def clip_spec(self) -> dict:
        """What the clip process needs (`RawFrameReader`): the ring and the pipe's writing end."""
        return {"fd": self.fd, "free": self.free_w, "slots": self.slots, "size_wh": list(self.size_wh)}

    def decoder_fds(self) -> tuple[int, ...]:
        return (self.fd, self.free_r)

    def clip_fds(self) -> tuple[int, ...]:
        return (self.fd, self.free_w)

    def close(self) -> None:
        """Close the parent's descriptors (idempotent)."""
        for name in ("fd", "free_r", "free_w"):
            fd = getattr(self, name)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, name, None)


def ring_slots(size_wh: tuple[int, int], budget: int = RING_BYTES) -> int:
    """Frames of `size_wh` a ring holds: as many as `budget` bytes and `MEMORY_SHARE` of the available memory
    allow, at most `MAX_SLOTS`."""
    w, h = int(size_wh[0]), int(size_wh[1])
    if w <= 0 or h <= 0:
        return 0
    available = available_memory()
    if available is not None:
        budget = min(budget, int(available * MEMORY_SHARE))
    return min(MAX_SLOTS, budget // frame_bytes((w, h)))


def available_memory() -> int | None:
    """Bytes of memory available to new work without swapping (Linux's MemAvailable); None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _map(spec: dict) -> np.ndarray:
    """(slots, h * 3 / 2, w) uint8 over the ring: one YUV 4:2:0 frame (OpenCV's I420 layout) a slot."""
    w, h = spec["size_wh"]
    mm = mmap.mmap(spec["fd"], spec["slots"] * frame_bytes((w, h)))
    return np.frombuffer(mm, np.uint8).reshape(spec["slots"], h * 3 // 2, w)


class RawFrameWriter:
    """The decoding process's side: `put` a frame into a free slot, if there is one."""

    def __init__(self, spec: dict) -> None:
        self.ring = _map(spec)
        self._pipe = spec["free"]
        os.set_blocking(self._pipe, False)
        self._free = list(range(spec["slots"]))[::-1]
        self._pending = b""
        self._open = True  # the clip process may still give slots back

    def _collect(self) -> None:
        """The slots given back since the last call."""
        while self._open:
            try:
                data = os.read(self._pipe, 4096)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # the clip process is gone: no slot comes back any more
                self._open = False
                return
            data = self._pending + data
            whole = len(data) - len(data) % _SLOT.size
            self._free += [s for (s,) in _SLOT.iter_unpack(data[:whole])]
            self._pending = data[whole:]

    def put(self, bgr: np.ndarray) -> int | None:
        """Copy `bgr` (h, w, 3 uint8 at the ring's size) into a free slot and return it; None if none is free."""
        import cv2

        self._collect()
        if not self._free:
            return None
        dst = self.ring[self._free[-1]]
        if cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420, dst=dst) is not dst:
            return None  # not the ring's size: OpenCV wrote elsewhere (the frame's JPEG serves)
        return self._free.pop()


class RawFrameReader:
    """The clip process's side: `take` the frame in a slot and give the slot back."""

    def __init__(self, spec: dict) -> None:
        self.ring = _map(spec)
        self._pipe = spec["free"]

    def take(self, slot: int) -> np.ndarray:
        """The frame in `slot`, as a new BGR image; the slot is the decoding process's again."""
        import cv2

        image = cv2.cvtColor(self.ring[slot], cv2.COLOR_YUV2BGR_I420)
        try:
            os.write(self._pipe, _SLOT.pack(slot))  # 4 bytes: written whole, never interleaved
        except OSError:  # the decoding process is gone: nothing to give back to
            pass
        return image
