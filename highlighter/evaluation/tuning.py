"""Tune on validation games: the smoother settings, and the spotting head's peak threshold and NMS window, that
maximise SoccerNet average-mAP."""

from __future__ import annotations

import itertools
from pathlib import Path

import yaml

from highlighter.atomic import atomic_write
from highlighter.config.settings import SmootherSettings, TuneSettings
from highlighter.errors import HighlighterError
from highlighter.evaluation.spotting import average_map
from highlighter.evaluation.trees import load_truth
from highlighter.labels import BACKGROUND, LabelMap
from highlighter.outputs.scores import ScoresFile, read_scores
from highlighter.soccernet.files import Spot, soccernet_spots
from highlighter.spotting.fit import NMS_WINDOWS, THRESHOLDS
from highlighter.spotting.peaks import pick_events
from highlighter.spotting.smoother import find_events


def read_score_files(folder: str | Path) -> dict[str, ScoresFile]:
    """Every ``*.scores.npz`` written by ``highlight tag --scores`` under ``folder``, by its game's (or video's)
    name."""
    games = {Path(scores.source).name: scores for scores in map(read_scores, sorted(Path(folder).rglob("*.scores.npz")))}
    if not games:
        raise HighlighterError(f"{folder}: no *.scores.npz files (write them with `highlight tag --scores x.npz`)")
    return games


def paired_games(scores_folder: str | Path, labels_root: str | Path,
                 label_map: LabelMap) -> tuple[dict[str, ScoresFile], dict[str, list[Spot]]]:
    """The score files under ``scores_folder`` and the truth of their games under ``labels_root`` (paired by the
    game folder's name)."""
    games = read_score_files(scores_folder)
    truth = {Path(path).name: spots for path, spots in load_truth(labels_root, label_map).items()}
    games = {name: scores for name, scores in games.items() if name in truth}
    if not games:
        raise HighlighterError(f"no score file in {scores_folder} matches a game folder name under {labels_root}")
    return games, {name: truth[name] for name in games}


def predictions_for(games: dict[str, ScoresFile], params: SmootherSettings) -> dict[str, list[Spot]]:
    """SoccerNet predictions of every game under ``params`` (a single video's events count as half 1)."""
    return {name: soccernet_spots([event for half, c in scores.curves
                                   for event in find_events(c.times, c.probabilities, c.classes, params, half)])
            for name, scores in games.items()}


def tune_smoother(scores_folder: str | Path, labels_root: str | Path, label_map: LabelMap,
                  grid: TuneSettings) -> list[tuple[SmootherSettings, float]]:
    """Every setting of ``grid`` with its average-mAP (``grid.metric``) on the games found in both
    folders, best first. Candidates leave ``low_threshold`` unset (half the threshold, the smoother's own
    rule). Score files pair with labelled games by the game folder's name."""
    games, truth = paired_games(scores_folder, labels_root, label_map)
    results = []
    for window, threshold, nms in itertools.product(grid.window_s, grid.threshold, grid.nms_s):
        params = SmootherSettings(window_s=window, threshold=threshold, low_threshold=None, nms_s={"default": nms})
        results.append((params, average_map(truth, predictions_for(games, params), label_map, grid.metric).average_map))
    return sorted(results, key=lambda item: -item[1])


def tune_head(scores_folder: str | Path, labels_root: str | Path, label_map: LabelMap,
              grid: TuneSettings) -> list[tuple[float, float, float]]:
    """(threshold, NMS window, average-mAP) of the spotting head's peak picking for every pair of the head's grid
    (``highlighter.spotting.fit``), best first, on the score files a head tagged (empty where none did)."""
    games, truth = paired_games(scores_folder, labels_root, label_map)
    games = {name: scores for name, scores in games.items() if all(c.spotting is not None for _, c in scores.curves)}
    results = []
    for threshold, nms in itertools.product(THRESHOLDS, NMS_WINDOWS):
        predicted = {}
        for name, scores in games.items():
            events = []
            for half, c in scores.curves:
                classes = [cls for cls in c.classes if cls != BACKGROUND]
                events += pick_events(c.times, c.spotting[:, :len(classes)], c.spotting[:, len(classes):], classes,
                                      threshold, {"default": nms}, scores.fps, half)
            predicted[name] = soccernet_spots(events)
        if games:
            results.append((threshold, nms, average_map({name: truth[name] for name in games}, predicted, label_map,
                                                        grid.metric).average_map))
    return sorted(results, key=lambda item: -item[2])


def write_tuned_config(params: SmootherSettings, base: SmootherSettings, path: str | Path,
                       head: tuple[float, float] | None = None) -> None:
    """Save ``params`` as a config file (its ``smoother`` block; with ``head``, the head's peak threshold and NMS
    window in the ``tag`` block) for ``highlight --config FILE tag``. The NMS window is written for every class the
    ``base`` settings (those the file is laid over) name too, so none of their per-class values survives the
    overlay: tag then smooths exactly as the tuning scored."""
    nms = {key: params.nms_for(key) for key in {"default", *base.nms_s, *params.nms_s}}
    block = {"window_s": params.window_s, "threshold": params.threshold, "low_threshold": params.low_threshold,
             "nms_s": dict(sorted(nms.items()))}
    head_block = {"tag": {"head_min_peak": head[0], "head_nms_s": head[1]}} if head else {}
    with atomic_write(path) as handle:
        yaml.safe_dump({"smoother": block, **head_block}, handle, sort_keys=False)
