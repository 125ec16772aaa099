"""PoseTrack maths and storage; no model needed."""

import csv

import numpy as np
import pytest

from glutecam.landmarks import N_LANDMARKS, Landmark, mirror_index
from glutecam.track import FramePose, PoseTrack, TrackFileError, landmark_columns, write_csv


def make_track(t: int = 5, seed: int = 0) -> PoseTrack:
    rng = np.random.default_rng(seed)
    frames = [
        FramePose(i, i / 30, rng.uniform(0, 640, (N_LANDMARKS, 3)), rng.uniform(0, 1, N_LANDMARKS),
                  rng.uniform(0, 1, N_LANDMARKS), rng.normal(0, 0.3, (N_LANDMARKS, 3)), 1)
        for i in range(t)
    ]
    frames[2] = FramePose.missing(2, 2 / 30)
    return PoseTrack.from_frames(frames, (640, 480), 30.0, source="clip.mp4", model="full", info={"k": [1, 2]})


def test_round_trip_is_exact_including_missing_frames(tmp_path):
    track = make_track()
    loaded = PoseTrack.load(track.save(tmp_path / "track.npz"))
    assert loaded == track
    assert np.isnan(loaded.image_px[2]).all() and (loaded.visibility[2] == 0).all()
    assert loaded.detected.tolist() == [True, True, False, True, True]
    assert not (tmp_path / "track.npz.part").exists()


def test_empty_track_round_trips(tmp_path):
    track = PoseTrack.empty((64, 64), 25.0)
    assert len(PoseTrack.load(track.save(tmp_path / "e.npz"))) == 0


def test_shapes_are_checked():
    track = make_track()
    with pytest.raises(ValueError, match="image_px"):
        PoseTrack(track.time_s, track.frame_index, track.image_px[:, :10], track.visibility, track.presence,
                  track.world_m, track.n_people, (640, 480), 30.0)


def test_slicing_keeps_metadata_and_rows():
    track = make_track(6)
    part = track[1:4]
    assert len(part) == 3 and part.frame_index.tolist() == [1, 2, 3]
    assert part.frame_size_wh == (640, 480) and part.source == "clip.mp4"
    np.testing.assert_array_equal(part.xy(Landmark.LEFT_KNEE), track.image_px[1:4, Landmark.LEFT_KNEE, :2])


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_load_rejects_garbage_with_a_clear_error(tmp_path, content):
    bad = tmp_path / "track.npz"
    bad.write_bytes(content)
    with pytest.raises(TrackFileError, match="track.npz"):
        PoseTrack.load(bad)


def test_load_rejects_other_npz(tmp_path):
    np.savez(tmp_path / "x.npz", meta=np.array('{"format": "other"}'))
    with pytest.raises(TrackFileError, match="not a glutecam track"):
        PoseTrack.load(tmp_path / "x.npz")


def test_mirror_index_swaps_pairs_and_is_an_involution():
    m = mirror_index()
    assert m[Landmark.LEFT_HIP] == Landmark.RIGHT_HIP and m[Landmark.NOSE] == Landmark.NOSE
    assert [m[i] for i in m] == list(range(N_LANDMARKS))


def test_csv_schema_and_empty_cells_for_nan(tmp_path):
    cols = {"frame": np.array([0, 1]), "x_deg": np.array([1.23456, np.nan]), "ok": np.array([True, False]),
            "view": ["front", "front"]}
    path = write_csv(tmp_path / "f.csv", cols)
    rows = list(csv.reader(open(path)))
    assert rows == [["frame", "x_deg", "ok", "view"], ["0", "1.235", "1", "front"], ["1", "", "0", "front"]]


def test_landmark_columns_name_every_landmark_with_units():
    cols = landmark_columns()
    assert len(cols) == N_LANDMARKS * 4
    assert cols[:4] == ["nose_x_px", "nose_y_px", "nose_z_px", "nose_vis"]
    assert "left_hip_y_px" in cols and "right_foot_index_vis" in cols


@pytest.mark.parametrize("n, chunk", [
    (0, 4),  # nothing appended: an empty track
    (3, 4),  # less than one chunk
    (8, 4),  # exactly two chunks
    (9, 4),  # one frame into a third chunk
])
def test_track_builder_matches_from_frames(n, chunk):
    from glutecam.track import TrackBuilder

    rng = np.random.default_rng(n)
    frames = []
    for i in range(n):
        if i % 3 == 2:
            frames.append(FramePose.missing(i * 2, i / 15, n_people=1))
        else:
            frames.append(FramePose(i * 2, i / 15, rng.random((33, 3)) * 1000, rng.random(33), rng.random(33),
                                    rng.random((33, 3)), n_people=1 + i % 2))
    builder = TrackBuilder(chunk=chunk)
    for f in frames:
        builder.append(f)
    built = builder.build(frame_size_wh=(640, 480), fps=15.0, source="x.mp4")
    ref = PoseTrack.from_frames(frames, frame_size_wh=(640, 480), fps=15.0, source="x.mp4")
    assert len(built) == n
    np.testing.assert_array_equal(built.frame_index, ref.frame_index)
    np.testing.assert_array_equal(built.time_s, ref.time_s)
    np.testing.assert_array_equal(built.n_people, ref.n_people)
    for name in ("image_px", "visibility", "presence", "world_m"):  # float32 storage: MediaPipe's own precision
        np.testing.assert_allclose(getattr(built, name), getattr(ref, name), rtol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(built.detected, ref.detected)


def test_track_builder_with_float64_storage_gives_exactly_from_frames():
    from glutecam.track import TrackBuilder

    rng = np.random.default_rng(1)
    frames = [FramePose(i, i / 30, rng.random((33, 3)) * 1000, rng.random(33), rng.random(33), rng.random((33, 3)),
                        n_people=1) for i in range(5)]
    builder = TrackBuilder(chunk=2, dtype=np.float64)
    for f in frames:
        builder.append(f)
    assert builder.build((640, 480), 30.0) == PoseTrack.from_frames(frames, (640, 480), 30.0)


def test_track_builder_finish_gives_the_same_track_and_frees_its_storage():
    import tracemalloc

    from glutecam.track import TrackBuilder

    rng = np.random.default_rng(2)
    frames = [FramePose(i, i / 30, rng.random((33, 3)) * 1000, rng.random(33), rng.random(33), rng.random((33, 3)),
                        n_people=1) for i in range(3000)]
    peaks = {}
    for how in ("build", "finish"):
        tracemalloc.start()
        try:
            builder = TrackBuilder(chunk=256)
            for f in frames:
                builder.append(f)
            track = getattr(builder, how)((640, 480), 30.0)
            peaks[how] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        if how == "build":
            built = track
    assert track == built and len(builder) == 0
    # the track is 6.4 MB (float64, int64), the builder's chunks 3.3 MB (float32): `build` holds both at the
    # end, `finish` the track and at most one field's chunks (world_m's, 1.2 MB)
    assert peaks["finish"] < peaks["build"] - 1.8e6, peaks


def test_track_builder_builds_while_another_thread_appends():
    import threading

    from glutecam.track import TrackBuilder

    builder = TrackBuilder(chunk=3)
    n = 30_000
    appender = threading.Thread(target=lambda: [builder.append(FramePose.missing(i, i / 30)) for i in range(n)])
    appender.start()
    builds = []
    while appender.is_alive() or not builds:
        track = builder.build((640, 480), 30.0)  # frames complete so far, every array the same length
        assert track.frame_index.tolist() == list(range(len(track)))
        builds.append(len(track))
    appender.join()
    assert len(builder.build((640, 480), 30.0)) == n
