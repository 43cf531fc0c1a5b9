"""Batched inference: every sampled frame of a video through the classifier, on the GPU when there is one.

Decoding runs ahead in the sampler's background thread while the model scores the previous batch. On
CUDA: pinned host memory, non-blocking copies, normalisation on the device, channels_last and
bf16/fp16 autocast. On CPU: all cores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from rich.progress import Progress

from highlighter.model import HighlightClassifier
from highlighter.device import autocast
from highlighter.video import FrameSampler


@dataclass
class ScoreCurves:
    """Class probabilities for every sampled frame of one video."""

    classes: list[str]
    times: np.ndarray  # (N,) seconds
    probabilities: np.ndarray  # (N, C) softmax


class FrameScorer:
    """Turns batches of uint8 RGB frames into class probabilities."""

    def __init__(self, classifier: HighlightClassifier, device: torch.device) -> None:
        self.device = device
        self.classifier = classifier.to(device).eval()
        spec = classifier.spec
        self.mean = torch.tensor(spec.mean, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(spec.std, device=device).view(1, 3, 1, 1) * 255
        if device.type == "cuda":
            self.classifier = self.classifier.to(memory_format=torch.channels_last)
        else:
            torch.set_num_threads(len(os.sched_getaffinity(0)))

    @torch.inference_mode()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 -> (B, C) float32 probabilities."""
        batch = torch.from_numpy(images)
        if self.device.type == "cuda":
            batch = batch.pin_memory()
        batch = batch.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
        batch = (batch - self.mean) / self.std
        if self.device.type == "cuda":
            batch = batch.contiguous(memory_format=torch.channels_last)
        with autocast(self.device):
            logits = self.classifier(batch)
        return torch.softmax(logits.float(), dim=1).cpu().numpy()


def score_video(sampler: FrameSampler, scorer: FrameScorer, progress: Progress | None = None,
                label: str | None = None) -> ScoreCurves:
    """Score every sample of ``sampler``."""
    times, probabilities = [], []
    task = progress.add_task(label or f"tag {sampler.path.name}", total=sampler.expected_samples) if progress else None
    for batch in sampler:
        times.append(batch.times)
        probabilities.append(scorer(batch.images))
        if task is not None:
            progress.advance(task, len(batch))
    if task is not None:
        progress.update(task, total=sum(map(len, times)), completed=sum(map(len, times)))
    classes = list(scorer.classifier.spec.classes)
    return ScoreCurves(classes, np.concatenate(times), np.concatenate(probabilities).astype(np.float32))
