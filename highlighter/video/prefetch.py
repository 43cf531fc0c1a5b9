"""Run an iterator in a background thread so its producer (decoding) overlaps with its consumer."""

from __future__ import annotations

import queue
import threading
from typing import Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")

_DONE = object()


class Prefetcher(Generic[T], Iterator[T]):
    """Yield ``items`` while a thread computes up to ``depth`` of them ahead.

    The thread starts at once, so the producer works before the first item is asked for (decoding runs
    while the model loads). Memory stays bounded by ``depth`` items. Exceptions in the producer are
    re-raised in the consumer. ``close()`` (or running to the end) stops the producer, also before the
    first item was taken.
    """

    def __init__(self, items: Iterable[T], depth: int = 2) -> None:
        self._buffer: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._stop = threading.Event()
        # the thread holds the queue and the stop flag, not this object, so an abandoned stream is collected
        self._worker = threading.Thread(target=_produce, args=(items, self._buffer, self._stop),
                                        name="highlighter-prefetch", daemon=True)
        self._worker.start()

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        item, error = self._buffer.get()
        if item is _DONE:
            self.close()
            if error is not None:
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        """Stop the producer and wait for its thread to end."""
        self._stop.set()
        self._worker.join()

    def __del__(self) -> None:
        self._stop.set()  # an abandoned stream lets its thread end (its put gives up)


def _put(buffer: queue.Queue, stop: threading.Event, entry: tuple) -> bool:
    while not stop.is_set():
        try:
            buffer.put(entry, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _produce(items: Iterable, buffer: queue.Queue, stop: threading.Event) -> None:
    try:
        for item in items:
            if not _put(buffer, stop, (item, None)):
                return
    except BaseException as exc:  # handed to the consumer, which re-raises it
        _put(buffer, stop, (_DONE, exc))
        return
    finally:
        close = getattr(items, "close", None)
        if close is not None:  # a generator stopped early runs its clean-up now, in this thread
            close()
    _put(buffer, stop, (_DONE, None))
