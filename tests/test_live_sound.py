"""Sound never blocks the frame loop: players run as subprocesses started from a worker thread."""

import sys
import time
import wave

from glutecam.live.sound import NoSound, SystemSound, make_sound, write_tone

# A "player" that takes a second, like speech would, and records what it was asked to play.
SLOW = [sys.executable, "-c", "import sys, time; open(sys.argv[1] + '.log', 'a').write('x'); time.sleep(1)"]


def test_calls_return_at_once_even_while_a_slow_player_runs(tmp_path):
    s = SystemSound(speech=SLOW, tone_player=SLOW)
    try:
        t0 = time.perf_counter()
        for i in range(20):
            s.say(str(tmp_path / f"cue{i}"))
            s.rep_done(True)
        elapsed = time.perf_counter() - t0
        assert elapsed < 0.05  # 40 calls; each only puts a request in a one-slot queue
        deadline = time.monotonic() + 5
        while s.started == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert s.started >= 1
        assert s.dropped > 0  # requests arriving faster than players start replace each other: no backlog
    finally:
        s.close()


def test_a_new_cue_interrupts_the_one_still_being_spoken(tmp_path):
    s = SystemSound(speech=SLOW, tone_player=[])
    try:
        s.say(str(tmp_path / "first"))
        deadline = time.monotonic() + 5
        while s.started < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        first = s._speaking
        s.say(str(tmp_path / "second"))
        while s.started < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert first.wait(timeout=2) != 0  # terminated, not left talking over the new cue
    finally:
        s.close()


def test_tones_are_short_valid_wav(tmp_path):
    path = write_tone(tmp_path / "t.wav", 880.0, 0.15)
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 1 and abs(w.getnframes() / w.getframerate() - 0.15) < 0.01


def test_sound_is_off_unless_asked_for():
    sound, note = make_sound(False)
    assert isinstance(sound, NoSound) and note == ""
