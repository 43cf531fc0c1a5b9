"""Batched inference: every sampled frame of a video through the classifier, on the GPU when there is one.

Decoding runs ahead in the sampler's background thread while the model scores the previous batch. The
model runs in one precision throughout (its weights and inputs cast to bf16, fp16 or fp32; see
``highlighter.model.device.inference_dtype``); the softmax is fp32. Inputs go through buffers made once: on
CUDA one pinned host buffer and a side stream whose non-blocking copy of batch n+1 overlaps the model on
batch n.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from highlighter.model.classifier import HighlightClassifier
from highlighter.model.device import inference_dtype
from highlighter.model.preprocess import Preprocess

T = TypeVar("T")


def is_convolutional(model: nn.Module) -> bool:
    """True for towers built of convolutions (ResNets, ConvNeXts), where channels_last pays; a ViT has one
    (its patch embedding) and gains nothing from it."""
    return sum(isinstance(module, nn.Conv2d) for module in model.modules()) > 1


class FrameScorer:
    """Turns batches of uint8 RGB frames into class probabilities (with ``features``, each row followed by the
    frame's unit image embedding: the spotting head's input).

    ``classifier`` is moved to ``device`` and cast to the precision in place. ``compile`` wraps it in
    ``torch.compile``, which then always sees full batches (the last one padded) so it compiles once.
    """

    def __init__(self, classifier: HighlightClassifier, device: torch.device, precision: str = "auto",
                 compile: bool = False, features: bool = False) -> None:
        self.device = device
        self.with_features = features
        self.dtype = inference_dtype(precision, device)
        self.memory_format = torch.channels_last if is_convolutional(classifier.visual) else torch.contiguous_format
        self.classifier = classifier.to(device=device, dtype=self.dtype, memory_format=self.memory_format).eval()
        self.model = torch.compile(self.classifier) if compile else self.classifier
        self.compiled = compile
        self.preprocess = Preprocess.of(classifier.spec)  # normalised in fp32, then cast to the model's precision
        self.capacity = 0
        if device.type == "cpu":
            torch.set_num_threads(len(os.sched_getaffinity(0)))
        else:
            self.copy_stream = torch.cuda.Stream(device)
            self.copied = torch.cuda.Event()  # the host buffer's batch is on the device
            self.consumed = torch.cuda.Event()  # the device's uint8 buffer is free again

    @property
    def classes(self) -> list[str]:
        """The classes, in the order of the probability columns."""
        return list(self.classifier.spec.classes)

    @property
    def image_size(self) -> int:
        """The side of the square frames the model takes."""
        return self.classifier.spec.image_size

    @property
    def width(self) -> int:
        """Columns of each output row: the classes, then (with ``features``) the embedding."""
        return len(self.classes) + (self.classifier.spec.model_config["embed_dim"] if self.with_features else 0)

    def _reserve(self, rows: int, size: int) -> None:
        """Make the input buffers (once; again only for a larger batch than any before)."""
        if rows <= self.capacity:
            return
        self.normalised = torch.zeros((rows, 3, size, size), dtype=torch.float32, device=self.device)
        self.inputs = (self.normalised if self.dtype == torch.float32 and self.memory_format == torch.contiguous_format
                       else torch.zeros_like(self.normalised, dtype=self.dtype, memory_format=self.memory_format))
        if self.device.type == "cuda":
            self.host = torch.empty((rows, size, size, 3), dtype=torch.uint8, pin_memory=True)
            self.frames = torch.empty_like(self.host, device=self.device)
            self.results = [torch.empty((rows, self.width), dtype=torch.float32, pin_memory=True)
                            for _ in range(2)]
        self.capacity = rows

    def _upload(self, images: np.ndarray) -> torch.Tensor:
        """The batch as a uint8 tensor on the device: on CUDA through the pinned buffer and the side
        stream, the model's stream waiting for the copy (not the host)."""
        if self.device.type != "cuda":
            return torch.from_numpy(images)
        rows = len(images)
        self.copied.synchronize()  # the previous batch has left the host buffer
        np.copyto(self.host[:rows].numpy(), images)
        with torch.cuda.stream(self.copy_stream):
            self.copy_stream.wait_event(self.consumed)
            self.frames[:rows].copy_(self.host[:rows], non_blocking=True)
            self.copied.record()
        torch.cuda.current_stream(self.device).wait_event(self.copied)
        return self.frames[:rows]

    def _launch(self, images: np.ndarray, slot: int) -> torch.Tensor:
        """Queue one batch: copy, normalise, model, softmax. On CUDA this returns before the GPU is done,
        with the probabilities bound for pinned result buffer ``slot``."""
        rows = len(images)
        self._reserve(rows, images.shape[1])
        cuda = self.device.type == "cuda"
        self.preprocess.normalise(self._upload(images), out=self.normalised[:rows])
        if cuda:
            self.consumed.record()
        if self.inputs is not self.normalised:
            self.inputs[:rows].copy_(self.normalised[:rows])
        batch = self.inputs[:self.capacity if self.compiled else rows]
        if self.with_features:
            logits, features = (out[:rows] for out in self.model(batch, with_features=True))
            probabilities = torch.cat([torch.softmax(logits.float(), dim=1), features.float()], dim=1)
        else:
            probabilities = torch.softmax(self.model(batch)[:rows].float(), dim=1)
        if not cuda:
            return probabilities
        return self.results[slot][:rows].copy_(probabilities, non_blocking=True)

    @torch.inference_mode()
    def score(self, batches: Iterable[tuple[T, np.ndarray]]) -> Iterator[tuple[T, np.ndarray]]:
        """``(key, (B, S, S, 3) uint8 RGB)`` in, ``(key, (B, C) float32 probabilities)`` out, in order.

        On CUDA batch n's results are read only after batch n+1 is queued, so the GPU never waits for the
        host between batches.
        """
        pending: tuple[T, torch.Tensor, torch.cuda.Event] | None = None
        for slot, (key, images) in enumerate(batches):
            probabilities = self._launch(images, slot % 2)
            if self.device.type != "cuda":
                yield key, probabilities.numpy()
                continue
            done = torch.cuda.Event()
            done.record()
            if pending is not None:
                yield self._collect(*pending)
            pending = key, probabilities, done
        if pending is not None:
            yield self._collect(*pending)

    @staticmethod
    def _collect(key: T, probabilities: torch.Tensor, done: torch.cuda.Event) -> tuple[T, np.ndarray]:
        done.synchronize()
        return key, probabilities.numpy().copy()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 -> (B, ``width``) float32 probabilities (and embeddings)."""
        ((_, probabilities),) = self.score([(None, images)])
        return probabilities
