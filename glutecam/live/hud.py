"""The live picture: camera image, skeleton, pelvis line with its angle, a level gauge, the rep counter, the
current cue, the last rep's verdict, set-up instructions and an optional debug line (latency, frame rate).

`LiveAnnotator.annotate(scene, pose, hud) -> scene` draws on `scene` in place, like `glutecam.annotate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from glutecam.annotate import Annotator, Overlay
from glutecam.feedback import Cue
from glutecam.outlined_text import OutlinedText
from glutecam.track import FramePose

FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)
#: Box colour (BGR) per cue severity.
CUE_COLOURS = {"praise": (60, 150, 40), "info": (150, 100, 30), "minor": (0, 120, 230), "major": (30, 30, 210)}
INSTRUCTION_COLOUR = (140, 80, 20)
GOOD, BAD, GREY = (60, 190, 60), (40, 40, 230), (160, 160, 160)


@dataclass
class Hud:
    """Everything the live picture shows besides the camera image and the skeleton."""

    time_s: float
    stage: str = "setup"  # setup | calibrating | counting
    paused: bool = False
    instruction: str = ""  # set-up / calibration instruction, shown big in the middle
    progress: float = 0.0  # 0..1 of the set-up hold or the calibration
    cue: Cue | None = None
    rep_count: int = 0
    last_rep: str = ""  # "Rep 2: good", "Rep 3: pelvic drop 8 deg"
    last_rep_good: bool | None = None
    pelvis_obliquity_deg: float = math.nan  # raw hip-line angle, drawn by the pelvis line
    level_deg: float = math.nan  # the gauge: pelvic drop from baseline, + = free side lower
    level_limit_deg: float = 5.0  # fault threshold marked on the gauge
    movement_phase: str = ""  # the analyser's phase ("down", "up", "lift", ...)
    warning: str = ""  # a set-up problem that appeared during the set (shown small)
    note: str = ""  # what this camera cannot show (`setup.VIEW_LIMITS`), shown small under the instruction
    debug: list[str] = field(default_factory=list)  # lines shown when the debug overlay is on
    keys_help: str = "p pause   r recalibrate   d debug   q quit"


def _fit(text: str, size: float, thick: int, max_w: int) -> float:
    """Largest font size <= `size` at which `text` fits in `max_w` pixels."""
    (tw, _), _ = cv2.getTextSize(text, FONT, size, thick)
    return size if tw <= max_w else max(0.3, size * max_w / tw)


def _box_text(img, text, centre_x, top_y, size, thick, colour, max_w):
    """Text centred on `centre_x` in a filled box whose top is at `top_y`; returns the box's bottom."""
    size = _fit(text, size, thick, max_w)
    (tw, th), base = cv2.getTextSize(text, FONT, size, thick)
    pad = max(4, th // 2)
    x0, y0 = int(centre_x - tw / 2 - pad), int(top_y)
    x1, y1 = int(centre_x + tw / 2 + pad), int(top_y + th + base + 2 * pad)
    roi = img[max(0, y0):max(0, y1), max(0, x0):max(0, x1)]
    if roi.size:
        fill = np.empty_like(roi)
        fill[:] = colour
        cv2.addWeighted(fill, 0.8, roi, 0.2, 0, dst=roi)
    cv2.putText(img, text, (x0 + pad, y0 + pad + th), FONT, size, WHITE, thick, cv2.LINE_AA)
    return y1


class LiveAnnotator:
    """Draws the live picture. `scale` None: sized from the frame (like `glutecam.annotate.Annotator`)."""

    def __init__(self, scale: float | None = None, gauge_range_deg: float = 15.0) -> None:
        self.scale = scale
        self.gauge_range_deg = gauge_range_deg
        self._skeleton = Annotator(scale=scale)
        self._texts = OutlinedText()

    def _text(self, img, text, org, size, colour, thick):
        """Text with a dark outline: black copies `thick` px (at least 1) around it (`OutlinedText`)."""
        d = max(1, thick)
        self._texts.put(img, text, org, size, colour, thick, ((-d, 0), (d, 0), (0, -d), (0, d)))

    def annotate(self, scene: np.ndarray, pose: FramePose | None, hud: Hud, debug: bool = False) -> np.ndarray:
        h, w = scene.shape[:2]
        s = self.scale or max(h, w) / 900.0
        lw = max(1, int(round(2 * s)))
        if pose is not None and not hud.paused:
            self._skeleton.annotate(scene, pose.image_px, pose.visibility,
                                    Overlay(time_s=hud.time_s, pelvis_obliquity_deg=hud.pelvis_obliquity_deg))
        else:
            self._text(scene, f"t {hud.time_s:6.2f} s", (int(10 * s), int(28 * s)), 0.7 * s, WHITE, max(1, lw // 2))
        self._counter(scene, hud, s, lw)
        self._gauge(scene, hud, s, lw)
        y = int(40 * s)
        stage = {"setup": "SET-UP", "calibrating": "CALIBRATING", "counting": hud.movement_phase.upper()}
        label = stage.get(hud.stage, hud.stage.upper())
        if label:
            self._text(scene, label, (int(10 * s), y + int(22 * s)), 0.6 * s, (200, 220, 255), max(1, lw // 2))
        if hud.paused:
            _box_text(scene, "Paused: press p to continue", w / 2, h * 0.4, 1.0 * s, lw, INSTRUCTION_COLOUR, w - 20)
        elif hud.instruction:
            bottom = _box_text(scene, hud.instruction, w / 2, h * 0.38, 0.95 * s, lw, INSTRUCTION_COLOUR, w - 20)
            if hud.progress > 0:
                bw = int(w * 0.4)
                x0, y0 = int(w / 2 - bw / 2), bottom + int(6 * s)
                cv2.rectangle(scene, (x0, y0), (x0 + bw, y0 + int(8 * s)), GREY, 1)
                cv2.rectangle(scene, (x0, y0), (x0 + int(bw * min(1.0, hud.progress)), y0 + int(8 * s)), GOOD, -1)
            if hud.note:
                self._text(scene, hud.note, (int(10 * s), bottom + int(40 * s)),
                           _fit(hud.note, 0.6 * s, 1, w - 20), (0, 220, 255), 1)
        if hud.cue is not None and not hud.paused:
            colour = CUE_COLOURS.get(hud.cue.severity, INSTRUCTION_COLOUR)
            _box_text(scene, hud.cue.text, w / 2, h - int(80 * s), 1.05 * s, lw + 1, colour, w - 20)
        if hud.warning and not hud.paused:
            self._text(scene, hud.warning, (int(10 * s), h - int(100 * s)),
                       _fit(hud.warning, 0.55 * s, 1, w - 20), (0, 220, 255), 1)
        self._text(scene, hud.keys_help, (int(10 * s), h - int(10 * s)), 0.45 * s, (210, 210, 210), 1)
        if debug and hud.debug:
            yy = y + int(50 * s)
            for line in hud.debug:
                self._text(scene, line, (int(10 * s), yy), 0.5 * s, (0, 255, 255), 1)
                yy += int(20 * s)
        return scene

    def _counter(self, scene, hud: Hud, s: float, lw: int) -> None:
        h, w = scene.shape[:2]
        text = str(hud.rep_count)
        size = 1.8 * s
        (tw, th), _ = cv2.getTextSize(text, FONT, size, lw + 2)
        x = w - tw - int(16 * s)
        self._text(scene, text, (x, int(16 * s) + th), size, WHITE, lw + 2)
        self._text(scene, "reps", (x - int(52 * s), int(16 * s) + th), 0.6 * s, WHITE, max(1, lw // 2))
        if hud.last_rep:
            colour = GREY if hud.last_rep_good is None else GOOD if hud.last_rep_good else BAD
            size = _fit(hud.last_rep, 0.6 * s, max(1, lw // 2), int(w * 0.5))
            (tw2, th2), _ = cv2.getTextSize(hud.last_rep, FONT, size, max(1, lw // 2))
            self._text(scene, hud.last_rep, (w - tw2 - int(16 * s), int(30 * s) + th + th2), size, colour,
                       max(1, lw // 2))

    def _gauge(self, scene, hud: Hud, s: float, lw: int) -> None:
        """A spirit level: the bar spans +-range deg, the green band is inside the fault threshold."""
        h, w = scene.shape[:2]
        value = hud.level_deg if math.isfinite(hud.level_deg) else hud.pelvis_obliquity_deg
        bw, bh = int(220 * s), int(14 * s)
        x0, y0 = (w - bw) // 2, int(34 * s)  # top centre, like a spirit level on the frame
        rng = self.gauge_range_deg
        cv2.rectangle(scene, (x0, y0), (x0 + bw, y0 + bh), (40, 40, 40), -1)
        lim = min(abs(hud.level_limit_deg), rng)
        gx0 = int(x0 + bw / 2 - bw / 2 * lim / rng)
        gx1 = int(x0 + bw / 2 + bw / 2 * lim / rng)
        cv2.rectangle(scene, (gx0, y0), (gx1, y0 + bh), (40, 110, 40), -1)
        cx = x0 + bw // 2
        cv2.line(scene, (cx, y0 - int(3 * s)), (cx, y0 + bh + int(3 * s)), WHITE, 1)
        label = "level" if math.isfinite(hud.level_deg) else "hip line"
        if math.isfinite(value):
            v = max(-rng, min(rng, value))
            px = int(cx + bw / 2 * v / rng)
            colour = GOOD if abs(value) <= hud.level_limit_deg else BAD
            cv2.circle(scene, (px, y0 + bh // 2), max(3, int(bh * 0.7)), colour, -1, cv2.LINE_AA)
            cv2.circle(scene, (px, y0 + bh // 2), max(3, int(bh * 0.7)), WHITE, 1, cv2.LINE_AA)
            label = f"{label} {value:+.1f} deg"
        else:
            label = f"{label}: not measured"
        self._text(scene, label, (x0, y0 - int(8 * s)), 0.5 * s, WHITE, 1)
