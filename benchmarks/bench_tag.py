"""`highlight tag` end to end against the decode floor, per precision, in one run.

    python benchmarks/bench_tag.py [VIDEO] [--minutes 10] [--size 1280x720] [--precisions fp32,bf16]
                                   [--models highlighter-tiny,ViT-B-32] [--decoder auto] [--sum-bound] [--match]

Prints the floor (`ffmpeg -i VIDEO -f null -`: every frame decoded, nothing else; measured before and
after the runs, the ratios use the mean), then `highlight tag` on VIDEO with the tiny model and with
ViT-B-32 (random weights: speed does not depend on them) at each precision: the whole command's wall time
and, from the events file, its decoding + scoring time (`timing.wall_s`, without the Python and PyTorch
start-up), each as a ratio to the floor, with the command's peak RSS (the decoder's child process not
counted).

With a CUDA GPU it also prints ViT-B-32 scoring alone (images/s through FrameScorer, from uint8 frames in
host memory, per precision and batch size, and compiled), the floor of two copies of VIDEO decoded at once
(a game's halves decode together on such a machine), and the projected time for a 90-minute 720p match;
with --match also the measured one: VIDEO repeated into a game folder of two 45-minute halves, tagged with
ViT-B-32 at the default precision.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

from common import (CACHE, HIGHLIGHT, concatenate, concurrent_floor, decode_floor, machine, make_video,
                    random_checkpoint, run_measured)

MODELS = ("highlighter-tiny", "ViT-B-32")
#: images/s are measured at these batch sizes (the tag default among them)
BATCHES = (64, 128, 256, 512)
MATCH_FRAMES = 90 * 60  # a 90-minute match sampled at 1 frame/s


def throughput(model: str, precisions: list[str]) -> None:
    """Scoring alone on CUDA, one JSON line per measurement (child process): images/s of FrameScorer.score
    over batches of random uint8 frames, per precision and batch size, then compiled at the default batch."""
    import numpy as np
    import torch

    from highlighter.model.classifier import load_checkpoint
    from highlighter.model.inference import FrameScorer
    from highlighter.config.settings import shipped_settings

    def rate(scorer: FrameScorer, batch: int, images: int = 8192) -> float:
        size = scorer.classifier.spec.image_size
        pool = np.random.default_rng(0).integers(0, 256, (2, batch, size, size, 3), dtype=np.uint8)
        batches = [(None, pool[i % 2]) for i in range(max(8, images // batch))]
        for _ in scorer.score(batches[:3]):  # warm-up
            pass
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in scorer.score(batches):
            pass
        return batch * len(batches) / (time.perf_counter() - start)

    def emit(**row) -> None:
        print(json.dumps(row), flush=True)

    device = torch.device("cuda")
    for precision in precisions:
        scorer = FrameScorer(load_checkpoint(random_checkpoint(model)), device, precision)
        size = scorer.classifier.spec.image_size
        for batch in BATCHES:
            emit(precision=precision, batch=batch, compiled=False, images_per_s=rate(scorer, batch))
    batch = shipped_settings().tag.batch_size
    frames = np.random.default_rng(1).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    start = time.perf_counter()
    for _ in range(16):
        scorer(frames)  # one batch at a time: each waits for its results before the next is copied
    emit(precision=precision, batch=batch, compiled=False, one_at_a_time=True,
         images_per_s=16 * batch / (time.perf_counter() - start))
    started = time.perf_counter()
    try:
        scorer = FrameScorer(load_checkpoint(random_checkpoint(model)), device, "auto", compile=True)
        size = scorer.classifier.spec.image_size
        scorer(np.zeros((batch, size, size, 3), dtype=np.uint8))  # compiles
        compile_s = time.perf_counter() - started
        emit(precision="auto", batch=batch, compiled=True, compile_s=compile_s, images_per_s=rate(scorer, batch))
    except Exception as exc:  # a compiler toolchain that is missing or broken: report it, keep the rest
        emit(precision="auto", batch=batch, compiled=True, error=f"{type(exc).__name__}: {exc}"[:300])


def alone(part: str, video: Path, model: str, precision: str, decoder: str | None, count: int) -> None:
    """Child process: seconds of one half of tagging done alone, printed as JSON: ``decode`` iterates the
    sampler over ``video`` as tag does (no model), ``score`` runs the scorer of ``model`` in ``precision``
    over ``count`` random frames, in tag's batches, on this CPU."""
    import numpy as np

    from highlighter.config.settings import shipped_settings

    settings = shipped_settings()
    if part == "decode":
        from highlighter.video import FrameSampler

        video_settings = settings.video if decoder is None else dataclasses.replace(settings.video, decoder=decoder)
        sampler = FrameSampler.from_settings(video, video_settings, 224, settings.tag.batch_size)
        start = time.perf_counter()
        frames = sum(len(batch.times) for batch in sampler)
        print(json.dumps({"seconds": time.perf_counter() - start, "frames": frames}))
        return
    import torch

    from highlighter.model.classifier import load_checkpoint
    from highlighter.model.inference import FrameScorer
    from highlighter.tagging.tagger import model_dtype

    folder = random_checkpoint(model)
    tag_settings = dataclasses.replace(settings.tag, precision=precision, weights=str(folder))
    scorer = FrameScorer(load_checkpoint(folder, dtype=model_dtype(tag_settings)), torch.device("cpu"), precision)
    batch, size = settings.tag.batch_size, scorer.classifier.spec.image_size
    pool = np.random.default_rng(0).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)
    scorer(pool[:8])  # warm-up
    start = time.perf_counter()
    for first in range(0, count, batch):
        scorer(pool[:min(batch, count - first)])
    print(json.dumps({"seconds": time.perf_counter() - start, "frames": count}))


def tag(target: Path, weights: Path, precision: str, decoder: str | None, out: Path) -> tuple[float, float, float]:
    """One `highlight tag` process: (whole wall s, decode+score s from the events file, peak RSS MiB)."""
    command = [*HIGHLIGHT, "tag", str(target), "--weights", str(weights), "--precision", precision, "-o", str(out),
               "-q"]
    wall, peak, _ = run_measured(command + (["--decoder", decoder] if decoder else []))
    return wall, json.loads(out.read_text())["timing"]["wall_s"], peak


def sum_bound(video: Path, weights: dict[str, Path], precisions: list[str], decoder: str | None,
              rows: list[tuple]) -> None:
    """Decoding alone and each model's scoring alone (each in a child process), and each tag run's
    decode+score as a ratio to their sum."""
    def alone_run(*part: str) -> dict:
        command = [sys.executable, __file__, str(video), "--alone", *part] + (["--decoder", decoder] if decoder else [])
        _, _, output = run_measured(command)
        return json.loads(output.strip().splitlines()[-1])

    decoded = alone_run("decode", "-", "-", "0")
    decode, frames = decoded["seconds"], decoded["frames"]
    print(f"\ndecoding alone (the sampler, no model): {decode:.2f} s, {frames} frames")
    print(f"{'run':<32}{'scoring alone s':>16}{'sum s':>8}{'tag s':>8}{'x sum':>7}")
    for (name, _, tagging, _), (model, precision) in zip(rows, [(m, p) for m in weights for p in precisions]):
        score = alone_run("score", model, precision, str(frames))["seconds"]
        print(f"{name:<32}{score:>16.2f}{decode + score:>8.2f}{tagging:>8.2f}{tagging / (decode + score):>7.2f}")


def match_folder(video: Path, minutes: float) -> Path:
    """A game folder whose two halves are ``video`` repeated to 45 minutes each (packets copied)."""
    folder = CACHE / f"match-{video.stem}"
    copies = max(1, round(45 / minutes))
    folder.mkdir(parents=True, exist_ok=True)
    for half in (1, 2):
        path = folder / f"{half}_720p.mkv"
        if not path.exists():
            concatenate(video, copies, path)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the generated clip")
    parser.add_argument("--size", default="1280x720", help="frame size of the generated clip (SoccerNet's: 398x224)")
    parser.add_argument("--precisions", help="comma-separated (default: fp32,bf16 on CPU; fp32,fp16,bf16 on GPU)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--decoder", help="passed to `highlight tag --decoder` (default: the tag default)")
    parser.add_argument("--match", action="store_true", help="with a GPU: also tag a 90-minute game folder")
    parser.add_argument("--throughput", help=argparse.SUPPRESS)
    parser.add_argument("--alone", nargs=4, metavar=("PART", "MODEL", "PRECISION", "FRAMES"), help=argparse.SUPPRESS)
    parser.add_argument("--sum-bound", action="store_true",
                        help="also time decoding alone and each model's scoring alone (child processes) and print "
                             "decode+score as a ratio to their sum, the bound where both share the cores")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CACHE.parent.parent), os.environ.get("PYTHONPATH")]))
    gpu = bool(shutil.which("nvidia-smi"))  # not torch: importing it here would inflate the children's peak RSS
    precisions = (args.precisions or ("fp32,fp16,bf16" if gpu else "fp32,bf16")).split(",")
    if args.throughput:
        return throughput(args.throughput, precisions)
    if args.alone:
        return alone(*args.alone[:1], args.video, *args.alone[1:3], args.decoder, int(args.alone[3]))
    video = args.video or make_video(args.minutes, args.size)
    minutes = args.minutes if args.video is None else None
    weights = {model: random_checkpoint(model) for model in args.models.split(",")}
    print(f"machine: {machine()}\nvideo: {video}", flush=True)
    floors = [decode_floor(video)]
    print(f"{'run':<32}{'wall s':>9}{'x floor':>9}{'tag s':>8}{'x floor':>9}{'peak RSS MiB':>14}")
    rows, out = [], CACHE / "bench-events.json"
    for model, folder in weights.items():
        for precision in precisions:
            rows.append((f"tag {model} {precision}", *tag(video, folder, precision, args.decoder, out)))
    floors.append(decode_floor(video))
    floor = sum(floors) / len(floors)
    print(f"{'ffmpeg -f null (floor)':<32}{floor:>9.2f}{1.0:>9.2f}{'-':>8}{'-':>9}{'-':>14}   "
          f"(before {floors[0]:.2f}, after {floors[1]:.2f})")
    for name, wall, tagging, peak in rows:
        print(f"{name:<32}{wall:>9.2f}{wall / floor:>9.2f}{tagging:>8.2f}{tagging / floor:>9.2f}{peak:>14.0f}")
    if args.sum_bound:
        sum_bound(video, weights, precisions, args.decoder, rows)
    if not gpu:
        print("no CUDA GPU: GPU throughput and the 90-minute match skipped")
        return
    _, _, result = run_measured([sys.executable, __file__, "--throughput", "ViT-B-32", "--precisions",
                                 ",".join(precisions)])
    measured = [json.loads(line) for line in result.splitlines() if line.startswith("{")]
    print("\nCUDA ViT-B-32 scoring alone (images/s):")
    for row in measured:
        label = (f"  {row['precision']:<5} batch {row['batch']:<4}" + (" compiled" if row["compiled"] else "")
                 + (" one batch at a time (no overlap)" if row.get("one_at_a_time") else ""))
        print(label + (f" {row['images_per_s']:>9,.0f}" + (f" (compiling took {row['compile_s']:.0f} s)"
                                                            if row["compiled"] else "")
                       if "images_per_s" in row else f" failed: {row['error']}"))
    if minutes:
        best_eager = max((r for r in measured if not r["compiled"] and r["precision"] != "fp32"
                          and not r.get("one_at_a_time")),
                         key=lambda r: r["images_per_s"])
        scoring_s = MATCH_FRAMES / best_eager["images_per_s"]
        both = concurrent_floor([video, video])
        decoding_s = both * 45 / minutes
        startup_s = rows[-1][1] - rows[-1][2]
        bound = "decoding" if decoding_s >= scoring_s else "scoring"
        print(f"two copies decoded at once: {both:.2f} s ({2 * minutes * 60 * 25 / both:,.0f} frames/s); "
              f"a 90-minute 720p match projects to {max(decoding_s, scoring_s) + startup_s:.0f} s: decoding its "
              f"halves together {decoding_s:.0f} s, scoring {MATCH_FRAMES} frames {scoring_s:.1f} s "
              f"({best_eager['precision']}, batch {best_eager['batch']}), start-up {startup_s:.0f} s; bound by {bound}")
    if args.match and minutes:
        folder = match_folder(video, minutes)
        wall, tagging, peak = tag(folder, weights["ViT-B-32"], "auto", args.decoder, out)
        frames = json.loads(out.read_text())["timing"]["frames"]
        print(f"90-minute match ({folder.name}, {frames} frames): whole command {wall:.1f} s, decode+score "
              f"{tagging:.1f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
