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


class H264Writer:
    def __init__(self, path: str | Path, fps: float, size_wh: tuple[int, int], crf: float = 23,
                 preset: str = "veryfast", threads: int = 0, keyint: int | None = None,
                 x264: dict[str, int] | None = None) -> None:
        """`keyint`: a keyframe exactly every `keyint` frames and none elsewhere, every group of pictures
        closed, so that groups can be encoded again and spliced in (`glutecam.gop_splice`). `x264`: libx264's
        settings to change from the preset's, e.g. {"subme": 0}."""
        import av

        self.path = Path(path)
        self._tmp = self.path.with_name(self.path.stem + ".part" + self.path.suffix)
        w, h = size_wh
        self.size_wh = (w - w % 2, h - h % 2)  # yuv420p needs even dimensions
        rate = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(30)
        self._container = av.open(str(self._tmp), mode="w", options={"movflags": "+faststart"})
        self._stream = self._container.add_stream("libx264", rate=rate)
        self._stream.width, self._stream.height = self.size_wh
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": preset}
        params = []
        if keyint:  # x264 caps min-keyint at keyint/2+1; without scene cuts keyframes come every keyint frames
            params.append(f"keyint={keyint}:min-keyint={keyint}:scenecut=0:open-gop=0")
        params += [f"{k}={int(v)}" for k, v in (x264 or {}).items()]
        if params:
            self._stream.options |= {"x264-params": ":".join(params)}
        self.keyint = keyint
        if threads:
            self._stream.codec_context.thread_count = threads
        self._time_base = Fraction(1, 1000)
        self._stream.codec_context.time_base = self._time_base
        self._last_pts = -1
        self.frames_written = 0

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Add one BGR frame; `time_s` (seconds) keeps the source's timing, else frames are evenly spaced."""
        import av

        import cv2

        w, h = self.size_wh
        if image.shape[1] != w or image.shape[0] != h:
            image = image[:h, :w]
        # OpenCV's BGR -> YUV 4:2:0 (BT.601, limited range, as swscale's default): 0.6 ms of CPU a 720p frame.
        # Handing PyAV the BGR frame cost 3.5 ms to take it in and 1.6 to convert (PyAV 18); writing a 720p
        # frame went from 9.4 to 6.4 ms.
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
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


class BackgroundWriter:
    """Encodes on a worker thread: `write` hands the frame over a bounded queue and returns at once.

    Wraps a writer with `write(image, time_s)`, `close(complete)` and `size_wh` (an `H264Writer`). Frames are
    written in the order given; at most `maxsize` wait, so a slow encoder holds the caller back instead of
    letting memory grow. An image of another size than the writer's is scaled to it (bilinear) on
    the worker. An error on the worker is raised by the next `write` or by `close`. PyAV releases the GIL
    for part of libx264's work, so this overlaps encoding with drawing; encoding in a child process instead
    was measured slower (16 vs 12 ms a 720p frame: its copies and x264's threads cost more than the GIL).
    """

    _END = object()

    def __init__(self, writer, maxsize: int = 4) -> None:
        import queue
        import threading

        self.writer = writer
        self.size_wh = writer.size_wh
        self._queue: "queue.Queue" = queue.Queue(maxsize=max(1, maxsize))
        self._error: BaseException | None = None  # not yet raised to the caller
        self._failed = False  # an error happened: the clip cannot be complete
        self._thread = threading.Thread(target=self._work, name="glutecam-encode", daemon=True)
        self._thread.start()
        self._closed = False

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if self._failed:
                continue  # drain without writing: keep the producer from blocking
            image, time_s = item
            try:
                w, h = self.size_wh
                if image.shape[1] != w or image.shape[0] != h:
                    import cv2

                    image = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
                self.writer.write(image, time_s)
            except BaseException as exc:  # handed to the caller
                self._error, self._failed = exc, True

    def _raise(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, None
            raise exc

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        import queue

        self._raise()
        while True:
            try:
                self._queue.put((image, time_s), timeout=0.1)
                return
            except queue.Full:
                if not self._thread.is_alive():  # pragma: no cover - the worker only ends on _END
                    raise RuntimeError("the encoder thread has stopped") from None
                self._raise()

    @property
    def frames_written(self) -> int:
        return self.writer.frames_written

    @property
    def partial_path(self) -> Path:
        return self.writer.partial_path

    def close(self, complete: bool = True) -> Path | None:
        """Wait for the queued frames, then close the wrapped writer (see `H264Writer.close`)."""
        if not self._closed:
            self._closed = True
            self._queue.put(self._END)
            self._thread.join()
        error, self._error = self._error, None
        path = self.writer.close(complete=complete and not self._failed)
        if error is not None:
            raise error
        return path

    def __enter__(self) -> "BackgroundWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(complete=exc_type is None)
