"""Events: what `highlight tag` finds, and the one validating reader of events files (JSON, CSV, SoccerNet
results_spotting.json) that evaluation, the review page and the cutter all use. The events JSON itself is
written from a ``highlighter.outputs.result.TagResult``."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from highlighter.errors import ConfigError, HighlighterError
from highlighter.labels import BACKGROUND
from highlighter.limits import MAX_MEDIA_S
from highlighter.provenance import TrainedOn
from highlighter.outputs.clock import timecode
from highlighter.config.schema import Between, FileRecord, Matches, OneLine, Size, build
from highlighter.soccernet.files import CLASS_OF_SOCCERNET_NAME, SoccerNetFormatError, parse_predictions, read_json

#: columns of every events table (the JSON's events, the CSV, ``TagResult.to_frame()``)
EVENT_COLUMNS = ["label", "time_s", "timecode", "start_s", "end_s", "confidence", "half"]

#: the events file of each format of `highlight tag` beside its input's name (SoccerNet's has a name of its own)
EVENTS_SUFFIXES = {"json": ".events.json", "csv": ".events.csv"}


@dataclass(frozen=True)
class Event:
    """One detected highlight."""

    label: str
    time_s: float
    start_s: float
    end_s: float
    confidence: float
    half: int | None = None  # 1 or 2 in a SoccerNet game folder, else None


@dataclass(frozen=True)
class VideoSpan:
    """How much of one video of an input was decoded: the events lie within its first ``decoded_s`` seconds.
    ``partial`` says why a decode stopped short of the whole video (None where it did not)."""

    half: int | None  # 1 or 2 in a SoccerNet game folder, else None
    decoded_s: float  # length of the timeline the samples cover
    declared_s: float  # the duration the container declares (0.0 where it declares none)
    partial: str | None = None
    stream: int | None = None  # index of the video stream read (as ffprobe numbers the streams)

    def to_dict(self) -> dict:
        """The JSON record of a partial decode (see ``TagResult.document``)."""
        return {"half": self.half, "decoded_s": round(self.decoded_s, 3), "declared_s": round(self.declared_s, 3),
                "reason": self.partial}


def event_rows(events: list[Event]) -> list[dict]:
    """Events as plain dicts with their timecodes (JSON and CSV share these columns)."""
    return [{"label": e.label, "time_s": round(e.time_s, 3), "timecode": timecode(e.time_s),
             "start_s": round(e.start_s, 3), "end_s": round(e.end_s, 3), "confidence": round(e.confidence, 4),
             "half": e.half} for e in events]


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
    partial: list[VideoSpan] = field(default_factory=list)  # videos decoded only in part (none in older files)

    @property
    def is_game(self) -> bool:
        """True when the events come from a SoccerNet game folder (events carry halves 1 and 2)."""
        return any(e.half is not None for e in self.events)

    @property
    def highlight_classes(self) -> list[str]:
        """The classes events can have (the model's classes less background, else the events' labels)."""
        classes = [c for c in self.classes if c != BACKGROUND]
        return classes or sorted({e.label for e in self.events})


def load_events_document(path: str | Path) -> EventsDocument:
    """The events file ``path``: the JSON of `highlight tag` (single video or game folder), its CSV
    (no video named: pass one), or a SoccerNet results_spotting.json (times only, no start/end)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _from_csv(path)
    data = read_json(path)
    if is_soccernet_predictions(data):
        return _from_soccernet(data, str(path))
    return document_from_dict(data, str(path))


def is_soccernet_predictions(data: Any) -> bool:
    """Whether a JSON document is SoccerNet's results_spotting.json rather than `highlight tag`'s events JSON."""
    return isinstance(data, dict) and "predictions" in data and "events" not in data


Seconds = Annotated[float, Between(0, MAX_MEDIA_S)]


@dataclass(frozen=True)
class EventRecord(FileRecord):
    """One event as the events file holds it (``start_s``/``end_s`` default to ``time_s``)."""

    label: Annotated[str, Size(1, 1000)]
    time_s: Seconds
    confidence: Annotated[float, Between(0, 1)]
    start_s: Seconds | None = None
    end_s: Seconds | None = None
    half: Literal[1, 2] | None = None


@dataclass(frozen=True)
class ModelRecord(FileRecord):
    """The events file's ``model`` block (see ``highlighter.model.checkpoint.checkpoint_info``)."""

    name: OneLine | None = None
    checkpoint: OneLine | None = None
    sha256: Annotated[str, Matches("[0-9a-f]{64}", "64 hexadecimal digits")] | None = None
    pretrained: OneLine | None = None
    trained_on: TrainedOn | None = None


@dataclass(frozen=True)
class TimingRecord(FileRecord):
    """The events file's ``timing`` block."""

    wall_s: Annotated[float, Between(0, 1e9)] | None = None
    frames: Annotated[int, Between(0, 10**9)] | None = None


@dataclass(frozen=True)
class PartialRecord(FileRecord):
    """One video decoded only in part (see ``VideoSpan.to_dict``)."""

    half: Literal[1, 2] | None
    decoded_s: Seconds
    declared_s: Seconds
    reason: OneLine = "decoded in part"


@dataclass(frozen=True)
class EventsFileRecord(FileRecord):
    """The schema of the events JSON (see ``TagResult.document``), checked whole where it is read; keys it does
    not name are ignored, so files that newer versions write still read. A new key is a new field here."""

    events: list[EventRecord]
    video: OneLine | None = None
    duration_s: Seconds | None = None
    fps: Annotated[float, Between(0, 1000)] | None = None
    classes: Annotated[list[Annotated[str, Size(1, 1000)]], Size(0, 1000)] = field(default_factory=list)
    model: ModelRecord = field(default_factory=ModelRecord)
    timing: TimingRecord = field(default_factory=TimingRecord)
    partial: list[PartialRecord] = field(default_factory=list)


def document_from_dict(data: Any, where: str) -> EventsDocument:
    """An events document from the JSON object `highlight tag` writes (also its in-memory form), checked
    whole against ``EventsFileRecord``: every key it names of the right type and within bounds (times
    finite, from 0 to ten days; confidences in [0, 1]; halves 1, 2 or none), each problem one line."""
    try:
        record = build(EventsFileRecord, data, where)
    except ConfigError as exc:
        raise SoccerNetFormatError(str(exc)) from None
    events = [Event(e.label, e.time_s, e.time_s if e.start_s is None else e.start_s,
                    e.time_s if e.end_s is None else e.end_s, e.confidence, e.half) for e in record.events]
    return EventsDocument(where=where, video=record.video, duration_s=record.duration_s, events=_sorted(events),
                          classes=list(record.classes), model=asdict(record.model), timing=asdict(record.timing),
                          fps=record.fps, partial=[VideoSpan(p.half, p.decoded_s, p.declared_s, p.reason)
                                                   for p in record.partial])


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
        if isinstance(row.get("half"), float) and row["half"].is_integer():  # a column with blanks reads as floats
            row["half"] = int(row["half"])
    return document_from_dict({"video": None, "events": rows}, str(path))


def _from_soccernet(data: dict, where: str) -> EventsDocument:
    events = [Event(CLASS_OF_SOCCERNET_NAME.get(s.label, s.label.lower()), s.position_ms / 1000, s.position_ms / 1000,
                    s.position_ms / 1000, s.confidence, s.half) for s in parse_predictions(data, where)]
    return EventsDocument(where=where, video=None, duration_s=None, events=_sorted(events))


def _sorted(events: list[Event]) -> list[Event]:
    return sorted(events, key=lambda e: (e.half or 0, e.time_s))
