"""The clip drawn during the pose pass: GOP splicing, and the clip process against what it must draw."""

import sys
from pathlib import Path

import numpy as np
import pytest

from glutecam.annotate import Overlay
from glutecam.gop_splice import SpliceError, splice_gops
from glutecam.video_out import H264Writer
from tests.conftest import x264_options

G = 10  # frames a GOP in these tests
SIZE = (160, 96)


def _frame(k: int, level: int) -> np.ndarray:
    """Frame `k`: a flat grey `level` with a bright bar whose position says k."""
    f = np.full((SIZE[1], SIZE[0], 3), level, np.uint8)
    f[40:56, 4 * k: 4 * k + 6] = 250
    return f


def _write(path: Path, frames: range, level: int, keyint: int | None = G, size=SIZE) -> Path:
    w = H264Writer(path, 30.0, size, preset="superfast", keyint=keyint)
    for k in frames:
        w.write(_frame(k, level)[: size[1], : size[0]], k / 30)
    return w.close()


def _decoded(path: Path) -> list[tuple[float, int, int]]:
    """(time s, grey level, bar position) of each frame, in display order."""
    import av

    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            img = f.to_ndarray(format="bgr24")
            out.append((float(f.time), int(np.median(img[80:, :, 1])), int(np.argmax(img[48, :, 1] > 180)) // 4))
    return out


def test_spliced_gops_show_the_new_frames_at_the_old_times_and_the_rest_is_untouched(tmp_path):
    main = _write(tmp_path / "main.mp4", range(35), level=60)
    runs = {1: _write(tmp_path / "r1.mp4", range(10, 20), level=160),  # GOP 1
            3: _write(tmp_path / "r3.mp4", range(30, 35), level=160)}  # the last GOP, 5 frames
    out = splice_gops(main, tmp_path / "out.mp4", G, runs)
    before, after = _decoded(main), _decoded(out)
    assert len(after) == len(before) == 35
    assert [t for t, _, _ in after] == [t for t, _, _ in before]  # same timing, strictly increasing
    assert [k for _, _, k in after] == list(range(35))  # every frame in its place
    replaced = [k for k, (_, level, _) in enumerate(after) if abs(level - 160) < 10]
    kept = [k for k, (_, level, _) in enumerate(after) if abs(level - 60) < 10]
    assert replaced == list(range(10, 20)) + list(range(30, 35))
    assert kept == list(range(10)) + list(range(20, 30))


def test_keeping_the_first_gops_cuts_the_clip_at_a_keyframe(tmp_path):
    main = _write(tmp_path / "main.mp4", range(35), level=60)
    out = splice_gops(main, tmp_path / "cut.mp4", G, keep_gops=2)
    assert [k for _, _, k in _decoded(out)] == list(range(20))


@pytest.mark.parametrize("case", ["other size", "no fixed keyframes", "too long"])
def test_what_cannot_be_spliced_is_refused(tmp_path, case):
    main = _write(tmp_path / "main.mp4", range(35), level=60, keyint=None if case == "no fixed keyframes" else G)
    if case == "other size":
        run = _write(tmp_path / "r.mp4", range(10, 20), level=160, size=(128, 96))
    else:
        run = _write(tmp_path / "r.mp4", range(10, 30 if case == "too long" else 20), level=160,
                     keyint=G if case == "other size" else 2 * G if case == "too long" else G)
    with pytest.raises(SpliceError):
        splice_gops(main, tmp_path / "out.mp4", G, {1: run})
    assert not (tmp_path / "out.mp4").exists()


# -- the clip process -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kept_frames(tmp_path_factory):
    """What pass 1 leaves for the clip process: 40 frames of a square moving right, kept as JPEGs, and their
    (empty) poses."""
    from glutecam.decode_worker import ProcessDecodedSource
    from glutecam.sources import VideoFileSource
    from glutecam.thumbnails import FrameJpegFile
    from glutecam.track import FramePose
    from tests.conftest import write_clip

    folder = tmp_path_factory.mktemp("clipproc")
    frames = []
    for k in range(40):
        f = np.full((120, 200, 3), 40, np.uint8)
        f[40:80, 5 + 4 * k: 25 + 4 * k] = (30, 200, 250)
        frames.append(f)
    clip = write_clip(folder / "moving.mp4", frames, fps=30)
    kept = FrameJpegFile(folder / "frames.jpgs", (200, 120))
    times = [f.time_s for f in ProcessDecodedSource(VideoFileSource(clip), rgb=True, jpegs=kept)]
    return kept, [FramePose.missing(i, t) for i, t in enumerate(times)]


def _worker(tmp_path, kept, gop_s=0.5):
    from glutecam.clip_worker import ClipWorker

    return ClipWorker(tmp_path / "annotated.mp4", kept, {"frame_size_wh": (200, 120), "fps": 30.0}, None,
                      gop_s=gop_s).start()


def _labelled(overlays, frames, label="pelvic drop"):
    from dataclasses import replace

    return [replace(o, faults=[label]) if i in frames else o for i, o in enumerate(overlays)]


def _has_label(image) -> bool:
    """Red fault text at the bottom left of the frame (small at this size: red above green, on grey)."""
    band = image[-12:, :40].astype(int)
    return bool((band[..., 2] - band[..., 1] > 15).sum() > 10)


def test_frames_drawn_early_whose_overlay_changed_are_drawn_again_and_the_clip_is_the_final_one(tmp_path, kept_frames):
    from glutecam.analyse import frame_overlays
    from glutecam.sources import VideoFileSource
    from glutecam.track import TrackBuilder

    kept, poses = kept_frames
    worker = _worker(tmp_path, kept)  # 15-frame GOPs
    for p in poses:
        worker.add(p)
    assert worker.wait_idle() == 40  # no exercise: nothing to wait for, every frame drawn during "pass 1"
    b = TrackBuilder()
    for p in poses:
        b.append(p)
    final = _labelled(frame_overlays(b.build(frame_size_wh=(200, 120), fps=30.0), None), range(18, 22))
    made = worker.finish(final, stills_s=[0.0, 0.65])
    worker.close()
    assert made.frames_early == 40 and made.frames_redrawn == 15  # GOP 1 (frames 15-29) only
    images = [f.image for f in VideoFileSource(made.path)]
    assert len(images) == 40
    assert [int(np.argmax(im[60, :, 2] > 150)) for im in images] == [5 + 4 * k for k in range(40)]
    assert [k for k, im in enumerate(images) if _has_label(im)] == list(range(18, 22))
    assert len(made.stills) == 2 and all(s[:2] == b"\xff\xd8" for s in made.stills)  # JPEGs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annotated.mp4"]  # no working files left


def test_a_clip_process_abandoned_mid_pass_leaves_nothing(tmp_path, kept_frames):
    kept, poses = kept_frames
    worker = _worker(tmp_path, kept)
    for p in poses[:20]:
        worker.add(p)
    assert worker.wait_idle() == 20
    worker.close()  # the pass was interrupted: a clip of part of a set is no clip of the set
    assert list(tmp_path.iterdir()) == []


def test_a_clip_process_that_cannot_read_its_frames_fails_for_the_caller_to_draw_the_clip(tmp_path, kept_frames):
    from glutecam.clip_worker import ClipWorkerFailed
    from glutecam.thumbnails import FrameJpegFile

    _, poses = kept_frames
    worker = _worker(tmp_path, FrameJpegFile(tmp_path / "gone.jpgs", (200, 120)))
    for p in poses:
        worker.add(p)
    with pytest.raises(ClipWorkerFailed, match="gone.jpgs"):
        worker.finish([Overlay(time_s=p.time_s) for p in poses])
    worker.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ring of raw frames is Linux-only")
def test_frames_handed_over_raw_make_the_clip_their_jpegs_make(tmp_path, kept_frames):
    """With a ring of 8 raw frames and a decoding process that runs ahead: the first 8 frames are drawn on
    their raw copies, the others on their JPEGs, and the clip is the one drawn on JPEGs alone."""
    from glutecam.analyse import frame_overlays
    from glutecam.clip_worker import ClipWorker
    from glutecam.decode_worker import ProcessDecodedSource
    from glutecam.raw_frames import RawFrameRing, frame_bytes
    from glutecam.sources import VideoFileSource
    from glutecam.thumbnails import FrameJpegFile
    from glutecam.track import TrackBuilder

    jpegs_only, poses = kept_frames
    source = jpegs_only.path.with_name("moving.mp4")
    kept = FrameJpegFile(tmp_path / "frames.jpgs", (200, 120))
    ring = RawFrameRing.create((200, 120), budget=8 * frame_bytes((200, 120)))
    worker = ClipWorker(tmp_path / "annotated.mp4", kept, {"frame_size_wh": (200, 120), "fps": 30.0}, None,
                        raw=ring).start()
    times = [f.time_s for f in ProcessDecodedSource(VideoFileSource(source), rgb=True, jpegs=kept, raw=ring)]
    assert times == jpegs_only.times_s
    assert [slot is not None for *_, slot in kept.entries()] == [True] * 8 + [False] * 32
    for p in poses:
        worker.add(p)
    b = TrackBuilder()
    for p in poses:
        b.append(p)
    made = worker.finish(frame_overlays(b.build(frame_size_wh=(200, 120), fps=30.0), None))
    worker.close()
    assert made.frames_raw == 8
    (tmp_path / "jpegs").mkdir()
    other = _worker(tmp_path / "jpegs", jpegs_only)
    for p in poses:
        other.add(p)
    alone = other.finish(frame_overlays(b.build(frame_size_wh=(200, 120), fps=30.0), None))
    other.close()
    assert alone.frames_raw == 0
    a, c = _frames_of(made.path), _frames_of(alone.path)
    assert len(a) == len(c) == 40
    assert max(np.abs(x - y).mean() for x, y in zip(a, c)) < 1.5  # a raw copy and a JPEG of the same frame
    assert [int(np.argmax(im[60, :, 2] > 150)) for im in a] == [5 + 4 * k for k in range(40)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ring of raw frames is Linux-only")
def test_a_clip_process_that_cannot_start_leaves_no_ring_open(tmp_path, kept_frames, monkeypatch):
    import glutecam.analyse as analyse
    from glutecam.clip_worker import ClipWorker
    from glutecam.raw_frames import RawFrameRing
    from glutecam.sources import VideoFileSource
    from glutecam.thumbnails import FrameJpegFile

    rings = []
    make = RawFrameRing.create.__func__
    monkeypatch.setattr(RawFrameRing, "create", classmethod(lambda cls, *a, **k: rings.append(make(cls, *a, **k))
                                                            or rings[-1]))

    def no_process(self):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(ClipWorker, "start", no_process)
    source = VideoFileSource(kept_frames[0].path.with_name("moving.mp4"))
    with pytest.raises(OSError, match="unavailable"):
        analyse._clip_worker(tmp_path / "annotated.mp4", source, FrameJpegFile(tmp_path / "f.jpgs", (200, 120)),
                             analyse.AnalyseOptions(), None)
    source.close()
    assert len(rings) == 1 and rings[0].fd is None and rings[0].free_r is None and rings[0].free_w is None


# -- in the offline job -------------------------------------------------------------------------------------------

def _frames_of(path):
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="bgr24").astype(np.int16) for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def split_squat_run(tmp_path_factory, synth_dir, model_ready):
    """A rendered split squat (10 s, 3 reps, one with a pelvic drop) analysed the usual way: its clip drawn
    by the clip process during the pose pass."""
    from glutecam.analyse import AnalyseOptions, analyse_video

    clip = synth_dir / "bss_front_drop8_r23.mp4"
    out = tmp_path_factory.mktemp("early") / "run"
    return clip, analyse_video(clip, out, AnalyseOptions(exercise="split-squat"))


@pytest.mark.model
def test_the_clip_drawn_during_the_pose_pass_is_the_clip_drawn_after_it(tmp_path, split_squat_run, monkeypatch):
    import glutecam.analyse as analyse

    clip, early = split_squat_run
    # a good part of the 300 frames drawn during the pass: on two cores the clip process shares one with the
    # decoding process then (glutecam.cores), and drew 168-230 in CI runs
    assert early.timings_s["clip_frames_early"] > 100
    if sys.platform.startswith("linux"):  # the ring's slots are all free at first: those frames at least came raw
        from glutecam.raw_frames import ring_slots

        assert early.timings_s["clip_frames_raw"] >= min(len(early.track), ring_slots((640, 480)))
    monkeypatch.setattr(analyse, "_clip_worker", lambda *a, **k: None)  # the clip drawn after the analysis
    late = analyse.analyse_video(clip, tmp_path / "late", analyse.AnalyseOptions(exercise="split-squat"))
    assert "clip_frames_early" not in late.timings_s
    a, b = _frames_of(early.outputs["annotated"]), _frames_of(late.outputs["annotated"])
    assert len(a) == len(b) > 300  # the set, then the slow-motion replay
    assert early.summary["replay"] == late.summary["replay"]
    assert max(np.abs(x - y).mean() for x, y in zip(a, b)) < 3  # the same drawing, encoded twice
    # encoded alike, whichever process drew it: the clip's settings as libx264 writes them back (its
    # "crf=%.1f"; fixed B-frames are superfast's 3)
    wanted = {f"{k.replace('-', '_')}={v}" for k, v in analyse.CLIP_X264.items()} | {
        f"crf={analyse.CLIP_CRF:.1f}", "bframes=3"}
    for run in (early, late):
        options = x264_options(run.outputs["annotated"])
        assert wanted <= set(options), options
    assert sorted(p.name for p in early.out_dir.iterdir()) == sorted(p.name for p in late.out_dir.iterdir())
    assert not [p for p in early.out_dir.iterdir() if p.name.startswith(".")]


@pytest.mark.model
def test_when_the_clip_process_fails_the_clip_is_drawn_after_the_analysis(tmp_path, synth_dir, model_ready,
                                                                        monkeypatch):
    import glutecam.analyse as analyse
    from glutecam.clip_worker import ClipWorker
    from glutecam.thumbnails import FrameJpegFile

    def broken(out, source, jpegs, opts, cores):  # its frames file is not the one the decoding process fills
        info = source.info
        return ClipWorker(out, FrameJpegFile(out.parent / ".glutecam-missing-annotated", jpegs.size_wh),
                          {"frame_size_wh": (info.width, info.height), "fps": info.fps}, opts.exercise).start()

    monkeypatch.setattr(analyse, "_clip_worker", broken)
    res = analyse.analyse_video(synth_dir / "slha_front_clean.mp4", tmp_path / "run",
                                analyse.AnalyseOptions(exercise="side-lying-abduction"))
    assert "clip_frames_early" not in res.timings_s and res.summary["complete"]
    assert len(_frames_of(res.outputs["annotated"])) >= len(res.track)
    assert not [p for p in res.out_dir.iterdir() if p.name.startswith(".") or ".part" in p.name]


@pytest.mark.model
def test_a_recording_too_long_to_keep_is_drawn_after_the_analysis_by_a_child_process(tmp_path, split_squat_run,
                                                                                      monkeypatch):
    """No kept frames (a recording whose JPEGs would pass 4 GB): a child decodes the source and draws the clip
    the main process would (its encoder and frames then weigh on the child); if that child fails, the main
    process draws it."""
    import glutecam.analyse as analyse
    from glutecam.clip_worker import ClipWorker

    clip, early = split_squat_run
    monkeypatch.setattr(analyse, "clip_frames_file", lambda *a, **k: None)
    here = []
    real = analyse.write_annotated
    monkeypatch.setattr(analyse, "write_annotated", lambda *a, **k: here.append(1) or real(*a, **k))
    late = analyse.analyse_video(clip, tmp_path / "late", analyse.AnalyseOptions(exercise="split-squat"))
    assert here == [] and late.timings_s["clip_frames_early"] == 0  # drawn by the child, none during the pass

    make = ClipWorker.late.__func__  # a child that cannot read the track fails: drawn here instead
    monkeypatch.setattr(ClipWorker, "late", classmethod(
        lambda cls, out, source, track, stride=1: make(cls, out, source, track.with_name("gone.npz"), stride)))
    fallback = analyse.analyse_video(clip, tmp_path / "here", analyse.AnalyseOptions(exercise="split-squat"))
    assert here == [1] and "clip_frames_early" not in fallback.timings_s

    a, b, c = (_frames_of(r.outputs["annotated"]) for r in (early, late, fallback))
    assert len(a) == len(b) == len(c) > 300  # the set, then the slow-motion replay
    assert early.summary["replay"] == late.summary["replay"] == fallback.summary["replay"]
    assert max(np.abs(x - y).mean() for x, y in zip(a, b)) < 3  # the same drawing, encoded twice
    assert max(np.abs(x - y).mean() for x, y in zip(b, c)) < 0.5
    assert (late.out_dir / "report.html").read_text().count("data:image/jpeg") >= len(late.analysis.set.reps)
    for r in (late, fallback):
        assert not [p for p in r.out_dir.iterdir() if p.name.startswith(".") or ".part" in p.name]


def test_the_clip_process_draws_a_frame_only_once_two_analyses_agree_on_its_overlay(monkeypatch):
    """A rep whose labels an analysis of more of the set changes is not drawn early (it would be drawn again)."""
    import glutecam.analyse as analyse
    from glutecam.clip_worker import _Drawer
    from glutecam.track import FramePose, TrackBuilder

    scripted = []  # the overlays each analysis gives, in turn
    monkeypatch.setattr(analyse, "frame_overlays", lambda track, analysis: scripted.pop(0))

    class Analyser:
        def analyse(self, track, side=None):
            return None

    drawer = _Drawer.__new__(_Drawer)  # the child's state without its files and encoder
    drawer.args, drawer.meta = {"lag_s": 0.5}, {"frame_size_wh": (200, 120), "fps": 30.0}
    drawer.analyser, drawer.poses, drawer.kept = Analyser(), TrackBuilder(), range(10_000)
    drawer.overlays, drawer.keys, drawer.settled, drawer._analysed_at = [], [], 0, 0

    def analyse_up_to(n, faulty=()):
        while len(drawer.poses) < n:
            drawer.poses.append(FramePose.missing(len(drawer.poses), len(drawer.poses) / 30))
        scripted.append(_labelled([Overlay(time_s=i / 30) for i in range(n)], set(faulty)))
        drawer._analyse()
        return drawer.settled

    assert analyse_up_to(30) == 0  # nothing to agree with yet
    assert analyse_up_to(60, faulty=range(10, 15)) == 10  # frames 10-14 changed: the lag alone would give 45
    drawer.keys = [None] * 10  # frames 0-9 drawn
    assert analyse_up_to(90, faulty=range(10, 15)) == 60  # agreed now, up to what the analysis before saw
    assert analyse_up_to(100, faulty=range(10, 15)) == 85  # and up to the lag: 0.5 s (15 frames) before the newest
    drawer.keys = [None] * 85
    for k, n in enumerate(range(130, 260, 30)):  # frame 90's overlay changes with every analysis
        settled = analyse_up_to(n, faulty=[90] if k % 2 == 0 else [])
    assert settled == 130  # held back, but only until HOLD_MAX_S (4 s) old: 249/30 - 4 = 4.3 s, frame 129
