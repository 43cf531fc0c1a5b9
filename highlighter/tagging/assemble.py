"""What every engine does with the score curves of an input's videos: fuse them with the crowd cue where the
checkpoint has a fusion, and smooth them into the input's result. Without PyTorch, so the Ray engine's driver
(which only gathers curves and writes results) never loads it."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from highlighter.audio.features import read_cue
from highlighter.errors import HighlighterError
from highlighter.outputs.events import VideoSpan
from highlighter.outputs.result import TagResult
from highlighter.outputs.scores import HalfCurves
from highlighter.config.settings import SmootherSettings
from highlighter.spotting.head import HeadSequence
from highlighter.spotting.smoother import find_events

if TYPE_CHECKING:
    from highlighter.audio.fusion import Fusion
    from highlighter.spotting.head import SpottingHead


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


def tag_result(source: Path, curves: HalfCurves, spans: list[VideoSpan], jumps: list[dict],
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
