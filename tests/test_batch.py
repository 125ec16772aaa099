"""Batch analysis of a folder: every clip runs, a broken one is named with its reason, index.html lists all."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glutecam.batch import ClipResult, find_clips, out_dirs, run_batch, write_index
from tests.conftest import write_clip

REPO = Path(__file__).resolve().parents[1]


def fake_job(clip: str, out_dir: str, options: dict, db) -> ClipResult:
    """Stands in for analyse_one in the pool tests: behaviour chosen by the clip's name."""
    name = Path(clip).name
    if name.startswith("crash"):
        os._exit(3)  # the worker process dies outright
    if name.startswith("slow"):
        import time

        time.sleep(4)
    if name.startswith("bad"):
        return ClipResult(clip, out_dir, "failed", reason=f"{name}: not a readable video")
    return ClipResult(clip, out_dir, "done", exercise=options["exercise"], verdict="good", n_reps=2)


def pin_job(clip: str, out_dir: str, options: dict, db) -> ClipResult:
    """Says whether the job was asked to pin its model to a core (glutecam.cores)."""
    return ClipResult(clip, out_dir, "done", verdict=f"pin_cores={options['pin_cores']}")


@pytest.mark.parametrize("jobs, pinned", [(1, True), (2, False)])
def test_only_a_job_running_alone_pins_its_model_to_a_core(tmp_path, jobs, pinned):
    clips = [tmp_path / n for n in ("a.mp4", "b.mp4")]
    results, _ = run_batch(clips, [tmp_path / c.stem for c in clips], {}, jobs=jobs, job=pin_job)
    assert [r.verdict for r in results] == [f"pin_cores={pinned}"] * 2


def test_find_clips_and_output_folders(tmp_path):
    for name in ("b.mp4", "a.MOV", "a.mp4", ".hidden.mp4", "notes.txt", "c.webm"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.mp4").mkdir()
    clips = find_clips(tmp_path)
    assert [c.name for c in clips] == ["a.MOV", "a.mp4", "b.mp4", "c.webm"]
    assert [d.name for d in out_dirs(clips, tmp_path / "out")] == ["a.MOV", "a.mp4", "b", "c"]


def test_pool_keeps_order_and_survives_failures_and_dead_workers(tmp_path):
    clips = [tmp_path / n for n in ("ok1.mp4", "bad.mp4", "crash.mp4", "ok2.mp4")]
    dirs = [tmp_path / "out" / c.stem for c in clips]
    seen = []
    results, interrupted = run_batch(clips, dirs, {"exercise": "split-squat"}, jobs=2, job=fake_job,
                                     on_result=lambda r: seen.append(r.name))
    assert not interrupted and sorted(seen) == sorted(c.name for c in clips)
    assert [r.name for r in results] == [c.name for c in clips]
    assert [r.status for r in results] == ["done", "failed", "failed", "done"]
    assert results[1].reason == "bad.mp4: not a readable video"
    assert results[2].reason.startswith("the worker process died")


def test_ctrl_c_lets_running_clips_finish_and_skips_the_rest(tmp_path):
    import signal
    import threading

    clips = [tmp_path / f"slow{i}.mp4" for i in range(4)]
    seen = []
    timer = threading.Timer(2.5, os.kill, (os.getpid(), signal.SIGINT))  # Ctrl+C while the first two run
    timer.start()
    try:
        results, interrupted = run_batch(clips, [tmp_path / c.stem for c in clips], {"exercise": "split-squat"},
                                         jobs=2, job=fake_job, on_result=lambda r: seen.append(r.status))
    finally:
        timer.cancel()
    assert interrupted
    assert [r.status for r in results] == ["done", "done", "not run", "not run"]
    assert sorted(seen) == ["done", "done", "not run", "not run"]


def test_index_escapes_names_and_reasons(tmp_path):
    results = [ClipResult(str(tmp_path / "<img src=x onerror=alert(1)>.mp4"), str(tmp_path / "a"), "failed",
                          reason="<b>broken</b>")]
    html = write_index(tmp_path, tmp_path, results).read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;.mp4" in html and "&lt;b&gt;broken&lt;/b&gt;" in html
    assert "<img" not in html and "<b>" not in html


def test_each_run_is_read_once_for_the_side_tables_and_the_index(tmp_path, monkeypatch):
    import glutecam.batch as batch
    import glutecam.report as report
    from tests.runs import make_run

    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("left.mp4", "right.mp4"):
        (folder / name).write_bytes(b"x")

    def analysed(clips, dirs, options, jobs, db, on_result=None):
        for clip, d in zip(clips, dirs):
            make_run(d, name=clip.name, side=clip.stem, video=False)
        return [ClipResult(str(c), str(d), "done", exercise="split-squat") for c, d in zip(clips, dirs)], False

    reads = []
    load_run = report.load_run
    monkeypatch.setattr(report, "load_run", lambda path: reads.append(Path(path).name) or load_run(path))
    monkeypatch.setattr(batch, "run_batch", analysed)
    assert batch.batch_command(folder, tmp_path / "out", {"exercise": "split-squat"}, 1, None) == 0
    assert sorted(reads) == ["left", "right"]
    assert "Left versus right (split-squat)" in (tmp_path / "out" / "index.html").read_text()
    assert 'id="sides"' in (tmp_path / "out" / "left" / "report.html").read_text()


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory):
    """Two short real clips (one rep of the demo split squat, and the same mirrored: the other side), and a
    text file named like a video."""
    import av

    folder = tmp_path_factory.mktemp("clips")
    with av.open(str(REPO / "samples" / "bss_front_drop8_r23.mp4")) as c:
        frames = [f.to_ndarray(format="bgr24") for i, f in enumerate(c.decode(video=0)) if 84 <= i < 204]
    write_clip(folder / "right side.mp4", frames)
    write_clip(folder / "left side.mp4", [np.ascontiguousarray(f[:, ::-1]) for f in frames])
    (folder / "broken.mp4").write_text("this is a text file, not a video\n")
    return folder


def test_batch_over_a_folder_with_a_broken_clip(batch_folder, tmp_path, model_ready):
    out, db = tmp_path / "out", tmp_path / "history.sqlite"
    proc = subprocess.run([sys.executable, "-m", "glutecam", "analyse", str(batch_folder), "--exercise", "split-squat",
                           "--jobs", "2", "--max-people", "1", "--out", str(out), "--db", str(db)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr  # finished, with a problem
    assert "Traceback" not in proc.stderr
    assert re.search(r"failed\s+broken\.mp4: .*broken\.mp4.*(not a readable video|no frame could be decoded)",
                     proc.stderr), proc.stderr
    assert "2 of 3 clips done; not done: broken.mp4" in proc.stdout
    for stem in ("left side", "right side"):
        assert {"report.html", "reps.json", "annotated.mp4"} <= {p.name for p in (out / stem).iterdir()}
    assert not (out / "broken").exists() or not (out / "broken" / "report.html").exists()
    index = (out / "index.html").read_text()
    rows = re.findall(r'<tr class="clip [^"]*" data-status="([^"]+)">(.*?)</tr>', index, flags=re.S)
    by_name = {re.sub(r"<[^>]+>", "", r[1]).split("\n")[1].strip(): (r[0], r[1]) for r in rows}
    assert set(by_name) == {"broken.mp4", "left side.mp4", "right side.mp4"}
    status, row = by_name["broken.mp4"]
    assert status == "failed" and ("not a readable video" in row or "no frame could be decoded" in row)
    assert 'href="left%20side/report.html"' in by_name["left side.mp4"][1]
    # both sides of the same exercise: a left-versus-right table in the index and in each report
    assert "Left versus right (split-squat)" in index
    assert 'id="sides"' in (out / "left side" / "report.html").read_text()
    # each analysed clip is in the history, once
    con = sqlite3.connect(db)
    assert sorted(r[0] for r in con.execute("SELECT side FROM sessions")) == ["left", "right"]


def test_a_folder_without_clips_is_a_user_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "glutecam", "analyse", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "is a folder, not a video file, and holds no video clips" in proc.stderr
