"""Property tests of the loaders and writers: whatever the numbers (NaN, infinities, huge, tiny, no frames,
one frame) and whatever the bytes of a file claiming to be a track, glutecam round-trips what it can and
refuses the rest with `TrackFileError`, never another exception.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glutecam.analyse import frame_columns, hip_line_obliquity_deg
from glutecam.files import jsonable, write_json_atomic
from glutecam.landmarks import N_LANDMARKS
from glutecam.track import PoseTrack, TrackFileError, write_csv

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Any float64, including NaN, both infinities, subnormals and the extremes.
any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)


@st.composite
def tracks(draw, max_frames: int = 4, elements=any_float) -> PoseTrack:
    t = draw(st.integers(0, max_frames))
    arr = lambda shape: draw(hnp.arrays(np.float64, shape, elements=elements))  # noqa: E731
    return PoseTrack(
        time_s=arr((t,)),
        frame_index=draw(hnp.arrays(np.int64, (t,), elements=st.integers(-(2**62), 2**62))),
        image_px=arr((t, N_LANDMARKS, 3)),
        visibility=arr((t, N_LANDMARKS)),
        presence=arr((t, N_LANDMARKS)),
        world_m=arr((t, N_LANDMARKS, 3)),
        n_people=draw(hnp.arrays(np.int64, (t,), elements=st.integers(0, 5))),
        frame_size_wh=(draw(st.integers(0, 10_000)), draw(st.integers(0, 10_000))),
        fps=draw(any_float),
        source=draw(st.text(max_size=30)),
        model=draw(st.sampled_from(["full", "lite", ""])),
        info={"note": draw(st.text(max_size=10))},
    )


@SETTINGS
@given(track=tracks())
def test_save_then_load_is_lossless_for_any_numbers(tmp_path, track):
    path = tmp_path / "track.npz"
    track.save(path)
    assert PoseTrack.load(path) == track
    assert not list(tmp_path.glob("*.part"))


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_are_refused_with_track_file_error(tmp_path, data):
    path = tmp_path / "track.npz"
    path.write_bytes(data)
    with pytest.raises(TrackFileError):
        PoseTrack.load(path)


@pytest.fixture(scope="module")
def good_track_bytes(tmp_path_factory) -> bytes:
    rng = np.random.default_rng(3)
    t = 5
    track = PoseTrack(np.arange(t) / 30, np.arange(t), rng.normal(size=(t, N_LANDMARKS, 3)),
                      rng.uniform(size=(t, N_LANDMARKS)), rng.uniform(size=(t, N_LANDMARKS)),
                      rng.normal(size=(t, N_LANDMARKS, 3)), np.ones(t, np.int64), (640, 480), 30.0)
    path = tmp_path_factory.mktemp("good") / "track.npz"
    return track.save(path).read_bytes()


@SETTINGS
@given(cut=st.integers(0, 10_000), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                                   max_size=5))
def test_a_damaged_track_file_loads_whole_or_is_refused(tmp_path, good_track_bytes, cut, flips):
    data = bytearray(good_track_bytes[: max(0, len(good_track_bytes) - cut)])
    for pos, byte in flips:
        if data:
            data[pos % len(data)] = byte
    path = tmp_path / "track.npz"
    path.write_bytes(bytes(data))
    try:
        track = PoseTrack.load(path)
    except TrackFileError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(track) == 5  # a flip the zip's CRC does not cover (e.g. in a header field) is harmless


def npz_bytes(**members) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **members)
    return buf.getvalue()


META = {"format": "glutecam.PoseTrack", "version": 1, "frame_size_wh": [64, 48], "fps": 30.0}


@pytest.mark.parametrize("members", [
    {},  # an empty archive
    {"meta": np.array("{not json")},
    {"meta": np.array(json.dumps({**META, "format": "something else"}))},
    {"meta": np.array(json.dumps({**META, "version": 99}))},
    {"meta": np.array(json.dumps(META))},  # arrays missing
    {"meta": np.array(json.dumps(META)), **{k: np.zeros(3) for k in (
        "time_s", "frame_index", "image_px", "visibility", "presence", "world_m", "n_people")}},  # bad shapes
    {"meta": np.array(json.dumps({k: v for k, v in META.items() if k != "fps"})), **{
        "time_s": np.zeros(0), "frame_index": np.zeros(0), "image_px": np.zeros((0, 33, 3)),
        "visibility": np.zeros((0, 33)), "presence": np.zeros((0, 33)), "world_m": np.zeros((0, 33, 3)),
        "n_people": np.zeros(0)}},  # meta without fps
    {"meta": np.array([1, 2, 3])},
    {"meta": np.array(json.dumps([1, 2]))},  # JSON, but not an object
], ids=["empty", "bad-json", "other-format", "newer", "no-arrays", "bad-shapes", "no-fps", "meta-numbers",
        "meta-list"])
def test_well_formed_archives_that_are_not_tracks_are_refused(tmp_path, members):
    path = tmp_path / "track.npz"
    path.write_bytes(npz_bytes(**members))
    with pytest.raises(TrackFileError):
        PoseTrack.load(path)


def test_an_archive_with_pickled_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "track.npz"
    path.write_bytes(npz_bytes(meta=np.array(json.dumps(META)), time_s=np.array([object()], dtype=object)))
    with pytest.raises(TrackFileError):
        PoseTrack.load(path)


def test_a_zip_bomb_sized_member_name_list_is_refused(tmp_path):
    path = tmp_path / "track.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(200):
            zf.writestr(f"m{i}.npy", b"\x93NUMPY garbage")
    with pytest.raises(TrackFileError):
        PoseTrack.load(path)


@SETTINGS
@given(track=tracks(max_frames=3))
def test_frames_csv_is_written_for_any_numbers(tmp_path, track):
    path = write_csv(tmp_path / "frames.csv", frame_columns(track, None))
    rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
    assert len(rows) == 1 + len(track)
    assert all(len(r) == len(rows[0]) for r in rows)
    for r in rows[1:]:
        for cell in r:
            assert cell.lower() not in ("nan", "inf", "-inf")  # not measured = an empty cell


@SETTINGS
@given(track=tracks(max_frames=3))
def test_hip_line_angle_is_an_angle_or_missing(track):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inf and NaN landmarks give NaN quietly
        a = hip_line_obliquity_deg(track)
    assert a.shape == (len(track),)
    finite = a[np.isfinite(a)]
    assert (np.abs(finite) <= 90).all()
    assert not np.isinf(a).any()


json_values = st.recursive(
    st.none() | st.booleans() | any_float | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


@SETTINGS
@given(value=json_values)
def test_json_outputs_are_standard_json_for_any_numbers(tmp_path, value):
    path = write_json_atomic(tmp_path / "x.json", {"v": value})
    loaded = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    assert loaded == {"v": jsonable(value)}
