"""The ring of raw frames from the decoding process to the clip process: what goes in comes out, slots are
given back and reused, and either side may go away without the other failing."""

import os
import sys

import numpy as np
import pytest

import glutecam.raw_frames as raw_frames
from glutecam.raw_frames import (MAX_SLOTS, RawFrameReader, RawFrameRing, RawFrameWriter, available_memory,
                                 frame_bytes)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ring is Linux-only")

SIZE = (64, 48)


def _picture(seed: int) -> np.ndarray:
    """A smooth picture (gradients, as video is) that differs with `seed`."""
    y, x = np.mgrid[0:SIZE[1], 0:SIZE[0]]
    img = np.stack([x * 3 + seed, y * 4 + 2 * seed, (x + y) * 2 + 40], axis=-1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _sides(slots: int):
    """A ring of `slots` frames, its writer and its reader, each side with its own copy of its pipe end (as
    in the two processes); the parent's descriptors closed."""
    ring = RawFrameRing.create(SIZE, budget=slots * frame_bytes(SIZE))
    assert ring is not None and ring.slots == slots
    dec, clip = ring.decoder_spec(), ring.clip_spec()
    dec = dict(dec, fd=os.dup(dec["fd"]), free=os.dup(dec["free"]))
    clip = dict(clip, fd=os.dup(clip["fd"]), free=os.dup(clip["free"]))
    ring.close()
    return RawFrameWriter(dec), RawFrameReader(clip), dec["free"], clip["free"]


def test_a_frame_comes_back_as_it_went_in_but_for_its_colour_resolution():
    writer, reader, *_ = _sides(3)
    pictures = [_picture(s) for s in (0, 30, 60)]
    slots = [writer.put(p) for p in pictures]
    assert sorted(slots) == [0, 1, 2]
    for p, s in zip(pictures, slots):
        back = reader.take(s)
        assert back.shape == p.shape and back.dtype == np.uint8
        # YUV 4:2:0 halves the colour's resolution: on smooth gradients the error is a couple of levels
        assert np.abs(back.astype(int) - p).mean() < 2.0 and np.abs(back.astype(int) - p).max() <= 8
    flat = np.full((SIZE[1], SIZE[0], 3), (30, 200, 250), np.uint8)
    assert np.abs(reader.take(writer.put(flat)).astype(int) - flat).max() <= 3


def test_when_every_slot_is_taken_frames_go_without_a_copy_until_one_is_given_back():
    writer, reader, *_ = _sides(2)
    assert writer.put(np.zeros((50, 64, 3), np.uint8)) is None  # not the ring's size: no copy, no slot used
    a, b = writer.put(_picture(0)), writer.put(_picture(10))
    assert {a, b} == {0, 1}
    assert writer.put(_picture(20)) is None  # the decoding process does not wait
    reader.take(b)
    c = writer.put(_picture(30))
    assert c == b and writer.put(_picture(40)) is None
    assert np.abs(reader.take(c).astype(int) - _picture(30)).mean() < 2.0  # the new frame, not the old one


def test_when_the_clip_process_is_gone_no_slot_comes_back_and_nothing_fails():
    writer, reader, _, clip_end = _sides(2)
    writer.put(_picture(0))
    reader.take(0)
    os.close(clip_end)  # the clip process ended: its end of the pipe closes
    assert writer.put(_picture(1)) == 0  # given back before it ended
    assert writer.put(_picture(2)) == 1 and writer.put(_picture(3)) is None


def test_when_the_decoding_process_is_gone_giving_a_slot_back_does_not_fail():
    writer, reader, decoder_end, _ = _sides(2)
    writer.put(_picture(0))
    os.close(decoder_end)  # nobody reads the pipe any more
    assert np.abs(reader.take(0).astype(int) - _picture(0)).mean() < 2.0


def test_a_ring_is_made_only_where_it_can_be(monkeypatch):
    monkeypatch.setattr(raw_frames, "available_memory", lambda: None)  # unknown: the budget alone
    ring = RawFrameRing.create((1280, 720))
    assert ring is not None and ring.slots == 180  # the default budget: 250 MB of 1.38 MB frames
    ring.close()
    ring.close()  # twice is harmless
    small = RawFrameRing.create((64, 48))
    assert small.slots == MAX_SLOTS
    small.close()
    assert RawFrameRing.create((641, 480)) is None  # YUV 4:2:0 needs even sizes
    assert RawFrameRing.create(SIZE, budget=frame_bytes(SIZE)) is None  # one slot is no ring
    monkeypatch.delattr(os, "memfd_create")  # not Linux
    assert RawFrameRing.create(SIZE) is None


def test_the_ring_takes_no_more_than_an_eighth_of_the_available_memory(monkeypatch):
    assert available_memory() > 0  # read from /proc/meminfo
    monkeypatch.setattr(raw_frames, "available_memory", lambda: 800_000_000)
    ring = RawFrameRing.create((1280, 720))
    assert ring.slots == 100_000_000 // frame_bytes((1280, 720)) == 72  # 100 MB, not 250
    ring.close()
    monkeypatch.setattr(raw_frames, "available_memory", lambda: 16_000_000)
    assert RawFrameRing.create((1280, 720)) is None  # 2 MB: a single 720p frame; no ring
