"""Errors a user can act on: the CLI prints their message as one line and exits non-zero."""

from __future__ import annotations

from pathlib import Path


class HighlighterError(Exception):
    """Base class for every error caused by input the user gave (files, options, data)."""


class VideoError(HighlighterError):
    """A video file is missing, unreadable, has no video stream, or yields no frames."""


class ConfigError(HighlighterError):
    """A configuration file is missing or malformed."""


def failure_message(path: Path, exc: Exception) -> str:
    """One line for an input that failed: the library's own message, or the OS error and its file."""
    if isinstance(exc, HighlighterError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{path}: {exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    return f"{path}: {type(exc).__name__}: {exc}"
