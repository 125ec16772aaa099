"""`H264Writer`: writes BGR frames to an H.264/MP4 file that plays in browsers and on phones.

Encoded with PyAV's libx264 (yuv420p, `+faststart` so a browser can start playing before the whole file
has arrived). The file is written under a temporary name (`annotated.part.mp4`) and renamed when closed
as complete; a writer closed by an exception, or with `close(complete=False)`, finishes the file so it
plays but leaves it under the temporary name, so a clip cut short is never mistaken for a finished one.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def even_size_wh(size_wh: tuple[int, int]) -> tuple[int, int]:
    """`size_wh` cut to even numbers: yuv420p needs them."""
    w, h = size_wh
    return int(w) - int(w) % 2, int(h) - int(h) % 2


def partial_path_of(path: Path) -> Path:
    """Where a clip is written until it is complete: `annotated.mp4` -> `annotated.part.mp4`."""
    return path.with_name(path.stem + ".part" + path.suffix)


class H264Writer:
    def __init__(self, path: str | Path, fps: float, size_wh: tuple[int, int], crf: int = 23,
                 preset: str = "veryfast", threads: int = 0) -> None:
        import av

        self.path = Path(path)
        self._tmp = partial_path_of(self.path)
        self.size_wh = even_size_wh(size_wh)
        rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(30)
        self._container = av.open(str(self._tmp), mode="w", options={"movflags": "+faststart"})
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = self.size_wh
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": preset}
        if threads:
            self._stream.codec_context.thread_count = threads
        self._time_base = Fraction(1, 1000)
        self._stream.codec_context.time_base = self._time_base
        self._last_pts = -1
        self.frames_written = 0

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Add one BGR frame; `time_s` (seconds) keeps the source's timing, else frames are evenly spaced."""
        import av

        w, h = self.size_wh
        if image.shape[1] != w or image.shape[0] != h:
            image = image[:h, :w]
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        if time_s is None:
            pts = int(round(self.frames_written / float(self._stream.average_rate or 30) * 1000))
        else:
            pts = int(round(time_s * 1000))
        if pts <= self._last_pts:
            pts = self._last_pts + 1
        frame.pts, frame.time_base = pts, self._time_base
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self, complete: bool = True) -> Path | None:
        """Finish the file; rename it to `path` if `complete` (returns the path), else return None."""
        if self._container is None:
            return self.path if self.path.exists() else None
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None
        if self.frames_written == 0:
            self._tmp.unlink(missing_ok=True)
            return None
        if not complete:
            return None
        self._tmp.replace(self.path)
        return self.path

    @property
    def partial_path(self) -> Path:
        """Where the file is while being written, and stays if closed incomplete."""
        return self._tmp

    def __enter__(self) -> "H264Writer":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(complete=exc_type is None)


def capped_size_wh(size_wh: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    """`size_wh` scaled down (aspect kept, even numbers for yuv420p) so its long side is at most `max_side`.

    >>> capped_size_wh((1920, 1080), 1280), capped_size_wh((1080, 1920), 1280), capped_size_wh((640, 480), 1280)
    ((1280, 720), (720, 1280), (640, 480))
    """
    w, h = int(size_wh[0]), int(size_wh[1])
    if not max_side or max(w, h) <= max_side:
        return w, h
    k = max_side / max(w, h)
    return max(2, int(round(w * k / 2)) * 2), max(2, int(round(h * k / 2)) * 2)
