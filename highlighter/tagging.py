"""`highlight tag`: videos (or SoccerNet game folders) in, timestamped highlight events out."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import torch
from rich.progress import Progress

from highlighter.audio.fusion import load_fusion
from highlighter.curves import fuse_curves, read_cues, tag_result
from highlighter.device import inference_dtype, resolve_device
from highlighter.events import TagResult, VideoSpan
from highlighter.labels import BACKGROUND, load_label_map
from highlighter.model import HighlightClassifier, create_classifier, load_checkpoint
from highlighter.score import FrameScorer, score_videos
from highlighter.settings import SmootherSettings, TagSettings, VideoSettings
from highlighter.spotting.head import load_spotting_head
from highlighter.video import FrameSampler
from highlighter.weights import checkpoint_info, resolve_checkpoint


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
    return load_checkpoint(folder, dtype=dtype), checkpoint_info(settings.weights, folder)


class Tagger:
    """Scores videos with one model and turns the scores into events."""

    def __init__(self, classifier: HighlightClassifier, model_info: dict, settings: TagSettings,
                 video: VideoSettings, smoother: SmootherSettings, progress: Progress | None = None) -> None:
        self.settings, self.video, self.smoother = settings, video, smoother
        self.device = resolve_device(settings.device)
        self.head = load_spotting_head(settings, video)
        self.scorer = FrameScorer(classifier, self.device, settings.precision, settings.compile,
                                  features=self.head is not None)
        self.model_info = model_info
        self.progress = progress
        self.fusion = None if self.head is not None else load_fusion(settings)

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
        ahead = [s.started_at for s in (samplers or {}).values() if s.started_at is not None]
        started = min([time.perf_counter(), *ahead])
        if samplers is None:
            size = self.scorer.classifier.spec.image_size
            samplers = {half: FrameSampler.from_settings(video, self.video, size, self.settings.batch_size)
                        for half, video in videos.items()}
        labels = {half: f"tag {source.name}" + (f" half {half}" if half else "") for half in videos}
        scored = self._fused(videos, lambda: score_videos(samplers, self.scorer, self.progress, labels))
        spans = [VideoSpan(half, sampler.decoded_s, sampler.info.duration_s, sampler.partial, sampler.info.stream_index)
                 for half, sampler in samplers.items()]
        jumps = [{"half": half, **jump.to_dict()} for half, sampler in samplers.items()
                 for jump in sampler.discontinuities]
        return tag_result(source, list(scored.items()), spans, jumps, self.video.fps, self.model_info,
                          self.smoother, time.perf_counter() - started, self.head)
