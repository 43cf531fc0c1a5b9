"""`highlight tag` end to end against the decode floor, per precision, in one run.

    python benchmarks/bench_tag.py [VIDEO] [--minutes 10] [--size 1280x720] [--precisions fp32,auto]
                                   [--models highlighter-tiny,ViT-B-32] [--decoder auto] [--sum-bound] [--match]
                                   [--tower-models ViT-B-32] [--rounds 5]

Prints the floor (`ffmpeg -i VIDEO -f null -`: every frame decoded, nothing else; measured before and
after the runs, the ratios use the mean), then `highlight tag` on VIDEO with the tiny model and with
ViT-B-32 (random weights: speed does not depend on them) at each precision: the whole command's wall time
and, from the events file, its decoding + scoring time (`timing.wall_s`, without the Python and PyTorch
start-up), each as a ratio to the floor, with the command's peak RSS (the decoder's child process not
counted). First it prints the CPU's capabilities and the precision ``auto`` takes for each model (int8 where the CPU
has no bf16 and the tower is large: see highlighter.model.int8.choice), building each int8 model once beforehand (its
build time printed; the runs then use the cache under benchmarks/.cache). It then prints each model's ``auto``
decode+score time as a ratio to fp32's, from the same run.

On a CPU it also prints the image tower alone (``--tower-models``): images/s of fp32 (PyTorch) and int8 (ONNX
Runtime) on the same random frames, rounds alternating, with the median per-round ratio of wall time and of the
process's CPU time (which a busy neighbour distorts less).

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
#: CPU flags that decide the precision (see highlighter.model.int8.choice and highlighter.device)
CAPABILITY_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
#: batches of each precision per round of the tower measurement
TOWER_BATCHES = 3


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


def tower(model: str, rounds: int) -> None:
    """Child process: the image tower of ``model`` alone on this CPU, fp32 (PyTorch) against int8 (ONNX Runtime),
    tag's batch of random frames, ``rounds`` rounds alternating which goes first; one JSON line."""
    import statistics

    import numpy as np
    import torch

    from highlighter.model.int8.cache import int8_model
    from highlighter.model.int8.scorer import OnnxFrameScorer
    from highlighter.model.classifier import load_checkpoint
    from highlighter.model.inference import FrameScorer
    from highlighter.config.settings import shipped_settings
    from highlighter.model.checkpoint import checkpoint_info, read_spec

    folder = random_checkpoint(model)
    spec = read_spec(folder)
    scorers = {"fp32": FrameScorer(load_checkpoint(folder), torch.device("cpu"), "fp32"),
               "int8": OnnxFrameScorer(int8_model(folder, checkpoint_info(folder, folder)["sha256"]), spec.classes,
                                       spec.image_size)}
    batch = shipped_settings().tag.batch_size
    frames = np.random.default_rng(0).integers(0, 256, (batch, spec.image_size, spec.image_size, 3), dtype=np.uint8)
    for scorer in scorers.values():
        scorer(frames[:8])  # warm-up
    wall: dict[str, list[float]] = {name: [] for name in scorers}
    cpu: dict[str, list[float]] = {name: [] for name in scorers}
    for round_ in range(rounds):
        for name in (list(scorers) if round_ % 2 == 0 else list(scorers)[::-1]):
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(TOWER_BATCHES):
                scorers[name](frames)
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    images = TOWER_BATCHES * batch
    print(json.dumps({"model": model, "batch": batch, "rounds": rounds,
                      **{f"{name}_images_per_s": images / statistics.median(wall[name]) for name in scorers},
                      "wall_ratio": statistics.median(f / i for f, i in zip(wall["fp32"], wall["int8"])),
                      "cpu_ratio": statistics.median(f / i for f, i in zip(cpu["fp32"], cpu["int8"]))}))


def chosen_precision(folder: Path, gpu: bool) -> str:
    """The precision ``auto`` takes for checkpoint ``folder`` here (without importing PyTorch)."""
    from highlighter.hardware import cpu_reports_bf16
    from highlighter.model.int8.choice import scoring_precision
    from highlighter.model.checkpoint import read_spec

    if scoring_precision("auto", "auto", read_spec(folder)) == "int8":
        return "int8"
    return "bf16 or fp16 (GPU)" if gpu else "bf16" if cpu_reports_bf16() else "fp32"


def capabilities() -> str:
    """The CPU's flags that decide the precision, PyTorch's kernel override and ONNX Runtime's version."""
    from importlib.metadata import PackageNotFoundError, version

    from highlighter.hardware import cpu_flags

    flags = cpu_flags()
    shown = "unknown" if flags is None else " ".join(f for f in CAPABILITY_FLAGS if f in flags) or "none of them"
    try:
        runtime = f"onnxruntime {version('onnxruntime')}"
    except PackageNotFoundError:
        runtime = "no onnxruntime (no int8)"
    return (f"CPU flags: {shown}; ATEN_CPU_CAPABILITY={os.environ.get('ATEN_CPU_CAPABILITY', '(unset)')}; "
            f"{runtime}")


def build_int8(folder: Path) -> float:
    """Build (or find cached) the int8 model of ``folder`` in a child process; its seconds."""
    started = time.perf_counter()
    run_measured([sys.executable, "-c", "import sys; from pathlib import Path; from highlighter.model.int8.cache import "
                  "int8_model; from highlighter.model.checkpoint import checkpoint_info; f = Path(sys.argv[1]); "
                  "int8_model(f, checkpoint_info(f, f)['sha256'])", str(folder)])
    return time.perf_counter() - started


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
    from highlighter.tagging.tagger import load_scorer

    folder = random_checkpoint(model)
    scorer, _ = load_scorer(dataclasses.replace(settings.tag, precision=precision, weights=str(folder), device="cpu"))
    batch, size = settings.tag.batch_size, scorer.image_size
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
    parser.add_argument("--precisions", help="comma-separated (default: fp32,auto on CPU; fp32,fp16,bf16 on GPU)")
    parser.add_argument("--tower-models", default="ViT-B-32",
                        help="CPU: models whose image tower is measured alone, fp32 against int8 ('' for none)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the tower measurement")
    parser.add_argument("--tower", help=argparse.SUPPRESS)
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
    os.environ.setdefault("HIGHLIGHTER_CACHE", str(CACHE))  # the int8 models, built once for every run
    gpu = bool(shutil.which("nvidia-smi"))  # not torch: importing it here would inflate the children's peak RSS
    precisions = (args.precisions or ("fp32,fp16,bf16" if gpu else "fp32,auto")).split(",")
    if args.throughput:
        return throughput(args.throughput, precisions)
    if args.tower:
        return tower(args.tower, args.rounds)
    if args.alone:
        return alone(*args.alone[:1], args.video, *args.alone[1:3], args.decoder, int(args.alone[3]))
    video = args.video or make_video(args.minutes, args.size)
    minutes = args.minutes if args.video is None else None
    weights = {model: random_checkpoint(model) for model in args.models.split(",")}
    print(f"machine: {machine()}\n{capabilities()}\nvideo: {video}", flush=True)
    for model, folder in weights.items():
        chosen = chosen_precision(folder, gpu)
        built = f"; its int8 model built or found in {build_int8(folder):.0f} s" if chosen == "int8" or (
            "int8" in precisions) else ""
        print(f"{model}: auto takes {chosen}{built}", flush=True)
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
    by_name = {name: tagging for name, _, tagging, _ in rows}
    for model in weights:
        if {"fp32", "auto"} <= set(precisions):
            ratio = by_name[f"tag {model} auto"] / by_name[f"tag {model} fp32"]
            print(f"{model}: auto's decode+score = {ratio:.2f}x fp32's (same clip, same run)")
    if not gpu:
        for model in filter(None, args.tower_models.split(",")):
            _, _, output = run_measured([sys.executable, __file__, "--tower", model, "--rounds", str(args.rounds)])
            row = json.loads(output.strip().splitlines()[-1])
            print(f"{model} image tower alone, batch {row['batch']}: fp32 {row['fp32_images_per_s']:.1f} images/s, "
                  f"int8 {row['int8_images_per_s']:.1f} images/s; int8 = {row['wall_ratio']:.2f}x fp32's speed "
                  f"(wall), {row['cpu_ratio']:.2f}x (CPU time), median of {row['rounds']} rounds")
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
