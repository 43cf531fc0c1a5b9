"""Sampler speed and memory against the decode floor, in one run.

    python benchmarks/bench_sampler.py [VIDEO] [--minutes 10] [--repeat 3]

Without VIDEO it generates (once, cached in benchmarks/.cache/) a 1280x720 25 fps H.264 clip of the
given length. It prints the wall time of `ffmpeg -i VIDEO -f null -` (every frame decoded, nothing
else: the floor), then the sampler's wall time at 1 fps for each decoder (auto, and each one forced) in
exact and keyframes mode, each as a ratio to the floor, and each run's peak RSS (each run is its own
process; the decoding itself runs in a child of the sampler's fork server, whose memory is not counted).
With ``--repeat N`` every figure is the best of N rounds (each round runs every configuration once), for
machines that other work shares.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path

from common import decode_floor, machine, make_video, run_measured

def run_sampler(video: Path, decoder: str, sampling: str) -> dict:
    """Time one sampler pass in a fresh process; returns wall time, samples and peak RSS."""
    _, _, out = run_measured([sys.executable, __file__, str(video), "--child", decoder, sampling])
    return json.loads(out.strip().splitlines()[-1])


def child(video: Path, decoder: str, sampling: str) -> None:
    from highlighter.video import FrameSampler

    start = time.perf_counter()
    samples = sum(len(batch) for batch in FrameSampler(video, decoder=decoder, sampling=sampling))
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "samples": samples, "peak_rss_mib": peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many rounds")
    parser.add_argument("--child", nargs=2, metavar=("DECODER", "SAMPLING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.video, *args.child)
        return
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is needed for the decode floor")
    video = args.video or make_video(args.minutes)
    print(f"machine: {machine()}")
    print(f"video: {video}")
    runs = [(decoder, sampling) for decoder in ("auto", "decord", "pyav") for sampling in ("exact", "keyframes")]
    floor, best = float("inf"), {}
    for _ in range(max(args.repeat, 1)):
        floor = min(floor, decode_floor(video))
        for run in runs:
            result = run_sampler(video, *run)
            if run not in best or result["wall_s"] < best[run]["wall_s"]:
                best[run] = result
    print(f"{'run':<28}{'wall s':>9}{'x floor':>9}{'samples':>9}{'peak RSS MiB':>14}")
    print(f"{'ffmpeg -f null (floor)':<28}{floor:>9.2f}{1.0:>9.2f}{'-':>9}{'-':>14}")
    for (decoder, sampling), result in best.items():
        print(f"{decoder + ' ' + sampling:<28}{result['wall_s']:>9.2f}{result['wall_s'] / floor:>9.2f}"
              f"{result['samples']:>9}{result['peak_rss_mib']:>14.0f}")


if __name__ == "__main__":
    main()
