"""Run an iterator in a background thread with a bounded queue, so decoding overlaps inference."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def prefetch(items: Iterable[T], maxsize: int = 4) -> Iterator[T]:
    """Yield `items` as produced by a worker thread at most `maxsize` ahead of the consumer.

    An exception in the producer is re-raised in the consumer. Closing the generator early (break,
    Ctrl+C) stops the producer at its next item.
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, maxsize))
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, name="glutecam-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=2)
