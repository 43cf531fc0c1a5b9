"""Fleet tagging: the local engine against the Ray engine with 1 and 2 scoring workers, in one run.

    python benchmarks/bench_fleet.py [--clips 8] [--minutes 2] [--model highlighter-tiny]

Makes CLIPS test clips of MINUTES minutes each (SoccerNet's 224p: 398x224, 25 fps, H.264) and a randomly
initialised checkpoint of MODEL, then tags all clips into a fresh folder per engine with `highlight tag`, each
command in its own child process (so each pays its own start-up: Python, PyTorch, and for Ray, starting Ray
on this machine), and prints each command's wall time and its ratio to the local engine's. The Ray engine's
events must equal the local engine's (checked). With 2 workers on a CPU-only machine each actor reserves
half a CPU, so that one is left for decoding.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
HIGHLIGHT = [sys.executable, str(ROOT / "cli.py")]
#: (label, extra `highlight tag` options) of each engine measured
ENGINES = [("local", ["--engine", "local"]),
           ("ray, 1 worker", ["--engine", "ray", "--workers", "1", "--worker-cpus", "1"]),
           ("ray, 2 workers", ["--engine", "ray", "--workers", "2", "--worker-cpus", "0.5"])]


def make_clips(count: int, minutes: float) -> list[Path]:
    """``count`` copies of a 224p test clip of ``minutes`` minutes (made once with ffmpeg)."""
    source = CACHE / f"testsrc2-224p25-{minutes:g}min.mp4"
    if not source.exists():
        CACHE.mkdir(exist_ok=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size=398x224:rate=25:duration={minutes * 60:g}", "-c:v", "libx264", "-preset",
                        "veryfast", "-pix_fmt", "yuv420p", str(source)], check=True)
    clips = []
    for number in range(count):
        clip = CACHE / "fleet" / f"clip{number}.mp4"
        if not clip.exists():
            clip.parent.mkdir(exist_ok=True)
            shutil.copy(source, clip)
        clips.append(clip)
    return clips


def make_checkpoint(model: str) -> Path:
    """A randomly initialised checkpoint of ``model`` (speed does not depend on the weights)."""
    folder = CACHE / f"random-{model}"
    if not (folder / "model.safetensors").exists():
        subprocess.run([sys.executable, "-c", "import sys; from highlighter.model import create_classifier, "
                        "save_checkpoint; save_checkpoint(sys.argv[2], create_classifier(sys.argv[1], "
                        "['background', 'goal', 'card', 'substitution'], None)[0])", model, str(folder)],
                       check=True, cwd=ROOT)
    return folder


def events(folder: Path) -> dict[str, list]:
    """Each events file's events (the timing fields differ between runs)."""
    return {path.name: json.loads(path.read_text())["events"] for path in sorted(folder.glob("*.events.json"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--model", default="highlighter-tiny")
    args = parser.parse_args()
    clips, weights = make_clips(args.clips, args.minutes), make_checkpoint(args.model)
    print(f"{args.clips} clips of {args.minutes:g} min (398x224, 25 fps), model {args.model}")
    times, found = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, options in ENGINES:
            out = Path(scratch) / label.replace(" ", "").replace(",", "-")
            start = time.perf_counter()
            subprocess.run([*HIGHLIGHT, "tag", *map(str, clips), "-o", str(out), "--weights", str(weights), "-q",
                            *options], check=True, cwd=ROOT)
            times[label] = time.perf_counter() - start
            found[label] = events(out)
            print(f"{label:>16}: {times[label]:6.1f} s  ({times[label] / times['local']:.2f}x local)", flush=True)
    assert all(found[label] == found["local"] for label in found), "the engines' events differ"
    print("events: the same from every engine")


if __name__ == "__main__":
    main()
