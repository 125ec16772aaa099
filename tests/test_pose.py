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


def _landmarker_result(upright: bool):
    """A MediaPipe-like result holding one standing person, or the same skeleton head-down (normalised)."""
    from types import SimpleNamespace

    from glutecam.landmarks import N_LANDMARKS

    y = {L.LEFT_SHOULDER: 0.3, L.RIGHT_SHOULDER: 0.3, L.LEFT_HIP: 0.5, L.RIGHT_HIP: 0.5, L.LEFT_KNEE: 0.65,
         L.RIGHT_KNEE: 0.65, L.LEFT_ANKLE: 0.8, L.RIGHT_ANKLE: 0.8}
    points = []
    for i in range(N_LANDMARKS):
        yy = y.get(i, 0.2)
        yy = yy if upright else 1.0 - yy
        x = 0.53 if i % 2 else 0.47  # left landmarks (odd) on the picture's right: seen from the front
        points.append(SimpleNamespace(x=x, y=yy, z=0.0, visibility=0.9, presence=0.9))
    world = [SimpleNamespace(x=p.x - 0.5, y=p.y - 0.5, z=0.0) for p in points]
    return SimpleNamespace(pose_landmarks=[points], pose_world_landmarks=[world])


@pytest.mark.parametrize("background", [False, True])
def test_a_census_that_contradicts_the_tracker_restarts_it(model_ready, background):
    """A tracker stuck on a head-down skeleton (MediaPipe's VIDEO mode keeps its rotated crop) is restarted when
    the once-a-second fresh detection shows the person upright. Files: that frame takes the fresh pose. Live
    (census on a worker thread): the restart comes before the next frame once the census is in."""
    from glutecam.pose import PoseEstimator
    from glutecam.sources import Frame

    frames = [Frame(image=np.zeros((480, 640, 3), np.uint8), index=i, time_s=i / 30, captured_at=0.0) for i in range(40)]
    with PoseEstimator(max_people=1, census_every_s=1.0, census_in_background=background) as est:
        stuck = est._landmarker
        stuck.detect_for_video = lambda image, ts: _landmarker_result(upright=False)
        est._census.detect = lambda image: _landmarker_result(upright=True)
        first = est.process(frames[0])  # the census runs on the first frame
        if background:
            assert first.image_px[L.LEFT_SHOULDER, 1] > first.image_px[L.LEFT_HIP, 1]  # the stuck pose, for now
            est._census_job[0].result()
            est.process(frames[1])
        else:
            assert first.image_px[L.LEFT_SHOULDER, 1] < first.image_px[L.LEFT_HIP, 1]  # the fresh, upright pose
        assert est.tracker_restarts == 1 and est._landmarker is not stuck
        est._landmarker.detect_for_video = lambda image, ts: _landmarker_result(upright=True)  # tracking well again
        for f in frames[2:]:
            est.process(f)
        if background and est._census_job is not None:
            est._census_job[0].result()
        assert est.tracker_restarts == 1  # agreeing censuses (at 1 s) change nothing


def test_the_rdl_from_behind_is_not_left_head_down_after_the_hinge(synth_dir, model_ready, tmp_path):
    """The rendered RDL from behind, re-encoded (H.264, as a phone would): without the census's check MediaPipe
    read the person head-down from the first hinge to the last (7 s) and two of three reps were lost. Each
    restart is reported, with its time, in summary.json and as a warning."""
    import subprocess

    import imageio_ffmpeg

    from glutecam.analyse import AnalyseOptions, analyse_video

    src = synth_dir / "rdl_back_drop8_r3.mp4"
    if not src.is_file():
        pytest.skip(f"{src} not found")
    clip = tmp_path / "rdl_back_h264.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(src), "-an", "-c:v", "libx264",
                    "-crf", "18", "-pix_fmt", "yuv420p", str(clip)], check=True)
    res = analyse_video(clip, tmp_path / "out", AnalyseOptions(exercise="single-leg-rdl", video=False))
    track = res.track
    shoulders_low = track.xy(L.LEFT_SHOULDER)[:, 1] > track.xy(L.LEFT_HIP)[:, 1] + 50  # head-down by 50+ px
    assert shoulders_low.sum() < 0.1 * len(track), shoulders_low.sum()
    s = res.analysis.set
    assert (len(s.reps), s.view, s.side) == (3, "back", "right")
    restarts = res.summary["tracker_restarts_s"]
    assert 1 <= len(restarts) <= 3 and all(0.0 < t < track.time_s[-1] for t in restarts), restarts
    warning = next(w for w in res.summary["warnings"] if "tracking was restarted" in w)
    assert all(f"{t:.1f} s" in warning for t in restarts)


def test_an_rgb_frame_with_padded_rows_is_read_like_a_contiguous_one(samples_dir, model_ready):
    """PyAV decodes some widths (the 1768 px Sports2D demo) into arrays whose rows are padded; MediaPipe reads
    those as garbage and finds nobody. PoseEstimator hands it a contiguous copy."""
    from glutecam.pose import PoseEstimator, model_rgb
    from glutecam.sources import Frame

    frames = [f for _, f in zip(range(5), VideoFileSource(samples_dir / "pose2sim_single_cam01.mp4"))]
    rgbs = [model_rgb(f.image, is_rgb=False) for f in frames]
    padded = []
    for rgb in rgbs:
        wide = np.zeros((rgb.shape[0], rgb.shape[1] + 5, 3), np.uint8)  # 15 bytes of padding a row
        wide[:, :rgb.shape[1]] = rgb
        padded.append(wide[:, :rgb.shape[1]])
    assert not padded[0].flags["C_CONTIGUOUS"] and model_rgb(padded[0], is_rgb=True).flags["C_CONTIGUOUS"]
    tracks = []
    for images in (rgbs, padded):
        with PoseEstimator() as est:
            tracks.append([est.process(Frame(im, f.index, f.time_s, 0.0, rgb=True)) for im, f in zip(images, frames)])
    for a, b in zip(*tracks):
        assert a.detected and b.detected
        np.testing.assert_array_equal(b.image_px, a.image_px)
