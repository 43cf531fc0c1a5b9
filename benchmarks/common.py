"""Shared pieces of the benchmark scripts: the generated test video, the decode floor, child processes."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def make_video(minutes: float) -> Path:
    """A 720p 25 fps H.264 test clip (x264 defaults: B-frames, key frame at most every 250 frames)."""
    path = CACHE / f"testsrc2-720p25-{minutes:g}min.mp4"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        print(f"generating {path.name} ...", flush=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25",
                        "-t", str(minutes * 60), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
                        str(path)], check=True)
    return path


def decode_floor(video: Path) -> float:
    """Wall time of `ffmpeg -i VIDEO -f null -`: every frame decoded, nothing else."""
    start = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "null", "-"], check=True)
    return time.perf_counter() - start


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """Run ``command``; returns its wall time (s), its peak RSS (MiB) and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            sys.exit(f"{' '.join(command)} failed:\n{err.read()[-2000:]}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read()


def machine() -> str:
    """One line describing this machine (the GPU through nvidia-smi: importing torch here would inflate the
    peak RSS that child processes report, since a child starts from its parent's resident size)."""
    gpu = ""
    if shutil.which("nvidia-smi"):
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                               text=True).stdout.strip()
        gpu = f", GPU {names}" if names else ""
    return f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores{gpu}, python {platform.python_version()}"
