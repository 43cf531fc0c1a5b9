"""Frame geometry shared by the backends: the displayed picture (square pixels, rotation applied), its
short-side resize, then a centre crop to a square.

This is what CLIP's own preprocessing does (``Resize(size)`` + ``CenterCrop(size)``), so the model sees
the same framing at training and tagging time. On a 16:9 broadcast the crop keeps the central 56% of
the width. What is resized is what FFmpeg displays: an anamorphic 720x576 PAL frame with sample aspect
64:45 is shown 1024x576, and a phone clip whose display matrix turns it 90 degrees is shown upright. The
backends decode straight to the resized size (one scaling pass inside FFmpeg's swscale, bicubic in
both, which also squares the pixels); the quarter turns and the crop happen here.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def quarter_turns(rotation: int) -> int:
    """Counter-clockwise quarter turns (0-3) of a display-matrix rotation in degrees."""
    return round(rotation / 90) % 4


def display_size(width: int, height: int, sample_aspect: Fraction, rotation: int) -> tuple[int, int]:
    """(width, height) of the picture shown for a ``width`` x ``height`` frame (FFmpeg's
    ``scale=iw*sar:ih``, then its autorotation)."""
    shown = (max(round(width * sample_aspect), 1), height)
    return shown[::-1] if quarter_turns(rotation) % 2 else shown


def turn(image: np.ndarray, rotation: int) -> np.ndarray:
    """``image`` (HxWxC) turned as the display matrix says (a view, no copy)."""
    return np.rot90(image, quarter_turns(rotation))


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


def model_frame(image: np.ndarray, size: int) -> np.ndarray:
    """A uint8 HxWx3 RGB image as the backends frame a decoded picture: its short side scaled to ``size`` by
    swscale (bicubic, as they decode), then the central ``size`` x ``size`` square."""
    import av

    width, height = scaled_size(image.shape[1], image.shape[0], size)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
    scaled = frame.reformat(width=width, height=height, interpolation="BICUBIC").to_ndarray()
    return np.ascontiguousarray(centre_crop(scaled, size))
