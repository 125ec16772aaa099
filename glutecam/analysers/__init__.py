"""Exercise analysers, keyed by the CLI's exercise names.

>>> sorted(ANALYSERS)
['side-lying-abduction', 'single-leg-rdl', 'split-squat']
>>> get_analyser("split-squat").name
'split-squat'
"""

from __future__ import annotations

from glutecam.analysers.base import Analyser, Analysis
from glutecam.analysers.live import LiveAnalyser, LiveState
from glutecam.analysers.side_lying_abduction import SideLyingAbduction
from glutecam.analysers.single_leg_rdl import SingleLegRDL
from glutecam.analysers.split_squat import SplitSquat
from glutecam.config import Config
from glutecam.metrics.pelvis import PelvisEstimator, estimate_pelvis

ANALYSERS: dict[str, type[Analyser]] = {cls.name: cls for cls in (SideLyingAbduction, SingleLegRDL, SplitSquat)}


def get_analyser(name: str, config: Config | None = None,
                 pelvis_estimator: PelvisEstimator = estimate_pelvis) -> Analyser:
    """The analyser for an exercise name (`ValueError` listing the valid names for anything else)."""
    try:
        cls = ANALYSERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown exercise {name!r}; choose one of: {', '.join(sorted(ANALYSERS))}") from None
    return cls(config=config, pelvis_estimator=pelvis_estimator)


__all__ = ["ANALYSERS", "Analyser", "Analysis", "LiveAnalyser", "LiveState", "get_analyser"]
