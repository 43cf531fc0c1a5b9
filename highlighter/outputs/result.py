"""The result of tagging one input (``TagResult``): its events, score curves and what was decoded, as the
Python API hands it over (``to_frame``, ``scores``, ``save``), and the events JSON document it is written as."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from highlighter.outputs.events import EVENT_COLUMNS, Event, VideoSpan, event_rows
from highlighter.outputs.scores import HalfCurves, scores_table
from highlighter.outputs.writers import write_events

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class TagResult:
    """Everything `highlight tag` learned about one input (a video, or a SoccerNet game's two halves)."""

    source: str
    duration_s: float
    fps: float
    model: dict
    classes: list[str]
    events: list[Event]
    curves: HalfCurves  # (half, curves)
    wall_s: float = 0.0
    discontinuities: list[dict] = field(default_factory=list)  # timestamp jumps: half, position_s, jump_s
    spans: list[VideoSpan] = field(default_factory=list)  # per video: its stream and what was decoded of it

    @property
    def partial(self) -> list[VideoSpan]:
        """The videos decoded only in part (the events cover what was decoded of them)."""
        return [span for span in self.spans if span.partial]

    @property
    def frames(self) -> int:
        """Frames scored."""
        return sum(len(c.times) for _, c in self.curves)

    def to_frame(self) -> pd.DataFrame:
        """The events as a pandas DataFrame (the CSV's columns)."""
        import pandas as pd

        return pd.DataFrame(event_rows(self.events), columns=EVENT_COLUMNS)

    @property
    def scores(self) -> pd.DataFrame:
        """Per-sample class probabilities: columns ``half`` (0 for a single video), ``time_s``, then one
        per class, and ``loudness_db`` where the match audio was measured."""
        return scores_table(self.curves)

    def document(self) -> dict:
        """The events JSON: video, the video stream each video was read from (its index, as ffprobe numbers the
        streams), duration (the timeline the events are on: what was decoded), the duration the containers
        declare, fps, model, classes, events, where the video's timestamps jump the jumps its timeline was
        continued across (see ``FrameSampler.discontinuities``), where a video was decoded only in part what was
        decoded of it and why, whether the crowd cue was fused with the frame scores, and timing."""
        spans = self.spans
        streams = {"video_streams": [{"half": s.half, "index": s.stream} for s in spans]} if spans else {}
        declared = {"declared_duration_s": round(sum(s.declared_s for s in spans), 3)} if spans else {}
        jumps = {"discontinuities": self.discontinuities} if self.discontinuities else {}
        partial = {"partial": [span.to_dict() for span in self.partial]} if self.partial else {}
        return {"video": self.source, **streams, "duration_s": round(self.duration_s, 3), **declared,
                "fps": self.fps, "model": self.model, "classes": self.classes, "events": event_rows(self.events),
                **jumps, **partial, "audio": {"used": bool(self.curves) and all(c.fused for _, c in self.curves)},
                "timing": {"wall_s": round(self.wall_s, 3), "frames": self.frames}}

    def save(self, path: str | Path, format: str = "json") -> Path:
        """Write the events file (``json``, ``csv`` or ``soccernet``), atomically."""
        return write_events(self.document(), self.events, Path(path), format)
