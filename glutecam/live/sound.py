"""Optional sound: a short tone per rep (higher for a good rep) and the cue spoken aloud.

Nothing here ever blocks the frame loop: calls only put a request in a one-slot queue; a worker thread
starts the player as a subprocess (no shell) and never waits for it. A request arriving while the worker is
busy replaces the waiting one, and a new cue interrupts one still being spoken: stale speech is worse than
none. Speech uses `espeak-ng` (or `espeak`, or macOS `say`) when installed; tones use `paplay`, `aplay`,
`pw-play` or `afplay`. `NoSound` is the default, and what tests use.
"""

from __future__ import annotations

import math
import os
import queue
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import wave
from pathlib import Path
from typing import Protocol

SPEECH_ENGINES = (("espeak-ng", ["-s", "165"]), ("espeak", ["-s", "165"]), ("say", []))
TONE_PLAYERS = (("paplay", []), ("aplay", ["-q"]), ("pw-play", []), ("afplay", []))


class Sound(Protocol):
    def rep_done(self, good: bool | None) -> None:
        """A tone for a finished rep (None: the rep could not be judged)."""

    def say(self, text: str) -> None:
        """Speak a cue."""

    def close(self) -> None:
        """Stop the worker; players already running finish on their own."""


class NoSound:
    """Silence (the default)."""

    def rep_done(self, good: bool | None) -> None:
        pass

    def say(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def write_tone(path: Path, freq_hz: float, duration_s: float = 0.15, rate: int = 22050) -> Path:
    """A short sine tone with soft edges, as 16-bit mono WAV."""
    n = int(rate * duration_s)
    fade = max(1, int(rate * 0.01))
    frames = bytearray()
    for i in range(n):
        env = min(1.0, i / fade, (n - 1 - i) / fade)
        frames += struct.pack("<h", int(0.4 * 32767 * env * math.sin(2 * math.pi * freq_hz * i / rate)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


def find_program(candidates) -> list[str] | None:
    for name, args in candidates:
        path = shutil.which(name)
        if path:
            return [path, *args]
    return None


class SystemSound:
    """Tones and speech through the system's players, from a worker thread (see the module docstring).

    `speech` / `tone_player`: command prefixes (the text or WAV path is appended); found on the PATH when
    None. `available` says what was found, so the caller can tell the user.
    """

    def __init__(self, speech: list[str] | None = None, tone_player: list[str] | None = None,
                 speak_cues: bool = True, tones: bool = True) -> None:
        self.speech = speech if speech is not None else (find_program(SPEECH_ENGINES) if speak_cues else None)
        self.tone_player = tone_player if tone_player is not None else (find_program(TONE_PLAYERS) if tones else None)
        self._tones: dict[str, Path] = {}
        if self.tone_player:
            folder = Path(tempfile.mkdtemp(prefix="glutecam-sound-"))
            self._tones = {"good": write_tone(folder / "good.wav", 880.0), "fault": write_tone(folder / "fault.wav", 330.0),
                           "unmeasured": write_tone(folder / "unmeasured.wav", 550.0, 0.08)}
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=1)
        self._speaking: subprocess.Popen | None = None
        self._children: list[subprocess.Popen] = []
        self.started = 0  # players started (for tests and the session summary)
        self.dropped = 0  # requests replaced before they could start
        self._thread = threading.Thread(target=self._work, name="glutecam-sound", daemon=True)
        self._thread.start()

    @property
    def available(self) -> dict[str, str | None]:
        return {"speech": self.speech[0] if self.speech else None,
                "tones": self.tone_player[0] if self.tone_player else None}

    def _put(self, item: tuple[str, str]) -> None:
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()  # replace the waiting request with the newer one
                    self.dropped += 1
                except queue.Empty:
                    pass

    def rep_done(self, good: bool | None) -> None:
        if self.tone_player:
            self._put(("tone", "unmeasured" if good is None else "good" if good else "fault"))

    def say(self, text: str) -> None:
        if self.speech and text:
            self._put(("say", text))

    def _spawn(self, args: list[str]) -> subprocess.Popen | None:
        try:
            p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, close_fds=True)
        except OSError:
            return None
        self.started += 1
        self._children = [c for c in self._children if c.poll() is None] + [p]
        return p

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            kind, value = item
            if kind == "tone":
                self._spawn([*self.tone_player, str(self._tones[value])])
            else:
                if self._speaking is not None and self._speaking.poll() is None:
                    self._speaking.terminate()  # the newer cue matters more than the end of the old one
                self._speaking = self._spawn([*self.speech, value])

    def close(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._queue.put(None)
        self._thread.join(timeout=1)
        for folder in {p.parent for p in self._tones.values()}:
            shutil.rmtree(folder, ignore_errors=True)


def make_sound(enabled: bool) -> tuple[Sound, str]:
    """`SystemSound` when `enabled` and something can play, else `NoSound`; with a note for the user."""
    if not enabled:
        return NoSound(), ""
    s = SystemSound()
    found = s.available
    if not found["speech"] and not found["tones"]:
        s.close()
        hint = "install espeak-ng and alsa-utils" if sys.platform.startswith("linux") else "no player found"
        return NoSound(), f"sound is off: no speech engine or audio player was found ({hint})"
    missing = [k for k, v in found.items() if not v]
    note = f"sound: {', '.join(f'{k} via {os.path.basename(v)}' for k, v in found.items() if v)}"
    if "speech" in missing:
        note += " (install espeak-ng to hear the cues spoken)"
    return s, note
