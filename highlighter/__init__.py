"""highlighter: find goals, cards and substitutions in full-length soccer match videos."""

__version__ = "0.1.0"
