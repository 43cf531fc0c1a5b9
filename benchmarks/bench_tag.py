"""`highlight tag` end to end against the decode floor, in one run.

    python benchmarks/bench_tag.py [VIDEO] [--minutes 10]

Prints `ffmpeg -i VIDEO -f null -` (the floor), then `highlight tag` on VIDEO with the tiny model and
with ViT-B-32 (random weights: speed does not depend on them), exact and keyframes sampling: the whole
command's wall time and, from the events file, its decoding + scoring time without the Python and
PyTorch start-up, each as a ratio to the floor, with the command's peak RSS. With a CUDA GPU it also prints ViT-B-32 scoring throughput alone
(frames/s at batch 256) and the projected time for a 90-minute 720p match.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import CACHE, decode_floor, machine, make_video, run_measured

MODELS = ("highlighter-tiny", "ViT-B-32")


def checkpoint(model: str) -> Path:
    """A randomly initialised checkpoint of ``model`` (made once, in a child process)."""
    folder = CACHE / f"random-{model}"
    if not (folder / "model.safetensors").exists():
        run_measured([sys.executable, __file__, "--make-checkpoint", model])
    return folder


def make_checkpoint(model: str) -> None:
    from highlighter.model import create_classifier, save_checkpoint

    classifier, _, _ = create_classifier(model, ["background", "goal", "card", "substitution"], None)
    save_checkpoint(CACHE / f"random-{model}", classifier)


def throughput(model: str, batch: int = 256, rounds: int = 10) -> None:
    """Scoring alone: frames/s of FrameScorer on random frames (child process)."""
    import numpy as np
    import torch

    from highlighter.model import load_checkpoint
    from highlighter.score import FrameScorer

    scorer = FrameScorer(load_checkpoint(checkpoint(model)), torch.device("cuda"))
    size = scorer.classifier.spec.image_size
    frames = np.random.default_rng(0).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    scorer(frames)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(rounds):
        scorer(frames)
    torch.cuda.synchronize()
    print(json.dumps({"frames_per_s": batch * rounds / (time.perf_counter() - start)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--make-checkpoint", help=argparse.SUPPRESS)
    parser.add_argument("--throughput", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_checkpoint:
        return make_checkpoint(args.make_checkpoint)
    if args.throughput:
        return throughput(args.throughput)
    video = args.video or make_video(args.minutes)
    weights = {model: checkpoint(model) for model in MODELS}
    print(f"machine: {machine()}\nvideo: {video}")
    floor = decode_floor(video)
    print(f"{'run':<34}{'wall s':>9}{'x floor':>9}{'tag s':>8}{'x floor':>9}{'peak RSS MiB':>14}")
    print(f"{'ffmpeg -f null (floor)':<34}{floor:>9.2f}{1.0:>9.2f}{'-':>8}{'-':>9}{'-':>14}")
    out = CACHE / "bench-events.json"
    for model in MODELS:
        for sampling in ("exact", "keyframes"):
            wall, peak, _ = run_measured(["highlight", "tag", str(video), "--weights", str(weights[model]),
                                          "--sampling", sampling, "-o", str(out), "-q"])
            tagging = json.loads(out.read_text())["timing"]["wall_s"]  # decoding + scoring, start-up excluded
            print(f"{'tag ' + model + ' ' + sampling:<34}{wall:>9.2f}{wall / floor:>9.2f}{tagging:>8.2f}"
                  f"{tagging / floor:>9.2f}{peak:>14.0f}", flush=True)
    import shutil

    if shutil.which("nvidia-smi"):
        _, _, result = run_measured([sys.executable, __file__, "--throughput", "ViT-B-32"])
        rate = json.loads(result.strip().splitlines()[-1])["frames_per_s"]
        match_s = max(floor * 90 / args.minutes, 90 * 60 / rate)
        print(f"CUDA ViT-B-32 scoring alone: {rate:,.0f} frames/s at batch 256; a 90-minute 720p match "
              f"(5400 frames at 1 fps) projects to {match_s:.0f} s, bound by "
              f"{'decoding' if floor * 90 / args.minutes >= 90 * 60 / rate else 'scoring'}")
    else:
        print("no CUDA GPU: GPU throughput skipped")


if __name__ == "__main__":
    main()
