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
from highlighter.settings import SmootherSettings, TuneSettings, load_settings
from highlighter.smooth import find_events
from highlighter.soccernet.files import Spot
from highlighter.soccernet.trees import load_truth

@dataclass
class GameScores:
    """The score curves of one game (or video), half by half."""

    name: str
    classes: list[str]
    halves: list[tuple[int, np.ndarray, np.ndarray]]  # (half, times, probabilities)
    spotting: dict[int, np.ndarray] | None = None  # per half the spotting head's output, where a head tagged
    fps: float | None = None  # the head's sample rate


def read_score_files(folder: str | Path) -> list[GameScores]:
    """Every ``*.scores.npz`` written by ``highlight tag --scores`` under ``folder``."""
    games = []
    for path in sorted(Path(folder).rglob("*.scores.npz")):
        with np.load(path) as data:
            halves = [(int(h) or 1, data["times"][data["half"] == h], data["probabilities"][data["half"] == h])
                      for h in np.unique(data["half"])]
            spotting = ({int(h) or 1: data["spotting"][data["half"] == h] for h in np.unique(data["half"])}
                        if "spotting" in data.files else None)
            games.append(GameScores(Path(str(data["source"])).name, [str(c) for c in data["classes"]], halves,
                                    spotting, float(data["fps"]) if spotting is not None else None))
    if not games:
        raise HighlighterError(f"{folder}: no *.scores.npz files (write them with `highlight tag --scores x.npz`)")
    return games


def predictions_for(games: list[GameScores], params: SmootherSettings) -> dict[str, list[Spot]]:
    """SoccerNet predictions of every game under ``params``."""
    return {game.name: soccernet_spots([event for half, times, probabilities in game.halves
                                        for event in find_events(times, probabilities, game.classes, params, half)])
            for game in games}


def paired_games(scores_folder: str | Path, labels_root: str | Path,
                 label_map: LabelMap) -> tuple[list[GameScores], dict[str, list[Spot]]]:
    """The score files under ``scores_folder`` and the truth of their games under ``labels_root`` (paired by the
    game folder's name)."""
    games = read_score_files(scores_folder)
    truth_by_path = load_truth(labels_root, label_map)
    truth = {Path(path).name: spots for path, spots in truth_by_path.items()}
    games = [g for g in games if g.name in truth]
    if not games:
        raise HighlighterError(f"no score file in {scores_folder} matches a game folder name under {labels_root}")
    return games, {g.name: truth[g.name] for g in games}


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
    from highlighter.labels import BACKGROUND
    from highlighter.spotting.fit import NMS_WINDOWS, THRESHOLDS
    from highlighter.spotting.peaks import pick_events

    games, truth = paired_games(scores_folder, labels_root, label_map)
    games = [g for g in games if g.spotting is not None]
    results = []
    for threshold, nms in itertools.product(THRESHOLDS, NMS_WINDOWS):
        predicted = {}
        for game in games:
            classes = [c for c in game.classes if c != BACKGROUND]
            predicted[game.name] = soccernet_spots([
                event for half, times, _ in game.halves for event in pick_events(
                    times, game.spotting[half][:, :len(classes)], game.spotting[half][:, len(classes):], classes,
                    threshold, {"default": nms}, game.fps, half)])
        if games:
            results.append((threshold, nms, average_map({g.name: truth[g.name] for g in games}, predicted, label_map,
                                                        grid.metric).average_map))
    return sorted(results, key=lambda item: -item[2])


def write_tuned_config(params: SmootherSettings, path: str | Path, head: tuple[float, float] | None = None) -> None:
    """Save ``params`` as a config file (its ``smoother`` block; with ``head``, its peak threshold and NMS window
    in the ``tag`` block) for ``highlight --config FILE tag``. The
    NMS window is written for every class the shipped settings name too, so none of their per-class
    values survives the overlay: tag then smooths exactly as the tuning scored."""
    shipped = load_settings().smoother.nms_s
    nms = {key: params.nms_for(key) for key in {"default", *shipped, *params.nms_s}}
    block = {"window_s": params.window_s, "threshold": params.threshold, "low_threshold": params.low_threshold,
             "nms_s": dict(sorted(nms.items()))}
    with atomic_write(path) as handle:
        head_block = {"tag": {"head_min_peak": head[0], "head_nms_s": head[1]}} if head else {}
        yaml.safe_dump({"smoother": block, **head_block}, handle, sort_keys=False)
