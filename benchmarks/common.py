"""Shared pieces of the benchmark scripts: the generated test video, the decode floor, child processes."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
#: The `highlight` command of this checkout (works whether or not the package is installed).
HIGHLIGHT = [sys.executable, str(ROOT / "cli.py")]


def make_video(minutes: float, size: str = "1280x720") -> Path:
    """A 25 fps H.264 test clip of ``size`` (720p by default; SoccerNet's own is 398x224) with x264 defaults
    (B-frames, key frame at most every 250 frames), made with the ffmpeg command or, where there is none,
    PyAV's own FFmpeg."""
    width, height = map(int, size.split("x"))
    path = CACHE / f"testsrc2-{height}p25-{minutes:g}min.mp4"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        print(f"generating {path.name} ...", flush=True)
        source = f"testsrc2=size={size}:rate=25:duration={minutes * 60:g}"
        if shutil.which("ffmpeg"):
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset",
                            "veryfast", "-pix_fmt", "yuv420p", str(path)], check=True)
        else:
            import av

            with av.open(source, format="lavfi") as pattern, av.open(str(path), "w") as out:
                stream = out.add_stream("libx264", rate=25, options={"preset": "veryfast"})
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                for frame in pattern.decode(video=0):
                    out.mux(stream.encode(frame.reformat(format="yuv420p")))
                out.mux(stream.encode())
    return path


def concatenate(video: Path, copies: int, out: Path) -> Path:
    """``copies`` times ``video`` end to end in ``out``, packets copied (no re-encoding)."""
    import av

    with av.open(str(video)) as source, av.open(str(out), "w") as sink:
        stream = sink.add_stream_from_template(source.streams.video[0])
        offset = 0
        for _ in range(copies):
            source.seek(0)
            last = 0
            for packet in source.demux(source.streams.video[0]):
                if packet.pts is None:
                    continue
                last = max(last, packet.pts + packet.duration)
                packet.pts, packet.dts = packet.pts + offset, packet.dts + offset
                packet.stream = stream
                sink.mux(packet)
            offset += last
    return out


def decode_floor(video: Path) -> float:
    """Wall time of `ffmpeg -i VIDEO -f null -`: every frame decoded, nothing else (where there is no
    ffmpeg command, the same decode through PyAV)."""
    start = time.perf_counter()
    if shutil.which("ffmpeg"):
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-f", "null", "-"], check=True)
    else:
        subprocess.run([sys.executable, "-c", "import av, sys\nwith av.open(sys.argv[1]) as c:\n"
                        "    c.streams.video[0].thread_type = 'AUTO'\n    for _ in c.decode(video=0): pass", str(video)],
                       check=True)
    return time.perf_counter() - start


def concurrent_floor(videos: list[Path]) -> float:
    """Wall time of decoding all ``videos`` at once, one floor process each."""
    start = time.perf_counter()
    with ThreadPoolExecutor(len(videos)) as pool:
        list(pool.map(decode_floor, videos))
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


def random_checkpoint(model: str) -> Path:
    """A randomly initialised checkpoint of ``model`` (made once, in a child process; speed does not depend
    on the weights)."""
    folder = CACHE / f"random-{model}"
    if not (folder / "model.safetensors").exists():
        subprocess.run([sys.executable, "-c", "import sys; from highlighter.model.classifier import create_classifier, "
                        "save_checkpoint; save_checkpoint(sys.argv[2], create_classifier(sys.argv[1], "
                        "['background', 'goal', 'card', 'substitution'], None)[0])", model, str(folder)],
                       check=True, cwd=ROOT)
    return folder
