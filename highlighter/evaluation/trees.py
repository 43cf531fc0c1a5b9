"""Gather ground truth and predictions for evaluation by game: single files, game trees, or zips of trees."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable

from highlighter.labels import LabelMap
from highlighter.outputs.events import EVENTS_SUFFIXES, document_from_dict, is_soccernet_predictions
from highlighter.soccernet.files import (
    LABELS_FILE,
    PREDICTIONS_FILE,
    SoccerNetFormatError,
    Spot,
    parse_json,
    parse_predictions,
    read_json,
    read_labels,
    soccernet_spots,
)

SINGLE_GAME = "."


def _check_labels(spots: list[Spot], label_map: LabelMap, where: str, key: str) -> list[Spot]:
    for number, spot in enumerate(spots):
        try:
            label_map.class_of(spot.label)
        except KeyError:
            raise SoccerNetFormatError(f"{where}: {key}[{number}]: unknown label {spot.label!r}") from None
    return spots


EVENTS_SUFFIX = EVENTS_SUFFIXES["json"]


def read_any_predictions(path: Path) -> list[Spot]:
    """A results_spotting.json, or the events JSON that `highlight tag` writes (checked by the one events
    reader)."""
    data = read_json(path)
    if is_soccernet_predictions(data):
        return parse_predictions(data, str(path))
    return soccernet_spots(document_from_dict(data, str(path)).events)


def _load_by_game(path: Path, patterns: dict[str, str], reader: Callable[[Path], list[Spot]], key: str,
                  label_map: LabelMap) -> dict[str, list[Spot]]:
    """One file (game ``.``), or every file under a tree matching a pattern, keyed by its path relative
    to the tree with the pattern's suffix removed (``league/season/game``)."""
    if path.is_file():
        return {SINGLE_GAME: _check_labels(reader(path), label_map, str(path), key)}
    if not path.is_dir():
        raise SoccerNetFormatError(f"{path}: no such file or folder")
    games = {}
    for pattern, suffix in patterns.items():
        for file in sorted(path.rglob(pattern)):
            game = file.relative_to(path).as_posix()[: -len(suffix)].rstrip("/") or SINGLE_GAME
            games[game] = _check_labels(reader(file), label_map, str(file), key)
    if not games:
        raise SoccerNetFormatError(f"{path}: no {' or '.join(patterns)} found under this folder")
    return games


def load_truth(path: str | Path, label_map: LabelMap) -> dict[str, list[Spot]]:
    """Labels-v2.json annotations by game: one file (game ``.``) or every game folder under a tree."""
    return _load_by_game(Path(path), {LABELS_FILE: LABELS_FILE}, read_labels, "annotations", label_map)


def load_predictions(path: str | Path, label_map: LabelMap) -> dict[str, list[Spot]]:
    """Predictions by game: one results_spotting.json or events JSON, a tree of them (events files
    ``NAME.events.json`` count as game ``NAME``), or a zip of a results_spotting.json tree."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return _load_zipped_predictions(path, label_map)
    patterns = {PREDICTIONS_FILE: PREDICTIONS_FILE, f"*{EVENTS_SUFFIX}": EVENTS_SUFFIX}
    return _load_by_game(path, patterns, read_any_predictions, "predictions", label_map)


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
    """Predictions keyed like ``truth``, then the games with labels only and the games with predictions
    only. Games pair by relative path; a single labels file pairs with a single predictions file; a
    prediction left over pairs with the labelled game of the same folder name, if only one has it."""
    if set(truth) == {SINGLE_GAME} and len(predictions) == 1:
        predictions = {SINGLE_GAME: next(iter(predictions.values()))}
    by_name: dict[str, list[str]] = {}
    for game in truth:
        by_name.setdefault(PurePosixPath(game).name, []).append(game)
    paired = {}
    for game, spots in predictions.items():
        candidates = by_name.get(PurePosixPath(game).name, [])
        paired[game if game in truth or len(candidates) != 1 else candidates[0]] = spots
    return paired, sorted(set(truth) - set(paired)), sorted(set(paired) - set(truth))
