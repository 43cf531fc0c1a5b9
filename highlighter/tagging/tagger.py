"""`highlight tag`: videos (or SoccerNet game folders) in, timestamped highlight events out."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from rich.progress import Progress

from highlighter.audio.fusion import load_fusion
from highlighter.config.settings import SmootherSettings, TagSettings, VideoSettings
from highlighter.labels import BACKGROUND, load_label_map
from highlighter.model.checkpoint import checkpoint_info, read_spec, resolve_checkpoint
from highlighter.model.int8.choice import scoring_precision
from highlighter.model.scoring_loop import Scorer, score_videos
from highlighter.outputs.events import VideoSpan
from highlighter.outputs.result import TagResult
from highlighter.spotting.head import SpottingHead, load_spotting_head
from highlighter.tagging.assemble import fuse_curves, read_cues, tag_result
from highlighter.video import FrameSampler

if TYPE_CHECKING:  # PyTorch and open_clip load only where the model runs in them (not in int8)
    import torch

    from highlighter.model.classifier import HighlightClassifier


def model_dtype(settings: TagSettings) -> torch.dtype:
    """The dtype of the model's weights and inputs: ``settings.precision`` resolved on its device."""
    from highlighter.model.device import inference_dtype, resolve_device

    return inference_dtype(settings.precision, resolve_device(settings.device))


def load_classifier(settings: TagSettings, dtype: torch.dtype | None = None) -> tuple[HighlightClassifier, dict]:
    """The classifier of ``settings.weights`` (a checkpoint folder or hf-hub name, its weights cast to
    ``dtype`` as they load), or with ``settings.zero_shot`` a pretrained open_clip model classifying with
    the prompts; and the ``model`` block of the events JSON (name, checkpoint, sha256)."""
    from highlighter.model.classifier import create_classifier, load_checkpoint

    if settings.zero_shot:
        label_map = load_label_map(settings.classes)
        classes = [BACKGROUND] + [c for c in label_map.classes if c != BACKGROUND]
        classifier, _, _ = create_classifier(settings.model, classes, settings.pretrained)
        return classifier.eval(), {"name": settings.model, "pretrained": settings.pretrained, "checkpoint": None,
                                   "sha256": None}
    folder = resolve_checkpoint(settings.weights)
    return load_checkpoint(folder, dtype=dtype), checkpoint_info(settings.weights, folder)


def load_scorer(settings: TagSettings, threads: int | None = None, features: bool = False) -> tuple[Scorer, dict]:
    """The scorer of ``settings``' model in its precision (int8: the checkpoint's cached int8 model run by ONNX
    Runtime, built on first use; else the model in PyTorch) on ``threads`` CPU threads (None: every core this
    process may use), and the ``model`` block of the events JSON. With ``features`` each output row also holds the
    frame's embedding (the spotting head's input; the PyTorch scorer gives it, so int8 is not chosen then)."""
    folder = None if settings.zero_shot else resolve_checkpoint(settings.weights)
    spec = None if folder is None else read_spec(folder)
    if not features and scoring_precision(settings.precision, settings.device, spec) == "int8":
        from highlighter.model.int8.cache import int8_model
        from highlighter.model.int8.scorer import OnnxFrameScorer

        model_info = checkpoint_info(settings.weights, folder)
        model = int8_model(folder, model_info["sha256"])
        return OnnxFrameScorer(model, spec.classes, spec.image_size, threads), model_info
    import torch

    from highlighter.model.device import resolve_device
    from highlighter.model.inference import FrameScorer

    classifier, model_info = load_classifier(settings, model_dtype(settings))
    scorer = FrameScorer(classifier, resolve_device(settings.device), settings.precision, settings.compile, features)
    if threads is not None:
        torch.set_num_threads(threads)
    return scorer, model_info


class Tagger:
    """Scores videos with one model and turns the scores into events."""

    def __init__(self, scorer: Scorer, model_info: dict, settings: TagSettings, video: VideoSettings,
                 smoother: SmootherSettings, progress: Progress | None = None, head: SpottingHead | None = None) -> None:
        self.settings, self.video, self.smoother = settings, video, smoother
        self.scorer, self.head = scorer, head
        self.model_info = model_info
        self.progress = progress
        self.fusion = None if self.head is not None else load_fusion(settings)

    @classmethod
    def from_settings(cls, video: VideoSettings, smoother: SmootherSettings, settings: TagSettings,
                      progress: Progress | None = None) -> Tagger:
        """A tagger with the model of ``settings`` loaded in its precision."""
        head = load_spotting_head(settings, video)
        return cls(*load_scorer(settings, features=head is not None), settings, video, smoother, progress, head)

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
            size = self.scorer.image_size
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
