"""A plot of an input's score curves over the match with its events marked, in the format its suffix names."""

from __future__ import annotations

import io
from pathlib import Path

from highlighter.atomic import atomic_write
from highlighter.labels import BACKGROUND, class_colour
from highlighter.outputs.clock import clock
from highlighter.outputs.result import TagResult
from highlighter.outputs.targets import plot_format


def write_plot(result: TagResult, path: Path) -> Path:
    """A plot of the score curves over the match with the events marked (and the loudness of the match audio,
    grey, where it was measured), in the format the suffix names (PNG, JPEG, SVG or PDF)."""
    image_format = plot_format(path)
    buffer = io.BytesIO()
    score_figure(result).savefig(buffer, format=image_format, dpi=100)
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return path


#: tick steps of a plot's time axis (seconds): the first that gives at most 12 ticks
TIME_STEPS_S = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def score_figure(result: TagResult):
    """The matplotlib figure of ``write_plot``: a panel per half, time in mm:ss, the legend (with the loudness
    curve) beside the axes, clear of the event labels along the top."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    panels = len(result.curves)
    figure = Figure(figsize=(14, 3.2 * panels))
    axes = figure.subplots(panels, 1, squeeze=False)
    for axis, (half, curves) in zip(axes[:, 0], result.curves):
        for column, cls in enumerate(curves.classes):
            if cls != BACKGROUND:
                axis.plot(curves.times, curves.probabilities[:, column], lw=0.8, label=cls,
                          color=class_colour(cls, curves.classes))
        for event in (e for e in result.events if e.half == half):
            axis.axvline(event.time_s, color=class_colour(event.label, result.classes), ls="--", lw=1)
            axis.text(event.time_s, 1.02, event.label, rotation=90, fontsize=7, va="bottom")
        lines, labels = axis.get_legend_handles_labels()
        if curves.loudness is not None:
            loudness = axis.twinx()
            lines += loudness.plot(curves.times, curves.loudness, lw=0.6, color="grey", alpha=0.6)
            labels.append("loudness (dB, right axis)")
            loudness.set_ylabel("loudness (dB)", fontsize=7)
        span = float(curves.times[-1]) if len(curves.times) else 1.0
        axis.xaxis.set_major_locator(MultipleLocator(next((s for s in TIME_STEPS_S if span / s <= 12), 7200)))
        axis.xaxis.set_major_formatter(FuncFormatter(lambda seconds, _: clock(seconds)))
        axis.set_xlim(0, max(span, 1.0))
        axis.set_ylim(0, 1.15)
        axis.set_ylabel("probability")
        axis.set_title(f"{Path(result.source).name}" + (f" - half {half}" if half else ""), fontsize=9)
        axis.legend(lines, labels, loc="upper left", bbox_to_anchor=(1.06 if curves.loudness is not None else 1.01, 1),
                    fontsize=7, borderaxespad=0)
    axes[-1, 0].set_xlabel("time (mm:ss); dashed lines: events")
    figure.tight_layout()
    return figure
