"""Ground-truth kit: a 3-D stick-figure body posed per frame, filmed by a pinhole camera, as a PoseTrack.

You set the angles (pelvis obliquity and rotation, trunk hinge and lean, hip flexion and abduction, knee
flexion and valgus of each leg) per frame; `render` places all 33 BlazePose landmarks, projects them
through a `Camera` standing where you choose, adds MediaPipe-like `Noise` (white and drifting landmark
noise, camera shake, dropped frames, low-visibility blips) and returns a `PoseTrack` whose `world_m` is
consistent with the image (MediaPipe's convention: metres, camera-aligned axes, origin between the hips).

The exercise generators (`split_squat`, `single_leg_rdl`, `side_lying_abduction`) move the body through
reps with faults of chosen size ramping in and out with each rep, and return the truth with the track.

Conventions (scene): metres, Z up, floor at Z = 0, the subject faces -Y when standing, +X is their left.
Body-local axes: lateral = +x (towards the left hip), up = +z, forward = -y.
Signs: obliquity + = left hip higher (lying: nearer the head); rotation + = left hip backward; hinge + =
trunk forward; trunk lean + = towards the left; hip flexion + = thigh forward; abduction + = outward;
knee valgus + = shank tilted outward so the knee sits medial to the hip-ankle line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from glutecam.landmarks import Landmark as L
from glutecam.track import PoseTrack

Side = Literal["left", "right"]
Placement = Literal["standing", "lying_left", "lying_right"]
LEGS: tuple[Side, Side] = ("left", "right")


def other(side: Side) -> Side:
    return "right" if side == "left" else "left"


# -- rotations ---------------------------------------------------------------------------------------------

def _rx(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _ry(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rz(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _apply(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(T,3,3) @ (T,3) or (3,) -> (T,3)."""
    return np.einsum("tij,tj->ti", r, np.broadcast_to(v, (len(r), 3)))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


#: Body-to-scene rotation of each placement (columns: where local x, y, z go).
PLACEMENTS: dict[str, np.ndarray] = {
    "standing": np.eye(3),
    # lying on the right side: the left hip points up, the head towards -X, still facing -Y
    "lying_right": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    "lying_left": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]),
}

LAT, FWD, UP = np.array([1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0]), np.array([0.0, 0.0, 1.0])


# -- the body ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Body:
    """Segment lengths, metres (roughly a 1.75 m adult)."""

    hip_half_width_m: float = 0.10
    thigh_m: float = 0.45
    shank_m: float = 0.43
    foot_m: float = 0.16
    heel_m: float = 0.05
    ankle_height_m: float = 0.07
    trunk_m: float = 0.50
    shoulder_half_width_m: float = 0.19
    upper_arm_m: float = 0.29
    forearm_m: float = 0.26
    head_m: float = 0.22


def _zeros(t: int) -> np.ndarray:
    return np.zeros(t)


@dataclass
class Motion:
    """Per-frame pose parameters, degrees (arrays of length T); see the module doc for the signs."""

    time_s: np.ndarray
    placement: Placement = "standing"
    heading_deg: float = 0.0
    root_m: np.ndarray | None = None  # (T, 3) pelvis centre; None = stand on the floor (see `render`)
    pelvis_obliquity_deg: np.ndarray = None  # type: ignore[assignment]
    pelvis_rotation_deg: np.ndarray = None  # type: ignore[assignment]
    hinge_deg: np.ndarray = None  # type: ignore[assignment]
    trunk_lean_left_deg: np.ndarray = None  # type: ignore[assignment]  # out of the sagittal plane
    hip_flexion_deg: dict[str, np.ndarray] = field(default_factory=dict)
    hip_abduction_deg: dict[str, np.ndarray] = field(default_factory=dict)
    knee_flexion_deg: dict[str, np.ndarray] = field(default_factory=dict)
    knee_valgus_deg: dict[str, np.ndarray] = field(default_factory=dict)
    grounded: Side | None = None  # keep this foot's ankle at ankle height (standing); None = root_m as given

    def __post_init__(self) -> None:
        t = len(self.time_s)
        for name in ("pelvis_obliquity_deg", "pelvis_rotation_deg", "hinge_deg", "trunk_lean_left_deg"):
            v = getattr(self, name)
            setattr(self, name, _zeros(t) if v is None else np.broadcast_to(np.asarray(v, float), (t,)).copy())
        for name in ("hip_flexion_deg", "hip_abduction_deg", "knee_flexion_deg", "knee_valgus_deg"):
            d = getattr(self, name)
            setattr(self, name, {leg: np.broadcast_to(np.asarray(d.get(leg, 0.0), float), (t,)).copy()
                                 for leg in LEGS})

    def __len__(self) -> int:
        return len(self.time_s)


def static_motion(n: int = 30, fps: float = 30.0, **kwargs) -> Motion:
    """A body held still for `n` frames; keyword arguments as `Motion`'s (scalars are fine)."""
    return Motion(time_s=np.arange(n) / fps, **kwargs)


def _frame_axes(lat: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lateral, up, forward) unit vectors (T, 3) from a hip line and an approximate up, as the metrics
    build them (up made perpendicular to the hip line; forward = lateral x up)."""
    lat = _unit(lat)
    up = _unit(up - np.sum(up * lat, -1, keepdims=True) * lat)
    return lat, up, np.cross(lat, up)


def pose_scene(motion: Motion, body: Body = Body()) -> np.ndarray:
    """(T, 33, 3) landmark positions in the scene, metres.

    The pelvis is turned by the rotation, tilted by the obliquity and hinged; the trunk shares the rotation
    and the hinge and leans sideways by its own absolute angle (so the lean is measured against the body's
    up whatever the pelvis does). Hip angles are set in the axes the metrics read them in: lateral = the
    hip line, up = the trunk made perpendicular to it, forward = lateral x up.
    """
    t = len(motion)
    rad = np.radians
    place = np.broadcast_to(_rz(np.array(rad(motion.heading_deg))) @ PLACEMENTS[motion.placement], (t, 3, 3))
    turned = place @ _rz(rad(motion.pelvis_rotation_deg))
    pelvis = turned @ _ry(-rad(motion.pelvis_obliquity_deg)) @ _rx(rad(motion.hinge_deg))
    trunk = turned @ _rx(rad(motion.hinge_deg)) @ _ry(rad(motion.trunk_lean_left_deg))
    p = np.full((t, 33, 3), np.nan)
    root = np.zeros((t, 3)) if motion.root_m is None else np.broadcast_to(motion.root_m, (t, 3))
    for leg, s in (("left", 1.0), ("right", -1.0)):
        p[:, L[f"{leg.upper()}_HIP"]] = root + _apply(pelvis, s * body.hip_half_width_m * LAT)
    shoulder_mid = root + _apply(trunk, body.trunk_m * UP)
    for leg, s in (("left", 1.0), ("right", -1.0)):
        sh = shoulder_mid + _apply(trunk, s * body.shoulder_half_width_m * LAT)
        elbow = sh + _apply(trunk, -body.upper_arm_m * UP + 0.03 * s * LAT)
        wrist = elbow + _apply(trunk, -body.forearm_m * UP + 0.05 * FWD)
        side = leg.upper()
        p[:, L[f"{side}_SHOULDER"]], p[:, L[f"{side}_ELBOW"]], p[:, L[f"{side}_WRIST"]] = sh, elbow, wrist
        for name, off in (("PINKY", -0.02), ("INDEX", 0.02), ("THUMB", 0.04)):
            p[:, L[f"{side}_{name}"]] = wrist + _apply(trunk, -0.07 * UP + off * FWD)
    head = shoulder_mid + _apply(trunk, body.head_m * UP)
    p[:, L.NOSE] = head + _apply(trunk, 0.10 * FWD)
    for leg, s in (("left", 1.0), ("right", -1.0)):
        side = leg.upper()
        p[:, L[f"{side}_EAR"]] = head + _apply(trunk, s * 0.075 * LAT)
        p[:, L[f"{side}_EYE"]] = head + _apply(trunk, s * 0.03 * LAT + 0.09 * FWD + 0.03 * UP)
        p[:, L[f"{side}_EYE_INNER"]] = head + _apply(trunk, s * 0.015 * LAT + 0.095 * FWD + 0.03 * UP)
        p[:, L[f"{side}_EYE_OUTER"]] = head + _apply(trunk, s * 0.045 * LAT + 0.085 * FWD + 0.03 * UP)
    p[:, L.MOUTH_LEFT] = head + _apply(trunk, 0.025 * LAT + 0.09 * FWD - 0.05 * UP)
    p[:, L.MOUTH_RIGHT] = head + _apply(trunk, -0.025 * LAT + 0.09 * FWD - 0.05 * UP)
    lat, up, fwd = _frame_axes(p[:, L.LEFT_HIP] - p[:, L.RIGHT_HIP], shoulder_mid - root)
    for leg, s in (("left", 1.0), ("right", -1.0)):
        f, a = rad(motion.hip_flexion_deg[leg])[:, None], rad(motion.hip_abduction_deg[leg])[:, None]
        k, g = rad(motion.knee_flexion_deg[leg])[:, None], rad(motion.knee_valgus_deg[leg])[:, None]
        thigh = np.cos(a) * (np.sin(f) * fwd - np.cos(f) * up) + np.sin(a) * s * lat
        lat_t = _unit(lat - np.sum(lat * thigh, -1, keepdims=True) * thigh)
        fwd_t = np.cross(lat_t, -thigh)
        shank = np.cos(k) * thigh - np.sin(k) * fwd_t
        shank = np.cos(g) * shank + np.sin(g) * s * lat_t
        foot_fwd = _unit(np.cross(lat_t, -shank))
        side = leg.upper()
        knee = p[:, L[f"{side}_HIP"]] + body.thigh_m * thigh
        ankle = knee + body.shank_m * shank
        p[:, L[f"{side}_KNEE"]], p[:, L[f"{side}_ANKLE"]] = knee, ankle
        p[:, L[f"{side}_HEEL"]] = ankle + body.ankle_height_m * shank - body.heel_m * foot_fwd
        p[:, L[f"{side}_FOOT_INDEX"]] = ankle + body.ankle_height_m * shank + body.foot_m * foot_fwd
    if motion.grounded is not None and motion.root_m is None:
        ankle_z = p[:, L[f"{motion.grounded.upper()}_ANKLE"], 2]
        p[..., 2] += (body.ankle_height_m - ankle_z)[:, None]
    return p


# -- the camera ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Camera:
    """A pinhole camera `distance_m` from `target_m`, at `azimuth_deg` around it (0 = in front of a standing
    subject, 180 = behind, 90 = at their left), `height_m` above the floor, rolled by `roll_deg`."""

    azimuth_deg: float = 0.0
    distance_m: float = 3.0
    height_m: float = 0.9
    target_m: tuple[float, float, float] = (0.0, 0.0, 0.9)
    roll_deg: float = 0.0
    size_wh: tuple[int, int] = (1280, 720)
    vfov_deg: float = 50.0

    @property
    def focal_px(self) -> float:
        return self.size_wh[1] / 2 / np.tan(np.radians(self.vfov_deg) / 2)

    @property
    def position_m(self) -> np.ndarray:
        az = np.radians(self.azimuth_deg)
        tx, ty, _ = self.target_m
        return np.array([tx + self.distance_m * np.sin(az), ty - self.distance_m * np.cos(az), self.height_m])

    @property
    def rotation(self) -> np.ndarray:
        """Scene -> camera (rows: camera x right, y down, z forward), MediaPipe's world axes."""
        z = _unit(np.asarray(self.target_m) - self.position_m)
        x = _unit(np.cross(z, UP))
        y = np.cross(z, x)
        r = np.radians(self.roll_deg)
        x, y = np.cos(r) * x + np.sin(r) * y, -np.sin(r) * x + np.cos(r) * y
        return np.stack([x, y, z])

    def project(self, scene: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image_px (..., 3): x, y, relative depth z in px; camera-frame points (..., 3) in metres)."""
        cam = (scene - self.position_m) @ self.rotation.T
        f = self.focal_px
        w, h = self.size_wh
        xy = np.stack([f * cam[..., 0] / cam[..., 2] + w / 2, f * cam[..., 1] / cam[..., 2] + h / 2], -1)
        hips = (cam[..., L.LEFT_HIP, :] + cam[..., L.RIGHT_HIP, :]) / 2
        z = (cam[..., 2] - hips[..., None, 2]) * f / hips[..., None, 2]
        return np.concatenate([xy, z[..., None]], -1), cam


#: Cameras by the view they give of a standing subject (and of a lying one facing the camera).
def camera_for(view: str, **kwargs) -> Camera:
    az = {"front": 0.0, "back": 180.0, "left_side": 90.0, "right_side": -90.0, "oblique": 45.0}[view]
    return Camera(azimuth_deg=az, **kwargs)


def lying_camera(**kwargs) -> Camera:
    """Level camera in front of a person lying on the floor (hips about 0.15 m up)."""
    kw = dict(height_m=0.25, target_m=(0.0, 0.0, 0.25), distance_m=3.2)
    kw.update(kwargs)
    return Camera(**kw)


# -- noise -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Noise:
    """Pose-model-like errors. `pixel_sd`: white noise per landmark and frame (px); `drift_sd`/`drift_tau_s`:
    a slowly wandering offset per landmark (px, AR(1)); `shake_sd`: whole-image jitter (px); `world_sd_m`,
    `world_drift_m`: white and drifting world-landmark noise (m); `dropout_rate`: chance per frame
    that a run of `dropout_frames` frames has nobody detected; `blip_rate`: chance per landmark and frame of
    a low-visibility reading (visibility 0.2, position off by `blip_px`)."""

    pixel_sd: float = 0.0
    drift_sd: float = 0.0
    drift_tau_s: float = 0.5
    shake_sd: float = 0.0
    world_sd_m: float = 0.0
    world_drift_m: float = 0.0
    dropout_rate: float = 0.0
    dropout_frames: int = 2
    blip_rate: float = 0.0
    blip_px: float = 30.0
    seed: int = 0


#: MediaPipe-like noise for a 1280x720 clip with the person about 600 px tall. Scaled from what the model
#: does on the rendered development clips (shared/synth_dev README: split squat from the front, hip-line
#: error 0.6 deg after a baseline, which bounds its jitter to about 0.4 px per hip at 640x480, 1/140 of
#: the hip width): here 0.7 px white plus 0.4 px drifting per landmark on a 51 px hip width (about 1.5
#: times that), camera shake, 3 mm white and 1.5 mm drifting world-landmark noise, dropped frames (1 % of
#: frames start a 2-frame gap) and low-visibility blips.
REALISTIC = Noise(pixel_sd=0.7, drift_sd=0.4, drift_tau_s=0.5, shake_sd=1.0, world_sd_m=0.003,
                  world_drift_m=0.0015, dropout_rate=0.01, dropout_frames=2, blip_rate=0.005)


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], sd: float, tau_frames: float) -> np.ndarray:
    if sd <= 0:
        return np.zeros(shape)
    a = np.exp(-1.0 / max(tau_frames, 1e-6))
    e = rng.normal(0, sd * np.sqrt(1 - a * a), shape)
    out = np.empty(shape)
    out[0] = rng.normal(0, sd, shape[1:])
    for i in range(1, shape[0]):
        out[i] = a * out[i - 1] + e[i]
    return out


def render(motion: Motion, camera: Camera = Camera(), noise: Noise = Noise(), body: Body = Body(),
           fps: float | None = None) -> PoseTrack:
    """The PoseTrack a perfect (or, with `noise`, a MediaPipe-like) pose model would give of `motion`."""
    scene = pose_scene(motion, body)
    t = len(motion)
    fps = fps or (1.0 / np.median(np.diff(motion.time_s)) if t > 1 else 30.0)
    image, cam = camera.project(scene)
    hips = (cam[:, L.LEFT_HIP] + cam[:, L.RIGHT_HIP]) / 2
    world = cam - hips[:, None, :]
    vis = np.full((t, 33), 0.95)
    rng = np.random.default_rng(noise.seed)
    tau = noise.drift_tau_s * fps
    image[..., :2] += rng.normal(0, noise.pixel_sd, (t, 33, 2)) if noise.pixel_sd else 0.0
    image[..., :2] += _ar1(rng, (t, 33, 2), noise.drift_sd, tau)
    image[..., :2] += _ar1(rng, (t, 1, 2), noise.shake_sd, 2.0)
    if noise.world_sd_m:
        world += rng.normal(0, noise.world_sd_m, world.shape)
    world += _ar1(rng, world.shape, noise.world_drift_m, tau)
    if noise.blip_rate:
        blips = rng.random((t, 33)) < noise.blip_rate
        vis[blips] = 0.2
        image[blips, :2] += rng.normal(0, noise.blip_px, (int(blips.sum()), 2))
    people = np.ones(t, dtype=np.int64)
    if noise.dropout_rate:
        for i in np.flatnonzero(rng.random(t) < noise.dropout_rate):
            sl = slice(i, min(t, i + noise.dropout_frames))
            image[sl], world[sl], vis[sl], people[sl] = np.nan, np.nan, 0.0, 0
    return PoseTrack(time_s=np.asarray(motion.time_s, float), frame_index=np.arange(t), image_px=image,
                     visibility=vis, presence=vis.copy(), world_m=world, n_people=people,
                     frame_size_wh=camera.size_wh, fps=fps, source="synthetic", model="ground-truth")


# -- exercises ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RepTruth:
    start_s: float
    peak_s: float
    end_s: float
    faults: dict[str, float]


@dataclass
class Clip:
    """A rendered exercise and its truth: the track, the motion, the working/free sides, the reps, and the
    per-frame truth of the measures the analysers report (keyed like `Analysis.frames`)."""

    exercise: str
    track: PoseTrack
    motion: Motion
    side: Side
    free_side: Side
    reps: list[RepTruth]
    truth: dict[str, np.ndarray]


def _schedule(n_reps: int, fps: float, rep_s: float | list[float], rest_s: float, lead_s: float,
              tail_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """time, rep index (-1 = none), depth 0..1 (sin^2 of progress), and each rep's (start, end) time."""
    durs = [rep_s] * n_reps if np.isscalar(rep_s) else list(rep_s)
    bounds, t0 = [], lead_s
    for d in durs:
        bounds.append((t0, t0 + d))
        t0 += d + rest_s
    total = t0 - rest_s + tail_s
    time = np.arange(int(round(total * fps))) / fps
    idx = np.full(len(time), -1)
    depth = np.zeros(len(time))
    for i, (a, b) in enumerate(bounds):
        m = (time >= a) & (time <= b)
        idx[m] = i
        depth[m] = np.sin(np.pi * (time[m] - a) / (b - a)) ** 2
    return time, idx, depth, bounds


def _per_rep(faults: list[dict[str, float]] | None, n: int) -> list[dict[str, float]]:
    faults = list(faults or [])
    return [dict(faults[i]) if i < len(faults) else {} for i in range(n)]


def _fault_track(key: str, faults: list[dict[str, float]], idx: np.ndarray, depth: np.ndarray) -> np.ndarray:
    amp = np.array([faults[i].get(key, 0.0) if i >= 0 else 0.0 for i in idx])
    return amp * depth


def _obliquity_for_drop(drop: np.ndarray, free: Side) -> np.ndarray:
    return -drop if free == "left" else drop


def _rotation_for_back(back: np.ndarray, free: Side) -> np.ndarray:
    return back if free == "left" else -back


def _finish(exercise: str, motion: Motion, camera: Camera, noise: Noise, body: Body, side: Side, free: Side,
            bounds, faults, drop, back, fps, extra_truth) -> Clip:
    track = render(motion, camera, noise, body, fps)
    reps = [RepTruth(a, (a + b) / 2, b, faults[i]) for i, (a, b) in enumerate(bounds)]
    w = side
    k, g = np.radians(motion.knee_flexion_deg[w]), np.radians(motion.knee_valgus_deg[w])
    truth = {
        "pelvic_drop_deg": drop,
        "pelvis_rotation_deg": back,
        "pelvis_obliquity_deg": motion.pelvis_obliquity_deg,
        "hip_flexion_deg": motion.hip_flexion_deg[w],
        "hip_abduction_deg": motion.hip_abduction_deg[w],
        "knee_flexion_deg": np.degrees(np.arccos(np.cos(k) * np.cos(g))),  # the 3-D angle at the knee
        "trunk_lean_deg": (1.0 if w == "left" else -1.0) * motion.trunk_lean_left_deg,
        **extra_truth,
    }
    return Clip(exercise, track, motion, side, free, reps, truth)


def split_squat(n_reps: int = 3, side: Side = "right", faults: list[dict[str, float]] | None = None,
                camera: Camera | None = None, noise: Noise = Noise(), body: Body = Body(), fps: float = 30.0,
                rep_s: float | list[float] = 2.4, rest_s: float = 0.6, lead_s: float = 1.0,
                tail_s: float = 0.6, depth_deg: float = 95.0) -> Clip:
    """Bulgarian split squats on the `side` (front) leg. Fault keys per rep: `drop_deg` (free = rear side;
    negative = hike), `rotation_deg` (free side back), `trunk_lean_deg` (towards the working side),
    `valgus_deg` (front knee), `depth_deg` (front knee flexion at the bottom, default `depth_deg`)."""
    time, idx, d, bounds = _schedule(n_reps, fps, rep_s, rest_s, lead_s, tail_s)
    faults = _per_rep(faults, n_reps)
    free = other(side)
    bottom = np.array([faults[i].get("depth_deg", depth_deg) if i >= 0 else depth_deg for i in idx])
    drop = _fault_track("drop_deg", faults, idx, d)
    back = _fault_track("rotation_deg", faults, idx, d)
    lean = _fault_track("trunk_lean_deg", faults, idx, d)
    knee_w = 25.0 + (bottom - 25.0) * d
    motion = Motion(
        time_s=time,
        pelvis_obliquity_deg=_obliquity_for_drop(drop, free),
        pelvis_rotation_deg=_rotation_for_back(back, free),
        hinge_deg=5.0 + 15.0 * d,
        trunk_lean_left_deg=(1.0 if side == "left" else -1.0) * lean,
        hip_flexion_deg={side: 40.0 + (knee_w - 25.0) * 0.8, free: -10.0 + 5.0 * d},
        knee_flexion_deg={side: knee_w, free: 80.0 + 30.0 * d},
        knee_valgus_deg={side: _fault_track("valgus_deg", faults, idx, d)},
        grounded=side,
    )
    return _finish("split-squat", motion, camera or camera_for("front"), noise, body, side, free, bounds, faults,
                   drop, back, fps, {"drive_deg": knee_w})


def single_leg_rdl(n_reps: int = 3, side: Side = "left", faults: list[dict[str, float]] | None = None,
                   camera: Camera | None = None, noise: Noise = Noise(), body: Body = Body(), fps: float = 30.0,
                   rep_s: float | list[float] = 2.8, rest_s: float = 0.6, lead_s: float = 1.0,
                   tail_s: float = 0.6, hinge_deg: float = 80.0) -> Clip:
    """Single-leg RDLs standing on `side`. Fault keys per rep: `drop_deg` (free = lifted side), `rotation_deg`
    (free side back: the hip opening), `trunk_lean_deg`, `valgus_deg` (stance knee), `hinge_deg` (depth)."""
    time, idx, d, bounds = _schedule(n_reps, fps, rep_s, rest_s, lead_s, tail_s)
    faults = _per_rep(faults, n_reps)
    free = other(side)
    bottom = np.array([faults[i].get("hinge_deg", hinge_deg) if i >= 0 else hinge_deg for i in idx])
    hinge = 5.0 + (bottom - 5.0) * d
    drop = _fault_track("drop_deg", faults, idx, d)
    back = _fault_track("rotation_deg", faults, idx, d)
    lean = _fault_track("trunk_lean_deg", faults, idx, d)
    motion = Motion(
        time_s=time,
        pelvis_obliquity_deg=_obliquity_for_drop(drop, free),
        pelvis_rotation_deg=_rotation_for_back(back, free),
        hinge_deg=hinge,
        trunk_lean_left_deg=(1.0 if side == "left" else -1.0) * lean,
        hip_flexion_deg={side: hinge + 5.0, free: -5.0},
        knee_flexion_deg={side: 10.0 + 10.0 * d, free: 15.0 + 10.0 * d},
        knee_valgus_deg={side: _fault_track("valgus_deg", faults, idx, d)},
        grounded=side,
    )
    return _finish("single-leg-rdl", motion, camera or camera_for("back"), noise, body, side, free, bounds,
                   faults, drop, back, fps, {"drive_deg": hinge})


def side_lying_abduction(n_reps: int = 3, side: Side = "left", faults: list[dict[str, float]] | None = None,
                         camera: Camera | None = None, noise: Noise = Noise(), body: Body = Body(),
                         fps: float = 30.0, rep_s: float | list[float] = 2.2, rest_s: float = 0.6,
                         lead_s: float = 1.0, tail_s: float = 0.6, top_deg: float = 40.0) -> Clip:
    """Side-lying abduction of the top leg `side` (lying on the other side, facing the camera). Fault keys
    per rep: `drop_deg` (negative = hike of the top hip towards the head), `rotation_deg` (pelvis rolling
    back), `hip_flexion_deg` (top leg forward, added to its -10 deg), `knee_bend_deg` (top knee, added to
    4 deg), `top_deg` (abduction at the top)."""
    time, idx, d, bounds = _schedule(n_reps, fps, rep_s, rest_s, lead_s, tail_s)
    faults = _per_rep(faults, n_reps)
    top = np.array([faults[i].get("top_deg", top_deg) if i >= 0 else top_deg for i in idx])
    abd = 2.0 + (top - 2.0) * d
    drop = _fault_track("drop_deg", faults, idx, d)
    back = _fault_track("rotation_deg", faults, idx, d)
    bottom_leg = other(side)
    motion = Motion(
        time_s=time,
        placement="lying_right" if side == "left" else "lying_left",
        root_m=np.array([0.0, 0.0, 0.15]),
        pelvis_obliquity_deg=_obliquity_for_drop(drop, side),
        pelvis_rotation_deg=_rotation_for_back(back, side),
        hip_flexion_deg={side: -10.0 + _fault_track("hip_flexion_deg", faults, idx, d), bottom_leg: 40.0},
        hip_abduction_deg={side: abd},
        knee_flexion_deg={side: 4.0 + _fault_track("knee_bend_deg", faults, idx, d), bottom_leg: 85.0},
    )
    return _finish("side-lying-abduction", motion, camera or lying_camera(), noise, body, side, side, bounds,
                   faults, drop, back, fps, {"drive_deg": abd})


# -- rendered ground truth (shared/synth_dev) ------------------------------------------------------------

_GT_JOINTS = {"shoulder": "SHOULDER", "elbow": "ELBOW", "wrist": "WRIST", "hip": "HIP", "knee": "KNEE",
              "ankle": "ANKLE", "toe": "FOOT_INDEX"}


def track_from_ground_truth(json_path) -> tuple[PoseTrack, dict, list[dict]]:
    """A PoseTrack from a rendered clip's ground truth (`shared/synth_dev/NAME.json`): the true 2-D joints
    as image landmarks (visibility 1), the true 3-D joints turned into the camera's axes and centred between
    the hips as world landmarks, everything else missing. Returns (track, meta, frames)."""
    import json

    data = json.loads(open(json_path, encoding="utf-8").read())
    meta, frames = data["meta"], data["frames"]
    cam = meta["camera"]
    r, t_cam, f = np.array(cam["R"]), np.array(cam["t"]), float(np.array(cam["K"])[0, 0])
    n = len(frames)
    image, world, vis = np.full((n, 33, 3), np.nan), np.full((n, 33, 3), np.nan), np.zeros((n, 33))
    for i, fr in enumerate(frames):
        for key, (u, v) in fr["joints_2d"].items():
            part, s = key.split("_")
            lm = L[("LEFT_" if s == "L" else "RIGHT_") + _GT_JOINTS[part]]
            image[i, lm, :2] = (u, v)
            world[i, lm] = r @ np.asarray(fr["joints_3d"][key]) + t_cam
            vis[i, lm] = 1.0
        hips = (world[i, L.LEFT_HIP] + world[i, L.RIGHT_HIP]) / 2
        image[i, :, 2] = (world[i, :, 2] - hips[2]) * f / hips[2]
        world[i] -= hips
    track = PoseTrack(time_s=np.array([fr["time_s"] for fr in frames]), frame_index=np.arange(n), image_px=image,
                      visibility=vis, presence=vis.copy(), world_m=world, n_people=np.ones(n, dtype=np.int64),
                      frame_size_wh=tuple(cam["size"]), fps=float(meta["fps"]), source=str(json_path),
                      model="ground-truth joints")
    return track, meta, frames
