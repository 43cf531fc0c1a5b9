"""Frame classification metrics of a classifier on labelled images (`highlight eval-frames`)."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from rich.progress import Progress

from highlighter.data.dataset import FrameDataset, collect_records
from highlighter.data.soccernet_v2 import frame_settings
from highlighter.model.preprocess import Preprocess
from highlighter.model.device import autocast, inference_dtype, resolve_device
from highlighter.errors import HighlighterError
from highlighter.labels import BACKGROUND, LabelMap
from highlighter.evaluation.metrics import ClassificationReport, classification_report
from highlighter.progress import Tracker
from highlighter.model.classifier import HighlightClassifier, load_checkpoint, read_spec
from highlighter.config.settings import EvalFramesSettings, TrainSettings, VideoSettings

log = logging.getLogger(__name__)

#: The training and video settings that say how a checkpoint's frames were drawn (``frame_settings`` reads them).
FRAME_TRAINING_KEYS = ("frame_fps", "event_window", "background_gap_s", "background_per_event", "seed")
FRAME_VIDEO_KEYS = ("fps", "decoder")


@torch.no_grad()
def evaluate_classifier(classifier: HighlightClassifier, loader: torch.utils.data.DataLoader, device: torch.device,
                        progress: Progress | None = None, description: str = "evaluate",
                        mixed: bool = True) -> ClassificationReport:
    """One prediction per image against its own label: loss, accuracy, balanced accuracy, macro-F1.

    ``mixed``: training's mixed precision (``autocast`` over fp32 weights); else the inputs take the dtype
    the weights were cast to (``--precision``) and nothing is autocast.
    """
    classifier.eval()
    dtype = next(classifier.parameters()).dtype
    logits_all, targets_all = [], []
    tracker = Tracker(progress, description, len(loader.dataset))
    for images, targets in loader:
        with autocast(device) if mixed else contextlib.nullcontext():
            logits = classifier(images.to(device, dtype, non_blocking=True))
        logits_all.append(logits.float().cpu())
        targets_all.append(targets)
        tracker.advance(len(targets))
    tracker.finish(remove=True)
    if not logits_all:
        return classification_report(torch.empty(0, dtype=torch.long).numpy(), torch.empty(0, dtype=torch.long).numpy(),
                                     list(classifier.spec.classes))
    logits, targets = torch.cat(logits_all), torch.cat(targets_all)
    loss = float(F.cross_entropy(logits, targets))
    return classification_report(targets.numpy(), logits.argmax(1).numpy(), list(classifier.spec.classes), loss)


def checkpoint_label_map(folder: str | Path) -> LabelMap:
    """The class map a checkpoint was trained with."""
    spec = read_spec(folder)
    saved = spec.extra.get("label_map")
    if not saved:
        raise HighlighterError(f"{folder}: the checkpoint does not record its label map")
    return LabelMap(saved["name"], tuple(c for c in spec.classes if c != BACKGROUND), dict(saved["sources"]))


def saved_sampling(extra: dict, training: TrainSettings, video: VideoSettings) -> tuple[dict, dict]:
    """The training and video blocks a checkpoint drew its frames with, a setting it predates (a checkpoint of the
    first round has no ``background_per_event``) filled from this run's ``training`` and ``video`` settings, with a
    warning."""
    saved_training, saved_video = extra.get("training") or {}, extra.get("video") or {}
    missing = sorted({*(set(FRAME_TRAINING_KEYS) - set(saved_training)), *(set(FRAME_VIDEO_KEYS) - set(saved_video))})
    if missing:
        log.warning("the checkpoint predates %s: drawing its frames with the defaults", ", ".join(missing))
    return {**asdict(training), **saved_training}, {**asdict(video), **saved_video}


def evaluate_frames(checkpoint: str | Path, data: list[str | Path], settings: EvalFramesSettings, video: VideoSettings,
                    training: TrainSettings, progress: Progress | None = None) -> tuple[ClassificationReport, int]:
    """Metrics of ``checkpoint`` on every image under ``data`` (or only the games of one of its splits)
    with the model in ``settings.precision`` (see ``highlighter.model.device.inference_dtype``); images are
    drawn from videos as the checkpoint's training drew them. Returns the report and the number of games."""
    torch_device = resolve_device(settings.device)
    classifier = load_checkpoint(checkpoint, torch_device, inference_dtype(settings.precision, torch_device))
    label_map = checkpoint_label_map(checkpoint)
    spec = classifier.spec
    frames = frame_settings(*saved_sampling(spec.extra, training, video), spec.image_size)
    records = collect_records(list(data), label_map, frames, Path(settings.cache_dir).expanduser(), progress)
    if settings.split != "all":
        games = set(spec.extra.get("data", {}).get(settings.split, {}).get("game_list", []))
        if not games:
            raise HighlighterError(f"{checkpoint}: the checkpoint records no {settings.split!r} games")
        records = [r for r in records if r.game in games]
    if not records:
        raise HighlighterError("no labelled images found for these games")
    dataset = FrameDataset(records, label_map, list(spec.classes), Preprocess.of(spec).transform(train=False))
    loader = torch.utils.data.DataLoader(dataset, batch_size=settings.batch_size)
    report = evaluate_classifier(classifier, loader, torch_device, progress, mixed=False)
    return report, len({r.game for r in records})
