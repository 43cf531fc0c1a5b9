"""What a checkpoint was trained on (synthetic or SoccerNet games, how many, which classes), and how a video
or a game made by `highlight synth` is recognised, so a model trained on drawings is not taken at its word on
real footage.

A synthetic half video carries the container comment :data:`SYNTHETIC_COMMENT` (kept by a remux to MP4 or
MKV); a synthetic game's ``Labels-v2.json`` and ``Labels-v3.json`` (``GameMetadata``) carry
``"highlighterSynthetic": true``. A checkpoint records the result as ``trained_on`` in its metadata
(``highlighter.json``); a checkpoint written before has none, and loads as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from highlighter.limits import MAX_CLASSES
from highlighter.config.schema import Between, FileRecord, OneLine, Size

log = logging.getLogger(__name__)

SYNTHETIC_COMMENT = "synthetic game written by highlight synth"
#: the key of a synthetic game's labels files
SYNTHETIC_KEY = "highlighterSynthetic"
MAX_GAMES = 1_000_000
Games = Annotated[int, Between(0, MAX_GAMES)]


@dataclass(frozen=True)
class TrainedOn(FileRecord):
    """A checkpoint's training data: whose games (``synthetic``, ``soccernet`` or ``mixed``), how many in each
    split, how many of them synthetic, and the classes it learned."""

    data: Literal["synthetic", "soccernet", "mixed"]
    train_games: Games
    val_games: Games
    test_games: Games
    synthetic_games: Games
    classes: Annotated[list[OneLine], Size(1, MAX_CLASSES)]

    def describe(self) -> str:
        """``synthetic games (4 train, 1 val, 1 test): background, goal, card, substitution``."""
        source = {"synthetic": "synthetic games", "soccernet": "SoccerNet games",
                  "mixed": f"SoccerNet and synthetic games ({self.synthetic_games} synthetic)"}[self.data]
        return (f"{source} ({self.train_games} train, {self.val_games} val, {self.test_games} test): "
                f"{', '.join(self.classes)}")


def game_is_synthetic(folder: Path) -> bool:
    """Whether a SoccerNet game folder was written by `highlight synth` (its labels files say so)."""
    from highlighter.soccernet.files import LABELS_FILE, V3_LABELS, read_json

    for name, where in ((LABELS_FILE, ()), (V3_LABELS, ("GameMetadata",))):
        path = folder / name
        if path.is_file():
            document = read_json(path)
            for key in where:
                document = document.get(key, {}) if isinstance(document, dict) else {}
            return isinstance(document, dict) and document.get(SYNTHETIC_KEY) is True
    return False


def trained_on(summary: dict[str, dict], roots: list[str | Path], classes: list[str]) -> TrainedOn:
    """The ``trained_on`` record of a training run: its split ``summary`` (games per split, named by their path
    under one of the data ``roots``) and its classes."""
    games = sorted({game for split in summary.values() for game in split["game_list"]})
    synthetic = sum(any(game_is_synthetic(Path(root) / game) for root in roots if (Path(root) / game).is_dir())
                    for game in games)
    data = "synthetic" if synthetic == len(games) else "soccernet" if synthetic == 0 else "mixed"
    return TrainedOn(data, *(len(summary.get(split, {}).get("game_list", [])) for split in ("train", "val", "test")),
                     synthetic, list(classes))


def video_is_synthetic(path: Path) -> bool:
    """Whether a video carries the comment `highlight synth` writes (read from the container's header)."""
    from highlighter.video.probe import open_container

    with open_container(path) as container:
        return any(key.lower() == "comment" and value == SYNTHETIC_COMMENT for key, value in container.metadata.items())


def warn_if_real_footage(trained: TrainedOn | None, source: Path, videos: list[Path]) -> str | None:
    """A warning (logged, and returned) when a checkpoint trained on synthetic games only tags ``videos`` that
    are not synthetic: its confidences there mean little."""
    if trained is None or trained.data != "synthetic" or all(video_is_synthetic(v) for v in videos):
        return None
    message = (f"{source}: this checkpoint was trained on synthetic games only ({trained.describe()}); on real "
               "footage its events and confidences mean little (train on SoccerNet games: README, "
               "'Your first real match')")
    log.warning("%s", message)
    return message
