"""The live loop end to end, headless: an in-memory display, scripted keys, real analysers.

Most tests feed every frame of a rendered clip with the pose already computed (deterministic and quick);
`test_realtime_replay_*` runs the real pose model on the replay source at real-time pace, dropping frames.
"""

import csv
import json
import time

import numpy as np
import pytest

from glutecam.analysers import get_analyser
from glutecam.live.display import MemoryDisplay
from glutecam.live.session import LiveOptions, LiveSession, NewestFrames, freshest
from glutecam.live.sound import NoSound
from glutecam.sources import Frame
from glutecam.track import FramePose, PoseTrack

CLIP = "bss_front_drop8_r23"  # split squat, front view, right leg in front, 8 deg drop in reps 2 and 3


@pytest.fixture(scope="module")
def track(track_of, synth_dir):
    return track_of(synth_dir / f"{CLIP}.mp4")


class TrackPose:
    """The pose model replaced by a track computed beforehand (looked up by frame index)."""

    def __init__(self, track: PoseTrack) -> None:
        self.track = track

    def process(self, frame: Frame) -> FramePose:
        i = int(frame.index)
        t = self.track
        return FramePose(int(t.frame_index[i]), float(t.time_s[i]), t.image_px[i], t.visibility[i], t.presence[i],
                         t.world_m[i], int(t.n_people[i]))


class Frames:
    """Every frame of the track's length as a grey picture, like a source; can stop early with an error."""

    def __init__(self, n: int, fps: float = 30.0, fail_after: int | None = None) -> None:
        self.n, self.fps, self.fail_after = n, fps, fail_after
        self.error = None

    def __iter__(self):
        for i in range(self.n):
            if self.fail_after is not None and i >= self.fail_after:
                self.error = "the camera stopped delivering frames (unplugged?)"
                return
            yield Frame(np.full((480, 640, 3), 90, np.uint8), i, i / self.fps, time.monotonic())


def run(tmp_path, track, keys=None, exercise="split-squat", frames=None, display=None, **opts):
    display = display or MemoryDisplay(keys=keys, keep=1)
    options = LiveOptions(exercise, setup_hold_s=opts.pop("setup_hold_s", 0.3), **opts)
    session = LiveSession(frames or Frames(len(track)), TrackPose(track), get_analyser(exercise), display,
                          tmp_path, options, (640, 480), 30.0)
    return session.run(), display


def rows(out):
    return list(csv.DictReader(open(out / "frames.csv")))


def events(out):
    return [json.loads(line) for line in open(out / "events.jsonl")]


def test_a_set_is_coached_from_setup_to_summary(tmp_path, track, synth_dir):
    result, display = run(tmp_path, track)
    truth = json.loads((synth_dir / f"{CLIP}.json").read_text())["meta"]["reps"]
    assert result.stop_reason == "end of the video" and result.summary["complete"]
    assert result.summary["tracker_restarts_s"] == []
    assert [r.index for r in result.reps] == [1, 2, 3]
    assert [r.verdict for r in result.reps] == ["good", "fault", "fault"]
    assert all(r.side == "right" for r in result.reps)
    # each rep found where the rendered truth has it: its deepest point inside the true rep
    for rep, true in zip(result.reps, truth):
        assert true["start_frame"] / 30 < rep.peak_s < true["end_frame"] / 30
    # stages: set-up, a short calibration, then counting well before the first rep
    stages = [r["stage"] for r in rows(tmp_path)]
    assert stages[0] == "setup" and stages[-1] == "counting"
    assert result.summary["counting_from_s"] < result.reps[0].start_s
    # one cue at a time: praise after the clean rep, the free (left, rear-leg) hip during the faulty ones
    said = [(t, text) for t, text in result.cues]
    assert said[0][1] == "Good rep: hips level" and abs(said[0][0] - result.reps[0].end_s) < 0.1
    drops = [t for t, text in said if text == "Keep your left hip up"]
    assert len(drops) == 2
    for t, rep in zip(drops, result.reps[1:]):
        assert rep.start_s < t < rep.end_s
    # every frame was shown and written; the files agree with the result
    assert display.shown == len(track) == len(rows(tmp_path))
    assert len(open(tmp_path / "reps.jsonl").read().splitlines()) == 3
    assert json.loads((tmp_path / "reps.json").read_text())["summary"]["verdict"] == "fault"
    assert len(PoseTrack.load(tmp_path / "track.npz")) == len(track)
    assert [e["event"] for e in events(tmp_path)][:3] == ["analysis_started", "setup_done", "counting"]
    assert events(tmp_path)[1]["view_limit"] == ""  # the split squat from the front shows everything


def same_reps(live_reps, offline_reps, threshold=5.0, min_overlap=0.8):
    """The same reps: as many, each pair covering the same stretch of time (intersection over union at
    least `min_overlap`: live filters are causal and offline ones zero-lag, so where a rep's signal crosses
    its threshold can move by a few frames), peak pelvic drop within 1.5 deg, and the same verdict wherever
    that drop is not within 1.5 deg of the threshold (where one noisy frame can tip it)."""
    assert len(live_reps) == len(offline_reps)
    for a, b in zip(live_reps, offline_reps):
        inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
        union = max(a.end_s, b.end_s) - min(a.start_s, b.start_s)
        assert inter / union >= min_overlap, (a, b)
        assert abs(a.peak_pelvic_drop_deg - b.peak_pelvic_drop_deg) <= 1.5
        if abs(b.peak_pelvic_drop_deg - threshold) > 1.5:
            assert a.verdict == b.verdict


def test_the_same_reps_live_as_offline_on_the_same_track(tmp_path, track):
    result, _ = run(tmp_path, track)
    saved = PoseTrack.load(tmp_path / "track.npz")
    offline = get_analyser("split-squat").analyse(saved).set.reps
    same_reps(result.reps, offline)


def test_set_up_that_never_suits_the_exercise_counts_nothing_and_says_why(tmp_path, track):
    # a single-leg RDL filmed from the front: the set-up asks the person to turn round, and never counts
    result, _ = run(tmp_path, track, exercise="single-leg-rdl")
    assert result.reps == [] and result.cues == []
    assert {r["stage"] for r in rows(tmp_path)} == {"setup"}
    assert any("Turn around so your back is to the camera" in w for w in result.summary["warnings"])
    assert set(r["cue"] for r in rows(tmp_path)) == {""}


def test_the_rdl_set_up_says_the_hips_are_checked_in_the_upper_hinge_only(tmp_path, track_of, synth_dir):
    # from behind (the view the set-up asks for) the pose model loses the pelvis deep in the hinge
    class Sound(NoSound):
        def __init__(self):
            self.said = []

        def say(self, text):
            self.said.append(text)

    rdl = track_of(synth_dir / "rdl_back_drop8_r3.mp4")
    sound = Sound()
    session = LiveSession(Frames(len(rdl)), TrackPose(rdl), get_analyser("single-leg-rdl"), MemoryDisplay(keep=0),
                          tmp_path, LiveOptions("single-leg-rdl", setup_hold_s=0.3), (640, 480), 30.0, sound=sound)
    result = session.run()
    done = [e for e in events(tmp_path) if e["event"] == "setup_done"]
    assert len(done) == 1 and "upper half of each hinge" in done[0]["view_limit"]
    assert sound.said.count(done[0]["view_limit"]) == 1
    assert len(result.reps) == 3


def test_the_summary_says_when_the_pose_tracker_was_restarted(tmp_path, track):
    class RestartingPose(TrackPose):  # as PoseEstimator when a census contradicts its tracker at 2 s
        tracker_restarts_s: list[float] = []

        def process(self, frame):
            if frame.index == 60:
                self.tracker_restarts_s = [frame.time_s]
            return super().process(frame)

    session = LiveSession(Frames(len(track)), RestartingPose(track), get_analyser("split-squat"), MemoryDisplay(keep=1),
                          tmp_path, LiveOptions("split-squat", setup_hold_s=0.3), (640, 480), 30.0)
    summary = session.run().summary
    assert summary["tracker_restarts_s"] == [2.0]
    assert any("tracking was restarted at 2.0 s" in w for w in summary["warnings"])
    assert json.loads((tmp_path / "summary.json").read_text())["tracker_restarts_s"] == [2.0]


@pytest.mark.parametrize("pause, resume, n_reps", [
    (95, 120, 3),  # between rep 1 (ends at frame 87) and rep 2 (starts at 129): nothing lost
    (45, 75, 2),  # a second in the middle of rep 1: the gap breaks it, so it is not counted as a rep
    (50, 60, 3),  # a third of a second: bridged, like a pose model losing the person for a few frames
])
def test_pause_skips_the_analysis_and_breaks_the_signal(tmp_path, track, pause, resume, n_reps):
    calls = []

    class CountingPose(TrackPose):
        def process(self, frame):
            calls.append(frame.index)
            return super().process(frame)

    display = MemoryDisplay(keys={pause: "p", resume: "p"}, keep=1)
    options = LiveOptions("split-squat", setup_hold_s=0.3, warm_up=False)
    result = LiveSession(Frames(len(track)), CountingPose(track), get_analyser("split-squat"), display, tmp_path,
                         options, (640, 480), 30.0).run()
    saved = PoseTrack.load(tmp_path / "track.npz")
    # frames pause+1..resume were shown paused, not analysed; a gap frame marks where the analysis resumed
    assert display.shown == len(track)
    # the model rests while paused: at most the two frames it had taken on when the key came are extra
    assert len(saved) - 1 <= len(calls) <= len(saved) + 1
    assert len(saved) == len(track) - (resume - pause) + 1
    assert int((~saved.detected).sum()) == 1
    assert [e["event"] for e in events(tmp_path) if e["event"] in ("pause", "resume")] == ["pause", "resume"]
    assert len(result.reps) == n_reps


def test_recalibrate_captures_the_baseline_again(tmp_path, track):
    result, _ = run(tmp_path, track, keys={100: "r"})  # between rep 1 and rep 2
    names = [e["event"] for e in events(tmp_path)]
    assert names.count("counting") == 2 and "recalibrate" in names
    stages = [r["stage"] for r in rows(tmp_path)]
    assert stages[100] == "calibrating" and stages[-1] == "counting"
    assert len(result.reps) == 3


@pytest.mark.parametrize("keys, close_after, reason", [
    ({50: "q"}, None, "quit key"),
    ({50: "\x1b"}, None, "quit key"),  # Esc
    (None, 50, "window closed"),
])
def test_quitting_early_keeps_everything_so_far(tmp_path, track, keys, close_after, reason):
    display = MemoryDisplay(keys=keys, close_after=close_after)
    result, _ = run(tmp_path, track, display=display)
    assert result.stop_reason == reason and not result.interrupted
    assert len(rows(tmp_path)) == 50 and len(PoseTrack.load(tmp_path / "track.npz")) == 50
    assert json.loads((tmp_path / "session.json").read_text())["complete"] is True


def test_quitting_before_the_analysis_starts_still_keeps_the_frames(tmp_path, track):
    result, _ = run(tmp_path, track, keys={3: "q"})
    assert result.set is None and len(PoseTrack.load(tmp_path / "track.npz")) == 3
    assert len(rows(tmp_path)) == 3 and "never completed" in " ".join(result.summary["warnings"])


def test_ctrl_c_mid_set_keeps_the_reps_and_prints_a_summary(tmp_path, track):
    def interrupt(n, image):
        if n == 200:  # after rep 2
            raise KeyboardInterrupt
        return None

    result, _ = run(tmp_path, track, display=MemoryDisplay(keys=interrupt))
    assert result.interrupted and result.stop_reason == "interrupted"
    assert [r.verdict for r in result.reps] == ["good", "fault"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] and summary["set"]["n_reps"] == 2
    assert len(open(tmp_path / "reps.jsonl").read().splitlines()) == 2


def test_a_stop_request_from_a_signal_ends_the_loop_cleanly(tmp_path, track):
    seen = []

    def stop():
        return len(seen) >= 30

    display = MemoryDisplay(keys=lambda n, img: seen.append(n))
    options = LiveOptions("split-squat", setup_hold_s=0.3)
    result = LiveSession(Frames(len(track)), TrackPose(track), get_analyser("split-squat"), display, tmp_path,
                         options, (640, 480), 30.0, stop=stop).run()
    assert result.interrupted and len(rows(tmp_path)) == 30


def test_an_unplugged_camera_ends_the_set_with_what_was_done(tmp_path, track):
    result, _ = run(tmp_path, track, frames=Frames(len(track), fail_after=200))
    assert result.stop_reason == "the source stopped: the camera stopped delivering frames (unplugged?)"
    assert len(result.reps) == 2 and any("unplugged" in w for w in result.summary["warnings"])
    assert not result.summary["complete"]


def test_the_model_works_on_the_next_frame_while_this_one_is_drawn(tmp_path, track):
    import threading

    log = []

    class SlowPose(TrackPose):
        def process(self, frame):
            log.append(("pose", frame.index, threading.current_thread() is threading.main_thread()))
            time.sleep(0.005)
            return super().process(frame)

    def shown(n, image):
        log.append(("shown", n - 1, True))  # n: frames shown so far, with this one
        time.sleep(0.005)

    n = 90
    results = {}
    for pipelined in (True, False):
        log.clear()
        out = tmp_path / str(pipelined)
        options = LiveOptions("split-squat", setup_hold_s=0.3, warm_up=False, pipelined=pipelined)
        results[pipelined] = LiveSession(Frames(n), SlowPose(track), get_analyser("split-squat"),
                                         MemoryDisplay(keys=shown), out, options, (640, 480), 30.0).run()
        order = [(kind, i) for kind, i, _ in log]
        on_main = {kind: {m for k, _, m in log if k == kind} for kind in ("pose", "shown")}
        if pipelined:
            assert on_main["pose"] == {False}  # the model runs on its own thread
            # frame i+1's inference starts before frame i is shown, for every frame
            assert all(order.index(("pose", i + 1)) < order.index(("shown", i)) for i in range(n - 1))
        else:
            assert on_main["pose"] == {True}
            assert all(order.index(("shown", i)) < order.index(("pose", i + 1)) for i in range(n - 1))
        assert [i for kind, i in order if kind == "shown"] == list(range(n))  # each frame once, in order
    # the same poses, so the same frames.csv apart from the timing columns
    timing = {"latency_ms", "pose_ms", "analyse_ms", "feedback_ms", "draw_ms"}
    a, b = (rows(tmp_path / str(p)) for p in (True, False))
    assert [{k: v for k, v in r.items() if k not in timing} for r in a] == \
        [{k: v for k, v in r.items() if k not in timing} for r in b]


def test_newest_frames_skips_what_a_slow_loop_cannot_take(tmp_path):
    class Camera:
        error = None

        def __iter__(self):
            for i in range(30):
                time.sleep(0.01)  # 100 frames/s
                yield Frame(np.zeros((4, 4, 3), np.uint8), i, i / 100, time.monotonic())

    src = NewestFrames(Camera())
    got = []
    for frame in src:
        got.append(frame.index)
        time.sleep(0.05)  # a loop 5 times slower than the camera
    assert got == sorted(got) and got[-1] == 29  # in order, and the last frame is always delivered
    assert len(got) < 15 and len(got) + src.dropped == 30


def test_a_model_slower_than_the_camera_waits_for_the_next_frame_rather_than_take_a_stale_one():
    """A camera every 100 ms, giving its newest frame (or, with none new, the next when it is captured); a model
    that takes 130 ms (a fake clock). Taken as they come, frames reach the model up to 90 ms old; `freshest`
    passes over those more than half an interval old for the next one, so none is older than 50 ms."""
    def run(fresh: bool):
        now, skipped = [0.0], []

        def camera():
            last = -1
            while (i := max(last + 1, int(now[0] / 0.1 + 1e-9))) < 20:
                now[0], last = max(now[0], i * 0.1), i
                yield Frame(np.zeros((4, 4, 3), np.uint8), i, i * 0.1, i * 0.1)

        frames = freshest(camera(), 0.05, clock=lambda: now[0], on_skip=lambda: skipped.append(1)) if fresh \
            else camera()
        ages = []
        for frame in frames:
            ages.append((frame.index, round(now[0] - frame.captured_at, 3)))
            now[0] += 0.13  # inference
        return ages, len(skipped)

    plain, _ = run(fresh=False)
    assert max(age for _, age in plain) == pytest.approx(0.09)
    fresh, skipped = run(fresh=True)
    assert max(age for _, age in fresh) <= 0.05
    assert [i for i, _ in fresh] == sorted(i for i, _ in fresh) and fresh[-1][0] == 19  # in order, to the end
    assert skipped > 0 and len(fresh) < len(plain)  # the price: fewer frames posed


@pytest.mark.model
def test_realtime_replay_with_the_pose_model(tmp_path, synth_dir, model_ready):
    """The real pipeline: replay at 3x real time, the model on the newest frame, stale frames dropped."""
    from glutecam.pose import PoseEstimator
    from glutecam.sources import ReplaySource

    source = ReplaySource(synth_dir / f"{CLIP}.mp4", speed=3.0)
    display = MemoryDisplay(keep=1)
    analyser = get_analyser("split-squat")
    with PoseEstimator(max_people=1) as estimator:
        options = LiveOptions("split-squat", setup_hold_s=0.3, debug=True)
        result = LiveSession(source, estimator, analyser, display, tmp_path, options, (640, 480), 30.0).run()
    s = result.summary
    assert source.dropped > 0 and s["frames_dropped"] == source.dropped  # newest frame, no queue
    assert s["frames_seen"] == display.shown == source.delivered
    assert len(result.reps) == 3 and [r.verdict for r in result.reps][1:] == ["fault", "fault"]
    assert any(text == "Keep your left hip up" for _, text in result.cues)
    lat = s["latency_ms"]
    assert s["stage_ms"]["pose"] < lat["median"] < 1000  # measured from capture, so it includes the model
    assert s["stage_ms"]["feedback"] < 1.0
    latency_col = [float(r["latency_ms"]) for r in rows(tmp_path)]
    assert len(latency_col) == s["frames_seen"] and min(latency_col) > 0
    # the offline analyser finds the same reps on the track the live session recorded
    saved = PoseTrack.load(tmp_path / "track.npz")
    assert saved.fps == pytest.approx(s["analysis_fps"], rel=0.01)  # the rate the loop achieved, not 30
    same_reps(result.reps, analyser.analyse(saved).set.reps)


def test_newest_frames_passes_on_why_the_camera_stopped():
    class Unplugged:
        error = None

        def __iter__(self):
            for i in range(5):
                yield Frame(np.zeros((4, 4, 3), np.uint8), i, i / 30, time.monotonic())
            self.error = "the camera stopped delivering frames (unplugged?)"

    src = NewestFrames(Unplugged())
    got = [f.index for f in src]
    assert got[-1] == 4 and src.error == "the camera stopped delivering frames (unplugged?)"
