"""How far each exercise's pelvic measure can be trusted from each camera view: what validation against
rendered ground truth found (`docs/accuracy.md`, `benchmarks/validate.py`), said to the person reading a
report. Data only; the numbers are degrees of pelvic drop (side-lying: hike) held for 0.2 s per rep, over
nine rendered clips and up to eight camera changes of each, with the default `full` pose model.
"""

from __future__ import annotations

from dataclasses import dataclass

from glutecam.view import LYING, SIDE


@dataclass(frozen=True)
class ViewAccuracy:
    """What validation found for one exercise's pelvic measure seen from one kind of view.

    `smallest_reliable`: the smallest fault told apart from clean reps on every rendering, or why there is
    none; `found`: what clean and faulty reps read (None: nothing to validate); `advice`: what to do about it.
    """

    measure: str
    smallest_reliable: str
    found: str | None
    advice: str


_NOT_VALIDATED = "no rendered clip with ground truth checks this view"
#: How the text names each kind of view.
_FROM = {"front": "the front", "back": "behind", "side": "the side", "lying": "the front, lying",
         "oblique": "an oblique camera"}

# (exercise, kind of view) -> what was found. Kinds: front, back, side, lying, oblique.
_TABLE: dict[tuple[str, str], ViewAccuracy] = {
    ("split-squat", "front"): ViewAccuracy(
        "pelvic drop", "about 8°",
        "clean reps read 3–5° at the bottom (up to 6° when the person is small in the picture: the pose model's "
        "hip point rises as the front thigh turns towards the camera); an 8° drop read 6.5–10°",
        "a drop flagged at 5–6° may be a clean rep: judge the set on several reps, and film from the front with "
        "more than 180 px from shoulders to ankles"),
    ("split-squat", "back"): ViewAccuracy(
        "pelvic drop", f"not known ({_NOT_VALIDATED} with a drop)", "clean reps read 0.6–3.6°",
        "the front view is the validated one for the drop"),
    ("split-squat", "side"): ViewAccuracy(
        "pelvic drop", "none (the drop is out of the image plane)", None,
        "film from the front for the drop; the side view judges depth and trunk lean"),
    ("side-lying-abduction", "lying"): ViewAccuracy(
        "hip hike", "about 8°",
        "clean reps read a false hike of 0.6–3.8° at the top (it depends on the body, clothing and camera); an "
        "8° hike read 7.2–8.9°",
        "hip flexion (the leg drifting forward) and the pelvis rolling back are along the line of sight here "
        "and are not measured"),
    ("single-leg-rdl", "front"): ViewAccuracy(
        "pelvic drop", "none past a ~40° hinge (the trunk hides the pelvis)",
        "clean reps read −3.2–0.5° in the upper hinge; no drop was validated",
        "the drop is judged in the upper part of each hinge only"),
    ("single-leg-rdl", "back"): ViewAccuracy(
        "pelvic drop", "none past a 45° hinge (the pose model loses the pelvis)",
        "an 8° drop at the bottom of the hinge was not measured; reps were counted on every rendering",
        "the drop, trunk lean and knee angle are judged in the upper half of each hinge only"),
    ("single-leg-rdl", "side"): ViewAccuracy(
        "pelvic drop", "none (the drop is out of the image plane)", None,
        "film from behind"),
}


def view_kind(view: str | None) -> str | None:
    """front, back, side, lying or oblique (None when no view is known)."""
    if not view or view == "none":
        return None
    return "side" if view in SIDE else "lying" if view in LYING else view


def view_accuracy(exercise: str | None, view: str | None) -> ViewAccuracy | None:
    """What validation found for `exercise` seen from `view` (a `glutecam.view` name), or None when nothing
    was validated there (the measure may still be reported, or be "not measured" with its reason)."""
    return _TABLE.get((exercise or "", view_kind(view) or ""))


def accuracy_text(exercise: str | None, view: str | None) -> str:
    """One paragraph for a report or a summary: the validated accuracy, or that there is none."""
    acc = view_accuracy(exercise, view)
    if acc is None:
        kind = view_kind(view)
        where = f"{exercise} seen from {_FROM.get(kind, kind)}" if exercise and kind else "this clip"
        return (f"The pelvic measures of {where} were not validated against ground truth ({_NOT_VALIDATED}); "
                "read their values with caution.")
    found = f" Validation on rendered clips: {acc.found}." if acc.found else ""
    return (f"{_cap(acc.measure)} from this view: smallest fault seen reliably: {acc.smallest_reliable}.{found} "
            f"{_cap(acc.advice)}.")


def accuracy_line(exercise: str | None, view: str | None) -> str:
    """The same in one line, for a terminal."""
    acc, kind = view_accuracy(exercise, view), view_kind(view)
    where = _FROM.get(kind or "", kind or "this view")
    if acc is None:
        return f"accuracy: the pelvic measures from {where} were not validated"
    return f"accuracy: {acc.measure} from {where}: smallest fault seen reliably: {acc.smallest_reliable}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
