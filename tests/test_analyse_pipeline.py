"""Pass 2's pipeline pieces: the slow-motion replay kept on the way, the scaled annotator, the frames pass 1 kept."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from glutecam.analyse import ScaledAnnotator, _ReplayFrames
from glutecam.annotate import Annotator, Overlay
from glutecam.landmarks import Landmark
from glutecam.report.clip import Replay


class ListWriter:
    def __init__(self):
        self.frames = []

    def write(self, image, time_s=None):
        self.frames.append((int(image[0, 0, 0]), time_s))


def replay(start_s, end_s, slow=3, pad_s=0.3):
    return Replay(Path("set.mp4"), 1, start_s, end_s, slow=slow, pad_s=pad_s)  # banner "Slow motion: rep 1"


@pytest.mark.parametrize("start_s, end_s, fits", [
    (1.0, 3.0, True),  # an ordinary rep: kept while pass 2 goes by
    (1.0, 30.0, False),  # longer than max_frames: not held in memory (Replay.append decodes it again)
])
def test_only_reps_of_bounded_length_are_kept(start_s, end_s, fits):
    kept = _ReplayFrames(replay(start_s, end_s), fps=30.0, max_frames=450)
    assert kept.fits is fits
    assert kept.wants(2.0) is fits
    assert not kept.wants(start_s - 0.31) and not kept.wants(end_s + 0.31)


def test_kept_frames_are_shown_slow_times_as_long_in_order_after_the_clip():
    r = replay(0.0, 0.1, slow=3)
    kept = _ReplayFrames(r, fps=10.0)
    for v in (10, 100, 200):  # flat grey frames survive JPEG within a step or two
        kept.add(np.full((16, 16, 3), v, np.uint8))
    track = SimpleNamespace(fps=10.0, time_s=np.array([0.0, 0.1, 0.2, 0.3]))
    w = ListWriter()
    assert kept.append(w, track) == 4
    values = [v for v, _ in w.frames]
    assert [round(v, -1) for v in values] == [10, 100, 200, 200]  # the last again: it lasts to the end
    times = [t for _, t in w.frames]
    assert times == pytest.approx([0.4, 0.7, 1.0, 1.2])
    assert r.clip_start_s == pytest.approx(0.4) and r.clip_end_s == pytest.approx(1.3)


def test_scaled_annotator_draws_landmarks_where_they_are_in_the_smaller_frame():
    ann = ScaledAnnotator(Annotator(), (200, 100), (100, 50))
    xy = np.full((33, 3), np.nan)
    xy[Landmark.LEFT_HIP] = (120, 60, 0)
    xy[Landmark.RIGHT_HIP] = (160, 60, 0)
    out = ann.annotate(np.zeros((100, 200, 3), np.uint8), xy, np.ones(33), Overlay(time_s=0.0))
    assert out.shape == (50, 100, 3)
    assert out[30, 70].any()  # the pelvis line, at half the source's coordinates (60..80, 30)
    assert not out[30, 90].any()


# -- pass 2 draws on the frames pass 1 kept -----------------------------------------------------------------

def _empty_track(times_s, size_wh):
    from glutecam.track import PoseTrack

    t = len(times_s)
    nan = np.full((t, 33, 3), np.nan)
    return PoseTrack(time_s=np.asarray(times_s), frame_index=np.arange(t), image_px=nan, visibility=np.zeros((t, 33)),
                     presence=np.zeros((t, 33)), world_m=nan.copy(), n_people=np.zeros(t, int),
                     frame_size_wh=size_wh, fps=30.0)


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory):
    """40 frames, 400x240, a bright square moving right: each frame is told apart by where it is."""
    from tests.conftest import write_clip

    frames = []
    for k in range(40):
        f = np.full((240, 400, 3), 40, np.uint8)
        f[100:140, 10 + 8 * k: 50 + 8 * k] = (30, 200, 250)
        frames.append(f)
    return write_clip(tmp_path_factory.mktemp("kept") / "moving.mp4", frames, fps=30)


def _pass1_jpegs(clip, folder, size_wh):
    """What pass 1's decoding process keeps, and the track it would give."""
    from glutecam.decode_worker import ProcessDecodedSource
    from glutecam.sources import VideoFileSource
    from glutecam.thumbnails import FrameJpegFile

    kept = FrameJpegFile(folder / "frames.jpgs", size_wh)
    times = [f.time_s for f in ProcessDecodedSource(VideoFileSource(clip), rgb=True, jpegs=kept)]
    return kept, _empty_track(times, (400, 240))


def _clip_images(path):
    from glutecam.sources import VideoFileSource

    return [f.image.copy() for f in VideoFileSource(path)]


def _square_x(image):
    """Left edge of the bright square, px (its red channel, BGR index 2, half-way down)."""
    return int(np.argmax(image[image.shape[0] // 2, :, 2] > 150))


def test_the_clip_drawn_on_the_kept_frames_is_the_clip_drawn_on_a_second_decode(tmp_path, moving_clip, monkeypatch):
    import glutecam.analyse as analyse

    kept, track = _pass1_jpegs(moving_clip, tmp_path, (200, 120))  # a clip capped at 200 px: half size
    assert len(kept.times_s) == 40 and kept.covers(track.time_s)
    with open(kept.path, "rb") as fh:  # kept at the clip's size, not as report stills (360 px wide)
        assert {kept.image(fh, i).shape for i in range(40)} == {(120, 200, 3)}
    overlays = analyse.frame_overlays(track, None)
    redecoded = analyse.write_annotated(moving_clip, track, overlays, tmp_path / "a.mp4", max_side=200)
    started = []
    real = analyse.ProcessDecodedSource
    monkeypatch.setattr(analyse, "ProcessDecodedSource", lambda *a, **k: started.append(1) or real(*a, **k))
    from_kept = analyse.write_annotated(moving_clip, track, overlays, tmp_path / "b.mp4", max_side=200, kept=kept)
    assert started == []  # no second decode
    a, b = _clip_images(redecoded), _clip_images(from_kept)
    assert len(a) == len(b) == 40 and a[0].shape == (120, 200, 3)
    assert [_square_x(x) for x in a] == [_square_x(x) for x in b] == [5 + 4 * k for k in range(40)]
    assert max(np.abs(x.astype(int) - y.astype(int)).mean() for x, y in zip(a, b)) < 3  # JPEG + H.264 twice


@pytest.mark.parametrize("damage", ["cut", "gone", "short"])
def test_kept_frames_that_fail_are_replaced_by_a_decode_from_where_they_fail(tmp_path, moving_clip, damage):
    import glutecam.analyse as analyse

    kept, track = _pass1_jpegs(moving_clip, tmp_path, (200, 120))
    if damage == "cut":  # the disk filled up half-way through the file
        with open(kept.path, "r+b") as fh:
            fh.truncate(kept._spans[25][0] + 10)
    elif damage == "gone":  # someone cleaned the output folder meanwhile
        kept.remove()
    else:  # the child could not write the last frames: the file does not cover the track
        kept.times_s, kept._spans = kept.times_s[:30], kept._spans[:30]
    out = analyse.write_annotated(moving_clip, track, analyse.frame_overlays(track, None), tmp_path / "c.mp4",
                                  max_side=200, kept=kept)
    assert [_square_x(x) for x in _clip_images(out)] == [5 + 4 * k for k in range(40)]  # every frame, in order


def test_the_kept_frames_are_left_out_when_the_disk_has_no_room_for_them(tmp_path, moving_clip, monkeypatch):
    import shutil
    from types import SimpleNamespace

    from glutecam.analyse import clip_frames_file
    from glutecam.sources import VideoFileSource

    need = 1.5 * 40 * 400 * 240 * 0.4 + 500e6
    monkeypatch.setattr(shutil, "disk_usage", lambda p: SimpleNamespace(free=need - 1))
    assert clip_frames_file(VideoFileSource(moving_clip), tmp_path) is None
    monkeypatch.setattr(shutil, "disk_usage", lambda p: SimpleNamespace(free=need + 1))
    kept = clip_frames_file(VideoFileSource(moving_clip), tmp_path, max_side=200)
    assert kept.size_wh == (200, 120) and kept.path.parent == tmp_path and kept.path.name.startswith(".glutecam-")
    size = 40 * 400 * 240 * 0.4  # a long recording: more than max_bytes, whatever the room
    assert clip_frames_file(VideoFileSource(moving_clip), tmp_path, max_bytes=size - 1) is None
    assert clip_frames_file(VideoFileSource(moving_clip), tmp_path, max_bytes=size + 1) is not None
