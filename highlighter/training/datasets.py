"""The images a run trains and validates on: records of every game under the data roots, split by game
(never by image), wrapped as datasets with the model's own preprocessing, and served by loaders
(class-balanced sampling, sharding across data-parallel ranks, worker processes on GPUs)."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress

from highlighter.data.dataset import FrameDataset, collect_records, split_games
from highlighter.data.soccernet_v2 import frame_settings
from highlighter.errors import HighlighterError
from highlighter.labels import LabelMap
from highlighter.model.classifier import ClassifierSpec
from highlighter.model.preprocess import Preprocess
from highlighter.config.settings import TrainSettings, VideoSettings


@dataclass
class TrainingData:
    """The datasets of each split and what they hold (saved into the checkpoint)."""

    splits: dict[str, FrameDataset]
    summary: dict[str, dict]


def build_datasets(config: TrainSettings, video: VideoSettings, label_map: LabelMap, spec: ClassifierSpec,
                   progress: Progress | None = None) -> TrainingData:
    """Train, val and test datasets of the games under ``config.data``, preprocessed as ``spec`` says."""
    settings = frame_settings(config, video, spec.image_size)
    records = collect_records(config.data, label_map, settings, Path(config.cache_dir).expanduser(), progress)
    games = sorted({r.game for r in records})
    splits = config.split_games or split_games(games, tuple(config.split), config.seed)
    unknown = sorted(set(sum(splits.values(), [])) - set(games))
    if unknown:
        raise HighlighterError(f"split names games that are not in the data: {', '.join(unknown[:3])}")
    classes = list(spec.classes)
    datasets = {split: FrameDataset([r for r in records if r.game in set(names)], label_map, classes,
                                    Preprocess.of(spec).transform(train=split == "train"))
                for split, names in splits.items()}
    counts = Counter(classes[t] for t in datasets["train"].targets)
    empty = [cls for cls in classes if counts[cls] == 0]
    if empty:
        raise HighlighterError(f"no training images for class {', '.join(map(repr, empty))} in the train games "
                               f"({len(splits['train'])}); add data or change --classes")
    summary = {split: {"games": len(splits[split]), "game_list": splits[split],
                       "images": dict(Counter(classes[t] for t in ds.targets))}
               for split, ds in datasets.items()}
    return TrainingData(datasets, summary)


def class_weights(dataset: FrameDataset, classes: int) -> torch.Tensor:
    """Inverse-frequency loss weights (mean 1) of the classes in ``dataset``."""
    counts = np.bincount(dataset.targets, minlength=classes)
    return torch.tensor(counts.sum() / (classes * counts), dtype=torch.float32)


def loader_workers(requested: int | None, device: torch.device) -> int:
    """DataLoader worker processes: as asked, else about one per core on a GPU (up to 8) so decoding and
    resizing images keeps up with it, and none on a CPU, where the model wants the cores."""
    if requested is not None:
        return requested
    return min(8, len(os.sched_getaffinity(0))) if device.type == "cuda" else 0


class GlobalBatchShard(torch.utils.data.Sampler[int]):
    """One rank's share of every global batch: the epoch's shuffled order (the draw of ``generator``) cut into
    batches of ``world x batch_size`` images, as one process with that batch size cuts it, of which this rank
    takes every ``world``-th image from its own position. The ranks together see each image once per epoch, in
    the batches one process sees, whatever the count (DistributedSampler instead repeats images until the count
    divides, so two ranks train on one image more than one process does)."""

    def __init__(self, size: int, batch_size: int, rank: int = 0, world: int = 1) -> None:
        self.size, self.rank, self.world = size, rank, world
        self.global_batch = batch_size * world
        self.generator = torch.Generator()

    @property
    def steps(self) -> int:
        """Global batches per epoch: every rank takes as many steps, though its last share may be empty."""
        return -(-self.size // self.global_batch)

    def __len__(self) -> int:
        return sum(len(range(start + self.rank, min(start + self.global_batch, self.size), self.world))
                   for start in range(0, self.size, self.global_batch))

    def __iter__(self):
        order = torch.randperm(self.size, generator=self.generator).tolist()
        for start in range(0, self.size, self.global_batch):
            yield from order[start:start + self.global_batch][self.rank::self.world]


class EpochIndices(torch.utils.data.Sampler[int]):
    """The indices of ``sampler`` as ``epoch * size + index``, so that :class:`SeededAugmentation` knows the
    epoch of every item it loads, in whichever process or worker it loads it."""

    def __init__(self, sampler: torch.utils.data.Sampler[int], size: int) -> None:
        self.sampler, self.size, self.epoch = sampler, size, 0

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        return (self.epoch * self.size + index for index in self.sampler)


class SeededAugmentation(torch.utils.data.Dataset):
    """A training set whose random augmentation of an image depends only on (seed, epoch, image), not on the
    order, rank or worker that loads it: N data-parallel ranks then train on exactly the images one process
    with their global batch would see, and a resumed run sees the draws of an uninterrupted one."""

    def __init__(self, dataset: FrameDataset, seed: int) -> None:
        self.dataset, self.seed = dataset, seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: int):
        epoch, index = divmod(key, len(self.dataset))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(((self.seed * 1_000_003 + epoch) * 1_000_003 + index) % 2**63)
            return self.dataset[index]


def make_loader(dataset: FrameDataset, config: TrainSettings, device: torch.device, train: bool, world: int = 1,
                classes: int = 0, rank: int = 0) -> torch.utils.data.DataLoader:
    """Batches of ``dataset``: for training shuffled, class-balanced with ``balance sampler`` in one process, or
    this ``rank``'s shares of the global batches of ``world`` data-parallel ranks (see :class:`GlobalBatchShard`),
    each image augmented by its own seeded draw (call :func:`start_epoch` before each pass); in order for
    evaluation. Workers persist across epochs."""
    workers = loader_workers(config.workers, device)
    options = dict(batch_size=config.batch_size, num_workers=workers, persistent_workers=workers > 0,
                   pin_memory=device.type == "cuda", drop_last=False)
    if not train:
        return torch.utils.data.DataLoader(dataset, shuffle=False, **options)
    if config.balance == "sampler" and world == 1:
        counts = np.bincount(dataset.targets, minlength=classes)
        weights = [1.0 / counts[t] for t in dataset.targets]
        sampler = torch.utils.data.WeightedRandomSampler(weights, len(dataset), replacement=True,
                                                         generator=torch.Generator())
    else:
        sampler = GlobalBatchShard(len(dataset), config.batch_size, rank, world)
    return torch.utils.data.DataLoader(SeededAugmentation(dataset, config.seed),
                                       sampler=EpochIndices(sampler, len(dataset)), **options)


def start_epoch(loader: torch.utils.data.DataLoader, seed: int, epoch: int) -> None:
    """Seed the training loader's draws for ``epoch``: the same order after ``--resume`` as without, and on
    every rank."""
    indices = loader.sampler
    indices.epoch = epoch
    indices.sampler.generator.manual_seed(seed * 1000 + epoch)


def global_steps(loader: torch.utils.data.DataLoader) -> int:
    """The steps of an epoch of the training ``loader``: the same on every rank, which may have one batch
    fewer (an empty share of the last global batch)."""
    sampler = loader.sampler.sampler
    return sampler.steps if isinstance(sampler, GlobalBatchShard) else len(loader)
