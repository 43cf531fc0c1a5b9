"""`highlight tag`: videos (or SoccerNet game folders) in, timestamped highlight events out."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import torch
from rich.progress import Progress

from highlighter.soccernet.games import half_videos
from highlighter.errors import HighlighterError
from highlighter.events import TagResult
from highlighter.audio.features import read_cue
from highlighter.audio.fusion import Fusion, load_fusion
from highlighter.labels import BACKGROUND, load_label_map
from highlighter.model import WEIGHTS_FILE, HighlightClassifier, create_classifier, load_checkpoint
from highlighter.score import FrameScorer, ScoreCurves, score_videos
from highlighter.settings import SmootherSettings, TagSettings, VideoSettings
from highlighter.smooth import find_events
from highlighter.device import inference_dtype, resolve_device
from highlighter.video import FrameSampler
from highlighter.weights import resolve_checkpoint


def model_dtype(settings: TagSettings) -> torch.dtype:
    """The dtype of the model's weights and inputs: ``settings.precision`` resolved on its device."""
    return inference_dtype(settings.precision, resolve_device(settings.device))


def load_model(settings: TagSettings, dtype: torch.dtype | None = None) -> tuple[HighlightClassifier, dict]:
    """The classifier of ``settings.weights`` (a checkpoint folder or hf-hub name, its weights cast to
    ``dtype`` as they load), or with ``settings.zero_shot`` a pretrained open_clip model classifying with
    the prompts; and the ``model`` block of the events JSON (name, checkpoint, sha256)."""
    if settings.zero_shot:
        label_map = load_label_map(settings.classes)
        classes = [BACKGROUND] + [c for c in label_map.classes if c != BACKGROUND]
        classifier, _, _ = create_classifier(settings.model, classes, settings.pretrained)
        return classifier.eval(), {"name": settings.model, "pretrained": settings.pretrained, "checkpoint": None,
                                   "sha256": None}
    folder = resolve_checkpoint(settings.weights)
    classifier = load_checkpoint(folder, dtype=dtype)
    digest = hashlib.sha256()
    with open(folder / WEIGHTS_FILE, "rb") as weights:  # in pieces: the file can be larger than the model in bf16
        while chunk := weights.read(1 << 24):
            digest.update(chunk)
    return classifier, {"name": classifier.spec.model, "checkpoint": str(settings.weights),
                        "sha256": digest.hexdigest()}


def expand_inputs(paths: list[Path]) -> list[tuple[Path, dict[int | None, Path]]]:
    """Each input with its videos: a file is one video (half None); a SoccerNet game folder gives its
    halves (1 and 2)."""
    expanded = []
    for path in paths:
        if path.is_dir():
            halves = half_videos(path)
            if not halves:
                raise HighlighterError(f"{path}: a folder, but no SoccerNet half videos (1_*.mkv, 2_*.mkv) in it")
            expanded.append((path, dict(halves)))
        else:
            expanded.append((path, {None: path}))
    return expanded


class Tagger:
    """Scores videos with one model and turns the scores into events."""

    def __init__(self, classifier: HighlightClassifier, model_info: dict, settings: TagSettings,
                 video: VideoSettings, smoother: SmootherSettings, progress: Progress | None = None) -> None:
        self.settings, self.video, self.smoother = settings, video, smoother
        self.device = resolve_device(settings.device)
        self.scorer = FrameScorer(classifier, self.device, settings.precision, settings.compile)
        self.model_info = model_info
        self.progress = progress
        self.fusion = load_fusion(settings)

    @classmethod
    def from_settings(cls, video: VideoSettings, smoother: SmootherSettings, settings: TagSettings,
                      progress: Progress | None = None) -> Tagger:
        """A tagger with the model of ``settings`` loaded in its precision."""
        classifier, model_info = load_model(settings, model_dtype(settings))
        return cls(classifier, model_info, settings, video, smoother, progress)

    def _fused(self, videos: dict[int | None, Path], scoring: Callable[[], dict]) -> dict:
        """``scoring()``'s curves, fused with each half's crowd cue (see :func:`fuse_curves`), the loudness
        decoded in a thread while the frames are scored."""
        if self.fusion is None:
            return scoring()
        with ThreadPoolExecutor(1) as pool:
            cues = pool.submit(read_cues, self.fusion, videos)
            scored = scoring()
            return fuse_curves(self.fusion, self.settings.audio, videos, scored, cues.result())

    def tag(self, source: Path, videos: dict[int | None, Path],
            samplers: dict[int | None, FrameSampler] | None = None) -> TagResult:
        """Events of one input (a video, or a game's halves, decoded at the same time where the machine
        has the cores for it). ``samplers``: the videos' samplers where they were made (and started) ahead;
        the decode+score time then counts from the start of their decoding."""
        started = time.perf_counter()
        if samplers is None:
            size = self.scorer.classifier.spec.image_size
            samplers = {half: FrameSampler.from_settings(video, self.video, size, self.settings.batch_size)
                        for half, video in videos.items()}
        started = min([started] + [s.started_at for s in samplers.values() if s.started_at is not None])
        labels = {half: f"tag {source.name}" + (f" half {half}" if half else "") for half in videos}
        scored = self._fused(videos, lambda: score_videos(samplers, self.scorer, self.progress, labels))
        duration = sum(sampler.info.length_s for sampler in samplers.values())
        jumps = [{"half": half, **jump.to_dict()} for half, sampler in samplers.items()
                 for jump in sampler.discontinuities]
        return tag_result(source, list(scored.items()), duration, jumps, self.video.fps, self.model_info,
                          self.smoother, time.perf_counter() - started)


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


def tag_result(source: Path, curves: list[tuple[int | None, ScoreCurves]], duration_s: float, jumps: list[dict],
               fps: float, model_info: dict, smoother: SmootherSettings, wall_s: float) -> TagResult:
    """The result of one input from its score curves (per half): the smoothed events with everything the
    events file records. Every engine ends here, so their outputs agree."""
    events = [event for half, c in curves for event in find_events(c.times, c.probabilities, c.classes, smoother, half)]
    classes = curves[0][1].classes
    return TagResult(str(source), duration_s, fps, model_info, classes, events, curves, wall_s, discontinuities=jumps)
