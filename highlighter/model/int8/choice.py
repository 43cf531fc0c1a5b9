"""Whether a tagging run scores in int8: ``--precision int8`` anywhere, and ``auto`` on CPUs without native bf16
where the image tower is large enough for int8 to pay. Decided without PyTorch wherever the machine can be read
without it (Linux), so an int8 run whose model is cached never loads PyTorch.

The size rule is about speed (even the tiny model keeps its events in int8: ``tests/test_int8.py``): int8 pays where
the matrix products dominate a batch's work. Measured with ``benchmarks/bench_tag.py`` (the image tower alone,
int8 against fp32, same run) on a 2-core AVX2 CPU: see README's "Tagging" benchmarks. ViT-B-32 has 85 M weights in
its blocks, the tiny test model 0.1 M; towers below ``INT8_MIN_TOWER_WEIGHTS`` stay fp32.
"""

from __future__ import annotations

import importlib.util

from highlighter.errors import HighlighterError
from highlighter.hardware import cpu_reports_bf16, gpu_driver_present
from highlighter.model.checkpoint import ClassifierSpec

#: ``auto`` takes int8 for ViT towers with at least this many weights in their transformer blocks.
INT8_MIN_TOWER_WEIGHTS = 10_000_000
#: How to install the runtime int8 needs.
INT8_EXTRA = "pip install 'highlighter[int8]'"


def tower_weights(spec: ClassifierSpec) -> int | None:
    """About how many weights the transformer blocks of a checkpoint's ViT image tower hold (12 x layers x
    width^2: attention 4 w^2, MLP 8 w^2); None for other towers (a ResNet's layers are a list, timm towers)."""
    vision = spec.model_config.get("vision_cfg") or {}
    layers, width = vision.get("layers"), vision.get("width")
    if not isinstance(layers, int) or not isinstance(width, int) or vision.get("timm_model_name"):
        return None
    return 12 * layers * width * width


def int8_pays(spec: ClassifierSpec) -> bool:
    """Whether the checkpoint's tower is large enough for ``auto`` to score it in int8 (on a CPU without bf16)."""
    weights = tower_weights(spec)
    return weights is not None and weights >= INT8_MIN_TOWER_WEIGHTS


def int8_installed() -> bool:
    """Whether ONNX Runtime (the ``int8`` extra) is installed."""
    return importlib.util.find_spec("onnxruntime") is not None


def scoring_precision(precision: str, device: str, spec: ClassifierSpec | None) -> str:
    """``int8`` where the run scores in int8, else ``precision`` unchanged (for PyTorch to resolve). ``spec``: the
    checkpoint's (None for a zero-shot model, which int8 cannot score)."""
    if precision == "int8":
        if spec is None:
            raise HighlighterError("--precision int8 scores a checkpoint (--weights), not a zero-shot model")
        if device not in ("auto", "cpu"):
            raise HighlighterError(f"--precision int8 runs on the CPU, not on --device {device}")
        if not int8_installed():
            raise HighlighterError(f"--precision int8 needs ONNX Runtime: {INT8_EXTRA}")
        return "int8"
    if precision == "auto" and spec is not None and int8_pays(spec) and int8_installed() and _on_cpu(device) \
            and not _native_bf16():
        return "int8"
    return precision


def _on_cpu(device: str) -> bool:
    """Whether ``device`` means this CPU; PyTorch is asked only where a GPU driver may be there."""
    if device == "cpu" or (device == "auto" and gpu_driver_present() is False):
        return True
    from highlighter.model.device import resolve_device

    return resolve_device(device).type == "cpu"


def _native_bf16() -> bool:
    """Whether the CPU computes bf16 natively (PyTorch asked only where its flags cannot be read)."""
    known = cpu_reports_bf16()
    if known is not None:
        return known
    from highlighter.model.device import cpu_has_native_bf16 as torch_says

    return torch_says()
