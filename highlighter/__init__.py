"""highlighter: find goals, cards and substitutions in full-length soccer match videos.

The Python API (see highlighter.api): ``tag``, ``frames``, ``load_model``, ``train``, ``evaluate``.
"""

__version__ = "0.1.0"

from highlighter.api import evaluate, frames, load_model, tag, train  # noqa: E402  (after the version: setup.cfg reads it)

__all__ = ["__version__", "evaluate", "frames", "load_model", "tag", "train"]
