"""The annotated clip, drawn and encoded by a child process while the pose pass runs (`ClipWorker`).

The clip shows the analysis of the whole set (zero-lag filters, reps found over the whole track), so it agrees
with `reps.json`. Drawn after the pose pass, it cost about 10 ms a 720p frame on top of the pass. But the
analysis of a set's first T seconds already gives almost every frame older than T - 2 s its final overlay
(`benchmarks/overlay_finality.py`: all of them on the rendered exercise sets). So this process, at a low
priority on the core the model leaves idle, collects the poses as the pass makes them, analyses what it has,
draws and encodes the frames older than `lag_s` with that analysis, and analyses again once it has caught up.
A frame is drawn only once two analyses in a row give it the same overlay, or once it is `HOLD_MAX_S` old
(`agreed_until`): on footage whose "reps" still move seconds later (the Sports2D demo) that took the frames
drawn again from 120-240 of 600 to none; on the rendered exercise sets it holds back 0-20 more frames. When
the pass ends, the parent sends the whole analysis's overlays: the frames left are drawn with them, and every
group of pictures (GOP: the clip has a keyframe every `gop_s`) in which a drawn frame's overlay differs from
its final one is drawn and encoded again and spliced in (`glutecam.gop_splice`). The clip is then the one a
pass after the analysis would draw (the same drawing on the same frames); only the work moved.

Frames come from the JPEGs the decoding process keeps at the clip's size (`glutecam.thumbnails`); the parent
forwards where they lie in the file with the poses. While this process keeps up, most frames also come as raw
copies (`glutecam.raw_frames`), which it draws on instead of decompressing their JPEG (the pictures differ by
the JPEG's loss: about 2 levels in 255 on the Sports2D demo, before H.264's own).

`ClipWorker.late` is the same process started after the analysis when there are no kept frames (a recording
whose JPEGs would pass 4 GB, or no room on the disk): it reads the track the job saved, decodes the source
again and draws the clip as `analyse.write_annotated` does, so that the encoder and the frames in flight of a
long clip live in a child process, not in the main one (whose memory then stays that of the analysis).

The parent writes length-prefixed pickles to the child's stdin (("frames", poses, jpeg entries),
("final", {"overlays", "stills", "replay"}), ("stop",), and for tests and benchmarks ("sync",)); the child
answers in JSON lines: {"done": k, "total": n} while finishing, then {"result": {...}} or {"fail": why}
({"idle": frames drawn} to a sync). The child ignores Ctrl+C and SIGTERM (the parent decides) and exits at
once when its stdin closes; the parent deletes its files.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glutecam.cores import CoreSplit, pin_process, pin_thread
from glutecam.raw_frames import RawFrameReader, RawFrameRing
from glutecam.thumbnails import FrameJpegFile

#: Seconds a frame waits before it is drawn with an analysis that has not seen the end of the set.
LAG_S = 2.0
#: Seconds between the clip's keyframes: the unit redrawn when a late analysis changes a frame's overlay.
GOP_S = 2.0
#: Seconds a frame is held back at most while successive analyses disagree on its overlay (`agreed_until`).
HOLD_MAX_S = 4.0


def gop_frames(fps: float, stride: int = 1, gop_s: float = GOP_S) -> int:
    """Frames between the clip's keyframes: `gop_s` of a clip of every `stride`-th frame at `fps`."""
    return max(1, int(round(gop_s * (fps or 30.0) / max(1, stride))))


class ClipWorkerFailed(RuntimeError):
    """The child could not make the clip (it died, or its frames file fell short): draw it the slow way."""


def overlay_key(overlay) -> tuple:
    """What a frame's drawing depends on besides the pose and the picture (the pose track's, in both
    processes): the analysis's text, rep and fault labels."""
    return tuple(overlay.lines), overlay.rep, tuple(overlay.faults), overlay.banner


@dataclass
class ClipResult:
    path: Path | None  # the finished clip, None if it was stopped (what was drawn is in `partial`)
    partial: Path | None
    replay_s: tuple[float, float] | None  # where the slow-motion replay lies in the clip, s
    stills: list[bytes | None]  # a report still (`thumbnail_jpeg` of the drawn frame) per moment asked for
    frames_early: int  # frames drawn before the pose pass ended
    frames_redrawn: int  # of those, frames drawn again (their GOP had a frame whose overlay changed)
    frames_raw: int  # frames drawn on a raw copy from the decoding process (`glutecam.raw_frames`)


# ------------------------------------------------------------------------------------------------ the child
def _read_messages(stream, inbox: queue.Queue) -> None:
    """Length-prefixed pickles from `stream` into `inbox`; None at the end."""
    try:
        while True:
            head = stream.read(4)
            if len(head) < 4:
                break
            (n,) = struct.unpack(">I", head)
            inbox.put(pickle.loads(stream.read(n)))
    finally:
        inbox.put(None)


class _Abandoned(Exception):
    pass


class _Drawer:
    """The child's state: poses and frames received, what it has drawn and with which overlay."""

    def __init__(self, args: dict, inbox: queue.Queue) -> None:
        from glutecam.analyse import CLIP_CRF, CLIP_X264, ScaledAnnotator
        from glutecam.annotate import Annotator
        from glutecam.track import TrackBuilder
        from glutecam.video_out import BackgroundWriter, H264Writer

        self.args, self.inbox = args, inbox
        self.size_wh = tuple(args["size_wh"])
        self.meta = args["track_meta"]  # PoseTrack.build's keywords: frame_size_wh, fps
        self.fps = float(self.meta["fps"] or 30.0)
        self.gop = gop_frames(self.fps, args.get("stride", 1), args["gop_s"])
        self.kept = FrameJpegFile(args["kept"], self.size_wh)
        self.poses = TrackBuilder()
        self.annotator = ScaledAnnotator(Annotator(), tuple(self.meta["frame_size_wh"]), self.size_wh)
        self.analyser = None
        if args.get("exercise"):
            from glutecam.analysers import get_analyser
            from glutecam.config import load_config

            config_path = args.get("config_path")
            self.analyser = get_analyser(args["exercise"],
                                         config=load_config(Path(config_path) if config_path else None))
        self.out = Path(args["out"])
        self._new_writer = lambda path: BackgroundWriter(
            H264Writer(path, self.fps, self.size_wh, crf=CLIP_CRF, preset=args["preset"], keyint=self.gop,
                       x264=CLIP_X264),
            maxsize=4)
        self.writer = self._new_writer(self.out)
        self.track = None  # the last track built
        self.overlays: list = []  # from the last analysis, for frames < settled
        self.settled = 0  # frames whose overlay the last analysis is trusted for
        self.keys: list[tuple] = []  # overlay_key of each frame drawn so far
        self.final: dict | None = None
        self.stopping = False
        self._analysed_at = 0  # poses the last analysis saw
        self.sync = False  # asked to say when it has drawn all it can
        self._fh = open(self.kept.path, "rb")
        self.raw = RawFrameReader(args["raw"]) if args.get("raw") else None
        self.frames_raw = 0  # drawn on a raw copy

    # messages
    def _take(self, msg) -> None:
        if msg is None:
            raise _Abandoned
        kind = msg[0]
        if kind == "frames":
            for pose in msg[1]:
                self.poses.append(pose)
            for entry in msg[2]:
                self.kept.add(*entry)
        elif kind == "final":
            self.final = msg[1]
        elif kind == "stop":
            self.stopping = True
        elif kind == "sync":
            self.sync = True

    def _receive(self, block: bool) -> None:
        if block:
            self._take(self.inbox.get())
        while True:
            try:
                self._take(self.inbox.get_nowait())
            except queue.Empty:
                return

    # drawing
    def _draw(self, i: int, overlay, writer) -> np.ndarray:
        track = self.track
        image = self.annotator.annotate(self._frame(i), track.image_px[i], track.visibility[i], overlay)
        writer.write(image, float(track.time_s[i]))
        return image

    def _frame(self, i: int) -> np.ndarray:
        """The `i`-th kept frame (BGR): its raw copy the first time, if it has one, else its JPEG decoded."""
        slot = self.kept.take_raw_slot(i)
        if slot is not None and self.raw is not None:
            self.frames_raw += 1
            return self.raw.take(slot)
        return self.kept.image(self._fh, i)

    def _ready(self) -> int:
        return min(len(self.poses), len(self.kept))

    def _analyse(self) -> None:
        """Analyse every pose received; trust it for the frames older than `lag_s` before the newest on whose
        overlay the analysis before agreed, and for every frame older than `HOLD_MAX_S`."""
        from glutecam.analyse import frame_overlays

        track = self.poses.build(**self.meta)
        try:
            analysis = self.analyser.analyse(track, side=self.args.get("side")) if self.analyser else None
        except Exception:  # a few seconds of a set may not be analysable yet: wait for more
            self._analysed_at = len(track)
            return
        previous, overlays = self.overlays, frame_overlays(track, analysis)
        self.track, self.overlays = track, overlays
        lag = self.args["lag_s"] if self.analyser else 0.0
        settled = int(np.searchsorted(track.time_s, track.time_s[-1] - lag, side="right")) if len(track) else 0
        if self.analyser:  # and once two analyses in a row agree on its overlay, or it is HOLD_MAX_S old
            forced = int(np.searchsorted(track.time_s, track.time_s[-1] - HOLD_MAX_S, side="right"))
            settled = min(settled, max(agreed_until(previous, overlays, len(self.keys)), forced))
        self.settled = min(settled, self._ready())
        self._analysed_at = len(track)

    def _worth_analysing(self) -> bool:
        """Enough new frames to analyse again: a second's worth (without an exercise, any: nothing to analyse)."""
        need = max(1, int(self.fps / self.args.get("stride", 1))) if self.analyser else 1
        return self._ready() - self._analysed_at >= need

    def run(self) -> dict:
        while self.final is None:
            idle = len(self.keys) >= self.settled and not self._worth_analysing()
            if idle and self.sync:
                sys.stdout.write(json.dumps({"idle": len(self.keys)}) + "\n")
                sys.stdout.flush()
                self.sync = False
            self._receive(block=idle)
            if self.final is not None:
                break
            if self.stopping:
                raise _Abandoned
            if len(self.keys) < self.settled:
                i = len(self.keys)
                self._draw(i, self.overlays[i], self.writer)
                self.keys.append(overlay_key(self.overlays[i]))
            elif self._worth_analysing():
                self._analyse()
        return self._finish(self.final)

    def _finish(self, final: dict) -> dict:
        pin_process(self.args.get("all_cores"))  # the pose pass is over: every core, for every thread
        out = sys.stdout
        self.track = self.poses.build(**self.meta)
        overlays = final["overlays"]
        n = len(self.track)
        if len(overlays) != n or not self.kept.covers(self.track.time_s):
            raise ClipWorkerFailed(f"{len(self.kept)} frames kept, {n} analysed")
        early = len(self.keys)
        bad = sorted({i // self.gop for i in range(early) if self.keys[i] != overlay_key(overlays[i])})
        runs = _runs(bad)
        replay = final["replay"]  # a `glutecam.report.clip.Replay`, or None
        a, b = replay.span_s if replay is not None else (np.inf, -np.inf)
        in_replay = [i for i, t in enumerate(self.track.time_s) if a <= t <= b]
        redrawn = sum(min(n, (b + 1) * self.gop) - a * self.gop for a, b in runs)
        total, done = (n - early) + len(in_replay) + redrawn, 0

        def tick() -> None:
            nonlocal done
            done += 1
            if done % 5 == 0 or done == total:
                out.write(json.dumps({"done": done, "total": total}) + "\n")
                out.flush()
            self._receive(block=False)

        for i in range(early, n):
            if self.stopping:
                return self._stop(bad)
            self._draw(i, overlays[i], self.writer)
            self.keys.append(overlay_key(overlays[i]))
            tick()
        replay_s = None
        if replay is not None:  # the worst rep, slowed down, after the set
            from glutecam.report.clip import write_slowed

            def drawn():
                for i in in_replay:
                    yield self.annotator.annotate(self.kept.image(self._fh, i), self.track.image_px[i],
                                                  self.track.visibility[i],
                                                  dataclasses.replace(overlays[i], banner=replay.banner))
                    tick()

            dt = 1.0 / self.fps
            start = float(self.track.time_s[-1]) + dt
            end, _ = write_slowed(self.writer, drawn(), start, dt, replay.slow, _Stopping(self))
            if self.stopping:
                return self._stop(bad)
            replay_s = (start, end)
        patches: dict[int, Path] = {}
        try:
            for a, b in runs:  # GOPs a..b drawn again with the final overlays, each run its own encoder
                path = self.out.with_name(f".glutecam-gop-{a}-{self.out.name}")
                writer = self._new_writer(path)
                for i in range(a * self.gop, min(n, (b + 1) * self.gop)):
                    if self.stopping:
                        writer.close(complete=False)
                        Path(writer.partial_path).unlink(missing_ok=True)
                        return self._stop(bad)
                    self._draw(i, overlays[i], writer)
                    tick()
                patches[a] = writer.close(complete=True)
            self.writer.close(complete=False)  # finished, but checked before it takes the clip's name
            path = self._splice(patches) if patches else Path(self.writer.partial_path).replace(self.out)
        finally:
            for p in patches.values():
                if p is not None:
                    p.unlink(missing_ok=True)
        return _answer(path, replay_s, self._stills(final, overlays), early, redrawn, self.frames_raw)

    def _splice(self, patches: dict[int, Path]) -> Path:
        from glutecam.gop_splice import splice_gops

        partial = Path(self.writer.partial_path)
        spliced = self.out.with_name(f".glutecam-spliced-{self.out.name}")
        splice_gops(partial, spliced, self.gop, patches)
        partial.unlink(missing_ok=True)
        return spliced.replace(self.out)

    def _stop(self, bad: list[int]) -> dict:
        """Stopped while finishing: keep, under the partial name, the frames drawn up to the first GOP whose
        overlay was wrong, so what stays is what the finished clip would have shown."""
        from glutecam.gop_splice import splice_gops

        self.writer.close(complete=False)
        partial = Path(self.writer.partial_path)
        if bad and partial.exists():
            if bad[0] == 0:
                partial.unlink()
            else:
                cut = self.out.with_name(f".glutecam-cut-{self.out.name}")
                splice_gops(partial, cut, self.gop, keep_gops=bad[0])
                cut.replace(partial)
        return _answer(None, None, [], early=len(self.keys), raw=self.frames_raw)

    def _stills(self, final: dict, overlays: list) -> list[bytes | None]:
        """The report's still of each moment asked for: the frame nearest it, drawn as in the clip."""
        from glutecam.thumbnails import NearestPicker, thumbnail_jpeg

        picker = NearestPicker(final.get("stills") or [])
        for i, t in enumerate(self.track.time_s):
            picker.offer(float(t), i)
            if picker.done:
                break
        out: list[bytes | None] = []
        for i in picker.finish():
            if i is None:
                out.append(None)
                continue
            image = self.annotator.annotate(self.kept.image(self._fh, i), self.track.image_px[i],
                                            self.track.visibility[i], overlays[i])
            out.append(thumbnail_jpeg(image))
        return out


def _draw_late(args: dict, inbox: queue.Queue) -> dict:
    """The late child: wait for the overlays, then draw the whole clip from a decode of the source."""
    from glutecam.analyse import write_annotated
    from glutecam.thumbnails import NearestPicker, thumbnail_jpeg
    from glutecam.track import PoseTrack

    state = _LateState(inbox)
    while state.final is None:
        state.take(inbox.get())
    final = state.final
    track = PoseTrack.load(args["track"])
    if len(final["overlays"]) != len(track):
        raise ClipWorkerFailed(f"{len(final['overlays'])} overlays for {len(track)} frames")
    out = sys.stdout
    picker = NearestPicker(final.get("stills") or [], thumbnail_jpeg)
    replay = final["replay"]

    def progress(done: int, total: int | None, stage: str) -> None:
        if done % 5 == 0 or done == total:
            out.write(json.dumps({"done": done, "total": total}) + "\n")
            out.flush()

    path = write_annotated(Path(args["source"]), track, final["overlays"], Path(args["out"]), args.get("stride", 1),
                           progress, state, replay=replay, stills=picker, preset=args["preset"])
    stills = picker.finish() if path is not None else []
    replay_s = (replay.clip_start_s, replay.clip_end_s) if path is not None and replay is not None \
        and replay.clip_end_s is not None else None
    return _answer(path, replay_s, stills)


def _answer(path: Path | None, replay_s: tuple[float, float] | None, stills: list[bytes | None], early: int = 0,
            redrawn: int = 0, raw: int = 0) -> dict:
    """The child's result as JSON can carry it (`ClipWorker.finish` makes a `ClipResult` of it)."""
    return {"path": str(path) if path is not None else None, "replay_s": replay_s,
            "stills": [base64.b64encode(s).decode() if s is not None else None for s in stills],
            "early": early, "redrawn": redrawn, "raw": raw}


class _LateState:
    """The late child's messages: the final overlays, and a stop request (true once asked, as `write_annotated`
    takes one; it looks at its inbox each time it is asked)."""

    def __init__(self, inbox: queue.Queue) -> None:
        self.inbox = inbox
        self.final: dict | None = None
        self.stopping = False

    def take(self, msg) -> None:
        if msg is None:
            raise _Abandoned
        if msg[0] == "final":
            self.final = msg[1]
        elif msg[0] == "stop":
            self.stopping = True

    def __bool__(self) -> bool:
        while not self.stopping:
            try:
                self.take(self.inbox.get_nowait())
            except queue.Empty:
                break
        return self.stopping


class _Stopping:
    """True once the drawer is asked to stop (a stop request as `write_slowed` takes one)."""

    def __init__(self, drawer: _Drawer) -> None:
        self.drawer = drawer

    def __bool__(self) -> bool:
        return self.drawer.stopping


def agreed_until(previous: list, current: list, start: int) -> int:
    """The first frame from `start` on whose overlay two successive analyses (`previous`, then `current`, each a
    list of overlays by frame) do not agree on, or that `previous` did not cover: frames before it may be drawn.

    >>> from glutecam.annotate import Overlay
    >>> a, b = Overlay(0.0, lines=["x"]), Overlay(0.0, lines=["y"])
    >>> agreed_until([a, a, a], [a, a, b, b], 0), agreed_until([a, a, a], [a, a, a, b], 1), agreed_until([], [a], 0)
    (2, 3, 0)
    """
    end = min(len(previous), len(current))
    for i in range(start, end):
        if overlay_key(previous[i]) != overlay_key(current[i]):
            return i
    return max(start, end)


def _runs(gops: list[int]) -> list[tuple[int, int]]:
    """Consecutive indices grouped: [1, 2, 5] -> [(1, 2), (5, 5)].

    >>> _runs([1, 2, 5]), _runs([])
    ([(1, 2), (5, 5)], [])
    """
    runs: list[tuple[int, int]] = []
    for g in gops:
        if runs and g == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], g)
        else:
            runs.append((g, g))
    return runs


def _child(args: dict) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):  # sent to the whole group: the parent decides
        signal.signal(sig, signal.SIG_IGN)
    try:
        os.nice(int(args.get("nice", 10)))  # before any thread starts: x264's threads inherit it
    except OSError:
        pass
    pin_thread(args.get("cores"))  # the same: until the pose pass ends (`_Drawer._finish`)
    inbox: queue.Queue = queue.Queue()
    threading.Thread(target=_read_messages, args=(sys.stdin.buffer, inbox), daemon=True).start()
    out = sys.stdout
    try:
        result = _draw_late(args, inbox) if args.get("late") else _Drawer(args, inbox).run()
        out.write(json.dumps({"result": result}) + "\n")
    except _Abandoned:
        os._exit(0)  # the parent has gone or given up: it removes the files
    except Exception as exc:  # reported to the parent, which draws the clip itself
        out.write(json.dumps({"fail": f"{type(exc).__name__}: {exc}"}) + "\n")
    out.flush()
    os._exit(0)  # not a normal exit: the reading thread is blocked on stdin, which the parent keeps open


# ----------------------------------------------------------------------------------------------- the parent
class ClipWorker:
    """Draws `out` (annotated.mp4) in a child process from the frames in `kept` (see the module docstring).

    `add(pose)` each pose of the pass as it is made; then `finish(...)` with the whole analysis's overlays,
    or `close()` to abandon the clip (its files are deleted). `cores` (a `glutecam.cores.CoreSplit`): the
    child keeps to the helpers' cores until the pass ends, then takes them all."""

    def __init__(self, out: Path, kept: FrameJpegFile | None, track_meta: dict[str, Any], exercise: str | None,
                 config_path: Path | None = None, side: str | None = None, stride: int = 1,
                 preset: str = "superfast", lag_s: float = LAG_S, gop_s: float = GOP_S, nice: int = 10,
                 batch: int = 16, cores: CoreSplit | None = None, raw: RawFrameRing | None = None) -> None:
        self.out = Path(out)
        self.kept = kept
        self.raw = raw
        self.args = {"out": str(self.out), "kept": str(kept.path) if kept is not None else None,
                     "size_wh": list(kept.size_wh) if kept is not None else None,
                     "track_meta": track_meta, "exercise": exercise,
                     "config_path": str(config_path) if config_path else None, "side": side, "stride": stride,
                     "preset": preset, "lag_s": lag_s, "gop_s": gop_s, "nice": nice,
                     # during the pose pass (a `glutecam.cores.CoreSplit`): the helpers' cores, then all of them
                     "cores": list(cores.helpers) if cores else None, "all_cores": list(cores.all) if cores else None,
                     "raw": self.raw.clip_spec() if self.raw is not None else None}
        self.batch = batch
        self._poses: list = []
        self._sent = 0  # kept-file entries sent
        self._proc: subprocess.Popen | None = None
        self.failed: str | None = None
        self._answered = False  # the child gave its result: a partial clip it left is a true one

    @classmethod
    def late(cls, out: Path, source: Path, track_file: Path, stride: int = 1,
             preset: str = "superfast") -> "ClipWorker":
        """A worker that draws the whole clip after the analysis, decoding `source` again and reading the pose
        track from `track_file` (see the module docstring); then `start()` and `finish(...)` as for the other."""
        worker = cls(out, None, {}, None, stride=stride, preset=preset)
        worker.args.update(late=True, source=str(source), track=str(track_file))
        return worker

    def start(self) -> "ClipWorker":
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "glutecam.clip_worker", json.dumps(self.args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=self.raw.clip_fds() if self.raw is not None else (),
            stderr=None if os.environ.get("GLUTECAM_DEBUG") else subprocess.DEVNULL)
        return self

    def _send(self, msg) -> None:
        if self.failed or self._proc is None:
            return
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._proc.stdin.write(struct.pack(">I", len(data)) + data)
            self._proc.stdin.flush()
        except OSError:
            self.failed = "the clip process ended unexpectedly"

    def _flush(self) -> None:
        if self.kept is None:  # a late worker: no poses nor frames to forward
            return
        entries = self.kept.entries(self._sent)
        self._sent += len(entries)
        self._send(("frames", self._poses, entries))
        self._poses = []

    def add(self, pose) -> None:
        """One more pose of the pass (a `FramePose`), in order."""
        self._poses.append(pose)
        if len(self._poses) >= self.batch:
            self._flush()

    def wait_idle(self) -> int:
        """Wait until the child has drawn all it can with the poses sent so far; returns the frames drawn (for
        tests and benchmarks: a run never waits for it)."""
        self._flush()
        self._send(("sync",))
        for line in self._proc.stdout:
            msg = json.loads(line)
            if "idle" in msg:
                return int(msg["idle"])
            if "fail" in msg:
                self.failed = msg["fail"]
        raise ClipWorkerFailed(self.failed or "the clip process ended unexpectedly")

    def finish(self, overlays: list, replay=None, stills_s: list[float] | None = None, progress=None,
               stop=None) -> ClipResult:
        """Send the whole analysis's overlays and wait for the clip. `replay`: a `glutecam.report.clip.Replay`
        of the rep to slow down after the set. Raises ClipWorkerFailed."""
        self._flush()
        self._send(("final", {"overlays": overlays, "stills": list(stills_s or []), "replay": replay}))
        stop_sent = False
        for line in self._proc.stdout:  # to the end, also when sending failed: the child may say why
            msg = json.loads(line)
            if stop and not stop_sent:
                self._send(("stop",))
                stop_sent = True
            if "done" in msg and progress:
                progress(msg["done"], msg["total"], "video")
            elif "fail" in msg:
                self.failed = msg["fail"]
                break
            elif "result" in msg:
                self._answered = True
                r = msg["result"]
                partial = Path(self.out.with_name(self.out.stem + ".part" + self.out.suffix))
                return ClipResult(path=Path(r["path"]) if r["path"] else None,
                                  partial=partial if partial.exists() else None,
                                  replay_s=tuple(r["replay_s"]) if r["replay_s"] else None,
                                  stills=[base64.b64decode(s) if s else None for s in r["stills"]],
                                  frames_early=r["early"], frames_redrawn=r["redrawn"], frames_raw=r["raw"])
        self.close()
        raise ClipWorkerFailed(self.failed or "the clip process ended unexpectedly")

    def close(self) -> None:
        """End the child and delete its working files; unless it gave its result, the clip is abandoned (a part
        drawn with an analysis of part of the set is no clip of the set: it is deleted too)."""
        if self._proc is not None:
            for pipe in (self._proc.stdin, self._proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        for p in self.out.parent.glob(f".glutecam-*-{self.out.stem}*"):
            p.unlink(missing_ok=True)
        if not self._answered:
            self.out.with_name(self.out.stem + ".part" + self.out.suffix).unlink(missing_ok=True)
        if self.raw is not None:
            self.raw.close()


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
