"""JPEGs of every analysed frame, made by the decoding process during the pose pass (`FrameJpegFile`), and
the rule that picks the frame nearest a moment (`NearestPicker`).

Both later outputs need pixels at moments only the analysis knows, after the pose pass: the report's stills
and the annotated clip. Decoding the source a second time costs about 11 ms of CPU a 1080p frame. The
decoding process has time to spare on its core while the model runs, so it keeps a JPEG of every frame it
hands over in a file (on disk, not in memory):
- without a clip, a 360 px still (`thumbnail_jpeg`, about 10-40 kB a frame), for the report;
- with a clip, the frame at the clip's size (`clip_frame`, then `clip_frame_jpeg`, quality 90, about
  100-250 kB a 1280x720 frame), which the clip pass draws on instead of decoding the source again (a JPEG
  decodes in 3-4 ms; most frames also reach the clip process raw, `glutecam.raw_frames`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: The width of a report still, px.
STILL_WIDTH = 360
#: JPEG quality of the frames kept for the clip: its artefacts stay under those of the clip's H.264
#: (`analyse.CLIP_CRF`).
CLIP_FRAME_QUALITY = 90


def thumbnail_jpeg(image: np.ndarray, rgb: bool = False, width: int = STILL_WIDTH) -> bytes:
    """`image` (BGR, or RGB when `rgb`) at most `width` px wide, JPEG quality 80.

    Averaged by area throughout (no aliasing); halved first while at least four times too wide, which takes
    OpenCV's fast path for whole factors: a direct area resize of a 1080p frame costs 7 ms, this about 2."""
    import cv2

    while image.shape[1] >= 4 * width:
        h, w = image.shape[:2]
        image = cv2.resize(image[: h // 2 * 2, : w // 2 * 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    h, w = image.shape[:2]
    if w > width:
        image = cv2.resize(image, (width, max(1, int(round(h * width / w)))), interpolation=cv2.INTER_AREA)
    if rgb:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:  # pragma: no cover - OpenCV cannot fail on a uint8 image
        raise RuntimeError("could not compress a thumbnail")
    return buf.tobytes()


class NearestPicker:
    """Picks, from frames offered in time order, `convert(item)` of the one nearest each of `times_s` (the
    earlier one on a tie). Push-based, so a loop that is doing something else with every frame (decoding for
    the report, drawing the annotated clip) can pick stills on the way; only the previous item is held."""

    def __init__(self, times_s: list[float], convert: Callable[[Any], Any] = lambda im: im) -> None:
        self.times_s = list(times_s)
        self.convert = convert
        self.out: list[Any] = [None] * len(self.times_s)
        self._order = sorted(range(len(self.times_s)), key=lambda i: self.times_s[i])
        self._k = 0
        self._prev: Any = None
        self._prev_t = 0.0
        self._have_prev = False

    @property
    def done(self) -> bool:
        return self._k == len(self._order)

    def offer(self, t: float, item: Any) -> None:
        """The next frame, at `t` seconds (times must not decrease)."""
        while self._k < len(self._order) and t >= self.times_s[self._order[self._k]]:
            target = self.times_s[self._order[self._k]]
            nearer_prev = self._have_prev and abs(self._prev_t - target) <= abs(t - target)
            self.out[self._order[self._k]] = self.convert(self._prev if nearer_prev else item)
            self._k += 1
        self._prev, self._prev_t, self._have_prev = item, t, True

    def finish(self) -> list[Any]:
        """The picks; times after the last frame get the last frame (a clip damaged or cut short)."""
        if self._have_prev and not self.done:
            last = self.convert(self._prev)
            for i in self._order[self._k:]:
                self.out[i] = last
            self._k = len(self._order)
        return self.out


def clip_frame(image: np.ndarray, size_wh: tuple[int, int], rgb: bool = False) -> np.ndarray:
    """`image` (BGR, or RGB when `rgb`) scaled to `size_wh` (w, h, px; bilinear, as the clip pass scales), in
    BGR order."""
    import cv2

    if (image.shape[1], image.shape[0]) != tuple(size_wh):
        image = cv2.resize(image, tuple(int(v) for v in size_wh), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if rgb else image


def clip_frame_jpeg(frame: np.ndarray, quality: int = CLIP_FRAME_QUALITY) -> bytes:
    """A `clip_frame` (BGR) JPEG-compressed."""
    import cv2

    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV cannot fail on a uint8 image
        raise RuntimeError("could not compress a frame")
    return buf.tobytes()


class FrameJpegFile:
    """The JPEGs of one pass, one a frame: bytes appended to `path` by the decoding process; here, where
    each frame's lie (`add`), the one nearest a moment (`nearest`), and all of them decoded (`images`).

    `size_wh`: None for report stills (`thumbnail_jpeg`), else the clip's size (`clip_frame_jpeg`). Each frame
    may also have a raw copy for a while (`add`'s `raw_slot`: see `glutecam.raw_frames`).
    """

    def __init__(self, path: str | Path, size_wh: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self.size_wh = tuple(size_wh) if size_wh else None
        self.times_s: list[float] = []
        self._spans: list[tuple[int, int]] = []
        self._raw_slots: list[int | None] = []

    def add(self, time_s: float, offset: int, length: int, raw_slot: int | None = None) -> None:
        """The thumbnail of the frame at `time_s` (s, increasing) is bytes `offset`..`offset+length`;
        `raw_slot`: the slot of the frame's raw copy in a `raw_frames` ring, if it has one."""
        self.times_s.append(float(time_s))
        self._spans.append((int(offset), int(length)))
        self._raw_slots.append(raw_slot)

    def take_raw_slot(self, i: int) -> int | None:
        """The ring slot of the `i`-th frame's raw copy, once: None if it had none or it was taken."""
        slot, self._raw_slots[i] = self._raw_slots[i], None
        return slot

    def nearest(self, times_s: list[float]) -> list[bytes | None]:
        """The thumbnail of the frame nearest each time (the earlier one on a tie: `NearestPicker`'s rule, so
        the same frames as stills picked from a decode of the clip)."""
        picker = NearestPicker(times_s)
        for i, t in enumerate(self.times_s):
            picker.offer(t, i)
            if picker.done:
                break
        picks = picker.finish()
        out: list[bytes | None] = [None] * len(picks)
        try:
            with open(self.path, "rb") as fh:
                for k, i in enumerate(picks):
                    if i is not None:
                        offset, length = self._spans[i]
                        fh.seek(offset)
                        data = fh.read(length)
                        out[k] = data if len(data) == length else None  # a child killed mid-write
        except OSError:  # the temporary folder was cleaned meanwhile: a report without stills
            pass
        return out

    def covers(self, times_s: np.ndarray) -> bool:
        """Whether it holds a frame at each of `times_s` (s), in order and none else: the pass it was made
        in was not cut short by a full disk."""
        return len(self.times_s) == len(times_s) and np.allclose(self.times_s, times_s, atol=1e-6)

    def __len__(self) -> int:
        return len(self.times_s)

    def __bool__(self) -> bool:
        """True, also while it holds no frame yet: a file to fill, not a collection (`if jpegs and ...` once
        sent the clip's size nowhere while the file was still empty).

        >>> bool(FrameJpegFile("x.jpgs")), len(FrameJpegFile("x.jpgs"))
        (True, 0)
        """
        return True

    def entries(self, start: int = 0) -> list[tuple[float, int, int, int | None]]:
        """(time s, offset, length, raw slot) of each frame from the `start`-th on, as `add` takes them: to
        hand the file over to another process."""
        return [(t, *span, slot) for t, span, slot in
                zip(self.times_s[start:], self._spans[start:], self._raw_slots[start:])]

    def image(self, fh, i: int) -> np.ndarray:
        """The `i`-th frame decoded (BGR, uint8), read from `fh` (this file, open for reading). Raises OSError
        if it is missing or damaged."""
        import cv2

        offset, length = self._spans[i]
        fh.seek(offset)
        data = fh.read(length)
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if len(data) == length else None
        if image is None:
            raise OSError(f"{self.path}: a frame at byte {offset} is missing or damaged")
        return image

    def images(self) -> Iterator[np.ndarray]:
        """Every frame, decoded (BGR, uint8), in order. Raises OSError if the file is gone or cut short."""
        with open(self.path, "rb") as fh:
            for i in range(len(self._spans)):
                yield self.image(fh, i)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
