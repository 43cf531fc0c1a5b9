"""The model's preprocessing, one spec that training and tagging both ask (as open_clip's ``PreprocessCfg`` is
for its train and val transforms): the frame geometry, then the normalisation.

- Geometry: the displayed picture's short side scaled to the model's size by FFmpeg's swscale (bicubic), then
  the central square (``highlighter.video.geometry``). The sampler decodes straight to it; training images that
  are not at the size yet (SoccerNet-v3 frames) are scaled by the same swscale here.
- Normalisation: ``(x / 255 - mean) / std`` per channel as one multiply-add in fp32, by :meth:`normalise` alone,
  for a tagging batch and a training image alike, so the model gets the same tensor for the same frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from highlighter.model.checkpoint import ClassifierSpec
from highlighter.video.geometry import model_frame

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Preprocess:
    """How frames become the model's input: its square ``size`` and the channels' ``mean`` and ``std``."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @classmethod
    def of(cls, spec: ClassifierSpec) -> Preprocess:
        """The preprocessing of a checkpoint's classifier."""
        return cls(spec.image_size, tuple(spec.mean), tuple(spec.std))

    def image(self, image: np.ndarray) -> np.ndarray:
        """A uint8 HxWx3 RGB image in the model's geometry (unchanged where it is already ``size`` square)."""
        return image if image.shape[:2] == (self.size, self.size) else model_frame(image, self.size)

    def scale_shift(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The normalisation as one multiply-add, ``x * scale + shift`` on (B, 3, S, S) pixels in 0-255: fp32
        (1, 3, 1, 1) tensors (an exported graph holds them as its constants)."""
        import torch

        std, mean = torch.tensor(self.std), torch.tensor(self.mean)
        return (1 / (255 * std)).view(1, 3, 1, 1), (-mean / std).view(1, 3, 1, 1)

    def normalise(self, images: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 (B, S, S, 3) RGB images as the model's fp32 (B, 3, S, S) input, written into ``out`` if given."""
        import torch

        scale, shift = (tensor.to(images.device) for tensor in self.scale_shift())
        out = torch.empty(images.shape[0], 3, *images.shape[1:3], device=images.device) if out is None else out
        torch.mul(images.permute(0, 3, 1, 2), scale, out=out)
        return out.add_(shift)

    def transform(self, train: bool = False) -> Callable[[np.ndarray], torch.Tensor]:
        """One training image (uint8 HxWx3 RGB) to the model's input (3, S, S); for training a random horizontal
        flip first (drawn from PyTorch's generator, which the data loader seeds per worker)."""
        import torch

        def apply(image: np.ndarray) -> torch.Tensor:
            framed = self.image(image)
            if train and torch.rand(()) < 0.5:
                framed = framed[:, ::-1]
            return self.normalise(torch.from_numpy(framed.copy())[None])[0]  # a copy: cached frames are read-only maps

        return apply
