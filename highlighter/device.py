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


def cuda_has_native_bf16() -> bool:
    """True when the GPU computes bf16 in hardware (Ampere and later). ``torch.cuda.is_bf16_supported()``
    alone also counts emulation (T4, V100), which is slower than fp16 there."""
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)


def cuda_autocast_dtype() -> torch.dtype:
    """bf16 where the GPU has it natively, else fp16 (which needs loss scaling in training)."""
    return torch.bfloat16 if cuda_has_native_bf16() else torch.float16


def autocast(device: torch.device):
    """bf16 autocast on CUDA (fp16 where bf16 is not native); nothing on CPU."""
    if device.type != "cuda":
        return torch.autocast("cpu", enabled=False)
    return torch.autocast("cuda", dtype=cuda_autocast_dtype())
