"""report.html: self-contained, escaped, the right numbers in the right places, and working in Chromium."""

import base64
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from glutecam.report import RunError, load_run, write_report
from glutecam.report.clip import worst_rep
from tests.conftest import wait_until
from tests.runs import FPS, make_run

#: A clip name that is also HTML (a file name cannot hold "/", so no closing tags): shown as text, never run.
HTML_NAME = '<img src=x onerror=alert(1)> <b>bold & "quoted".mp4'


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside the first <h1>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.h1, self._in_h1 = "", False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_h1 = tag == "h1" or self._in_h1

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_h1:
            self.h1 += data

    def find(self, tag: str, **attrs) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


@pytest.fixture
def run_dir(tmp_path) -> Path:
    return make_run(tmp_path / "run", name=HTML_NAME)


def test_names_messages_and_warnings_are_escaped(run_dir):
    html = write_report(run_dir).read_text()
    tags = Tags(html)
    assert tags.h1.strip() == HTML_NAME  # shown as the text it is
    assert not tags.find("img", src="x") and not tags.find("b")  # ... and no element came out of it
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;below&lt;/b&gt;" in html and "<b>below</b>" not in html  # a fault message
    assert "&lt;em&gt;markup&lt;/em&gt;" in html  # a warning
    assert "&lt;i&gt;out of view&lt;/i&gt;" in html  # a not-measured reason
    assert len(tags.find("script")) == 2  # the data block and the page's own script, nothing injected


def test_report_is_self_contained(run_dir):
    html = write_report(run_dir).read_text()
    tags = Tags(html)
    urls = [a.get("src") or a.get("href") for t, a in tags.tags if a.get("src") or a.get("href")]
    assert urls and all(u.startswith("data:") or not re.match(r"^[a-z]+:", u) for u in urls), urls
    assert not re.search(r"https?://", html)  # no CDN, no fonts, no analytics
    [video] = tags.find("video")
    assert video["src"] == "annotated.mp4" and (run_dir / video["src"]).is_file()
    assert len(tags.find("img", class_="still")) == 3


def test_timeline_shades_reps_marks_faults_and_draws_thresholds(run_dir):
    tags = Tags(write_report(run_dir).read_text())
    panels = [a["data-column"] for a in tags.find("g", class_="panel")]
    assert panels == ["pelvic_drop_deg", "pelvis_rotation_deg", "knee_flexion_deg", "fppa_deg"]  # trunk lean: no data
    bands = [a for t, a in tags.tags if t == "rect" and a.get("class", "").startswith("rep ")]
    assert len(bands) == 3 * len(panels)
    assert [(b["data-rep"], b["class"], float(b["data-seek"])) for b in bands[:3]] == [
        ("1", "rep good", 0.5), ("2", "rep fault", 2.2), ("3", "rep fault", 3.9)]
    faults = [a for t, a in tags.tags if t == "circle" and "fault" in a.get("class", "")]
    assert sorted(float(f["data-seek"]) for f in faults) == [2.9, 4.6]
    # Threshold lines sit where the axis puts +5 and -5 (hip hike) degrees: symmetric about the zero line.
    drop_lines = [a for t, a in tags.tags if t == "line" and a.get("class", "").startswith("thr")][:4]
    zero = float(tags.find("line", class_="zero")[0]["y1"])
    ys = sorted(float(a["y1"]) for a in drop_lines)
    assert ys[1] - zero == pytest.approx(-(ys[2] - zero), abs=0.2) and ys[0] < ys[1] < zero < ys[2] < ys[3]


def test_rep_table_values_and_stills_of_the_worst_moment(run_dir):
    html = write_report(run_dir).read_text()
    tags = Tags(html)
    rows = tags.find("tr")
    assert [float(r["data-start"]) for r in rows if "data-start" in r] == [0.5, 2.2, 3.9]
    assert "+8.5° <span class=\"muted\">(5.0°)</span>" in html  # rep 2's peak drop with its limit
    assert "pelvic drop 8.5 (minor; beyond 5.0)" in html
    assert "Knee flexion (target 70°), peak" in html and "Knee FPPA (+ = knee inward) (limit 10°), peak" in html
    stills = tags.find("img", class_="still")
    for still, worst_s in zip(stills, (1.2, 2.9, 4.6)):  # rep 1: largest drop; reps 2, 3: their fault
        jpg = base64.b64decode(still["src"].split(",", 1)[1])
        img = cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_GRAYSCALE)
        # the crafted clip's frame i has grey level 40 + i: the still shows the worst moment's frame
        assert abs(float(np.median(img)) - (40 + worst_s * FPS)) <= 3


def test_setup_and_what_was_not_measured(run_dir):
    html = write_report(run_dir).read_text()
    text = re.sub(r"<[^>]+>", " ", html)
    assert "camera view" in text and "front" in text and "30.00 fps" in text and "full (GLUTECAM_MODEL_DIR)" in text
    assert "as used for this run" in text
    nm = html.split('id="not-measured"')[1]
    assert "shoulders &lt;i&gt;out of view&lt;/i&gt;" in nm and "rep 2: trunk_lean_deg" in nm and "2.20–3.60 s" in nm


def test_left_versus_right_when_both_sides_were_done(tmp_path):
    left = make_run(tmp_path / "left", name="left.mp4", side="left", drops=(3.0, 8.5, 6.0))
    right = make_run(tmp_path / "right", name="right.mp4", side="right", drops=(2.0, 3.0, 4.0))
    assert 'id="sides"' not in write_report(left).read_text()  # one side only: no comparison
    tags_html = write_report(left, others=[right]).read_text()
    table = tags_html.split('id="sides"')[1].split("</table>")[0]
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", table, flags=re.S)]
    i = cells.index("mean peak pelvic drop (°)")
    assert cells[i + 1:i + 4] == ["+5.8", "+3.0", "+2.8"]  # left, right, left − right
    assert cells[1:3] == ["left.mp4", "right.mp4"]


def test_a_run_without_exercise_or_clip(tmp_path):
    run = make_run(tmp_path / "run", video=False)
    (run / "reps.json").unlink()
    html = write_report(run).read_text()
    assert "no exercise was given" in html and "No clip to show" in html
    assert Tags(html).find("g", class_="panel")[0]["data-column"] == "pelvis_obliquity_deg"
    with pytest.raises(RunError, match="not a glutecam output folder"):
        load_run(tmp_path)


# -- in the browser -----------------------------------------------------------------------------------------


def _wait_for_video(page):
    wait_until(page, "document.getElementById('clip').readyState >= 1")
    return page.evaluate("""() => { const v = document.getElementById('clip');
        return {ready: v.readyState, duration: v.duration, error: v.error && v.error.code,
                can: v.canPlayType('video/mp4; codecs="avc1.42E01E"')}; }""")


def _current_time(page) -> float:
    wait_until(page, "!document.getElementById('clip').seeking")
    return page.evaluate("document.getElementById('clip').currentTime")


@pytest.mark.browser
def test_report_in_chromium_plays_seeks_and_shows_names_as_text(run_dir, open_page):
    page, log = open_page(write_report(run_dir))
    video = _wait_for_video(page)
    assert video["error"] is None and video["can"] in ("probably", "maybe")
    assert video["duration"] == pytest.approx(6.0, abs=0.1)
    page.click("button.rep-seek[data-rep='2']")
    assert _current_time(page) == pytest.approx(2.2, abs=1e-3)
    page.click("svg.timeline text.replabel >> nth=2")  # rep 3's label on the timeline
    assert _current_time(page) == pytest.approx(3.9, abs=1e-3)
    page.click("svg.timeline circle.fault >> nth=0")
    assert _current_time(page) == pytest.approx(2.9, abs=1e-3)
    page.click("button.rep-seek[data-rep='1']")
    assert _current_time(page) == pytest.approx(0.5, abs=1e-3)
    wait_until(page, "document.querySelector('#reps tbody tr').classList.contains('current')")
    h1 = page.locator("h1#clip-name")
    assert h1.inner_text() == HTML_NAME and h1.evaluate("e => e.children.length") == 0
    assert log.dialogs == [] and log.errors == [] and log.console_errors == [] and log.remote == []


# -- end to end on real footage -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, model_ready):
    """The demo split squat analysed once, under a clip name that is also HTML."""
    from glutecam.analyse import AnalyseOptions, analyse_video

    src = Path(__file__).resolve().parents[1] / "samples" / "bss_front_drop8_r23.mp4"
    folder = tmp_path_factory.mktemp("demo")
    clip = folder / HTML_NAME
    shutil.copy(src, clip)
    result = analyse_video(clip, folder / "out", AnalyseOptions(exercise="split-squat", max_people=1))
    return result


def test_analyse_writes_the_report_and_a_slow_motion_replay_of_the_worst_rep(demo_run):
    import av

    out = demo_run.out_dir
    summary = json.loads((out / "summary.json").read_text())
    reps = json.loads((out / "reps.json").read_text())["reps"]
    assert summary["outputs"]["report"] == "report.html" and (out / "report.html").is_file()
    assert set(summary["thresholds"]) >= {"pelvic_drop", "pelvic_rotation"}
    assert "smallest fault seen reliably: about 8°" in summary["accuracy"]  # the split squat from the front
    replay = summary["replay"]
    worst = worst_rep({"reps": reps})  # the rep whose fault goes furthest past its limit, as reps.json says
    assert replay["rep"] == worst["index"]
    assert any(f["code"] == "pelvic_drop" for f in worst["faults"])  # the clip's 8-degree drop
    rep = worst
    t = np.asarray(demo_run.track.time_s)
    n_rep_frames = int(((t >= rep["start_s"] - 0.3) & (t <= rep["end_s"] + 0.3)).sum())
    with av.open(str(out / "annotated.mp4")) as c:
        frames = [f.time for f in c.decode(c.streams.video[0])]
    assert len(frames) == len(t) + n_rep_frames + 1  # the clip, then each frame of the rep (the last twice)
    assert np.diff(frames[len(t):-1]) == pytest.approx(3 / 30, abs=0.002)  # ... shown three times as long
    assert replay["start_s"] == pytest.approx(t[-1] + 1 / 30, abs=0.02)
    assert not list(out.glob(".glutecam-frames-*"))  # the frames pass 1 kept for the clip are gone
    assert frames[-1] == pytest.approx(replay["end_s"] - 1 / 30, abs=0.05)


def _stills(report: Path) -> list:
    srcs = [img["src"] for img in Tags(report.read_text()).find("img", class_="still")]
    return [cv2.imdecode(np.frombuffer(base64.b64decode(s.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
            for s in srcs]


def test_the_stills_are_the_drawn_frames_of_the_worst_moments_without_decoding_the_clip(demo_run):
    from glutecam.report.report import grab_stills, still_moments
    from glutecam.report.run import load_run

    out = demo_run.out_dir
    got = _stills(out / "report.html")
    # what decoding the finished clip would give: the same frames, up to the clip's compression
    want = grab_stills(out / "annotated.mp4", still_moments(load_run(out)))
    assert len(got) == len(want) == 3
    for a, b in zip(got, want):
        b = cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR)
        assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).mean() < 4


def test_without_a_clip_the_stills_come_from_the_decoders_thumbnails(tmp_path, model_ready, monkeypatch):
    import tempfile

    from glutecam.analyse import AnalyseOptions, analyse_video
    from glutecam.report.report import grab_stills, still_moments
    from glutecam.report.run import load_run

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    src = Path(__file__).resolve().parents[1] / "samples" / "bss_front_drop8_r23.mp4"
    with monkeypatch.context() as m:  # the report must not decode the source for them
        m.setattr("glutecam.report.report._nearest_frames", lambda *a, **k: pytest.fail("decoded the source"))
        analyse_video(src, tmp_path / "out", AnalyseOptions(exercise="split-squat", video=False))
    html = (tmp_path / "out" / "report.html").read_text()
    srcs = [img["src"] for img in Tags(html).find("img", class_="still")]
    want = grab_stills(src, still_moments(load_run(tmp_path / "out")))  # a decode of the source, here
    assert [base64.b64decode(s.split(",", 1)[1]) for s in srcs] == want and len(want) == 3
    assert not list((tmp_path / "tmp").glob("glutecam-thumbs-*"))  # the thumbnails are gone


def test_a_temporary_folder_that_takes_no_file_costs_the_thumbnails_only(tmp_path, model_ready, monkeypatch):
    import tempfile

    from glutecam.analyse import AnalyseOptions, analyse_video

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))  # mkstemp there fails
    src = Path(__file__).resolve().parents[1] / "samples" / "bss_front_drop8_r23.mp4"
    result = analyse_video(src, tmp_path / "out", AnalyseOptions(exercise="split-squat", video=False))
    assert result.summary["complete"] and len(result.analysis.set.reps) == 3
    html = (tmp_path / "out" / "report.html").read_text()
    assert len(Tags(html).find("img", class_="still")) == 3  # decoded from the source by the report instead


@pytest.mark.browser
def test_report_of_a_real_run_in_chromium(demo_run, open_page):
    reps = json.loads((demo_run.out_dir / "reps.json").read_text())["reps"]
    page, log = open_page(demo_run.out_dir / "report.html")
    video = _wait_for_video(page)
    assert video["error"] is None and video["duration"] > 10.0  # 10 s clip + the replay
    for rep in reps:
        page.click(f"button.rep-seek[data-rep='{rep['index']}']")
        assert _current_time(page) == pytest.approx(rep["start_s"], abs=1e-3)
    page.click("#seek-replay")
    replay = json.loads((demo_run.out_dir / "summary.json").read_text())["replay"]
    assert _current_time(page) == pytest.approx(replay["start_s"], abs=1e-3) and replay["start_s"] >= 10.0
    assert page.locator("h1#clip-name").inner_text() == HTML_NAME
    assert log.dialogs == [] and log.errors == [] and log.console_errors == [] and log.remote == []


def test_report_command(tmp_path):
    import subprocess
    import sys

    left = make_run(tmp_path / "left", name="left.mp4", side="left")
    right = make_run(tmp_path / "right", name="right.mp4", side="right", drops=(1.0, 2.0, 3.0))
    proc = subprocess.run([sys.executable, "-m", "glutecam", "report", str(left), "--other", str(right)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'id="sides"' in (left / "report.html").read_text()
    proc = subprocess.run([sys.executable, "-m", "glutecam", "report", str(tmp_path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "not a glutecam output folder" in proc.stderr
