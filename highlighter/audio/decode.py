"""Decode the audio of a video with PyAV as a stream of mono float chunks at one sample rate (any codec
FFmpeg reads; the mean of its channels, so a sound in every channel keeps its level), so a 90-minute match never sits in memory whole."""

from __future__ import annotations

import os
from typing import Iterator

import av
import numpy as np

from highlighter.errors import HighlighterError
from highlighter.video.streams import match_stream, motion_streams


class AudioUnavailable(HighlighterError):
    """A video has no audio stream, or one that cannot be decoded."""


def _start_s(stream) -> float:
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def audio_chunks(path: str | os.PathLike, rate: int) -> Iterator[tuple[float, np.ndarray]]:
    """(time of the chunk's first sample in seconds from the first video frame, mono float32 samples at
    ``rate`` Hz), in order. Raises :class:`AudioUnavailable` where there is no audio stream or it breaks."""
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise AudioUnavailable(f"{path}: cannot open ({exc})") from None
    with container:
        if not container.streams.audio:
            raise AudioUnavailable(f"{path}: no audio stream")
        stream = container.streams.audio[0]
        videos = motion_streams(container)  # time 0 is the match's first frame, as for the samples
        origin = _start_s(match_stream(container)) if videos else _start_s(stream)
        resampler = av.AudioResampler(format="fltp", rate=rate)  # the stream's own channels, planar
        position: float | None = None  # seconds of the next resampled sample
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if position is None and frame.time is not None:
                        position = frame.time - origin
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray().mean(axis=0)
                        yield position or 0.0, samples
                        position = (position or 0.0) + len(samples) / rate
            for out in resampler.resample(None):
                samples = out.to_ndarray().mean(axis=0)
                yield position or 0.0, samples
                position = (position or 0.0) + len(samples) / rate
        except av.FFmpegError as exc:
            raise AudioUnavailable(f"{path}: the audio stream does not decode ({exc})") from None
