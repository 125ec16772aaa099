"""The pose stage: MediaPipe Tasks `PoseLandmarker` in, `FramePose` arrays out.

MediaPipe's results are converted here, once, into numpy arrays (image landmarks in pixels of the upright
frame, world landmarks in metres). When the model reports several people (`max_people` > 1),
`SubjectSelector` keeps following one of them: the one nearest the previous subject, or at the start the
largest and most central. With `max_people` = 1 the model itself tracks the one person it picked up, and the
once-a-second census (a fresh single-image detection) doubles as a check on that tracking (`contradicts`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from glutecam.landmarks import N_LANDMARKS, Landmark
from glutecam.mediapipe_import import import_mediapipe
from glutecam.models import FoundModel, resolve_model
from glutecam.sources import Frame
from glutecam.track import FramePose

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: People the census looks for when the tracker follows only one, and how many censuses it remembers.
CENSUS_MAX_PEOPLE = 3
CENSUS_MEMORY = 3

_TORSO = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP]
_SHOULDERS = [Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER]
_HIPS = [Landmark.LEFT_HIP, Landmark.RIGHT_HIP]

#: A tracked pose whose torso (hip midpoint -> shoulder midpoint, image) points more than this many degrees
#: away from a fresh detection's of the same frame is a tracker gone wrong (see `contradicts`).
TRACK_CHECK_MAX_DEG = 90.0
#: ... provided the fresh torso is at least this fraction of the fresh person's box diagonal: a torso seen
#: end-on (a hinged trunk from behind) has no direction worth comparing.
TRACK_CHECK_MIN_TORSO = 0.2


@contextlib.contextmanager
def quiet_stderr():
    """Silence the C++ log lines MediaPipe/TFLite print on model load (fd 2), then restore."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def model_rgb(image: np.ndarray, is_rgb: bool) -> np.ndarray:
    """The C-contiguous RGB array MediaPipe needs. MediaPipe misreads an array whose rows are padded (PyAV
    decodes some widths so, e.g. the 1768 px Sports2D demo: it found nobody in them), so an RGB one is copied
    only if it is not contiguous. BGR is converted with OpenCV, ~10x faster than copying the reversed
    channel view with numpy (a strided byte copy, 10+ ms a 1080p frame), and it releases the GIL meanwhile."""
    if is_rgb:
        return np.ascontiguousarray(image)
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@dataclass
class Candidate:
    """One person as MediaPipe returned them, already in arrays."""

    image_px: np.ndarray  # (33, 3)
    visibility: np.ndarray  # (33,)
    presence: np.ndarray  # (33,)
    world_m: np.ndarray  # (33, 3)

    def bbox_xyxy(self) -> np.ndarray:
        xy = self.image_px[:, :2]
        return np.array([*xy.min(axis=0), *xy.max(axis=0)])

    def torso_centre_px(self) -> np.ndarray:
        return self.image_px[_TORSO, :2].mean(axis=0)

    def torso_axis_px(self) -> np.ndarray:
        """Hip midpoint -> shoulder midpoint, image pixels (y down)."""
        return self.image_px[_SHOULDERS, :2].mean(axis=0) - self.image_px[_HIPS, :2].mean(axis=0)

    def to_json(self) -> dict:
        """Plain lists (JSON's float text gives each float64 back exactly: `from_json`)."""
        return {"image_px": self.image_px.tolist(), "visibility": self.visibility.tolist(),
                "presence": self.presence.tolist(), "world_m": self.world_m.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> "Candidate":
        return cls(*(np.asarray(d[k], dtype=np.float64) for k in ("image_px", "visibility", "presence", "world_m")))


def contradicts(tracked: Candidate, fresh: Candidate) -> bool:
    """True when a fresh single-image detection shows the tracked person's torso pointing the other way.

    MediaPipe's VIDEO mode crops each frame around the previous frame's landmarks, rotated by their torso.
    Seen from behind at the bottom of a hinge (single-leg RDL) it can take the person for upside down, and
    then keeps tracking an inverted skeleton after they stand up (on a re-encoded rendered clip: 7 s of a
    standing person read as head-down, two of three reps lost), because that crop never fails. A fresh
    detection does not inherit the crop, so a torso more than `TRACK_CHECK_MAX_DEG` away from it means the
    track is wrong. An end-on torso (shorter than `TRACK_CHECK_MIN_TORSO` of the fresh box diagonal) is not
    compared.

    >>> up = np.zeros((N_LANDMARKS, 3)); up[_SHOULDERS, 1] = 100.0; up[_HIPS, 1] = 200.0; up[_HIPS[0], 0] = 10.0
    >>> down = up.copy(); down[_SHOULDERS, 1] = 300.0
    >>> person = lambda px: Candidate(px, np.ones(N_LANDMARKS), np.ones(N_LANDMARKS), np.zeros((N_LANDMARKS, 3)))
    >>> contradicts(person(down), person(up)), contradicts(person(up), person(up))
    (True, False)
    """
    a, b = tracked.torso_axis_px(), fresh.torso_axis_px()
    x0, y0, x1, y1 = fresh.bbox_xyxy()
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    la, lb = float(np.hypot(*a)), float(np.hypot(*b))
    if la == 0.0 or lb < TRACK_CHECK_MIN_TORSO * float(np.hypot(x1 - x0, y1 - y0)):
        return False
    return bool(float(np.dot(a, b)) / (la * lb) < np.cos(np.radians(TRACK_CHECK_MAX_DEG)))


def nearest(cands: list[Candidate], to: Candidate) -> Candidate:
    """The candidate whose torso centre is nearest `to`'s."""
    centre = to.torso_centre_px()
    return min(cands, key=lambda c: float(np.linalg.norm(c.torso_centre_px() - centre)))


def candidates_from_result(result, width: int, height: int) -> list[Candidate]:
    """Convert a `PoseLandmarkerResult` into `Candidate`s (normalised -> pixel coordinates)."""
    out = []
    for lms, wlms in zip(result.pose_landmarks, result.pose_world_landmarks):
        arr = np.array([(p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0) for p in lms], dtype=np.float64)
        warr = np.array([(p.x, p.y, p.z) for p in wlms], dtype=np.float64)
        if arr.shape[0] != N_LANDMARKS:
            continue
        image_px = np.empty((N_LANDMARKS, 3))
        image_px[:, 0] = arr[:, 0] * width
        image_px[:, 1] = arr[:, 1] * height
        image_px[:, 2] = arr[:, 2] * width  # MediaPipe scales z like x
        out.append(Candidate(image_px, arr[:, 3], arr[:, 4], warr))
    return out


def landmarker_options(model_path: str | Path, running_mode, num_poses: int,
                       confidence: tuple[float, float] = (0.5, 0.5)):
    """MediaPipe `PoseLandmarkerOptions`; `confidence` = (detection and presence, tracking)."""
    from mediapipe.tasks.python import BaseOptions, vision

    return vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=running_mode,
        num_poses=num_poses,
        min_pose_detection_confidence=confidence[0],
        min_pose_presence_confidence=confidence[0],
        min_tracking_confidence=confidence[1],
    )


@dataclass(frozen=True)
class CensusSpec:
    """How the census is taken: a single-image landmarker of `model_path` looking for up to `max_people`,
    on the first frame and then on the first frame at least `every_s` seconds (source time) after the last."""

    model_path: str
    every_s: float = 1.0
    max_people: int = CENSUS_MAX_PEOPLE
    confidence: tuple[float, float] = (0.5, 0.5)

    def to_json(self) -> dict:
        return {"model_path": self.model_path, "every_s": self.every_s, "max_people": self.max_people,
                "confidence": list(self.confidence)}

    @classmethod
    def from_json(cls, d: dict) -> "CensusSpec":
        return cls(d["model_path"], float(d["every_s"]), int(d["max_people"]), tuple(d["confidence"]))

    def landmarker(self):
        """A new single-image landmarker for the census (imports MediaPipe; quiet on stderr)."""
        import_mediapipe()
        from mediapipe.tasks.python import vision

        with quiet_stderr():
            return vision.PoseLandmarker.create_from_options(
                landmarker_options(self.model_path, vision.RunningMode.IMAGE, self.max_people, self.confidence))


class CensusClock:
    """Which frames get a census: the first, then the first at least `every_s` after the last one taken."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._last_s = -np.inf

    def due(self, time_s: float) -> bool:
        """True (and the census counted as taken) when the frame at `time_s` gets one."""
        if time_s - self._last_s < self.every_s:
            return False
        self._last_s = time_s
        return True


class SubjectSelector:
    """Chooses which detected person is "the subject", consistently across frames.

    First pick: the largest person, weighted by closeness to the image centre. Afterwards: the person whose
    torso centre is nearest the last known subject's (normalised by the subject's size), so a second person
    walking past does not steal the track.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._last_centre: np.ndarray | None = None
        self._last_size: float = 1.0

    def _score_first(self, c: Candidate) -> float:
        x0, y0, x1, y1 = c.bbox_xyxy()
        area = max(x1 - x0, 1.0) * max(y1 - y0, 1.0)
        centre = c.torso_centre_px()
        off = np.hypot((centre[0] - self.width / 2) / self.width, (centre[1] - self.height / 2) / self.height)
        return area * (1.0 - min(off, 0.7))

    def choose(self, cands: list[Candidate]) -> Candidate | None:
        if not cands:
            return None
        if self._last_centre is None or len(cands) == 1:
            best = cands[0] if len(cands) == 1 else max(cands, key=self._score_first)
        else:
            dists = [np.linalg.norm(c.torso_centre_px() - self._last_centre) / self._last_size for c in cands]
            best = cands[int(np.argmin(dists))]
        self._last_centre = best.torso_centre_px()
        x0, y0, x1, y1 = best.bbox_xyxy()
        self._last_size = max(y1 - y0, x1 - x0, 1.0)
        return best


def tracker_restarts_report(times_s: Sequence[float]) -> tuple[list[float], list[str]]:
    """What `analyse` and `live` report of the tracker's restarts at `times_s` (source seconds): summary.json's
    `tracker_restarts_s` (to the ms) and the user's warnings (one, or none without restarts)."""
    if not times_s:
        return [], []
    at = ", ".join(f"{t:.1f} s" for t in times_s)
    warning = (f"the pose model's tracking was restarted at {at}: a fresh detection of the person disagreed with "
               f"the tracked skeleton, so the second before {'it' if len(times_s) == 1 else 'each'} may be misread")
    return [round(float(t), 3) for t in times_s], [warning]


class _CensusJob(NamedTuple):
    """A census running on the worker thread: its candidates to come, and the frame's time and tracked subject."""

    future: Future
    time_s: float
    tracked: Candidate | None


class PoseEstimator:
    """Runs the pose model frame by frame (MediaPipe VIDEO mode: tracking between frames).

    Use as a context manager. Files and cameras both use it: live mode feeds it only the newest frame, so
    it never falls behind, and synchronous tracking keeps the capture-to-result time at one inference.

    `max_people` = 1 (default) tracks one person from frame to frame, which is both faster and steadier
    than asking for several: with 2 the model re-detects every frame and the hip landmarks jitter more
    (pelvic-drop error 0.9 deg vs 1.4-2.6 deg on the rendered clips, see benchmarks/README.md). Bystanders
    are then counted by a *census*: every `census_every_s` seconds of video a separate single-image
    landmarker looks for up to 3 people, and `FramePose.n_people` carries the largest of the last 3 counts
    (a single image misses people now and then; a bystander stays reported for about 3 s). With
    `max_people` > 1 the model reports everyone each frame and `SubjectSelector` picks the subject.
    The census is taken here (files), on a worker thread (`census_in_background`: live), or by the frames'
    source (`census_from_frames`: the decoding process takes it with `census_spec()` on the other core and
    hands it over as `Frame.census`; the same frames, counts and checks as here, so the same track).
    """

    def __init__(
        self,
        model: str | Path | FoundModel | None = None,
        max_people: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        census_every_s: float = 1.0,
        census_in_background: bool = False,
        census_from_frames: bool = False,
    ) -> None:
        self.model: FoundModel = model if isinstance(model, FoundModel) else resolve_model(model)
        self.max_people = max(1, int(max_people))
        self.census_every_s = census_every_s if self.max_people == 1 else 0.0
        self.census_in_background = census_in_background
        self.census_from_frames = census_from_frames and self.census_every_s > 0
        self._census = None
        self._census_pool = None  # one worker thread when the census runs in the background
        self._census_job: _CensusJob | None = None
        self._census_clock = CensusClock(self.census_every_s)
        self._census_counts: list[int] = []  # the last CENSUS_MEMORY counts, newest last
        self._conf = (min_detection_confidence, min_tracking_confidence)
        self._landmarker = None
        self._selector: SubjectSelector | None = None
        self._last_ts_ms = -1
        self._calls = 0
        # source times (s) of the frames whose census contradicted the tracked subject (see `contradicts`)
        self.tracker_restarts_s: list[float] = []

    def _options(self, running_mode, num_poses: int | None = None):
        return landmarker_options(self.model.path, running_mode, num_poses or self.max_people, self._conf)

    def census_spec(self) -> CensusSpec | None:
        """How this estimator's census is taken (None: no census), for a source that takes it
        (`census_from_frames`)."""
        if self.census_every_s <= 0:
            return None
        return CensusSpec(str(self.model.path), self.census_every_s, CENSUS_MAX_PEOPLE, self._conf)

    def __enter__(self) -> "PoseEstimator":
        import_mediapipe()  # without its audio tasks and matplotlib: 0.4 s less before the first frame
        from mediapipe.tasks.python import vision

        with quiet_stderr():
            self._landmarker = vision.PoseLandmarker.create_from_options(self._options(vision.RunningMode.VIDEO))
            if self.census_every_s > 0 and not self.census_from_frames:
                try:
                    self._census = self.census_spec().landmarker()
                except BaseException:  # `with` never calls __exit__ when __enter__ fails
                    self.close()
                    raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._census_pool is not None:
            self._census_pool.shutdown(wait=True)  # a census in flight finishes before its model closes
            self._census_pool, self._census_job = None, None
        for name in ("_landmarker", "_census"):
            landmarker = getattr(self, name)
            if landmarker is not None:
                with quiet_stderr():
                    landmarker.close()
                setattr(self, name, None)

    def _timestamp_ms(self, time_s: float) -> int:
        # MediaPipe needs strictly increasing integer milliseconds.
        ts = int(round(time_s * 1000.0))
        if ts <= self._last_ts_ms:
            ts = self._last_ts_ms + 1
        self._last_ts_ms = ts
        return ts

    def process(self, frame: Frame) -> FramePose:
        """Landmarks of the subject in `frame` (a `FramePose.missing` one when nobody is found)."""
        import mediapipe as mp

        if self._landmarker is None:
            raise RuntimeError("PoseEstimator.process called outside its `with` block")
        h, w = frame.image.shape[:2]
        rgb = model_rgb(frame.image, frame.rgb)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        self._collect_census()  # a background census that has finished may restart the tracker first
        ts = self._timestamp_ms(frame.time_s)
        if self._calls < 2:  # the C++ side logs its set-up notes on the first inferences
            with quiet_stderr():
                result = self._landmarker.detect_for_video(image, ts)
        else:
            result = self._landmarker.detect_for_video(image, ts)
        self._calls += 1
        if self._selector is None:
            self._selector = SubjectSelector(w, h)
        cands = candidates_from_result(result, w, h)
        chosen = self._selector.choose(cands)
        if self._census is not None:
            chosen = self._take_census(frame.time_s, image, rgb, chosen, w, h)
        elif self.census_from_frames and frame.census is not None:  # taken by the source, on the other core
            chosen = self._check(frame.census, chosen, frame.time_s) or chosen
        return self._to_frame_pose(chosen, len(cands), frame)

    def _take_census(self, time_s: float, image, rgb: np.ndarray, tracked: Candidate | None, w: int,
                     h: int) -> Candidate | None:
        """Count the people in view every `census_every_s`, and check the tracked subject against that fresh
        detection (`contradicts`: the tracker is restarted). Here and now (frames without a source's census,
        as `validate` and the benchmarks' floor run: the same counts and poses on every run; a contradicted
        frame takes the fresh pose), or on a worker thread (live: MediaPipe
        releases the GIL while it runs, so the census uses the other core and never delays a frame; its
        count and check arrive a frame or two later). Returns the frame's subject."""
        import mediapipe as mp

        if self._census_job is not None or not self._census_clock.due(time_s):
            return tracked
        if not self.census_in_background:
            fresh = candidates_from_result(self._census.detect(image), w, h)
            return self._check(fresh, tracked, time_s) or tracked
        if self._census_pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._census_pool = ThreadPoolExecutor(1, thread_name_prefix="glutecam-census")
        own = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb.copy())  # the caller may reuse `rgb`
        self._census_job = _CensusJob(
            self._census_pool.submit(lambda: candidates_from_result(self._census.detect(own), w, h)), time_s, tracked)
        return tracked

    def _collect_census(self) -> None:
        job = self._census_job
        if job is not None and job.future.done():
            self._census_job = None
            self._check(job.future.result(), job.tracked, job.time_s)

    def _check(self, fresh: list[Candidate], tracked: Candidate | None, time_s: float) -> Candidate | None:
        """Remember a census (of the frame at `time_s`); when it contradicts the tracked subject, restart the
        tracker and return the fresh detection of the subject (else None)."""
        # single-image detection misses people now and then: remember the last few censuses
        self._census_counts = (self._census_counts + [len(fresh)])[-CENSUS_MEMORY:]
        if tracked is None or not fresh:
            return None
        match = nearest(fresh, tracked)
        if not contradicts(tracked, match):
            return None
        self._restart_tracker()
        self.tracker_restarts_s.append(float(time_s))
        return match

    def _restart_tracker(self) -> None:
        """A new tracking landmarker: its next frame starts from a fresh detection (~80 ms)."""
        from mediapipe.tasks.python import vision

        with quiet_stderr():
            fresh = vision.PoseLandmarker.create_from_options(self._options(vision.RunningMode.VIDEO))
            self._landmarker.close()
        self._landmarker = fresh

    @property
    def tracker_restarts(self) -> int:
        """How many times the tracker was restarted."""
        return len(self.tracker_restarts_s)

    def _to_frame_pose(self, chosen: Candidate | None, n_found: int, frame: Frame) -> FramePose:
        census = max(self._census_counts, default=0)
        n_people = max(n_found, census)
        if chosen is None:
            return FramePose.missing(frame.index, frame.time_s, census)
        return FramePose(frame.index, frame.time_s, chosen.image_px, chosen.visibility, chosen.presence,
                         chosen.world_m, n_people)
