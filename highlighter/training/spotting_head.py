"""The head's data from a training run's games: every half video of the train and val games scored once with the
trained classifier (class probabilities and embeddings at ``video.fps``, kept in memory, so the head's epochs cost
seconds), the head fitted on the train halves and its peak threshold and NMS chosen on the val halves."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from rich.progress import Progress

from highlighter.evaluation.spotting import average_map
from highlighter.labels import BACKGROUND, LabelMap
from highlighter.model.classifier import HighlightClassifier
from highlighter.model.inference import FrameScorer
from highlighter.model.scoring_loop import score_videos
from highlighter.config.settings import TrainSettings, VideoSettings
from highlighter.soccernet.files import LABELS_FILE, Spot, read_labels
from highlighter.soccernet.games import half_videos, split_v2_games
from highlighter.spotting.fit import fit_head, tune_events
from highlighter.spotting.head import HeadConfig, HeadSequence, SpottingHead
from highlighter.video import FrameSampler

log = logging.getLogger(__name__)

#: (game folder, half, the half as the head reads it)
ScoredHalf = tuple[str, int, HeadSequence]


def scored_halves(folder: Path, scorer: FrameScorer, label_map: LabelMap, video: VideoSettings, batch_size: int,
                  progress: Progress | None = None) -> list[ScoredHalf]:
    """Every half video of one v2 game folder scored with ``scorer`` (which returns embeddings), with its events."""
    spots = read_labels(folder / LABELS_FILE)
    halves = []
    for half, path in half_videos(folder).items():
        sampler = FrameSampler.from_settings(path, video, scorer.classifier.spec.image_size, batch_size)
        curves = score_videos({half: sampler}, scorer, progress, {half: f"head {folder.name[:24]} half {half}"})[half]
        events = label_map.half_events(spots, half, scorer.classes)
        halves.append((folder.as_posix(), half, HeadSequence(curves.times, curves.features, curves.probabilities,
                                                             events=events)))
    return halves


def spotting_score(halves: list[ScoredHalf], label_map: LabelMap):
    """The figure the head's threshold and NMS are chosen by: loose plus tight average-mAP on ``halves``' games."""
    truth = {game: read_labels(Path(game) / LABELS_FILE) for game, _, _ in halves}

    def score(predicted: dict[str, list[Spot]]) -> float:
        return sum(average_map(truth, predicted, label_map, metric).average_map for metric in ("loose", "tight"))

    return score


def fit_on_games(classifier: HighlightClassifier, splits: dict[str, list[str]], label_map: LabelMap,
                 config: TrainSettings, video: VideoSettings, device: torch.device,
                 progress: Progress | None = None, head_config: HeadConfig | None = None) -> SpottingHead | None:
    """The spotting head fitted on the train games' half videos (seeded with ``config.seed``), its threshold and NMS
    chosen on the val games'; None with a one-line note where no train game has a half video."""
    scorer = FrameScorer(classifier, device, "fp32", features=True)
    halves: dict[str, list[ScoredHalf]] = {"train": [], "val": []}
    for split, folder in split_v2_games(config.data, splits):
        halves[split] += scored_halves(folder, scorer, label_map, video, config.batch_size, progress)
    if not halves["train"]:
        log.warning("no train game has a half video: no spotting head in this checkpoint")
        return None
    classes = [c for c in scorer.classes if c != BACKGROUND]
    head = fit_head([s for _, _, s in halves["train"]], classes, video.fps,
                    head_config or HeadConfig(seed=config.seed))
    if not halves["val"]:
        return head
    return tune_events(head, halves["val"], spotting_score(halves["val"], label_map))
