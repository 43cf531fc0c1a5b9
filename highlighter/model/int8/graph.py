"""Scoring as one exportable graph: uint8 RGB frames in, class probabilities (and the image tower's features) out.

The normalisation of the model's preprocessing spec (``highlighter.model.preprocess``: the multiply-add that
``FrameScorer`` does outside the model) sits inside the graph, so the runtime that executes the exported graph
needs the frames and nothing else.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from highlighter.model.classifier import HighlightClassifier
from highlighter.model.preprocess import Preprocess


class ScoringGraph(nn.Module):
    """``frames`` (B, S, S, 3) uint8 RGB -> (``probabilities`` (B, C), ``features`` (B, D)), both fp32; the names
    of :data:`highlighter.model.int8.export.INPUT` and ``OUTPUTS``. ``features`` are the image tower's raw output, which
    the benchmarks compare with fp32's by cosine similarity."""

    def __init__(self, classifier: HighlightClassifier) -> None:
        super().__init__()
        scale, shift = Preprocess.of(classifier.spec).scale_shift()
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)
        self.visual = classifier.visual
        self.head = classifier.head

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images = frames.permute(0, 3, 1, 2).float() * self.scale + self.shift
        features = self.visual(images)
        logits = self.head(F.normalize(features, dim=-1))
        return torch.softmax(logits.float(), dim=1), features.float()
