"""Decode a video file in a child process and hand its frames over through shared memory.

MediaPipe's Python API gives up and retakes Python's GIL around each of its several calls into its C library
a frame; beside a decoding *thread* busy in Python each retake waits, and the two take turns instead of
running side by side (measured: a busy Python thread slows inference 2.5x).
A child process has its own interpreter: it decodes (and converts, and scales) on the other core while the
parent runs the model. Frames travel through a `frame_ring`; only slot numbers and timestamps go through
the child's stdin and stdout, one line each, so the parent copies nothing.

With a `census` (`pose.CensusSpec`), the child also takes the pose stage's census of people in view on the
frames the spec's clock picks, before handing each over with its census (`Frame.census`). The census is a
second, single-image landmarker; taken here it runs on the decoding core, which has time to spare and
works a few frames ahead, instead of between two of the parent's frames (5 % of the model's time on the
Sports2D demo). It sees the same RGB pixels as the parent would, so its result is the one the parent would
have had.

The child is a plain `python -m glutecam.decode_worker` (not `multiprocessing`, which would re-import the
caller's main script). It ignores Ctrl+C and SIGTERM (the parent decides when to stop) and exits when its stdin closes,
so it never outlives the parent. Opening errors are found by the parent (`VideoFileSource`) before it starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

from glutecam.cores import pin_thread
from glutecam.frame_ring import create_ring_file, map_ring, remove
from glutecam.raw_frames import RawFrameRing, RawFrameWriter
from glutecam.sources import Frame, SourceError, VideoFileSource
from glutecam.thumbnails import FrameJpegFile, clip_frame, clip_frame_jpeg, thumbnail_jpeg

#: How the reason a stream ended early starts when the decoding process died (the file itself may be fine).
DIED = "the decoding process ended unexpectedly"


class _ChildCensus:
    """The child's census: its landmarker made on a thread while the first frames are decoded."""

    def __init__(self, spec: dict, rgb: bool) -> None:
        import threading

        from glutecam.pose import CensusClock, CensusSpec

        self.spec = CensusSpec.from_json(spec)
        self.clock = CensusClock(self.spec.every_s)
        self.rgb = rgb
        self._landmarker = None
        self.error: str | None = None
        self._made = threading.Thread(target=self._make, name="census-model", daemon=True)
        self._made.start()

    def _make(self) -> None:
        try:
            self._landmarker = self.spec.landmarker()
        except Exception as exc:  # reported with each census; decoding goes on
            self.error = f"{type(exc).__name__}: {exc}"

    def people(self, image) -> list[dict] | None:
        """The census of one frame, as `Candidate.to_json` dicts (None if the landmarker failed)."""
        import mediapipe as mp

        from glutecam.pose import candidates_from_result, model_rgb

        self._made.join()
        if self._landmarker is None:
            return None
        image = model_rgb(image, self.rgb)
        h, w = image.shape[:2]
        try:
            result = self._landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=image))
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            return None
        return [c.to_json() for c in candidates_from_result(result, w, h)]


def _child(args: dict) -> None:
    """The decoding loop: fill a free slot, print {"slot", "index", "time_s"} (and "census": the people found
    or null with "census_error", on the frames the census clock picks); {"end": error} when done."""
    for sig in (signal.SIGINT, signal.SIGTERM):  # sent to the whole group: the parent stops, then so do we
        signal.signal(sig, signal.SIG_IGN)
    pin_thread(args.get("cores"))  # before any thread starts (the census model's, the decoder's)
    out = sys.stdout
    slots, (w, h) = args["slots"], args["size_wh"]
    ring = map_ring(args["ring"], slots, w, h)
    out.write('{"ready": true}\n')
    out.flush()
    free = list(range(slots))
    thumbs = open(args["thumbs"], "ab") if args.get("thumbs") else None
    jpeg_wh = args.get("jpeg_size_wh")
    raw = RawFrameWriter(args["raw"]) if args.get("raw") and jpeg_wh else None
    census = _ChildCensus(args["census"], args["rgb"]) if args.get("census") else None
    try:
        source = VideoFileSource(args["path"], stride=args["stride"])
        for frame in source.frames(size_wh=(w, h), rgb=args["rgb"]):
            if not free:
                line = sys.stdin.readline()
                if not line:  # the parent closed: stop
                    return
                free.append(int(line))
            slot = free.pop()
            ring[slot] = frame.image
            msg = {"slot": slot, "index": frame.index, "time_s": frame.time_s}
            if census is not None and census.clock.due(frame.time_s):
                msg["census"] = census.people(ring[slot])  # the slot's copy: the pixels the parent's model gets
                if msg["census"] is None:
                    msg["census_error"] = census.error
            out.write(json.dumps(msg) + "\n")
            out.flush()
            if thumbs is not None:  # after the frame is on its way: the model need not wait for this
                if jpeg_wh:  # the frame at the clip's size
                    small = clip_frame(frame.image, jpeg_wh, rgb=args["rgb"])
                    jpeg = clip_frame_jpeg(small)
                else:  # a report still
                    small, jpeg = None, thumbnail_jpeg(frame.image, rgb=args["rgb"])
                try:
                    offset = thumbs.tell()
                    thumbs.write(jpeg)
                    thumbs.flush()
                except OSError:  # a full disk costs the report its stills (or the clip pass a decode), not the analysis
                    thumbs.close()
                    thumbs = None
                    continue
                msg = {"thumb": [frame.time_s, offset, len(jpeg)]}
                if raw is not None and (slot := raw.put(small)) is not None:
                    msg["raw"] = slot
                out.write(json.dumps(msg) + "\n")
        out.write(json.dumps({"end": source.error}) + "\n")
    except (BrokenPipeError, OSError):
        return  # the parent went away
    except Exception as exc:  # reported to the parent, which raises it
        out.write(json.dumps({"fail": f"{type(exc).__name__}: {exc}"}) + "\n")
    finally:
        try:
            out.flush()
        except OSError:
            pass
        if thumbs is not None:
            thumbs.close()


class ProcessDecodedSource:
    """Frames of a video file decoded by a child process (see the module docstring).

    Same frames, indices and times as iterating `source` (a `VideoFileSource`, already opened: its `info`
    and stride are used), optionally scaled to `size_wh` (w, h, px) and/or in RGB order (`rgb`, and
    `Frame.rgb` says so). After iterating, `error` (and the wrapped source's `error`) says why the stream
    ended early, if it did (a damaged file, or the child dying after some frames). Each `Frame.image` is a
    view of a shared buffer that is reused once the next frame is requested: copy it to keep it longer.
    With `jpegs`, the child also keeps a JPEG of every frame it hands over in that file (`glutecam.thumbnails`:
    a report still, or the frame at the file's `size_wh`); with `raw` too (a `glutecam.raw_frames.RawFrameRing`,
    for the clip process), a raw copy of that frame when the ring has a free slot, its slot noted in `jpegs`.
    With `census` (a `pose.CensusSpec`), the frames it picks carry `Frame.census` (see the module docstring);
    `census_error` says why a census failed, if one did (that frame then has none). `cores`: the CPU cores
    the child keeps to (`glutecam.cores`), None for any.
    """

    def __init__(self, source: VideoFileSource, size_wh: tuple[int, int] | None = None, rgb: bool = False,
                 slots: int = 4, jpegs: FrameJpegFile | None = None, census=None,
                 cores: tuple[int, ...] | None = None, raw: RawFrameRing | None = None) -> None:
        self.source = source
        self.info = source.info
        self.error: str | None = None
        self.size_wh = tuple(size_wh) if size_wh else (self.info.width, self.info.height)
        self.rgb = rgb
        self.slots = max(2, int(slots))
        self.jpegs = jpegs
        self.census = census
        self.census_error: str | None = None
        self.cores = cores
        self.raw = raw if jpegs is not None and jpegs.size_wh else None  # raw copies of clip frames only
        self._proc: subprocess.Popen | None = None
        self._ring_path: str | None = None

    def start(self) -> "ProcessDecodedSource":
        """Start the child now (iterating starts it otherwise): its start-up then overlaps the caller's."""
        if self._proc is not None:
            return self
        w, h = self.size_wh
        self._ring_path = create_ring_file(self.slots, w, h)
        args = {"path": str(self.source.path), "stride": self.source.stride, "size_wh": [w, h], "rgb": self.rgb,
                "ring": self._ring_path, "slots": self.slots,
                "thumbs": str(self.jpegs.path) if self.jpegs is not None else None,
                # `is not None`: a FrameJpegFile has a length, 0 until the child adds frames
                "jpeg_size_wh": list(self.jpegs.size_wh) if self.jpegs is not None and self.jpegs.size_wh else None,
                "census": self.census.to_json() if self.census is not None else None,
                "cores": list(self.cores) if self.cores else None,
                "raw": self.raw.decoder_spec() if self.raw is not None else None}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "glutecam.decode_worker", json.dumps(args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
            pass_fds=self.raw.decoder_fds() if self.raw is not None else (),
            stderr=None if os.environ.get("GLUTECAM_DEBUG") else subprocess.DEVNULL)
        return self

    def __iter__(self) -> Iterator[Frame]:
        w, h = self.size_wh
        proc = self.start()._proc
        ring = map_ring(self._ring_path, self.slots, w, h)
        held: int | None = None
        delivered = 0
        try:
            while True:
                line = proc.stdout.readline()
                if held is not None:
                    self._give_back(held)
                    held = None
                if not line:
                    died = f"{DIED} (exit status {proc.wait()})"
                    if not delivered:
                        raise SourceError(f"{self.source.path}: {died}")
                    # like a stream damaged part-way: the frames already handed over stay valid
                    self.error = self.source.error = f"{died} after {delivered} frames"
                    return
                msg = json.loads(line)
                if "ready" in msg:  # both sides have it mapped: the name can go
                    self._remove_ring_file()
                    continue
                if "end" in msg:
                    self.error = self.source.error = msg["end"]
                    return
                if "fail" in msg:
                    raise RuntimeError(f"decoding {self.source.path} failed: {msg['fail']}")
                if "thumb" in msg:
                    self.jpegs.add(*msg["thumb"], raw_slot=msg.get("raw"))
                    continue
                held = msg["slot"]
                delivered += 1
                yield Frame(image=ring[held], index=msg["index"], time_s=msg["time_s"],
                            captured_at=time.monotonic(), rgb=self.rgb, census=self._census_of(msg))
        finally:
            self.close()

    def _census_of(self, msg: dict) -> list | None:
        """The people of the census the child took of this frame (`pose.Candidate`s), or None."""
        if "census" not in msg:
            return None
        if msg["census"] is None:
            self.census_error = msg.get("census_error") or "failed"
            return None
        from glutecam.pose import Candidate

        return [Candidate.from_json(p) for p in msg["census"]]

    def __enter__(self) -> "ProcessDecodedSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _give_back(self, slot: int) -> None:
        """The slot is the child's again. A child that has finished (or died: the next read says so) no
        longer reads."""
        try:
            self._proc.stdin.write(f"{slot}\n")
            self._proc.stdin.flush()
        except OSError:
            pass

    def _remove_ring_file(self) -> None:
        remove(self._ring_path)
        self._ring_path = None

    def close(self) -> None:
        """Stop the child and delete the ring's file (also when iteration ended early). The memory goes with
        the last `Frame.image` that refers to it."""
        if self._proc is not None:
            for pipe in (self._proc.stdin, self._proc.stdout):
                try:
                    pipe.close()  # the child stops at its next read or write
                except OSError:
                    pass
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        self._remove_ring_file()
        self.source.close()


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
