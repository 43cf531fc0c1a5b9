"""The Ray engine's decoding task, in a module of its own that imports no PyTorch: a Ray worker unpickling
it loads only the video stack, so decoding starts while the scoring actors are still loading the model."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from highlighter.errors import failure_message
from highlighter.config.settings import VideoSettings


def frame_row(key: int, half: int, first_index: int, times: np.ndarray, images: np.ndarray, info: str = "",
              error: str = "") -> dict[str, np.ndarray]:
    """One row of the stream as a batch of one: a frame batch, or (``first_index`` -1) the end of a video
    with its ``info`` or ``error``."""
    return {"key": np.array([key]), "half": np.array([half]), "first_index": np.array([first_index]),
            "rows": np.array([len(times)]), "times": np.array([times.astype(np.float64).tobytes()], dtype=object),
            "images": np.array([images.tobytes()], dtype=object), "info": np.array([info]),
            "error": np.array([error])}


def decode_video(part: dict[str, np.ndarray], video: VideoSettings, size: int,
                 batch_size: int) -> Iterator[dict[str, np.ndarray]]:
    """A Ray Data task: the frame batches of one video as the sampler makes them, then an end row with what
    was decoded of the video (and why not all of it), its declared duration, stream index, timestamp jumps,
    batch count and wall time (or the error that stopped it)."""
    from highlighter.video import FrameSampler

    key, half, path = int(part["key"][0]), int(part["half"][0]), Path(str(part["path"][0]))
    started = time.perf_counter()
    empty = np.zeros((0,))
    try:
        sampler = FrameSampler.from_settings(path, video, size, batch_size)
        count = 0
        for batch in sampler:
            yield frame_row(key, half, batch.first_index, batch.times, batch.images)
            count += 1
        info = {"batches": count, "decoded_s": sampler.decoded_s, "declared_s": sampler.info.duration_s,
                "partial": sampler.partial, "stream": sampler.info.stream_index, "wall_s": time.perf_counter() - started,
                "jumps": [jump.to_dict() for jump in sampler.discontinuities]}
    except Exception as exc:  # the driver records the input as failed; the other inputs go on
        yield frame_row(key, half, -1, empty, empty, error=failure_message(path, exc))
        return
    yield frame_row(key, half, -1, empty, empty, info=json.dumps(info))
