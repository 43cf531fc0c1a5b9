"""Find games, split them, and serve their images to PyTorch."""

from __future__ import annotations

import logging
import os
import zipfile
from collections import Counter
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
from rich.progress import Progress

from highlighter.soccernet.records import FrameRecord
from highlighter.data.soccernet_v2 import VideoFrameSettings, read_v2_game
from highlighter.soccernet.games import find_v2_games
from highlighter.soccernet.games import find_v3_games
from highlighter.soccernet.v3 import read_v3_game
from highlighter.errors import HighlighterError
from highlighter.labels import BACKGROUND, SOCCERNET_V2_LABELS, LabelMap

log = logging.getLogger(__name__)


def collect_records(roots: list[str | Path], label_map: LabelMap, video_settings: VideoFrameSettings,
                    cache_dir: Path, progress: Progress | None = None) -> list[FrameRecord]:
    """Every labelled image under ``roots``: v3 frames where a game has them, v2 video frames where it
    has half videos (both when it has both). Games are named by their path under their root."""
    records: list[FrameRecord] = []
    for root in map(Path, roots):
        if not root.is_dir():
            raise HighlighterError(f"{root}: no such data folder")
        v3 = {folder: folder.relative_to(root).as_posix() for folder in find_v3_games(root)}
        v2 = {folder: folder.relative_to(root).as_posix() for folder in find_v2_games(root)}
        if not v3 and not v2:
            raise HighlighterError(f"{root}: no SoccerNet games found (Labels-v3.json + Frames-v3.zip, or "
                                   "Labels-v2.json + half videos)")
        for folder, game in v3.items():
            records += read_v3_game(folder, game)
        for folder, game in v2.items():
            records += read_v2_game(folder, game, label_map, video_settings, cache_dir, progress)
    return _drop_unknown(records)


def _drop_unknown(records: list[FrameRecord]) -> list[FrameRecord]:
    unknown = Counter(r.label for r in records if r.label != BACKGROUND and r.label not in SOCCERNET_V2_LABELS)
    if unknown:
        listed = ", ".join(f"{label!r} x{count}" for label, count in unknown.most_common())
        log.warning("skipped images with labels that are not SoccerNet-v2 labels: %s", listed)
    return [r for r in records if r.label == BACKGROUND or r.label in SOCCERNET_V2_LABELS]


def class_of_record(record: FrameRecord, label_map: LabelMap) -> str:
    """The training class of a record: its mapped class, or background."""
    if record.label == BACKGROUND:
        return BACKGROUND
    return label_map.class_of(record.label) or BACKGROUND


def split_games(games: list[str], ratios: tuple[float, float, float], seed: int) -> dict[str, list[str]]:
    """A seeded split of games into train / val / test (by game, never by image). With three games or
    more, val and test get at least one each."""
    shuffled = sorted(set(games))
    np.random.default_rng(seed).shuffle(shuffled)
    total = len(shuffled)
    n_val = round(total * ratios[1] / sum(ratios))
    n_test = round(total * ratios[2] / sum(ratios))
    if total >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    n_train = total - n_val - n_test
    if n_train < 1:
        raise HighlighterError(f"{total} games cannot be split into train/val/test; add games or change ratios")
    return {"train": sorted(shuffled[:n_train]), "val": sorted(shuffled[n_train:n_train + n_val]),
            "test": sorted(shuffled[n_train + n_val:])}


class ImageStore:
    """Reads a record's pixels: zip members through one open ZipFile per file and process, cached
    arrays memory-mapped."""

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._zips: dict[str, zipfile.ZipFile] = {}
        self._arrays: dict[str, np.ndarray] = {}

    def load(self, record: FrameRecord) -> np.ndarray:
        """RGB uint8 image of ``record``."""
        if os.getpid() != self._pid:  # a DataLoader worker: handles do not survive fork
            self.__init__()
        if record.store.endswith(".npy"):
            if record.store not in self._arrays:
                self._arrays[record.store] = np.load(record.store, mmap_mode="r")
            return np.asarray(self._arrays[record.store][int(record.key)])
        if record.store not in self._zips:
            self._zips[record.store] = zipfile.ZipFile(record.store)
        data = np.frombuffer(self._zips[record.store].read(str(record.key)), np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if image is None:
            raise HighlighterError(f"{record.store}: {record.key} is not a readable image")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class FrameDataset(torch.utils.data.Dataset):
    """(image tensor, class index) pairs for records."""

    def __init__(self, records: list[FrameRecord], label_map: LabelMap, classes: list[str],
                 transform: Callable[[np.ndarray], torch.Tensor]) -> None:
        self.records = records
        self.targets = [classes.index(class_of_record(r, label_map)) for r in records]
        self.transform = transform
        self.store = ImageStore()

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.transform(self.store.load(self.records[index])), self.targets[index]
