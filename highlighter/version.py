"""The version of highlighter (setup.cfg reads it; checkpoints and pages record it)."""

__version__ = "0.1.0"
