"""Loudness per second of a stream of samples: RMS in dB relative to full scale (a full-scale square wave
is 0 dB, a full-scale sine -3.01 dB), summed in one pass over the chunks with memory for one number per
second."""

from __future__ import annotations

from typing import Iterable

import numpy as np

#: The level of digital silence (and the floor of every level), dB.
FLOOR_DB = -100.0


def loudness_per_second(chunks: Iterable[tuple[float, np.ndarray]], rate: int) -> np.ndarray:
    """Level in dB of every whole second ``[k, k + 1)`` of the timeline (second 0 starts at time 0);
    seconds with no samples are at :data:`FLOOR_DB`."""
    energy = np.zeros(0)
    count = np.zeros(0)
    for start_s, samples in chunks:
        if not len(samples):
            continue
        first = int(round(start_s * rate))
        index = (first + np.arange(len(samples))) // rate  # the second of each sample
        keep = index >= 0
        index, samples = index[keep], samples[keep].astype(np.float64)
        if not len(index):
            continue
        if index[-1] >= len(energy):
            grow = index[-1] + 1 - len(energy) + 600  # ten minutes more at a time
            energy, count = np.concatenate([energy, np.zeros(grow)]), np.concatenate([count, np.zeros(grow)])
        span = slice(index[0], index[-1] + 1)
        energy[span] += np.bincount(index - index[0], weights=samples * samples)
        count[span] += np.bincount(index - index[0])
    seconds = int(np.flatnonzero(count)[-1]) + 1 if count.any() else 0
    mean_square = energy[:seconds] / np.maximum(count[:seconds], 1)
    levels = 10 * np.log10(np.maximum(mean_square, 10 ** (FLOOR_DB / 10)))
    return np.where(count[:seconds] > 0, levels, FLOOR_DB)
