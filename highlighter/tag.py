"""`highlight tag`: videos (or SoccerNet game folders) in, timestamped highlight events out."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from rich.progress import Progress

from highlighter.data.soccernet_v2 import half_videos
from highlighter.errors import HighlighterError
from highlighter.export import TagResult, write_events, write_plot, write_scores
from highlighter.labels import BACKGROUND, load_label_map
from highlighter.model import WEIGHTS_FILE, HighlightClassifier, create_classifier, load_checkpoint
from highlighter.score import FrameScorer, score_videos
from highlighter.smooth import SmootherParams, find_events
from highlighter.device import inference_dtype, resolve_device
from highlighter.video import STALL_TIMEOUT_S, FrameSampler

log = logging.getLogger(__name__)


@dataclass
class TagSettings:
    """How videos are sampled and scored."""

    fps: float = 1.0
    sampling: str = "exact"
    decoder: str = "auto"
    stall_timeout_s: float = STALL_TIMEOUT_S
    batch_size: int = 64
    device: str = "auto"
    precision: str = "auto"  # auto | fp32 | bf16 | fp16 (see highlighter.device.inference_dtype)
    compile: bool = False  # torch.compile the model (pays on long GPU runs; compiling takes a while)
    smoother: SmootherParams = field(default_factory=SmootherParams)

    def model_dtype(self) -> torch.dtype:
        """The dtype of the model's weights and inputs: ``precision`` resolved on ``device``."""
        return inference_dtype(self.precision, resolve_device(self.device))


@dataclass
class ModelChoice:
    """A trained checkpoint, or a pretrained open_clip model used zero-shot with the configured prompts."""

    weights: str | None = "weights/highlighter"
    zero_shot: bool = False
    model: str = "ViT-B-32"
    pretrained: str | None = "laion2b_s34b_b79k"
    classes: str = "highlight"


def load_model(choice: ModelChoice, dtype: torch.dtype | None = None) -> tuple[HighlightClassifier, dict]:
    """The classifier (a checkpoint's weights cast to ``dtype`` as they load) and the ``model`` block of
    the events JSON (name, checkpoint, sha256)."""
    if choice.zero_shot:
        label_map = load_label_map(choice.classes)
        classes = [BACKGROUND] + [c for c in label_map.classes if c != BACKGROUND]
        classifier, _, _ = create_classifier(choice.model, classes, choice.pretrained)
        return classifier.eval(), {"name": choice.model, "pretrained": choice.pretrained, "checkpoint": None,
                                   "sha256": None}
    folder = Path(choice.weights)
    classifier = load_checkpoint(folder, dtype=dtype)
    digest = hashlib.sha256()
    with open(folder / WEIGHTS_FILE, "rb") as weights:  # in pieces: the file can be larger than the model in bf16
        while chunk := weights.read(1 << 24):
            digest.update(chunk)
    return classifier, {"name": classifier.spec.model, "checkpoint": str(folder), "sha256": digest.hexdigest()}


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
                 progress: Progress | None = None) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.scorer = FrameScorer(classifier, self.device, settings.precision, settings.compile)
        self.model_info = model_info
        self.progress = progress

    def tag(self, source: Path, videos: dict[int | None, Path]) -> TagResult:
        """Events of one input (a video, or a game's halves, decoded at the same time where the machine
        has the cores for it)."""
        started = time.perf_counter()
        settings = self.settings
        size = self.scorer.classifier.spec.image_size
        samplers = {half: FrameSampler(video, fps=settings.fps, size=size, decoder=settings.decoder,
                                       sampling=settings.sampling, batch_size=settings.batch_size,
                                       stall_timeout_s=settings.stall_timeout_s)
                    for half, video in videos.items()}
        labels = {half: f"tag {source.name}" + (f" half {half}" if half else "") for half in videos}
        scored = score_videos(samplers, self.scorer, self.progress, labels)
        curves = list(scored.items())
        events = [event for half, c in curves
                  for event in find_events(c.times, c.probabilities, c.classes, settings.smoother, half)]
        duration = sum(sampler.info.length_s for sampler in samplers.values())
        jumps = [{"half": half, **jump.to_dict()} for half, sampler in samplers.items()
                 for jump in sampler.discontinuities]
        classes = self.scorer.classes
        return TagResult(str(source), duration, settings.fps, self.model_info, classes, events, curves,
                         time.perf_counter() - started, discontinuities=jumps)


OUTPUT_SUFFIX = {"json": ".events.json", "csv": ".events.csv", "soccernet": "/results_spotting.json"}


def output_paths(source: Path, out: Path | None, single: bool, fmt: str, scores: Path | None,
                 plot: Path | None) -> tuple[Path, Path | None, Path | None]:
    """Where one input's events, scores and plot go: the given files for a single input (unless ``out``
    is a folder), else ``OUT/<name>.events.json`` (``OUT/<name>/results_spotting.json`` for SoccerNet)
    with ``OUT/<name>.scores.npz`` and ``OUT/<name>.plot.png`` beside it."""
    if single and out is not None and not out.is_dir():
        return out, scores, plot
    folder = out or Path(".")
    name = source.name if source.is_dir() else source.stem
    events = Path(f"{folder / name}{OUTPUT_SUFFIX[fmt]}")
    return (events, scores and folder / f"{name}.scores{scores.suffix or '.npz'}",
            plot and folder / f"{name}.plot.png")


def tag_inputs(tagger: Tagger, paths: list[Path], out: Path | None, fmt: str, scores: Path | None = None,
               plot: Path | None = None, on_result=None, report=None) -> list[str]:
    """Tag every input and write its outputs; returns the errors of the inputs that failed.

    ``report`` (``highlighter.review.ReportSettings``) also writes each input's review page,
    ``NAME.report.html`` beside its events file, with the score curves of this run.

    With one input an error is raised as it is; with several, a failing input is logged and skipped so
    the others still get their files.
    """
    single = len(paths) == 1
    if out is not None and not single:
        out.mkdir(parents=True, exist_ok=True)
    failed = []
    for path in paths:
        try:
            source, halves = expand_inputs([path])[0]
            result = tagger.tag(source, halves)
            events_path, scores_path, plot_path = output_paths(source, out, single, fmt, scores, plot)
            write_events(result, events_path, fmt)
            if scores_path:
                write_scores(result, scores_path)
            if plot_path:
                write_plot(result, plot_path)
            if report is not None:
                from highlighter.review.build import report_for_result

                report_for_result(result, events_path, report, tagger.progress)
        except HighlighterError as exc:
            if single:
                raise
            log.error("%s", exc)
            failed.append(str(exc))
            continue
        if on_result is not None:
            on_result(result, events_path)
    return failed
