"""Start-up: what importing each part of the scoring path costs, and how long `highlight` takes to answer before any
video is decoded, each in fresh interpreters (median of ``--runs``, the items interleaved so a neighbour's load
falls on all of them alike).

    python benchmarks/bench_startup.py [--runs 5]

The PyTorch scoring path (``highlighter.score``) imports torch and open_clip, whose ``open_clip.utils`` imports
``torchvision.ops``, which imports ``torch._dynamo`` at module level (torchvision's ``ops/roi_align.py``): a cost
no lazy import of ours avoids while PyTorch scores. The int8 path (``highlighter.model.int8.scorer`` and ONNX Runtime)
imports neither; ``highlight tag --precision int8`` with its model cached loads no PyTorch at all (a test checks).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from common import HIGHLIGHT, ROOT, machine

#: (label, command): modules imported in a fresh interpreter, or a whole `highlight` command.
ITEMS = [
    ("import highlighter", [sys.executable, "-c", "import highlighter"]),
    ("import highlighter.tagging", [sys.executable, "-c", "import highlighter.tagging"]),
    ("int8 scoring path (highlighter.model.int8.scorer, onnxruntime)",
     [sys.executable, "-c", "import highlighter.model.int8.scorer, onnxruntime"]),
    ("PyTorch scoring path (highlighter.score)", [sys.executable, "-c", "import highlighter.score"]),
    ("import torch", [sys.executable, "-c", "import torch"]),
    ("import torch._dynamo", [sys.executable, "-c", "import torch._dynamo"]),
    ("import torchvision", [sys.executable, "-c", "import torchvision"]),
    ("import open_clip", [sys.executable, "-c", "import open_clip"]),
    ("highlight --help", [*HIGHLIGHT, "--help"]),
    ("highlight tag MISSING (to its Error line)", [*HIGHLIGHT, "tag", "/nonexistent/match.mp4", "-q"]),
]


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    times: dict[str, list[float]] = {label: [] for label, _ in ITEMS}
    for _ in range(args.runs):
        for label, command in ITEMS:
            times[label].append(wall(command))
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, median in medians.items():
        print(f"{label:<60}{median:>8.2f} s  (range {min(times[label]):.2f}-{max(times[label]):.2f})")
    torch_path, int8_path = medians[ITEMS[3][0]], medians[ITEMS[2][0]]
    print(f"int8 scoring path / PyTorch scoring path: {int8_path / torch_path:.2f}x the import time")


if __name__ == "__main__":
    main()
