"""Run an iterator in a background thread so its producer (decoding) overlaps with its consumer."""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_DONE = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Yield ``items`` while a thread computes up to ``depth`` of them ahead.

    Memory stays bounded by ``depth`` items. Exceptions in the producer are re-raised in the consumer.
    Closing the returned generator (or breaking out of a loop over it) stops the producer.
    """
    if depth <= 0:
        yield from items
        return
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((_DONE, exc))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator stopped early runs its clean-up now, in this thread
                close()
        put((_DONE, None))

    worker = threading.Thread(target=produce, name="highlighter-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = buffer.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join()
