"""glutecam.accuracy: what validation found, per exercise and view, as the report and the terminal say it."""

import json

from glutecam.accuracy import _TABLE, accuracy_line, accuracy_text, view_accuracy
from glutecam.analysers import ANALYSERS
from glutecam.report import write_report
from glutecam.view import VIEWS
from tests.runs import make_run


def test_every_entry_names_a_real_exercise_and_a_view_glutecam_reports():
    example = {"front": "front", "back": "back", "side": "left_side", "lying": "lying_left", "oblique": "oblique"}
    assert set(example.values()) <= set(VIEWS)
    for (exercise, kind), acc in _TABLE.items():
        assert exercise in ANALYSERS and kind in example
        assert view_accuracy(exercise, example[kind]) is acc


def test_views_of_one_kind_read_alike_and_unvalidated_views_say_so():
    assert view_accuracy("split-squat", "left_side") == view_accuracy("split-squat", "right_side")
    assert view_accuracy("side-lying-abduction", "lying_left") == view_accuracy("side-lying-abduction", "lying_right")
    for exercise, view in (("split-squat", "oblique"), ("single-leg-rdl", "oblique"), ("split-squat", None),
                           ("side-lying-abduction", "front")):
        assert view_accuracy(exercise, view) is None
        assert "not validated" in accuracy_text(exercise, view) and "not validated" in accuracy_line(exercise, view)
    front = accuracy_text("split-squat", "front")
    assert "about 8°" in front and "5–6° may be a clean rep" in front
    assert "out of the image plane" in accuracy_line("single-leg-rdl", "right_side")


def test_the_report_says_how_far_to_trust_the_pelvic_numbers(tmp_path):
    run = make_run(tmp_path / "run")  # a split squat seen from the front
    html = write_report(run).read_text()
    assert "How far to trust the pelvic numbers" in html and "smallest fault seen reliably: about 8°" in html
    summary = json.loads((run / "summary.json").read_text())
    for view, expected in (("oblique", "were not validated"), ("back", "not known")):
        (run / "reps.json").write_text(json.dumps({**json.loads((run / "reps.json").read_text()), "view": view}))
        summary["set"]["view"] = view
        (run / "summary.json").write_text(json.dumps(summary))
        assert expected in write_report(run).read_text().split('id="accuracy"')[1]
    (run / "reps.json").unlink()  # no exercise: no such section
    assert 'id="accuracy"' not in write_report(run).read_text()
