"""Which frames to keep: the frame on screen at each sampling tick, chosen from real timestamps."""

from __future__ import annotations

import math
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")

#: Timestamps within this many seconds of a tick count as on screen at the tick (container rounding).
TICK_TOLERANCE_S = 5e-4


def on_screen(
    items: Iterable[T], rate: float, time_of: Callable[[T], float], until: float | None = None
) -> Iterator[T]:
    """Yield, from ``items`` in presentation order, the one on screen at each tick ``k / rate``.

    An item is on screen from its own time until the next item's time, so the item for tick t is the
    last one whose time is <= t. Ticks run from 0 to the last item's time, or to ``until`` if later (the
    last frame's time when the items are only the key frames). An item that covers several
    ticks (a hole of dropped frames, or a rate above the video's) is yielded once, at its first tick.
    """
    if rate <= 0:
        raise ValueError(f"sampling rate must be positive, got {rate}")
    tick = 0  # the first tick not yet given an item
    previous: T | None = None
    previous_time = 0.0
    for item in items:
        now = time_of(item)
        if previous is not None:
            first = _first_tick_at_or_after(previous_time, tick, rate)
            if first / rate + TICK_TOLERANCE_S < now:  # the previous item is on screen at that tick
                yield previous
                tick = first + 1
        previous, previous_time = item, now
    if previous is not None:
        first = _first_tick_at_or_after(previous_time, tick, rate)
        if first / rate <= max(previous_time, until or 0.0) + TICK_TOLERANCE_S:
            yield previous


def _first_tick_at_or_after(time_s: float, tick: int, rate: float) -> int:
    return max(tick, math.ceil((time_s - TICK_TOLERANCE_S) * rate))
