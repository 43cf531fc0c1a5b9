"""The crowd cue of one half: its loudness per second, normalised within the half (median and MAD, so a
loud stadium and a quiet one compare), and context features at each sample time: the level, its rise over
the seconds before, and the loudest second in a window after."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from highlighter.audio.decode import AudioUnavailable, audio_chunks
from highlighter.audio.loudness import loudness_per_second
from highlighter.config.settings import AudioSettings

log = logging.getLogger(__name__)

#: The columns of :func:`context_features`.
FEATURE_NAMES = ("level", "rise", "peak_after")
#: The smallest spread (dB) a half's normalisation divides by, so a near-constant track stays near zero.
MIN_SPREAD_DB = 1.0


@dataclass(frozen=True)
class AudioCue:
    """Loudness of one half: ``levels[k]`` (dB) is second ``[k, k + 1)`` from the first video frame."""

    levels: np.ndarray

    @property
    def normalised(self) -> np.ndarray:
        """Levels as robust z-scores within the half: (level - median) / (1.4826 MAD)."""
        return normalise(self.levels)

    def features_at(self, times: np.ndarray, settings: AudioSettings) -> np.ndarray:
        """(len(times), 3) :data:`FEATURE_NAMES` at each time, from the normalised levels."""
        return context_features(self.normalised, times, settings.rise_s, settings.peak_after_s)

    def level_at(self, times: np.ndarray) -> np.ndarray:
        """The level (dB) of the second holding each time."""
        return self.levels[_seconds(times, len(self.levels))]


def normalise(levels: np.ndarray) -> np.ndarray:
    """Robust z-scores of ``levels`` within their half (median and scaled MAD, at least
    :data:`MIN_SPREAD_DB`)."""
    median = float(np.median(levels))
    spread = max(1.4826 * float(np.median(np.abs(levels - median))), MIN_SPREAD_DB)
    return (levels - median) / spread


def _seconds(times: np.ndarray, count: int) -> np.ndarray:
    return np.clip(np.floor(np.asarray(times, dtype=np.float64)).astype(np.int64), 0, max(count - 1, 0))


def context_features(normalised: np.ndarray, times: np.ndarray, rise_s: float, peak_after_s: float) -> np.ndarray:
    """Per time: the normalised level of its second, that level minus the mean of the ``rise_s`` seconds
    before (the first seconds compare with what there is), and the maximum over its second and the
    ``peak_after_s`` after (clipped at the end)."""
    count = len(normalised)
    at = _seconds(times, count)
    before, after = max(int(round(rise_s)), 1), max(int(round(peak_after_s)), 0)
    cumulative = np.concatenate([[0.0], np.cumsum(normalised)])
    start = np.maximum(at - before, 0)
    previous = np.where(at > 0, (cumulative[at] - cumulative[start]) / np.maximum(at - start, 1), normalised[at])
    padded = np.concatenate([normalised, np.full(after, -np.inf)])
    peak = sliding_window_view(padded, after + 1).max(axis=1)[at]
    return np.stack([normalised[at], normalised[at] - previous, peak], axis=1).astype(np.float32)


def read_cue(path: str | os.PathLike, settings: AudioSettings) -> AudioCue | None:
    """The cue of a video, or None (with a one-line note in the log) where it has no audio stream, a
    corrupt one or a silent one: then frame scores go on alone."""
    try:
        levels = loudness_per_second(audio_chunks(path, settings.rate), settings.rate)
    except AudioUnavailable as exc:
        log.warning("%s; frame scores only", exc)
        return None
    if not len(levels):
        log.warning("%s: no decodable audio; frame scores only", path)
        return None
    if float(levels.max()) < settings.silent_db:
        log.warning("%s: the audio track is silent; frame scores only", path)
        return None
    return AudioCue(levels)
