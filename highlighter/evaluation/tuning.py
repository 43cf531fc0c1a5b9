"""Tune the smoother on validation games: the settings that maximise SoccerNet average-mAP."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError
from highlighter.evaluation.spotting import average_map
from highlighter.soccernet.files import soccernet_spots
from highlighter.labels import LabelMap
from highlighter.config.settings import SmootherSettings, TuneSettings, load_settings
from highlighter.tagging.smoothing import find_events
from highlighter.soccernet.files import Spot
from highlighter.soccernet.trees import load_truth

@dataclass
class GameScores:
    """The score curves of one game (or video), half by half."""

    name: str
    classes: list[str]
    halves: list[tuple[int, np.ndarray, np.ndarray]]  # (half, times, probabilities)


def read_score_files(folder: str | Path) -> list[GameScores]:
    """Every ``*.scores.npz`` written by ``highlight tag --scores`` under ``folder``."""
    games = []
    for path in sorted(Path(folder).rglob("*.scores.npz")):
        with np.load(path) as data:
            halves = [(int(h) or 1, data["times"][data["half"] == h], data["probabilities"][data["half"] == h])
                      for h in np.unique(data["half"])]
            games.append(GameScores(Path(str(data["source"])).name, [str(c) for c in data["classes"]], halves))
    if not games:
        raise HighlighterError(f"{folder}: no *.scores.npz files (write them with `highlight tag --scores x.npz`)")
    return games


def predictions_for(games: list[GameScores], params: SmootherSettings) -> dict[str, list[Spot]]:
    """SoccerNet predictions of every game under ``params``."""
    return {game.name: soccernet_spots([event for half, times, probabilities in game.halves
                                        for event in find_events(times, probabilities, game.classes, params, half)])
            for game in games}


def tune_smoother(scores_folder: str | Path, labels_root: str | Path, label_map: LabelMap,
                  grid: TuneSettings) -> list[tuple[SmootherSettings, float]]:
    """Every setting of ``grid`` with its average-mAP (``grid.metric``) on the games found in both
    folders, best first. Candidates leave ``low_threshold`` unset (half the threshold, the smoother's own
    rule). Score files pair with labelled games by the game folder's name."""
    games = read_score_files(scores_folder)
    truth_by_path = load_truth(labels_root, label_map)
    truth = {Path(path).name: spots for path, spots in truth_by_path.items()}
    games = [g for g in games if g.name in truth]
    if not games:
        raise HighlighterError(f"no score file in {scores_folder} matches a game folder name under {labels_root}")
    truth = {g.name: truth[g.name] for g in games}
    results = []
    for window, threshold, nms in itertools.product(grid.window_s, grid.threshold, grid.nms_s):
        params = SmootherSettings(window_s=window, threshold=threshold, low_threshold=None, nms_s={"default": nms})
        results.append((params, average_map(truth, predictions_for(games, params), label_map, grid.metric).average_map))
    return sorted(results, key=lambda item: -item[1])


def write_tuned_config(params: SmootherSettings, path: str | Path) -> None:
    """Save ``params`` as a config file (its ``smoother`` block) for ``highlight --config FILE tag``. The
    NMS window is written for every class the shipped settings name too, so none of their per-class
    values survives the overlay: tag then smooths exactly as the tuning scored."""
    shipped = load_settings().smoother.nms_s
    nms = {key: params.nms_for(key) for key in {"default", *shipped, *params.nms_s}}
    block = {"window_s": params.window_s, "threshold": params.threshold, "low_threshold": params.low_threshold,
             "nms_s": dict(sorted(nms.items()))}
    with atomic_write(path) as handle:
        yaml.safe_dump({"smoother": block}, handle, sort_keys=False)
