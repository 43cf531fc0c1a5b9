"""Sampler speed and memory against the decode floor, in one run.

    python benchmarks/bench_sampler.py [VIDEO] [--minutes 10]

Without VIDEO it generates (once, cached in benchmarks/.cache/) a 1280x720 25 fps H.264 clip of the
given length. It prints the wall time of `ffmpeg -i VIDEO -f null -` (every frame decoded, nothing
else: the floor), then the sampler's wall time at 1 fps for each decoder (auto, and each one forced) in
exact and keyframes mode, each as a ratio to the floor, and each run's peak RSS (each run is its own
process; the decoding itself runs in a child of the sampler's fork server, whose memory is not counted).
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
    floor = decode_floor(video)
    print(f"{'run':<28}{'wall s':>9}{'x floor':>9}{'samples':>9}{'peak RSS MiB':>14}")
    print(f"{'ffmpeg -f null (floor)':<28}{floor:>9.2f}{1.0:>9.2f}{'-':>9}{'-':>14}")
    for decoder in ("auto", "decord", "pyav"):
        for sampling in ("exact", "keyframes"):
            result = run_sampler(video, decoder, sampling)
            print(f"{decoder + ' ' + sampling:<28}{result['wall_s']:>9.2f}{result['wall_s'] / floor:>9.2f}"
                  f"{result['samples']:>9}{result['peak_rss_mib']:>14.0f}", flush=True)


if __name__ == "__main__":
    main()
