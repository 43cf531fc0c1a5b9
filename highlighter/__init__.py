"""highlighter: find goals, cards and substitutions in full-length soccer match videos.

The Python API (see highlighter.api): ``tag``, ``frames``, ``load_model``, ``train``, ``evaluate``.
"""

import os

from highlighter.version import __version__

# torch's OpenMP threads otherwise spin between operations, taking the CPU time the decoder needs: measured
# on 2 cores, scoring with 2 spinning threads cost 25-30% more CPU for the same work and no less wall time.
# This takes effect only before torch is first imported, and a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from highlighter.api import evaluate, frames, load_model, tag, train  # noqa: E402  (after the thread setting)

__all__ = ["__version__", "evaluate", "frames", "load_model", "tag", "train"]
