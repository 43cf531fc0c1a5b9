"""A PNG of an input's score curves over the match with its events marked."""

from __future__ import annotations

import io
from pathlib import Path

from highlighter.atomic import atomic_write
from highlighter.labels import BACKGROUND, class_colour
from highlighter.outputs.result import TagResult


def write_plot(result: TagResult, path: Path) -> Path:
    """A PNG of the score curves over the match with the events marked (and the loudness of the match audio,
    grey, where it was measured)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(result.curves)
    figure, axes = plt.subplots(panels, 1, figsize=(14, 3.2 * panels), squeeze=False)
    for axis, (half, curves) in zip(axes[:, 0], result.curves):
        minutes = curves.times / 60
        for column, cls in enumerate(curves.classes):
            if cls != BACKGROUND:
                axis.plot(minutes, curves.probabilities[:, column], lw=0.8, label=cls, color=class_colour(cls, curves.classes))
        for event in (e for e in result.events if e.half == half):
            axis.axvline(event.time_s / 60, color=class_colour(event.label, result.classes), ls="--", lw=1)
            axis.text(event.time_s / 60, 1.02, event.label, rotation=90, fontsize=7, va="bottom")
        if curves.loudness is not None:
            loudness = axis.twinx()
            loudness.plot(minutes, curves.loudness, lw=0.6, color="grey", alpha=0.6)
            loudness.set_ylabel("loudness (dB)", fontsize=7)
        axis.set_ylim(0, 1.15)
        axis.set_ylabel("probability")
        axis.set_title(f"{Path(result.source).name}" + (f" - half {half}" if half else ""), fontsize=9)
        axis.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("minutes")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return path
