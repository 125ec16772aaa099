"""The offline job: a video in; a pose track, per-frame CSV, summary, per-rep results and an annotated clip out.

Pass 1 decodes (in a child process, `decode_worker`) and runs the pose model, accumulating a `PoseTrack`;
Ctrl+C or a damaged stream ends the pass early and everything computed so far is still written. The exercise analysis
runs on the whole track (zero-lag filtering needs it). The annotated clip, when wanted, shows what that
analysis found at each moment, so the clip and `reps.json` always agree. It is drawn on the frames the decoding
process keeps as JPEGs at the clip's size (`glutecam.thumbnails`; most also handed over raw,
`glutecam.raw_frames`): by another child process during pass 1, a few seconds behind it, redrawing afterwards
what the whole analysis changed (`glutecam.clip_worker`); or, when that process fails, in a pass 2 after the
analysis (`write_annotated`). A recording too long for its JPEGs to be kept (or no room on the disk) is drawn
in that pass 2 by a child process decoding the source again (`ClipWorker.late`), in this one only if that
child fails.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glutecam import __version__
from glutecam.accuracy import accuracy_text
from glutecam.annotate import Annotator, Overlay
from glutecam.clip_worker import ClipWorker, ClipWorkerFailed, gop_frames
from glutecam.cores import CoreSplit, core_split, one_core_decodes, pin_process, pin_thread
from glutecam.landmarks import Landmark
from glutecam.memory import release_free_memory
from glutecam.pose import PoseEstimator, tracker_restarts_report
from glutecam.files import write_json_atomic
from glutecam.interrupts import StopRequest, stop_on_signals
from glutecam.decode_worker import ProcessDecodedSource
from glutecam.raw_frames import RawFrameRing
from glutecam.prefetch import prefetch
from glutecam.thumbnails import FrameJpegFile, NearestPicker, thumbnail_jpeg
from glutecam.sources import VideoFileSource
from glutecam.track import PoseTrack, TrackBuilder, landmark_columns, landmark_rows, write_csv

#: Called as progress(done_frames, total_frames_or_None, stage).
Progress = Callable[[int, int | None, str], None]


class OutputError(RuntimeError):
    """The output folder cannot be created or written."""


@dataclass
class AnalyseOptions:
    exercise: str | None = None
    side: str | None = None
    model: str | Path | None = None
    config_path: Path | None = None
    video: bool = True  # write annotated.mp4
    stride: int = 1  # analyse every n-th frame
    max_people: int = 1  # see PoseEstimator: 1 tracks one person and counts bystanders once a second
    pin_cores: bool = True  # on 2 cores, one for the model, one for its helpers (glutecam.cores); off for --jobs 2


@dataclass
class AnalyseResult:
    out_dir: Path
    track: PoseTrack
    outputs: dict[str, Path] = field(default_factory=dict)
    interrupted: bool = False
    stopped_early: str | None = None  # why pass 1 ended before the end of the file
    summary: dict[str, Any] = field(default_factory=dict)
    analysis: Any = None  # glutecam.analysers.base.Analysis when an exercise was given
    timings_s: dict[str, float] = field(default_factory=dict)


def prepare_out_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".glutecam-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {out_dir}: {exc.strerror or exc}") from None
    return out_dir


def hip_line_obliquity_deg(track: PoseTrack) -> np.ndarray:
    """(T,) raw pelvis obliquity from the hip landmarks, degrees, + = the person's left hip higher."""
    from glutecam.metrics import pelvis_obliquity_deg

    return pelvis_obliquity_deg(track.xy(Landmark.LEFT_HIP), track.xy(Landmark.RIGHT_HIP))


def run_pose(source: VideoFileSource, estimator: PoseEstimator, progress: Progress | None = None,
             stop: StopRequest | None = None, frames: ProcessDecodedSource | None = None,
             on_pose: Callable[[Any], None] | None = None) -> tuple[PoseTrack, bool, dict[str, float]]:
    """Pass 1. Returns (track, interrupted, timings). Ctrl+C (or `stop`) ends the pass but keeps its frames.
    `frames`: the source's frames decoded by a child process, if already started (else started here).
    `on_pose(pose)` is given each `FramePose` as it is made (the clip process draws with them)."""
    info = source.info
    poses = TrackBuilder()  # the track's arrays only, in chunks: memory does not grow per frame beyond them
    interrupted = False
    t_pose = 0.0
    total = -(-info.n_frames // source.stride) if info.n_frames else None  # frames 0, stride, 2*stride...
    try:
        for frame in frames or ProcessDecodedSource(source, rgb=True):  # decoded on the other core, in RGB
            if stop:
                interrupted = True
                break
            t0 = time.perf_counter()
            pose = estimator.process(frame)
            t_pose += time.perf_counter() - t0
            poses.append(pose)
            if on_pose is not None:
                on_pose(pose)
            del frame  # the image goes now, not when the next one arrives
            if progress:
                progress(len(poses), total, "pose")
    except KeyboardInterrupt:
        interrupted = True
    track = poses.finish(
        frame_size_wh=(info.width, info.height),
        fps=info.fps,
        source=info.path,
        model=estimator.model.name,
        info={"codec": info.codec, "rotation_deg": info.rotation_deg, "stride": source.stride,
              "container_frames": info.n_frames, "model_path": str(estimator.model.path)},
    )
    return track, interrupted, {"pose_s": t_pose}


def frame_columns(track: PoseTrack, analysis_frames: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """The columns of frames.csv, in order (see README, "frames.csv")."""
    cols: dict[str, Any] = {
        "frame": track.frame_index,
        "time_s": track.time_s,
        "detected": track.detected,
        "n_people": track.n_people,
        "pelvis_obliquity_deg": hip_line_obliquity_deg(track),
    }
    if analysis_frames:
        for k, v in analysis_frames.items():
            cols[k] = v
    block = landmark_rows(track)
    for j, name in enumerate(landmark_columns()):
        cols[name] = block[:, j]
    return cols


def stopped_early_reason(stopped_early: str) -> str:
    """Why pass 1 ended before the end of the file, for a user: the file's damage, or glutecam's own decoding
    process dying (killed for memory, say), which says nothing about the file."""
    from glutecam.decode_worker import DIED

    if stopped_early.startswith(DIED):
        return f"reading the video stopped early: {stopped_early} (run it again)"
    return f"the video is damaged: {stopped_early}"


def build_summary(track: PoseTrack, source: VideoFileSource, estimator_model, opts: AnalyseOptions,
                  interrupted: bool, stopped_early: str | None, analysis,
                  tracker_restarts_s: Sequence[float] = ()) -> dict[str, Any]:
    n = len(track)
    detected = track.detected
    others = int(np.sum(track.n_people > 1))
    warnings = []
    if n and not detected.any():
        warnings.append("nobody was found in any frame")
    elif n and detected.mean() < 0.9:
        warnings.append(f"no person found in {int((~detected).sum())} of {n} frames")
    if others:
        followed = ("the one the pose model picked up first, tracked from frame to frame" if opts.max_people == 1
                    else "the largest and most central at the start, then the nearest to where they were")
        warnings.append(f"other people were in view in {others} of {n} frames; the analysis follows one subject "
                        f"({followed})")
    restarts_s, restart_warnings = tracker_restarts_report(tracker_restarts_s)
    warnings += restart_warnings
    if interrupted:
        warnings.append(f"interrupted by the user after {n} frames; results cover those frames only")
    if stopped_early:
        warnings.append(f"{stopped_early_reason(stopped_early)}; results cover the frames before it")
    info = source.info
    summary: dict[str, Any] = {
        "glutecam_version": __version__,
        "source": {
            "path": info.path,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "container_frames": info.n_frames,
            "duration_s": info.duration_s,
            "rotation_deg": info.rotation_deg,
            "codec": info.codec,
        },
        "model": {"name": estimator_model.name, "path": str(estimator_model.path), "origin": estimator_model.origin},
        "frames_analysed": n,
        "stride": opts.stride,
        "frames_with_person": int(detected.sum()),
        "frames_with_other_people": others,
        "max_people_in_view": int(track.n_people.max()) if n else 0,
        "tracker_restarts_s": restarts_s,
        "interrupted": interrupted,
        "complete": not interrupted and stopped_early is None,
        "stopped_early": stopped_early,
        "exercise": opts.exercise,
        "warnings": warnings,
    }
    if analysis is not None:
        s = analysis.set
        summary["set"] = {
            "side": s.side,
            "side_source": s.side_source,
            "view": s.view,
            "n_reps": len(s.reps),
            **{k: v for k, v in s.summary.items() if k not in ("n_reps",)},
        }
        summary["warnings"].extend(s.warnings)
        summary["accuracy"] = accuracy_text(opts.exercise, s.view)  # what validation found for this view
    return summary


def frame_overlays(track: PoseTrack, analysis) -> list[Overlay]:
    """One `Overlay` per frame of the track: time, pelvis angle, rep and the faults of that moment."""
    obliquity = hip_line_obliquity_deg(track)
    drop = analysis.frames.get("pelvic_drop_deg") if analysis is not None else None
    rep_col = analysis.frames.get("rep") if analysis is not None else None
    from glutecam.report.clip import fault_windows as fault_label_windows

    fault_windows = fault_label_windows(analysis)  # (start_s, end_s, label): from the fault's onset to the rep's end
    overlays = []
    for i in range(len(track)):
        t = float(track.time_s[i])
        lines = []
        if drop is not None and np.isfinite(drop[i]):
            lines.append(f"pelvic drop {drop[i]:+.1f} deg")
        faults = [label for (a, b, label) in fault_windows if a <= t <= b]
        overlays.append(Overlay(time_s=t, pelvis_obliquity_deg=float(obliquity[i]), lines=lines,
                                rep=int(rep_col[i]) if rep_col is not None else 0, faults=faults))
    return overlays


class ScaledAnnotator:
    """Draws at the clip's size: scales each frame (and the landmarks, given in source pixels) from
    `source_wh` to `size_wh` (unless the decoder already did), then annotates."""

    def __init__(self, annotator: Annotator, source_wh: tuple[int, int], size_wh: tuple[int, int]) -> None:
        self.annotator = annotator
        self.size_wh = size_wh
        kx, ky = size_wh[0] / source_wh[0], size_wh[1] / source_wh[1]
        self._k = np.array([kx, ky, kx])  # z is scaled like x
        self._same = size_wh == tuple(source_wh)

    def _scale(self, image: np.ndarray) -> np.ndarray:
        w, h = self.size_wh
        if image.shape[1] == w and image.shape[0] == h:
            return image
        import cv2

        return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)  # INTER_AREA: 6x slower

    def annotate(self, scene: np.ndarray, image_px: np.ndarray | None, visibility: np.ndarray | None,
                 overlay: Overlay) -> np.ndarray:
        scene = self._scale(scene)
        if image_px is not None and not self._same:
            image_px = image_px * self._k
        return self.annotator.annotate(scene, image_px, visibility, overlay)


class _ReplayFrames:
    """The slow-motion replay's frames, kept as pass 2 draws them, so the replay needs no third decode.

    Same frames, banner and timing as `Replay.append` (each frame of the rep +- `pad_s` shown `slow` times as
    long, after the clip: `write_slowed`), held JPEG-compressed (quality 95) at the clip's size. A rep longer than `max_frames`
    frames is not kept (`fits` is False): memory stays bounded whatever the clip.
    """

    def __init__(self, replay, fps: float, max_frames: int = 450) -> None:
        self.replay = replay
        self.a, self.b = replay.span_s
        self.fits = (self.b - self.a) * fps <= max_frames
        self._jpegs: list[bytes] = []

    def wants(self, time_s: float) -> bool:
        return self.fits and self.a <= time_s <= self.b

    def add(self, image: np.ndarray) -> None:
        import cv2

        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:  # pragma: no cover - OpenCV cannot fail on a BGR uint8 image
            raise RuntimeError("could not compress a replay frame")
        self._jpegs.append(buf.tobytes())

    def append(self, writer, track: PoseTrack, stop: StopRequest | None = None) -> int:
        import cv2

        from glutecam.report.clip import write_slowed

        dt = 1.0 / (track.fps or 30.0)
        t = float(track.time_s[-1]) + dt
        self.replay.clip_start_s = t
        images = (cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR) for buf in self._jpegs)
        self.replay.clip_end_s, written = write_slowed(writer, images, t, dt, self.replay.slow, stop)
        self._jpegs.clear()
        return written


#: The annotated clip's long side, px (a 1080p source gives a 1280x720 clip).
CLIP_MAX_SIDE = 1280
#: libx264's settings for the clip, changed from `superfast`'s (`benchmarks/README.md`):
#: - `subme` 0, whole-pixel motion search (1 in the preset): 12-15 % off encoding (6.6 -> 5.6 ms of CPU a 720p
#:   frame of the Sports2D demo, 4.1 -> 3.5 on a rendered set at 1080p) for 1.4-5 % more file and 0.1 dB less
#:   PSNR (tenth session);
#: - `b-adapt` 0, always 3 B-frames between references instead of choosing how many (1, fast, in the preset),
#:   with CRF 22.5 (`CLIP_CRF`) for 23: another 10-13 % off (5.7 -> 4.9 ms on the demo, 3.45 -> 3.1 on the
#:   set, 5.7 -> 5.0 on a Pose2Sim clip) for -9.5, +7.3 and -1.4 % file and -0.3, +0.4 and +0.1 dB PSNR
#:   (eleventh session). At CRF 23 the B-frames, coded coarser, took 0.7 dB off the demo for 17 % less file.
CLIP_X264 = {"subme": 0, "b-adapt": 0}
#: The clip's CRF (libx264's constant quality; its default is 23): see `CLIP_X264`.
CLIP_CRF = 22.5


def clip_frames_file(source: VideoFileSource, folder: Path, max_side: int | None = CLIP_MAX_SIDE,
                     bytes_per_px: float = 0.4, max_bytes: float = 4e9) -> FrameJpegFile | None:
    """A file in `folder` for the decoding process to keep every frame in at the clip's size during pass 1
    (so pass 2 need not decode the source again), or None when the disk there has no room for them: about
    `bytes_per_px` a pixel a frame (quality 90 measured 0.18-0.26), plus the clip itself and 500 MB to spare.
    None too when that estimate passes `max_bytes` (4 GB: about 6 minutes of 720p at 30 fps, which write
    about 2.5 GB): a long recording is decoded twice rather than copied to the disk for a few minutes' gain.
    In `folder` (the output folder), not the temporary one, which may be in memory."""
    import shutil

    from glutecam.video_out import capped_size_wh

    info = source.info
    size_wh = capped_size_wh((info.width, info.height), max_side)
    n = info.n_frames or (info.duration_s or 0) * (info.fps or 0)
    if not n:  # a stream that does not say its length: no way to know the room it needs
        return None
    size = n / source.stride * size_wh[0] * size_wh[1] * bytes_per_px
    if size > max_bytes:
        return None
    need = 1.5 * size + 500e6
    try:
        if shutil.disk_usage(folder).free < need:
            return None
        return FrameJpegFile(_temporary_file(".glutecam-frames-", folder), size_wh)
    except OSError:  # the clip pass decodes the source instead
        return None


def _clip_frames(src: VideoFileSource, size_wh: tuple[int, int], track: PoseTrack,
                 kept: FrameJpegFile | None) -> Iterator[tuple[int, float, np.ndarray]]:
    """(track row, time s, BGR image at `size_wh` the caller may keep) of each analysed frame: decoded from
    `kept` (on a thread, a few frames ahead) when it holds them all at that size, else from `src` (opened,
    not yet read; closed here), also from where `kept` fails (its file removed or damaged meanwhile)."""
    first = 0
    if kept is not None and kept.size_wh == tuple(size_wh) and kept.covers(track.time_s):
        try:
            for image in prefetch(kept.images(), maxsize=4):
                yield first, float(track.time_s[first]), image
                first += 1
            src.close()
            return
        except OSError:
            pass
    by_index = {int(fi): i for i, fi in enumerate(track.frame_index) if i >= first}
    with ProcessDecodedSource(src, size_wh=size_wh) as frames:  # decoded and scaled in a child process
        for frame in frames:
            i = by_index.get(frame.index)
            if i is None:
                if frame.index > track.frame_index[-1]:
                    break
                continue
            yield i, frame.time_s, frame.image.copy()  # the decoder's buffer is reused


def write_annotated(source_path: Path, track: PoseTrack, overlays: list[Overlay], out_path: Path,
                    stride: int = 1, progress: Progress | None = None,
                    stop: StopRequest | None = None, replay=None, max_side: int | None = CLIP_MAX_SIDE,
                    preset: str = "superfast", stills=None, kept: FrameJpegFile | None = None) -> Path | None:
    """Pass 2: draw each analysed frame and encode H.264. Returns None when nothing was
    written or when `stop` ended it early (the partial clip then stays under its temporary name).
    `replay` (a `glutecam.report.clip.Replay`) appends a slow-motion replay of one rep at the end.
    The clip's long side is at most `max_side` pixels (None: the source's size); `preset` is libx264's.
    `stills` (a `glutecam.thumbnails.NearestPicker`) is offered every drawn frame, for the report.
    `kept`: the frames pass 1 kept (`clip_frames_file`); without them, or if they are incomplete or of
    another size, the source is decoded again."""
    from glutecam.video_out import BackgroundWriter, H264Writer, capped_size_wh

    src = VideoFileSource(source_path, stride=stride)
    fps = track.fps or src.info.fps or 30.0
    size_wh = capped_size_wh((src.info.width, src.info.height), max_side)
    annotator = ScaledAnnotator(Annotator(), (src.info.width, src.info.height), size_wh)
    # Drawing here, libx264 on a thread (bounded queue): an encoding process was tried and was slower (16 vs
    # 12 ms a frame), its copies and x264's threads costing more than the GIL it avoids.
    writer = BackgroundWriter(H264Writer(out_path, fps, size_wh, preset=preset, keyint=gop_frames(fps, stride),
                                         crf=CLIP_CRF, x264=CLIP_X264),
                              maxsize=4)  # keyframes where the clip process puts them
    replay_frames = _ReplayFrames(replay, fps) if replay is not None else None
    complete = False
    frames = _clip_frames(src, size_wh, track, kept)
    try:
        done = 0
        for i, time_s, scene in frames:
            if stop:
                break
            raw = scene.copy() if replay_frames is not None and replay_frames.wants(time_s) else None
            img = annotator.annotate(scene, track.image_px[i], track.visibility[i], overlays[i])
            writer.write(img, time_s)
            if stills is not None:
                stills.offer(time_s, img)
            if raw is not None:
                replay_frames.add(annotator.annotate(raw, track.image_px[i], track.visibility[i],
                                                     dataclasses.replace(overlays[i], banner=replay.banner)))
            done += 1
            if progress:
                progress(done, len(track), "video")
        frames.close()  # now, not when collected: the decoding process or the JPEG thread stops here
        if replay is not None and done and not stop:
            if replay_frames.fits:
                replay_frames.append(writer, track, stop)
            else:  # a very long rep: decode its part of the source again rather than hold it
                replay.append(writer, annotator, track, overlays, stop)
        complete = not stop
    finally:
        frames.close()
        src.close()  # when `frames` never started
        path = writer.close(complete=complete)
    return path


class _Background:
    """`fn(*args)` on a daemon thread; `result()` waits and returns its value or raises its exception."""

    def __init__(self, name: str, fn: Callable[..., Any], *args: Any) -> None:
        import threading

        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn(*args)
            except BaseException as exc:  # handed to result()
                self._error = exc

        self._thread = threading.Thread(target=run, name=f"glutecam-{name}", daemon=True)
        self._thread.start()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _make_analyser(exercise: str | None, config):
    import glutecam.report  # noqa: F401  (imported here only to have it loaded when the report is written)
    import glutecam.report.clip  # noqa: F401

    if not exercise:
        return None
    from glutecam.analysers import get_analyser

    return get_analyser(exercise, config=config)


def analyse_video(path: str | Path, out_dir: str | Path, opts: AnalyseOptions | None = None,
                  progress: Progress | None = None, stop: StopRequest | None = None) -> AnalyseResult:
    """Run the whole offline job; see the module docstring. Raises SourceError, ModelError, OutputError.

    Ctrl+C or SIGTERM (or `stop`, when given) ends the job at the next frame; everything computed so far is
    written and `interrupted` is set. A second Ctrl+C stops at once.
    """
    if stop is None:
        with stop_on_signals() as stop:
            return analyse_video(path, out_dir, opts, progress, stop)
    opts = opts or AnalyseOptions()
    analyser = config = None
    if opts.exercise or opts.config_path:  # a bad config file is reported even when no exercise uses it
        from glutecam.config import load_config

        config = load_config(opts.config_path)
    if opts.exercise and opts.exercise not in config.exercises:
        from glutecam.analysers import get_analyser

        get_analyser(opts.exercise, config=config)  # raises the ValueError naming the valid exercises
    source = VideoFileSource(path, stride=opts.stride)  # inputs are checked before the output folder is made
    out_dir = prepare_out_dir(Path(out_dir))
    # every frame as a JPEG, made during pass 1: the report's stills, or with a clip the frames it is drawn on
    jpegs = clip_frames_file(source, out_dir) if opts.video else _stills_file()
    try:
        return _run_job(Path(path), out_dir, opts, config, source, jpegs, progress, stop)
    finally:
        if jpegs is not None:
            jpegs.remove()


def _stills_file() -> FrameJpegFile | None:
    """A temporary file for the report's stills, or None if the temporary folder cannot have one (the report
    then decodes the source for them)."""
    try:
        return FrameJpegFile(_temporary_file("glutecam-thumbs-"))
    except OSError:
        return None


def _temporary_file(prefix: str, folder: Path | None = None) -> Path:
    import os
    import tempfile

    fd, name = tempfile.mkstemp(prefix=prefix, dir=folder)
    os.close(fd)
    return Path(name)


def _run_job(path: Path, out_dir: Path, opts: AnalyseOptions, config, source: VideoFileSource,
             jpegs: FrameJpegFile | None, progress: Progress | None, stop: StopRequest) -> AnalyseResult:
    """`analyse_video` once its inputs are checked and its output folder exists."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    info = source.info
    cores = core_split() if opts.pin_cores and one_core_decodes(info.width, info.height, opts.stride) else None
    clip = _clip_worker(out_dir / "annotated.mp4", source, jpegs, opts, cores) if opts.video else None
    try:
        return _run_passes(path, out_dir, opts, config, source, jpegs, clip, cores, progress, stop, timings, t0)
    finally:
        if clip is not None:
            clip.close()


def _clip_worker(out: Path, source: VideoFileSource, jpegs: FrameJpegFile | None,
                 opts: AnalyseOptions, cores: CoreSplit | None) -> ClipWorker | None:
    """The process that draws the clip during pass 1, on the frames the decoding process keeps (without them,
    the clip is drawn after pass 1, decoding the source again), and the ring through which the decoding
    process hands it raw copies of them while it keeps up (`glutecam.raw_frames`)."""
    if jpegs is None or jpegs.size_wh is None:
        return None
    info = source.info
    worker = ClipWorker(out, jpegs, {"frame_size_wh": (info.width, info.height), "fps": info.fps},
                        opts.exercise, opts.config_path, opts.side, opts.stride, cores=cores,
                        raw=RawFrameRing.create(jpegs.size_wh))
    try:
        return worker.start()
    except BaseException:
        worker.close()  # the ring's memory and descriptors too
        raise


def _run_passes(path: Path, out_dir: Path, opts: AnalyseOptions, config, source: VideoFileSource,
                jpegs: FrameJpegFile | None, clip: ClipWorker | None, cores: CoreSplit | None,
                progress: Progress | None, stop: StopRequest, timings: dict[str, float], t0: float) -> AnalyseResult:
    """`_run_job` once the clip process is started."""
    from glutecam.report.report import still_moments
    from glutecam.report.run import load_run

    # the census of people in view is taken by the decoding process (see glutecam.decode_worker), which starts
    # first: its own start-up (and the census model's) overlaps the model load here
    estimator = PoseEstimator(opts.model, max_people=opts.max_people, census_from_frames=True)
    with ProcessDecodedSource(source, rgb=True, jpegs=jpegs, census=estimator.census_spec(),
                              cores=cores.helpers if cores else None,
                              raw=clip.raw if clip is not None else None).start() as frames:
        # The analysers and the report take a second of CPU to import (scipy.signal, jinja2). Imported on a
        # thread while pass 1 ran, they slowed inference (MediaPipe retakes the GIL around each call into C:
        # 24-25 ms a frame against 23.3 for 600 1768x994 frames); started while MediaPipe and the model load
        # (its C calls leave the GIL free), they save about 1 s of inference. Since MediaPipe's own import is
        # lean (glutecam.mediapipe_import) they end ~0.7 s into pass 1; waiting for them first was no faster.
        warm = _Background("warm-up", _make_analyser, opts.exercise, config)
        # the model's thread, and MediaPipe's threads it starts, on a core of their own (the warm-up thread,
        # already started, is not)
        pin_thread(cores.model if cores else None)
        try:
            with estimator:
                timings["model_load_s"] = time.perf_counter() - t0  # importing MediaPipe, then loading the model
                track, interrupted, t = run_pose(source, estimator, progress, stop, frames,
                                                 on_pose=clip.add if clip is not None else None)
                model = estimator.model
                restarts_s = list(estimator.tracker_restarts_s)
        finally:
            pin_process(cores.all if cores else None)
    census_error = frames.census_error
    analyser = warm.result()
    release_free_memory()  # what the model and the frames' copies freed: the analysis's peak does not stack on it
    timings.update(t)
    timings["pass1_s"] = time.perf_counter() - t0
    result = AnalyseResult(out_dir=out_dir, track=track, interrupted=interrupted, stopped_early=source.error,
                           timings_s=timings)
    # compressing the track (zlib leaves the GIL) runs on the core the decoding process has left
    saving = _Background("save-track", track.save, out_dir / "track.npz")
    t1 = time.perf_counter()
    try:
        analysis = analyser.analyse(track, side=opts.side) if analyser is not None and len(track) else None
    finally:
        result.outputs["track"] = saving.result()
    timings["analysis_s"] = time.perf_counter() - t1
    release_free_memory()  # the analysis's whole-clip intermediates, before the outputs' and the report's peak
    result.analysis = analysis
    result.outputs["frames"] = write_csv(out_dir / "frames.csv",
                                         frame_columns(track, analysis.frames if analysis else None))
    if analysis is not None:
        result.outputs["reps"] = write_json_atomic(out_dir / "reps.json", analysis.set.to_dict())
    summary = build_summary(track, source, model, opts, interrupted, source.error, analysis, restarts_s)
    if census_error:
        summary["warnings"].append(f"other people in view were not counted: the census failed ({census_error})")
    result.summary = summary
    summary["outputs"] = {k: v.name for k, v in result.outputs.items()}
    if config is not None and opts.exercise:  # the thresholds in force, for the report
        from glutecam.report.clip import thresholds_of

        summary["thresholds"] = thresholds_of(config, opts.exercise)
    write_json_atomic(out_dir / "summary.json", summary)
    stills = None  # the report's stills, picked from the clip's frames as drawn
    if opts.video and len(track) and not interrupted and not stop:
        t1 = time.perf_counter()
        from glutecam.report.clip import Replay

        replay = Replay.for_worst_rep(path, analysis, opts.stride)  # slow motion of the worst rep
        moments = still_moments(load_run(out_dir)) if analysis is not None else []
        overlays = frame_overlays(track, analysis)
        video = late = None
        if clip is None and jpegs is None:  # no kept frames (a long recording): a child decodes and draws
            clip = late = ClipWorker.late(out_dir / "annotated.mp4", path, result.outputs["track"], opts.stride).start()
        try:
            if clip is not None:
                try:
                    made = clip.finish(overlays, replay, moments, progress, stop)
                except ClipWorkerFailed:  # drawn here instead
                    clip = None
                else:
                    video, stills = made.path, made.stills
                    if replay is not None and made.replay_s:
                        replay.clip_start_s, replay.clip_end_s = made.replay_s
                    timings["clip_frames_early"] = made.frames_early
                    timings["clip_frames_redrawn"] = made.frames_redrawn
                    timings["clip_frames_raw"] = made.frames_raw
        finally:
            if late is not None:  # the early one is closed by `_run_job`
                late.close()
        if clip is None:
            picker = NearestPicker(moments, thumbnail_jpeg)
            video = write_annotated(path, track, overlays, out_dir / "annotated.mp4", opts.stride, progress, stop,
                                    replay=replay, stills=picker, kept=jpegs)
            stills = picker.finish() if video is not None else None
        timings["pass2_s"] = time.perf_counter() - t1
        if video is not None:
            result.outputs["annotated"] = video
            summary["outputs"]["annotated"] = video.name
            if replay is not None and replay.info():
                summary["replay"] = replay.info()
            write_json_atomic(out_dir / "summary.json", summary)
    if stop and not interrupted:  # stopped after pass 1: its results are whole, the clip is not
        result.interrupted = True
        summary.update(interrupted=True, complete=False)
        partial = out_dir / "annotated.part.mp4"
        note = ("" if not opts.video else f"; the annotated clip was not finished (what was drawn is in "
                f"{partial.name})" if partial.exists() else "; no annotated clip was made")
        summary["warnings"].append(f"interrupted ({stop.reason}) after the whole video was analysed{note}")
        write_json_atomic(out_dir / "summary.json", summary)
    from glutecam.report import write_report

    t1 = time.perf_counter()
    if stills is not None and "annotated" in result.outputs:  # picked from the clip as it was drawn
        taken = stills
    elif jpegs is not None and jpegs.size_wh is None and jpegs.times_s and analysis is not None:
        taken = jpegs.nearest(still_moments(load_run(out_dir)))  # no clip: from the decoding process's stills
    else:  # a clip cut short: the report decodes what there is
        taken = True
    result.outputs["report"] = write_report(out_dir, stills=taken)  # last: it reads what was written above
    summary["outputs"]["report"] = result.outputs["report"].name
    write_json_atomic(out_dir / "summary.json", summary)
    timings["report_s"] = time.perf_counter() - t1
    timings["total_s"] = time.perf_counter() - t0
    return result
