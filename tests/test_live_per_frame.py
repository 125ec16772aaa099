"""The live path's one-frame shortcuts give the numbers the clip-wide functions give.

`measure` and `body_speed` have fast paths for a single frame (what `LiveAnalyser.update` passes); here the
same cleaned landmarks are measured once over the whole clip (the vectorised path, the reference) and
frame by frame, and must agree exactly, values and reasons, including frames with missing landmarks, no
person, and lying views.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from glutecam.analysers import get_analyser
from glutecam.analysers.base import clean_landmarks, clean_world_ungated, effective_fps
from glutecam.analysers.baseline import body_speed
from glutecam.analysers.live import _frame_speed
from glutecam.landmarks import Landmark
from glutecam.metrics.columns import measure
from glutecam.track import PoseTrack
from glutecam.view import classify_views, reference_up, smooth_views
from tests.synthetic import REALISTIC, side_lying_abduction, single_leg_rdl, split_squat

CLIPS = {
    "split-squat": lambda: split_squat(n_reps=2, noise=REALISTIC, faults=[{}, {"drop_deg": 8}]),
    "single-leg-rdl": lambda: single_leg_rdl(n_reps=2, noise=REALISTIC, faults=[{"rotation_deg": 8}, {}]),
    "side-lying-abduction": lambda: side_lying_abduction(n_reps=2, noise=REALISTIC, faults=[{}, {"drop_deg": -8}]),
}


def damaged(track: PoseTrack) -> PoseTrack:
    """The clip with what live meets: a hidden knee for a while, a frame with nobody, a glitch."""
    vis = np.array(track.visibility, copy=True)
    image, world = np.array(track.image_px, copy=True), np.array(track.world_m, copy=True)
    n = len(track)
    vis[n // 5:n // 5 + 8, Landmark.LEFT_KNEE] = 0.0
    vis[n // 3:n // 3 + 5, Landmark.RIGHT_HIP] = 0.0
    image[n // 2, :] = np.nan
    world[n // 2, :] = np.nan
    vis[n // 2, :] = 0.0
    image[2 * n // 3, Landmark.RIGHT_ANKLE] += 500.0
    return dataclasses.replace(track, image_px=image, visibility=vis, world_m=world)


@pytest.mark.parametrize("exercise", list(CLIPS))
def test_measure_one_frame_at_a_time_equals_the_whole_clip(exercise):
    track = damaged(CLIPS[exercise]().track)
    analyser = get_analyser(exercise)
    cfg, fps = analyser.config, effective_fps(track)
    image, world = clean_landmarks(track, cfg, fps)
    world_all = clean_world_ungated(track, cfg, fps)
    views = smooth_views(classify_views(image, world, cfg.view.frontal_max_deg, cfg.view.side_min_deg),
                         max(1, round(cfg.view.smooth_s * fps)))
    up_xy, up_m = reference_up(views, image)
    whole = measure(image, world, views, up_xy, up_m, analyser.pelvis_estimator, signal_world_m=world_all)
    assert any(not np.isfinite(v).all() for v in whole.values.values())  # the damage reached the metrics
    for i in range(len(track)):
        s = slice(i, i + 1)
        one = measure(image[s], world[s], views[s], up_xy[s], up_m[s], analyser.pelvis_estimator,
                      signal_world_m=world_all[s])
        assert one.values.keys() == whole.values.keys()
        for key, v in one.values.items():
            np.testing.assert_array_equal(v, whole.values[key][s], err_msg=f"{key} at frame {i}")
        for key, why in one.reasons.items():
            assert why.tolist() == whole.reasons[key][s].tolist(), f"{key} at frame {i}"


@pytest.mark.parametrize("exercise", list(CLIPS))
def test_frame_speed_equals_body_speed(exercise):
    track = damaged(CLIPS[exercise]().track)
    image, _ = clean_landmarks(track, get_analyser(exercise).config, effective_fps(track))
    image[10, :4] = np.nan  # too few landmarks left to judge stillness
    dt = np.diff(track.time_s)
    expected = body_speed(image[:-1], image[1:], dt)
    got = np.array([_frame_speed(image[i:i + 1], image[i + 1:i + 2], float(dt[i])) for i in range(len(dt))])
    np.testing.assert_array_equal(got, expected)
