"""Score curves: each video's per-sample class probabilities (``ScoreCurves``, the one container of them), their
table, and the one writer and reader of the scores files of ``highlight tag --scores`` (``.npz`` or CSV) that
the review page and ``tune-smoother`` read. Without PyTorch."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError
from highlighter.outputs.targets import check_scores_suffix
from highlighter.outputs.writers import write_csv

if TYPE_CHECKING:
    import pandas as pd

#: the columns of a scores table before the classes' (and ``loudness_db`` after them, where it was measured)
INDEX_COLUMNS = ("half", "time_s")
LOUDNESS_COLUMN = "loudness_db"


@dataclass
class ScoreCurves:
    """Class probabilities for every sampled frame of one video."""

    classes: list[str]
    times: np.ndarray  # (N,) seconds
    probabilities: np.ndarray  # (N, C) softmax (fused with the crowd cue where ``fused``)
    loudness: np.ndarray | None = None  # (N,) dB of the match audio at each sample, where it was measured
    fused: bool = False  # probabilities from the audio fusion (highlighter.audio.fusion)
    features: np.ndarray | None = None  # (N, D) unit image embeddings, where the spotting head reads them
    spotting: np.ndarray | None = None  # (N, 2K) the head's event probabilities, then offsets, of the K event classes

    @classmethod
    def from_rows(cls, classes: list[str], times: np.ndarray, rows: np.ndarray) -> ScoreCurves:
        """Curves from a scorer's output rows: the class probabilities, then any embedding columns."""
        rows = rows.astype(np.float32, copy=False)
        features = rows[:, len(classes):] if rows.shape[1] > len(classes) else None
        return cls(list(classes), times, np.ascontiguousarray(rows[:, :len(classes)]), features=features)


#: each video's curves with its half (None for a single video, else 1 or 2)
HalfCurves = list[tuple[int | None, ScoreCurves]]


@dataclass
class ScoresFile:
    """A scores file read back: the input it was written for, its curves half by half, and the sample rate of the
    spotting head's output where a head placed the events."""

    source: str
    curves: HalfCurves
    fps: float | None = None


def scores_table(curves: HalfCurves) -> pd.DataFrame:
    """Per-sample probabilities: columns ``half`` (1 or 2; empty for a single video, as the events file's null),
    ``time_s``, then one per class, and ``loudness_db`` where the match audio was measured."""
    import pandas as pd

    table = pd.DataFrame(np.concatenate([c.probabilities for _, c in curves]), columns=curves[0][1].classes)
    table.insert(0, "time_s", np.round(np.concatenate([c.times for _, c in curves]), 3))
    table.insert(0, "half", pd.array([h for h, c in curves for _ in range(len(c.times))], dtype="Int64"))
    if any(c.loudness is not None for _, c in curves):  # where the audio was measured
        table[LOUDNESS_COLUMN] = np.concatenate([np.full(len(c.times), np.nan) if c.loudness is None else c.loudness
                                                 for _, c in curves])
    return table


def write_scores(curves: HalfCurves, source: str, path: Path, fps: float | None = None) -> Path:
    """``.npz`` (times at full precision, probabilities, half, classes, source, loudness_db where the audio was
    measured, and the spotting head's output with the sample rate ``fps`` where a head placed the events:
    tune-smoother smooths and picks them as tag did) or CSV (the :func:`scores_table`), as the suffix says (any
    other is refused), atomically."""
    if check_scores_suffix(path).suffix.lower() != ".npz":
        write_csv(scores_table(curves), path, float_format="%.5f")
        return path
    table = scores_table(curves)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, times=np.concatenate([c.times for _, c in curves]),
                        probabilities=np.concatenate([c.probabilities for _, c in curves]),
                        half=np.concatenate([np.full(len(c.times), h or 0) for h, c in curves]), classes=np.array(curves[0][1].classes), source=np.array(source),
                        **({LOUDNESS_COLUMN: table[LOUDNESS_COLUMN].to_numpy()} if LOUDNESS_COLUMN in table else {}),
                        **({"spotting": np.concatenate([c.spotting for _, c in curves]), "fps": fps}
                           if all(c.spotting is not None for _, c in curves) else {}))
    with atomic_write(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return path


def read_scores(path: str | Path) -> ScoresFile:
    """A scores file of `highlight tag --scores`: ``.npz`` or CSV. A single video's half (0 in ``.npz``, empty in
    CSV) reads as None, and a half whose loudness is all NaN (no audio) as unmeasured."""
    path = Path(path)
    if not path.is_file():
        raise HighlighterError(f"{path}: no such scores file")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                times, probabilities = data["times"], data["probabilities"]
                halves, classes = data["half"], [str(c) for c in data["classes"]]
                loudness = data[LOUDNESS_COLUMN] if LOUDNESS_COLUMN in data else None
                source = str(data["source"]) if "source" in data else path.name
                spotting = data["spotting"] if "spotting" in data else None
                fps = float(data["fps"]) if spotting is not None else None
        else:
            import pandas as pd

            table = pd.read_csv(path)
            classes = [c for c in table.columns if c not in (*INDEX_COLUMNS, LOUDNESS_COLUMN)]
            times, probabilities = table["time_s"].to_numpy(float), table[classes].to_numpy(float)
            halves = table["half"].fillna(0).to_numpy(int)  # a single video's half is empty
            loudness = table[LOUDNESS_COLUMN].to_numpy(float) if LOUDNESS_COLUMN in table else None
            source, spotting, fps = path.name, None, None
    except (KeyError, ValueError, OSError) as exc:
        raise HighlighterError(f"{path}: not a scores file of `highlight tag --scores` ({exc})") from None
    curves = [(int(h) or None, ScoreCurves(classes, times[halves == h], probabilities[halves == h],
                                           _measured(None if loudness is None else loudness[halves == h]),
                                           spotting=None if spotting is None else spotting[halves == h]))
              for h in np.unique(halves)]
    return ScoresFile(source, curves, fps)


def _measured(loudness: np.ndarray | None) -> np.ndarray | None:
    """``loudness`` where any of it was measured (a half without audio is all NaN in a scores file)."""
    return loudness if loudness is not None and np.isfinite(loudness).any() else None
