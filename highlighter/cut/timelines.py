"""Editor timelines of a selection: CMX 3600 EDL (OpenTimelineIO), SRT subtitles (``srt``), YouTube chapters,
FFmpeg chapters. The EDL always refers to the source video; subtitles and chapters follow either the
source (a game's halves one after the other) or the reel cut from the same selection."""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from pathlib import Path

from highlighter.cut.selection import SelectionSettings, padded_window
from highlighter.cut.windows import Window
from highlighter.errors import HighlighterError
from highlighter.outputs.events import Event
from highlighter.outputs.clock import match_clock, youtube_time
from highlighter.inputs import MatchVideos
from highlighter.safe_text import one_line

TIMELINES = ("source", "reel")
#: YouTube shows description chapters only if the first is at 0:00, there are 3 or more, each >= 10 s
YOUTUBE_MIN_CHAPTERS, YOUTUBE_MIN_CHAPTER_S = 3, 10
#: frame rates CMX 3600 timecode can count (29.97 and 59.94 as drop-frame)
TIMECODE_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0)
DROP_FRAME_RATES = (29.97, 59.94)
#: the exact rates behind the NTSC names
NTSC_RATES = {23.976: 24000 / 1001, 29.97: 30000 / 1001, 59.94: 60000 / 1001}


class TimelineError(HighlighterError):
    """A timeline cannot be written for this selection or video."""


@dataclass(frozen=True)
class Span:
    """One selected event's stretch on a timeline (seconds), with its title."""

    start_s: float
    end_s: float
    event: Event

    @property
    def title(self) -> str:
        """``Goal 1H 12:34``."""
        return event_title(self.event)


def event_name(event: Event) -> str:
    """``Goal``, ``Card``, ``Substitution``: the label as one line (see ``highlighter.safe_text``). Every label
    reaches a timeline or a caption through here, so none can add a record, a cue or a chapter of its own."""
    label = one_line(event.label)
    return label[:1].upper() + label[1:]


def event_title(event: Event) -> str:
    """``Goal 1H 12:34``: the event's name and match clock."""
    return f"{event_name(event)} {match_clock(event.time_s, event.half)}"


def reel_offsets(windows: list[Window]) -> list[float]:
    """Where each window starts in the reel."""
    offsets, at = [], 0.0
    for window in windows:
        offsets.append(at)
        at += window.duration_s
    return offsets


def event_spans(windows: list[Window], videos: MatchVideos, settings: SelectionSettings,
                timeline: str = "source") -> list[Span]:
    """One span per selected event, in match order: its padded window on the ``source`` timeline (halves
    joined) or the ``reel``. Spans never overlap and each covers its own event's time: where two padded
    windows overlap, they part at the midpoint of their events (kept between the two)."""
    if timeline not in TIMELINES:
        raise TimelineError(f"unknown timeline {timeline!r}: choose one of {', '.join(TIMELINES)}")
    placed = []  # (event time, start, end, event) on the timeline
    for window, reel_at in zip(windows, reel_offsets(windows)):
        duration = videos.half(window.half).usable_s
        shift = videos.offset_s(window.half) if timeline == "source" else reel_at - window.start_s
        for event in window.events:
            own = padded_window(event, settings, duration)
            start, end = max(own.start_s, window.start_s), min(own.end_s, window.end_s)
            placed.append((min(max(event.time_s, start), end) + shift, start + shift, end + shift, event))
    placed.sort(key=lambda p: p[0])
    starts, ends = [p[1] for p in placed], [p[2] for p in placed]
    for i in range(len(placed) - 1):
        if ends[i] > starts[i + 1]:
            at, after = placed[i][0], placed[i + 1][0]
            low, high = max(starts[i + 1], at), min(ends[i], after)
            ends[i] = starts[i + 1] = min(max((at + after) / 2, low), high)
    return [Span(start, end, p[3]) for start, end, p in zip(starts, ends, placed)]


def ffmetadata(spans: list[Span]) -> str:
    """An FFmpeg metadata file with one chapter per span (times in ms)."""
    lines = [";FFMETADATA1"]
    for span in spans:
        lines += ["", "[CHAPTER]", "TIMEBASE=1/1000", f"START={round(span.start_s * 1000)}",
                  f"END={round(span.end_s * 1000)}", f"title={_ffmeta_escape(span.title)}"]
    return "\n".join(lines) + "\n"


def _ffmeta_escape(text: str) -> str:
    """A one-line value (a span's title) with FFmetadata's special characters escaped."""
    for special in ("\\", "=", ";", "#"):
        text = text.replace(special, "\\" + special)
    return text


def subtitles(spans: list[Span]) -> str:
    """SRT text: one subtitle per span, the event's class and clock, and its confidence."""
    import srt

    items = [srt.Subtitle(index=number, start=datetime.timedelta(seconds=span.start_s),
                          end=datetime.timedelta(seconds=span.end_s),
                          content=f"{span.title}\nconfidence {span.event.confidence:.2f}")
             for number, span in enumerate(spans, 1)]
    return srt.compose(items, reindex=False)


def youtube_chapters(spans: list[Span], duration_s: float, marks: list[tuple[float, str]] = ()) -> tuple[str, list[str]]:
    """YouTube description chapters (``M:SS title`` lines) and what breaks YouTube's rules, if anything.

    ``marks`` add fixed chapters (the start, the second half). Chapters closer than 10 s are joined
    under one title; a last chapter shorter than 10 s joins the one before.
    """
    entries = sorted([(math.floor(t + 1e-6), title) for t, title in marks] +
                     [(math.floor(s.start_s + 1e-6), s.title) for s in spans], key=lambda m: m[0])
    chapters: list[list] = []
    for at, title in entries:
        if chapters and at - chapters[-1][0] < YOUTUBE_MIN_CHAPTER_S:
            chapters[-1][1].append(title)
        else:
            chapters.append([at, [title]])
    if len(chapters) > 1 and duration_s - chapters[-1][0] < YOUTUBE_MIN_CHAPTER_S:
        last = chapters.pop()
        chapters[-1][1] += last[1]
    problems = []
    if not chapters or chapters[0][0] != 0:
        problems.append("the first chapter must start at 0:00")
    if len(chapters) < YOUTUBE_MIN_CHAPTERS:
        problems.append(f"YouTube needs at least {YOUTUBE_MIN_CHAPTERS} chapters of at least "
                        f"{YOUTUBE_MIN_CHAPTER_S} s; this selection gives {len(chapters)} "
                        f"(events closer than {YOUTUBE_MIN_CHAPTER_S} s share one)")
    text = "\n".join(f"{youtube_time(at)} {', '.join(titles)}" for at, titles in chapters) + "\n"
    return text, problems


def edl_rate(fps: float) -> float:
    """The timecode rate of a video's frame rate, or a one-line error for rates CMX 3600 cannot count."""
    for rate in TIMECODE_RATES:
        if abs(fps - rate) < 0.01:
            return NTSC_RATES.get(rate, rate)
    raise TimelineError(f"the video runs at {fps:.3f} fps: CMX 3600 timecode counts only "
                        f"{', '.join(f'{r:g}' for r in TIMECODE_RATES)} fps (convert it, or use another format)")


def edl_reel(video: Path) -> str:
    """The CMX 3600 reel name of a video: the letters and digits of its name, at most 8 (``AX`` if none); a
    space would split the edit line's columns."""
    return re.sub(r"[^A-Za-z0-9]", "", video.stem)[:8] or "AX"


def edl(windows: list[Window], videos: MatchVideos, title: str) -> str:
    """A CMX 3600 EDL cutting ``windows`` out of the source video(s), timecodes at the source frame rate
    (drop-frame at 29.97 and 59.94 fps, declared by the ``FCM`` line)."""
    import opentimelineio as otio

    rates = {round(h.info.avg_fps, 3) for h in videos.halves}
    if len(rates) > 1:
        raise TimelineError(f"the halves run at different frame rates ({', '.join(map(str, sorted(rates)))} fps): "
                            "one EDL needs one rate")
    rate = edl_rate(videos.halves[0].info.avg_fps)
    timeline = otio.schema.Timeline(name=one_line(title))
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for window in windows:
        half = videos.half(window.half)
        first, last = window.frames(rate)
        reference = otio.schema.ExternalReference(
            target_url=one_line(str(half.path)),
            available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                                    otio.opentime.RationalTime(round(half.info.duration_s * rate), rate)))
        clip = otio.schema.Clip(name=", ".join(event_title(e) for e in window.events), media_reference=reference,
                                source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(first, rate),
                                                                     otio.opentime.RationalTime(last - first, rate)),
                                metadata={"cmx_3600": {"reel": edl_reel(half.path)}})
        track.append(clip)
    text = otio.adapters.write_to_string(timeline, "cmx_3600", rate=rate)
    fcm = "FCM: DROP FRAME" if any(abs(rate - r) < 0.01 for r in DROP_FRAME_RATES) else "FCM: NON-DROP FRAME"
    lines = text.splitlines()
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("TITLE:")), 0)
    return "\n".join(lines[:at] + [fcm] + lines[at:]) + "\n"


def write_text(path: Path, text: str) -> Path:
    """Write a timeline atomically."""
    from highlighter.atomic import atomic_write

    try:
        with atomic_write(path, encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise HighlighterError(f"{path}: cannot write ({exc.strerror})") from None
    return path
