"""The pose stage on real footage (../shared/samples): detection, anatomy, mirroring, sync, subject choice."""

import numpy as np
import pytest

from glutecam.landmarks import Landmark as L
from glutecam.landmarks import mirror_index
from glutecam.pose import Candidate, SubjectSelector
from glutecam.sources import VideoFileSource
from tests.conftest import pose_track, write_clip

pytestmark = pytest.mark.model


def test_every_frame_of_the_single_person_clip_yields_a_person(samples_dir, track_of):
    track = track_of(samples_dir / "pose2sim_single_cam01.mp4")
    assert len(track) == 100
    assert track.detected.all()
    assert (track.n_people == 1).all()


def test_anatomy_is_sane_on_an_upright_person(samples_dir, track_of):
    track = track_of(samples_dir / "pose2sim_single_cam01.mp4")
    y = track.image_px[..., 1]  # pixels, pointing down
    for side in ("LEFT", "RIGHT"):
        assert (y[:, L[f"{side}_HIP"]] > y[:, L[f"{side}_SHOULDER"]]).all()
        assert (y[:, L[f"{side}_ANKLE"]] > y[:, L[f"{side}_KNEE"]]).all()
        assert (y[:, L[f"{side}_KNEE"]] > y[:, L[f"{side}_HIP"]]).all()
    # world landmarks are metres around the hips: a hip width of a human size
    width_m = np.linalg.norm(track.world(L.LEFT_HIP) - track.world(L.RIGHT_HIP), axis=1)
    assert 0.12 < np.median(width_m) < 0.40


def test_a_mirrored_clip_swaps_left_and_right(samples_dir, tmp_path):
    frames = [f.image for _, f in zip(range(40), VideoFileSource(samples_dir / "pose2sim_single_cam01.mp4"))]
    clip = write_clip(tmp_path / "orig.mp4", frames, fps=60)
    flipped = write_clip(tmp_path / "mirror.mp4", [np.ascontiguousarray(f[:, ::-1]) for f in frames], fps=60)
    a, b = pose_track(clip), pose_track(flipped)
    width = a.frame_size_wh[0]
    expected = a.image_px[:, mirror_index(), 0]
    expected = width - expected  # x of the mirror image
    body = [L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE,
            L.LEFT_ANKLE, L.RIGHT_ANKLE]
    err = np.abs(b.image_px[:, body, 0] - expected[:, body])
    # the hips are ~0.1 of the width apart, so a label kept instead of swapped would be off by that much
    assert np.median(err) < 0.02 * width
    hips_apart = np.abs(a.xy(L.LEFT_HIP)[:, 0] - a.xy(L.RIGHT_HIP)[:, 0])
    assert np.median(err[:, 2:4]) < 0.5 * np.median(hips_apart)


def test_the_four_synchronised_views_give_equal_tracks_and_timestamps(samples_dir, track_of):
    tracks = [track_of(samples_dir / f"pose2sim_single_cam0{i}.mp4") for i in range(1, 5)]
    lengths = {len(t) for t in tracks}
    assert lengths == {100}
    for t in tracks[1:]:
        np.testing.assert_allclose(t.time_s, tracks[0].time_s, atol=1e-6)
    np.testing.assert_allclose(np.diff(tracks[0].time_s), 1 / 60, atol=1e-3)
    assert all(t.detected.mean() > 0.95 for t in tracks)


def test_one_subject_is_followed_when_others_are_in_view(samples_dir, track_of):
    track = track_of(samples_dir / "pose2sim_multi_cam01.mp4", max_people=2)
    assert track.n_people.max() >= 2
    centre = (track.xy(L.LEFT_HIP) + track.xy(L.RIGHT_HIP)) / 2
    ok = track.detected[1:] & track.detected[:-1]
    jumps = np.linalg.norm(np.diff(centre, axis=0), axis=1)[ok]
    # at 60 fps a hip centre moves a few pixels a frame; switching people would jump hundreds
    assert jumps.max() < 0.05 * track.frame_size_wh[1]


def _person(cx, cy, size):
    """A person whose bounding box is `size` tall and whose torso is centred on (cx, cy)."""
    pts = np.zeros((33, 3))
    pts[:, 0] = cx + np.linspace(-size / 4, size / 4, 33)
    pts[:, 1] = cy + np.linspace(-size / 2, size / 2, 33)
    for i, (dx, dy) in zip((11, 12, 23, 24), ((-1, -1), (1, -1), (-1, 1), (1, 1))):
        pts[i, :2] = cx + dx * size / 10, cy + dy * size / 10
    return Candidate(pts, np.ones(33), np.ones(33), np.zeros((33, 3)))


def test_selector_starts_with_the_largest_central_person_then_keeps_following_them():
    sel = SubjectSelector(1000, 1000)
    small_edge, big_centre = _person(100, 500, 200), _person(500, 500, 600)
    assert sel.choose([small_edge, big_centre]) is big_centre
    # the subject steps right while a bigger person walks in on their left: stay with the subject
    moved, intruder = _person(560, 500, 600), _person(420, 480, 800)
    assert sel.choose([intruder, moved]) is moved
    assert sel.choose([]) is None


@pytest.mark.parametrize("background", [False, True])
def test_default_tracking_follows_one_person_and_still_counts_bystanders(samples_dir, model_ready, background):
    """--max-people 1 (the default) tracks one person; the census reports the others, here or (live) on a
    worker thread. The clip lasts 1.7 s, so the census runs every 0.25 s here to get a few looks at it (the
    default is once a second)."""
    from glutecam.pose import PoseEstimator
    from glutecam.track import PoseTrack

    src = VideoFileSource(samples_dir / "pose2sim_multi_cam01.mp4")
    with PoseEstimator(max_people=1, census_every_s=0.25, census_in_background=background) as est:
        poses = [est.process(f) for f in src]
    track = PoseTrack.from_frames(poses, (src.info.width, src.info.height), src.info.fps)
    assert track.detected.mean() > 0.95
    assert track.n_people.max() >= 2  # the census saw the others
    centre = (track.xy(L.LEFT_HIP) + track.xy(L.RIGHT_HIP)) / 2
    ok = track.detected[1:] & track.detected[:-1]
    assert np.linalg.norm(np.diff(centre, axis=0), axis=1)[ok].max() < 0.05 * track.frame_size_wh[1]


def test_census_runs_once_a_second_not_every_frame(samples_dir, model_ready):
    from glutecam.pose import PoseEstimator

    calls = []
    with PoseEstimator(max_people=1) as est:
        real = est._census.detect
        est._census.detect = lambda image: calls.append(1) or real(image)
        for frame in VideoFileSource(samples_dir / "pose2sim_multi_cam01.mp4"):  # 100 frames at 60 fps
            est.process(frame)
    assert len(calls) == 2  # at 0 s and 1 s


def test_a_background_census_runs_off_the_calling_thread_and_never_piles_up(samples_dir, model_ready):
    import threading

    from glutecam.pose import PoseEstimator

    threads = []
    with PoseEstimator(max_people=1, census_every_s=1e-6, census_in_background=True) as est:
        real = est._census.detect
        est._census.detect = lambda image: threads.append(threading.current_thread().name) or real(image)
        frames = list(VideoFileSource(samples_dir / "pose2sim_multi_cam01.mp4"))
        for frame in frames:
            est.process(frame)
    # asked for on every frame, but one at a time: a census still running is not queued behind
    assert 2 <= len(threads) < len(frames)
    assert set(threads) == {threads[0]} and threads[0].startswith("glutecam-census")


def test_the_tracking_landmarker_is_closed_when_the_census_one_cannot_be_created(model_ready, monkeypatch):
    from mediapipe.tasks.python import vision

    from glutecam.pose import PoseEstimator

    made = []

    class Landmarker:
        closed = False

        def close(self):
            self.closed = True

    def create(options):
        if made:  # the second one, the census landmarker
            raise RuntimeError("out of memory")
        made.append(Landmarker())
        return made[-1]

    monkeypatch.setattr(vision.PoseLandmarker, "create_from_options", staticmethod(create))
    with pytest.raises(RuntimeError, match="out of memory"):
        with PoseEstimator(census_every_s=1.0):
            pass
    assert [m.closed for m in made] == [True]
