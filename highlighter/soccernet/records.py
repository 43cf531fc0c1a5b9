"""Training examples as light records: which game, which class, and where the image lives."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FrameRecord:
    """One labelled image. ``store`` + ``key`` locate its pixels: a zip file and member name
    (SoccerNet-v3 frames) or a cached array file and row (frames sampled from SoccerNet-v2 videos)."""

    game: str  # league/season/game
    label: str  # the SoccerNet-v2 label, or "background"
    source: str  # v3-action, v3-replay, v2-event, v2-background
    store: str
    key: str | int
    time_s: float | None = None
    half: int | None = None
