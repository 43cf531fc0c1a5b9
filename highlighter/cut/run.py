"""One `highlight cut` request: read the events, find and check the video, select windows, write the
output in the format its suffix (or ``fmt``) names, and optionally a copy of the source with chapters."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import Progress

from highlighter.cut.formats import CUT_FORMATS
from highlighter.cut.reel import ReelSettings, concat_list, run_ffmpeg, write_reel
from highlighter.cut.selection import SelectionSettings, check_classes, select_windows, selected_events
from highlighter.cut.windows import Window
from highlighter.cut.timelines import (
    TimelineError,
    edl,
    event_spans,
    ffmetadata,
    subtitles,
    write_text,
    youtube_chapters,
)
from highlighter.errors import HighlighterError
from highlighter.outputs.events import load_events_document
from highlighter.inputs import MatchVideos, locate_videos


@dataclass
class CutResult:
    """What one cut wrote."""

    path: Path
    format: str
    windows: list[Window]
    events: int
    duration_s: float  # of the selection (the reel's length)
    warnings: list[str] = field(default_factory=list)
    chapters_video: Path | None = None


def output_format(out: str | Path, fmt: str | None = None) -> str:
    """``fmt``, else the suffix of ``out`` (``.mp4``, ``.mkv``, ``.edl``, ``.srt``, ``.txt``, ``.ffmeta``)."""
    chosen = (fmt or Path(out).suffix.lstrip(".")).lower()
    if chosen not in CUT_FORMATS:
        raise HighlighterError(f"{out}: cannot tell the format from {'--format ' + fmt if fmt else 'its suffix'}: "
                               f"use one of {', '.join('.' + f for f in CUT_FORMATS)} (or --format)")
    return chosen


@dataclass
class CutPlan:
    """A checked request: the events, the videos they were tagged on, and the windows to keep."""

    out: Path
    format: str
    videos: MatchVideos
    windows: list[Window]
    selection: SelectionSettings
    timeline: str = "source"
    chapters_into: Path | None = None


def plan_cut(events_path: str | Path, out: str | Path, selection: SelectionSettings, fmt: str | None = None,
             timeline: str = "source", video: str | Path | None = None,
             chapters_into: str | Path | None = None) -> CutPlan:
    """Read and check everything a cut needs, writing nothing: the one-line errors (unknown format, missing
    or different video, nothing selected) come from here."""
    out = Path(out)
    chosen = output_format(out, fmt)
    if chapters_into is not None and timeline != "source":
        raise HighlighterError("--chapters-into copies the source video: its chapters follow the source timeline")
    document = load_events_document(events_path)
    known = document.highlight_classes
    check_classes(selection, known + sorted({e.label for e in document.events} - set(known)))
    videos = locate_videos(document, video)
    windows = select_windows(document.events, {h.half: h.usable_s for h in videos.halves}, selection)
    return CutPlan(out, chosen, videos, windows, selection, timeline,
                   None if chapters_into is None else Path(chapters_into))


def write_cut(plan: CutPlan, reel: ReelSettings, progress: Progress | None = None) -> CutResult:
    """Write the output of a plan (and the chaptered copy of the source, if asked)."""
    out, chosen, videos, windows, timeline = plan.out, plan.format, plan.videos, plan.windows, plan.timeline
    result = CutResult(out, chosen, windows, len(selected_events(windows)), sum(w.duration_s for w in windows))
    if videos.partial_note:
        result.warnings.append(videos.partial_note)
    spans = event_spans(windows, videos, plan.selection, timeline)
    if chosen in ("mp4", "mkv"):
        write_reel(windows, videos, out, chosen, reel, progress)
    elif chosen == "edl":
        write_text(out, edl(windows, videos, f"highlighter {videos.source.name}"))
    elif chosen == "srt":
        write_text(out, subtitles(spans))
    elif chosen == "ffmeta":
        write_text(out, ffmetadata(spans))
    else:
        duration = result.duration_s if timeline == "reel" else videos.duration_s
        text, problems = youtube_chapters(spans, duration, _fixed_chapters(videos) if timeline == "source" else [])
        write_text(out, text)
        result.warnings += [f"YouTube will not show these chapters: {p}" for p in problems]
    if plan.chapters_into is not None:
        result.chapters_video = write_with_chapters(videos, ffmetadata(spans), plan.chapters_into)
    return result


def cut_events(events_path: str | Path, out: str | Path, selection: SelectionSettings, reel: ReelSettings,
               fmt: str | None = None, timeline: str = "source", video: str | Path | None = None,
               chapters_into: str | Path | None = None, progress: Progress | None = None) -> CutResult:
    """Cut the events of ``events_path`` into ``out``; see `highlight cut --help`."""
    return write_cut(plan_cut(events_path, out, selection, fmt, timeline, video, chapters_into), reel, progress)


def _fixed_chapters(videos: MatchVideos) -> list[tuple[float, str]]:
    if len(videos.halves) > 1:
        return [(0.0, "Kick-off")] + [(videos.offset_s(h.half), f"Half {h.half}") for h in videos.halves[1:]]
    return [(0.0, "Start")]


def write_with_chapters(videos: MatchVideos, metadata: str, out: Path) -> Path:
    """A stream copy of the source (a game's halves joined) with ``metadata``'s chapters, written atomically."""
    if out.resolve() in {h.path.resolve() for h in videos.halves}:
        raise HighlighterError(f"{out}: --chapters-into must name a new file, not the source video")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.part{out.suffix}")
    try:
        with tempfile.TemporaryDirectory(prefix="highlighter-chapters-") as scratch:
            chapters = Path(scratch) / "chapters.ffmeta"
            chapters.write_text(metadata, encoding="utf-8")
            if len(videos.halves) == 1:
                source = ["-i", str(videos.halves[0].path)]
            else:
                source = ["-f", "concat", "-i", str(concat_list([h.path for h in videos.halves], Path(scratch)))]
            run_ffmpeg([*source, "-i", str(chapters), "-map", "0", "-map_metadata", "1", "-map_chapters", "1",
                        "-c", "copy", str(partial)])
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out


__all__ = ["CutPlan", "CutResult", "TimelineError", "cut_events", "output_format", "plan_cut", "write_cut"]
