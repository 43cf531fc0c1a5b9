"""What the user hands over as inputs, found and checked before anything heavy loads: the arguments of
`highlight tag` (videos, SoccerNet game folders, glob patterns, list files) with each input's videos, and the
video an events file was made from (a file, or a game folder's halves), checked to be the same video: its
duration must match the one the events file recorded, or, where the events file says a video was decoded only in
part, it must hold the span that was decoded (the events cover that span)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from highlighter.errors import HighlighterError
from highlighter.outputs.events import EventsDocument
from highlighter.soccernet.games import half_videos
from highlighter.video import VideoInfo, probe
from highlighter.video.probe import open_container

GLOB_CHARACTERS = "*?["

#: a video whose duration differs from the recorded one by more than this is another video
DURATION_TOLERANCE_S = 0.5


def collect_inputs(arguments: list[str | Path], list_file: Path | None = None) -> list[Path]:
    """The inputs: each argument as a path, or, where it does not exist and holds ``*``, ``?`` or ``[``, the
    paths its glob pattern matches (sorted; ``**`` descends into folders, as Bash's globstar does: never into
    a symbolic link to a folder, so a link loop cannot make the walk endless); then the lines of ``list_file``
    (one path a line; blank lines and lines starting with ``#`` skipped). A pattern that matches nothing is an
    error."""
    from wcmatch import glob

    paths: list[Path] = []
    for argument in arguments:
        text = str(argument)
        if not Path(text).exists() and any(c in text for c in GLOB_CHARACTERS):
            matches = sorted(glob.glob(text, flags=glob.GLOBSTAR))
            if not matches:
                raise HighlighterError(f"{text}: no file or folder matches this pattern")
            paths.extend(map(Path, matches))
        else:
            paths.append(Path(text))
    if list_file is not None:
        try:
            lines = Path(list_file).read_text().splitlines()
        except OSError as exc:
            raise HighlighterError(f"{list_file}: cannot read the list of inputs ({exc.strerror})") from None
        paths.extend(Path(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    if not paths:
        raise HighlighterError("no inputs: give videos, game folders, glob patterns or --inputs FILE")
    return paths


def expand_inputs(paths: list[Path]) -> list[tuple[Path, dict[int | None, Path]]]:
    """Each input with its videos: a file is one video (half None); a SoccerNet game folder gives its
    halves (1 and 2). Each video is opened (its header read, nothing decoded): a missing, unreadable or
    non-video input is a one-line error here, before anything heavy loads."""
    expanded = []
    for path in paths:
        if path.is_dir():
            halves = half_videos(path)
            if not halves:
                raise HighlighterError(f"{path}: a folder, but no SoccerNet half videos (1_*.mkv, 2_*.mkv) in it")
            expanded.append((path, dict(halves)))
        else:
            expanded.append((path, {None: path}))
    for video in (video for _, videos in expanded for video in videos.values()):
        open_container(video).close()
    return expanded



class VideoNotFoundError(HighlighterError):
    """The video named by an events file (or given with --video) is not there."""


class VideoMismatchError(HighlighterError):
    """The video found is not the one the events were tagged on (another duration, or no such half)."""


@dataclass(frozen=True)
class HalfVideo:
    """One video of a match: the whole match (half None) or half 1 or 2 of a game folder."""

    half: int | None
    path: Path
    info: VideoInfo
    decoded_s: float | None = None  # where the events file says only this much of it was decoded

    @property
    def usable_s(self) -> float:
        """The span the events cover and cuts may use: what was decoded of a partial decode, else all of it."""
        return self.info.duration_s if self.decoded_s is None else self.decoded_s


@dataclass(frozen=True)
class MatchVideos:
    """The videos of one tagged input, in match order."""

    source: Path  # the file or game folder
    halves: tuple[HalfVideo, ...]
    partial_note: str | None = None  # where the events cover only part of a video: what a cut or page says once

    @property
    def duration_s(self) -> float:
        """Length of the whole match (both halves)."""
        return sum(h.info.duration_s for h in self.halves)

    def half(self, half: int | None) -> HalfVideo:
        """The video of ``half`` (None for a single video)."""
        for video in self.halves:
            if video.half == half or len(self.halves) == 1 and half in (None, 1):
                return video
        raise VideoMismatchError(f"{self.source}: the events name half {half}, which this input does not have")

    def offset_s(self, half: int | None) -> float:
        """Where ``half`` starts when the halves are played one after the other."""
        offset = 0.0
        for video in self.halves:
            if video.half == half or len(self.halves) == 1:
                return offset
            offset += video.info.duration_s
        raise VideoMismatchError(f"{self.source}: no half {half}")


def candidate_paths(document: EventsDocument) -> list[Path]:
    """Where the recorded video may be: as recorded (absolute, or relative to the working folder), then
    relative to the events file's folder."""
    if not document.video:
        return []
    recorded = Path(document.video).expanduser()
    if recorded.is_absolute():
        return [recorded]
    candidates = [Path.cwd() / recorded]
    events_file = Path(document.where)
    if events_file.exists():
        candidates.append(events_file.resolve().parent / recorded)
    return candidates


def locate_videos(document: EventsDocument, override: str | Path | None = None) -> MatchVideos:
    """The match videos of ``document`` (``override`` replaces the recorded path), checked against it.

    Raises VideoNotFoundError when there is no such video, VideoMismatchError when the video found has
    another duration than the events file recorded, or lacks a half the events name.
    """
    if override is not None:
        candidates = [Path(override).expanduser()]
    else:
        candidates = candidate_paths(document)
        if not candidates:
            raise VideoNotFoundError(f"{document.where} does not name its video: pass --video")
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        where = override if override is not None else document.video
        raise VideoNotFoundError(f"{where}: video not found (named by {document.where})"
                                 if override is None else f"{where}: no such video file or game folder")
    source = Path(os.path.abspath(found))
    if source.is_dir():
        halves = tuple(HalfVideo(half, path, probe(path)) for half, path in sorted(half_videos(source).items()))
        if not halves:
            raise VideoNotFoundError(f"{source}: a folder without SoccerNet half videos (1_*.mkv, 2_*.mkv)")
    else:
        halves = (HalfVideo(None, source, probe(source)),)
    videos = _with_partial_decodes(document, MatchVideos(source, halves))
    _check_same_video(document, videos)
    return videos


def _with_partial_decodes(document: EventsDocument, videos: MatchVideos) -> MatchVideos:
    """``videos`` with the decoded span of each video the events file says was decoded only in part."""
    if not document.partial:
        return videos
    decoded = {videos.half(span.half).half: span.decoded_s for span in document.partial}
    halves = tuple(replace(h, decoded_s=decoded[h.half]) if h.half in decoded else h for h in videos.halves)
    covered = "; ".join(f"the first {span.decoded_s:.1f} s of {f'half {span.half}' if span.half else 'the video'} "
                        f"({span.partial})" for span in document.partial)
    return replace(videos, halves=halves,
                   partial_note=f"{document.where}: the events cover only {covered}: working within that span")


def _check_same_video(document: EventsDocument, videos: MatchVideos) -> None:
    recorded = document.duration_s
    covered = sum(h.usable_s for h in videos.halves)
    if recorded is not None and abs(covered - recorded) > DURATION_TOLERANCE_S:
        raise VideoMismatchError(f"{videos.source} lasts {covered:.2f} s but {document.where} was tagged on "
                                 f"a video of {recorded:.2f} s: not the same video (pass the right one with --video)")
    for video in videos.halves:
        declared = video.info.duration_s  # 0 where the container declares none
        if video.decoded_s is not None and declared and video.decoded_s > declared + DURATION_TOLERANCE_S:
            raise VideoMismatchError(f"{video.path} lasts {declared:.2f} s but {document.where} decoded "
                                     f"{video.decoded_s:.2f} s of it: not the same video")
    for event in document.events:
        video = videos.half(event.half)
        if event.time_s > video.info.duration_s + DURATION_TOLERANCE_S:
            raise VideoMismatchError(f"{video.path} lasts {video.info.duration_s:.2f} s but an event of "
                                     f"{document.where} is at {event.time_s:.2f} s: not the same video")
