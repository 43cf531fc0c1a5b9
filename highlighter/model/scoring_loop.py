"""Every sample of a game's videos through one scorer (PyTorch's ``FrameScorer`` or the int8
``OnnxFrameScorer``), into one score curve per video; imports neither runtime."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from itertools import chain
from typing import Protocol, TypeVar

import numpy as np
from rich.progress import Progress

from highlighter.outputs.scores import ScoreCurves
from highlighter.video import FrameSampler, decode_together

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Scorer(Protocol):
    """What scoring needs of a model: its classes, and probabilities for batches of uint8 RGB frames."""

    @property
    def classes(self) -> list[str]: ...

    @property
    def image_size(self) -> int: ...

    def score(self, batches: Iterable[tuple[T, np.ndarray]]) -> Iterator[tuple[T, np.ndarray]]: ...


def interleave(streams: Mapping[K, Iterable[T]]) -> Iterator[tuple[K, T]]:
    """``(key, item)`` taking one item from each stream in turn until all are exhausted."""
    iterators = {key: iter(stream) for key, stream in streams.items()}
    while iterators:
        for key in list(iterators):
            try:
                yield key, next(iterators[key])
            except StopIteration:
                del iterators[key]


def score_videos(samplers: Mapping[K, FrameSampler], scorer: Scorer, progress: Progress | None = None,
                 labels: Mapping[K, str] | None = None, concurrent: bool | None = None) -> dict[K, ScoreCurves]:
    """Score every sample of each sampler, through one model.

    With ``concurrent`` the videos decode at the same time (each sampler's decoder runs in its own thread,
    its batches taken in turn); by default where :func:`~highlighter.video.decode_together` says so.
    """
    if concurrent is None:
        concurrent = decode_together(len(samplers))
    tasks = {key: progress.add_task((labels or {}).get(key) or f"tag {sampler.path.name}",
                                    total=sampler.expected_samples) if progress else None
             for key, sampler in samplers.items()}
    batches = (interleave(samplers) if concurrent
               else chain.from_iterable(((key, batch) for batch in sampler) for key, sampler in samplers.items()))
    times: dict[K, list[np.ndarray]] = {key: [] for key in samplers}
    outputs: dict[K, list[np.ndarray]] = {key: [] for key in samplers}
    for (key, batch), scores in scorer.score(((key, batch), batch.images) for key, batch in batches):
        times[key].append(batch.times)
        outputs[key].append(scores)
        if tasks[key] is not None:
            progress.advance(tasks[key], len(batch))
    curves = {}
    for key, task in tasks.items():
        samples = sum(map(len, times[key]))
        if task is not None:
            progress.update(task, total=samples, completed=samples)
        curves[key] = ScoreCurves.from_rows(scorer.classes, np.concatenate(times[key]), np.concatenate(outputs[key]))
    return curves
