"""Frame sources: a video file, a webcam, and a replay of a file at real-time pace.

Each yields `Frame`s: an upright BGR image (rotation metadata already applied), its index in the source,
its presentation time in seconds (from the container for files, from the clock for cameras), and the
monotonic clock reading when it was captured (for latency measurement).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from glutecam.pose import Candidate


class SourceError(RuntimeError):
    """A source that cannot be opened or read; the message is meant for the user."""


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) uint8 BGR, upright
    index: int  # position in the source (counts dropped frames too)
    time_s: float  # presentation time, s from the start of the source
    captured_at: float  # time.monotonic() when the frame became available
    rgb: bool = False  # True: `image` holds RGB, not BGR (a source asked to convert for the pose model)
    # the people a census of this frame found, when the source took one (`pose.CensusSpec`)
    census: list[Candidate] | None = None


@dataclass(frozen=True)
class VideoInfo:
    path: str
    width: int  # after rotation
    height: int
    fps: float  # average frame rate from the container (informative; timestamps are authoritative)
    n_frames: int | None  # from the container, None when unknown
    duration_s: float | None
    rotation_deg: int  # rotation applied to make frames upright
    codec: str


def _rotate(image: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Turn a decoded frame upright. `rotation_deg` is the display-matrix rotation, counter-clockwise."""
    r = rotation_deg % 360
    if r == 0:
        return image
    if r == 90:
        return np.ascontiguousarray(np.rot90(image, 1))
    if r == 180:
        return np.ascontiguousarray(image[::-1, ::-1])
    if r == 270:
        return np.ascontiguousarray(np.rot90(image, -1))
    return image


class VideoFileSource:
    """Decode a video file with PyAV, honouring rotation metadata and container timestamps.

    Iterate to get frames; `info` describes the stream. A file that cannot be opened raises `SourceError`.
    A stream that breaks part-way stops the iteration and sets `error` to what went wrong (frames already
    yielded stay valid). `stride` keeps every n-th frame (for 60 fps clips analysed at 30 fps).
    """

    def __init__(self, path: str | Path, stride: int = 1, threads: bool = True) -> None:
        import av  # local import: keeps `import glutecam` light

        self.path = Path(path)
        self.stride = max(1, int(stride))
        self.error: str | None = None
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file")
        if self.path.is_dir():
            raise SourceError(f"{self.path}: is a folder, not a video file")
        if self.path.stat().st_size == 0:
            raise SourceError(f"{self.path}: the file is empty (0 bytes)")
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except Exception as exc:
            raise SourceError(f"{self.path}: {_damage(self.path) or f'not a readable video ({_short(exc)})'}") from None
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(f"{self.path}: {_damage(self.path) or 'contains no video stream'}")
        self._stream = self._container.streams.video[0]
        if threads:
            self._stream.thread_type = "AUTO"
        self._first_frame = None
        try:
            self._first_frame = self._read_first()
        except Exception as exc:
            self._container.close()
            raise SourceError(f"{self.path}: no frame could be decoded; "
                              f"{_damage(self.path) or _short(exc)}") from None
        if self._first_frame is None:
            self._container.close()
            damage = _damage(self.path)
            raise SourceError(f"{self.path}: no frame could be decoded{'; ' + damage if damage else ''}")
        rot = int(getattr(self._first_frame, "rotation", 0) or 0)
        w, h = self._stream.codec_context.width, self._stream.codec_context.height
        if rot % 180 == 90:
            w, h = h, w
        s = self._stream
        rate = float(s.average_rate) if s.average_rate else (float(s.guessed_rate) if s.guessed_rate else 0.0)
        duration = float(s.duration * s.time_base) if s.duration and s.time_base else None
        self.info = VideoInfo(
            path=str(self.path),
            width=int(w),
            height=int(h),
            fps=rate / self.stride if rate else 0.0,
            n_frames=(int(s.frames) if s.frames else None),
            duration_s=duration,
            rotation_deg=rot,
            codec=s.codec_context.name,
        )

    def _read_first(self):
        self._decoder = self._container.decode(self._stream)
        for frame in self._decoder:
            return frame
        return None

    def _frame_time(self, frame, index: int) -> float:
        if frame.pts is not None and frame.time_base is not None:
            return float(frame.pts * frame.time_base)
        fps = self.info.fps * self.stride if self.info.fps else 30.0
        return index / fps

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def frames(self, size_wh: tuple[int, int] | None = None, rgb: bool = False) -> Iterator[Frame]:
        """The frames, scaled to `size_wh` (w, h of the upright frame, px; bilinear) and in RGB order when
        `rgb`, both done by the decoder's converter in the same step as the YUV to BGR conversion."""
        if self._first_frame is None:
            return
        rot = self.info.rotation_deg
        fmt = "rgb24" if rgb else "bgr24"
        scale = {}
        if size_wh is not None and tuple(size_wh) != (self.info.width, self.info.height):
            w, h = size_wh if rot % 180 == 0 else size_wh[::-1]  # the decoder's frame is not yet upright
            scale = {"width": int(w), "height": int(h), "interpolation": "BILINEAR"}
        t0 = None
        read_s = 0.0  # how far into the stream the frames read reach, s
        index = 0
        pending = self._first_frame
        self._first_frame = None
        while True:
            if pending is None:
                try:
                    pending = next(self._decoder)
                except StopIteration:
                    self.error = self._cut_short(index, read_s)
                    break
                except Exception as exc:
                    # a cut file is said the same way whether the decoder raised (single-threaded, as on
                    # one core) or just stopped (frame-threaded): `_cut_short`
                    damage = _damage(self.path)
                    self.error = (f"{self._read_up_to(index, read_s)}: {damage}" if damage else
                                  f"decoding failed after {index} frames ({read_s:.2f} s): "
                                  f"damaged data ({_short(exc)})")
                    break
            frame, pending = pending, None
            t = self._frame_time(frame, index)
            if t0 is None:
                t0 = t
            read_s = t - t0
            if index % self.stride == 0:
                image = _rotate(frame.to_ndarray(format=fmt, **scale), rot)
                yield Frame(image=image, index=index, time_s=read_s, captured_at=time.monotonic(), rgb=rgb)
            index += 1
        self.close()

    def _cut_short(self, n_decoded: int, read_s: float) -> str | None:
        """Why a stream that ended without an error is incomplete, or None. The threaded decoder does not
        always report a truncated file, so the frames decoded are compared with the container's count."""
        expected = self.info.n_frames
        missing = expected - n_decoded if expected else 0
        if expected and missing <= 2:
            return None
        damage = _damage(self.path)
        if damage is None:
            # Frames the container counts but the decoder skips (an edit list: a clip trimmed without
            # re-encoding starts mid-GOP) are not damage; the file is whole if what was read reaches its end.
            duration, rate = self.info.duration_s, (self.info.fps * self.stride) or 30.0
            if not expected or duration is None or read_s >= duration - max(3 / rate, 0.2):
                return None
        return f"{self._read_up_to(n_decoded, read_s)}: {damage or 'the rest of the file is missing or damaged'}"

    def _read_up_to(self, n_decoded: int, read_s: float) -> str:
        """"only the first N of M frames could be read (up to T s of D s)", M and D when the container says."""
        expected = self.info.n_frames
        missing = expected - n_decoded if expected else 0
        where = f"only the first {n_decoded}" + (f" of {expected}" if missing > 0 else "")
        where += f" frames could be read (up to {read_s:.2f} s"
        return where + (f" of {self.info.duration_s:.2f} s)" if self.info.duration_s and missing > 0 else ")")

    def close(self) -> None:
        try:
            self._container.close()
        except Exception:
            pass

    def __enter__(self) -> "VideoFileSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _short(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)  # PyAV errors: the message without errno and file name
    text = str(strerror or exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text[:200]


def _damage(path: Path) -> str | None:
    from glutecam.containers import describe_damage

    try:
        return describe_damage(path)
    except OSError:
        return None


def probe_cameras(max_index: int = 5) -> list[int]:
    """Indices of the cameras OpenCV can open (0..max_index-1)."""
    import cv2

    found = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                found.append(i)
        finally:
            cap.release()
    return found


class WebcamSource:
    """Frames from a camera by index, timestamped by the monotonic clock at capture.

    Raises `SourceError` listing the cameras that were found when the index cannot be opened. When the
    camera stops delivering (unplugged), the iteration ends and `error` says so.
    """

    def __init__(self, index: int = 0, width: int | None = None, height: int | None = None) -> None:
        import cv2

        self.error: str | None = None
        self._cap = cv2.VideoCapture(int(index))
        if not self._cap.isOpened():
            self._cap.release()
            found = probe_cameras()
            listed = ", ".join(str(i) for i in found) if found else "none"
            raise SourceError(f"camera {index} could not be opened; cameras found: {listed}")
        if width:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep only the newest frame in the driver
        w = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(self._cap.get(cv2.CAP_PROP_FPS)) or 30.0
        self.info = VideoInfo(f"camera:{index}", w, h, fps, None, None, 0, "camera")

    def __iter__(self) -> Iterator[Frame]:
        t0 = None
        index = 0
        while True:
            ok, image = self._cap.read()
            now = time.monotonic()
            if not ok or image is None:
                self.error = "the camera stopped delivering frames (unplugged?)"
                break
            t0 = now if t0 is None else t0
            yield Frame(image=image, index=index, time_s=now - t0, captured_at=now)
            index += 1
        self.close()

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> "WebcamSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class ReplaySource:
    """Plays a video file at real-time pace, like a camera: a slow consumer gets the newest frame.

    A child process decodes (as a camera's own hardware would, it does not compete with the pose model for
    Python's GIL) and a background thread publishes each frame when its timestamp comes due (scaled by
    `speed`); an unread frame is replaced by the next one and counted in `dropped`. Iterating yields the newest frame
    not yet seen, waiting for it if necessary, until the file ends.
    """

    def __init__(self, path: str | Path, speed: float = 1.0) -> None:
        self._source = VideoFileSource(path)
        self.info = self._source.info
        self.speed = float(speed)
        self.dropped = 0
        self.delivered = 0
        self.error: str | None = None
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._done = False
        self._stop = False
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        from glutecam.decode_worker import ProcessDecodedSource

        start = None  # the clock starts with the first frame, once the decoding process is up
        try:
            for frame in ProcessDecodedSource(self._source):
                frame.image = frame.image.copy()  # the decoder reuses its buffer; the consumer may hold this
                if start is None:
                    start = time.monotonic() - frame.time_s / self.speed
                due = start + frame.time_s / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if self._stop:
                    break
                frame.captured_at = time.monotonic()
                with self._cond:
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = frame
                    self._cond.notify()
        finally:
            self.error = self._source.error
            with self._cond:
                self._done = True
                self._cond.notify()

    def __iter__(self) -> Iterator[Frame]:
        self._thread = threading.Thread(target=self._run, name="glutecam-replay", daemon=True)
        self._thread.start()
        try:
            while True:
                with self._cond:
                    while self._latest is None and not self._done:
                        self._cond.wait()
                    frame, self._latest = self._latest, None
                    if frame is None:
                        return
                self.delivered += 1
                yield frame
        finally:
            self.close()

    def close(self) -> None:
        self._stop = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._source.close()  # also when iteration never began

    def __enter__(self) -> "ReplaySource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
