"""Displays: the in-memory one plays scripted keys; the OpenCV one refuses cleanly without a screen."""

import numpy as np
import pytest

from glutecam.live.display import CvDisplay, Display, DisplayError, MemoryDisplay


def image(value=0):
    return np.full((48, 64, 3), value, np.uint8)


def test_memory_display_keeps_the_last_images_and_counts_every_one():
    d = MemoryDisplay(keep=2)
    for v in range(5):
        d.show(image(v))
    assert d.shown == 5 and len(d.shown_at) == 5 and d.sizes == {(64, 48)}
    assert [int(i[0, 0, 0]) for i in d.images] == [3, 4]
    assert isinstance(d, Display)


def test_scripted_keys_arrive_after_the_numbered_image():
    d = MemoryDisplay(keys={2: "p", 4: "q"})
    got = []
    for v in range(5):
        d.show(image(v))
        got.append(d.poll_key())
    assert got == [None, "p", None, "q", None]


def test_a_key_function_sees_each_image():
    d = MemoryDisplay(keys=lambda n, img: "r" if img[0, 0, 0] == 7 else None)
    got = []
    for v in (5, 6, 7, 8):
        d.show(image(v))
        got.append(d.poll_key())
    assert got == [None, None, "r", None]


def test_closing_after_n_images_is_reported_and_later_images_are_ignored():
    d = MemoryDisplay(close_after=2)
    for v in range(4):
        d.show(image(v))
    assert d.closed and d.shown == 2


def test_the_window_refuses_without_a_screen_instead_of_aborting(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    with pytest.raises(DisplayError, match="--no-window"):
        CvDisplay()
