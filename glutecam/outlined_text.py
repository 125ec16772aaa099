"""Text with a dark outline, as drawn on the clip and the live picture, kept as stamps for reuse.

The outline is the text drawn in black at a few small offsets, under the text itself (a thicker stroke would
advance wider and smear: Hershey glyphs). Drawn with `cv2.putText` onto the frame, that is a call per offset
and one for the text, each rasterising every glyph: 0.2 ms for a line of 30 characters at 720p. Most lines
repeat from frame to frame (the rep, faults, the analysis's text), so a text drawn a second time is made
into a stamp, what the calls do to each pixel, and blended from it after that: 0.06 ms. A clip frame's
drawing went from 1.3 to 0.9 ms (720p, five lines). Each `putText` with `LINE_AA` blends its colour in by
the glyph's coverage, so the black copies keep the product of (1 - coverage) of the pixel beneath, then the
text's colour goes on top by its own coverage; the stamp holds both, in 1/256ths, and matches the calls
within 2 levels in 255 (they round after each call).
"""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX


def _stamp(text: str, size: float, thick: int, colour: tuple[int, int, int],
           offsets: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """What the drawing keeps of each pixel beneath (h, w, 1) and what it adds (h, w, 3), both in 1/256ths;
    x, y px of the text's origin in them."""
    (tw, th), baseline = cv2.getTextSize(text, FONT, size, thick)
    pad = thick + 2 + max((max(abs(dx), abs(dy)) for dx, dy in offsets), default=0)
    ox, oy = pad, pad + th
    glyphs = np.zeros((th + baseline + 2 * pad, tw + 2 * pad), np.uint8)
    cv2.putText(glyphs, text, (ox, oy), FONT, size, 255, thick, cv2.LINE_AA)
    cover = glyphs.astype(np.float32) / 255.0  # of each pixel by the text, 0-1
    kept = 1.0 - cover  # what the text keeps of the pixel beneath, then the outline's copies
    h, w = cover.shape
    for dx, dy in offsets:  # the stamp's margin holds every shifted copy whole
        kept[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)] *= \
            1.0 - cover[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    keep, add = fixed_point(cover, kept, colour)
    return keep, add, ox, oy


def fixed_point(cover: np.ndarray, kept: np.ndarray, colour: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(keep (h, w, 1), add (h, w, 3)) uint16 in 1/256ths, from coverage and what is kept (h, w; 0-1), for
    (pixel * keep + add + 128) >> 8. With kept <= 1 - cover that sum stays within 16 bits, rounding included
    (at most 65535, for a pixel of 255: checked for every coverage and colour by the tests)."""
    keep = np.rint(256.0 * kept)[..., None].astype(np.uint16)
    add = np.rint(256.0 * cover[..., None] * np.asarray(colour, np.float32)).astype(np.uint16)
    return keep, add


def _put_directly(img: np.ndarray, text: str, org: tuple[int, int], size: float, colour: tuple[int, int, int],
                  thick: int, offsets: tuple[tuple[int, int], ...]) -> None:
    x, y = org
    for dx, dy in offsets:
        cv2.putText(img, text, (x + dx, y + dy), FONT, size, (0, 0, 0), thick, cv2.LINE_AA)
    cv2.putText(img, text, (x, y), FONT, size, colour, thick, cv2.LINE_AA)


class OutlinedText:
    """Draws outlined text on frames; a text drawn a second time (with the same size, colour and outline) is
    kept as a stamp, up to `keep` of them, the least recently drawn given up first. A text seen once (the
    time, an angle) is drawn directly: making its stamp took twice as long as the calls. One per drawing
    thread: the stamps are not shared."""

    def __init__(self, keep: int = 64) -> None:
        self.keep = keep
        self._stamps: OrderedDict[tuple, tuple] = OrderedDict()
        self._seen: OrderedDict[tuple, None] = OrderedDict()  # drawn once, no stamp yet

    def put(self, img: np.ndarray, text: str, org: tuple[int, int], size: float, colour: tuple[int, int, int],
            thick: int, offsets: tuple[tuple[int, int], ...]) -> None:
        """Draw `text` on `img` (BGR uint8, in place) at `org` (x, y px: the left end of its baseline, as
        `cv2.putText`), in `colour` over black copies of it shifted by each of `offsets` (dx, dy px)."""
        org = (int(org[0]), int(org[1]))
        key = (text, float(size), int(thick), tuple(int(c) for c in colour), tuple(offsets))
        stamp = self._stamps.get(key)
        if stamp is not None:
            self._stamps.move_to_end(key)
        elif key in self._seen:
            del self._seen[key]
            stamp = self._stamps[key] = _stamp(*key)
            if len(self._stamps) > self.keep:
                self._stamps.popitem(last=False)
        else:
            self._seen[key] = None
            if len(self._seen) > 4 * self.keep:
                self._seen.popitem(last=False)
            _put_directly(img, text, org, size, colour, thick, offsets)
            return
        _blend(img, stamp, org)


def _blend(img: np.ndarray, stamp: tuple, org: tuple[int, int]) -> None:
    keep, add, ox, oy = stamp
    x0, y0 = org[0] - ox, org[1] - oy
    h, w = keep.shape[:2]
    ih, iw = img.shape[:2]
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(iw, x0 + w), min(ih, y0 + h)
    if xa >= xb or ya >= yb:
        return
    inside = np.s_[ya - y0:yb - y0, xa - x0:xb - x0]
    roi = img[ya:yb, xa:xb]
    out = roi.astype(np.uint16)
    out *= keep[inside]
    out += add[inside]
    out += 128
    out >>= 8
    roi[...] = out
