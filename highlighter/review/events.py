"""Read an events file of `highlight tag` (JSON, CSV or SoccerNet) into one document for reviewers and editors.

Every reader in ``highlighter.review`` and ``highlighter.cut`` goes through :func:`load_events_document`;
validation is ``highlighter.spotting_files.parse_events``'s, so one redirect moves both packages to a
shared events reader when there is one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from highlighter.errors import HighlighterError
from highlighter.smooth import Event
from highlighter.soccernet import read_json
from highlighter.spotting_files import parse_events

@dataclass
class EventsDocument:
    """One tagged input: where its video was, what tagged it, and its events sorted by half and time."""

    where: str  # the events file, or a description of where the document came from
    video: str | None  # video file or SoccerNet game folder as `highlight tag` recorded it
    duration_s: float | None
    events: list[Event]
    classes: list[str] = field(default_factory=list)
    model: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    fps: float | None = None

    @property
    def is_game(self) -> bool:
        """True when the events come from a SoccerNet game folder (events carry halves 1 and 2)."""
        return any(e.half is not None for e in self.events)

    @property
    def highlight_classes(self) -> list[str]:
        """The classes events can have (the model's classes less background, else the events' labels)."""
        classes = [c for c in self.classes if c != "background"]
        return classes or sorted({e.label for e in self.events})


def load_events_document(path: str | Path) -> EventsDocument:
    """The events file ``path``: the JSON of `highlight tag` (single video or game folder), its CSV
    (no video named: pass one), or a SoccerNet results_spotting.json (times only, no start/end)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _from_csv(path)
    data = read_json(path)
    if isinstance(data, dict) and "predictions" in data and "events" not in data:
        return _from_soccernet(data, str(path))
    return document_from_dict(data, str(path))


def document_from_dict(data: Any, where: str) -> EventsDocument:
    """An events document from the JSON object `highlight tag` writes (also its in-memory form)."""
    parse_events(data, where)  # the one validation of events: label, time, confidence, half
    rows = data["events"]
    for number, row in enumerate(rows):
        for key in ("start_s", "end_s"):
            if not isinstance(row.get(key, row["time_s"]), (int, float)):
                raise HighlighterError(f"{where}: events[{number}]: {key} {row.get(key)!r} is not a number")
    events = [Event(r["label"], float(r["time_s"]), float(r.get("start_s", r["time_s"])),
                    float(r.get("end_s", r["time_s"])), float(r["confidence"]),
                    None if r.get("half") is None else int(r["half"])) for r in rows]
    duration = data.get("duration_s")
    return EventsDocument(
        where=where, video=data.get("video"), duration_s=float(duration) if isinstance(duration, (int, float)) else None,
        events=_sorted(events), classes=list(data.get("classes") or []), model=dict(data.get("model") or {}),
        timing=dict(data.get("timing") or {}), fps=data.get("fps"))


def _from_csv(path: Path) -> EventsDocument:
    import pandas as pd

    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        raise HighlighterError(f"{path}: no such file") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise HighlighterError(f"{path}: not a CSV events file ({exc})") from None
    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in table.to_dict("records")]
    for row in rows:
        if isinstance(row.get("half"), float):
            row["half"] = int(row["half"])
    return document_from_dict({"video": None, "events": rows}, str(path))


def _from_soccernet(data: dict, where: str) -> EventsDocument:
    from highlighter.export import SOCCERNET_NAMES  # (imports PyTorch: only for this rare input)
    from highlighter.soccernet import parse_predictions

    classes = {name: cls for cls, name in SOCCERNET_NAMES.items()}
    events = [Event(classes.get(s.label, s.label.lower()), s.position_ms / 1000, s.position_ms / 1000,
                    s.position_ms / 1000, s.confidence, s.half) for s in parse_predictions(data, where)]
    return EventsDocument(where=where, video=None, duration_s=None, events=_sorted(events))


def _sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.half or 0, e.time_s))


def clock(seconds: float) -> str:
    """``MM:SS`` (``H:MM:SS`` from an hour on), seconds rounded down: how players and YouTube show time."""
    whole = max(int(math.floor(seconds + 1e-6)), 0)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def match_clock(event: Event) -> str:
    """The event's time as a viewer reads it: ``1H 12:34`` in a game folder's half, else ``12:34``."""
    return f"{event.half}H {clock(event.time_s)}" if event.half else clock(event.time_s)
