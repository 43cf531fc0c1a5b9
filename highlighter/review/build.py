"""Make one review page: find the video, decode thumbnails, gather curves, render and write atomically.

A missing or different video is not a failure here: the page is written without thumbnails or player
and says why in a one-line warning (also returned to the caller).
"""

from __future__ import annotations

import datetime
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError, VideoError
from highlighter.outputs.events import EVENTS_SUFFIXES, EventsDocument, document_from_dict
from highlighter.outputs.result import TagResult
from highlighter.outputs.scores import HalfCurves, read_scores
from highlighter.review.page import PageContent, render_page
from highlighter.inputs import MatchVideos, locate_videos
from highlighter.review.thumbnails import ThumbnailSettings, event_thumbnails
from highlighter.config.settings import ReportSettings, VideoSettings

#: suffixes of the files `highlight tag` writes; the page replaces them with ``.report.html``
NAME_SUFFIXES = (*EVENTS_SUFFIXES.values(), ".json", ".csv")


@dataclass(frozen=True)
class ReviewSettings:
    """Thumbnails and playback of the review page (from the ``report`` and ``video`` settings)."""

    thumbnails: ThumbnailSettings
    play_lead_s: float  # playing an event starts this long before it

    @classmethod
    def from_settings(cls, report: ReportSettings, video: VideoSettings) -> "ReviewSettings":
        """From the ``report`` and ``video`` settings."""
        return cls(ThumbnailSettings.from_settings(report, video), report.play_lead_s)


@dataclass
class ReportResult:
    """What was written, and the warnings the page shows."""

    path: Path
    warnings: list[str]
    events: int
    thumbnails: int


def report_path(events_path: str | Path) -> Path:
    """``NAME.report.html`` beside the events file ``NAME.events.json`` (or ``NAME.csv``, ...)."""
    events_path = Path(events_path)
    name = events_path.name
    for suffix in NAME_SUFFIXES:
        if name.lower().endswith(suffix):
            return events_path.with_name(name[: -len(suffix)] + ".report.html")
    return events_path.with_name(name + ".report.html")


def video_link(video: Path, page: Path) -> str:
    """The URL of ``video`` relative to the page's folder."""
    relative = os.path.relpath(video.resolve(), page.resolve().parent)
    return urllib.parse.quote(Path(relative).as_posix())


def write_report(document: EventsDocument, out: str | Path, *, video: str | Path | None = None,
                 scores: str | Path | None = None, curves: HalfCurves | None = None,
                 settings: ReviewSettings, progress: Progress | None = None) -> ReportResult:
    """Write the review page of ``document`` to ``out``.

    ``video`` replaces the video path the events file recorded; ``scores`` (a `highlight tag --scores`
    file) or ``curves`` (in memory) add the score curves.
    """
    out = Path(out)
    warnings: list[str] = []
    videos: MatchVideos | None = None
    try:
        videos = locate_videos(document, video)
    except HighlighterError as exc:
        warnings.append(f"{exc}: the page has no thumbnails and no player")
    else:
        warnings += [videos.partial_note] if videos.partial_note else []
    if curves is None and scores is not None:
        curves = read_scores(scores).curves
    thumbnails: list[list] = [[] for _ in document.events]
    if videos is not None:
        try:
            thumbnails = event_thumbnails(videos, document.events, settings.thumbnails, progress)
        except VideoError as exc:
            warnings.append(f"thumbnails could not be decoded: {exc}")
    links = {} if videos is None else {v.half: video_link(v.path, out) for v in videos.halves}
    content = PageContent(document, videos, links, thumbnails, curves or [], warnings,
                          datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), settings.play_lead_s)
    page = render_page(content)
    try:
        with atomic_write(out, encoding="utf-8") as handle:
            handle.write(page)
    except OSError as exc:
        raise HighlighterError(f"{out}: cannot write ({exc.strerror})") from None
    return ReportResult(out, warnings, len(document.events), sum(len(s) for s in thumbnails))


def report_for_result(result: TagResult, events_path: str | Path, settings: ReviewSettings,
                      progress: Progress | None = None) -> ReportResult:
    """The review page of a `highlight tag` run (a ``TagResult``), beside its events file, with the run's
    score curves; the video path is made absolute so the page links it wherever it was tagged from."""
    data = result.document()
    data["video"] = os.path.abspath(data["video"])
    document = document_from_dict(data, str(events_path))
    return write_report(document, report_path(events_path), curves=result.curves,
                        settings=settings, progress=progress)
