"""Typed results of an analysis: faults, reps, the set, and why a metric could not be measured.

These are the public contract behind `reps.json` (see README, "Outputs"). Times are seconds from the
start of the clip; angles are degrees.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Side = Literal["left", "right"]
Severity = Literal["minor", "major"]
Verdict = Literal["good", "fault", "unmeasured"]

#: The exercises, by the names the command line takes; each has an analyser in `glutecam.analysers.ANALYSERS`
#: (tests/test_cli.py checks both agree). Listed here so that the CLI starts without importing the analysers.
EXERCISES = ("side-lying-abduction", "single-leg-rdl", "split-squat")

#: Stable fault codes; never rename one (reports and histories refer to them).
FAULT_CODES = (
    "pelvic_drop",
    "pelvic_rotation",
    "hip_hike",
    "trunk_lean",
    "knee_valgus",
    "hip_flexion",
    "pelvis_roll_back",
    "knee_bend",
    "short_range",
    "rushed",
    "back_rounding",
)


@dataclass(frozen=True)
class Fault:
    """One fault in one rep: `value` crossed `threshold` (same unit), worst at `at_s`."""

    code: str
    severity: Severity
    value: float
    threshold: float
    at_s: float
    message: str = ""

    def __post_init__(self) -> None:
        if self.code not in FAULT_CODES:
            raise ValueError(f"unknown fault code {self.code!r}")


@dataclass(frozen=True)
class NotMeasured:
    """A metric left empty (NaN), over which time span, and why."""

    metric: str
    reason: str
    start_s: float | None = None
    end_s: float | None = None


@dataclass
class RepResult:
    """One repetition. `measures` holds the exercise's own numbers, keyed `<name>_<unit>`."""

    index: int  # 1-based
    start_s: float
    end_s: float
    peak_s: float  # bottom of the squat / hinge, top of the abduction
    side: Side  # working side
    peak_pelvic_drop_deg: float | None
    mean_pelvic_drop_deg: float | None
    peak_pelvic_rotation_deg: float | None
    measures: dict[str, float | None] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    verdict: Verdict = "good"
    not_measured: list[NotMeasured] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class SetResult:
    """A whole set: its reps, the camera view, and a summary verdict judged on several reps."""

    exercise: str
    side: Side | None
    side_source: Literal["auto", "user"]
    view: str
    reps: list[RepResult]
    summary: dict[str, Any] = field(default_factory=dict)
    not_measured: list[NotMeasured] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for rep, rd in zip(self.reps, d["reps"]):
            rd["duration_s"] = rep.duration_s
        return d
