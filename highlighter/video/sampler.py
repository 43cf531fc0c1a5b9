"""The frame sampler: a whole match in, batches of model-sized frames with true timestamps out."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from highlighter.errors import VideoError
from highlighter.video.backends import BACKENDS, Backend
from highlighter.video.geometry import centre_crop, scaled_size
from highlighter.video.prefetch import prefetch
from highlighter.video.probe import VideoInfo, probe

log = logging.getLogger(__name__)

DECODERS = tuple(BACKENDS)
SAMPLING_MODES = ("exact", "keyframes")

#: A decode that stops this many seconds (plus one frame) before the declared duration is reported.
TRUNCATION_SLACK_S = 1.0


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
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float = 1.0,
        size: int = 224,
        decoder: str = "decord",
        sampling: str = "exact",
        batch_size: int = 64,
        prefetch_batches: int = 2,
    ) -> None:
        if fps <= 0:
            raise VideoError(f"--fps must be positive, got {fps}")
        if size <= 0 or batch_size <= 0:
            raise VideoError(f"size and batch size must be positive, got {size} and {batch_size}")
        if decoder not in BACKENDS:
            raise VideoError(f"unknown decoder {decoder!r}: choose one of {', '.join(DECODERS)}")
        if sampling not in SAMPLING_MODES:
            raise VideoError(f"unknown sampling {sampling!r}: choose one of {', '.join(SAMPLING_MODES)}")
        self.path = Path(path)
        self.fps, self.size, self.decoder, self.sampling = fps, size, decoder, sampling
        self.batch_size, self.prefetch_batches = batch_size, prefetch_batches
        self.info: VideoInfo = probe(self.path)

    @property
    def expected_samples(self) -> int | None:
        """Samples an intact video yields (exact mode), or None where it depends on the key frames."""
        return self.info.samples_at(self.fps) if self.sampling == "exact" else None

    def __iter__(self) -> Iterator[FrameBatch]:
        return prefetch(self._batches(), depth=self.prefetch_batches)

    def _batches(self) -> Iterator[FrameBatch]:
        frame_size = scaled_size(self.info.width, self.info.height, self.size)
        backend = BACKENDS[self.decoder](self.path, self.info, frame_size)
        times = np.empty(self.batch_size, dtype=np.float64)
        images = np.empty((self.batch_size, self.size, self.size, 3), dtype=np.uint8)
        filled = total = 0
        for time_s, image in backend.frames(self.fps, keyframes_only=self.sampling == "keyframes"):
            times[filled], images[filled] = time_s, centre_crop(image, self.size)
            filled += 1
            if filled == self.batch_size:
                yield FrameBatch(total, times[:filled].copy(), images[:filled].copy())
                total += filled
                filled = 0
        if filled:
            yield FrameBatch(total, times[:filled].copy(), images[:filled].copy())
            total += filled
        self._report_shortfall(backend, total)

    def _report_shortfall(self, backend: Backend, samples: int) -> None:
        """Warn where decoding stopped early; fail where nothing at all could be decoded."""
        if samples == 0:
            raise VideoError(f"{self.path}: no decodable video frames")
        declared = self.info.duration_s
        reached = backend.last_time_s
        frame_s = 1.0 / self.info.avg_fps if self.info.avg_fps else 0.0
        if declared and reached is not None and reached + frame_s + TRUNCATION_SLACK_S < declared:
            log.warning(
                "%s: decoding stopped at %.1f s of %.1f s declared (file truncated or corrupt); "
                "kept the %d frames before it",
                self.path, reached, declared, samples,
            )
        elif backend.decode_errors:
            log.warning("%s: %d undecodable packets were skipped", self.path, backend.decode_errors)
