"""Every way a time is written for people and for other tools, in one place: timecodes in events files and
tables, the match clock of pages and captions, YouTube's chapter times, and durations."""

from __future__ import annotations

import math


def timecode(seconds: float) -> str:
    """``HH:MM:SS.s`` (events files, CSV, tables)."""
    tenths = int(round(seconds * 10))
    return f"{tenths // 36000:02d}:{tenths // 600 % 60:02d}:{tenths // 10 % 60:02d}.{tenths % 10}"


def _hours_minutes_seconds(seconds: float, minute_digits: int) -> str:
    whole = max(int(math.floor(seconds + 1e-6)), 0)
    hours, rest = divmod(whole, 3600)
    if hours:
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{rest // 60:0{minute_digits}d}:{rest % 60:02d}"


def clock(seconds: float) -> str:
    """``MM:SS`` (``H:MM:SS`` from an hour on), seconds rounded down: how players show time."""
    return _hours_minutes_seconds(seconds, 2)


def youtube_time(seconds: float) -> str:
    """``M:SS`` or ``H:MM:SS``, as YouTube writes chapter times."""
    return _hours_minutes_seconds(seconds, 1)


def precise_clock(seconds: float) -> str:
    """``MM:SS.s``: a frame's time to a tenth of a second."""
    whole, tenth = divmod(int(round(max(seconds, 0.0) * 10)), 10)
    return f"{clock(whole)}.{tenth}"


def match_clock(time_s: float, half: int | None) -> str:
    """A time as a viewer reads it: ``1H 12:34`` in a game folder's half, else ``12:34``."""
    return f"{half}H {clock(time_s)}" if half else clock(time_s)


def duration_text(seconds: float | None) -> str:
    """``1:32:05`` / ``45:00``, or a dash where it is not known."""
    return "–" if seconds is None else clock(seconds)


def seconds_text(seconds: float | None) -> str:
    """``12.345 s``, or a dash where it is not known."""
    return "-" if seconds is None else f"{seconds:.3f} s"
