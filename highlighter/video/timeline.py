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
    ticks (a hole of dropped frames, or a rate above the video's) is yielded once, at its first tick. An
    item without a finite time (a damaged frame's) is never on screen.
    """
    if rate <= 0:
        raise ValueError(f"sampling rate must be positive, got {rate}")
    tick = 0  # the first tick not yet given an item
    previous: T | None = None
    previous_time = 0.0
    for item in items:
        now = time_of(item)
        if not math.isfinite(now):
            continue
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
#: longer than this is a discontinuity, not a hole: FFmpeg's own threshold (``-dts_delta_threshold``). In any
#: format a longer step is only taken once the items after it confirm it (see :meth:`Clock.retime`).
FORWARD_JUMP_S = 10.0
#: A step back (or far forward) is taken as a new segment only when this many items after it stay off the old
#: timeline; an item back on it within them shows the ones before it were a glitch (damaged data decoding as
#: a few late or misnumbered frames), and those are dropped.
GLITCH_MAX_ITEMS = 12
#: A forward step is a hole (lost or damaged data), not a splice, where the bytes between the items either side
#: could have carried at least this share of the missing time at the file's byte rate so far: a splice has one
#: item's bytes there, a damaged stretch its whole length.
HOLE_MIN_BYTE_SHARE = 0.1


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
    current offset, so forward holes stay holes where no forward limit is set, and also where the item's
    byte position (``pos``) shows that the bytes in between could have carried the missing time (data lost
    to damage, not a splice). Where only some frames are seen (key frames), ``known`` jumps (from a scan of
    every packet) give the n-th jump its true place. :meth:`retime` adds the look-ahead that tells a
    glitch of a few items from a real jump.
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
        self.dropped = 0  # items left out by retime: without a finite time, or glitches
        self._first: tuple[int, float] | None = None  # (byte position, continuous time) of the first item
        self._bytes_read: int | None = None  # the furthest byte position seen

    def __call__(self, raw: float, pos: int | None = None) -> float:
        """The continuous time of a frame (or packet) whose raw time is ``raw`` and, where known, whose data
        starts at byte ``pos`` of the file."""
        if self.latest is not None:
            step = raw - self.latest
            forward = self.forward_limit_s is not None and step > self.forward_limit_s and not self._lost(step, pos)
            if forward or step < -self.backward_slack_s:
                count = len(self.discontinuities)
                jump = self.known[count] if count < len(self.known) else None
                jump = jump or Discontinuity(self.latest + self.offset + self.frame_s, step)
                self.discontinuities.append(jump)
                self.offset = jump.position_s - raw
                self.latest = raw
        self.latest = raw if self.latest is None else max(self.latest, raw)
        if pos is not None and pos >= 0:
            self._first = self._first or (pos, raw + self.offset)
            self._bytes_read = max(self._bytes_read or pos, pos)
        return raw + self.offset

    def retime(self, items: Iterable[T], raw_of: Callable[[T], float | None],
               pos_of: Callable[[T], int | None] | None = None) -> Iterator[tuple[float, T]]:
        """``(continuous time, item)`` for ``items`` in order, with a look-ahead: after a step that would
        start a new segment (back beyond the slack, or forward beyond ``FORWARD_JUMP_S``), the items are held
        until one returns to the old timeline (the held ones were a glitch: dropped) or ``GLITCH_MAX_ITEMS``
        stay off it (a real jump: all are timed as :meth:`__call__` times them). Items without a finite raw
        time are dropped too; ``dropped`` counts both."""
        held: list[tuple[float, int | None, T]] = []
        for item in items:
            raw = raw_of(item)
            if raw is None or not math.isfinite(raw):
                self.dropped += 1
                continue
            pos = pos_of(item) if pos_of is not None else None
            if self.latest is not None and not self._continues(raw):
                held.append((raw, pos, item))
                if len(held) == GLITCH_MAX_ITEMS:
                    yield from ((self(*entry[:2]), entry[2]) for entry in held)
                    held = []
                continue
            self.dropped += len(held)
            held = []
            yield self(raw, pos), item
        yield from ((self(raw, pos), item) for raw, pos, item in held)

    def _continues(self, raw: float) -> bool:
        """Whether ``raw`` is an ordinary step on from the latest time (not back, not far ahead)."""
        return -self.backward_slack_s <= raw - self.latest <= max(FORWARD_JUMP_S, self.forward_limit_s or 0.0)

    def _lost(self, step: float, pos: int | None) -> bool:
        """Whether the bytes before ``pos`` could have carried ``step`` seconds at the byte rate so far."""
        if pos is None or pos < 0 or self._first is None or self._bytes_read is None:
            return False
        first_pos, first_time = self._first
        elapsed = self.latest + self.offset - first_time
        if elapsed <= 0 or self._bytes_read <= first_pos:
            return False
        byte_rate = (self._bytes_read - first_pos) / elapsed
        return pos - self._bytes_read >= HOLE_MIN_BYTE_SHARE * byte_rate * step
