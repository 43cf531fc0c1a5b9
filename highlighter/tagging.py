"""`highlight tag`: videos (or SoccerNet game folders) in, timestamped highlight events out."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

import torch
from rich.progress import Progress

from highlighter.soccernet.files import PREDICTIONS_FILE
from highlighter.soccernet.games import half_videos
from highlighter.errors import HighlighterError
from highlighter.events import TagResult
from highlighter.export import write_events, write_plot, write_scores
from highlighter.labels import BACKGROUND, load_label_map
from highlighter.model import WEIGHTS_FILE, HighlightClassifier, create_classifier, load_checkpoint
from highlighter.score import FrameScorer, score_videos
from highlighter.settings import SmootherSettings, TagSettings, VideoSettings
from highlighter.smooth import find_events
from highlighter.device import inference_dtype, resolve_device
from highlighter.video import FrameSampler
from highlighter.weights import resolve_checkpoint

log = logging.getLogger(__name__)


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

    def tag(self, source: Path, videos: dict[int | None, Path]) -> TagResult:
        """Events of one input (a video, or a game's halves, decoded at the same time where the machine
        has the cores for it)."""
        started = time.perf_counter()
        size = self.scorer.classifier.spec.image_size
        samplers = {half: FrameSampler.from_settings(video, self.video, size, self.settings.batch_size)
                    for half, video in videos.items()}
        labels = {half: f"tag {source.name}" + (f" half {half}" if half else "") for half in videos}
        scored = score_videos(samplers, self.scorer, self.progress, labels)
        curves = list(scored.items())
        events = [event for half, c in curves
                  for event in find_events(c.times, c.probabilities, c.classes, self.smoother, half)]
        duration = sum(sampler.info.length_s for sampler in samplers.values())
        jumps = [{"half": half, **jump.to_dict()} for half, sampler in samplers.items()
                 for jump in sampler.discontinuities]
        classes = self.scorer.classes
        return TagResult(str(source), duration, self.video.fps, self.model_info, classes, events, curves,
                         time.perf_counter() - started, discontinuities=jumps)


OUTPUT_SUFFIX = {"json": ".events.json", "csv": ".events.csv", "soccernet": f"/{PREDICTIONS_FILE}"}


def output_names(sources: list[Path]) -> dict[Path, str]:
    """A distinct file name stem per input: its own name, or, where two inputs share it (``a/match.mkv``,
    ``b/match.mkv``), as many parent folder names as it takes, joined by ``__`` (``a__match``)."""
    def stem(path: Path, depth: int) -> str:
        parents = path.absolute().parent.parts[1:]
        return "__".join([*parents[len(parents) - depth:], path.name if path.is_dir() else path.stem])

    names: dict[Path, str] = {}
    for source in sources:
        others = [other for other in sources if other.absolute() != source.absolute()]
        depth = 0
        while any(stem(other, depth) == stem(source, depth) for other in others) and depth < len(source.parts):
            depth += 1
        names[source] = stem(source, depth)
    return names


def output_paths(name: str, out: Path | None, single: bool, fmt: str, scores: Path | None,
                 plot: Path | None) -> tuple[Path, Path | None, Path | None]:
    """Where one input's events, scores and plot go: the given files for a single input (unless ``out``
    is a folder), else ``OUT/<name>.events.json`` (``OUT/<name>/results_spotting.json`` for SoccerNet)
    with ``OUT/<name>.scores.npz`` and ``OUT/<name>.plot.png`` beside it."""
    if single and out is not None and not out.is_dir():
        return out, scores, plot
    folder = out or Path(".")
    events = Path(f"{folder / name}{OUTPUT_SUFFIX[fmt]}")
    return (events, scores and folder / f"{name}.scores{scores.suffix or '.npz'}",
            plot and folder / f"{name}.plot.png")


def failure_message(path: Path, exc: Exception) -> str:
    """One line for an input that failed: the library's own message, or the OS error and its file."""
    if isinstance(exc, HighlighterError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{path}: {exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    return f"{path}: {type(exc).__name__}: {exc}"


def tag_inputs(tagger: Tagger, paths: list[Path], out: Path | None, fmt: str, scores: Path | None = None,
               plot: Path | None = None, on_result=None, report=None) -> list[str]:
    """Tag every input and write its outputs; returns the errors of the inputs that failed.

    ``report`` (``highlighter.review.ReviewSettings``) also writes each input's review page,
    ``NAME.report.html`` beside its events file, with the score curves of this run.

    With one input an error is raised as it is; with several, a failing input (bad video, unwritable
    output, anything else) is logged and skipped so the others still get their files. Inputs that share
    a file name get distinct output names (see :func:`output_names`).
    """
    single = len(paths) == 1
    if out is not None and not single:
        out.mkdir(parents=True, exist_ok=True)
    names = output_names(paths)
    failed = []
    for path in paths:
        try:
            source, halves = expand_inputs([path])[0]
            result = tagger.tag(source, halves)
            events_path, scores_path, plot_path = output_paths(names[path], out, single, fmt, scores, plot)
            write_events(result, events_path, fmt)
            if scores_path:
                write_scores(result, scores_path)
            if plot_path:
                write_plot(result, plot_path)
            if report is not None:
                from highlighter.review.build import report_for_result

                report_for_result(result, events_path, report, tagger.progress)
        except Exception as exc:  # one bad input must not end a batch
            if single:
                raise
            log.error("%s", failure_message(path, exc))
            failed.append(failure_message(path, exc))
            continue
        if on_result is not None:
            on_result(result, events_path)
    return failed
