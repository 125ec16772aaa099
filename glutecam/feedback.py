"""The feedback layer: the analysers' live state in, at most one plain, steady cue out, frame by frame.

Each exercise has a table of `CueRule`s. A rule watches one live metric (e.g. `pelvic_drop_deg`) and the
analyser's own fault reports for one fault code, and turns them into a `Cue` ("Keep your left hip up")
with a priority and a severity. Three things keep the cue from flickering on noisy frames:

- **confirmation**: the metric must stay beyond the rule's `on` threshold (or the analyser must keep
  reporting the fault) for `confirm_frames` frames spanning at least `confirm_s` before the rule fires;
- **hysteresis**: once fired, the rule holds until the metric has stayed inside its `off` threshold
  (below `on`) for `release_s`;
- **minimum hold**: a cue, once shown, stays at least `min_hold_s`, unless a cue of a more urgent class
  (a fault over praise, a major fault over a minor one) takes its place.

Good reps earn praise; reps judged short or rushed earn a cue after the rep. Times come from the frames
(`state.time_s`), so replaying a clip fast or dropping frames does not change what is said.

>>> from types import SimpleNamespace as S
>>> fb = FeedbackEngine("split-squat", side="right")
>>> out = [fb.update(S(time_s=i / 30, metrics={"pelvic_drop_deg": 8.0}, active_faults=[], completed_rep=None))
...        for i in range(4)]
>>> [o.cue.text if o.cue else None for o in out]
[None, None, 'Keep your left hip up', 'Keep your left hip up']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

CueSeverity = Literal["praise", "info", "minor", "major"]

#: How urgent a class of cue is; a cue of a higher class may replace one still within its hold time.
_CLASS = {"praise": 0, "info": 1, "minor": 2, "major": 3}


@dataclass(frozen=True)
class Cue:
    """One message for the person exercising."""

    code: str  # the fault code it coaches ("pelvic_drop"), or "praise" / "rep_<fault>" / "unmeasured"
    text: str  # plain words, e.g. "Keep your left hip up"
    severity: CueSeverity
    priority: int  # higher wins within a severity
    since_s: float  # when it was first shown, s (the frames' clock)


@dataclass(frozen=True)
class CueRule:
    """A fault code, the live metric that shows it, its default thresholds and its wording.

    `direction`: +1 when larger values are worse, -1 when smaller values are worse (a hike is a negative
    drop), 0 when either sign is (lateral lean). `on`/`major` are the defaults, overridden by the
    thresholds passed to `FeedbackEngine` (the analysers' config). `text` may name `{free}` (the free
    leg's side: the rear leg, the lifted leg, the top leg) and `{working}`; `text_no_side` is said when the
    side is not known yet. `metric` None: the rule only follows the analyser's fault reports.
    """

    code: str
    metric: str | None
    direction: int
    priority: int
    text: str
    text_no_side: str = ""
    on: float = 5.0
    major: float = 10.0

    def wording(self, free: str | None, working: str | None) -> str:
        if ("{free}" in self.text and not free) or ("{working}" in self.text and not working):
            return self.text_no_side or self.text.replace("{free} ", "").replace("{working} ", "")
        return self.text.format(free=free, working=working)


def _r(code, metric, direction, priority, text, text_no_side="", on=5.0, major=10.0) -> CueRule:
    return CueRule(code, metric, direction, priority, text, text_no_side, on, major)


#: Per exercise, the rules in the order they are checked (priority decides between active ones).
RULES: dict[str, tuple[CueRule, ...]] = {
    "split-squat": (
        _r("pelvic_drop", "pelvic_drop_deg", +1, 100, "Keep your {free} hip up", "Keep your hips level"),
        _r("hip_hike", "pelvic_drop_deg", -1, 90, "Let your {free} hip down: keep your hips level",
           "Keep your hips level"),
        _r("pelvic_rotation", "pelvis_rotation_deg", 0, 80, "Keep your hips square to the front"),
        _r("knee_valgus", "fppa_deg", +1, 70, "Push your {working} knee out over your toes",
           "Push your front knee out over your toes", on=10.0, major=15.0),
        _r("trunk_lean", "trunk_lean_deg", 0, 60, "Stay tall: don't lean to the side", on=10.0, major=15.0),
    ),
    "single-leg-rdl": (
        _r("pelvic_drop", "pelvic_drop_deg", +1, 100, "Keep your {free} hip up", "Keep your hips level"),
        _r("pelvic_rotation", "pelvis_rotation_deg", 0, 95, "Keep your hips square to the floor: don't open up"),
        _r("hip_hike", "pelvic_drop_deg", -1, 85, "Keep your hips level: don't hike your {free} hip",
           "Keep your hips level"),
        _r("knee_valgus", "fppa_deg", +1, 70, "Keep your {working} knee over your toes",
           "Keep your standing knee over your toes", on=10.0, major=15.0),
        _r("back_rounding", None, +1, 65, "Keep your back flat"),
        _r("trunk_lean", "trunk_lean_deg", 0, 60, "Keep your chest square: don't lean to the side",
           on=10.0, major=15.0),
        _r("knee_bend", None, +1, 50, "Soft knee: hinge at the hip, don't squat"),
    ),
    "side-lying-abduction": (
        _r("hip_flexion", "hip_flexion_deg", +1, 100, "Take the leg back before lifting", on=10.0, major=20.0),
        _r("hip_hike", "pelvic_drop_deg", -1, 95, "Keep your top hip down, away from your ribs"),
        _r("pelvis_roll_back", "pelvis_rotation_deg", +1, 90, "Keep your hips stacked: don't roll back"),
        _r("pelvic_drop", "pelvic_drop_deg", +1, 70, "Keep your top hip still: don't let it sink"),
        _r("knee_bend", "knee_flexion_deg", +1, 60, "Keep your top leg straight", on=20.0, major=35.0),
    ),
}
#: Without an exercise (e.g. a benchmark), the standing rules with side-free wording.
RULES[""] = RULES["split-squat"]

#: Said after a rep the analyser judged on the whole rep (range, tempo).
REP_CUES: dict[str, dict[str, str]] = {
    "short_range": {"split-squat": "Go a little deeper next rep", "single-leg-rdl": "Hinge a little further next rep",
                    "side-lying-abduction": "Lift a little higher next rep", "": "A little more range next rep"},
    "rushed": {"": "Slow down: about two seconds each way"},
}
PRAISE: dict[str, tuple[str, ...]] = {
    "": ("Good rep: hips level", "Nice and steady", "Great control"),
    "side-lying-abduction": ("Good rep: hips still", "Nice and steady", "Great control"),
}


def free_side(exercise: str | None, working: str | None) -> str | None:
    """The free leg's side: the rear leg (split squat), the lifted leg (RDL), the top leg (side-lying).

    >>> free_side("split-squat", "right"), free_side("side-lying-abduction", "left")
    ('left', 'left')
    """
    if working not in ("left", "right"):
        return None
    if exercise == "side-lying-abduction":
        return working
    return "left" if working == "right" else "right"


@dataclass(frozen=True)
class FeedbackTiming:
    """How quickly cues come and go (seconds of the frames' clock)."""

    confirm_s: float = 0.06  # a metric beyond `on` this long (and `confirm_frames` frames) fires its rule
    confirm_frames: int = 2  # ... so a single noisy frame never does
    release_s: float = 0.3  # inside `off` this long releases a fired rule
    min_hold_s: float = 1.0  # a shown cue stays at least this long (unless something more urgent comes)
    praise_s: float = 1.5  # praise after a good rep is offered this long
    rep_cue_s: float = 2.5  # a cue about the finished rep (range, tempo) is offered this long
    hysteresis_frac: float = 0.3  # off = on - max(hysteresis_min, hysteresis_frac * on)
    hysteresis_min: float = 1.5


@dataclass
class _RuleState:
    rule: CueRule
    on: float
    off: float
    major: float
    active: bool = False
    since: float | None = None  # first frame of the current run beyond `on`
    count: int = 0  # frames in that run
    clear_since: float | None = None  # first frame of the current run inside `off` while active
    severity: CueSeverity = "minor"
    value: float = math.nan


@dataclass(frozen=True)
class Feedback:
    """What the feedback layer says on one frame."""

    cue: Cue | None  # the one cue to show (None: nothing to say)
    changed: bool  # the cue appeared, changed or cleared on this frame
    active: tuple[str, ...] = ()  # fault codes whose rules are firing now (shown or not)


@dataclass
class _Transient:
    cue: Cue
    until: float


class FeedbackEngine:
    """Turns `LiveState`s (see `glutecam.analysers`) into one cue at a time; call `update` once per frame.

    `exercise` picks the rules and wording; `side` (the working side) lets cues name a hip ("Keep your left
    hip up"); it is also learnt from `state.side` or the first finished rep when not given. `thresholds`
    maps fault codes to `(threshold, major)` (the analysers' config), replacing the rules' defaults, or to
    None for a fault switched off. `fault_rules` (an analyser's `rules`) make each cue read its metric
    exactly as the analyser judges it (see `rules_like_analyser`).
    """

    def __init__(self, exercise: str | None = None, side: str | None = None,
                 thresholds: Mapping[str, tuple[float, float] | None] | None = None,
                 timing: FeedbackTiming | None = None, fault_rules: Iterable[Any] | None = None) -> None:
        self.exercise = exercise or ""
        if self.exercise not in RULES:
            raise ValueError(f"no feedback rules for exercise {exercise!r}; known: {', '.join(k for k in RULES if k)}")
        self.timing = timing or FeedbackTiming()
        self.side = side
        self._side_from_user = side is not None
        thresholds = thresholds or {}
        self._rules: list[_RuleState] = []
        rules = RULES[self.exercise]
        if fault_rules is not None:
            rules = rules_like_analyser(rules, fault_rules)
        for rule in rules:
            if rule.code in thresholds and thresholds[rule.code] is None:
                continue  # disabled in the config
            on, major = thresholds.get(rule.code) or (rule.on, rule.major)
            off = on - max(self.timing.hysteresis_min, self.timing.hysteresis_frac * on)
            self._rules.append(_RuleState(rule, float(on), float(off), float(major)))
        self._shown: Cue | None = None
        self._transient: _Transient | None = None
        self._reps = 0

    # -- side ---------------------------------------------------------------------------------------
    def set_side(self, side: str | None) -> None:
        """The working side, once known (a side the user gave is never replaced)."""
        if side in ("left", "right") and not self._side_from_user:
            self.side = side

    @property
    def free(self) -> str | None:
        return free_side(self.exercise, self.side)

    # -- per frame ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every rule's state and the shown cue (after a pause or a recalibration)."""
        for rs in self._rules:
            rs.active, rs.since, rs.count, rs.clear_since = False, None, 0, None
        self._shown, self._transient = None, None

    def update(self, state: Any, coaching: bool = True) -> Feedback:
        """One frame. `coaching` False (set-up, calibration, pause): no cue, and the rules start afresh."""
        t = float(state.time_s)
        if not coaching:
            changed = self._shown is not None
            self.reset()
            return Feedback(None, changed)
        side = getattr(state, "side", None)
        if side:
            self.set_side(side)
        rep = getattr(state, "completed_rep", None)
        if rep is not None:
            self._on_rep(rep, t)
        self._step_rules(state, t)
        return self._choose(t)

    def _step_rules(self, state: Any, t: float) -> None:
        metrics = getattr(state, "metrics", None) or {}
        reported: dict[str, Any] = {}
        for f in getattr(state, "active_faults", None) or ():
            reported[f.code] = f
        timing = self.timing
        for rs in self._rules:
            rule = rs.rule
            v = math.nan
            if rule.metric is not None:
                raw = metrics.get(rule.metric, math.nan)
                if raw is not None and raw == raw:
                    v = abs(raw) if rule.direction == 0 else raw * rule.direction
            fault = reported.get(rule.code)
            rs.value = v
            if not rs.active:
                if fault is not None or v >= rs.on:  # NaN compares False
                    if rs.since is None:
                        rs.since, rs.count = t, 0
                    rs.count += 1
                    rs.active = rs.count >= timing.confirm_frames and t - rs.since >= timing.confirm_s - 1e-9
                else:
                    rs.since, rs.count = None, 0
                if rs.active:
                    rs.clear_since = None
                    rs.severity = "minor"
            else:
                if fault is not None or v >= rs.off:
                    rs.clear_since = None
                else:
                    if rs.clear_since is None:
                        rs.clear_since = t
                    if t - rs.clear_since >= timing.release_s - 1e-9:
                        rs.active, rs.since, rs.count, rs.clear_since = False, None, 0, None
                        continue
            if rs.active and rs.severity != "major":
                if v >= rs.major or (fault is not None and getattr(fault, "severity", "") == "major"):
                    rs.severity = "major"  # escalates within one firing, never drops back (no flicker)

    def _on_rep(self, rep: Any, t: float) -> None:
        self._reps += 1
        self.set_side(getattr(rep, "side", None))
        verdict = getattr(rep, "verdict", "good")
        codes = [f.code for f in getattr(rep, "faults", None) or ()]
        timing = self.timing
        if verdict == "good" and not codes:
            index = int(getattr(rep, "index", self._reps) or self._reps)
            praise = PRAISE.get(self.exercise) or PRAISE[""]
            cue = Cue("praise", praise[(index - 1) % len(praise)], "praise", 0, t)
            self._transient = _Transient(cue, t + timing.praise_s)
            return
        for code, texts in REP_CUES.items():
            if code in codes:
                text = texts.get(self.exercise) or texts[""]
                self._transient = _Transient(Cue(f"rep_{code}", text, "info", 20, t), t + timing.rep_cue_s)
                return
        if verdict == "unmeasured":
            cue = Cue("unmeasured", "I couldn't measure that rep: keep your whole body in view", "info", 10, t)
            self._transient = _Transient(cue, t + timing.rep_cue_s)

    def _candidates(self, t: float) -> tuple[Cue | None, tuple[str, ...]]:
        best: Cue | None = None
        best_key = (-1, -1)
        active = []
        free, working = self.free, self.side
        for rs in self._rules:
            if not rs.active:
                continue
            active.append(rs.rule.code)
            key = (_CLASS[rs.severity], rs.rule.priority)
            if key > best_key:
                best_key = key
                best = Cue(rs.rule.code, rs.rule.wording(free, working), rs.severity, rs.rule.priority, t)
        tr = self._transient
        if tr is not None:
            if t > tr.until:
                self._transient = None
            elif (_CLASS[tr.cue.severity], tr.cue.priority) > best_key:
                best = tr.cue
        return best, tuple(active)

    def _choose(self, t: float) -> Feedback:
        best, active = self._candidates(t)
        cur = self._shown
        if cur is not None and t - cur.since_s < self.timing.min_hold_s - 1e-9:
            if best is None or best.code == cur.code or _CLASS[best.severity] <= _CLASS[cur.severity]:
                if best is not None and best.code == cur.code and best.severity != cur.severity:
                    self._shown = Cue(cur.code, best.text, best.severity, cur.priority, cur.since_s)
                    return Feedback(self._shown, True, active)
                return Feedback(cur, False, active)
        if best is None:
            self._shown = None
            return Feedback(None, cur is not None, active)
        if cur is not None and best.code == cur.code:
            if best.severity != cur.severity or best.text != cur.text:
                self._shown = Cue(cur.code, best.text, best.severity, cur.priority, cur.since_s)
                return Feedback(self._shown, True, active)
            return Feedback(cur, False, active)
        self._shown = Cue(best.code, best.text, best.severity, best.priority, t)
        return Feedback(self._shown, True, active)


def rules_like_analyser(rules: Iterable[CueRule], fault_rules: Iterable[Any]) -> tuple[CueRule, ...]:
    """The cue rules for the faults an analyser judges per frame, reading the metric as it does.

    `fault_rules` are `glutecam.analysers.judge.FaultRule`s (code, column, kind, sign, both_ways,
    from_baseline). A fault read against a baseline the live state does not carry keeps no metric: its cue
    follows the analyser's reports alone. Faults judged on the whole rep (range, tempo) are said after the
    rep instead.
    """
    by_code = {fr.code: fr for fr in fault_rules if getattr(fr, "kind", "frame") == "frame"}
    out = []
    for rule in rules:
        fr = by_code.get(rule.code)
        if fr is None:
            continue
        if getattr(fr, "from_baseline", False):
            out.append(replace(rule, metric=None))
        else:
            direction = 0 if getattr(fr, "both_ways", False) else (1 if getattr(fr, "sign", 1.0) >= 0 else -1)
            out.append(replace(rule, metric=fr.column, direction=direction))
    return tuple(out)


def thresholds_from_config(config: Any, exercise: str) -> dict[str, tuple[float, float] | None]:
    """`{fault code: (threshold, major)}` from a `glutecam.config.Config`; None for a disabled fault."""
    faults = config.exercise(exercise).faults
    return {code: ((float(f.threshold), float(f.major)) if f.enabled else None) for code, f in faults.items()}


__all__ = ["Cue", "CueRule", "Feedback", "FeedbackEngine", "FeedbackTiming", "RULES", "free_side",
           "rules_like_analyser", "thresholds_from_config"]
