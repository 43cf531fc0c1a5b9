"""Open a video safely and describe it: which video stream is the match (one rule for every reader), stream
facts from the header and the first frame, timing facts (frames, key frames, timestamp jumps, open GOPs)
from a packet scan."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from highlighter.errors import VideoError
from highlighter.video.colour import primaries_name, transfer_name
from highlighter.video.demux import Reading, ends_cut_off, packets
from highlighter.video.geometry import display_size
from highlighter.video.streams import match_stream, motion_streams
from highlighter.video.timeline import FORWARD_JUMP_S, TICK_TOLERANCE_S, Clock, Discontinuity

av.logging.set_level(av.logging.PANIC)

#: libavformat's AVFMT_NOTIMESTAMPS: the format stores no timestamps (raw streams: .h264, .hevc, .m2v, ...).
AVFMT_NOTIMESTAMPS = 0x0080
#: libavformat's AVFMT_TS_DISCONT: the format allows timestamp discontinuities (MPEG-TS, MPEG-PS, ...).
AVFMT_TS_DISCONT = 0x0200
#: Packets come in decode order: with B-frames a presentation time may run this far behind the latest one
#: without being a jump back (the scan's allowance; decoded frames, in presentation order, get none).
REORDER_SLACK_S = 1.0


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
    pixel_format: str = ""
    sample_aspect: str = "1:1"  # shape of one stored pixel (64:45 on anamorphic 16:9 PAL)
    display_aspect: str = ""  # shape of the picture shown, before rotation
    rotation: int = 0  # degrees the display matrix turns the picture, counter-clockwise (as ffprobe)
    interlaced: bool = False
    timestamps_may_jump: bool = False  # the format allows discontinuous timestamps (MPEG-TS and the like)
    untimed: bool = False  # the format stores no timestamps (a raw stream): frames are timed by their durations
    stream_index: int = 0  # the match's video stream (see match_stream), as ffprobe numbers the file's streams
    video_streams: int = 1  # video streams in the file, cover pictures included
    color_primaries: str = ""  # as FFmpeg names them (bt709, bt2020, ...); "" where unspecified
    color_transfer: str = ""  # smpte2084 (HDR10's PQ), arib-std-b67 (HLG), bt709, ...
    frame_count: int | None = None
    variable_frame_rate: bool | None = None
    keyframe_count: int | None = None
    keyframe_interval_s: float | None = None
    longest_keyframe_gap_s: float | None = None
    scanned_duration_s: float | None = None  # over all segments where timestamps jump
    discontinuities: tuple[Discontinuity, ...] | None = None
    open_gop: bool | None = None  # frames after a key frame (in decode order) are shown before it
    cut_off: bool | None = None  # the file ends inside a packet (cut off, or still being written)

    @property
    def frame_s(self) -> float:
        """One frame's duration at the average rate (1/25 s where the rate is unknown)."""
        return 1.0 / self.avg_fps if self.avg_fps > 0 else 1.0 / 25

    @property
    def length_s(self) -> float:
        """The timeline's length: the packet-scanned duration when known, else the declared one."""
        return self.scanned_duration_s or self.duration_s

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) of the picture FFmpeg displays: square pixels, rotation applied."""
        return display_size(self.width, self.height, Fraction(self.sample_aspect.replace(":", "/")), self.rotation)

    @property
    def last_frame_time_s(self) -> float:
        """When the last frame starts: the duration less one frame."""
        return max(self.length_s - self.frame_s, 0.0) if self.avg_fps > 0 else self.length_s

    def samples_at(self, fps: float) -> int:
        """Sampling ticks 0, 1/fps, ... within the video: what the exact sampler yields from an intact,
        hole-free file (the packet-scanned duration is used when known)."""
        return samples_in(self.length_s, fps, self.avg_fps)

    def to_dict(self) -> dict:
        """A JSON-ready dict (with the displayed size)."""
        width, height = self.display_size
        return {**asdict(self), "display_width": width, "display_height": height}


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
    """Open ``path`` with PyAV, raising a one-line VideoError if it is not a video with a video stream (a
    cover picture is not one)."""
    path = check_readable(path)
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VideoError(f"{path}: not a readable video ({exc.strerror or exc})") from None
    if not motion_streams(container):
        kinds = sorted({s.type for s in container.streams})
        pictures = bool(container.streams.video)
        container.close()
        what = "only a cover picture" if pictures else f"only {', '.join(kinds)} streams" if kinds else "no streams"
        raise VideoError(f"{path}: no video stream ({what})")
    return container


def _stream_seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _tagged_seconds(tag: str | None) -> float | None:
    """A Matroska track's DURATION tag (``HH:MM:SS.nnnnnnnnn``) in seconds: the video's own length, where the
    container's covers every track (audio running on past the pictures is no truncated video)."""
    try:
        hours, minutes, seconds = (tag or "").split(":")
        value = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def probe(path: str | os.PathLike, scan_packets: bool = False) -> VideoInfo:
    """Describe the match's video stream of ``path`` (see :func:`match_stream`); with ``scan_packets`` also
    count frames and key frames, find timestamp jumps and open GOPs by demuxing (no decoding). The first frame
    is decoded for what only frames carry (rotation, interlacing)."""
    with open_container(path) as container:
        stream = match_stream(container)
        ctx = stream.codec_context
        start = _stream_seconds(stream.start_time, stream.time_base)
        duration = _stream_seconds(stream.duration, stream.time_base)
        if duration is None and container.duration is not None:
            duration = container.duration / av.time_base - (start or 0.0)
            # the container's covers every track: where the video's own (Matroska tag) is shorter, it is the one
            duration = min(duration, _tagged_seconds(stream.metadata.get("DURATION")) or duration)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        sample_aspect = Fraction(stream.sample_aspect_ratio or ctx.sample_aspect_ratio or 1)
        display_aspect = Fraction(ctx.width, ctx.height) * sample_aspect if ctx.width and ctx.height else None
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
            pixel_format=ctx.pix_fmt or "",
            sample_aspect=f"{sample_aspect.numerator}:{sample_aspect.denominator}",
            display_aspect=f"{display_aspect.numerator}:{display_aspect.denominator}" if display_aspect else "",
            timestamps_may_jump=bool(container.format.flags & AVFMT_TS_DISCONT),
            untimed=bool(container.format.flags & AVFMT_NOTIMESTAMPS),
            stream_index=stream.index,
            video_streams=len(container.streams.video),
            color_primaries=primaries_name(ctx.color_primaries),
            color_transfer=transfer_name(ctx.color_trc),
            **_first_frame_facts(container, stream),
        )
    if scan_packets:
        with open_container(path) as container:
            info.update(_scan_packets(container, container.streams[info["stream_index"]], info["timestamps_may_jump"],
                                      1.0 / info["avg_fps"] if info["avg_fps"] else 1.0 / 25))
    return VideoInfo(**info)


def _first_frame_facts(container: av.container.InputContainer, stream: av.VideoStream) -> dict:
    """Rotation (display matrix) and interlacing, which FFmpeg reports on decoded frames."""
    interlaced = stream.codec_context.field_order not in (0, 1)  # AV_FIELD_UNKNOWN, AV_FIELD_PROGRESSIVE
    try:
        frame = next(container.decode(stream), None)
    except av.error.FFmpegError:
        frame = None
    if frame is None:
        return dict(rotation=0, interlaced=interlaced)
    return dict(rotation=int(frame.rotation) % 360, interlaced=interlaced or bool(frame.interlaced_frame))


def _scan_packets(container: av.container.InputContainer, stream: av.VideoStream, may_jump: bool,
                  frame_s: float) -> dict:
    """Frame count, key frames, frame-rate variability, timestamp jumps, open GOPs and the true duration (over
    all segments) from packet timestamps (in a format without them, from packet durations), and whether the
    file ends inside a packet."""
    base = float(stream.time_base)
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    # Before the stream start a packet is not shown (an edit list's lead-in), except where timestamps may
    # jump back by design.
    first_shown = -float("inf") if may_jump or stream.start_time is None else start - 1e-9
    clock = Clock(frame_s, FORWARD_JUMP_S if may_jump else None, backward_slack_s=REORDER_SLACK_S)
    times: list[float] = []
    keys: list[float] = []
    durations: list[float] = []
    untimed = bool(container.format.flags & AVFMT_NOTIMESTAMPS)
    reading = Reading()

    def timed() -> Iterator[tuple[int, av.Packet]]:
        """Each shown packet with its pts (a raw stream's packets carry none: timed by their durations)."""
        elapsed = 0
        for packet in packets(container, stream, reading):
            pts = packet.pts
            if untimed and pts is None:
                pts, elapsed = elapsed, elapsed + (packet.duration or round(frame_s / base))
            if pts is not None and pts * base >= first_shown:
                yield pts, packet

    key_time: float | None = None  # the latest key frame's, in decode order
    open_gop = False
    for time_s, (_, packet) in clock.retime(timed(), lambda item: item[0] * base - start, lambda item: item[1].pos):
        times.append(time_s)
        durations.append((packet.duration or 0) * base)
        if packet.is_keyframe:
            keys.append(time_s)
            key_time = time_s
        elif key_time is not None and time_s < key_time - TICK_TOLERANCE_S:
            open_gop = True  # a leading frame: decoded after the key frame, shown before it
    cut_off = ends_cut_off(container, reading)
    if not times:
        return dict(frame_count=0, keyframe_count=0, discontinuities=(), cut_off=cut_off)
    order = np.argsort(times, kind="stable")
    ordered = np.asarray(times)[order]
    steps = np.diff(ordered)
    last_duration = durations[order[-1]] or (float(np.median(steps)) if len(steps) else 0.0)
    key_gaps = np.diff(np.sort(keys))
    paced = steps[:-1] if len(steps) > 2 else steps  # the step to the last frame alone is how the stream ends, not a rate
    return dict(
        frame_count=len(times),
        scanned_duration_s=float(ordered[-1] - ordered[0] + last_duration),
        variable_frame_rate=bool(len(paced) and np.ptp(paced) > 0.1 * np.median(paced)),
        keyframe_count=len(keys),
        keyframe_interval_s=float(np.mean(key_gaps)) if len(key_gaps) else None,
        longest_keyframe_gap_s=float(np.max(key_gaps)) if len(key_gaps) else None,
        discontinuities=tuple(clock.discontinuities),
        open_gop=None if untimed else open_gop,  # decode order is all a raw stream's packets tell
        cut_off=cut_off,
    )
