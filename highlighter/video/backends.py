"""Decoding backends, PyAV and decord, behind one interface, and the choice between them per file.

Each backend yields ``(time_s, image)`` for the frames the sampling rule picks, where ``time_s`` is the
frame's presentation time on one continuous timeline starting at the stream's first frame (timestamp
jumps re-based, see :class:`~highlighter.video.timeline.Clock`) and ``image`` is the picture FFmpeg
displays (square pixels, rotation applied), RGB uint8 in SDR BT.709 (HDR tone-mapped, see
:mod:`~highlighter.video.colour`), scaled so its short side is the model's size (FFmpeg's swscale,
bicubic, in both backends). Both read the match's video stream (:func:`~highlighter.video.streams.match_stream`).

PyAV is the decoder: FFmpeg's own decoding, frame-exact wherever FFmpeg is. decord is an option for files
where clock clips showed it exact; ``auto`` never picks it. It was about 7% faster at 1080p (1.07x, 3 pairs,
benchmarks/bench_sampler.py) and slower below 720p, and kept being found wrong in new ways: late in MPEG-TS,
off on HEVC and 10-bit video, shifted by MP4 edit lists, and on open-GOP H.264 (x264 ``open-gop=1``, as
broadcast encoders write it) 38 of 40 samples wrong at 1 fps in MKV and MP4. It has been unmaintained since
2021.
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

from highlighter.video.colour import HDR_TRANSFERS, sdr_converter
from highlighter.video.demux import Reading, packets
from highlighter.video.geometry import quarter_turns, turn
from highlighter.video.probe import VideoInfo, open_container
from highlighter.video.timeline import FORWARD_JUMP_S, TICK_TOLERANCE_S, Clock, Discontinuity, on_screen

log = logging.getLogger(__name__)

#: decord's get_batch is called with this many frame indices at a time (bounded memory).
DECORD_CHUNK = 16

#: Where decord returned the frame on screen at every tick of clock clips (tests/test_archive_video.py):
#: progressive 8-bit 4:2:0 H.264 and MPEG-4 Part 2 in MP4/MOV, Matroska/WebM and AVI, closed GOPs, one video
#: stream. Elsewhere it was wrong: every sample late in MPEG-TS (H.264 2 s, MPEG-2 with B-frames about 0.5 s)
#: or hung there; HEVC a frame late at times in MP4 and 10 s off when 10-bit; AV1 not indexed; VP9 reported
#: empty; open GOPs a frame late or 2 s early after each seek; and it reads a video stream of its own choosing.
DECORD_CODECS = frozenset({"h264", "mpeg4"})
DECORD_CONTAINERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi"})
DECORD_PIXEL_FORMATS = frozenset({"yuv420p", "yuvj420p"})


class Untrusted(Exception):
    """A backend other than PyAV found, on opening a file, that it cannot be trusted there or cannot decode it
    (decord's answers, no device for NVDEC); raised before any frame."""


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
    """Sequential decoding with PyAV; key frames only by decoding each key frame on its own."""

    name = "pyav"

    def frames(self, rate: float, keyframes_only: bool) -> Iterator[tuple[float, np.ndarray]]:
        width, height = self.frame_size
        if quarter_turns(self.info.rotation) % 2:  # scale the stored picture, then turn it upright
            width, height = height, width
        # an untimed frame's time adds up the frames before it, so all are decoded, and the key frames kept
        keyframes_alone = keyframes_only and not self.info.untimed
        to_sdr = sdr_converter(self.info.color_transfer, self.info.color_primaries)
        with self._open() as container:
            stream = container.streams[self.info.stream_index]
            # key frames only: slice threads, as frame threads buy nothing on frames decoded alone (45-min 224p
            # half: 2.7 s with frame threads, 0.4 s with slice threads)
            stream.thread_type = "SLICE" if keyframes_alone else "AUTO"
            clock = self.clock(keyframes_only)
            start = self.info.start_time_s
            time_base = float(stream.time_base)  # a float once, not Fraction arithmetic per frame
            until = self.info.last_frame_time_s if keyframes_only else None
            decoded = self._timed(self._decoded(container, stream, keyframes_alone), time_base, start)
            timed = clock.retime(decoded, itemgetter(0), lambda item: item[1].opaque)
            if keyframes_only and not keyframes_alone:
                timed = (item for item in timed if item[1][1].key_frame)
            # one reformatter for the whole pass: it keeps its swscale context (frame.reformat builds a new
            # one, with its filter tables and threads, for every frame: 7x the cost at 224p)
            reformatter = VideoReformatter()
            for time_s, (_, frame) in on_screen(timed, rate, itemgetter(0), until):
                image = reformatter.reformat(frame, width=width, height=height,
                                             format="rgb24" if to_sdr is None else "rgb48le", interpolation="BICUBIC")
                image = image.to_ndarray() if to_sdr is None else to_sdr(image.to_ndarray())
                yield time_s, turn(image, self.info.rotation)
            self.outcome.dropped_frames = clock.dropped
            if self.outcome.last_raw_s is not None:
                self.outcome.last_time_s = self.outcome.last_raw_s + clock.offset

    def _open(self) -> av.container.InputContainer:
        """The file, opened for decoding on the CPU."""
        return open_container(self.path)

    def _timed(self, frames: Iterable[av.VideoFrame], time_base: float,
               start: float) -> Iterator[tuple[float | None, av.VideoFrame]]:
        """(raw time, frame) in presentation order: the frame's timestamp (see :func:`_raw_time`); in a format
        without timestamps (a raw stream) the durations of the frames before it added up, as FFmpeg times them."""
        if not self.info.untimed:
            yield from ((_raw_time(frame, time_base, start), frame) for frame in frames)
            return
        elapsed = 0.0
        for frame in frames:
            yield elapsed, frame
            elapsed += frame.duration * time_base if frame.duration else self.info.frame_s

    def _decoded(self, container: av.container.InputContainer, stream: av.VideoStream,
                 keyframes_alone: bool) -> Iterator[av.VideoFrame]:
        """Frames in presentation order, each with its packet's byte position as ``opaque``; skips
        undecodable packets and unreadable stretches, and stops where the file breaks. With
        ``keyframes_alone`` only key frames, each decoded on its own (the decoder drained and reset after
        it): a decoder told to skip the other frames (``skip_frame``) loses the key frames of open GOPs
        (x264 ``open-gop=1``: 3 of 20 came out, out of order)."""
        stream.codec_context.copy_opaque = True  # a frame carries the opaque of the packet it came from
        start = self.info.start_time_s
        time_base = float(stream.time_base)
        outcome = self.outcome
        reading = Reading()
        for packet in packets(container, stream, reading):
            packet.opaque = packet.pos
            if packet.pts is not None:
                outcome.last_raw_s = packet.pts * time_base - start
            if keyframes_alone and not packet.is_keyframe:
                self.progress()
                continue
            yield from self._decode(stream, packet)
            if keyframes_alone:
                yield from self._decode(stream, None)
                stream.codec_context.flush_buffers()
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
    if info.open_gop is not False:
        return "decord is not frame-exact on open GOPs" if info.open_gop else "open GOPs are unknown without a scan"
    if info.video_streams > 1:
        return f"decord reads a video stream of its own choosing ({info.video_streams} in this file)"
    if sdr_converter(info.color_transfer, info.color_primaries) is not None:
        return f"decord does not convert {HDR_TRANSFERS.get(info.color_transfer, 'wide-gamut')} video to SDR"
    return None


def choose_backend(requested: str, info: VideoInfo) -> tuple[str, str | None]:
    """The backend for ``info``'s file given the ``--decoder`` value (``auto``, ``decord`` or ``pyav``), and
    why decord was refused where it was asked for. ``auto`` is PyAV on every file (see the module's
    docstring); decord only where asked for and proven exact on such files."""
    if requested != "decord":
        return "pyav", None
    unfit = decord_unfit(info)
    return ("pyav", unfit) if unfit else ("decord", None)
