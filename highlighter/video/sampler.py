"""The frame sampler: a whole match in, batches of model-sized frames with true timestamps out."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from highlighter.errors import VideoError
from highlighter.config.settings import VideoSettings, choices
from highlighter.video.backends import Backend, Outcome, Untrusted, choose_backend
from highlighter.video.geometry import centre_crop, scaled_size
from highlighter.video.nvdec import DECODER_BACKENDS, NvdecBackend, takes_nvdec
from highlighter.video.prefetch import Prefetcher
from highlighter.video.probe import VideoInfo, probe
from highlighter.video.timeline import TICK_TOLERANCE_S, Discontinuity
from highlighter.video.watchdog import Died, Stalled, can_isolate, decode_isolated

log = logging.getLogger(__name__)

#: auto: PyAV, frame-exact wherever FFmpeg is, on NVDEC where an NVIDIA GPU is and the frames are large; decord
#: where asked for and exact (see nvdec.takes_nvdec, backends.choose_backend)
DECODERS = choices(VideoSettings, "decoder")
SAMPLING_MODES = choices(VideoSettings, "sampling")

#: A decode that stops this many seconds (plus one frame) before the declared duration is reported.
TRUNCATION_SLACK_S = 1.0
#: Decode a game's halves at the same time only with at least this many cores: on fewer, two decoders
#: and the model fight over them and the second decoder's buffers only add memory.
CONCURRENT_DECODE_MIN_CORES = 8


def decode_together(videos: int) -> bool:
    """Whether ``videos`` videos of one input (a game's halves) should decode at the same time here."""
    return videos > 1 and len(os.sched_getaffinity(0)) >= CONCURRENT_DECODE_MIN_CORES


@dataclass
class FrameBatch:
    """Consecutive samples: ``images[i]`` is the frame on screen at ``times[i]`` seconds."""

    first_index: int  # index of images[0] among all samples of the video
    times: np.ndarray  # float64 (B,), presentation time relative to the first frame
    images: np.ndarray  # uint8 (B, size, size, 3), RGB

    def __len__(self) -> int:
        return len(self.times)


class FrameSampler:
    """Iterate a video at ``fps`` frames per second, in batches, decoding ahead in a background thread.

    ``sampling="exact"`` returns the frame on screen at each tick 0, 1/fps, 2/fps, ...;
    ``sampling="keyframes"`` decodes key frames only and returns, per tick, the latest key frame (the fast
    path: its times are the key frames' own). A frame is returned at most once, so a hole of dropped
    frames yields no samples rather than copies. Memory is bounded by ``prefetch_batches`` batches.

    Times run on one continuous timeline: where timestamps jump (a joined transport stream) the next
    segment continues one frame after the previous one, and ``discontinuities`` lists the jumps once
    the video has been read. ``decoder="auto"`` decodes with PyAV (on NVDEC where it suits, see
    :mod:`~highlighter.video.nvdec`); ``decoder`` names the backend used. Decoding runs in a child process: if it
    delivers nothing for ``stall_timeout_s``, decord or NVDEC gives way to PyAV and a stalled PyAV is an error.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        fps: float,
        size: int,
        decoder: str,
        sampling: str,
        batch_size: int,
        stall_timeout_s: float,
        prefetch_batches: int = 2,
    ) -> None:
        if fps <= 0:
            raise VideoError(f"--fps must be positive, got {fps}")
        if size <= 0 or batch_size <= 0:
            raise VideoError(f"size and batch size must be positive, got {size} and {batch_size}")
        if decoder not in DECODERS:
            raise VideoError(f"unknown decoder {decoder!r}: choose one of {', '.join(DECODERS)}")
        if sampling not in SAMPLING_MODES:
            raise VideoError(f"unknown sampling {sampling!r}: choose one of {', '.join(SAMPLING_MODES)}")
        if stall_timeout_s <= 0:
            raise VideoError(f"the stall timeout must be positive, got {stall_timeout_s}")
        self.path = Path(path)
        self.fps, self.size, self.sampling = fps, size, sampling
        self.batch_size, self.prefetch_batches, self.stall_timeout_s = batch_size, prefetch_batches, stall_timeout_s
        self.info: VideoInfo = probe(self.path, scan_packets=True)
        self._probed_state = _file_state(self.path)
        if takes_nvdec(decoder, self.info, sampling == "keyframes"):
            self.decoder, passed_over = NvdecBackend.name, None
        else:
            self.decoder, passed_over = choose_backend(decoder, self.info)
        if passed_over:
            log.warning("%s: %s; decoding it with pyav instead of %s", self.path, passed_over, decoder)
        self.discontinuities: list[Discontinuity] = []
        self.decoded_s: float | None = None  # length of the timeline the last pass covered, once it ended
        self.partial: str | None = None  # why the last pass stopped short of the whole video (None: it did not)
        self.backend: Backend | None = None  # the backend that decoded the last pass
        self._started: Prefetcher[FrameBatch] | None = None
        self.started_at: float | None = None  # time.perf_counter() when the last pass began decoding

    @classmethod
    def from_settings(cls, path: str | os.PathLike, video: VideoSettings, size: int, batch_size: int) -> "FrameSampler":
        """A sampler of ``path`` as ``video`` says, at the model's ``size``."""
        return cls(path, fps=video.fps, size=size, decoder=video.decoder, sampling=video.sampling,
                   batch_size=batch_size, stall_timeout_s=video.stall_timeout_s)

    @property
    def expected_samples(self) -> int | None:
        """Samples an intact video yields (exact mode), or None where it depends on the key frames."""
        return self.info.samples_at(self.fps) if self.sampling == "exact" else None

    def start(self) -> FrameSampler:
        """Begin decoding now, in the background; the next iteration takes the batches decoded meanwhile (so
        decoding can run while the model loads). ``close()`` stops a pass that will not be iterated."""
        if self._started is None:
            self.started_at = time.perf_counter()
            self._started = Prefetcher(self._batches(), depth=self.prefetch_batches)
        return self

    def close(self) -> None:
        """Stop a pass begun with :meth:`start` and not iterated (its decoder process ends)."""
        if self._started is not None:
            self._started.close()
            self._started = None

    def __iter__(self) -> Iterator[FrameBatch]:
        self.start()
        batches, self._started = self._started, None
        return batches

    def _batches(self) -> Iterator[FrameBatch]:
        times = np.empty(self.batch_size, dtype=np.float64)
        images = np.empty((self.batch_size, self.size, self.size, 3), dtype=np.uint8)
        filled = total = 0
        for time_s, image in self._samples():
            times[filled], images[filled] = time_s, centre_crop(image, self.size)
            filled += 1
            if filled == self.batch_size:
                yield FrameBatch(total, times[:filled].copy(), images[:filled].copy())
                total += filled
                filled = 0
        if filled:
            yield FrameBatch(total, times[:filled].copy(), images[:filled].copy())
            total += filled
        backend = self.backend
        self.discontinuities = list(backend.outcome.discontinuities)
        self._report_discontinuities()
        self._report_shortfall(backend, total)

    def _samples(self) -> Iterator[tuple[float, np.ndarray]]:
        """Samples from the chosen backend; where decord or NVDEC proves unfit or stalls, PyAV takes over after
        the last sample delivered (both give the same times, so nothing is repeated or lost). decord or NVDEC
        that crashes counts as unfit too; PyAV that stalls or crashes is an error."""
        backend = self._backend(self.decoder)
        delivered = -np.inf
        try:
            for time_s, image in self._decode(backend):
                delivered = time_s
                yield time_s, image
            self.backend = backend
            return
        except (Untrusted, Stalled, Died) as exc:  # Untrusted: not PyAV's
            if backend.name == "pyav":
                raise VideoError(f"{self.path}: {exc}") from None
            log.warning("%s: %s; decoding it with pyav instead of %s", self.path, exc, backend.name)
        self.decoder = "pyav"
        backend = self._backend("pyav")
        for time_s, image in self._decode(backend):
            if time_s > delivered + TICK_TOLERANCE_S:
                yield time_s, image
        self.backend = backend

    def _backend(self, name: str) -> Backend:
        frame_size = scaled_size(*self.info.display_size, self.size)
        return DECODER_BACKENDS[name](self.path, self.info, frame_size)

    def _decode(self, backend: Backend) -> Iterator[tuple[float, np.ndarray]]:
        keyframes_only = self.sampling == "keyframes"
        if can_isolate():
            return decode_isolated(backend, self.fps, keyframes_only, self.stall_timeout_s)
        return backend.frames(self.fps, keyframes_only)  # no watchdog where the platform cannot fork

    def _report_discontinuities(self) -> None:
        """One warning per video listing where the timeline was continued across a timestamp jump."""
        if self.discontinuities:
            shown = ", ".join(f"{d.position_s:.1f} s ({d.jump_s:+.1f} s)" for d in self.discontinuities[:5])
            more = f" and {len(self.discontinuities) - 5} more" if len(self.discontinuities) > 5 else ""
            log.warning("%s: timestamps jump at %s%s; the timeline continues across each jump",
                        self.path, shown, more)

    def _report_shortfall(self, backend: Backend, samples: int) -> None:
        """Measure what the pass decoded and warn where it stopped short of the whole video (``partial``) or
        met damaged data; fail where nothing at all could be decoded."""
        if samples == 0:
            raise VideoError(f"{self.path}: no decodable video frames")
        outcome = backend.outcome
        self.partial = self._shortfall(outcome)
        if self.partial is None or outcome.last_time_s is None:
            self.decoded_s = self.info.length_s
        else:
            self.decoded_s = outcome.last_time_s + self.info.frame_s
            log.warning("%s: %s; kept the %d samples of its first %.1f s (a partial decode)",
                        self.path, self.partial, samples, self.decoded_s)
        damage = [f"{count} {what}" for count, what in ((outcome.resyncs, "unreadable stretches"),
                                                       (outcome.decode_errors, "undecodable packets"),
                                                       (outcome.dropped_frames, "frames without a usable time"))
                  if count]
        if damage:
            log.warning("%s: damaged data skipped: %s", self.path, ", ".join(damage))

    def _shortfall(self, outcome: Outcome) -> str | None:
        """Why decoding ended short of the whole video: before the duration the container declares (set against
        the file's own times, which jumps do not shift), at a file's end inside a packet, or in a file that
        changed meanwhile."""
        declared, reached = self.info.duration_s, outcome.last_raw_s
        if declared and reached is not None and reached + self.info.frame_s + TRUNCATION_SLACK_S < declared:
            return f"decoding stopped at {reached:.1f} s of {declared:.1f} s declared (file truncated or corrupt)"
        if self.info.cut_off:
            return "the file ends inside a packet (cut off, or still being written)"
        if _file_state(self.path) != self._probed_state:
            return "the file changed while it was read (still being written?)"
        return None


def _file_state(path: Path) -> tuple[int, int] | None:
    """Size and modification time of ``path`` (None where it is gone): a file still being written changes."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns
