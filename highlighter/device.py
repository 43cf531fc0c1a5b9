"""Where the model runs: device choice and mixed precision."""

from __future__ import annotations

import torch

from highlighter.errors import HighlighterError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise HighlighterError("--device cuda asked for, but no CUDA GPU is visible")
    return torch.device(name)


def autocast(device: torch.device):
    """bf16 autocast on CUDA (fp16 where bf16 is missing); nothing on CPU."""
    if device.type != "cuda":
        return torch.autocast("cpu", enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)
