"""One core for the pose model, the other for its helpers, during the pose pass (glutecam.cores)."""

import os
import threading

import pytest

from glutecam.cores import CoreSplit, core_split, pin_process

if not hasattr(os, "sched_getaffinity"):
    pytest.skip("CPU affinity is Linux's", allow_module_level=True)
ALLOWED = sorted(os.sched_getaffinity(0))


def test_without_the_affinity_call_nothing_is_split(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity")
    assert core_split() is None


def test_pin_process_moves_threads_already_running():
    ready, done = threading.Event(), threading.Event()

    def wait() -> None:
        ready.set()
        done.wait(10)

    other = threading.Thread(target=wait)
    other.start()
    ready.wait(10)
    try:
        pin_process([ALLOWED[-1]])
        assert os.sched_getaffinity(0) == os.sched_getaffinity(other.native_id) == {ALLOWED[-1]}
        pin_process(ALLOWED)
        assert os.sched_getaffinity(0) == os.sched_getaffinity(other.native_id) == set(ALLOWED)
    finally:
        pin_process(ALLOWED)
        done.set()
        other.join()


def test_analyse_keeps_the_model_and_its_helpers_apart_during_the_pass_then_frees_them(tmp_path, synth_dir,
                                                                                     model_ready, monkeypatch):
    import glutecam.analyse as analyse

    split = CoreSplit(model=(ALLOWED[0],), helpers=(ALLOWED[-1],), all=tuple(ALLOWED))  # any machine
    monkeypatch.setattr(analyse, "core_split", lambda: split)
    seen = {}
    real = analyse.run_pose

    def spy(source, estimator, progress, stop, frames, on_pose=None):
        def first(pose):
            if "decoding" not in seen:  # it has sent a frame: it has pinned itself
                seen["model"] = os.sched_getaffinity(0)
                seen["decoding"] = os.sched_getaffinity(frames._proc.pid)
            on_pose(pose)

        out = real(source, estimator, progress, stop, frames, on_pose=first)
        seen["clip"] = os.sched_getaffinity(on_pose.__self__._proc.pid)  # the ClipWorker's child
        return out

    monkeypatch.setattr(analyse, "run_pose", spy)
    res = analyse.analyse_video(synth_dir / "slha_front_clean.mp4", tmp_path / "run",
                                analyse.AnalyseOptions(exercise="side-lying-abduction"))
    assert seen == {"model": {ALLOWED[0]}, "decoding": {ALLOWED[-1]}, "clip": {ALLOWED[-1]}}
    assert os.sched_getaffinity(0) == set(ALLOWED)  # given back after the pass
    assert "annotated" in res.outputs and res.timings_s["clip_frames_early"] > 0


@pytest.mark.parametrize("pin, max_pixels, pinned", [
    (True, 2560 * 1440, True),
    (False, 2560 * 1440, False),  # told not to (batch --jobs 2)
    (True, 640 * 480 - 1, False),  # frames too large for one core to decode as fast as the model runs
])
def test_analyse_pins_only_when_asked_and_when_one_core_can_decode(tmp_path, synth_dir, model_ready, monkeypatch,
                                                                    pin, max_pixels, pinned):
    import glutecam.analyse as analyse
    import glutecam.cores as cores

    asked = []
    monkeypatch.setattr(analyse, "core_split", lambda: asked.append(1) or None)
    monkeypatch.setattr(cores, "MAX_PIXELS_ON_ONE_CORE", max_pixels)
    res = analyse.analyse_video(synth_dir / "slha_front_clean.mp4", tmp_path / "run",
                                analyse.AnalyseOptions(exercise="side-lying-abduction", video=False, pin_cores=pin))
    assert (res.summary["source"]["width"], res.summary["source"]["height"]) == (640, 480)
    assert asked == ([1] if pinned else [])
