"""Encode RGB frames into a video file by piping them to the ffmpeg command-line tool."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import numpy as np

from highlighter.errors import HighlighterError


def ffmpeg_binary() -> str:
    """Path of the ffmpeg executable, or a one-line error saying how to install it."""
    found = shutil.which("ffmpeg")
    if found is None:
        raise HighlighterError("ffmpeg not found on PATH: install it (Debian/Ubuntu: apt-get install ffmpeg)")
    return found


def encode_frames(
    path: str | Path,
    frames: Iterable[np.ndarray],
    width: int,
    height: int,
    fps: float,
    input_args: list[str] = (),
    output_args: list[str] = (),
) -> Path:
    """Write ``frames`` (RGB uint8, ``height`` x ``width``) at ``fps`` to ``path`` with ffmpeg.

    ``input_args`` add inputs (e.g. an audio source); ``output_args`` go before the output name (codec,
    filters). The file is written beside ``path`` and renamed into place only when ffmpeg succeeds.
    """
    path = Path(path)
    rate = Fraction(fps).limit_denominator(1001)
    partial = path.with_name(f".{path.stem}.part{path.suffix}")
    command = [ffmpeg_binary(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
               "-s", f"{width}x{height}", "-r", str(rate), "-i", "-", *input_args, *output_args, str(partial)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for frame in frames:
            process.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        process.stdin.close()
    except BrokenPipeError:
        pass
    except BaseException:
        process.kill()
        process.wait()
        partial.unlink(missing_ok=True)
        raise
    if process.wait() != 0:
        partial.unlink(missing_ok=True)
        raise HighlighterError(f"ffmpeg failed writing {path}: {process.stderr.read().decode().strip()[-300:]}")
    partial.replace(path)
    return path
