"""SoccerNet-v3 action and replay frames: Labels-v3.json + Frames-v3.zip, read without extracting."""

from __future__ import annotations

import zipfile
from pathlib import Path

from highlighter.soccernet.records import FrameRecord
from highlighter.errors import HighlighterError
from highlighter.soccernet.files import V3_FRAMES, V3_LABELS, SoccerNetFormatError, read_json

def read_v3_game(folder: Path, game: str) -> list[FrameRecord]:
    """Records for every action and replay frame of a game; replays carry their linked action's label.

    Names come from the JSON links (``linked_replays`` / ``linked_action``), never from counters.
    """
    labels_path, zip_path = folder / V3_LABELS, folder / V3_FRAMES
    data = read_json(labels_path)
    if not isinstance(data, dict) or not isinstance(data.get("actions"), dict):
        raise SoccerNetFormatError(f"{labels_path}: expected an object with 'actions'")
    replays = data.get("replays") or {}
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise HighlighterError(f"{zip_path}: unreadable zip ({exc})") from None
    records = []
    for name, action in data["actions"].items():
        try:
            label = action["imageMetadata"]["label"]
        except (KeyError, TypeError):
            raise SoccerNetFormatError(f"{labels_path}: actions[{name!r}] has no imageMetadata.label") from None
        if name not in members:
            raise SoccerNetFormatError(f"{labels_path}: action {name!r} is not in {zip_path.name}")
        meta = action["imageMetadata"]
        records.append(FrameRecord(game, label, "v3-action", str(zip_path), name, _seconds(meta), meta.get("half")))
        for replay_name in action.get("linked_replays", []):
            replay = replays.get(replay_name)
            if replay is None or replay.get("linked_action") != name:
                raise SoccerNetFormatError(f"{labels_path}: replay {replay_name!r} does not link back to {name!r}")
            if replay_name not in members:
                raise SoccerNetFormatError(f"{labels_path}: replay {replay_name!r} is not in {zip_path.name}")
            records.append(FrameRecord(game, label, "v3-replay", str(zip_path), replay_name,
                                       _seconds(replay.get("imageMetadata", {})), meta.get("half")))
    return records


def _seconds(meta: dict) -> float | None:
    position = meta.get("position")
    return float(position) / 1000 if isinstance(position, (int, float)) else None
