"""Gather ground truth and predictions for evaluation: single files, game trees, or zips of trees."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable

from highlighter.labels import LabelMap
from highlighter.soccernet import (
    LABELS_FILE,
    PREDICTIONS_FILE,
    SoccerNetFormatError,
    Spot,
    parse_json,
    parse_predictions,
    read_labels,
    read_predictions,
)

SINGLE_GAME = "."


def _check_labels(spots: list[Spot], label_map: LabelMap, where: str, key: str) -> list[Spot]:
    for number, spot in enumerate(spots):
        try:
            label_map.class_of(spot.label)
        except KeyError:
            raise SoccerNetFormatError(f"{where}: {key}[{number}]: unknown label {spot.label!r}") from None
    return spots


def _load_by_game(path: Path, file_name: str, reader: Callable[[Path], list[Spot]], key: str,
                  label_map: LabelMap) -> dict[str, list[Spot]]:
    """One file (game ``.``), or every ``file_name`` under a tree keyed by its folder's relative path."""
    if path.is_file():
        return {SINGLE_GAME: _check_labels(reader(path), label_map, str(path), key)}
    if not path.is_dir():
        raise SoccerNetFormatError(f"{path}: no such file or folder")
    games = {file.parent.relative_to(path).as_posix(): _check_labels(reader(file), label_map, str(file), key)
             for file in sorted(path.rglob(file_name))}
    if not games:
        raise SoccerNetFormatError(f"{path}: no {file_name} found under this folder")
    return games


def load_truth(path: str | Path, label_map: LabelMap) -> dict[str, list[Spot]]:
    """Labels-v2.json annotations by game: one file (game ``.``) or every game folder under a tree."""
    return _load_by_game(Path(path), LABELS_FILE, read_labels, "annotations", label_map)


def load_predictions(path: str | Path, label_map: LabelMap) -> dict[str, list[Spot]]:
    """results_spotting.json predictions by game: one file, a tree of game folders, or a zip of one."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return _load_zipped_predictions(path, label_map)
    return _load_by_game(path, PREDICTIONS_FILE, read_predictions, "predictions", label_map)


def _load_zipped_predictions(path: Path, label_map: LabelMap) -> dict[str, list[Spot]]:
    games = {}
    with zipfile.ZipFile(path) as archive:
        for member in sorted(archive.namelist()):
            if PurePosixPath(member).name != PREDICTIONS_FILE:
                continue
            where = f"{path}!{member}"
            spots = parse_predictions(parse_json(archive.read(member), where), where)
            games[PurePosixPath(member).parent.as_posix()] = _check_labels(spots, label_map, where, "predictions")
    if not games:
        raise SoccerNetFormatError(f"{path}: no {PREDICTIONS_FILE} inside this zip")
    return games


def pair_games(
    truth: dict[str, list[Spot]], predictions: dict[str, list[Spot]]
) -> tuple[dict[str, list[Spot]], list[str], list[str]]:
    """Predictions keyed like ``truth`` (a single labels file pairs with a single predictions file,
    whatever its folder), then the games with labels only and the games with predictions only."""
    if set(truth) == {SINGLE_GAME} and len(predictions) == 1:
        predictions = {SINGLE_GAME: next(iter(predictions.values()))}
    return predictions, sorted(set(truth) - set(predictions)), sorted(set(predictions) - set(truth))
