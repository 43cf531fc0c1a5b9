"""Test clips whose every frame shows its own frame number, encoded with ffmpeg.

The number is drawn as a 4x4 grid of black/white blocks (16 bits) filling the frame's central square,
so it survives compression, scaling and the sampler's centre crop. Reading the grid back tells exactly
which source frame a decoder returned: the ground truth for timestamp tests, and a quick way for a
user to check a decoding set-up (``highlight testclip``).
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np

from highlighter.errors import HighlighterError
from highlighter.video.encode import encode_frames, ffmpeg_binary

GRID = 4
MAX_FRAMES = 2 ** (GRID * GRID)


def pattern_frame(number: int, width: int, height: int) -> np.ndarray:
    """An RGB frame showing ``number`` as a block grid in its central square, on a grey background."""
    if not 0 <= number < MAX_FRAMES:
        raise ValueError(f"frame number {number} does not fit in {GRID * GRID} bits")
    frame = np.full((height, width, 3), 96, dtype=np.uint8)
    side = min(width, height)
    top, left = (height - side) // 2, (width - side) // 2
    cell = side / GRID
    for bit in range(GRID * GRID):
        row, col = divmod(bit, GRID)
        y0, y1 = top + round(row * cell), top + round((row + 1) * cell)
        x0, x1 = left + round(col * cell), left + round((col + 1) * cell)
        frame[y0:y1, x0:x1] = 255 if number >> bit & 1 else 0
    return frame


def read_pattern_number(square: np.ndarray) -> int:
    """The frame number shown by a (cropped, scaled) square RGB image of a pattern frame."""
    side = square.shape[0]
    cell = side / GRID
    number = 0
    for bit in range(GRID * GRID):
        row, col = divmod(bit, GRID)
        y, x = int((row + 0.5) * cell), int((col + 0.5) * cell)
        half = max(int(cell / 4), 1)
        if square[y - half : y + half, x - half : x + half].mean() > 127:
            number |= 1 << bit
    return number


def write_pattern_video(
    path: str | Path,
    seconds: float = 30.0,
    fps: float = 25.0,
    width: int = 320,
    height: int = 240,
    gop: int | None = 50,
    start_offset_s: float = 0.0,
    drop: tuple[float, float] | None = None,
    audio: bool = False,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    stored_size: tuple[int, int] | None = None,
    rotation: int = 0,
    codec_args: Sequence[str] = (),
) -> Path:
    """Encode a pattern clip with ffmpeg; ``drop=(a, b)`` removes the frames shown in [a, b) seconds
    and keeps every other frame's timestamp (a variable-frame-rate hole).

    ``width`` x ``height`` is the picture a player shows. ``stored_size`` stores it at another size with
    non-square pixels (720x576 for a 1024x576 display: anamorphic 16:9 PAL); ``rotation`` (degrees,
    counter-clockwise, MP4/MOV only) stores it turned back, with a display matrix that turns it upright
    (a phone clip). ``gop=None`` keeps the encoder's own key-frame placement; ``codec_args`` go to the
    encoder as they are."""
    frame_count = int(round(seconds * fps))
    if frame_count > MAX_FRAMES:
        raise HighlighterError(f"a pattern clip holds at most {MAX_FRAMES} frames, asked for {frame_count}")
    inputs = ["-f", "lavfi", "-t", str(seconds), "-i", "sine=frequency=440"] if audio else []
    outputs = ["-c:a", "aac", "-shortest"] if audio else []
    filters = []
    if drop is not None:
        first, last = int(round(drop[0] * fps)), int(round(drop[1] * fps)) - 1
        filters.append(f"select='not(between(n\\,{first}\\,{last}))'")
        outputs += ["-fps_mode", "passthrough"]
    turns = round(rotation / 90) % 4
    shown = (height, width) if turns % 2 else (width, height)  # the stored picture, before its turn
    if stored_size is not None:
        stored_width, stored_height = stored_size[::-1] if turns % 2 else stored_size
        aspect = Fraction(shown[0] * stored_height, shown[1] * stored_width)
        filters.append(f"scale={stored_width}:{stored_height},setsar={aspect.numerator}/{aspect.denominator}")
    if filters:
        outputs += ["-vf", ",".join(filters)]
    outputs += ["-c:v", codec, "-pix_fmt", pix_fmt, *codec_args]
    if gop is not None:
        outputs += ["-g", str(gop), "-sc_threshold", "0"]
    if start_offset_s:
        outputs += ["-output_ts_offset", str(start_offset_s)]
    frames = (np.rot90(pattern_frame(number, width, height), -turns) for number in range(frame_count))
    if not turns:
        return encode_frames(path, frames, *shown, fps, inputs, outputs)
    path = Path(path)
    stored = encode_frames(path.with_name(f".{path.stem}.stored{path.suffix}"), frames, *shown, fps, inputs, outputs)
    try:  # the display matrix is written on a stream copy (an encoding ffmpeg drops the rotate tag)
        subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-i", str(stored), "-c", "copy", "-metadata:s:v:0",
                        f"rotate={rotation % 360}", str(path)], check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        raise HighlighterError(f"ffmpeg failed writing {path}: {exc.stderr.decode().strip()[-300:]}") from None
    finally:
        stored.unlink()
    return path
