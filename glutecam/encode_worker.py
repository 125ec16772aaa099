"""Encode the annotated clip in a child process: `ProcessEncodedWriter`.

PyAV holds Python's GIL for much of libx264's work, so an encoding *thread* and the drawing thread take
turns (measured: 9 ms a 720p frame alone, 28 ms beside a busy Python thread). A child process has its own
interpreter: the parent draws each frame straight into a `frame_ring` slot and sends its number; the child
encodes it with `H264Writer` and hands the slot back. Only the frames being encoded wait in the ring, so
memory does not grow with the clip.

The child is `python -m glutecam.encode_worker`; it ignores Ctrl+C (the parent decides) and, if its stdin
closes without a "close" (the parent died), finishes the file under its temporary name, as an incomplete
clip is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from glutecam.frame_ring import create_ring_file, map_ring, remove
from glutecam.video_out import H264Writer, even_size_wh, partial_path_of


def _child(args: dict) -> None:
    """Encode the slots named on stdin ({"slot", "time_s"}), answering {"free": slot} (and {"fail": why}
    once, after which nothing more is written); {"close": complete} ends with {"closed": path or None}."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = sys.stdout
    w, h = args["size_wh"]
    ring = map_ring(args["ring"], args["slots"], w, h)
    out.write('{"ready": true}\n')
    out.flush()
    writer = H264Writer(args["path"], args["fps"], (w, h), crf=args["crf"], preset=args["preset"])
    failed = False
    complete = False
    try:
        while line := sys.stdin.readline():
            msg = json.loads(line)
            if "close" in msg:
                complete = bool(msg["close"])
                break
            if not failed:
                try:
                    writer.write(ring[msg["slot"]], msg["time_s"])
                except Exception as exc:  # a full disk, say: reported once, the rest is drained
                    failed = True
                    out.write(json.dumps({"fail": f"{type(exc).__name__}: {exc}"}) + "\n")
            out.write(json.dumps({"free": msg["slot"]}) + "\n")
            out.flush()
    finally:
        try:
            path = writer.close(complete=complete and not failed)
        except Exception as exc:
            failed, path = True, None
            out.write(json.dumps({"fail": f"{type(exc).__name__}: {exc}"}) + "\n")
        out.write(json.dumps({"closed": str(path) if path else None, "frames": writer.frames_written}) + "\n")
        out.flush()


class ProcessEncodedWriter:
    """`H264Writer`'s interface (`write`, `close`, `size_wh`, `partial_path`, `frames_written`), encoding in
    a child process. `write` returns once the image is copied into a free slot; with `slots` frames being
    encoded it waits for one. An encoding error is raised by the next `write` or by `close`, and the clip
    is then never complete. Images of another size than `size_wh` are scaled to it (bilinear)."""

    def __init__(self, path: str | Path, fps: float, size_wh: tuple[int, int], crf: int = 23,
                 preset: str = "veryfast", slots: int = 4) -> None:
        self.path = Path(path)
        self.size_wh = even_size_wh(size_wh)
        self.frames_written = 0
        self._error: str | None = None
        self._failed = False
        self._closed_path: Path | None = None
        w, h = self.size_wh
        self.slots = max(2, int(slots))
        self._ring_path: str | None = create_ring_file(self.slots, w, h)
        self._ring = map_ring(self._ring_path, self.slots, w, h)
        args = {"path": str(self.path), "fps": fps, "size_wh": [w, h], "crf": crf, "preset": preset,
                "ring": self._ring_path, "slots": self.slots}
        self._proc: subprocess.Popen | None = subprocess.Popen(
            [sys.executable, "-m", "glutecam.encode_worker", json.dumps(args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            stderr=None if os.environ.get("GLUTECAM_DEBUG") else subprocess.DEVNULL)
        self._free = list(range(self.slots))

    @property
    def partial_path(self) -> Path:
        return partial_path_of(self.path)

    def _read(self) -> dict:
        line = self._proc.stdout.readline()
        if not line:
            raise self._gone()
        msg = json.loads(line)
        if "ready" in msg:  # both sides have the ring mapped: its file can go
            remove(self._ring_path)
            self._ring_path = None
        elif "fail" in msg:
            self._error, self._failed = msg["fail"], True
        elif "free" in msg:
            self._free.append(msg["free"])
            if not self._failed:
                self.frames_written += 1
        return msg

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"encoding {self.path.name} failed: {error}")

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Hand one BGR frame over; `time_s` (s) keeps the source's timing."""
        self._raise()
        while not self._free:
            self._read()
            self._raise()
        slot = self._free.pop()
        w, h = self.size_wh
        if image.shape[1] != w or image.shape[0] != h:
            import cv2

            image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
        self._ring[slot] = image
        self._send({"slot": slot, "time_s": time_s})

    def _send(self, msg: dict) -> None:
        try:
            self._proc.stdin.write(json.dumps(msg) + "\n")
            self._proc.stdin.flush()
        except OSError:
            raise self._gone() from None

    def _gone(self) -> RuntimeError:
        """The child died (killed, out of memory): the clip cannot be complete."""
        self._failed = True
        return RuntimeError(f"the encoding process ended unexpectedly (exit status {self._proc.wait()})")

    def close(self, complete: bool = True) -> Path | None:
        """Wait for the frames in hand, finish the file and stop the child (see `H264Writer.close`)."""
        if self._proc is None:
            return self._closed_path
        proc = self._proc
        try:
            self._send({"close": complete})
            while True:
                msg = self._read()
                if "closed" in msg:
                    self._closed_path = Path(msg["closed"]) if msg["closed"] else None
                    break
        finally:
            self._proc = None
            for pipe in (proc.stdin, proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            remove(self._ring_path)
            self._ring_path = None
        self._raise()
        return self._closed_path

    def __enter__(self) -> "ProcessEncodedWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(complete=exc_type is None)


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
