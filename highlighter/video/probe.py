"""Open a video safely and describe it: stream facts from the header, timing facts from a packet scan."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from highlighter.errors import VideoError

av.logging.set_level(av.logging.PANIC)


@dataclass(frozen=True)
class VideoInfo:
    """What a video declares about itself, plus (optionally) what a scan of its packets found."""

    path: str
    container: str
    codec: str
    width: int
    height: int
    avg_fps: float
    start_time_s: float
    duration_s: float
    has_audio: bool
    frame_count: int | None = None
    variable_frame_rate: bool | None = None
    keyframe_count: int | None = None
    keyframe_interval_s: float | None = None
    scanned_duration_s: float | None = None

    @property
    def last_frame_time_s(self) -> float:
        """When the last frame starts: the duration less one frame."""
        duration = self.scanned_duration_s or self.duration_s
        return max(duration - 1.0 / self.avg_fps, 0.0) if self.avg_fps > 0 else duration

    def samples_at(self, fps: float) -> int:
        """Sampling ticks 0, 1/fps, ... within the video: what the exact sampler yields from an intact,
        hole-free file (the packet-scanned duration is used when known)."""
        return samples_in(self.scanned_duration_s or self.duration_s, fps, self.avg_fps)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def samples_in(duration_s: float, fps: float, native_fps: float) -> int:
    """Ticks 0, 1/fps, ... up to the last frame's start (``duration - 1/native_fps``)."""
    last_frame_start = max(duration_s - 1.0 / native_fps, 0.0) if native_fps > 0 else duration_s
    return int(math.floor(last_frame_start * fps + 1e-6)) + 1


def check_readable(path: str | os.PathLike) -> Path:
    """Raise a one-line VideoError unless ``path`` is an existing, non-empty file."""
    path = Path(path)
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if path.is_dir():
        raise VideoError(f"{path}: is a directory, not a video file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: empty file (0 bytes)")
    return path


def open_container(path: str | os.PathLike) -> av.container.InputContainer:
    """Open ``path`` with PyAV, raising a one-line VideoError if it is not a video with a video stream."""
    path = check_readable(path)
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({exc.strerror or exc})") from None
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        container.close()
        what = f"only {', '.join(kinds)} streams" if kinds else "no streams"
        raise VideoError(f"{path}: no video stream ({what})")
    return container


def _stream_seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def probe(path: str | os.PathLike, scan_packets: bool = False) -> VideoInfo:
    """Describe ``path``; with ``scan_packets`` also count frames and key frames by demuxing (no decoding)."""
    with open_container(path) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        start = _stream_seconds(stream.start_time, stream.time_base)
        duration = _stream_seconds(stream.duration, stream.time_base)
        if duration is None and container.duration is not None:
            duration = container.duration / av.time_base - (start or 0.0)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        info = dict(
            path=str(path),
            container=container.format.name,
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            avg_fps=float(rate) if rate else 0.0,
            start_time_s=start or 0.0,
            duration_s=max(duration or 0.0, 0.0),
            has_audio=bool(container.streams.audio),
        )
        if scan_packets:
            info.update(_scan_packets(container, stream))
    return VideoInfo(**info)


def _scan_packets(container: av.container.InputContainer, stream: av.VideoStream) -> dict:
    """Frame count, key frames, frame-rate variability and true duration from packet timestamps."""
    pts: list[int] = []
    key_pts: list[int] = []
    durations: list[int] = []
    first_shown = stream.start_time if stream.start_time is not None else -(2**62)
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.pts < first_shown:  # not shown: before an edit list's start
                continue
            pts.append(packet.pts)
            durations.append(packet.duration or 0)
            if packet.is_keyframe:
                key_pts.append(packet.pts)
    except av.error.FFmpegError:
        pass  # a truncated file: report what is there
    if not pts:
        return dict(frame_count=0, keyframe_count=0)
    base = stream.time_base
    order = np.argsort(pts)
    times = np.asarray(pts, dtype=np.float64)[order] * float(base)
    steps = np.diff(times)
    last_duration = durations[order[-1]] * float(base) or (float(np.median(steps)) if len(steps) else 0.0)
    keys = np.sort(np.asarray(key_pts, dtype=np.float64) * float(base))
    return dict(
        frame_count=len(pts),
        scanned_duration_s=float(times[-1] - times[0] + last_duration),
        variable_frame_rate=bool(len(steps) and np.ptp(steps) > 0.1 * np.median(steps)),
        keyframe_count=len(keys),
        keyframe_interval_s=float(np.mean(np.diff(keys))) if len(keys) > 1 else None,
    )
