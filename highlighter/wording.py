"""Counts and suggestions as a person reads them: ``1 window``, ``4 windows``; ``did you mean 'goal'?``."""

from __future__ import annotations

import difflib


def counted(count: int, noun: str) -> str:
    """``1 goal``, ``0 cards``, ``4 windows`` (English plural by ``s``; a noun already ending in s is kept)."""
    return f"{count} {noun}" if count == 1 or noun.endswith("s") else f"{count} {noun}s"


def did_you_mean(word: str, choices: list[str]) -> str:
    """`` (did you mean 'goal'?)`` for the closest of ``choices``, or nothing when none is close."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
