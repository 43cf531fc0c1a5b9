"""Errors a user can act on: the CLI prints their message as one line and exits non-zero."""


class HighlighterError(Exception):
    """Base class for every error caused by input the user gave (files, options, data)."""


class VideoError(HighlighterError):
    """A video file is missing, unreadable, has no video stream, or yields no frames."""


class ConfigError(HighlighterError):
    """A configuration file is missing or malformed."""
