"""`glutecam compare`: two sessions side by side, per rep and for the set, on the terminal and as a page."""

import re
import subprocess
import sys

import pytest

from glutecam.compare import CompareError, compare_runs, write_comparison_page
from tests.conftest import wait_until
from tests.runs import make_run


@pytest.fixture
def weeks(tmp_path):
    a = make_run(tmp_path / "week1", name="week 1 <b>.mp4", drops=(3.0, 8.5, 6.0))
    b = make_run(tmp_path / "week6", name="week 6.mp4", drops=(2.0, 3.0, 4.0))
    return a, b


def test_changes_per_rep_and_for_the_set(weeks):
    c = compare_runs(*weeks)
    rows = {r.label: r for r in c.set_rows}
    assert (rows["Reps"].a, rows["Reps"].b) == (3, 3)
    assert (rows["Reps with a fault"].a, rows["Reps with a fault"].b) == (2, 0)
    drop = rows["Mean peak pelvic drop (°)"]
    assert drop.change == pytest.approx(3.0 - 17.5 / 3) and drop.meaning == "no clear change"  # -2.8: under 3 deg
    largest = rows["Largest peak pelvic drop (°)"]
    assert (largest.a, largest.b, largest.change, largest.meaning) == (8.5, 4.0, -4.5, "better")
    rep2 = c.rep_rows[1]
    assert (rep2["verdict_a"], rep2["verdict_b"]) == ("fault", "good")
    assert (rep2["rows"][0].a, rep2["rows"][0].b, rep2["rows"][0].change) == (8.5, 3.0, -5.5)
    assert [x.label for x in rep2["rows"]] == c.measures
    assert c.measures[2] == "Knee flexion, peak (°)" and rep2["rows"][2].a == 90.0


def test_different_exercises_or_no_reps_cannot_be_compared(tmp_path, weeks):
    other = make_run(tmp_path / "rdl", exercise="single-leg-rdl")
    with pytest.raises(CompareError, match="different exercises"):
        compare_runs(weeks[0], other)
    (other / "reps.json").unlink()
    with pytest.raises(CompareError, match="no reps.json"):
        compare_runs(other, weeks[0])
    with pytest.raises(CompareError, match="not a glutecam output folder"):
        compare_runs(tmp_path, weeks[0])


def test_compare_command(weeks, tmp_path):
    out = tmp_path / "pages" / "cmp.html"
    proc = subprocess.run([sys.executable, "-m", "glutecam", "compare", str(weeks[0]), str(weeks[1]), "--out",
                           str(out)], capture_output=True, text=True, timeout=120, env={"COLUMNS": "250",
                                                                                        "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "week 1 <b>.mp4" in proc.stdout  # the name as it is, not rich markup
    assert "8.5 → 3.0 (-5.5)" in proc.stdout and "fault → good" in proc.stdout
    set_rows = [[c.strip() for c in line.split("│")[1:-1]] for line in proc.stdout.splitlines() if "│" in line]
    assert ["Largest peak pelvic drop (°)", "8.5", "4.0", "-4.5", "better"] in set_rows
    html = out.read_text()
    assert "week 1 &lt;b&gt;.mp4" in html and "<b>" not in html
    assert 'src="../week1/annotated.mp4"' in html and 'src="../week6/annotated.mp4"' in html


def test_compare_command_errors(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "glutecam", "compare", str(tmp_path), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not a glutecam output folder" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.browser
def test_comparison_page_in_chromium(weeks, tmp_path, open_page):
    page, log = open_page(write_comparison_page(compare_runs(*weeks), tmp_path / "cmp.html"))
    wait_until(page, "document.getElementById('clip-b').readyState >= 1")
    page.click("button[data-clip='b'][data-seek='2.2']")
    wait_until(page, "!document.getElementById('clip-b').seeking")
    assert page.evaluate("document.getElementById('clip-b').currentTime") == pytest.approx(2.2, abs=1e-3)
    assert page.evaluate("document.getElementById('clip-a').currentTime") == 0
    assert re.search(r"week 1 <b>\.mp4", page.locator("h1").inner_text())
    assert log.errors == [] and log.console_errors == [] and log.remote == [] and log.dialogs == []


@pytest.mark.parametrize("a, b, better, meaning", [
    (8.0, 4.0, "smaller", "better"),  # less drop
    (-8.0, -4.0, "smaller", "better"),  # less hike: judged on the size, not the sign
    (4.0, -4.5, "smaller", "no clear change"),  # the same size the other way
    (5.0, 7.5, "smaller", "no clear change"),  # under 3 deg: within what 2-D video can tell
    (70.0, 90.0, "larger", "better"),  # deeper squat
    (2.0, 1.0, "fewer", "better"),  # fewer faulty reps: any change counts
    (1.0, 1.0, "fewer", ""),
    (3.0, 5.0, None, ""),  # rep count: no direction
    (None, 5.0, "smaller", ""),  # not measured in A
])
def test_what_a_change_means(a, b, better, meaning):
    from glutecam.compare import Row

    assert Row("x", a, b, better).meaning == meaning
