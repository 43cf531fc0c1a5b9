"""Decoding backends: decord (default) and PyAV, behind one interface.

Each backend yields ``(time_s, image)`` for the frames the sampling rule picks, where ``time_s`` is the
frame's presentation timestamp relative to the stream's first frame and ``image`` is RGB uint8, scaled
so its short side is the model's size (FFmpeg's swscale, bicubic, in both backends).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import av
import numpy as np

from highlighter.video.probe import VideoInfo, open_container
from highlighter.video.timeline import TICK_TOLERANCE_S, on_screen

log = logging.getLogger(__name__)

#: decord's get_batch is called with this many frame indices at a time (bounded memory).
DECORD_CHUNK = 16


class Backend(ABC):
    """Decodes one video; reports how far it got so the sampler can warn about truncated files."""

    name: str

    def __init__(self, path: Path, info: VideoInfo, frame_size: tuple[int, int]) -> None:
        self.path = path
        self.info = info
        self.frame_size = frame_size
        self.last_time_s: float | None = None  # latest timestamp the decoder reached
        self.decode_errors = 0

    @abstractmethod
    def frames(self, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        """Yield ``(time_s, rgb_image)`` for the frame on screen at each tick of ``rate`` per second."""


class PyAVBackend(Backend):
    """Sequential decoding with PyAV; key frames only via the codec's ``skip_frame``."""

    name = "pyav"

    def frames(self, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        width, height = self.frame_size
        with open_container(self.path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if keyframes_only:
                stream.codec_context.skip_frame = "NONKEY"
            start = self.info.start_time_s
            until = self.info.last_frame_time_s if keyframes_only else None
            for frame in on_screen(self._decoded(container, stream), rate, lambda f: f.time - start, until):
                image = frame.reformat(width=width, height=height, format="rgb24", interpolation="BICUBIC")
                yield frame.time - start, image.to_ndarray()

    def _decoded(self, container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
        """Frames in presentation order; skips undecodable packets and stops where demuxing breaks."""
        packets = container.demux(stream)
        start = self.info.start_time_s
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError:
                self.decode_errors += 1
                packet = None  # the container is broken from here on: flush what was decoded
            if packet is not None and packet.pts is not None:
                self.last_time_s = max(self.last_time_s or 0.0, float(packet.pts * stream.time_base) - start)
            try:
                decoded = stream.decode(packet)
            except av.error.FFmpegError:
                self.decode_errors += 1
                decoded = []
            yield from (frame for frame in decoded if frame.time is not None)
            if packet is None:
                return


class DecordBackend(Backend):
    """decord's frame index (timestamps for every frame from a packet scan), then batched reads."""

    name = "decord"

    def frames(self, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        import decord

        decord.logging.set_level(decord.logging.QUIET)
        width, height = self.frame_size
        try:
            reader = decord.VideoReader(str(self.path), ctx=decord.cpu(0), width=width, height=height, num_threads=0)
        except (decord.DECORDError, RuntimeError) as exc:
            reason = str(exc).strip().splitlines()[-1].split("Error:")[-1].strip()[:100]
            yield from self._fall_back(f"decord cannot index this file ({reason})", rate, keyframes_only)
            return
        times = reader.get_frame_timestamp(np.arange(len(reader)))[:, 0] if len(reader) else np.empty(0)
        if np.any(times < -TICK_TOLERANCE_S):
            # Frames timed before the stream's start, as an MP4 edit list that starts after a key frame
            # leaves them: decord indexes these hidden frames, and after a seek returns frames shifted by
            # their number (seen on a real broadcast clip). PyAV places frames correctly here.
            reason = "frames are timed before the stream start (an edit list?)"
            yield from self._fall_back(reason, rate, keyframes_only)
            return
        self.last_time_s = float(times[-1]) if len(times) else None
        candidates = reader.get_key_indices() if keyframes_only else range(len(times))
        chosen = on_screen(candidates, rate, lambda index: times[index], until=self.last_time_s)
        for chunk in _chunks(chosen, DECORD_CHUNK):
            try:
                images = reader.get_batch(chunk).asnumpy()
            except decord.DECORDError:
                self.decode_errors += 1
                self.last_time_s = float(times[chunk[0]])
                return
            for index, image in zip(chunk, images):
                yield float(times[index]), image

    def _fall_back(self, reason: str, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        """Decode with PyAV where decord cannot be trusted, and say so."""
        log.warning("%s: %s; decoding it with pyav instead of decord", self.path, reason)
        fallback = PyAVBackend(self.path, self.info, self.frame_size)
        try:
            yield from fallback.frames(rate, keyframes_only)
        finally:
            self.last_time_s, self.decode_errors = fallback.last_time_s, fallback.decode_errors


def _chunks(items: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


BACKENDS: dict[str, type[Backend]] = {backend.name: backend for backend in (DecordBackend, PyAVBackend)}
