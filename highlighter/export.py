"""Write tagging results: events as JSON, CSV or SoccerNet results_spotting.json; score curves; plots.

Every file is written atomically: an interrupted run leaves no partial file.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError
from highlighter.labels import BACKGROUND, class_colour
from highlighter.output_targets import check_scores_suffix, plot_format
from highlighter.events import EVENT_COLUMNS, TagResult, clock, event_rows, events_document
from highlighter.safe_text import one_line
from highlighter.schema import choices
from highlighter.settings import TagSettings
from highlighter.soccernet.files import predictions_json, soccernet_spots

FORMATS = choices(TagSettings, "format")

def soccernet_document(result: TagResult, game: str) -> dict:
    """results_spotting.json for SoccerNet's evaluator (positions in ms from each half's start)."""
    return predictions_json(game, soccernet_spots(result.events))


def write_events(result: TagResult, path: Path, fmt: str) -> Path:
    """Write the events of ``result`` to ``path`` in ``fmt``."""
    if fmt not in FORMATS:
        raise HighlighterError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    try:
        if fmt == "json":
            with atomic_write(path) as handle:
                json.dump(events_document(result), handle, indent=2)
        elif fmt == "csv":
            write_csv(pd.DataFrame(event_rows(result.events), columns=EVENT_COLUMNS), path)
        else:
            with atomic_write(path) as handle:
                json.dump(soccernet_document(result, Path(os.path.abspath(result.source)).name), handle, indent=2)
    except OSError as exc:
        raise HighlighterError(f"{path}: cannot write ({exc.strerror})") from None
    return path


def write_scores(result: TagResult, path: Path) -> Path:
    """Per-sample probabilities: ``.npz`` (times, probabilities, half, classes, source, and loudness_db where
    the audio was measured) or CSV (the ``result.scores`` table), as the suffix says (any other is refused)."""
    if check_scores_suffix(path).suffix.lower() == ".npz":  # times at full precision: tune-smoother smooths them as tag did
        buffer = io.BytesIO()
        np.savez_compressed(buffer, times=np.concatenate([c.times for _, c in result.curves]),
                            probabilities=np.concatenate([c.probabilities for _, c in result.curves]),
                            half=np.concatenate([np.full(len(c.times), h or 0) for h, c in result.curves]),
                            classes=np.array(result.classes), source=np.array(result.source),
                            **({"loudness_db": result.scores["loudness_db"].to_numpy()}
                               if "loudness_db" in result.scores else {}))
        with atomic_write(path, "wb") as handle:
            handle.write(buffer.getvalue())
    else:
        write_csv(result.scores, path, float_format="%.5f")
    return path


def write_csv(table: pd.DataFrame, path: Path, **options) -> None:
    """Write ``table`` as CSV, atomically, one row per line: its header and text cells made one line (labels
    and class names come from events files and checkpoints; see ``highlighter.safe_text``)."""
    lines = table.rename(columns=one_line)
    for column in lines.select_dtypes(include=["object", "string"]).columns:  # pandas 3 has a str dtype
        lines[column] = lines[column].map(lambda value: one_line(value) if isinstance(value, str) else value)
    with atomic_write(path, newline="") as handle:
        lines.to_csv(handle, index=False, **options)


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


