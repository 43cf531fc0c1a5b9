"""Where the model runs: device choice, mixed precision for training, and the inference precision."""

from __future__ import annotations

import torch

from highlighter.errors import HighlighterError
from highlighter.hardware import BF16_FLAGS, CPU_BF16_VARIABLE, cpu_bf16_override  # noqa: F401 (the variable: for callers)

#: ``--precision`` choices live in highlighter.settings (importable without torch); these are their dtypes.
INFERENCE_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


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


def cpu_has_native_bf16() -> bool:
    """True when the CPU has bf16 matrix instructions (AMX-BF16 or AVX512-BF16), detected at run time, unless
    ``HIGHLIGHTER_CPU_BF16`` says (``1``: it has, ``0``: it has not). Without them torch emulates bf16, which is
    slower than fp32."""
    override = cpu_bf16_override()
    if override is not None:
        return override
    if hasattr(torch.cpu, "get_capabilities"):  # the public API, in recent torch
        capabilities = torch.cpu.get_capabilities()
        return any(capabilities.get(flag) for flag in BF16_FLAGS)
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


def cuda_autocast_dtype() -> torch.dtype:
    """bf16 where the GPU has it natively, else fp16 (which needs loss scaling in training)."""
    return torch.bfloat16 if cuda_has_native_bf16() else torch.float16


def autocast(device: torch.device):
    """bf16 autocast on CUDA (fp16 where bf16 is not native); nothing on CPU. For training, where the
    weights stay fp32; inference casts the model instead (``inference_dtype``)."""
    if device.type != "cuda":
        return torch.autocast("cpu", enabled=False)
    return torch.autocast("cuda", dtype=cuda_autocast_dtype())


def inference_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype of the model's weights and inputs for ``precision`` (auto | fp32 | bf16 | fp16).

    ``auto``: bf16 on CPUs and GPUs that compute it natively; fp32 on other CPUs (emulated bf16 and
    fp16 are slower than fp32 there); fp16 on other GPUs.
    """
    if precision == "auto":
        if device.type == "cuda":
            return cuda_autocast_dtype()
        return torch.bfloat16 if device.type == "cpu" and cpu_has_native_bf16() else torch.float32
    if precision not in INFERENCE_DTYPES:
        raise HighlighterError(f"unknown precision {precision!r}: choose auto, {', '.join(INFERENCE_DTYPES)}")
    return INFERENCE_DTYPES[precision]
