"""Ctrl+C and SIGTERM: stop at the next safe point, never in the middle of writing a result.

`install_sigterm_handler()` makes SIGTERM (what `kill`, systemd, Docker and job schedulers send) behave
like Ctrl+C everywhere: the main thread gets a `Terminated`, a `KeyboardInterrupt`, so every
`except KeyboardInterrupt` that keeps the results so far handles both.

`stop_on_signals()` is for long jobs that own a frame loop (`glutecam analyse`): while it is active, the
first Ctrl+C or SIGTERM only sets a `StopRequest`, which the loop checks once per frame; the job then
writes everything computed so far and returns. A second Ctrl+C raises `KeyboardInterrupt` at once, for a
user who does not want to wait (outputs are written under temporary names, so none is left half-written).

Signal handlers can only be set from the main thread; elsewhere both are no-ops and the `StopRequest`
simply never fires.

>>> with stop_on_signals() as stop:
...     bool(stop), stop.reason
(False, None)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_NAMES = {signal.SIGINT: "Ctrl+C", signal.SIGTERM: "SIGTERM"}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread and handled like Ctrl+C."""


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def install_sigterm_handler() -> bool:
    """Turn SIGTERM into `Terminated` in the main thread. Returns False (and does nothing) elsewhere."""
    if not _in_main_thread():
        return False
    signal.signal(signal.SIGTERM, _raise_terminated)
    return True


class StopRequest:
    """Falsy until a stop was asked for; then `reason` says how ("Ctrl+C" or "SIGTERM")."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None

    @property
    def reason(self) -> str | None:
        return None if self.signum is None else _NAMES.get(self.signum, f"signal {self.signum}")

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask for a stop (what the signal handler does; also usable from code and tests)."""
        if self.signum is None:
            self.signum = signum


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Within the block, Ctrl+C/SIGTERM set the yielded `StopRequest`; a second one raises at once."""
    stop = StopRequest()
    if not _in_main_thread():
        yield stop
        return

    def handler(signum, frame) -> None:
        if stop:
            raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        stop.request(signum)

    previous = {}
    for s in _NAMES:
        old = signal.getsignal(s)
        if old is None:  # installed from C: cannot be restored from Python, leave it alone
            continue
        previous[s] = old
        signal.signal(s, handler)
    try:
        yield stop
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
