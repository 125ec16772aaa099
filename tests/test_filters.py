"""Filters: gaps filled only when short, zero-lag low-pass per valid run, causal One Euro for live use."""

from __future__ import annotations

import numpy as np
import pytest

from glutecam.filters import OneEuroFilter, butterworth_zero_lag, fill_gaps, gate_by_visibility, runs


@pytest.mark.parametrize("mask, expected", [
    ([1, 1, 0, 1], [(0, 2), (3, 4)]),
    ([0, 0, 0], []),
    ([1, 1, 1], [(0, 3)]),
    ([], []),
])
def test_runs(mask, expected):
    assert runs(np.array(mask, bool)) == expected


def test_fill_gaps_fills_only_interior_gaps_up_to_the_limit():
    x = np.array([np.nan, 1.0, np.nan, np.nan, np.nan, 5.0, np.nan, np.nan, np.nan, np.nan, 10.0, np.nan])
    out = fill_gaps(x, fps=30.0, max_gap_s=0.1)  # 3 frames
    np.testing.assert_allclose(out[1:6], [1, 2, 3, 4, 5])
    assert np.isnan(out[[0, 6, 7, 8, 9, 11]]).all()  # edges and the 4-frame gap stay empty
    assert np.isnan(x[2])  # input untouched


def test_fill_gaps_works_per_column_of_landmark_arrays():
    x = np.zeros((10, 2, 3))
    x[4, 0, 1] = np.nan
    x[2:8, 1, 2] = np.nan
    out = fill_gaps(x, fps=30.0, max_gap_s=0.1)
    assert out[4, 0, 1] == 0.0
    assert np.isnan(out[2:8, 1, 2]).all()


def test_butterworth_has_no_lag_and_removes_jitter():
    fps = 30.0
    t = np.arange(0, 6, 1 / fps)
    slow = 10 * np.sin(2 * np.pi * 0.5 * t)
    noisy = slow + 2 * np.sin(2 * np.pi * 12 * t)
    out = butterworth_zero_lag(noisy, fps)
    inner = slice(15, -15)
    assert np.abs(out - slow)[inner].max() < 0.15  # 12 Hz jitter gone, 0.5 Hz kept
    lag = np.argmax(np.correlate(out[inner], slow[inner], "full")) - (len(slow[inner]) - 1)
    assert lag == 0


def test_butterworth_cutoff_is_in_hertz_whatever_the_frame_rate():
    outs = []
    for fps in (30.0, 60.0):
        t = np.arange(0, 4, 1 / fps)
        x = np.sin(2 * np.pi * 8 * t)  # above the 6 Hz cut-off
        outs.append(np.abs(butterworth_zero_lag(x, fps))[len(t) // 4: -len(t) // 4].max())
    assert outs[0] < 0.5 and outs[1] < 0.5
    assert abs(outs[0] - outs[1]) < 0.1


def test_butterworth_runs_only_over_unbroken_valid_samples():
    x = np.r_[np.zeros(30), np.full(5, np.nan), np.full(30, 10.0), [np.nan], [3.0, 4.0]]
    out = butterworth_zero_lag(x, 30.0)
    np.testing.assert_allclose(out[:30], 0.0, atol=1e-9)  # no leak of the 10s across the gap
    np.testing.assert_allclose(out[35:65], 10.0, atol=1e-9)
    assert np.isnan(out[30:35]).all() and np.isnan(out[65])
    np.testing.assert_array_equal(out[66:], [3.0, 4.0])  # too short to filter: left as is


def test_gate_by_visibility():
    pts = np.ones((2, 3, 2))
    vis = np.array([[0.9, 0.4, 0.5], [0.1, 1.0, 0.6]])
    out = gate_by_visibility(pts, vis, 0.5)
    assert np.isnan(out[0, 1]).all() and np.isnan(out[1, 0]).all()
    assert np.isfinite(out[0, [0, 2]]).all() and np.isfinite(out[1, [1, 2]]).all()


def run(f: OneEuroFilter, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.array([f(ti, xi) for ti, xi in zip(t, x)], dtype=float)


def test_one_euro_is_causal():
    t = np.arange(60) / 30.0
    a = np.sin(t * 3)
    b = a.copy()
    b[40:] += 50.0  # a different future
    ya = run(OneEuroFilter(1.0, 0.05), t, a)
    yb = run(OneEuroFilter(1.0, 0.05), t, b)
    np.testing.assert_array_equal(ya[:40], yb[:40])


def test_one_euro_smooths_at_rest_and_keeps_up_when_fast():
    rng = np.random.default_rng(1)
    t = np.arange(120) / 30.0
    still = 100 + rng.normal(0, 1.0, len(t))
    y = run(OneEuroFilter(1.0, 0.05), t, still)
    assert y[30:].std() < 0.5 * still[30:].std()
    ramp = 200.0 * t  # 200 px/s
    lag_slow = (ramp - run(OneEuroFilter(1.0, 0.0), t, ramp))[-1]
    lag_fast = (ramp - run(OneEuroFilter(1.0, 0.05), t, ramp))[-1]
    assert 0 < lag_fast < 0.5 * lag_slow


def test_one_euro_holds_short_gaps_then_gives_nan_and_restarts():
    f = OneEuroFilter(1.0, 0.0, max_gap_s=0.1)
    t = np.arange(12) / 30.0
    x = np.array([1, 1, 1, np.nan, np.nan, np.nan, np.nan, np.nan, 7, 7, 7, 7], float)
    y = run(f, t, x)
    np.testing.assert_allclose(y[3:6], 1.0)  # held for 0.1 s
    assert np.isnan(y[6:8]).all()  # then empty
    assert y[8] == 7.0  # restarts at the new value instead of crawling towards it


def test_one_euro_works_on_arrays_elementwise():
    f = OneEuroFilter(1.0, 0.0)
    out = f(0.0, np.array([[1.0, np.nan], [3.0, 4.0]]))
    assert out.shape == (2, 2) and np.isnan(out[0, 1])
    out = f(1 / 30, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert out[0, 1] == 2.0 and out[1, 1] == 4.0


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_glitches_found_block_by_block_are_those_found_at_once(chunk):
    from glutecam.filters import body_extent, reject_glitches

    rng = np.random.default_rng(3)
    t = np.arange(300)[:, None, None]
    p = np.concatenate([np.sin(t / 20.0 + np.arange(33)[None, :, None]) * 50 + 200,
                        np.cos(t / 25.0 + np.arange(33)[None, :, None]) * 80 + 300], axis=-1)
    p += rng.normal(0, 0.5, p.shape)
    p[rng.random(p.shape[:2]) < 0.05] = np.nan  # lost landmarks: nanmedian's masked-array path
    p[40, 5] += 150.0  # glitches, one right at a block edge for chunk 7 (frame 42 = 6 x 7)
    p[42, 9] -= 120.0
    p[299, 0] += 200.0
    whole = reject_glitches(p, body_extent(p), chunk=len(p))
    blocks = reject_glitches(p, body_extent(p), chunk=chunk)
    np.testing.assert_array_equal(np.isnan(blocks), np.isnan(whole))
    np.testing.assert_array_equal(blocks[~np.isnan(blocks)], whole[~np.isnan(whole)])
    assert np.isnan(whole[40, 5]).all() and np.isnan(whole[42, 9]).all() and np.isnan(whole[299, 0]).all()


def _landmark_series(t: int = 240, seed: int = 5) -> np.ndarray:
    """(t, 33, 3) smooth random walks with a short gap, a long one and a glitch."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 1.0, (t, 33, 3)), axis=0) + 100 * rng.normal(size=(1, 33, 3))
    x[50:52, 4] = np.nan
    x[100:140, 7] = np.nan
    x[180, 11] += 400.0
    return x


def _steps():
    from glutecam.filters import body_extent, reject_glitches

    return {
        "fill_gaps": lambda a, **k: fill_gaps(a, 30.0, **k),
        "butterworth_zero_lag": lambda a, **k: butterworth_zero_lag(a, 30.0, **k),
        "reject_glitches": lambda a, **k: reject_glitches(a, body_extent(a), **k),
    }


@pytest.mark.parametrize("step", ["fill_gaps", "butterworth_zero_lag", "reject_glitches"])
def test_copy_false_works_in_the_array_itself_only_when_it_can(step):
    fn, x = _steps()[step], _landmark_series()
    expected = fn(x.copy())
    own = x.copy()
    out = fn(own, copy=False)
    assert out is own
    np.testing.assert_array_equal(out, expected)
    # not C-contiguous, or not float64: worked on a copy, the caller's array untouched
    for given, wanted in ((x.copy()[..., :2], fn(x[..., :2].copy())), (x.astype(np.float32), None)):
        before = given.copy()
        out = fn(given, copy=False)
        assert out is not given and out.dtype == np.float64 and out.flags.c_contiguous
        np.testing.assert_array_equal(given, before)
        if wanted is not None:
            np.testing.assert_array_equal(out, wanted)
    assert not np.array_equal(expected, x, equal_nan=True)  # the step did change something


def test_butterworth_result_does_not_depend_on_how_many_columns_a_call_filters():
    x = _landmark_series()
    whole = butterworth_zero_lag(x, 30.0, block=99)
    for block in (1, 7, 16):
        np.testing.assert_array_equal(butterworth_zero_lag(x, 30.0, block=block), whole)


def test_body_extent_is_the_diagonal_of_the_finite_landmarks_box():
    from glutecam.filters import body_extent

    x = _landmark_series()[..., :2]
    x[60:70, :30] = np.nan  # 3 landmarks left: too few
    x[80, 2] = np.inf
    ok = np.isfinite(x).all(axis=-1)
    for i in (0, 65, 80, 200):
        pts = x[i][ok[i]]
        want = np.hypot(*(pts.max(axis=0) - pts.min(axis=0))) if len(pts) >= 4 else np.nan
        np.testing.assert_allclose(body_extent(x)[i], want, rtol=1e-12)
    assert np.isnan(body_extent(x)[60:70]).all()
