"""Decoding backends, PyAV and decord, behind one interface, and the choice between them per file.

Each backend yields ``(time_s, image)`` for the frames the sampling rule picks, where ``time_s`` is the
frame's presentation time on one continuous timeline starting at the stream's first frame (timestamp
jumps re-based, see :class:`~highlighter.video.timeline.Clock`) and ``image`` is the picture FFmpeg
displays (square pixels, rotation applied), RGB uint8, scaled so its short side is the model's size
(FFmpeg's swscale, bicubic, in both backends).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Iterator

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from highlighter.video.demux import Reading, packets
from highlighter.video.geometry import quarter_turns, turn
from highlighter.video.probe import VideoInfo, open_container
from highlighter.video.timeline import FORWARD_JUMP_S, TICK_TOLERANCE_S, Clock, Discontinuity, on_screen

log = logging.getLogger(__name__)

#: decord's get_batch is called with this many frame indices at a time (bounded memory).
DECORD_CHUNK = 16

#: Where decord returned the frame on screen at every tick of clock clips (tests/test_archive_video.py):
#: progressive 8-bit 4:2:0 H.264 and MPEG-4 Part 2 in MP4/MOV, Matroska/WebM and AVI. Elsewhere it was
#: wrong: every sample late in MPEG-TS (H.264 2 s, MPEG-2 with B-frames about 0.5 s) or hung there;
#: HEVC a frame late at times in MP4 and 10 s off when 10-bit; AV1 not indexed; VP9 reported empty.
DECORD_CODECS = frozenset({"h264", "mpeg4"})
DECORD_CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"})
DECORD_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p"})
#: ``auto`` picks PyAV up to this many stored pixels per frame, decord (where it is exact) above. Exact sampling
#: at 1 fps on 2 cores, PyAV (one swscale context per pass) against decord, sampler processes in pairs: 398x224
#: 0.61x (14.2 s against 23.4 s); 1280x720 0.95x (median of 4 pairs); 1920x1080 1.07x (3 pairs)
#: (benchmarks/bench_sampler.py and its --child runs).
PYAV_FASTER_UP_TO_PIXELS = 1280 * 720


class Untrusted(Exception):
    """decord found, on opening a file, that its answers there cannot be trusted (raised before any frame)."""


@dataclass
class Outcome:
    """How far a backend got: what the sampler needs to warn about truncated or jumping files."""

    last_time_s: float | None = None  # latest time the decoder reached, on the continuous timeline
    last_raw_s: float | None = None  # the same as the file times it (from the stream start), to set against
    # the declared duration: the two differ where timestamps jump
    decode_errors: int = 0  # undecodable packets skipped
    resyncs: int = 0  # stretches of unreadable bytes skipped
    dropped_frames: int = 0  # frames without a usable time (damaged timestamps, glitches)
    discontinuities: list[Discontinuity] = field(default_factory=list)


class Backend(ABC):
    """Decodes one video to ``frame_size`` (width, height of the displayed picture after the resize)."""

    name: str

    def __init__(self, path: Path, info: VideoInfo, frame_size: tuple[int, int]) -> None:
        self.path = path
        self.info = info
        self.frame_size = frame_size
        self.outcome = Outcome()

    @abstractmethod
    def frames(self, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        """Yield ``(time_s, rgb_image)`` for the frame on screen at each tick of ``rate`` per second."""

    def progress(self) -> None:
        """Called as decoding advances (between samples too): the watchdog's sign of life."""

    def clock(self, keyframes_only: bool) -> Clock:
        """The clock that re-bases this file's timestamp jumps: backward ones always; forward ones far
        beyond a normal gap (a frame, or in keyframes mode the longest key-frame gap) where the format
        allows discontinuities. Seeing key frames only, it places the jumps where the packet scan found
        them (the last frame before a jump is rarely a key frame)."""
        forward_limit = None
        if self.info.timestamps_may_jump:
            forward_limit = FORWARD_JUMP_S + ((self.info.longest_keyframe_gap_s or 0.0) if keyframes_only else 0.0)
        known = (self.info.discontinuities or ()) if keyframes_only else ()
        clock = Clock(self.info.frame_s, forward_limit, known=known)
        self.outcome.discontinuities = clock.discontinuities
        return clock


class PyAVBackend(Backend):
    """Sequential decoding with PyAV; key frames only via the codec's ``skip_frame``."""

    name = "pyav"

    def frames(self, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        width, height = self.frame_size
        if quarter_turns(self.info.rotation) % 2:  # scale the stored picture, then turn it upright
            width, height = height, width
        with open_container(self.path) as container:
            stream = container.streams.video[0]
            # key frames only: slice threads, as frame threads buy nothing on frames decoded alone and sync on
            # every skipped packet (45-min 224p half: 2.7 s with frame threads, 0.4 s with slice threads)
            stream.thread_type = "SLICE" if keyframes_only else "AUTO"
            if keyframes_only:
                stream.codec_context.skip_frame = "NONKEY"
            clock = self.clock(keyframes_only)
            start = self.info.start_time_s
            time_base = float(stream.time_base)  # a float once, not Fraction arithmetic per frame
            until = self.info.last_frame_time_s if keyframes_only else None
            timed = clock.retime(self._decoded(container, stream), lambda frame: _raw_time(frame, time_base, start),
                                 lambda frame: frame.opaque)
            # one reformatter for the whole pass: it keeps its swscale context (frame.reformat builds a new
            # one, with its filter tables and threads, for every frame: 7x the cost at 224p)
            reformatter = VideoReformatter()
            for time_s, frame in on_screen(timed, rate, itemgetter(0), until):
                image = reformatter.reformat(frame, width=width, height=height, format="rgb24",
                                             interpolation="BICUBIC")
                yield time_s, turn(image.to_ndarray(), self.info.rotation)
            self.outcome.dropped_frames = clock.dropped
            if self.outcome.last_raw_s is not None:
                self.outcome.last_time_s = self.outcome.last_raw_s + clock.offset

    def _decoded(self, container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
        """Frames in presentation order, each with its packet's byte position as ``opaque``; skips
        undecodable packets and unreadable stretches, and stops where the file breaks."""
        stream.codec_context.copy_opaque = True  # a frame carries the opaque of the packet it came from
        start = self.info.start_time_s
        time_base = float(stream.time_base)
        outcome = self.outcome
        reading = Reading()
        for packet in packets(container, stream, reading):
            packet.opaque = packet.pos
            if packet.pts is not None:
                outcome.last_raw_s = packet.pts * time_base - start
            yield from self._decode(stream, packet)
            self.progress()
        yield from self._decode(stream, None)  # what the decoder still holds
        outcome.resyncs = reading.resyncs

    def _decode(self, stream: av.VideoStream, packet: av.Packet | None) -> list[av.VideoFrame]:
        try:
            return stream.decode(packet)
        except av.error.FFmpegError:
            self.outcome.decode_errors += 1
            return []


def _raw_time(frame: av.VideoFrame, time_base: float, start: float) -> float | None:
    """A decoded frame's time from the stream start: its pts, else the dts of its packet (as FFmpeg's best
    effort does), in the stream's time base (a flushed frame may carry none of its own)."""
    stamp = frame.pts if frame.pts is not None else frame.dts
    return None if stamp is None else stamp * time_base - start


class DecordBackend(Backend):
    """decord's frame index (timestamps for every frame from a packet scan), then batched reads.

    decord turns a rotated picture itself, so it is asked for the displayed size straight away.
    """

    name = "decord"

    def frames(self, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        import decord

        decord.logging.set_level(decord.logging.QUIET)
        width, height = self.frame_size
        try:
            reader = decord.VideoReader(str(self.path), ctx=decord.cpu(0), width=width, height=height, num_threads=0)
        except (decord.DECORDError, RuntimeError) as exc:
            reason = str(exc).strip().splitlines()[-1].split("Error:")[-1].strip()[:100]
            raise Untrusted(f"decord cannot index this file ({reason})") from None
        times = reader.get_frame_timestamp(np.arange(len(reader)))[:, 0] if len(reader) else np.empty(0)
        if np.any(times < -TICK_TOLERANCE_S):
            # Frames timed before the stream's start, as an MP4 edit list that starts after a key frame
            # leaves them: decord indexes these hidden frames, and after a seek returns frames shifted by
            # their number (seen on a real broadcast clip). PyAV places frames correctly here.
            raise Untrusted("frames are timed before the stream start (an edit list?)")
        self.progress()
        self._reached(float(times[-1]) if len(times) else None)
        candidates = reader.get_key_indices() if keyframes_only else range(len(times))
        chosen = on_screen(candidates, rate, lambda index: times[index], until=self.outcome.last_time_s)
        for chunk in _chunks(chosen, DECORD_CHUNK):
            try:
                images = reader.get_batch(chunk).asnumpy()
            except decord.DECORDError:
                self.outcome.decode_errors += 1
                self._reached(float(times[chunk[0]]))
                return
            self.progress()
            for index, image in zip(chunk, images):
                yield float(times[index]), image

    def _reached(self, time_s: float | None) -> None:
        """decord's times are the file's own (no timeline re-basing: it is never chosen where they jump)."""
        self.outcome.last_time_s = self.outcome.last_raw_s = time_s


def _chunks(items: Iterable[int], size: int) -> Iterator[list[int]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


BACKENDS: dict[str, type[Backend]] = {backend.name: backend for backend in (DecordBackend, PyAVBackend)}


def decord_unfit(info: VideoInfo) -> str | None:
    """Why decord cannot be trusted on the file ``info`` describes (see ``DECORD_CODECS``), or None."""
    if info.timestamps_may_jump:
        return f"decord returns late frames or hangs on {info.container.split(',')[0]} streams"
    if info.codec not in DECORD_CODECS:
        return f"decord is not frame-exact on {info.codec}"
    if info.container not in DECORD_CONTAINERS:
        return f"decord is untested in {info.container.split(',')[0]} files"
    if info.pixel_format not in DECORD_PIXEL_FORMATS:
        return f"decord is not frame-exact on {info.pixel_format} pictures"
    if info.interlaced:
        return "decord can hang on interlaced video"
    if info.discontinuities:
        return "timestamps jump back, and decord orders frames by timestamp"
    return None


def choose_backend(requested: str, info: VideoInfo, keyframes_only: bool = False) -> tuple[str, str | None]:
    """The backend for ``info``'s file given the ``--decoder`` value (``auto``, ``decord`` or ``pyav``), and
    the reason decord was passed over where it was asked for or could have been picked. Decoding key frames
    only, ``auto`` takes PyAV at every size (its codec skips the other frames, on slice threads: a whole
    sampler process took 0.73x decord's time on a 45-min 224p half and 0.68x on a 10-min 720p clip, median of
    5 pairs each)."""
    if requested == "pyav":
        return "pyav", None
    unfit = decord_unfit(info)
    if unfit is not None:
        return "pyav", unfit
    if requested == "auto" and (keyframes_only or info.width * info.height <= PYAV_FASTER_UP_TO_PIXELS):
        return "pyav", None
    return "decord", None
