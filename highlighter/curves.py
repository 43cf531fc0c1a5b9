"""Score curves and what every engine does with them: each video's per-sample class probabilities, fused
with the crowd cue where the checkpoint has a fusion, smoothed into the result of one input. Without
PyTorch, so the Ray engine's driver (which only gathers curves and writes results) never loads it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from highlighter.audio.features import read_cue
from highlighter.errors import HighlighterError
from highlighter.events import TagResult, VideoSpan
from highlighter.settings import SmootherSettings
from highlighter.smooth import find_events
from highlighter.spotting.head import HeadSequence
from highlighter.soccernet.games import half_videos
from highlighter.video.probe import open_container

if TYPE_CHECKING:
    from highlighter.audio.fusion import Fusion
    from highlighter.spotting.head import SpottingHead


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


def expand_inputs(paths: list[Path]) -> list[tuple[Path, dict[int | None, Path]]]:
    """Each input with its videos: a file is one video (half None); a SoccerNet game folder gives its
    halves (1 and 2). Each video is opened (its header read, nothing decoded): a missing, unreadable or
    non-video input is a one-line error here, before anything heavy loads."""
    expanded = []
    for path in paths:
        if path.is_dir():
            halves = half_videos(path)
            if not halves:
                raise HighlighterError(f"{path}: a folder, but no SoccerNet half videos (1_*.mkv, 2_*.mkv) in it")
            expanded.append((path, dict(halves)))
        else:
            expanded.append((path, {None: path}))
    for video in (video for _, videos in expanded for video in videos.values()):
        open_container(video).close()
    return expanded


def read_cues(fusion: Fusion, videos: dict[int | None, Path]) -> dict:
    """Each half's crowd cue as the fusion was measured (None where a half has no usable audio)."""
    return {half: read_cue(video, fusion.audio) for half, video in videos.items()}


def fuse_curves(fusion: Fusion, audio: str, videos: dict[int | None, Path], scored: dict, cues: dict) -> dict:
    """Each half's frame curves fused with its crowd cue where it has one; ``audio`` ``on`` makes a half
    without usable audio an error. Every engine fuses here, so their outputs agree."""
    missing = [str(videos[half]) for half, cue in cues.items() if cue is None]
    if missing and audio == "on":
        raise HighlighterError(f"--audio on: no usable audio in {', '.join(missing)}")
    return {half: curves if cues[half] is None else
            dataclasses.replace(curves, probabilities=fusion.apply(curves.probabilities, curves.times, cues[half]),
                                loudness=cues[half].level_at(curves.times), fused=True)
            for half, curves in scored.items()}


def tag_result(source: Path, curves: list[tuple[int | None, ScoreCurves]], spans: list[VideoSpan], jumps: list[dict],
               fps: float, model_info: dict, smoother: SmootherSettings, wall_s: float,
               head: SpottingHead | None = None) -> TagResult:
    """The result of one input from its score curves and what was decoded of each video (per half): the events
    (the spotting ``head``'s, where given, on the curves' embeddings; else smoothed) with everything the events
    file records. Every engine ends here, so their outputs agree."""
    if head is not None:
        curves = [(half, dataclasses.replace(c, spotting=np.concatenate(
            head.predict(HeadSequence(c.times, c.features, c.probabilities)), axis=1))) for half, c in curves]
    events = [event for half, c in curves for event in (
        head.pick(c.times, c.spotting, half) if head is not None
        else find_events(c.times, c.probabilities, c.classes, smoother, half))]
    classes = curves[0][1].classes
    duration = sum(span.decoded_s for span in spans)
    return TagResult(str(source), duration, fps, model_info, classes, events, curves, wall_s, discontinuities=jumps,
                     spans=spans)
