import cv2
import numpy as np
import pytest

from glutecam.annotate import OUTLINE
from glutecam.outlined_text import FONT, OutlinedText, fixed_point


def put_text_calls(img, text, org, size, colour, thick, offsets):
    """The drawing the stamps stand for: black copies at the offsets, then the text, each blended by OpenCV."""
    for dx, dy in offsets:
        cv2.putText(img, text, (org[0] + dx, org[1] + dy), FONT, size, (0, 0, 0), thick, cv2.LINE_AA)
    cv2.putText(img, text, org, FONT, size, colour, thick, cv2.LINE_AA)


@pytest.mark.parametrize("text, org, size, colour, thick", [
    ("pelvic drop 4.3 deg (front view)", (10, 60), 0.85, (255, 255, 255), 1),
    ("rep 12", (1100, 40), 1.13, (255, 255, 255), 3),
    ("Slow motion: rep 2", (400, 100), 1.28, (0, 230, 255), 3),
    ("cut by the left and top edges", (-40, 6), 1.0, (40, 40, 230), 2),
    ("cut by the right and bottom edges", (1100, 719), 1.0, (40, 40, 230), 2),
])
@pytest.mark.parametrize("offsets", [OUTLINE, ((-2, 0), (2, 0), (0, -2), (0, 2))])
def test_a_text_drawn_again_from_its_stamp_looks_as_drawn_by_opencv(text, org, size, colour, thick, offsets):
    scene = np.random.default_rng(0).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    expected = scene.copy()
    put_text_calls(expected, text, org, size, colour, thick, offsets)
    texts = OutlinedText()
    for _ in range(3):  # drawn directly, then stamped, then from the stamp
        got = scene.copy()
        texts.put(got, text, org, size, colour, thick, offsets)
        diff = np.abs(got.astype(int) - expected)
        changed = (expected != scene).any(axis=2).sum()
        # rounding: once in 1/256ths here, against OpenCV's 8 bits after each of its calls
        assert diff.max() <= 2 and (diff == 2).sum() <= 3 and changed > 500
        assert abs((got != scene).any(axis=2).sum() - changed) <= 0.01 * changed
    assert len(texts._stamps) == 1


def test_a_text_outside_the_frame_draws_nothing():
    scene = np.full((100, 200, 3), 7, np.uint8)
    texts = OutlinedText()
    for _ in range(2):
        texts.put(scene, "away", (-500, -500), 1.0, (255, 255, 255), 2, OUTLINE)
    assert (scene == 7).all()


def test_stamps_are_kept_for_texts_seen_twice_and_at_most_keep_of_them():
    scene = np.zeros((100, 400, 3), np.uint8)
    texts = OutlinedText(keep=8)
    for i in range(50):  # the time, different every frame: never stamped
        texts.put(scene, f"t {i / 30:6.2f} s", (10, 30), 0.7, (255, 255, 255), 1, OUTLINE)
    assert not texts._stamps
    for _ in range(2):
        for i in range(20):
            texts.put(scene, f"label {i}", (10, 60), 0.7, (255, 255, 255), 1, OUTLINE)
    assert list(texts._stamps) == [("label " + str(i), 0.7, 1, (255, 255, 255), OUTLINE) for i in range(12, 20)]


def test_the_blend_fits_16_bits_for_every_coverage_and_colour():
    """(pixel * keep + add + 128) is computed in uint16: past 65535 a white pixel would wrap to black."""
    cover = (np.arange(256, dtype=np.float32) / 255.0)[:, None].repeat(3, axis=1)  # a coverage a row
    worst = 0
    for level in range(256):  # the colour's channels, all of them
        keep, add = fixed_point(cover, 1.0 - cover, (level, level, level))
        worst = max(worst, int((255 * keep.astype(np.int64) + add).max()) + 128)
    assert worst <= 65535
