"""Frame geometry shared by the backends: short-side resize, then a centre crop to a square.

This is what CLIP's own preprocessing does (``Resize(size)`` + ``CenterCrop(size)``), so the model sees
the same framing at training and tagging time. On a 16:9 broadcast the crop keeps the central 56% of
the width. The backends decode straight to the resized size (one scaling pass inside FFmpeg's
swscale, bicubic in both); only the crop happens here.
"""

from __future__ import annotations

import numpy as np


def scaled_size(width: int, height: int, size: int) -> tuple[int, int]:
    """(width, height) after scaling the short side to ``size``, keeping the aspect ratio."""
    if width <= 0 or height <= 0:
        raise ValueError(f"bad frame size {width}x{height}")
    if width <= height:
        return size, max(size, round(height * size / width))
    return max(size, round(width * size / height)), size


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central ``size`` x ``size`` square of an HxWxC image (a view, no copy)."""
    height, width = image.shape[:2]
    top, left = (height - size) // 2, (width - size) // 2
    return image[top : top + size, left : left + size]
