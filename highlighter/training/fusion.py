"""Fit the fusion after the image model: score every half video of the train and val games that has audio
with the trained classifier, measure its crowd cue, fit on the train games and choose on the val games'
average-mAP (see :func:`highlighter.audio.fusion.fit_fusion`)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress

from highlighter.audio.features import read_cue
from highlighter.audio.fusion import Fusion, FusionHalf, fit_fusion
from highlighter.labels import LabelMap
from highlighter.model.classifier import HighlightClassifier
from highlighter.model.inference import FrameScorer
from highlighter.model.scoring_loop import score_videos
from highlighter.evaluation.spotting import average_map
from highlighter.config.settings import AudioSettings, SmootherSettings, TrainSettings, VideoSettings
from highlighter.spotting.smoother import find_events
from highlighter.soccernet.files import LABELS_FILE, read_labels, soccernet_spots
from highlighter.soccernet.games import half_videos, split_v2_games
from highlighter.video import FrameSampler

log = logging.getLogger(__name__)


def half_targets(times: np.ndarray, events: list[tuple[float, str]], classes: list[str],
                 window: tuple[float, float]) -> np.ndarray:
    """(N, C) 0/1: a sample is a positive of a class within ``window`` seconds around one of its events."""
    targets = np.zeros((len(times), len(classes)), dtype=np.float32)
    for time_s, cls in events:
        inside = (times - time_s >= window[0]) & (times - time_s <= window[1])
        targets[inside, classes.index(cls)] = 1.0
    return targets


def game_halves(folder: Path, scorer: FrameScorer, label_map: LabelMap, config: TrainSettings, video: VideoSettings,
                audio: AudioSettings, progress: Progress | None) -> list[FusionHalf]:
    """The halves of one v2 game folder that have a usable audio track."""
    classes = scorer.classes
    spots = read_labels(folder / LABELS_FILE)
    halves = []
    for half, path in half_videos(folder).items():
        cue = read_cue(path, audio)
        if cue is None:
            continue
        sampler = FrameSampler.from_settings(path, video, scorer.classifier.spec.image_size, config.batch_size)
        curves = score_videos({half: sampler}, scorer, progress, {half: f"fusion {folder.name[:24]} half {half}"})[half]
        events = label_map.half_events(spots, half, classes)
        halves.append(FusionHalf(curves.times, curves.probabilities, cue,
                                 half_targets(curves.times, events, classes, tuple(config.event_window)),
                                 folder.as_posix(), half))
    return halves


def average_map_of(fusion: Fusion, halves: list[FusionHalf], label_map: LabelMap,
                   smoother: SmootherSettings) -> dict[str, float]:
    """Loose average-mAP per class of the events ``smoother`` finds in the fused scores of ``halves``
    (classes without ground truth there are left out)."""
    truth: dict[str, list] = {}
    predicted: dict[str, list] = {}
    for h in halves:
        if h.game not in truth:
            truth[h.game], predicted[h.game] = read_labels(Path(h.game) / LABELS_FILE), []
        fused = fusion.apply(h.probabilities, h.times, h.cue)
        predicted[h.game] += soccernet_spots(find_events(h.times, fused, fusion.classes, smoother, h.half))
    return average_map(truth, predicted, label_map, "loose").per_class


def fit_on_games(classifier: HighlightClassifier, splits: dict[str, list[str]], label_map: LabelMap,
                 config: TrainSettings, video: VideoSettings, audio: AudioSettings, smoother: SmootherSettings,
                 device: torch.device, progress: Progress | None = None) -> Fusion | None:
    """The fusion fit on the train games' halves with audio, the val games' loose average-mAP (events as
    ``smoother`` finds them) choosing each class's penalty; or None with a one-line note where no train game has a
    half video with audio."""
    scorer = FrameScorer(classifier, device, "fp32")
    halves: dict[str, list[FusionHalf]] = {"train": [], "val": []}
    for split, folder in split_v2_games(config.data, splits):
        halves[split] += game_halves(folder, scorer, label_map, config, video, audio, progress)
    if not halves["train"]:
        log.warning("no train game has a half video with audio: no audio fusion in this checkpoint")
        return None
    score = (lambda fusion: average_map_of(fusion, halves["val"], label_map, smoother)) if halves["val"] else None
    return fit_fusion(list(classifier.spec.classes), halves["train"], audio, score)
