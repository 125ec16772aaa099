"""Config: packaged defaults with a source for every number, a user file merged on top, clear errors."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from glutecam.config import ConfigError, FaultThreshold, default_toml, load_config
from glutecam.results import FAULT_CODES

EXERCISES = ("split-squat", "single-leg-rdl", "side-lying-abduction")


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "my.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_load_for_every_exercise():
    cfg = load_config(None)
    assert set(cfg.exercises) == set(EXERCISES)
    for name in EXERCISES:
        ex = cfg.exercise(name)
        assert ex.exit_deg < ex.enter_deg
        assert ex.faults, name
        assert set(ex.faults) <= set(FAULT_CODES)
    assert cfg.filters.butterworth_cutoff_hz == 6.0
    assert cfg.exercise("split-squat").faults["pelvic_drop"].threshold == 5.0
    assert cfg.exercise("side-lying-abduction").faults["hip_flexion"].threshold == 10.0


def test_every_key_in_the_defaults_has_a_comment_in_its_paragraph():
    """Each number comes with its source: a comment above it, before any blank line or section header."""
    commented = False
    uncommented = []
    for line in default_toml().splitlines():
        s = line.strip()
        if not s or s.startswith("["):
            commented = False
        elif s.startswith("#"):
            commented = True
        elif re.match(r"^[\w-]+\s*=", s) and not commented:
            uncommented.append(s)
    assert uncommented == []


def test_user_file_overrides_only_what_it_names(tmp_path):
    p = write(tmp_path, "[split-squat.faults]\npelvic_drop = { threshold = 6.0, major = 12.0 }\n"
                        "[filters]\nmin_visibility = 0.6\n")
    cfg = load_config(p)
    assert cfg.exercise("split-squat").faults["pelvic_drop"].threshold == 6.0
    assert cfg.exercise("split-squat").faults["pelvic_rotation"].threshold == 5.0  # untouched
    assert cfg.exercise("single-leg-rdl").faults["pelvic_drop"].threshold == 5.0  # other exercise untouched
    assert cfg.filters.min_visibility == 0.6
    assert cfg.filters.butterworth_cutoff_hz == 6.0


def test_a_fault_can_be_switched_off(tmp_path):
    p = write(tmp_path, "[split-squat.faults.rushed]\nenabled = false\n")
    assert load_config(p).exercise("split-squat").faults["rushed"].enabled is False


@pytest.mark.parametrize("text, words", [
    ("[split-squat\nenter_deg = 3", ["not valid TOML"]),  # syntax error
    ("[split-squat]\nenter_degs = 50.0\n", ["unknown key", "split-squat.enter_degs"]),  # typo
    ("[nordic-curl]\nenter_deg = 50.0\n", ["unknown key", "nordic-curl"]),  # unknown exercise
    ("[split-squat.faults]\nback_rounding = { threshold = 1.0, major = 2.0 }\n", ["unknown key"]),
    ("[split-squat]\nenter_deg = \"deep\"\n", ["must be a number"]),
    ("[split-squat]\nexit_deg = 60.0\n", ["exit_deg", "below enter_deg"]),
    ("[split-squat.faults]\npelvic_drop = { threshold = 5.0, major = 4.0 }\n", ["major", "beyond"]),
    ("[split-squat.faults]\nshort_range = { threshold = 70.0, major = 80.0 }\n", ["major", "below"]),
    ("[split-squat.faults]\npelvic_drop = { threshold = 5.0, major = 9.0, worst = 2 }\n", ["unknown key", "worst"]),
    ("[filters]\nmin_visibility = 2.0\n", ["min_visibility"]),
    ("[filters]\nbutterworth_cutoff_hz = 0\n", ["butterworth_cutoff_hz", "above 0"]),
    ("[view]\nfrontal_max_deg = 70.0\n", ["frontal_max_deg < side_min_deg"]),
    ("[baseline]\nmin_frames = 2.5\n", ["whole number"]),
    ("[judge]\nmin_hold_s = -1\n", ["must not be negative"]),
    ("[split-squat]\nmin_rep_s = -0.4\n", ["split-squat.min_rep_s", "must not be negative"]),
    ("[single-leg-rdl]\nrest_window_s = -20.0\n", ["single-leg-rdl.rest_window_s", "must not be negative"]),
    ("[filters]\none_euro_min_cutoff_hz = 0\n", ["one_euro_min_cutoff_hz", "above 0"]),
    ("[filters]\none_euro_d_cutoff_hz = 0.0\n", ["one_euro_d_cutoff_hz", "above 0"]),
])
def test_bad_files_raise_a_clear_config_error(tmp_path, text, words):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    msg = str(err.value)
    assert str(p) in msg
    for w in words:
        assert w in msg


def test_missing_or_binary_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")
    p = tmp_path / "bin.toml"
    p.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError):
        load_config(p)


def test_config_is_frozen():
    cfg = load_config(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.filters.max_gap_s = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.exercise("split-squat").faults["pelvic_drop"] = FaultThreshold(1.0, 2.0)  # type: ignore[index]


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(ConfigError, match="split-squat"):
        load_config(None).exercise("plank")


@pytest.mark.parametrize("baseline, expected", [
    (None, 10.0),  # no baseline: the absolute threshold
    (float("nan"), 10.0),
    (2.0, 7.0),  # 5 deg beyond a baseline of 2 comes first
    (8.0, 10.0),  # the absolute threshold comes first
])
def test_relative_threshold(baseline, expected):
    assert FaultThreshold(10.0, 15.0, relative=5.0).effective_threshold(baseline) == expected
