"""The live picture: each element lands where it should, in the colour that carries its meaning."""

import numpy as np
import pytest

from glutecam.feedback import Cue
from glutecam.live.hud import CUE_COLOURS, GOOD, BAD, Hud, LiveAnnotator


def blank():
    return np.full((480, 640, 3), 128, np.uint8)


def region_has(img, colour, y0, y1, x0=0, x1=None, tol=40, min_px=30):
    """At least `min_px` pixels within `tol` of `colour` (BGR) in the region."""
    roi = img[y0:y1, x0:x1].astype(int)
    close = (np.abs(roi - np.array(colour)) <= tol).all(axis=2)
    return int(close.sum()) >= min_px


@pytest.mark.parametrize("severity", ["praise", "minor", "major"])
def test_the_cue_is_a_coloured_box_at_the_bottom(severity):
    cue = Cue("pelvic_drop", "Keep your left hip up", severity, 100, 0.0)
    img = LiveAnnotator().annotate(blank(), None, Hud(time_s=1.0, stage="counting", cue=cue))
    colour = CUE_COLOURS[severity]
    assert region_has(img, colour, 380, 470, tol=30, min_px=500)
    assert not region_has(img, colour, 0, 300, tol=30, min_px=50)


def test_setup_instruction_is_in_the_middle_and_paused_hides_the_cue():
    cue = Cue("pelvic_drop", "Keep your left hip up", "major", 100, 0.0)
    img = LiveAnnotator().annotate(blank(), None, Hud(time_s=1.0, instruction="Step back", progress=0.5))
    assert img[150:260].std() > 10  # something drawn around the middle
    paused = LiveAnnotator().annotate(blank(), None, Hud(time_s=1.0, paused=True, cue=cue))
    assert not region_has(paused, CUE_COLOURS["major"], 380, 470, tol=30, min_px=50)


def test_a_view_limit_note_is_shown_small_under_the_instruction():
    hud = dict(time_s=1.0, stage="calibrating", instruction="Hold still in your start position")
    plain = LiveAnnotator().annotate(blank(), None, Hud(**hud))
    noted = LiveAnnotator().annotate(blank(), None, Hud(**hud, note="Your hips are checked in the upper half"))
    changed = np.abs(noted.astype(int) - plain.astype(int)).sum(axis=2) > 0
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.size and 200 < rows.min() and rows.max() < 300  # below the instruction, above the cue
    assert region_has(noted, (0, 220, 255), 200, 300, tol=30, min_px=50)


@pytest.mark.parametrize("level, colour, other", [(2.0, GOOD, BAD), (9.0, BAD, GOOD)])
def test_the_level_gauge_turns_red_beyond_the_limit(level, colour, other):
    img = LiveAnnotator().annotate(blank(), None, Hud(time_s=1.0, level_deg=level, level_limit_deg=5.0))
    top = slice(0, 70)
    assert region_has(img, colour, top.start, top.stop, 200, 440, tol=25)
    assert not region_has(img, other, top.start, top.stop, 200, 440, tol=25)


def test_the_bubble_moves_with_the_angle():
    def bubble_x(level):
        img = LiveAnnotator().annotate(blank(), None, Hud(time_s=1.0, level_deg=level, level_limit_deg=20.0))
        roi = img[20:60, 150:490].astype(int)
        ys, xs = np.nonzero((np.abs(roi - np.array(GOOD)) <= 25).all(axis=2))
        return xs.mean()

    assert bubble_x(-8.0) < bubble_x(0.0) < bubble_x(8.0)


def test_rep_counter_and_verdict_are_top_right_and_debug_lines_only_when_asked():
    hud = Hud(time_s=3.0, stage="counting", rep_count=3, last_rep="Rep 3: pelvic drop 8 deg", last_rep_good=False,
              debug=["capture->display 40 ms"])
    plain = LiveAnnotator().annotate(blank(), None, hud, debug=False)
    with_debug = LiveAnnotator().annotate(blank(), None, hud, debug=True)
    assert region_has(plain, BAD, 0, 120, 400, 640, tol=30)  # the red verdict
    assert region_has(plain, (255, 255, 255), 0, 80, 540, 640, tol=10, min_px=100)  # the big white count
    assert (plain != with_debug).any() and region_has(with_debug, (0, 255, 255), 40, 120, 0, 300, tol=60, min_px=15)
