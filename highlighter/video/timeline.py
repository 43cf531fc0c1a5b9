"""Which frames to keep (the frame on screen at each sampling tick, chosen from real timestamps), and one
continuous timeline from timestamps that jump."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

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


#: In formats whose timestamps may jump (FFmpeg's AVFMT_TS_DISCONT: MPEG-TS and the like), a forward step
#: longer than this is a discontinuity, not a hole: FFmpeg's own threshold (``-dts_delta_threshold``).
FORWARD_JUMP_S = 10.0


@dataclass(frozen=True)
class Discontinuity:
    """A timestamp jump: the new segment starts at ``position_s`` on the continuous timeline; ``jump_s`` is
    the raw step between the frames either side (negative: backward)."""

    position_s: float
    jump_s: float

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return {"position_s": round(self.position_s, 3), "jump_s": round(self.jump_s, 3)}


class Clock:
    """Raw timestamps in, one continuous timeline out.

    A raw time more than ``backward_slack_s`` before the latest one of its segment, or (when
    ``forward_limit_s`` is set) more than that after it, starts a new segment: its time becomes the latest
    time plus one frame, and later times keep that offset. Anything else passes through shifted by the
    current offset, so forward holes stay holes where no forward limit is set. Where only some frames are
    seen (key frames), ``known`` jumps (from a scan of every packet) give the n-th jump its true place.
    """

    def __init__(self, frame_s: float, forward_limit_s: float | None = None,
                 backward_slack_s: float = TICK_TOLERANCE_S, known: Sequence[Discontinuity] = ()) -> None:
        self.frame_s = frame_s
        self.forward_limit_s = forward_limit_s
        self.backward_slack_s = backward_slack_s
        self.known = known
        self.offset = 0.0
        self.latest: float | None = None  # latest raw time of the current segment
        self.discontinuities: list[Discontinuity] = []

    def __call__(self, raw: float) -> float:
        """The continuous time of a frame (or packet) whose raw time is ``raw``."""
        if self.latest is not None:
            step = raw - self.latest
            forward = self.forward_limit_s is not None and step > self.forward_limit_s
            if forward or step < -self.backward_slack_s:
                count = len(self.discontinuities)
                jump = self.known[count] if count < len(self.known) else None
                jump = jump or Discontinuity(self.latest + self.offset + self.frame_s, step)
                self.discontinuities.append(jump)
                self.offset = jump.position_s - raw
                self.latest = raw
        self.latest = raw if self.latest is None else max(self.latest, raw)
        return raw + self.offset
