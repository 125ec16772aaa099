"""Helpers for the exercise tests: a clip with one fault per rep, 3 deg beyond and 3 deg inside each
threshold, analysed once; and a check that each rep got exactly the verdict its fault deserves."""

from __future__ import annotations

from dataclasses import dataclass

from glutecam.analysers import Analysis, get_analyser
from glutecam.results import RepResult


@dataclass(frozen=True)
class FaultCase:
    """`code` must fire when the clip's `key` is `beyond` and stay silent at `inside`."""

    code: str
    key: str
    beyond: float
    inside: float


def codes(rep: RepResult) -> set[str]:
    return {f.code for f in rep.faults}


def fault_schedule(cases: list[FaultCase]) -> list[dict[str, float]]:
    """Per-rep faults: a clean rep, then for each case a rep beyond and a rep inside the threshold."""
    reps: list[dict[str, float]] = [{}]
    for c in cases:
        reps += [{c.key: c.beyond}, {c.key: c.inside}]
    return reps


def analyse_schedule(generator, cases: list[FaultCase], **kwargs) -> tuple[object, Analysis]:
    faults = fault_schedule(cases)
    clip = generator(n_reps=len(faults), faults=faults, **kwargs)
    return clip, get_analyser(clip.exercise).analyse(clip.track)


def check_case(result: Analysis, cases: list[FaultCase], i: int) -> None:
    """Rep 1 is clean; case i's beyond rep has its code, its inside rep does not."""
    reps = result.set.reps
    assert len(reps) == 2 * len(cases) + 1
    case = cases[i]
    beyond, inside = reps[1 + 2 * i], reps[2 + 2 * i]
    assert case.code in codes(beyond), (case, beyond.faults)
    assert case.code not in codes(inside), (case, inside.faults)
    assert codes(reps[0]) == set()
