"""Write tagging results: events as JSON, CSV or SoccerNet results_spotting.json; score curves; plots.

Every file is written atomically: an interrupted run leaves no partial file.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError
from highlighter.options import FORMATS
from highlighter.score import ScoreCurves
from highlighter.smooth import Event
from highlighter.soccernet import Spot, predictions_json

EVENT_COLUMNS = ["label", "time_s", "timecode", "start_s", "end_s", "confidence", "half"]
#: SoccerNet label written for each highlight class in results_spotting.json
SOCCERNET_NAMES = {"goal": "Goal", "card": "Card", "substitution": "Substitution"}


@dataclass
class TagResult:
    """Everything `highlight tag` learned about one input (a video, or a SoccerNet game's two halves)."""

    source: str
    duration_s: float
    fps: float
    model: dict
    classes: list[str]
    events: list[Event]
    curves: list[tuple[int | None, ScoreCurves]]  # (half, curves)
    wall_s: float = 0.0
    discontinuities: list[dict] = field(default_factory=list)  # timestamp jumps: half, position_s, jump_s

    @property
    def frames(self) -> int:
        """Frames scored."""
        return sum(len(c.times) for _, c in self.curves)


def timecode(seconds: float) -> str:
    """``HH:MM:SS.s``."""
    tenths = int(round(seconds * 10))
    return f"{tenths // 36000:02d}:{tenths // 600 % 60:02d}:{tenths // 10 % 60:02d}.{tenths % 10}"


def event_rows(events: list[Event]) -> list[dict]:
    """Events as plain dicts with their timecodes (JSON and CSV share these columns)."""
    return [{"label": e.label, "time_s": round(e.time_s, 3), "timecode": timecode(e.time_s),
             "start_s": round(e.start_s, 3), "end_s": round(e.end_s, 3), "confidence": round(e.confidence, 4),
             "half": e.half} for e in events]


def events_document(result: TagResult) -> dict:
    """The events JSON: video, duration, fps, model, classes, events, and, where the video's timestamps
    jump, the jumps its timeline was continued across (see ``FrameSampler.discontinuities``)."""
    jumps = {"discontinuities": result.discontinuities} if result.discontinuities else {}
    return {"video": result.source, "duration_s": round(result.duration_s, 3), "fps": result.fps,
            "model": result.model, "classes": result.classes, "events": event_rows(result.events), **jumps,
            "timing": {"wall_s": round(result.wall_s, 3), "frames": result.frames}}


def soccernet_spots(events: list[Event]) -> list[Spot]:
    """Events as SoccerNet predictions: label names of the official files, ms from each half's start."""
    return [Spot(e.half or 1, int(round(e.time_s * 1000)), SOCCERNET_NAMES.get(e.label, e.label),
                 confidence=e.confidence) for e in events]


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
            table = pd.DataFrame(event_rows(result.events), columns=EVENT_COLUMNS)
            with atomic_write(path, newline="") as handle:
                table.to_csv(handle, index=False)
        else:
            with atomic_write(path) as handle:
                json.dump(soccernet_document(result, Path(result.source).name), handle, indent=2)
    except OSError as exc:
        raise HighlighterError(f"{path}: cannot write ({exc.strerror})") from None
    return path


def read_events(path: str | Path) -> list[Event]:
    """Events back from a JSON or CSV file written by :func:`write_events`."""
    path = Path(path)
    if path.suffix == ".csv":
        rows = pd.read_csv(path).replace({np.nan: None}).to_dict("records")
    else:
        rows = json.loads(path.read_text())["events"]
    return [Event(r["label"], float(r["time_s"]), float(r["start_s"]), float(r["end_s"]), float(r["confidence"]),
                  None if r.get("half") is None else int(r["half"])) for r in rows]


def write_scores(result: TagResult, path: Path) -> Path:
    """Per-sample probabilities: ``.npz`` (times, probabilities, half, classes) or CSV (one row per sample)."""
    halves = np.concatenate([np.full(len(c.times), h or 0) for h, c in result.curves])
    times = np.concatenate([c.times for _, c in result.curves])
    probabilities = np.concatenate([c.probabilities for _, c in result.curves])
    if path.suffix == ".npz":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, times=times, probabilities=probabilities, half=halves, classes=np.array(result.classes),
                            source=np.array(result.source))
        with atomic_write(path, "wb") as handle:
            handle.write(buffer.getvalue())
    else:
        table = pd.DataFrame(probabilities, columns=result.classes)
        table.insert(0, "time_s", np.round(times, 3))
        table.insert(0, "half", halves)
        with atomic_write(path, newline="") as handle:
            table.to_csv(handle, index=False, float_format="%.5f")
    return path


def write_plot(result: TagResult, path: Path) -> Path:
    """A PNG of the score curves over the match with the events marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(result.curves)
    figure, axes = plt.subplots(panels, 1, figsize=(14, 3.2 * panels), squeeze=False)
    colours = {"goal": "tab:green", "card": "tab:orange", "substitution": "tab:blue"}
    for axis, (half, curves) in zip(axes[:, 0], result.curves):
        minutes = curves.times / 60
        for column, cls in enumerate(curves.classes):
            if cls != "background":
                axis.plot(minutes, curves.probabilities[:, column], lw=0.8, label=cls, color=colours.get(cls))
        for event in (e for e in result.events if e.half == half):
            axis.axvline(event.time_s / 60, color=colours.get(event.label, "k"), ls="--", lw=1)
            axis.text(event.time_s / 60, 1.02, event.label, rotation=90, fontsize=7, va="bottom")
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


