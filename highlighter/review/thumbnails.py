"""Thumbnails around events, decoded through the project's sampler so each carries its frame's true time.

One pass of :class:`~highlighter.video.FrameSampler` per video keeps, for every wanted time, the sample
nearest to it; memory holds only the kept frames, never the match.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from rich.progress import Progress

from highlighter.progress import Tracker
from highlighter.inputs import MatchVideos
from highlighter.config.settings import ReportSettings, VideoSettings
from highlighter.outputs.events import Event
from highlighter.video import FrameSampler


#: JPEG quality of the embedded thumbnails
JPEG_QUALITY = 82


@dataclass(frozen=True)
class ThumbnailSettings:
    """How many thumbnails per event, how far apart, how large, and how they are decoded."""

    count: int  # per event, centred on it
    spacing_s: float  # between neighbours
    size: int  # side of the square (the sampler's centre crop, as the model sees it)
    fps: float  # sampling rate of the pass that finds them: the nearest sample is at most 1/(2 fps) away
    video: VideoSettings  # decoder, sampling and stall timeout of that pass

    @classmethod
    def from_settings(cls, report: ReportSettings, video: VideoSettings) -> "ThumbnailSettings":
        """From the ``report`` and ``video`` settings."""
        return cls(report.thumbnails, report.spacing, report.thumbnail_size, report.thumbnail_fps, video)


@dataclass(frozen=True)
class Thumbnail:
    """A JPEG image of the frame on screen at ``time_s`` (seconds from its video's first frame)."""

    time_s: float
    jpeg: bytes


def wanted_times(event: Event, settings: ThumbnailSettings, last_s: float) -> list[float]:
    """``count`` times ``spacing_s`` apart, one of them the event's own time: centred on it, or shifted by
    whole steps where the event is near either end of the video (``last_s``: its last frame's time)."""
    count, step = settings.count, settings.spacing_s
    centred = -((count - 1) // 2)
    fitting = [j for j in range(-(count - 1), 1)
               if event.time_s + j * step >= -1e-6 and event.time_s + (j + count - 1) * step <= last_s + 1e-6]
    first = min(fitting, key=lambda j: abs(j - centred)) if fitting else centred
    times = [event.time_s + (first + k) * step for k in range(count)]
    return [t for t in times if -1e-6 <= t <= last_s + 1e-6] or [event.time_s]


def event_thumbnails(videos: MatchVideos, events: list[Event], settings: ThumbnailSettings,
                     progress: Progress | None = None) -> list[list[Thumbnail]]:
    """For each event (in the given order), its strip of thumbnails, each with its frame's own time."""
    strips: list[list[Thumbnail]] = [[] for _ in events]
    if settings.count <= 0 or not events:
        return strips
    for video in videos.halves:
        indices = [i for i, e in enumerate(events) if videos.half(e.half) is video]
        if not indices:
            continue
        owners = [(i, t) for i in indices for t in wanted_times(events[i], settings, video.info.last_frame_time_s)]
        targets = np.array([t for _, t in owners])
        best_time = np.full(len(targets), np.nan)
        best_gap = np.full(len(targets), np.inf)
        best_image: list[np.ndarray | None] = [None] * len(targets)
        sampler = FrameSampler(video.path, fps=settings.fps, size=settings.size, decoder=settings.video.decoder,
                               sampling=settings.video.sampling, batch_size=64,
                               stall_timeout_s=settings.video.stall_timeout_s)
        decoded = 0
        tracker = Tracker(progress, f"thumbnails {video.path.name}", sampler.expected_samples)
        for batch in sampler:
            gaps = np.abs(batch.times[:, None] - targets[None, :])  # (B, T)
            rows = gaps.argmin(axis=0)
            closer = gaps[rows, np.arange(len(targets))] < best_gap
            for target in np.flatnonzero(closer):
                best_gap[target] = gaps[rows[target], target]
                best_time[target] = batch.times[rows[target]]
                best_image[target] = batch.images[rows[target]].copy()
            decoded += len(batch)
            tracker.update(completed=decoded)
        tracker.finish(decoded)
        for target, (event_index, _) in enumerate(owners):
            image, strip = best_image[target], strips[event_index]
            if image is not None and not (strip and strip[-1].time_s == best_time[target]):  # one frame once
                strip.append(Thumbnail(float(best_time[target]), encode_jpeg(image, JPEG_QUALITY)))
    return strips


def encode_jpeg(image: np.ndarray, quality: int = 82) -> bytes:
    """An RGB uint8 image as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()
