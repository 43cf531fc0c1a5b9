"""The learned fusion of frame scores and the crowd cue: one logistic regression per class over the frame
probabilities and the audio features in a window around each sample, fit on the train games' audio (the
val games choose its L2 penalty), kept in the checkpoint as its own versioned block (tensors ``fusion.*``
and a ``fusion`` entry in its JSON).

The regression corrects the frame model rather than replacing it: its logit is the frame probability's
logit plus a learned term, and the penalty pulls that term to zero, so a heavily penalised fusion is the
frame model itself (one of the candidates the val games choose from)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
from safetensors import safe_open

from highlighter.audio.features import FEATURE_NAMES, AudioCue
from highlighter.errors import HighlighterError
from highlighter.labels import BACKGROUND
from highlighter.config.settings import AudioSettings, TagSettings
from highlighter.model.checkpoint import WEIGHTS_FILE, read_spec, resolve_checkpoint

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

FORMAT = "highlighter-fusion/1"
TENSOR_PREFIX = "fusion."
#: Probabilities are clipped this far from 0 and 1 before their logit.
EPSILON = 1e-4


def _shifted(values: np.ndarray, offsets: range) -> np.ndarray:
    """(N, len(offsets)): ``values`` moved by each offset in samples, the ends repeated."""
    index = np.clip(np.arange(len(values))[:, None] + np.array(offsets)[None, :], 0, len(values) - 1)
    return values[index]


def fusion_inputs(probabilities: np.ndarray, times: np.ndarray, cue: AudioCue, column: int,
                  audio: AudioSettings) -> np.ndarray:
    """(N, F) inputs of one class: the logit of its probability (column 0), the normalised level at each
    sample from ``context_s`` samples before to as many after, the cue's features at the sample, and the
    logit times the peak after it."""
    offsets = range(-audio.context_s, audio.context_s + 1)
    p = np.clip(probabilities[:, column].astype(np.float64), EPSILON, 1 - EPSILON)
    logit = np.log(p / (1 - p))
    features = cue.features_at(times, audio).astype(np.float64)
    return np.concatenate([logit[:, None], _shifted(features[:, 0], offsets), features,
                           (logit * features[:, 2])[:, None]], axis=1)


def input_count(audio: AudioSettings) -> int:
    """F of :func:`fusion_inputs`."""
    return 1 + (2 * audio.context_s + 1) + len(FEATURE_NAMES) + 1


@dataclass
class Fusion:
    """Per non-background class, a logistic regression on standardised :func:`fusion_inputs`."""

    classes: list[str]  # the classifier's classes, in its column order
    audio: AudioSettings  # how the cue was measured for the fit: tagging measures it the same way
    mean: np.ndarray  # (C, F) standardisation of each class's inputs
    std: np.ndarray
    weight: np.ndarray  # (C, F); the background row unused
    bias: np.ndarray  # (C,)
    info: dict  # each class's chosen penalty, the val scores of each candidate, the halves fit on

    def apply(self, probabilities: np.ndarray, times: np.ndarray, cue: AudioCue) -> np.ndarray:
        """Fused (N, C) probabilities: each class's column from its regression; background is what the
        others leave (at least 0)."""
        fused = probabilities.astype(np.float32).copy()
        for column, cls in enumerate(self.classes):
            if cls != BACKGROUND:
                raw = fusion_inputs(probabilities, times, cue, column, self.audio)
                x = (raw - self.mean[column]) / self.std[column]
                fused[:, column] = 1 / (1 + np.exp(-(raw[:, 0] + x @ self.weight[column]
                                                     + self.bias[column])))
        if BACKGROUND in self.classes:
            others = [c for c, cls in enumerate(self.classes) if cls != BACKGROUND]
            fused[:, self.classes.index(BACKGROUND)] = np.clip(1 - fused[:, others].sum(axis=1), 0, 1)
        return fused

    def to_checkpoint(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The tensors and the JSON entry of the checkpoint's fusion block."""
        import torch

        tensors = {f"{TENSOR_PREFIX}{name}": torch.from_numpy(np.asarray(getattr(self, name), dtype=np.float32))
                   for name in ("mean", "std", "weight", "bias")}
        return tensors, {"format": FORMAT, "classes": self.classes, "audio": asdict(self.audio),
                         "inputs": input_count(self.audio), **self.info}

    @classmethod
    def from_checkpoint(cls, entry: dict, tensors: dict[str, np.ndarray]) -> Fusion:
        """The fusion of a checkpoint's block (see :meth:`to_checkpoint`; tensors read as NumPy arrays)."""
        if entry.get("format") != FORMAT:
            raise ValueError(f"unknown fusion block format {entry.get('format')!r} (this version reads {FORMAT})")
        arrays = {name: np.asarray(tensors[f"{TENSOR_PREFIX}{name}"], dtype=np.float32)
                  for name in ("mean", "std", "weight", "bias")}
        info = {k: v for k, v in entry.items() if k not in ("format", "classes", "audio", "inputs")}
        return cls(list(entry["classes"]), AudioSettings(**entry["audio"]), info=info, **arrays)


def _fit_class(x: np.ndarray, offset: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression on standardised ``x`` added to ``offset`` (the frame logit;
    positives weighted to balance the negatives, L2 on weights and bias), by L-BFGS."""
    import torch  # training only: tagging applies a fusion without PyTorch

    inputs, targets, base = torch.from_numpy(x).float(), torch.from_numpy(y).float(), torch.from_numpy(offset).float()
    positive_weight = torch.tensor(max((len(y) - y.sum()) / max(y.sum(), 1), 1.0))
    weight = torch.zeros(x.shape[1], requires_grad=True)
    bias = torch.zeros((), requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], lr=1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(base + inputs @ weight + bias, targets,
                                                                    pos_weight=positive_weight)
        loss = loss + l2 * (weight.square().sum() + bias.square())
        loss.backward()
        return loss

    optimiser.step(closure)
    return weight.detach().numpy().astype(np.float64), float(bias.detach())


@dataclass
class FusionHalf:
    """One half's frame scores, cue and per-class targets (1 within the event window of a labelled event)."""

    times: np.ndarray
    probabilities: np.ndarray
    cue: AudioCue
    targets: np.ndarray  # (N, C)
    game: str  # where it comes from: the game's name and the half
    half: int


def fit_fusion(classes: list[str], train: list[FusionHalf], audio: AudioSettings,
               score: Callable[[Fusion], dict[str, float]] | None = None) -> Fusion:
    """Fit each class's regression on the train halves for every penalty in ``audio.l2``; for each class
    keep the penalty whose fusion ``score`` (the val games' average-mAP per class) rates best. The frame
    model itself (an infinite penalty) is a candidate and wins ties, so a class the crowd does not help
    (or that the val games do not hold) keeps its frame scores. Without ``score``, the smallest penalty."""
    count = input_count(audio)
    mean, std = np.zeros((len(classes), count)), np.ones((len(classes), count))
    columns = [c for c, cls in enumerate(classes) if cls != BACKGROUND]
    data = {}
    for column in columns:
        x = np.concatenate([fusion_inputs(h.probabilities, h.times, h.cue, column, audio) for h in train])
        data[column] = x, np.concatenate([h.targets[:, column] for h in train])
        mean[column], std[column] = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    candidates = {float("inf"): Fusion(classes, audio, mean, std, np.zeros((len(classes), count)),
                                       np.zeros(len(classes)), {})}
    for l2 in sorted(audio.l2, reverse=True):
        weight, bias = np.zeros((len(classes), count)), np.zeros(len(classes))
        for column, (x, y) in data.items():
            weight[column], bias[column] = _fit_class((x - mean[column]) / std[column], x[:, 0], y, l2)
        candidates[l2] = Fusion(classes, audio, mean, std, weight, bias, {})
    scores = {l2: score(candidate) for l2, candidate in candidates.items()} if score else {}
    chosen = {}
    for column in columns:
        cls = classes[column]
        if score is None:
            chosen[cls] = min(audio.l2)
        else:  # ties (and a class without val ground truth): the larger penalty
            chosen[cls] = max(scores, key=lambda l2: (scores[l2].get(cls, -1.0), l2))
    weight, bias = np.zeros((len(classes), count)), np.zeros(len(classes))
    for column in columns:
        weight[column] = candidates[chosen[classes[column]]].weight[column]
        bias[column] = candidates[chosen[classes[column]]].bias[column]
    return Fusion(classes, audio, mean, std, weight, bias, {
        "l2": {cls: l2 if np.isfinite(l2) else None for cls, l2 in chosen.items()},
        "val_average_map": {str(l2): per_class for l2, per_class in scores.items()},
        "train_halves": len(train)})


def load_fusion(settings: TagSettings) -> Fusion | None:
    """The fusion block of ``settings.weights`` when ``settings.audio`` allows it; None, with a one-line
    note for ``auto``, where the checkpoint has none (``on`` makes that an error)."""
    if settings.audio == "off":
        return None
    entry, tensors = None, {}
    if not settings.zero_shot:
        folder = resolve_checkpoint(settings.weights)
        entry = read_spec(folder).extra.get("fusion")
        if entry is not None:
            with safe_open(str(folder / WEIGHTS_FILE), framework="numpy") as weights:
                tensors = {k: weights.get_tensor(k) for k in weights.keys() if k.startswith(TENSOR_PREFIX)}
    if entry is None:
        message = f"{'zero-shot model' if settings.zero_shot else settings.weights}: no audio fusion"
        if settings.audio == "on":
            raise HighlighterError(f"--audio on: {message} (train with audio to fit one)")
        log.warning("%s; frame scores only", message)
        return None
    try:
        return Fusion.from_checkpoint(entry, tensors)
    except (KeyError, TypeError, ValueError) as exc:
        raise HighlighterError(f"{settings.weights}: unreadable audio fusion block ({exc})") from None
