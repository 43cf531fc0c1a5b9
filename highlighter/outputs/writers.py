"""Write events files (JSON, CSV or SoccerNet results_spotting.json) and CSV tables.

Every file is written atomically: an interrupted run leaves no partial file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError
from highlighter.outputs.events import EVENT_COLUMNS, Event
from highlighter.safe_text import one_line
from highlighter.config.schema import choices
from highlighter.config.settings import TagSettings
from highlighter.soccernet.files import predictions_json, soccernet_spots

FORMATS = choices(TagSettings, "format")

def write_events(document: dict, events: list[Event], path: Path, fmt: str) -> Path:
    """Write an input's events to ``path`` in ``fmt``: ``json`` the events ``document`` (see
    ``TagResult.document``), ``csv`` its events, ``soccernet`` the results_spotting.json of SoccerNet's evaluator
    (positions in ms from each half's start)."""
    if fmt not in FORMATS:
        raise HighlighterError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    try:
        if fmt == "json":
            with atomic_write(path) as handle:
                json.dump(document, handle, indent=2)
        elif fmt == "csv":
            write_csv(pd.DataFrame(document["events"], columns=EVENT_COLUMNS), path)
        else:
            game = Path(os.path.abspath(document["video"])).name
            with atomic_write(path) as handle:
                json.dump(predictions_json(game, soccernet_spots(events)), handle, indent=2)
    except OSError as exc:
        raise HighlighterError(f"{path}: cannot write ({exc.strerror})") from None
    return path


def write_csv(table: pd.DataFrame, path: Path, **options) -> None:
    """Write ``table`` as CSV, atomically, one row per line: its header and text cells made one line (labels
    and class names come from events files and checkpoints; see ``highlighter.safe_text``)."""
    lines = table.rename(columns=one_line)
    for column in lines.select_dtypes(include=["object", "string"]).columns:  # pandas 3 has a str dtype
        lines[column] = lines[column].map(lambda value: one_line(value) if isinstance(value, str) else value)
    with atomic_write(path, newline="") as handle:
        lines.to_csv(handle, index=False, **options)
