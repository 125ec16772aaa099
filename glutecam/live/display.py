"""Where the live picture goes: a `Display` shows BGR images and reports the keys pressed.

`CvDisplay` is the OpenCV window; `MemoryDisplay` keeps the last images in memory and plays a script of
key presses, so the live loop runs end to end in tests and with `--no-window`, without a screen.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

import numpy as np


class DisplayError(RuntimeError):
    """No window can be opened (no screen); the message says what to do instead."""


@runtime_checkable
class Display(Protocol):
    """A sink for the live picture. The loop calls `show` once per frame, then `poll_key`."""

    def show(self, image: np.ndarray) -> None:
        """Put one BGR image on screen (must return quickly: no waiting for the next frame)."""

    def poll_key(self) -> str | None:
        """The key pressed since the last call as a one-character string ("\\x1b" for Esc), or None."""

    @property
    def closed(self) -> bool:
        """True once the user closed the window."""

    def close(self) -> None:
        """Release the window (safe to call twice)."""


def screen_available() -> bool:
    """Whether a window can be opened: always on Windows and macOS, with an X or Wayland display on Linux."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class CvDisplay:
    """An OpenCV window (resizable, aspect kept). Raises `DisplayError` when there is no screen, instead of
    letting the GUI toolkit abort the process."""

    def __init__(self, title: str = "glutecam") -> None:
        if not screen_available():
            raise DisplayError("no screen to open a window on (DISPLAY is not set); "
                               "run with --no-window to coach without a window, or run it on the desktop")
        import cv2

        self._cv2 = cv2
        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO)
        except cv2.error as exc:
            raise DisplayError(f"cannot open a window: {str(exc).strip().splitlines()[-1]}") from None
        self._key: int = -1
        self._shown = 0
        self._visibility_known = True
        self._closed = False

    def show(self, image: np.ndarray) -> None:
        if self._closed:
            return
        cv2 = self._cv2
        if self._shown == 0:
            cv2.resizeWindow(self.title, image.shape[1], image.shape[0])
        cv2.imshow(self.title, image)
        self._shown += 1
        self._key = cv2.waitKey(1)  # also lets the window paint; 1 ms is the shortest wait OpenCV allows
        if not self._visibility_known:
            return
        try:
            visible = cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE)
        except cv2.error:
            visible = 0
        if self._shown == 1 and visible < 0:  # this GUI backend cannot tell: rely on the keys only
            self._visibility_known = False
        elif visible < 1:  # the user closed the window
            self._closed = True

    def poll_key(self) -> str | None:
        key, self._key = self._key, -1
        if key is None or key < 0:
            return None
        key &= 0xFF
        return None if key == 0xFF else chr(key)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed or self._shown:
            try:
                self._cv2.destroyWindow(self.title)
                self._cv2.waitKey(1)
            except Exception:
                pass
        self._closed = True


#: A script of key presses: {number of images shown so far: key}, or a function of (count, image).
KeyScript = Mapping[int, str] | Callable[[int, np.ndarray], str | None]


class MemoryDisplay:
    """Keeps the last `keep` images (and every show time) in memory; no window, no screen needed.

    `keys` plays key presses: after the n-th image (1-based) `poll_key` returns `keys[n]`; or call
    `press(key)` from anywhere. `close_after` simulates the user closing the window after that many images.
    """

    def __init__(self, keys: KeyScript | None = None, keep: int = 2, close_after: int | None = None) -> None:
        self.images: deque[np.ndarray] = deque(maxlen=max(0, keep))
        self.shown = 0
        self.shown_at: list[float] = []  # time.monotonic() of every show
        self.sizes: set[tuple[int, int]] = set()
        self._script = keys
        self._pending: deque[str] = deque()
        self._close_after = close_after
        self._closed = False

    def show(self, image: np.ndarray) -> None:
        if self._closed:
            return
        self.shown += 1
        self.shown_at.append(time.monotonic())
        self.sizes.add((image.shape[1], image.shape[0]))
        if self.images.maxlen:
            self.images.append(image.copy())
        script = self._script
        key = None
        if callable(script):
            key = script(self.shown, image)
        elif script is not None:
            key = script.get(self.shown)
        if key:
            self._pending.append(key)
        if self._close_after is not None and self.shown >= self._close_after:
            self._closed = True

    def press(self, key: str) -> None:
        self._pending.append(key)

    def poll_key(self) -> str | None:
        return self._pending.popleft() if self._pending else None

    @property
    def last(self) -> np.ndarray | None:
        return self.images[-1] if self.images else None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
