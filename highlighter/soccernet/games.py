"""SoccerNet game folders: ``<league>/<season>/<game>/`` with half videos (``1_224p.mkv``, ``2_224p.mkv``,
or ``_720p``) and Labels-v2.json, and/or Labels-v3.json with Frames-v3.zip."""

from __future__ import annotations

import re
from pathlib import Path

from highlighter.soccernet.files import LABELS_FILE, V3_LABELS

_HALF_VIDEO = re.compile(r"^([12])_(\d+p|[^.]*)\.(mkv|mp4|avi|mov)$")


def half_video_name(half: int, height: int) -> str:
    """The file name SoccerNet gives a half video, e.g. ``1_224p.mkv``."""
    return f"{half}_{height}p.mkv"


def half_videos(folder: Path) -> dict[int, Path]:
    """The half videos of a game folder (``1_224p.mkv``, ``2_720p.mkv``, ...), preferring 224p."""
    found: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        match = _HALF_VIDEO.match(path.name)
        if match and (int(match.group(1)) not in found or match.group(2) == "224p"):
            found[int(match.group(1))] = path
    return found


def find_v2_games(root: str | Path) -> list[Path]:
    """Game folders under ``root`` with Labels-v2.json and at least one half video."""
    return sorted(p.parent for p in Path(root).rglob(LABELS_FILE) if half_videos(p.parent))


def split_v2_games(roots: list[str], splits: dict[str, list[str]],
                   wanted: tuple[str, ...] = ("train", "val")) -> list[tuple[str, Path]]:
    """(split, folder) of every v2 game folder under ``roots`` that one of the ``wanted`` splits names (games are
    named by their folder relative to its root, as a training run's splits record them)."""
    split_of = {name: split for split in wanted for name in splits.get(split, [])}
    found = []
    for root in map(Path, roots):
        for folder in find_v2_games(root):
            split = split_of.get(folder.relative_to(root).as_posix())
            if split is not None:
                found.append((split, folder))
    return found


def find_v3_games(root: str | Path) -> list[Path]:
    """Game folders under ``root`` holding Labels-v3.json."""
    return sorted(path.parent for path in Path(root).rglob(V3_LABELS))
