"""Pelvic drop from MediaPipe's hip line: why it under-reads, a calibration form, and where a view cannot show it.

Why the naive hip line under-reads (issue 8; measured on `shared/synth_dev`, see docs/accuracy.md):

1. *The model's prior, not smoothing.* MediaPipe's hip landmarks follow only part of the hip joints' true
   displacement: in a split squat seen from the front about a third (0.27-0.38 over three renderings of the
   same clip), in side-lying abduction about two thirds (0.66-0.69). The same model run frame by frame in
   IMAGE mode (no tracking, no landmark smoothing) under-reads as well (0.55 and 0.41), and the lag between
   truth and landmarks is 0-2 frames while a rep holds its bottom for 10 or more: the network pulls the
   pelvis towards a level one, most where the pelvis is hidden (by the front thigh pointing at the camera,
   or by the hinged trunk of an RDL seen from the front, where the gain is about 0).
2. *The landmark is not the joint.* The "hip" landmark sits above and lateral to the femoral head and
   rises when its thigh turns out of the image plane: at the bottom of a clean split squat seen from the
   front the front leg's hip landmark is 3-4 px (about 0.09 hip widths) higher than at the start, a false
   4-5 deg "drop" of the rear side that is as large as the fault.
3. *Occlusion and edge-on pelvis.* From the front at the bottom of an RDL hinge the trunk covers the
   pelvis; from behind the model loses the hips (labels cross, width collapses, frames without a person);
   from the side the drop is out of the image plane.

The estimate (`estimate_pelvic_drop`):

- measures the hip line against the neutral baseline (cancels camera roll, the landmark's fixed offset from
  the joint and the person's own asymmetry), with a sign that reads the same from the front, from behind
  and lying on the side;
- can move each hip landmark back down the body by `thigh_lift` hip widths per unit of its thigh's image
  foreshortening (`1 - thigh length / baseline thigh length`), the first-order model of point 2, and divide
  by `gain`, the share of a true drop the line follows (point 1). Both stay at identity in `CALIBRATIONS`:
  fitted on the development clips they did not hold on a held-out clip or on re-rendered ones
  (docs/accuracy.md, "What was tried");
- returns NaN with a reason where the view cannot show the drop (point 3).

For the analysers, `estimate_pelvis_gated` is a drop-in `glutecam.metrics.pelvis.PelvisEstimator` with the
same gates, needing no baseline.

All functions are pure numpy over a clip (T frames); image points are pixels, y down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glutecam.metrics.pelvis import PelvisEstimate, estimate_pelvis

# BlazePose indices (glutecam.landmarks.Landmark), as plain ints for fancy indexing.
L_SHOULDER, R_SHOULDER, L_HIP, R_HIP, L_KNEE, R_KNEE = 11, 12, 23, 24, 25, 26

#: Reasons a frame's drop is not measured (stable strings; they end up in reps.json).
REASONS = {
    "not_detected": "hips or knees not detected (or visibility below threshold)",
    "no_baseline": "no neutral baseline frames to measure the drop against",
    "side_view": "from the side a pelvic drop is out of the image plane: film from the front or behind",
    "pelvis_edge_on": "the hip line is foreshortened to less than half its baseline width (pelvis turned "
                      "edge-on or the model lost the hips)",
    "hip_labels_crossed": "the left and right hip landmarks have swapped sides (the model lost the pelvis)",
    "trunk_hides_pelvis": "the hinged trunk hides the pelvis from the front",
    "hinge_loses_pelvis": "from behind, the pose model does not follow the pelvis once the trunk hinges "
                          "past about 40 degrees",
}

SIDE_VIEWS = ("left", "right", "side", "side_left", "side_right")


@dataclass(frozen=True)
class DropCalibration:
    """How MediaPipe's hip line responds to a pelvic drop in one exercise and camera view.

    `gain`: share of a true drop (deg per deg) the landmark hip line follows once the thigh term is removed;
    1 = trust the landmarks. `thigh_lift`: how far a hip landmark rises, in baseline hip widths, per unit of
    its own thigh's image foreshortening (0 = no correction). `max_trunk_shortening`: in front/back views,
    the drop is "not measurable" once the trunk's image length along the body's up falls below this share
    of its baseline length (the hinge hides the pelvis); None = never. `fitted_on` / `note`: provenance.
    """

    gain: float = 1.0
    thigh_lift: float = 0.0
    max_trunk_shortening: float | None = None
    fitted_on: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if not (0.05 <= self.gain <= 2.0):
            raise ValueError(f"gain {self.gain} outside 0.05..2: a calibration that inverts or explodes")


IDENTITY = DropCalibration(note="naive hip line against the baseline")

_HINGE = 0.75  # trunk image length / baseline: cos 41 deg, a hinge of about 40 degrees

#: (exercise CLI name, coarse view) -> calibration. Coarse views: "front", "back", "lying", "side".
#: The gains and thigh terms are deliberately 1 and 0: fitted on the development clips they did not hold
#: on the held-out clip or on the mirrored and shrunken renderings (docs/accuracy.md, "What was tried");
#: `benchmarks/validate.py DIR --loco` refits and scores them leave-one-clip-out.
CALIBRATIONS: dict[tuple[str, str], DropCalibration] = {
    ("split-squat", "front"): DropCalibration(
        note="hip line follows ~1/3 of a pure drop plus a +4.5 deg rear-side bias at the bottom of every "
             "rep (front hip landmark rises as the front thigh points at the camera); a thigh or depth "
             "term with gain 1/3 fitted on one clip did not hold on others, so the line is used as is"),
    ("split-squat", "back"): DropCalibration(note="no drop clip from behind: gain not measured"),
    ("single-leg-rdl", "front"): DropCalibration(
        max_trunk_shortening=_HINGE,
        note="the hinged trunk hides the pelvis (hip line gain ~0.05): measured only near upright"),
    ("single-leg-rdl", "back"): DropCalibration(
        max_trunk_shortening=_HINGE,
        note="from behind the model reads ~0 of the drop once the hinge passes ~40 deg, then loses the "
             "hips (labels cross, no person found) until the trunk is upright again"),
    ("side-lying-abduction", "lying"): DropCalibration(
        note="hip line follows ~2/3 of a hike plus a 0.5-4 deg false hike at the top of each rep that "
             "varies with body and outfit; dividing by the gain would push clean reps over the threshold"),
}


def coarse_view(view: str) -> str:
    """Map an analyser's view label to the calibration's: front, back, lying, side or oblique.

    >>> coarse_view("lying_left"), coarse_view("right"), coarse_view("front")
    ('lying', 'side', 'front')
    """
    v = (view or "").lower()
    if v.startswith("lying"):
        return "lying"
    if v in SIDE_VIEWS:
        return "side"
    return v if v in ("front", "back", "oblique") else "front"


def calibration_for(exercise: str, view: str) -> DropCalibration:
    """The calibration for an exercise (CLI name, e.g. "split-squat") seen from `view`; identity if none.

    A side-lying exercise filmed "front"/"back" (the camera facing the person's front or back) is a lying view.
    """
    cv = coarse_view(view)
    if exercise == "side-lying-abduction" and cv in ("front", "back"):
        cv = "lying"
    return CALIBRATIONS.get((exercise, cv), IDENTITY)


@dataclass
class DropEstimate:
    """Per-frame result of `estimate_pelvic_drop` (all arrays (T,)).

    `drop_deg`: the estimate, deg, + = free side lower, NaN where not measurable. `line_drop_deg`: the
    naive baseline-relative hip line (same sign), for comparison. `reason`: "" where measured, else a key
    of `REASONS`. `baseline_hip_width_px`: the hip width the corrections were scaled by.
    """

    drop_deg: np.ndarray
    line_drop_deg: np.ndarray
    reason: np.ndarray
    baseline_hip_width_px: float = float("nan")
    calibration: DropCalibration = field(default_factory=DropCalibration)

    @property
    def measurable(self) -> np.ndarray:
        return self.reason == ""


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / n


def body_up_xy(image_xy: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Unit image vector of the body's up (hips to shoulders) over the baseline frames, (2,).

    Standing that is the image up; lying on the side it points to the head. NaN if no baseline frame.
    """
    sh = image_xy[baseline][:, [L_SHOULDER, R_SHOULDER]].mean(axis=1)
    hp = image_xy[baseline][:, [L_HIP, R_HIP]].mean(axis=1)
    if len(sh) == 0:
        return np.full(2, np.nan)
    with np.errstate(invalid="ignore"):
        return _unit(np.nanmedian(sh - hp, axis=0))


def thigh_foreshortening(hip_xy: np.ndarray, knee_xy: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """`1 - |knee - hip| / median baseline |knee - hip|` per frame (T,); 0 at baseline, + = shorter.

    A thigh turning towards or away from the camera shortens in the image; unitless.

    >>> hip = np.zeros((3, 2)); knee = np.array([[0, 100.0], [0, 100.0], [0, 40.0]])
    >>> thigh_foreshortening(hip, knee, np.array([True, True, False])).round(2).tolist()
    [0.0, 0.0, 0.6]
    """
    length = np.linalg.norm(knee_xy - hip_xy, axis=-1)
    ref = np.nanmedian(length[baseline]) if baseline.any() else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1.0 - length / ref


def corrected_hips_xy(image_xy: np.ndarray, baseline: np.ndarray, up_xy: np.ndarray,
                      thigh_lift: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Left and right hip landmarks (T, 2) moved back down the body for their thigh's foreshortening.

    `hip' = hip - thigh_lift * w0 * f * up`, with w0 the baseline hip width (px) and f
    `thigh_foreshortening` of that side's thigh. Returns (left, right, w0).
    """
    lh, rh = image_xy[:, L_HIP], image_xy[:, R_HIP]
    w = np.linalg.norm(lh - rh, axis=-1)
    w0 = float(np.nanmedian(w[baseline])) if baseline.any() else float("nan")
    if thigh_lift == 0.0:
        return lh.copy(), rh.copy(), w0
    out = []
    for hip, knee in ((lh, image_xy[:, L_KNEE]), (rh, image_xy[:, R_KNEE])):
        f = thigh_foreshortening(hip, knee, baseline)
        out.append(hip - (thigh_lift * w0 * f)[:, None] * up_xy)
    return out[0], out[1], w0


def hip_line_drop_deg(free_xy: np.ndarray, other_xy: np.ndarray, up_xy: np.ndarray,
                      baseline: np.ndarray) -> np.ndarray:
    """Rotation of the hip line (other -> free) from its baseline, deg; + = free hip towards the feet.

    View-independent sign: the line is expressed in the body's (across, down) image frame with `across`
    pointing to the free hip at baseline, so front, back and lying views read alike. Baseline = median
    angle over `baseline` frames.

    >>> up = np.array([0.0, -1.0]); free = np.array([[340.0, 250.0], [340.0, 255.0]])
    >>> other = np.array([[300.0, 250.0], [300.0, 250.0]])
    >>> hip_line_drop_deg(free, other, up, np.array([True, False])).round(2).tolist()  # free hip 5 px lower
    [0.0, 7.13]
    """
    v = free_xy - other_xy
    down = -np.asarray(up_xy, dtype=np.float64)
    across = np.array([-down[1], down[0]])
    v0 = np.nanmedian(v[baseline], axis=0) if baseline.any() else np.full(2, np.nan)
    if np.dot(v0, across) < 0:
        across = -across
    ang = np.degrees(np.arctan2(v @ down, v @ across))
    base = np.nanmedian(ang[baseline]) if baseline.any() else np.nan
    return (ang - base + 180.0) % 360.0 - 180.0


def drop_reasons(image_xy: np.ndarray, visibility: np.ndarray | None, baseline: np.ndarray, up_xy: np.ndarray,
                 view: str, calibration: DropCalibration, min_visibility: float = 0.5) -> np.ndarray:
    """Per frame (T,) "" where the pelvic drop can be measured, else a `REASONS` key (first that applies)."""
    t = len(image_xy)
    reason = np.full(t, "", dtype=object)
    cv = coarse_view(view)
    if cv == "side":
        reason[:] = "side_view"
        return reason
    if not baseline.any():
        reason[:] = "no_baseline"
        return reason
    # Knees only need a position: the thigh term models the network's own coupling, so its guess of a
    # hidden knee (split squat from behind: the bench covers them) is the relevant input.
    need = [L_HIP, R_HIP] + ([L_KNEE, R_KNEE] if calibration.thigh_lift else [])
    ok = np.all(np.isfinite(image_xy[:, need, :]), axis=(1, 2))
    if visibility is not None:
        ok &= np.all(visibility[:, [L_HIP, R_HIP]] >= min_visibility, axis=1)
    if not np.isfinite(up_xy).all():
        ok[:] = False
    reason[~ok] = "not_detected"
    v = image_xy[:, L_HIP] - image_xy[:, R_HIP]
    w = np.linalg.norm(v, axis=-1)
    v0 = np.nanmedian(v[baseline], axis=0)
    w0 = np.linalg.norm(v0)
    with np.errstate(invalid="ignore"):
        crossed = (v @ v0) < 0
        edge_on = w < 0.5 * w0
    reason[(reason == "") & crossed] = "hip_labels_crossed"
    reason[(reason == "") & edge_on] = "pelvis_edge_on"
    if calibration.max_trunk_shortening is not None and cv in ("front", "back", "oblique"):
        sh = image_xy[:, [L_SHOULDER, R_SHOULDER]].mean(axis=1)
        hp = image_xy[:, [L_HIP, R_HIP]].mean(axis=1)
        trunk = (sh - hp) @ up_xy
        trunk0 = np.nanmedian(trunk[baseline])
        with np.errstate(invalid="ignore"):
            hidden = ~(trunk >= calibration.max_trunk_shortening * trunk0)
        reason[(reason == "") & hidden] = "hinge_loses_pelvis" if cv == "back" else "trunk_hides_pelvis"
    return reason


def estimate_pelvic_drop(image_xy: np.ndarray, free_side: str, baseline: np.ndarray, *, view: str = "front",
                         calibration: DropCalibration | None = None, visibility: np.ndarray | None = None,
                         up_xy: np.ndarray | None = None, min_visibility: float = 0.5) -> DropEstimate:
    """Pelvic drop on the free side per frame, deg (+ = free side lower; - = hike), NaN where not measurable.

    Inputs: `image_xy` (T, 33, 2) image landmarks, px (`PoseTrack.image_px[..., :2]`); `free_side` "left"
    or "right" (RDL lifted leg, split-squat rear leg, side-lying top leg); `baseline` (T,) bool, the
    neutral still frames (e.g. the lead-in before the first rep); `view`: the analyser's view label
    ("front", "back", "left", "right", "lying_left", ...); `calibration`: from `calibration_for(exercise,
    view)` (identity if None); `visibility` (T, 33) optional; `up_xy` the body's up in the image (2,),
    default `body_up_xy` over the baseline (image up when standing, towards the head lying down).

    Definition: `hip_line_drop_deg` of the thigh-corrected hips (`corrected_hips_xy`) divided by the
    calibration's gain (with the committed calibrations: the baseline-relative hip line). Unit: degrees.
    Valid views: front and back (standing), lying on the side seen from the front or back; NaN with reason
    "side_view" from the side, "trunk_hides_pelvis"/"hinge_loses_pelvis" past a ~40 deg RDL hinge. Known
    error on the rendered development clips (docs/accuracy.md), frames with a true drop >= 3 deg: split
    squat from the front MAE 0.9 deg, slope 1.3, but clean reps read 3-5.5 deg at the bottom and the line
    follows only ~1/3 of a drop; side-lying MAE 0.9 deg, slope 1.16, clean reps 0.7-3.9 deg of false hike.
        """
    if free_side not in ("left", "right"):
        raise ValueError(f"free_side must be 'left' or 'right', got {free_side!r}")
    image_xy = np.asarray(image_xy, dtype=np.float64)[..., :2]
    if image_xy.ndim != 3 or image_xy.shape[1] < 33:
        raise ValueError(f"image_xy must be (T, 33, 2), got {image_xy.shape}")
    baseline = np.asarray(baseline, dtype=bool)
    if baseline.shape != (len(image_xy),):
        raise ValueError(f"baseline must be a (T,) bool mask, got shape {baseline.shape}")
    cal = calibration or IDENTITY
    base_ok = baseline & np.all(np.isfinite(image_xy[:, [L_HIP, R_HIP, L_SHOULDER, R_SHOULDER]]), axis=(1, 2))
    up = body_up_xy(image_xy, base_ok) if up_xy is None else _unit(np.asarray(up_xy, dtype=np.float64))
    lh, rh, w0 = corrected_hips_xy(image_xy, base_ok, up, cal.thigh_lift)
    free, other = (lh, rh) if free_side == "left" else (rh, lh)
    raw_free, raw_other = ((image_xy[:, L_HIP], image_xy[:, R_HIP]) if free_side == "left"
                           else (image_xy[:, R_HIP], image_xy[:, L_HIP]))
    with np.errstate(invalid="ignore"):
        line = hip_line_drop_deg(raw_free, raw_other, up, base_ok)
        drop = hip_line_drop_deg(free, other, up, base_ok) / cal.gain
    reason = drop_reasons(image_xy, visibility, base_ok, up, view, cal, min_visibility)
    drop = np.where(reason == "", drop, np.nan)
    return DropEstimate(drop_deg=drop, line_drop_deg=line, reason=reason, baseline_hip_width_px=w0,
                        calibration=cal)


def still_lead_in(image_xy: np.ndarray, fps: float, window_s: float = 0.5,
                  max_speed_hip_widths_s: float = 0.5) -> np.ndarray:
    """(T,) bool: the frames of the first `window_s` seconds in which the hips are detected and still.

    A stand-in baseline for callers without the analysers' own (`glutecam.validation`'s direct mode).
    "Still": hip-midpoint speed below `max_speed_hip_widths_s` baseline hip widths per second.
    """
    hips = image_xy[:, [L_HIP, R_HIP], :2]
    mid = hips.mean(axis=1)
    width = np.linalg.norm(hips[:, 0] - hips[:, 1], axis=-1)
    speed = np.r_[0.0, np.linalg.norm(np.diff(mid, axis=0), axis=-1)] * fps
    w = np.nanmedian(width[: max(1, int(round(2 * window_s * fps)))])
    with np.errstate(invalid="ignore"):
        still = np.isfinite(mid[:, 0]) & (speed <= max_speed_hip_widths_s * w)
    out = np.zeros(len(image_xy), dtype=bool)
    idx = np.flatnonzero(still)
    n = max(1, int(round(window_s * fps)))
    out[idx[:n]] = True
    return out


def pelvis_gate_reasons(image_xy: np.ndarray, up_xy: np.ndarray, max_trunk_shortening: float = _HINGE,
                        min_width_share: float = 0.5) -> np.ndarray:
    """Per frame (T,) "" where the hip line can be trusted, else a `REASONS` key; needs no baseline.

    The clip's own typical hip vector (median over frames) and upright trunk length (90th percentile along
    `up_xy`) stand in for a baseline, so this works inside `PelvisEstimator` before the analysers have one:
    - "hip_labels_crossed": the left-right hip vector points against the clip's typical one;
    - "pelvis_edge_on": the hip width is below `min_width_share` of the clip's typical width;
    - "trunk_hides_pelvis": the trunk's image length along the body's up is below `max_trunk_shortening` of
      its upright length (a hinge beyond ~40 deg: from the front the trunk covers the pelvis, from behind
      the model stops following it; split squats and side-lying stay above 0.9).
    `up_xy` (T, 2) or (2,): the body's up in the image (analysers: `reference_up`). Valid in front, back and
    lying views; a side view's hip line is edge-on anyway.
    """
    xy = np.asarray(image_xy, dtype=np.float64)[..., :2]
    t = len(xy)
    up = _unit(np.broadcast_to(np.asarray(up_xy, dtype=np.float64), (t, 2)))
    reason = np.full(t, "", dtype=object)
    v = xy[:, L_HIP] - xy[:, R_HIP]
    ok = np.isfinite(v).all(axis=1)
    reason[~ok] = "not_detected"
    if not ok.any():
        return reason
    v_ref = np.nanmedian(v, axis=0)
    w = np.linalg.norm(v, axis=-1)
    trunk = np.sum((xy[:, [L_SHOULDER, R_SHOULDER]].mean(axis=1) - xy[:, [L_HIP, R_HIP]].mean(axis=1)) * up, axis=-1)
    with np.errstate(invalid="ignore"):
        w_ref = np.nanmedian(w[(v @ v_ref) > 0]) if ((v @ v_ref) > 0).any() else np.nan
        trunk_ref = np.nanpercentile(trunk, 90) if np.isfinite(trunk).any() else np.nan
        reason[(reason == "") & ((v @ v_ref) < 0)] = "hip_labels_crossed"
        reason[(reason == "") & (w < min_width_share * w_ref)] = "pelvis_edge_on"
        reason[(reason == "") & ~(trunk >= max_trunk_shortening * trunk_ref)] = "trunk_hides_pelvis"
    return reason


def estimate_pelvis_gated(image_xy: np.ndarray, world_m: np.ndarray, up_xy: np.ndarray,
                          up_m: np.ndarray) -> PelvisEstimate:
    """`glutecam.metrics.pelvis.PelvisEstimator`: the naive estimate with NaN where the hip line is garbage.

    Same angles as `glutecam.metrics.pelvis.estimate_pelvis` (image obliquity, world yaw; degrees, absolute,
    before any baseline) but empty on the frames `pelvis_gate_reasons` rejects. Use:
    `get_analyser(name, pelvis_estimator=estimate_pelvis_gated)`. Known error: that of the naive hip line
    (docs/accuracy.md); it removes the readings of 10-180 deg that a lost pelvis produces (RDL from behind).
    """
    est = estimate_pelvis(image_xy, world_m, up_xy, up_m)
    bad = pelvis_gate_reasons(image_xy, up_xy) != ""
    return PelvisEstimate(obliquity_deg=np.where(bad, np.nan, est.obliquity_deg),
                          yaw_deg=np.where(bad, np.nan, est.yaw_deg))
