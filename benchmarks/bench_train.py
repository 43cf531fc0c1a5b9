"""Training throughput (images/s) of the tiny model and of ViT-B-32, on this CPU and on CUDA when present.

    python benchmarks/bench_train.py

Synthesises five short games once (benchmarks/.cache/), then runs one fine-tuning epoch of each model
through the real training loop (random weights: speed does not depend on them) and prints the images/s
of that epoch, from the run's own history. With a CUDA GPU it adds ViT-B-32 with AMP at batch 256.
"""

from __future__ import annotations

import json
import shutil
import sys

from common import CACHE, machine, run_measured

RUNS = [("highlighter-tiny", "cpu", 32), ("ViT-B-32", "cpu", 32)]


def child(model: str, device: str, batch: int) -> None:
    from highlighter.api import trainer
    from highlighter.config.settings import SynthSettings
    from highlighter.synth.game import synthesize

    games = CACHE / "train-games"
    if not games.exists():
        synthesize(games, SynthSettings(games=5, minutes=1.0, seed=7, size="398x224", density=30))
    out = CACHE / f"train-{model}-{device}"
    result = trainer([games], settings=dict(out=str(out), model=model, pretrained=None, mode="finetune", epochs=1,
                                            batch_size=batch, frame_fps=2.0, wise_alpha=1.0, device=device,
                                            split=(3, 1, 1), cache_dir=str(CACHE / "frames"))).run()
    print(json.dumps({"images_per_s": result.history[0]["train_images_per_s"]}))


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    runs = list(RUNS)
    if shutil.which("nvidia-smi"):
        runs.append(("ViT-B-32", "cuda", 256))
    print(f"machine: {machine()}")
    print(f"{'model':<20}{'device':<8}{'batch':>6}{'images/s':>10}")
    for model, device, batch in runs:
        _, _, out = run_measured([sys.executable, __file__, "--child", model, device, str(batch)])
        rate = json.loads(out.strip().splitlines()[-1])["images_per_s"]
        print(f"{model:<20}{device:<8}{batch:>6}{rate:>10.1f}", flush=True)
    if len(runs) == len(RUNS):
        print("no CUDA GPU: the AMP batch-256 run is skipped")


if __name__ == "__main__":
    main()
