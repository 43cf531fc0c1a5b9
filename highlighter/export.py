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
from highlighter.events import EVENT_COLUMNS, TagResult, event_rows, events_document
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
    """Per-sample probabilities: ``.npz`` (times, probabilities, half, classes, source, loudness_db where the
    audio was measured, and the spotting head's output with the sample rate where a head placed the events) or
    CSV (the ``result.scores`` table)."""
    if path.suffix == ".npz":  # times at full precision: tune-smoother smooths them as tag did
        buffer = io.BytesIO()
        np.savez_compressed(buffer, times=np.concatenate([c.times for _, c in result.curves]),
                            probabilities=np.concatenate([c.probabilities for _, c in result.curves]),
                            half=np.concatenate([np.full(len(c.times), h or 0) for h, c in result.curves]),
                            classes=np.array(result.classes), source=np.array(result.source),
                            **({"loudness_db": result.scores["loudness_db"].to_numpy()}
                               if "loudness_db" in result.scores else {}),
                            **({"spotting": np.concatenate([c.spotting for _, c in result.curves]), "fps": result.fps}
                               if all(c.spotting is not None for _, c in result.curves) else {}))
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


