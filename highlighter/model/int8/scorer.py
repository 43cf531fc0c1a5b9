"""``FrameScorer``'s interface over an int8 scoring graph run by ONNX Runtime: needs neither PyTorch nor
open_clip (the int8 model comes from :mod:`highlighter.model.int8.cache`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np

from highlighter.model.int8.export import INPUT, OUTPUTS

T = TypeVar("T")


def ort_session(path: Path, threads: int):
    """An ONNX Runtime CPU session on ``threads`` threads that sleep between calls (spinning threads would take
    the decoder's CPU time, as torch's did before OMP_WAIT_POLICY=PASSIVE)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxFrameScorer:
    """Turns batches of uint8 RGB frames into class probabilities with the int8 graph at ``path``, on this
    process's CPUs."""

    def __init__(self, path: Path, classes: list[str], image_size: int, threads: int | None = None) -> None:
        self.session = ort_session(path, threads or len(os.sched_getaffinity(0)))
        self._classes = list(classes)
        self.image_size = image_size

    @property
    def classes(self) -> list[str]:
        """The classes, in the order of the probability columns."""
        return list(self._classes)

    def score(self, batches: Iterable[tuple[T, np.ndarray]]) -> Iterator[tuple[T, np.ndarray]]:
        """``(key, (B, S, S, 3) uint8 RGB)`` in, ``(key, (B, C) float32 probabilities)`` out, in order."""
        for key, images in batches:
            yield key, self(images)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 -> (B, C) float32 probabilities."""
        (probabilities,) = self.session.run([OUTPUTS[0]], {INPUT: np.ascontiguousarray(images)})
        return probabilities
