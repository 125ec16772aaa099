"""Drawing on frames: skeleton, pelvis line with its angle, time, rep number and fault labels.

`Annotator.annotate(scene, image_px, visibility, overlay) -> scene` draws on the BGR image in place (no copy)
and returns it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from glutecam.landmarks import SKELETON, Landmark
from glutecam.outlined_text import OutlinedText

LEFT_COLOUR = (255, 170, 60)  # BGR: the subject's left side in blue
RIGHT_COLOUR = (60, 170, 255)  # right side in orange
MID_COLOUR = (235, 235, 235)
PELVIS_COLOUR = (80, 255, 80)
FAULT_COLOUR = (40, 40, 230)
GOOD_COLOUR = (90, 200, 90)


@dataclass
class Overlay:
    """What to write on one frame besides the skeleton."""

    time_s: float
    pelvis_obliquity_deg: float = float("nan")
    lines: list[str] = field(default_factory=list)  # extra text lines, top-left, under the time
    rep: int = 0
    faults: list[str] = field(default_factory=list)  # labels shown in red at the bottom
    banner: str = ""  # large centred text (e.g. "Slow motion: rep 2")


def _colour(a: Landmark, b: Landmark) -> tuple[int, int, int]:
    if a.name.startswith("LEFT") and b.name.startswith("LEFT"):
        return LEFT_COLOUR
    if a.name.startswith("RIGHT") and b.name.startswith("RIGHT"):
        return RIGHT_COLOUR
    return MID_COLOUR


#: Where the black copies of a text lie around it, px. Hershey glyphs advance further at thickness > 1 than at
#: 1, so a thicker black outline drifts away from thin text along the line; the same thickness, shifted.
OUTLINE = ((-2, 0), (2, 0), (0, -2), (0, 2), (-1, -1), (1, 1), (-1, 1), (1, -1))


class Annotator:
    """Draws a frame's overlay; one per drawing thread (it keeps the texts it drew: `OutlinedText`)."""

    def __init__(self, min_visibility: float = 0.3, scale: float | None = None) -> None:
        self.min_visibility = min_visibility
        self.scale = scale
        self._texts = OutlinedText()

    def _text(self, img, text, org, size, colour, thick=1):
        self._texts.put(img, text, org, size, colour, thick, OUTLINE)

    def annotate(self, scene: np.ndarray, image_px: np.ndarray | None, visibility: np.ndarray | None,
                 overlay: Overlay) -> np.ndarray:
        """Draw on `scene` (BGR, modified in place). `image_px` (33, 3) pixels, NaN where missing."""
        h, w = scene.shape[:2]
        s = self.scale or max(h, w) / 900.0
        lw = max(1, int(round(2 * s)))
        if image_px is not None and np.isfinite(image_px[Landmark.LEFT_HIP, 0]):
            xy = image_px[:, :2]
            vis = visibility if visibility is not None else np.ones(len(xy))
            for a, b in SKELETON:
                if vis[a] < self.min_visibility or vis[b] < self.min_visibility:
                    continue
                pa, pb = xy[a], xy[b]
                if not (np.all(np.isfinite(pa)) and np.all(np.isfinite(pb))):
                    continue
                cv2.line(scene, (int(pa[0]), int(pa[1])), (int(pb[0]), int(pb[1])), _colour(a, b), lw, cv2.LINE_AA)
            for i in range(len(xy)):
                if i > 10 and vis[i] >= self.min_visibility and np.all(np.isfinite(xy[i])):
                    cv2.circle(scene, (int(xy[i, 0]), int(xy[i, 1])), lw + 1, MID_COLOUR, -1, cv2.LINE_AA)
            lh, rh = xy[Landmark.LEFT_HIP], xy[Landmark.RIGHT_HIP]
            cv2.line(scene, (int(lh[0]), int(lh[1])), (int(rh[0]), int(rh[1])), PELVIS_COLOUR, lw * 2, cv2.LINE_AA)
            if np.isfinite(overlay.pelvis_obliquity_deg):
                mid = (lh + rh) / 2
                self._text(scene, f"{overlay.pelvis_obliquity_deg:+.1f} deg",
                           (int(mid[0] + 12 * s), int(mid[1] - 12 * s)), 0.6 * s, PELVIS_COLOUR, max(1, lw // 2))
        y = int(28 * s)
        self._text(scene, f"t {overlay.time_s:6.2f} s", (int(10 * s), y), 0.7 * s, (255, 255, 255), max(1, lw // 2))
        if overlay.rep:
            self._text(scene, f"rep {overlay.rep}", (w - int(130 * s), y), 0.8 * s, (255, 255, 255), lw)
        for line in overlay.lines:
            y += int(26 * s)
            self._text(scene, line, (int(10 * s), y), 0.6 * s, (255, 255, 255), max(1, lw // 2))
        yb = h - int(14 * s)
        for label in reversed(overlay.faults):
            self._text(scene, label, (int(10 * s), yb), 0.75 * s, FAULT_COLOUR, lw)
            yb -= int(30 * s)
        if overlay.banner:
            size = 0.9 * s
            (tw, th), _ = cv2.getTextSize(overlay.banner, cv2.FONT_HERSHEY_SIMPLEX, size, lw)
            self._text(scene, overlay.banner, ((w - tw) // 2, int(60 * s) + th), size, (0, 230, 255), lw)
        return scene
