"""`PoseTrack`: one subject's pose over a clip, as numpy arrays, with lossless `.npz` storage.

Coordinate frames (never mixed in one array):
- image: `image_px[..., 0:2]` are x, y in pixels of the upright (rotation-corrected) frame, origin top-left,
  y pointing down; `image_px[..., 2]` is MediaPipe's relative depth z, scaled like x (pixels), smaller =
  nearer the camera, origin near the hips' midpoint.
- world: `world_m` are x, y, z in metres, MediaPipe's hip-centred frame (y pointing down, as the image).
A frame with no detected person has NaN coordinates and visibility/presence 0.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glutecam.files import replacing
from glutecam.landmarks import N_LANDMARKS, Landmark

FORMAT_VERSION = 1


class TrackFileError(ValueError):
    """A `track.npz` that is missing, unreadable or not a glutecam track."""


@dataclass
class PoseTrack:
    """Per-frame landmarks of one subject.

    Shapes (T = frames): `time_s` (T,), `frame_index` (T,), `image_px` (T, 33, 3), `visibility` (T, 33),
    `presence` (T, 33), `world_m` (T, 33, 3), `n_people` (T,) = persons the model saw in that frame.
    """

    time_s: np.ndarray
    frame_index: np.ndarray
    image_px: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    world_m: np.ndarray
    n_people: np.ndarray
    frame_size_wh: tuple[int, int]
    fps: float
    source: str = ""
    model: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        t = len(self.time_s)
        expected = {
            "time_s": (t,),
            "frame_index": (t,),
            "image_px": (t, N_LANDMARKS, 3),
            "visibility": (t, N_LANDMARKS),
            "presence": (t, N_LANDMARKS),
            "world_m": (t, N_LANDMARKS, 3),
            "n_people": (t,),
        }
        for name, shape in expected.items():
            arr = np.asarray(getattr(self, name))
            if arr.shape != shape:
                raise ValueError(f"PoseTrack.{name} has shape {arr.shape}, expected {shape}")
            setattr(self, name, arr)
        self.frame_size_wh = (int(self.frame_size_wh[0]), int(self.frame_size_wh[1]))
        self.fps = float(self.fps)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def empty(cls, frame_size_wh: tuple[int, int], fps: float, **meta: Any) -> "PoseTrack":
        """A track with no frames (what a clip with no decodable frame yields)."""
        return cls.from_frames([], frame_size_wh=frame_size_wh, fps=fps, **meta)

    @classmethod
    def from_frames(
        cls, frames: list["FramePose"], frame_size_wh: tuple[int, int], fps: float, **meta: Any
    ) -> "PoseTrack":
        """Stack per-frame results (see `FramePose`) into one track."""
        t = len(frames)
        track = cls(
            time_s=np.array([f.time_s for f in frames], dtype=np.float64).reshape(t),
            frame_index=np.array([f.frame_index for f in frames], dtype=np.int64).reshape(t),
            image_px=np.stack([f.image_px for f in frames]) if t else np.zeros((0, N_LANDMARKS, 3)),
            visibility=np.stack([f.visibility for f in frames]) if t else np.zeros((0, N_LANDMARKS)),
            presence=np.stack([f.presence for f in frames]) if t else np.zeros((0, N_LANDMARKS)),
            world_m=np.stack([f.world_m for f in frames]) if t else np.zeros((0, N_LANDMARKS, 3)),
            n_people=np.array([f.n_people for f in frames], dtype=np.int64).reshape(t),
            frame_size_wh=frame_size_wh,
            fps=fps,
            **meta,
        )
        return track

    # -- access -------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def detected(self) -> np.ndarray:
        """(T,) bool: a person was found in the frame."""
        return np.isfinite(self.image_px[:, Landmark.LEFT_HIP, 0])

    def xy(self, landmark: Landmark | int) -> np.ndarray:
        """(T, 2) image position of one landmark, pixels."""
        return self.image_px[:, int(landmark), :2]

    def world(self, landmark: Landmark | int) -> np.ndarray:
        """(T, 3) world position of one landmark, metres."""
        return self.world_m[:, int(landmark)]

    def __getitem__(self, index: slice | np.ndarray) -> "PoseTrack":
        """Frames selected by a slice or a boolean/int index array, as a new track."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1)
        return PoseTrack(
            time_s=self.time_s[index],
            frame_index=self.frame_index[index],
            image_px=self.image_px[index],
            visibility=self.visibility[index],
            presence=self.presence[index],
            world_m=self.world_m[index],
            n_people=self.n_people[index],
            frame_size_wh=self.frame_size_wh,
            fps=self.fps,
            source=self.source,
            model=self.model,
            info=dict(self.info),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PoseTrack):
            return NotImplemented
        arrays = ("time_s", "frame_index", "image_px", "visibility", "presence", "world_m", "n_people")
        return (
            all(np.array_equal(getattr(self, a), getattr(other, a), equal_nan=True) for a in arrays)
            and self.frame_size_wh == other.frame_size_wh
            and np.array_equal(self.fps, other.fps, equal_nan=True)  # a NaN frame rate equals itself
            and self.source == other.source
            and self.model == other.model
            and self.info == other.info
        )

    # -- storage ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the track losslessly to `path` (.npz); written to a temporary name, then renamed."""
        path = Path(path)
        meta = {
            "format": "glutecam.PoseTrack",
            "version": FORMAT_VERSION,
            "frame_size_wh": list(self.frame_size_wh),
            "fps": self.fps,
            "source": self.source,
            "model": self.model,
            "info": self.info,
            "landmarks": [lm.name for lm in Landmark],
        }
        with replacing(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                meta=np.array(json.dumps(meta)),
                time_s=self.time_s,
                frame_index=self.frame_index,
                image_px=self.image_px,
                visibility=self.visibility,
                presence=self.presence,
                world_m=self.world_m,
                n_people=self.n_people,
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> "PoseTrack":
        """Read a track written by `save`; raises `TrackFileError` on anything else."""
        path = Path(path)
        if not path.is_file():
            raise TrackFileError(f"{path}: no such track file")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != "glutecam.PoseTrack":
                    raise TrackFileError(f"{path}: not a glutecam track")
                if int(meta.get("version", 0)) > FORMAT_VERSION:
                    raise TrackFileError(f"{path}: written by a newer glutecam (format {meta['version']})")
                arrays = {k: data[k] for k in ("time_s", "frame_index", "image_px", "visibility",
                                               "presence", "world_m", "n_people")}
        except TrackFileError:
            raise
        except Exception as exc:  # zip, pickle, key and JSON errors all mean the same to a user
            raise TrackFileError(f"{path}: unreadable track file ({type(exc).__name__}: {exc})") from None
        try:
            return cls(
                **arrays,
                frame_size_wh=tuple(meta["frame_size_wh"]),
                fps=meta["fps"],
                source=meta.get("source", ""),
                model=meta.get("model", ""),
                info=meta.get("info", {}),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise TrackFileError(f"{path}: inconsistent track file ({exc})") from None


@dataclass
class FramePose:
    """The chosen subject's landmarks in one frame (NaN / 0 when nobody was found)."""

    frame_index: int
    time_s: float
    image_px: np.ndarray  # (33, 3) x, y px; z relative depth, px
    visibility: np.ndarray  # (33,) 0..1
    presence: np.ndarray  # (33,) 0..1
    world_m: np.ndarray  # (33, 3) metres, hip-centred
    n_people: int = 0

    @classmethod
    def missing(cls, frame_index: int, time_s: float, n_people: int = 0) -> "FramePose":
        return cls(
            frame_index=frame_index,
            time_s=time_s,
            image_px=np.full((N_LANDMARKS, 3), np.nan),
            visibility=np.zeros(N_LANDMARKS),
            presence=np.zeros(N_LANDMARKS),
            world_m=np.full((N_LANDMARKS, 3), np.nan),
            n_people=n_people,
        )

    @property
    def detected(self) -> bool:
        return bool(np.isfinite(self.image_px[Landmark.LEFT_HIP, 0]))


LANDMARK_CSV_FIELDS = ("x_px", "y_px", "z_px", "vis")


def landmark_columns() -> list[str]:
    """CSV column names of the landmark block: `left_hip_x_px`, `left_hip_y_px`, ..."""
    return [f"{lm.name.lower()}_{f}" for lm in Landmark for f in LANDMARK_CSV_FIELDS]


def landmark_block(image_px: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """(..., 33*4) landmark values in `landmark_columns()` order, from (..., 33, 3) positions and (..., 33)
    visibilities: one frame's or a whole track's."""
    block = np.concatenate([image_px, visibility[..., None]], axis=-1)
    return block.reshape(*image_px.shape[:-2], N_LANDMARKS * len(LANDMARK_CSV_FIELDS))  # also for 0 frames


def landmark_rows(track: PoseTrack) -> np.ndarray:
    """(T, 33*4) array matching `landmark_columns()`."""
    return landmark_block(track.image_px, track.visibility)


def csv_cell(v: Any, float_fmt: str = "{:.3f}") -> Any:
    """One CSV cell: floats formatted (NaN, infinities and None as an empty cell), booleans as 0/1.

    >>> [csv_cell(v) for v in (1.23456, float("nan"), np.True_, None, np.int64(3), "x")]
    ['1.235', '', 1, '', 3, 'x']
    """
    if isinstance(v, (float, np.floating)):
        return float_fmt.format(float(v)) if math.isfinite(v) else ""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if v is None:
        return ""
    return v.item() if isinstance(v, np.generic) else v


def write_csv(path: str | Path, columns: dict[str, np.ndarray | list], float_fmt: str = "{:.3f}") -> Path:
    """Write equal-length columns to CSV (cells as `csv_cell`), via a temporary name."""
    path = Path(path)
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    with replacing(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        cols = [columns[k] for k in names]
        for i in range(n):
            w.writerow([csv_cell(col[i], float_fmt) for col in cols])
    return path


class TrackBuilder:
    """Collects `FramePose`s one at a time into preallocated chunks, then builds a `PoseTrack`.

    Memory per frame is the track's own arrays, nothing else: coordinates are stored as `dtype` (float32 by
    default: MediaPipe computes in float32) in chunks of `chunk` frames, so a long clip never holds one
    Python object per frame. `build` returns float64 arrays, like `PoseTrack.from_frames`; with float64
    storage, exactly its arrays. One thread may `build` while another goes on appending.

    >>> b = TrackBuilder(chunk=2)
    >>> for i in range(5):
    ...     b.append(FramePose.missing(i, i / 30))
    >>> t = b.build(frame_size_wh=(640, 480), fps=30.0)
    >>> len(t), t.frame_index.tolist(), bool(t.detected.any())
    (5, [0, 1, 2, 3, 4], False)
    """

    _FIELDS = {  # name: (shape of one frame, stored dtype; None: the builder's `dtype`)
        "time_s": ((), np.float64),
        "frame_index": ((), np.int64),
        "image_px": ((N_LANDMARKS, 3), None),
        "visibility": ((N_LANDMARKS,), None),
        "presence": ((N_LANDMARKS,), None),
        "world_m": ((N_LANDMARKS, 3), None),
        "n_people": ((), np.int16),
    }

    def __init__(self, chunk: int = 1024, dtype: type = np.float32) -> None:
        self.chunk = max(1, int(chunk))
        self._layout = {name: (shape, stored or dtype) for name, (shape, stored) in self._FIELDS.items()}
        self._chunks: list[dict[str, np.ndarray]] = []
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, pose: FramePose) -> None:
        k = self._n % self.chunk
        if k == 0:
            self._chunks.append({name: np.empty((self.chunk, *shape), dtype)
                                 for name, (shape, dtype) in self._layout.items()})
        c = self._chunks[-1]
        c["time_s"][k] = pose.time_s
        c["frame_index"][k] = pose.frame_index
        c["image_px"][k] = pose.image_px
        c["visibility"][k] = pose.visibility
        c["presence"][k] = pose.presence
        c["world_m"][k] = pose.world_m
        c["n_people"][k] = pose.n_people
        self._n += 1  # last: a `build` on another thread sees this frame only once it is complete

    def build(self, frame_size_wh: tuple[int, int], fps: float, **meta: Any) -> PoseTrack:
        """The track so far (the builder can go on collecting afterwards, even meanwhile on another thread)."""
        return self._build(frame_size_wh, fps, False, meta)

    def finish(self, frame_size_wh: tuple[int, int], fps: float, **meta: Any) -> PoseTrack:
        """The whole track, emptying the builder as it goes: each chunk's array is freed once copied, so the
        builder's storage and the track's (twice its size in float64) do not both exist whole at the end of a
        long clip. The builder is empty afterwards."""
        return self._build(frame_size_wh, fps, True, meta)

    def _build(self, frame_size_wh: tuple[int, int], fps: float, release: bool, meta: dict[str, Any]) -> PoseTrack:
        n = self._n  # the frames complete now; chunks filled later are not read
        chunks = self._chunks[: -(-n // self.chunk)]
        if release:
            self._chunks, self._n = [], 0
        arrays = {}
        for name, (shape, dtype) in self._layout.items():
            out_dtype = np.int64 if np.issubdtype(dtype, np.integer) else np.float64
            out = np.empty((n, *shape), out_dtype)
            for i, c in enumerate(chunks):
                a = i * self.chunk
                b = min(n, a + self.chunk)
                out[a:b] = c.pop(name)[: b - a] if release else c[name][: b - a]
            arrays[name] = out
        return PoseTrack(**arrays, frame_size_wh=frame_size_wh, fps=fps, **meta)
