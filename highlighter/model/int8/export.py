"""The scoring graph of a checkpoint as one self-contained fp32 ONNX file whose batch size is free (PyTorch's
exporter; needed at build time only)."""

from __future__ import annotations

from pathlib import Path

#: Names of the exported graph's input and outputs (see highlighter.model.int8.graph.ScoringGraph).
INPUT = "frames"
OUTPUTS = ("probabilities", "features")
#: Opset of the exported graph (ONNX Runtime's quantiser and CPU kernels cover it).
OPSET = 18


def export_checkpoint(folder: Path, path: Path) -> Path:
    """Write the fp32 scoring graph of checkpoint ``folder`` to ``path`` (an ONNX file)."""
    import torch

    from highlighter.model.int8.graph import ScoringGraph
    from highlighter.model.classifier import load_checkpoint

    classifier = load_checkpoint(folder)
    size = classifier.spec.image_size
    example = torch.zeros((2, size, size, 3), dtype=torch.uint8)
    with torch.no_grad():
        program = torch.onnx.export(ScoringGraph(classifier).eval(), (example,), dynamo=True, opset_version=OPSET,
                                    input_names=[INPUT], output_names=list(OUTPUTS),
                                    dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=4096)},),
                                    external_data=False, verbose=False)
    program.save(str(path), external_data=False)
    return path
