"""Tune the smoother on validation games: the settings that maximise SoccerNet average-mAP."""

from __future__ import annotations

import itertools
from pathlib import Path

import yaml

from highlighter.atomic import atomic_write
from highlighter.errors import HighlighterError
from highlighter.evaluation.spotting import average_map
from highlighter.soccernet.files import soccernet_spots
from highlighter.labels import LabelMap
from highlighter.outputs.scores import ScoresFile, read_scores
from highlighter.config.settings import SmootherSettings, TuneSettings
from highlighter.tagging.smoothing import find_events
from highlighter.soccernet.files import Spot
from highlighter.evaluation.trees import load_truth

def read_score_files(folder: str | Path) -> dict[str, ScoresFile]:
    """Every ``*.scores.npz`` written by ``highlight tag --scores`` under ``folder``, by its game's (or video's)
    name."""
    games = {Path(scores.source).name: scores for scores in map(read_scores, sorted(Path(folder).rglob("*.scores.npz")))}
    if not games:
        raise HighlighterError(f"{folder}: no *.scores.npz files (write them with `highlight tag --scores x.npz`)")
    return games


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
    games = read_score_files(scores_folder)
    truth_by_path = load_truth(labels_root, label_map)
    truth = {Path(path).name: spots for path, spots in truth_by_path.items()}
    games = {name: scores for name, scores in games.items() if name in truth}
    if not games:
        raise HighlighterError(f"no score file in {scores_folder} matches a game folder name under {labels_root}")
    truth = {name: truth[name] for name in games}
    results = []
    for window, threshold, nms in itertools.product(grid.window_s, grid.threshold, grid.nms_s):
        params = SmootherSettings(window_s=window, threshold=threshold, low_threshold=None, nms_s={"default": nms})
        results.append((params, average_map(truth, predictions_for(games, params), label_map, grid.metric).average_map))
    return sorted(results, key=lambda item: -item[1])


def write_tuned_config(params: SmootherSettings, base: SmootherSettings, path: str | Path) -> None:
    """Save ``params`` as a config file (its ``smoother`` block) for ``highlight --config FILE tag``. The
    NMS window is written for every class the ``base`` settings (those the file is laid over) name too, so none
    of their per-class values survives the overlay: tag then smooths exactly as the tuning scored."""
    nms = {key: params.nms_for(key) for key in {"default", *base.nms_s, *params.nms_s}}
    block = {"window_s": params.window_s, "threshold": params.threshold, "low_threshold": params.low_threshold,
             "nms_s": dict(sorted(nms.items()))}
    with atomic_write(path) as handle:
        yaml.safe_dump({"smoother": block}, handle, sort_keys=False)
