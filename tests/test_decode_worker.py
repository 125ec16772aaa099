"""Decoding in a child process: the same frames as decoding here, scaled and converted on request, and no
process or shared memory left behind however the iteration ends."""

import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from glutecam.decode_worker import ProcessDecodedSource
from glutecam.sources import SourceError, VideoFileSource
from tests.badinput import encode, scene_frames, truncated
from tests.conftest import write_clip
from tests.test_sources import coloured_frames


def shm_segments() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("glutecam-frames-*")}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = [cv2.resize(f, (96, 64), interpolation=cv2.INTER_NEAREST) for f in coloured_frames(12)]
    return write_clip(tmp_path_factory.mktemp("dw") / "c.mp4", frames, fps=20)


@pytest.mark.parametrize("stride", [1, 3])
def test_the_child_yields_the_frames_indices_and_times_of_a_decode_here(clip, stride):
    here = [(f.index, f.time_s, f.image.copy()) for f in VideoFileSource(clip, stride=stride)]
    there = [(f.index, f.time_s, f.image.copy(), f.rgb) for f in ProcessDecodedSource(VideoFileSource(clip, stride))]
    assert [(i, t) for i, t, _ in here] == [(i, t) for i, t, _, _ in there]
    assert len(there) == (12 if stride == 1 else 4)
    for (_, _, a), (_, _, b, rgb) in zip(here, there):
        assert not rgb
        np.testing.assert_array_equal(a, b)


def test_rgb_and_scaling_are_done_by_the_child(clip):
    here = [f.image.copy() for f in VideoFileSource(clip)]
    there = [(f.image.copy(), f.rgb) for f in ProcessDecodedSource(VideoFileSource(clip), size_wh=(48, 32), rgb=True)]
    assert len(there) == len(here)
    for a, (b, rgb) in zip(here, there):
        assert rgb and b.shape == (32, 48, 3)
        # the same picture, half size, channels reversed: compare block means (scaling kernels differ)
        expect = cv2.resize(a, (48, 32), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        assert np.abs(b.astype(int) - expect.astype(int)).mean() < 6


def test_a_frame_kept_after_the_source_is_closed_is_still_readable(clip):
    frames = [f.image for f in ProcessDecodedSource(VideoFileSource(clip))]  # views of the ring, kept
    assert frames[-1].shape == (64, 96, 3) and int(frames[-1].max()) > 0  # the mapping outlives the source


def test_the_pose_model_gets_rgb_frames_without_a_second_conversion(clip):
    from glutecam.pose import model_rgb

    bgr = next(iter(VideoFileSource(clip))).image
    rgb = next(iter(ProcessDecodedSource(VideoFileSource(clip), rgb=True))).image
    np.testing.assert_array_equal(rgb, model_rgb(bgr, is_rgb=False))


def test_stopping_early_leaves_no_process_or_shared_memory(clip):
    before = shm_segments()
    src = ProcessDecodedSource(VideoFileSource(clip), slots=2)
    for n, _ in enumerate(src):
        if n == 3:
            break
    src.close()
    assert src._proc is None and shm_segments() == before


def test_a_stream_cut_short_is_reported_as_the_source_would(tmp_path):
    whole = encode(tmp_path / "whole.mp4", scene_frames(40, 160, 120), fps=20, faststart=True)  # index first
    cut = truncated(whole, tmp_path / "cut.mp4", 0.7)
    here = VideoFileSource(cut)
    n_here = len(list(here))
    source = VideoFileSource(cut)
    there = ProcessDecodedSource(source)
    assert len(list(there)) == n_here
    assert there.error == here.error == source.error and "cut short" in there.error


def test_a_child_that_dies_mid_stream_ends_it_like_damage_and_keeps_the_frames(clip):
    src = ProcessDecodedSource(VideoFileSource(clip), slots=2)
    frames = iter(src)
    first = next(frames)
    src._proc.kill()
    rest = list(frames)  # no hang, no exception: what was handed over stays
    assert first.index == 0 and len(rest) <= 2  # at most the slots already filled
    assert src.error.startswith("the decoding process ended unexpectedly") and src._proc is None
    from glutecam.analyse import stopped_early_reason

    said = stopped_early_reason(src.error)  # the user is not told the video is damaged: it may be fine
    assert said.startswith("reading the video stopped early: the decoding process") and "damaged" not in said
    assert stopped_early_reason("only the first 3 of 9 frames could be read").startswith("the video is damaged")


def test_a_child_that_dies_before_any_frame_is_a_source_error(clip):
    src = ProcessDecodedSource(VideoFileSource(clip)).start()
    src._proc.kill()  # before its interpreter is even up
    with pytest.raises(SourceError, match="decoding process ended unexpectedly"):
        list(src)


def test_a_sigterm_to_the_whole_process_group_is_the_parents_to_handle(clip):
    import signal

    src = ProcessDecodedSource(VideoFileSource(clip), slots=2)
    frames = iter(src)
    next(frames)
    src._proc.send_signal(signal.SIGTERM)  # what `kill -TERM -<group>` does to the child
    assert len(list(frames)) == 11 and src.error is None


def test_the_child_is_a_plain_module_run_not_a_copy_of_the_callers_script(tmp_path, clip):
    # multiprocessing's spawn would re-run an unguarded main script in the child; `python -m` does not
    script = tmp_path / "unguarded.py"
    script.write_text("from glutecam.decode_worker import ProcessDecodedSource\n"
                      "from glutecam.sources import VideoFileSource\n"
                      f"print(sum(1 for _ in ProcessDecodedSource(VideoFileSource({str(clip)!r}))))\n")
    import sys

    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "12" and "leaked" not in out.stderr


def test_thumbnails_of_every_frame_are_the_stills_a_decode_of_the_clip_gives(tmp_path):
    from glutecam.report.report import grab_stills
    from glutecam.thumbnails import FrameJpegFile

    frames = scene_frames(30, 1600, 900)  # wide enough to be halved before the final resize
    video = encode(tmp_path / "wide.mp4", frames, fps=30)
    thumbs = FrameJpegFile(tmp_path / "thumbs.jpgs")
    n = sum(1 for _ in ProcessDecodedSource(VideoFileSource(video), rgb=True, jpegs=thumbs))
    assert n == 30 and len(thumbs.times_s) == 30
    moments = [0.0, 0.35, 0.52, 2.0]  # 0.35 s lies halfway between frames 10 and 11: the earlier one; 2 s: the last
    got = thumbs.nearest(moments)
    want = grab_stills(video, moments)  # decoded here, in BGR: the same frames, the same pixels
    assert got == want and all(j is not None for j in got)
    thumbs.remove()
    assert not thumbs.path.exists()


def test_the_ring_goes_to_the_temporary_folder_when_dev_shm_has_no_room(monkeypatch, tmp_path):
    import os
    import tempfile

    from glutecam import frame_ring

    real = os.posix_fallocate

    def full_shm(fd, offset, length):  # /dev/shm of a container: 64 MB, here full
        if os.readlink(f"/proc/self/fd/{fd}").startswith("/dev/shm/"):
            raise OSError(28, "No space left on device")
        return real(fd, offset, length)

    monkeypatch.setattr(os, "posix_fallocate", full_shm)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = shm_segments()
    path = frame_ring.create_ring_file(4, 96, 64)
    assert Path(path).parent == tmp_path and Path(path).stat().st_size == 4 * 96 * 64 * 3
    assert shm_segments() == before  # the failed attempt left nothing in /dev/shm
    frame_ring.remove(path)


def test_thumbnails_whose_file_is_gone_give_no_stills_rather_than_an_error(tmp_path):
    from glutecam.thumbnails import FrameJpegFile

    thumbs = FrameJpegFile(tmp_path / "gone.jpgs")
    thumbs.add(0.0, 0, 100)
    thumbs.add(0.1, 100, 100)
    assert thumbs.nearest([0.0, 0.2]) == [None, None]  # the temporary folder was cleaned meanwhile
    (tmp_path / "gone.jpgs").write_bytes(b"x" * 150)  # a child killed half-way through the second one
    assert thumbs.nearest([0.0, 0.1]) == [b"x" * 100, None]


@pytest.mark.model
def test_the_census_taken_by_the_child_gives_the_track_a_census_taken_here_gives(samples_dir, model_ready):
    """analyse has the decoding process take the once-a-second census of people in view (on its spare core);
    the parent only checks its tracker against it. Same frames, same pixels, same model: the same track and
    the same count of people, to the bit. Here a census every 0.25 s of a clip with bystanders."""
    from glutecam.analyse import run_pose
    from glutecam.pose import PoseEstimator

    tracks = {}
    for by_child in (False, True):
        src = VideoFileSource(samples_dir / "pose2sim_multi_cam01.mp4")
        est = PoseEstimator(census_every_s=0.25, census_from_frames=by_child)
        assert est.census_spec() is not None  # one person tracked: a census is due once every 0.25 s
        census = est.census_spec() if by_child else None
        with ProcessDecodedSource(src, rgb=True, census=census).start() as frames, est:
            tracks[by_child], _, _ = run_pose(src, est, frames=frames)
        assert frames.census_error is None
    here, child = tracks[False], tracks[True]
    assert child.n_people.max() >= 2  # the census saw the bystanders
    for name in ("image_px", "world_m", "visibility", "presence", "n_people"):
        np.testing.assert_array_equal(getattr(child, name), getattr(here, name), err_msg=name)


def test_a_census_that_cannot_be_taken_is_reported_and_the_frames_still_come(clip, tmp_path):
    from glutecam.pose import CensusSpec

    broken = tmp_path / "not_a_model.task"
    broken.write_bytes(b"not a model")
    here = [f.index for f in VideoFileSource(clip)]
    frames = ProcessDecodedSource(VideoFileSource(clip), rgb=True, census=CensusSpec(str(broken), every_s=0.2))
    got = [(f.index, f.census) for f in frames]
    assert [i for i, _ in got] == here and all(c is None for _, c in got)
    assert "zip archive" in frames.census_error  # MediaPipe's own words for a file that is no model bundle


@pytest.mark.model
def test_analyse_warns_when_the_decoding_process_could_not_take_the_census(samples_dir, model_ready, tmp_path,
                                                                            monkeypatch):
    """The census model fails to load in the decoding process only (here: a spec naming a file that is no
    model): the pose pass goes on, and the summary says bystanders were not counted."""
    from glutecam.analyse import AnalyseOptions, analyse_video
    from glutecam.pose import CensusSpec, PoseEstimator

    broken = tmp_path / "not_a_model.task"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(PoseEstimator, "census_spec", lambda self: CensusSpec(str(broken)))
    res = analyse_video(samples_dir / "pose2sim_single_cam01.mp4", tmp_path / "out", AnalyseOptions(video=False))
    assert res.track.detected.all() and len(res.track) == 100
    warning = next(w for w in res.summary["warnings"] if "not counted" in w)
    assert "the census failed" in warning and "zip archive" in warning


def test_the_child_keeps_to_the_cores_it_is_given(clip):
    core = sorted(os.sched_getaffinity(0))[-1]
    frames = ProcessDecodedSource(VideoFileSource(clip), cores=(core,))
    for _ in frames:
        assert os.sched_getaffinity(frames._proc.pid) == {core}
        break
    frames.close()
