"""The `glutecam` command as a user runs it: outputs, documented columns, clear errors."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glutecam.track import PoseTrack, landmark_columns

DOCS = Path(__file__).resolve().parents[1] / "docs" / "outputs.md"


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "glutecam", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def documented_columns() -> list[str]:
    """Column names from the frames.csv tables in docs/outputs.md (placeholders like <landmark> skipped)."""
    text = DOCS.read_text().split("## frames.csv")[1].split("## summary.json")[0]
    return [m for m in re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M)]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, samples_dir, model_ready):
    out = tmp_path_factory.mktemp("out")
    proc = run("analyse", samples_dir / "pose2sim_single_cam02.mp4", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_analyse_writes_every_output(analysed):
    out, proc = analysed
    assert {p.name for p in out.iterdir()} >= {"track.npz", "frames.csv", "summary.json", "annotated.mp4"}
    assert not list(out.glob("*.part*"))
    assert "Traceback" not in proc.stderr
    track = PoseTrack.load(out / "track.npz")
    assert len(track) == 100 and track.detected.mean() > 0.95


def test_frames_csv_has_the_documented_columns(analysed):
    out, _ = analysed
    header, *rows = list(csv.reader(open(out / "frames.csv")))
    assert header[:5] == ["frame", "time_s", "detected", "n_people", "pelvis_obliquity_deg"]
    assert set(header[:5]) <= set(documented_columns())
    assert header[5:] == landmark_columns()
    assert len(rows) == 100
    times = np.array([float(r[1]) for r in rows])
    np.testing.assert_allclose(np.diff(times), 1 / 60, atol=1e-3)


def test_summary_describes_source_and_model(analysed):
    out, _ = analysed
    s = json.loads((out / "summary.json").read_text())
    assert (s["source"]["width"], s["source"]["height"], s["source"]["fps"]) == (1080, 1920, 60.0)
    assert s["model"]["name"] == "full" and s["complete"] is True
    assert s["frames_analysed"] == 100


def test_annotated_clip_is_h264_with_every_frame(analysed):
    import av

    out, _ = analysed
    with av.open(str(out / "annotated.mp4")) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in c.decode(stream)) == 100


def test_the_annotated_clip_is_as_sharp_as_the_source_at_its_size(analysed, samples_dir):
    """Drawn on the source's frames scaled to the clip's size (720x1280 here), not on the report's 360-px
    stills scaled up: each picture is nearer the first than the second (mean |difference|, 0-255)."""
    import av
    import cv2

    out, _ = analysed
    with av.open(str(out / "annotated.mp4")) as c:
        clip = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    with av.open(str(samples_dir / "pose2sim_single_cam02.mp4")) as c:
        source = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    h, w = clip[0].shape[:2]
    assert (w, h) == (720, 1280)
    for k in (0, 50, 99):
        sharp = cv2.resize(source[k], (w, h), interpolation=cv2.INTER_LINEAR)
        still = cv2.resize(source[k], (360, 640), interpolation=cv2.INTER_AREA)
        blurred = cv2.resize(still, (w, h), interpolation=cv2.INTER_LINEAR)
        to_sharp, to_blurred = (np.abs(clip[k].astype(int) - x).mean() for x in (sharp, blurred))
        assert to_sharp < 0.9 * to_blurred, (k, to_sharp, to_blurred)  # measured 3.0-3.5 against 4.0-4.4


@pytest.mark.parametrize("args, message", [
    (["analyse", "no/such/clip.mp4"], "no such file"),
    (["analyse", "."], "is a folder"),
    (["analyse", "x.mp4", "--exercise", "jumping-jacks"], "Invalid value for '--exercise'"),
])
def test_user_errors_are_one_clear_line(args, message, tmp_path):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_missing_model_is_explained(tmp_path, samples_dir, monkeypatch):
    env = {"GLUTECAM_MODEL_DIR": str(tmp_path / "none"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "glutecam", "analyse", str(samples_dir / "pose2sim_single_cam02.mp4"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert "glutecam models download full" in proc.stderr and "Traceback" not in proc.stderr


def test_every_command_offers_exactly_the_exercises_that_have_an_analyser():
    import click

    from glutecam.analysers import ANALYSERS
    from glutecam.cli import cli

    def choices(command: click.Command) -> list[str]:
        (option,) = [p for p in command.params if p.name == "exercise"]
        return sorted(option.type.choices)

    assert choices(cli.commands["analyse"]) == choices(cli.commands["live"]) == sorted(ANALYSERS)
