"""Thresholds and filter settings: `defaults.toml` (each number with its source), a user file merged on top.

>>> cfg = load_config(None)
>>> cfg.exercise("split-squat").faults["pelvic_drop"].threshold
5.0
>>> cfg.filters.butterworth_cutoff_hz
6.0
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from glutecam.results import FAULT_CODES

#: Fault codes judged on a value falling *below* the threshold (the rest fire above it).
LOWER_IS_WORSE = frozenset({"short_range", "rushed"})


class ConfigError(ValueError):
    """A configuration file that cannot be read, or a key or value glutecam does not accept."""


@dataclass(frozen=True)
class FilterConfig:
    butterworth_cutoff_hz: float
    butterworth_order: int
    max_gap_s: float
    min_visibility: float
    max_jump: float
    collapse_ratio: float
    one_euro_min_cutoff_hz: float
    one_euro_beta_px: float
    one_euro_beta_m: float
    one_euro_d_cutoff_hz: float


@dataclass(frozen=True)
class ViewConfig:
    frontal_max_deg: float
    side_min_deg: float
    smooth_s: float


@dataclass(frozen=True)
class BaselineConfig:
    window_s: float
    still_max_speed: float
    min_frames: int


@dataclass(frozen=True)
class JudgeConfig:
    min_hold_s: float
    set_fault_fraction: float


@dataclass(frozen=True)
class FaultThreshold:
    """When a fault fires: beyond `threshold` (minor), beyond `major` (major); `relative`: also when the
    value exceeds its own baseline by this much (e.g. FPPA 5 deg beyond the person's neutral)."""

    threshold: float
    major: float
    relative: float | None = None
    enabled: bool = True

    def effective_threshold(self, baseline: float | None = None) -> float:
        """The threshold in force given the person's baseline value (NaN/None = no baseline).

        >>> FaultThreshold(10.0, 15.0, relative=5.0).effective_threshold(2.0)
        7.0
        >>> FaultThreshold(10.0, 15.0, relative=5.0).effective_threshold(None)
        10.0
        """
        if self.relative is None or baseline is None or baseline != baseline:
            return self.threshold
        return min(self.threshold, baseline + self.relative)


@dataclass(frozen=True)
class ExerciseConfig:
    name: str
    enter_deg: float
    exit_deg: float
    min_rep_s: float
    phase_hysteresis_deg: float
    faults: Mapping[str, FaultThreshold]
    max_gap_s: float = 0.5
    rest_window_s: float | None = None
    pelvis_hidden_hinge_deg: float | None = None


@dataclass(frozen=True)
class Config:
    filters: FilterConfig
    view: ViewConfig
    baseline: BaselineConfig
    judge: JudgeConfig
    exercises: Mapping[str, ExerciseConfig]
    source: str = "defaults"

    def exercise(self, name: str) -> ExerciseConfig:
        try:
            return self.exercises[name]
        except KeyError:
            raise ConfigError(f"no settings for exercise {name!r}; known: {', '.join(self.exercises)}") from None


_SECTIONS = {"filters": FilterConfig, "view": ViewConfig, "baseline": BaselineConfig, "judge": JudgeConfig}
_EXERCISE_KEYS = {f.name for f in fields(ExerciseConfig)} - {"name", "faults"}
_FAULT_KEYS = {f.name for f in fields(FaultThreshold)}
#: Filter cut-offs, which must be above 0: scipy's `butter` fails mid-analysis on 0, and a One Euro filter
#: with a 0 cut-off never moves from its first sample.
_CUTOFFS = ("butterworth_cutoff_hz", "one_euro_min_cutoff_hz", "one_euro_d_cutoff_hz")


def _read_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None


def default_toml() -> str:
    """Text of the packaged `defaults.toml`."""
    return resources.files("glutecam").joinpath("defaults.toml").read_text(encoding="utf-8")


def _merge(base: dict[str, Any], over: dict[str, Any], where: str, path: str = "") -> dict[str, Any]:
    """`over` on top of `base`; every key of `over` must exist in `base` (typos are errors)."""
    out = dict(base)
    for key, value in over.items():
        here = f"{path}.{key}" if path else key
        if key not in base:
            known = ", ".join(sorted(base)) or "(none)"
            raise ConfigError(f"{where}: unknown key [{here}]; known keys here: {known}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{here}] must be a table")
            out[key] = _merge(base[key], value, where, here)
        else:
            out[key] = value
    return out


def _number(value: Any, where: str, key: str, kind: type = float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: [{key}] must be a number, got {value!r}")
    if not math.isfinite(value):  # TOML allows nan and inf; no threshold or setting means them
        raise ConfigError(f"{where}: [{key}] must be a finite number, got {value!r}")
    if kind is int:
        if float(value) != int(value):
            raise ConfigError(f"{where}: [{key}] must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def _build_section(cls: type, table: dict[str, Any], where: str, section: str) -> Any:
    kwargs = {}
    for f in fields(cls):
        if f.name not in table:
            raise ConfigError(f"{where}: missing key [{section}.{f.name}]")
        kind = int if f.type in ("int", int) else float
        kwargs[f.name] = _number(table[f.name], where, f"{section}.{f.name}", kind)
        if kwargs[f.name] < 0:
            raise ConfigError(f"{where}: [{section}.{f.name}] must not be negative")
    return cls(**kwargs)


def _build_fault(code: str, table: Any, where: str, key: str) -> FaultThreshold:
    if code not in FAULT_CODES:
        raise ConfigError(f"{where}: [{key}] is not a fault code; known: {', '.join(FAULT_CODES)}")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{key}] must be a table like {{ threshold = 5.0, major = 10.0 }}")
    extra = set(table) - _FAULT_KEYS
    if extra:
        raise ConfigError(f"{where}: [{key}] has unknown keys {sorted(extra)}; known: {sorted(_FAULT_KEYS)}")
    try:
        threshold = _number(table["threshold"], where, f"{key}.threshold")
        major = _number(table["major"], where, f"{key}.major")
    except KeyError as exc:
        raise ConfigError(f"{where}: [{key}] needs {exc.args[0]!r}") from None
    relative = table.get("relative")
    relative = None if relative is None else _number(relative, where, f"{key}.relative")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: [{key}.enabled] must be true or false")
    lower = code in LOWER_IS_WORSE
    if (major > threshold) if lower else (major < threshold):
        side = "below" if lower else "beyond"
        raise ConfigError(f"{where}: [{key}] major ({major}) must lie {side} threshold ({threshold})")
    return FaultThreshold(threshold=threshold, major=major, relative=relative, enabled=enabled)


def _build_exercise(name: str, table: dict[str, Any], where: str) -> ExerciseConfig:
    kwargs: dict[str, Any] = {}
    for key in _EXERCISE_KEYS:
        if key in table:
            kwargs[key] = _number(table[key], where, f"{name}.{key}")
            if key.endswith("_s") and kwargs[key] < 0:  # a duration: min_rep_s, rest_window_s, max_gap_s
                raise ConfigError(f"{where}: [{name}.{key}] must not be negative")
    faults = {code: _build_fault(code, t, where, f"{name}.faults.{code}")
              for code, t in table.get("faults", {}).items()}
    cfg = ExerciseConfig(name=name, faults=MappingProxyType(faults), **kwargs)
    if not cfg.exit_deg < cfg.enter_deg:
        raise ConfigError(f"{where}: [{name}] exit_deg ({cfg.exit_deg}) must be below enter_deg ({cfg.enter_deg})")
    return cfg


def build_config(table: dict[str, Any], where: str = "defaults") -> Config:
    """A `Config` from a parsed (already merged) TOML table."""
    sections = {name: _build_section(cls, table.get(name, {}), where, name) for name, cls in _SECTIONS.items()}
    exercises = {name: _build_exercise(name, t, where) for name, t in table.items() if name not in _SECTIONS}
    if not sections["view"].frontal_max_deg < sections["view"].side_min_deg <= 90:
        raise ConfigError(f"{where}: [view] needs frontal_max_deg < side_min_deg <= 90")
    if sections["filters"].min_visibility > 1:
        raise ConfigError(f"{where}: [filters.min_visibility] must lie in 0..1")
    for key in _CUTOFFS:
        if not getattr(sections["filters"], key) > 0:
            raise ConfigError(f"{where}: [filters.{key}] must be above 0")
    return Config(exercises=MappingProxyType(exercises), source=where, **sections)


def _with_optional_keys(defaults: dict[str, Any]) -> dict[str, Any]:
    """Every fault table gets its optional keys, so a user file may set them where the defaults do not."""
    for name, table in defaults.items():
        if name in _SECTIONS:
            continue
        for fault in table.get("faults", {}).values():
            fault.setdefault("relative", None)
            fault.setdefault("enabled", True)
    return defaults


def load_config(path: str | Path | None = None) -> Config:
    """The defaults, with the user file at `path` (if any) merged on top. Raises `ConfigError`."""
    defaults = _with_optional_keys(_read_toml(default_toml(), "defaults.toml"))
    if path is None:
        return build_config(defaults, "defaults")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config file is not UTF-8 text") from None
    merged = _merge(defaults, _read_toml(text, str(path)), str(path))
    return build_config(merged, str(path))
