"""Training the spotting head on cached per-sample inputs (an epoch takes seconds: no video is decoded), against
the exact event times: a narrow target (the samples within ``radius_s`` of an event, as E2E-Spot does) and the
event's sub-sample offset; then its peak threshold and NMS window chosen on validation halves."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

import numpy as np

from highlighter.soccernet.files import Spot, soccernet_spots
from highlighter.spotting.head import HeadConfig, HeadSequence, SpottingHead, head_inputs, make_head
from highlighter.spotting.peaks import pick_events

#: The peak thresholds and NMS windows (s) :func:`tune_events` tries, unless told others.
THRESHOLDS = (0.02, 0.05, 0.1, 0.2, 0.3)
NMS_WINDOWS = (4.0, 6.0, 10.0, 20.0)


def build_targets(times: np.ndarray, events: list[tuple[float, str]], classes: list[str],
                  radius_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per sample and class: 1 within ``radius_s`` of an event of the class (the nearest sample always, however
    small the radius), else 0; and the event's offset from the sample in samples (NaN where no target)."""
    labels = np.zeros((len(times), len(classes)), np.float32)
    offsets = np.full((len(times), len(classes)), np.nan, np.float32)
    if len(times) < 2:
        return labels, offsets
    step = float(np.median(np.diff(times)))
    for time_s, cls in events:
        if cls not in classes:
            continue
        column = classes.index(cls)
        distance = np.abs(times - time_s)
        near = distance <= radius_s
        near[int(np.argmin(distance))] = True
        for index in np.flatnonzero(near):  # a sample between two events of a class takes the nearer one
            offset = (time_s - times[index]) / step
            if np.isnan(offsets[index, column]) or abs(offset) < abs(offsets[index, column]):
                offsets[index, column] = offset
        labels[near, column] = 1.0
    return labels, offsets


def fit_head(train: list[HeadSequence], classes: list[str], fps: float, config: HeadConfig) -> SpottingHead:
    """A head fitted on the ``train`` halves for the non-background ``classes``: random crops of
    ``config.train_window`` samples, BCE on the narrow targets (positives weighted), smooth-L1 on the offsets of
    the positives, AdamW with a one-cycle schedule. Deterministic for ``config.seed``: on one CPU thread (the
    tensors are too small for threads to pay, and the sums come out the same on any machine)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(train, classes, fps, config)
    finally:
        torch.set_num_threads(threads)


def _fit(train: list[HeadSequence], classes: list[str], fps: float, config: HeadConfig) -> SpottingHead:
    import torch

    raw = [head_inputs(s, config.inputs) for s in train]
    stacked = np.concatenate(raw)
    mean, std = stacked.mean(axis=0), np.maximum(stacked.std(axis=0), 1e-4)
    data = [((x - mean) / std, *build_targets(s.times, s.events, classes, config.radius_s)) for s, x in zip(train, raw)]
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    module = make_head(config, stacked.shape[1], len(classes))
    optimiser = torch.optim.AdamW(module.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    crops = max(sum(math.ceil(len(x) / config.train_window) for x, _, _ in data), 1)
    batches = [min(config.batch_size, crops - start) for start in range(0, crops, config.batch_size)]
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=config.epochs * len(batches),
                                                   pct_start=0.1)
    losses = []
    module.train()
    for _ in range(config.epochs):
        for size in batches:
            batch = [_crop(data[int(rng.integers(len(data)))], config.train_window, rng) for _ in range(size)]
            loss = _loss(module, batch, config, len(classes))
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
    state = {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
    return SpottingHead(config, list(classes), fps, mean.astype(np.float32), std.astype(np.float32), state,
                        info={"train_loss": round(float(np.mean(losses[-10:])), 4), "train_halves": len(train)})


def _loss(module, batch: list, config: HeadConfig, classes: int):
    """The batch's loss: masked, positive-weighted BCE per sample and class, plus the offsets' smooth-L1."""
    import torch
    from torch.nn import functional as F

    x, labels, offsets, mask = (torch.from_numpy(np.stack(part)) for part in zip(*batch))
    logits, predicted = module(x + config.noise * torch.randn_like(x))
    bce = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=torch.tensor(config.positive_weight),
                                             reduction="none")
    loss = (bce * mask[..., None]).sum() / mask.sum().clamp(min=1) / classes
    has_offset = ~torch.isnan(offsets)
    if has_offset.any():
        loss = loss + config.offset_weight * F.smooth_l1_loss(predicted[has_offset], offsets[has_offset])
    return loss


def _crop(item: tuple[np.ndarray, np.ndarray, np.ndarray], length: int, rng: np.random.Generator):
    """A random crop of ``length`` samples (zero-padded, with a mask, where the half is shorter)."""
    x, labels, offsets = item
    start = int(rng.integers(0, len(x) - length + 1)) if len(x) > length else 0
    end = min(start + length, len(x))
    pad = length - (end - start)
    mask = np.concatenate([np.ones(end - start, np.float32), np.zeros(pad, np.float32)])
    return (np.pad(x[start:end], ((0, pad), (0, 0))), np.pad(labels[start:end], ((0, pad), (0, 0))),
            np.pad(offsets[start:end], ((0, pad), (0, 0)), constant_values=np.nan), mask)


def tune_events(head: SpottingHead, val: list[tuple[str, int, HeadSequence]],
                score: Callable[[dict[str, list[Spot]]], float], thresholds=THRESHOLDS,
                nms=NMS_WINDOWS) -> SpottingHead:
    """The head with the peak threshold and (one, shared) NMS window whose events on the ``val`` halves ((game,
    half, sequence)) ``score`` rates best (SoccerNet spots by game -> a figure to maximise); ties go to the
    higher threshold and the wider window. The head runs once per half, the grid only re-picks peaks."""
    curves = [(game, half, s.times, *head.predict(s)) for game, half, s in val]
    best, best_key = head, None
    for threshold in thresholds:
        for window in nms:
            predicted: dict[str, list[Spot]] = {}
            for game, half, times, probabilities, offsets in curves:
                predicted.setdefault(game, []).extend(soccernet_spots(pick_events(
                    times, probabilities, offsets, head.classes, threshold, {"default": window}, head.fps, half)))
            key = (score(predicted), threshold, window)
            if best_key is None or key > best_key:
                best_key, best = key, replace(head, threshold=threshold, nms_s={"default": window},
                                              info={**head.info, "val_score": round(key[0], 2)})
    return best
