"""What this machine offers the model, read without PyTorch (so a run that needs no PyTorch never loads it):
the CPU's bf16 instructions and whether a GPU driver is there at all. Where this cannot tell (another OS), the
answer is None and :mod:`highlighter.device` asks PyTorch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from highlighter.errors import HighlighterError

#: ``0`` or ``1`` here overrides the run-time check of the CPU's bf16 instructions: ``auto`` precision then takes
#: the other path on any CPU (how the tests take either branch on any machine, and a user overrides the check).
CPU_BF16_VARIABLE = "HIGHLIGHTER_CPU_BF16"
#: CPU flags (Linux's names) of native bf16 matrix arithmetic: AMX tiles, AVX-512 BF16.
BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
#: Device nodes of a loaded NVIDIA driver, and of other GPUs PyTorch's CUDA (or ROCm) support could use: AMD's,
#: WSL's.
NVIDIA_NODES = ("/proc/driver/nvidia", "/dev/nvidiactl")
GPU_NODES = (*NVIDIA_NODES, "/dev/kfd", "/dev/dxg")


def cpu_bf16_override() -> bool | None:
    """``$HIGHLIGHTER_CPU_BF16`` as a bool, or None when unset; any other value than 0 or 1 is an error."""
    override = os.environ.get(CPU_BF16_VARIABLE, "").strip()
    if not override:
        return None
    if override not in ("0", "1"):
        raise HighlighterError(f"{CPU_BF16_VARIABLE} must be 0 or 1, not {override!r}")
    return override == "1"


def cpu_flags() -> frozenset[str] | None:
    """The CPU's feature flags from ``/proc/cpuinfo`` (Linux), or None where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        return None
    return None


def cpu_reports_bf16() -> bool | None:
    """Whether the CPU computes bf16 natively (the override first, then its flags); None where unknown."""
    override = cpu_bf16_override()
    if override is not None:
        return override
    flags = cpu_flags()
    return None if flags is None else bool(flags & BF16_FLAGS)


def gpu_driver_present(nodes: tuple[str, ...] = GPU_NODES) -> bool | None:
    """False where no GPU driver is loaded at all (of those whose ``nodes`` are given), so PyTorch cannot see a
    GPU either (Linux); True where one is; None where this cannot tell."""
    if not sys.platform.startswith("linux"):
        return None
    return any(Path(node).exists() for node in nodes)


def nvidia_driver_present() -> bool | None:
    """Whether an NVIDIA driver is loaded (Linux; None where this cannot tell)."""
    return gpu_driver_present(NVIDIA_NODES)
