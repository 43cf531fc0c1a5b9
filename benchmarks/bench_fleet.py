"""Fleet tagging: the local engine against the Ray engine with 1 and 2 scoring workers, in one run.

    python benchmarks/bench_fleet.py [--clips 8] [--minutes 2] [--model highlighter-tiny] [--rounds 3]

Makes CLIPS test clips of MINUTES minutes each (SoccerNet's 224p: 398x224, 25 fps, H.264) and a randomly
initialised checkpoint of MODEL, then tags all clips into a fresh folder per engine with `highlight tag`, each
command in its own child process (so each pays its own start-up: Python, PyTorch, and for Ray, connecting
to Ray). The Ray engine runs two ways: starting a Ray instance of its own (no `ray start` before: the
command starts Ray and stops it at exit), and joining one already running (`ray start --head`, as on a
cluster; this benchmark starts it and ends it with `ray stop`, which stops every Ray instance of this
machine). Each round runs every command once, in turn; the figures are each command's median wall time and
the median of its ratios to the local engine of the same round. The Ray engine's events must equal the local
engine's (checked). The Ray runs: the defaults (one actor of one CPU, decoding tasks of one CPU); one actor of
half a CPU with decoding tasks of 0.75 CPU (two videos decode at once beside it on 2 cores); 2 actors of half a
CPU each, so that one CPU is left for decoding.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CACHE, HIGHLIGHT, ROOT, make_video, random_checkpoint

#: (label, extra `highlight tag` options) of the Ray engine's runs
WORKERS = [("1 worker", ["--engine", "ray", "--workers", "1", "--worker-cpus", "1"]),
           ("1 worker, 0.5 CPU, decoding 0.75", ["--engine", "ray", "--workers", "1", "--worker-cpus", "0.5",
                                                "--decode-cpus", "0.75"]),
           ("2 workers", ["--engine", "ray", "--workers", "2", "--worker-cpus", "0.5"])]
LOCAL = ("local", ["--engine", "local"])


def make_clips(count: int, minutes: float) -> list[Path]:
    """``count`` copies of a 224p test clip of ``minutes`` minutes (made once with ffmpeg)."""
    source = make_video(minutes, "398x224")
    clips = []
    for number in range(count):
        clip = CACHE / "fleet" / f"clip{number}.mp4"
        if not clip.exists():
            clip.parent.mkdir(exist_ok=True)
            shutil.copy(source, clip)
        clips.append(clip)
    return clips


def events(folder: Path) -> dict[str, list]:
    """Each events file's events (the timing fields differ between runs)."""
    return {path.name: json.loads(path.read_text())["events"] for path in sorted(folder.glob("*.events.json"))}


def tag_once(clips: list[Path], weights: Path, out: Path, options: list[str], env: dict | None = None) -> float:
    """Wall seconds of one `highlight tag` of ``clips`` into ``out`` (a fresh folder)."""
    start = time.perf_counter()
    subprocess.run([*HIGHLIGHT, "tag", *map(str, clips), "-o", str(out), "--weights", str(weights), "-q", *options],
                   check=True, cwd=ROOT, env=env)
    return time.perf_counter() - start


def rounds(clips: list[Path], weights: Path, scratch: Path, runs: list[tuple[str, list[str]]], count: int,
           env: dict | None = None) -> dict[str, dict]:
    """Each of ``runs`` (the first is the yardstick) once per round, ``count`` rounds: per run the median
    wall seconds, the median ratio to the yardstick of its round, and its events."""
    walls: dict[str, list[float]] = {label: [] for label, _ in runs}
    found = {}
    for number in range(count):
        for label, options in runs:
            out = scratch / f"{label}-{number}".replace(" ", "").replace(",", "")
            walls[label].append(tag_once(clips, weights, out, options, env))
            found[label] = events(out)
    yardstick = walls[runs[0][0]]
    return {label: {"wall_s": statistics.median(w), "ratio": statistics.median(a / b for a, b in zip(w, yardstick)),
                    "events": found[label]} for label, w in walls.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--model", default="highlighter-tiny")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    clips, weights = make_clips(args.clips, args.minutes), random_checkpoint(args.model)
    print(f"{args.clips} clips of {args.minutes:g} min (398x224, 25 fps), model {args.model}, "
          f"{os.cpu_count()} CPUs, median of {args.rounds} rounds")
    ray = [str(Path(sys.executable).with_name("ray"))]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        own = {**os.environ, "RAY_ADDRESS": "local"}  # a Ray instance of the command's own, even if one runs
        for label, result in rounds(clips, weights, Path(scratch) / "own", [LOCAL] + [
                (f"ray, own instance, {name}", options) for name, options in WORKERS], args.rounds, own).items():
            results.setdefault(label, result)
        subprocess.run([*ray, "start", "--head", f"--num-cpus={os.cpu_count()}", "--include-dashboard=false",
                        "--disable-usage-stats"], check=True, capture_output=True)
        try:
            joined = rounds(clips, weights, Path(scratch) / "running", [LOCAL] + [
                (f"ray, running instance, {name}", [*options, "--address", "auto"]) for name, options in WORKERS],
                args.rounds)
        finally:
            subprocess.run([*ray, "stop"], check=True, capture_output=True)
        results.update({k: v for k, v in joined.items() if k != "local"})
    for label, result in results.items():
        print(f"{label:>32}: {result['wall_s']:6.1f} s  ({result['ratio']:.2f}x local)", flush=True)
    assert all(r["events"] == results["local"]["events"] for r in results.values()), "the engines' events differ"
    print("events: the same from every engine")


if __name__ == "__main__":
    main()
