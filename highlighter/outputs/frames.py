"""Write sampled frames to disk as images plus ``frames.csv``: exactly what the model sees."""

from __future__ import annotations

from pathlib import Path

import cv2
import pandas as pd
from rich.progress import Progress

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError
from highlighter.progress import Tracker
from highlighter.config.schema import choices
from highlighter.config.settings import FramesSettings
from highlighter.video import FrameSampler

JPEG_QUALITY = 95
IMAGE_FORMATS = choices(FramesSettings, "image_format")


def export_frames(
    sampler: FrameSampler,
    out_dir: str | Path,
    image_format: str,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Save every sample of ``sampler`` as ``out_dir/NNNNNN.<format>``; write and return the index table
    (columns ``index,time_s,path``, paths relative to ``out_dir``)."""
    if image_format not in IMAGE_FORMATS:
        raise HighlighterError(f"unknown image format {image_format!r}: choose one of {', '.join(IMAGE_FORMATS)}")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HighlighterError(f"{out_dir}: cannot create output folder ({exc.strerror})") from None
    params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY] if image_format == "jpg" else []
    tracker = Tracker(progress, f"frames {sampler.path.name}", sampler.expected_samples)
    rows = []
    for batch in sampler:
        for offset, (time_s, image) in enumerate(zip(batch.times, batch.images)):
            index = batch.first_index + offset
            name = f"{index:06d}.{image_format}"
            ok, encoded = cv2.imencode(f".{image_format}", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
            if not ok:
                raise HighlighterError(f"could not encode frame {index} as {image_format}")
            with atomic_write(out_dir / name, "wb", durable=False) as handle:
                handle.write(encoded.tobytes())
            rows.append((index, round(float(time_s), 6), name))
        tracker.advance(len(batch))
    tracker.finish(len(rows))
    table = pd.DataFrame(rows, columns=["index", "time_s", "path"])
    with atomic_write(out_dir / "frames.csv", "w", newline="") as handle:
        table.to_csv(handle, index=False)
    return table
