"""SoccerNet's file names, and readers and writers for its action-spotting JSON: Labels-v2.json and
results_spotting.json."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from highlighter import jsonfile
from highlighter.errors import HighlighterError
from highlighter.limits import MAX_MEDIA_S

LABELS_FILE = "Labels-v2.json"
PREDICTIONS_FILE = "results_spotting.json"
V3_LABELS = "Labels-v3.json"
V3_FRAMES = "Frames-v3.zip"
#: SoccerNet label written for each highlight class in results_spotting.json, and back
SOCCERNET_NAMES = {"goal": "Goal", "card": "Card", "substitution": "Substitution"}
CLASS_OF_SOCCERNET_NAME = {name: cls for cls, name in SOCCERNET_NAMES.items()}

_GAME_TIME = re.compile(r"^\s*([12])\s*-\s*(\d+):(\d\d)\s*$")


class SoccerNetFormatError(HighlighterError):
    """A SoccerNet JSON file is malformed or holds an invalid entry."""


@dataclass(frozen=True)
class Spot:
    """One annotated or predicted event: a label at a position (ms) in half 1 or 2."""

    half: int
    position_ms: int
    label: str
    confidence: float = 1.0  # predictions only
    visible: bool = True  # annotations only: False for "not shown" (the action happened off screen)


def game_time(half: int, position_ms: int) -> str:
    """SoccerNet's ``"H - MM:SS"`` for a position in a half."""
    seconds = int(position_ms // 1000)
    return f"{half} - {seconds // 60:02d}:{seconds % 60:02d}"


def read_json(path: str | Path) -> Any:
    """Parse a JSON file with a one-line error naming the file and the place it breaks (strict: see
    ``highlighter.jsonfile``)."""
    return jsonfile.read_json(path, SoccerNetFormatError)


def parse_json(data: bytes, where: str) -> Any:
    """Parse JSON bytes read from ``where`` (a file, or a zip member), with a one-line error."""
    return jsonfile.parse_json(data, where, SoccerNetFormatError)


def _entries(data: Any, key: str, where: str) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise SoccerNetFormatError(f"{where}: expected an object with a list {key!r}")
    for number, entry in enumerate(data[key]):
        if not isinstance(entry, dict):
            raise SoccerNetFormatError(f"{where}: {key}[{number}] is not an object")
    return data[key]


def _position(entry: dict, where: str) -> int:
    value = entry.get("position")
    try:
        position = float(value)
    except (TypeError, ValueError):
        raise SoccerNetFormatError(f"{where}: position {value!r} is not a number of milliseconds") from None
    if position < 0:
        raise SoccerNetFormatError(f"{where}: position {value!r} is negative")
    if not position <= MAX_MEDIA_S * 1000:  # NaN fails this too
        raise SoccerNetFormatError(f"{where}: position {value!r} is not a number of ms up to {MAX_MEDIA_S * 1000:.0f}")
    return int(position)


def _label(entry: dict, where: str) -> str:
    label = entry.get("label")
    if not isinstance(label, str) or not label:
        raise SoccerNetFormatError(f"{where}: missing label")
    return label


def read_labels(path: str | Path) -> list[Spot]:
    """The annotations of a Labels-v2.json (half from ``gameTime``, ``position`` in ms)."""
    return parse_labels(read_json(path), str(path))


def parse_labels(data: Any, where: str) -> list[Spot]:
    """The annotations of a parsed Labels-v2.json document."""
    spots = []
    for number, entry in enumerate(_entries(data, "annotations", where)):
        at = f"{where}: annotations[{number}]"
        match = _GAME_TIME.match(str(entry.get("gameTime", "")))
        if match is None:
            raise SoccerNetFormatError(f"{at}: gameTime {entry.get('gameTime')!r} is not 'H - MM:SS' with H 1 or 2")
        visible = entry.get("visibility", "visible") != "not shown"
        spots.append(Spot(int(match.group(1)), _position(entry, at), _label(entry, at), visible=visible))
    return spots


def read_predictions(path: str | Path) -> list[Spot]:
    """The predictions of a results_spotting.json (``half``, ``position`` ms, ``confidence`` in [0, 1])."""
    return parse_predictions(read_json(path), str(path))


def parse_predictions(data: Any, where: str) -> list[Spot]:
    """The predictions of a parsed results_spotting.json document."""
    spots = []
    for number, entry in enumerate(_entries(data, "predictions", where)):
        at = f"{where}: predictions[{number}]"
        half = str(entry.get("half", "")).strip()
        if half not in ("1", "2"):
            raise SoccerNetFormatError(f"{at}: half {entry.get('half')!r} is not 1 or 2")
        value = entry.get("confidence")
        try:
            confidence = float(value)
        except (TypeError, ValueError):
            raise SoccerNetFormatError(f"{at}: confidence {value!r} is not a number") from None
        if not 0.0 <= confidence <= 1.0:
            raise SoccerNetFormatError(f"{at}: confidence {value!r} is outside [0, 1]")
        spots.append(Spot(int(half), _position(entry, at), _label(entry, at), confidence=confidence))
    return spots


def predictions_json(game: str, spots: list[Spot]) -> dict:
    """A results_spotting.json document, with strings where the official evaluator has them."""
    return {
        "UrlLocal": game,
        "predictions": [
            {"gameTime": game_time(s.half, s.position_ms), "label": s.label, "position": str(s.position_ms),
             "half": str(s.half), "confidence": f"{s.confidence:.6f}"}
            for s in spots
        ],
    }


def soccernet_spots(events: list) -> list[Spot]:
    """Events (``highlighter.outputs.events.Event``) as SoccerNet predictions: the official files' label names,
    positions in ms from each half's start (a single video counts as half 1)."""
    return [Spot(e.half or 1, int(round(e.time_s * 1000)), SOCCERNET_NAMES.get(e.label, e.label),
                 confidence=e.confidence) for e in events]
