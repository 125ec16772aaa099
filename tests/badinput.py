"""Generators for the bad-input corpus: awkward and damaged files made on the fly, never committed.

Each generator writes into the folder it is given and returns the path it made. Clips are small (a few
frames, small sizes) so the tests that run the pose model on them stay fast. Only ffmpeg from PyPI
(`imageio-ffmpeg`), PyAV, numpy and OpenCV are used; ffmpeg is always called with an argument list.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from tests.conftest import SAMPLES

#: A real person filmed upright (pose2sim, portrait 1080x1920 at 60 fps, 100 frames).
PERSON_CLIP = SAMPLES / "pose2sim_single_cam02.mp4"


def ffmpeg(*args: str | Path) -> None:
    """Run the ffmpeg binary shipped by imageio-ffmpeg (an argument list, never a shell string)."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-nostdin", "-loglevel", "error", *map(str, args)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


# -- frames ------------------------------------------------------------------------------------------
def read_frames(path: Path, n: int, size_wh: tuple[int, int] | None = None, start: int = 0,
                step: int = 1) -> list[np.ndarray]:
    """`n` upright BGR frames of a clip (every `step`-th from `start`), optionally resized to `size_wh`."""
    import cv2

    from glutecam.sources import VideoFileSource

    frames = []
    for frame in VideoFileSource(path):
        if frame.index < start or (frame.index - start) % step:
            continue
        img = frame.image
        if size_wh is not None:
            img = cv2.resize(img, size_wh, interpolation=cv2.INTER_AREA)
        frames.append(img)
        if len(frames) == n:
            break
    return frames


def scene_frames(n: int, w: int = 320, h: int = 240) -> list[np.ndarray]:
    """A room with nobody in it: a textured wall, a floor and a box that slides (so the video changes)."""
    rng = np.random.default_rng(7)
    wall = (rng.integers(90, 140, (h, w, 1)) + np.array([20, 10, 0])).astype(np.uint8)
    frames = []
    for i in range(n):
        f = wall.copy()
        f[int(h * 0.7):] = (60, 80, 100)
        x = 10 + 4 * i
        f[int(h * 0.5):int(h * 0.7), x:x + w // 6] = (30, 120, 200)
        frames.append(f)
    return frames


# -- encoding ----------------------------------------------------------------------------------------
def encode(path: Path, frames: list[np.ndarray], fps: float = 30.0, times_s: list[float] | None = None,
           faststart: bool = False, codec: str = "libx264") -> Path:
    """Encode BGR frames to MP4 with PyAV. `faststart` puts the index (moov) before the data, as phones
    and web services do; without it the index is written last, as a plain ffmpeg or a camera does."""
    import av

    path = Path(path)
    h, w = frames[0].shape[:2]
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as c:
        s = c.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        tb = Fraction(1, 1000)
        s.codec_context.time_base = tb
        for i, img in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            t = times_s[i] if times_s is not None else i / fps
            vf.pts, vf.time_base = int(round(t * 1000)), tb
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def with_rotation(src: Path, dst: Path, rotation_deg: int) -> Path:
    """Copy a clip, adding display-matrix rotation metadata (what a phone held upright writes)."""
    ffmpeg("-display_rotation", str(rotation_deg), "-i", src, "-c", "copy", dst)
    return dst


def trimmed_copy(src: Path, dst: Path, start_s: float) -> Path:
    """`src` from `start_s` on, without re-encoding (as a phone's "trim" does): the copy begins at the
    keyframe before `start_s` and an edit list tells players to skip the frames before it."""
    ffmpeg("-ss", str(start_s), "-i", src, "-c", "copy", dst)
    return dst


def truncated(src: Path, dst: Path, keep: float | int) -> Path:
    """The first `keep` bytes of `src` (an int) or that fraction of it (a float): an interrupted copy."""
    data = Path(src).read_bytes()
    n = keep if isinstance(keep, int) else int(len(data) * keep)
    dst.write_bytes(data[:n])
    return dst


def person_frames(n: int, size_wh: tuple[int, int] = (180, 320), step: int = 2) -> list[np.ndarray]:
    """`n` frames of a real person (every `step`-th of `PERSON_CLIP`), shrunk to `size_wh`."""
    return read_frames(PERSON_CLIP, n, size_wh=size_wh, step=step)
