"""Decoding on the GPU (NVDEC, `--decoder nvdec`) against PyAV on the CPU: prepared for a machine with an NVIDIA
GPU (none was lent while it was written: nothing it prints has been measured yet). JSON lines, then a summary.

    python benchmarks/bench_gpu_decode.py [--minutes 2] [--pairs 3] [--sizes 398x224,1280x720,1920x1080]

1. Frame-exactness on clock clips (the tests' pattern videos: plain, a hole of dropped frames, a start offset, a
   rotated phone clip, anamorphic, HEVC, 10-bit HEVC, MPEG-TS): whether NVDEC's samples have PyAV's times and
   show PyAV's frames, and their largest pixel difference to PyAV's (0 expected: the same swscale pass).
2. Speed by frame size: a ``--minutes`` H.264 clip per size sampled at 1 fps, as tagging samples (a whole sampler
   pass, decoder process included), NVDEC and PyAV alternating in pairs: decoded frames/s each and their ratio.
   ``auto`` takes NVDEC from ``highlighter.video.nvdec.NVDEC_MIN_PIXELS``: the summary says from which size it
   won here.
3. Two 720p videos decoded at once (a game's halves on a machine with 8+ cores), each decoder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from common import machine, make_video

from highlighter.video import FrameSampler
from highlighter.video.nvdec import NVDEC_MIN_PIXELS, nvdec_available
from highlighter.video.testpattern import read_pattern_number, write_pattern_video

CLOCK_CLIPS = {
    "plain.mp4": dict(seconds=8, width=320, height=240),
    "hole.mkv": dict(seconds=25, drop=(8.0, 18.0), width=320, height=240),
    "offset.mp4": dict(seconds=6, start_offset_s=3.5, width=320, height=240),
    "phone.mp4": dict(seconds=3, width=180, height=320, rotation=90),
    "anamorphic.mkv": dict(seconds=3, width=1024, height=576, stored_size=(720, 576)),
    "hevc.mp4": dict(seconds=12, gop=None, codec="libx265", width=320, height=180),
    "hevc-10bit.mkv": dict(seconds=12, gop=None, codec="libx265", pix_fmt="yuv420p10le", width=320, height=180),
    "h264.ts": dict(seconds=12, gop=None, width=320, height=180),
}


def emit(**row) -> dict:
    print(json.dumps(row), flush=True)
    return row


def sampled(path: Path, decoder: str, size: int = 64) -> tuple[np.ndarray, np.ndarray, str]:
    """All samples of ``path`` (times, images) and the backend that decoded them."""
    sampler = FrameSampler(path, size=size, decoder=decoder)
    batches = list(sampler)
    return (np.concatenate([b.times for b in batches]), np.concatenate([b.images for b in batches]),
            sampler.backend.name)


def exactness(folder: Path) -> list[dict]:
    rows = []
    for name, spec in CLOCK_CLIPS.items():
        path = write_pattern_video(folder / name, **spec)
        times, images, _ = sampled(path, "pyav")
        try:
            ours_times, ours, used = sampled(path, "nvdec")
        except Exception as exc:  # report it, go on
            rows.append(emit(check="exact", clip=name, error=f"{type(exc).__name__}: {exc}"[:300]))
            continue
        same = len(ours_times) == len(times) and bool(np.allclose(ours_times, times, atol=1e-6))
        difference = np.abs(ours.astype(int) - images.astype(int)) if same else None
        rows.append(emit(check="exact", clip=name, ran=used, same_times=same,
                         same_frames=same and [read_pattern_number(i) for i in ours] == [read_pattern_number(i)
                                                                                         for i in images],
                         pixel_max=None if difference is None else int(difference.max())))
    return rows


def one_pass(path: Path, decoder: str) -> tuple[float, str]:
    """Seconds of one sampler pass over ``path`` at the model size, and the backend that ran."""
    started = time.perf_counter()
    sampler = FrameSampler(path, size=224, decoder=decoder)
    for _ in sampler:
        pass
    return time.perf_counter() - started, sampler.backend.name


def speed(sizes: list[str], minutes: float, pairs: int) -> dict[str, float]:
    """Median NVDEC/PyAV time ratio per size."""
    frames = minutes * 60 * 25
    ratios = {}
    for size in sizes:
        path = make_video(minutes, size)
        measured = []
        for pair in range(pairs):
            ours, used = one_pass(path, "nvdec")
            cpu, _ = one_pass(path, "pyav")
            measured.append(ours / cpu)
            emit(check="speed", size=size, ran=used, pair=pair, nvdec_frames_per_s=frames / ours,
                 pyav_frames_per_s=frames / cpu, ratio_to_pyav=ours / cpu)
        ratios[size] = statistics.median(measured)
    path = make_video(minutes, "1280x720")
    for decoder in ("pyav", "nvdec"):
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: one_pass(path, decoder), range(2)))
        seconds = time.perf_counter() - started
        emit(check="two-at-once", size="1280x720", decoder=decoder, frames_per_s=2 * frames / seconds)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--sizes", default="398x224,1280x720,1920x1080")
    args = parser.parse_args()
    print(f"machine: {machine()}; NVDEC available: {nvdec_available()}", flush=True)
    if not nvdec_available():
        print("no NVIDIA driver: NVDEC runs fall back to PyAV (the figures below then compare PyAV with itself)")
    with tempfile.TemporaryDirectory() as folder:
        exact = exactness(Path(folder))
    ratios = speed(args.sizes.split(","), args.minutes, args.pairs)
    inexact = [row["clip"] for row in exact if not (row.get("same_frames") and row.get("pixel_max") == 0)]
    print(f"\nframe-exact with PyAV's pixels on {len(exact) - len(inexact)} of {len(exact)} clock clips"
          + (f" (not: {', '.join(inexact)})" if inexact else ""))
    for size, ratio in ratios.items():
        width, height = map(int, size.split("x"))
        print(f"{size}: NVDEC takes {ratio:.2f}x PyAV's time (median of {args.pairs} pairs); auto takes "
              f"{'NVDEC' if width * height >= NVDEC_MIN_PIXELS else 'PyAV'} there")


if __name__ == "__main__":
    main()
