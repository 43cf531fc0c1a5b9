"""The background decoder thread: overlap, bounded look-ahead, errors and early stops."""

import threading
import time

import pytest

from highlighter.video.prefetch import Prefetcher


def test_items_arrive_in_order():
    assert list(Prefetcher(range(100), depth=3)) == list(range(100))


def test_producer_runs_at_most_depth_items_ahead():
    produced = []

    def producer():
        for item in range(50):
            produced.append(item)
            yield item

    stream = Prefetcher(producer(), depth=2)
    assert next(stream) == 0
    time.sleep(0.3)
    assert len(produced) <= 1 + 2 + 1  # consumed + queued + one waiting to be queued
    stream.close()


def test_producer_runs_in_another_thread_while_the_consumer_works():
    threads = set()

    def producer():
        for item in range(3):
            threads.add(threading.current_thread().name)
            yield item

    assert list(Prefetcher(producer())) == [0, 1, 2]
    assert threads == {"highlighter-prefetch"}


def test_errors_reach_the_consumer():
    def producer():
        yield 1
        raise ValueError("broken video")

    stream = Prefetcher(producer())
    assert next(stream) == 1
    with pytest.raises(ValueError, match="broken video"):
        next(stream)


def test_closing_early_stops_the_thread():
    stream = Prefetcher(iter(range(10**9)), depth=1)
    next(stream)
    stream.close()
    assert not any(t.name == "highlighter-prefetch" for t in threading.enumerate())
