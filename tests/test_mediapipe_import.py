"""MediaPipe imported without its audio tasks and drawing helpers, which still load when used."""

import subprocess
import sys
import textwrap

import pytest


def run_fresh(code: str) -> str:
    """Run `code` in a fresh interpreter (imports are once per process) and return its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pose_api_loads_without_matplotlib_or_audio_and_deferred_modules_still_work():
    out = run_fresh("""
        import sys
        from glutecam.mediapipe_import import import_mediapipe
        mp = import_mediapipe()
        from mediapipe.tasks.python import BaseOptions, vision
        print(vision.PoseLandmarker.__name__, vision.RunningMode.VIDEO.name, BaseOptions.__name__,
              mp.Image.__name__, mp.ImageFormat.SRGB.name)
        print("matplotlib" in sys.modules, "sounddevice" in sys.modules)
        print(vision.drawing_utils.DrawingSpec.__name__, vision.drawing_styles.__name__)
        print("matplotlib.pyplot" in sys.modules)
        print(mp.tasks.audio.AudioClassifier.__name__)
    """).splitlines()
    assert out[0] == "PoseLandmarker VIDEO BaseOptions Image SRGB"
    assert out[1] == "False False"  # deferred
    assert out[2] == "DrawingSpec mediapipe.tasks.python.vision.drawing_styles"  # loaded on first use
    assert out[3] == "True"
    assert out[4] == "AudioClassifier"


def test_mediapipe_imported_before_is_returned_as_it_is():
    out = run_fresh("""
        import sys
        import mediapipe
        from glutecam.mediapipe_import import import_mediapipe, _finder
        print(import_mediapipe() is mediapipe, "matplotlib.pyplot" in sys.modules, _finder in sys.meta_path)
    """)
    assert out.split() == ["True", "True", "False"]


@pytest.mark.model
def test_the_pose_estimator_runs_without_importing_matplotlib(model_ready, samples_dir):
    out = run_fresh(f"""
        import sys
        from glutecam.pose import PoseEstimator
        from glutecam.sources import VideoFileSource
        with PoseEstimator() as pose, VideoFileSource({str(samples_dir / "pose2sim_single_cam01.mp4")!r}) as src:
            found = [pose.process(frame).detected for _, frame in zip(range(3), src)]
        print(found, "matplotlib" in sys.modules, "sounddevice" in sys.modules)
    """)
    assert out.split() == ["[True,", "True,", "True]", "False", "False"]
