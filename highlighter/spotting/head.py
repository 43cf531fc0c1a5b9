"""The spotting head and its checkpoint block: for each sample of a half and each class, the probability that
an event is there and its offset in samples (a small sequence model over the image embeddings and the frame
model's log-probabilities, optionally the crowd cue's features).

A checkpoint keeps it as its own versioned block: tensors ``spotting_head.*`` in model.safetensors and a
``spotting_head`` entry in highlighter.json (format, classes, fps, inputs, architecture, standardisation window,
peak threshold, NMS, training figures). The block is read without PyTorch and checked as untrusted input: a
known architecture, a bounded window, weights whose shapes fit."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from highlighter.errors import HighlighterError
from highlighter.outputs.events import Event
from highlighter.labels import BACKGROUND
from highlighter.config.settings import TagSettings, VideoSettings
from highlighter.spotting.peaks import DILATIONS, Forward, conv_forward, pick_events, windowed

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger(__name__)

FORMAT = "highlighter-spotting-head/1"
TENSOR_PREFIX = "spotting_head."
ARCHITECTURES = ("conv", "gru", "transformer")
INPUTS = ("features", "logits", "audio")
#: Inputs that tagging gives a head (a head over the crowd cue is for experiments: see benchmarks/bench_quality.py).
TAGGING_INPUTS = ("features", "logits")
#: Crowd cue features per sample (highlighter.audio.features.FEATURE_NAMES).
AUDIO_FEATURES = 3
#: The largest inference window a checkpoint may ask for (samples): memory stays bounded whatever a block says.
MAX_WINDOW = 4096


@dataclass(frozen=True)
class HeadConfig:
    """How a head is built and trained (saved in its block). The defaults are the yardstick's choice."""

    arch: str = "conv"  # conv | gru | transformer
    hidden: int = 64
    inputs: tuple[str, ...] = ("features", "logits")  # of INPUTS
    radius_s: float = 1.0  # samples within this many seconds of an event are its positives
    positive_weight: float = 5.0  # BCE weight of a positive sample
    offset_weight: float = 1.0  # weight of the offset loss against the classification loss
    dropout: float = 0.2  # on the inputs and between layers
    noise: float = 0.1  # Gaussian noise added to the standardised inputs while training
    epochs: int = 150
    batch_size: int = 32  # training crops per optimiser step
    lr: float = 2e-3
    weight_decay: float = 1e-2
    train_window: int = 128  # samples per training crop
    window: int = 256  # samples per inference window
    overlap: int = 32  # samples either side of a window's kept centre (at least half the receptive field)
    seed: int = 0


@dataclass
class HeadSequence:
    """One half as the head reads it: sample times and the per-sample inputs."""

    times: np.ndarray  # (N,)
    features: np.ndarray  # (N, D) unit image embeddings
    probabilities: np.ndarray  # (N, C) the frame model's class probabilities
    audio: np.ndarray | None = None  # (N, AUDIO_FEATURES) the crowd cue's features, where the half has audio
    events: list[tuple[float, str]] = field(default_factory=list)  # (time_s, class): training only


def head_inputs(sequence: HeadSequence, inputs: tuple[str, ...]) -> np.ndarray:
    """(N, F) raw inputs of one half: embeddings, frame log-probabilities, crowd features (zeros where absent)."""
    parts = []
    if "features" in inputs:
        parts.append(sequence.features)
    if "logits" in inputs:
        parts.append(np.log(np.clip(sequence.probabilities, 1e-4, 1.0)))
    if "audio" in inputs:
        audio = sequence.audio
        parts.append(np.zeros((len(sequence.times), AUDIO_FEATURES)) if audio is None else audio)
    return np.concatenate(parts, axis=1).astype(np.float32)


def make_head(config: HeadConfig, inputs: int, classes: int) -> nn.Module:
    """The PyTorch head: (B, N, F) standardised inputs -> (B, N, classes) event logits and (B, N, classes)
    offsets. Its conv form is what :func:`highlighter.spotting.peaks.conv_forward` computes in NumPy."""
    import torch
    from torch import nn

    def gelu(x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(x, approximate="tanh")

    class ConvCore(nn.Module):
        """Residual dilated 1-D convolutions."""

        def __init__(self) -> None:
            super().__init__()
            self.convs = nn.ModuleList(nn.Conv1d(config.hidden, config.hidden, 3, padding=d, dilation=d)
                                       for d in DILATIONS)
            self.drop = nn.Dropout(config.dropout)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.transpose(1, 2)
            for conv in self.convs:
                x = x + self.drop(gelu(conv(x)))
            return x.transpose(1, 2)

    class GruCore(nn.Module):
        """A two-layer bidirectional GRU."""

        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(config.hidden, config.hidden // 2, num_layers=2, batch_first=True, bidirectional=True,
                              dropout=config.dropout)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.gru(x)[0]

    class TransformerCore(nn.Module):
        """A depthwise convolution for position, then two pre-norm transformer layers."""

        def __init__(self) -> None:
            super().__init__()
            self.position = nn.Conv1d(config.hidden, config.hidden, 9, padding=4, groups=config.hidden)
            layer = nn.TransformerEncoderLayer(config.hidden, 4, 2 * config.hidden, config.dropout, batch_first=True,
                                               norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.encoder(x + self.position(x.transpose(1, 2)).transpose(1, 2))

    cores = {"conv": ConvCore, "gru": GruCore, "transformer": TransformerCore}

    class TemporalHead(nn.Module):
        """Input projection, a temporal core, and per sample the logits and offsets of every class."""

        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(config.dropout)
            self.project = nn.Linear(inputs, config.hidden)
            self.core = cores[config.arch]()
            self.out = nn.Linear(config.hidden, 2 * classes)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            y = self.out(self.core(gelu(self.project(self.drop(x)))))
            return y[..., :classes], y[..., classes:]

    return TemporalHead()


@dataclass
class SpottingHead:
    """A fitted head: its configuration, classes, sample rate, input standardisation, weights and event rules."""

    config: HeadConfig
    classes: list[str]  # the non-background classes, in output order
    fps: float  # samples per second it was trained on (tagging must sample at this rate)
    mean: np.ndarray  # (F,)
    std: np.ndarray  # (F,)
    state: dict[str, np.ndarray]  # the module's weights
    threshold: float = 0.05  # a peak must reach this probability
    nms_s: dict[str, float] = field(default_factory=lambda: {"default": 10.0})
    info: dict = field(default_factory=dict)  # training figures (loss, halves, val average-mAP)

    def forward(self) -> Forward:
        """One window's forward pass: NumPy for the conv head, else the PyTorch module."""
        classes = len(self.classes)
        if self.config.arch == "conv":
            return lambda window: conv_forward(self.state, window, classes)
        import torch

        module = make_head(self.config, len(self.mean), classes)
        module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in self.state.items()})
        module.eval()

        def forward(window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            with torch.inference_mode():
                logits, offsets = module(torch.from_numpy(window)[None])
            return logits[0].numpy(), offsets[0].numpy()

        return forward

    def predict(self, sequence: HeadSequence) -> tuple[np.ndarray, np.ndarray]:
        """(N, C) event probabilities and (N, C) offsets (in samples) of one half, window by window."""
        x = (head_inputs(sequence, self.config.inputs) - self.mean) / self.std
        logits, offsets = windowed(self.forward(), x, self.config.window, self.config.overlap, len(self.classes))
        return 1 / (1 + np.exp(-logits)), offsets

    def events(self, sequence: HeadSequence, half: int | None = None) -> list[Event]:
        """The events of one half (see :func:`highlighter.spotting.peaks.pick_events`)."""
        return self.pick(sequence.times, np.concatenate(self.predict(sequence), axis=1), half)

    def pick(self, times: np.ndarray, output: np.ndarray, half: int | None = None) -> list[Event]:
        """The events of one half's head ``output`` ((N, 2K): probabilities, then offsets)."""
        classes = len(self.classes)
        return pick_events(times, output[:, :classes], output[:, classes:], self.classes, self.threshold, self.nms_s,
                           self.fps, half)

    def to_checkpoint(self) -> tuple[dict[str, np.ndarray], dict]:
        """The tensors (float32 NumPy) and the JSON entry of the checkpoint's ``spotting_head`` block."""
        tensors = {f"{TENSOR_PREFIX}{k}": np.asarray(v, np.float32) for k, v in self.state.items()}
        tensors[f"{TENSOR_PREFIX}input_mean"] = np.asarray(self.mean, np.float32)
        tensors[f"{TENSOR_PREFIX}input_std"] = np.asarray(self.std, np.float32)
        entry = {"format": FORMAT, "classes": list(self.classes), "fps": self.fps, "config": asdict(self.config),
                 "threshold": self.threshold, "nms_s": dict(self.nms_s), "info": self.info}
        return tensors, entry

    @classmethod
    def from_checkpoint(cls, entry: dict, tensors: dict[str, np.ndarray]) -> SpottingHead:
        """The head of a checkpoint's block (see :meth:`to_checkpoint`), checked (:meth:`check`)."""
        if entry.get("format") != FORMAT:
            raise ValueError(f"unknown spotting head format {entry.get('format')!r} (this version reads {FORMAT})")
        config = dict(entry["config"])
        state = {k[len(TENSOR_PREFIX):]: np.asarray(v, np.float32) for k, v in tensors.items()
                 if k.startswith(TENSOR_PREFIX) and not k.startswith(f"{TENSOR_PREFIX}input_")}
        head = cls(HeadConfig(**{**config, "inputs": tuple(config["inputs"])}), [str(c) for c in entry["classes"]],
                   float(entry["fps"]), np.asarray(tensors[f"{TENSOR_PREFIX}input_mean"], np.float32),
                   np.asarray(tensors[f"{TENSOR_PREFIX}input_std"], np.float32), state, float(entry["threshold"]),
                   {str(k): float(v) for k, v in entry["nms_s"].items()}, dict(entry.get("info") or {}))
        head.check()
        return head

    def check(self) -> None:
        """ValueError unless this is a head this code runs in bounded time and memory: a known architecture and
        inputs, a window of at most :data:`MAX_WINDOW` samples with an overlap under half of it, a sane rate,
        threshold and NMS, finite weights whose shapes fit the inputs and classes."""
        config = self.config
        if config.arch not in ARCHITECTURES or not set(config.inputs) <= set(INPUTS) or not config.inputs:
            raise ValueError(f"unknown architecture {config.arch!r} or inputs {config.inputs}")
        if not (0 < config.window <= MAX_WINDOW and 0 <= 2 * config.overlap < config.window):
            raise ValueError(f"window {config.window} / overlap {config.overlap} out of bounds")
        if not (0 < self.fps <= 30 and 0 <= self.threshold <= 1 and "default" in self.nms_s
                and all(0 <= v <= 3600 for v in self.nms_s.values())):
            raise ValueError("fps, threshold or NMS out of bounds")
        inputs, classes = len(self.mean), len(self.classes)
        expected = {"project.weight": (config.hidden, inputs), "project.bias": (config.hidden,),
                    "out.weight": (2 * classes, config.hidden), "out.bias": (2 * classes,)}
        if config.arch == "conv":
            for layer in range(len(DILATIONS)):
                expected[f"core.convs.{layer}.weight"] = (config.hidden, config.hidden, 3)
                expected[f"core.convs.{layer}.bias"] = (config.hidden,)
        for name, shape in expected.items():
            if name not in self.state or self.state[name].shape != shape:
                raise ValueError(f"tensor {name} missing or not {shape}")
        if self.std.shape != (inputs,) or self.mean.shape != (inputs,) or not np.all(self.std > 0):
            raise ValueError("bad input standardisation")
        if not all(np.isfinite(v).all() for v in [self.mean, self.std, *self.state.values()]):
            raise ValueError("NaN or infinite weights")


def read_spotting_head(folder: str | Path) -> SpottingHead | None:
    """The ``spotting_head`` block of a checkpoint folder, read without PyTorch; None where it has none (a
    checkpoint from before the head, or trained without one). A damaged block is a one-line error."""
    from safetensors import SafetensorError, safe_open

    from highlighter.model.checkpoint import WEIGHTS_FILE, read_spec

    entry = read_spec(folder).extra.get("spotting_head")
    if entry is None:
        return None
    try:
        with safe_open(str(Path(folder) / WEIGHTS_FILE), framework="numpy") as weights:
            tensors = {k: weights.get_tensor(k) for k in weights.keys() if k.startswith(TENSOR_PREFIX)}
        head = SpottingHead.from_checkpoint(entry, tensors)
        if not set(head.config.inputs) <= set(TAGGING_INPUTS):
            raise ValueError(f"inputs {list(head.config.inputs)}: tagging gives a head {list(TAGGING_INPUTS)}")
    except (KeyError, TypeError, ValueError, AttributeError, SafetensorError) as exc:
        raise HighlighterError(f"{folder}: unreadable spotting head block ({exc})") from None
    return head


def load_spotting_head(tag: TagSettings, video: VideoSettings) -> SpottingHead | None:
    """The head that tagging with ``tag`` uses: the checkpoint's where ``tag.spotting`` is ``auto`` or ``head``,
    None for ``smoother`` (and a zero-shot model). ``head`` makes a checkpoint without one an error; a head
    trained at another sample rate than ``video.fps`` is an error for ``head`` and, for ``auto``, a warning
    line and the smoother. A head reads the frames alone, so ``--audio on`` (the fusion is the smoother's)
    asks for the smoother."""
    from highlighter.model.checkpoint import read_spec, resolve_checkpoint

    if tag.spotting == "smoother" or tag.zero_shot:
        return None
    folder = resolve_checkpoint(tag.weights)
    head = read_spotting_head(folder)
    if head is None:
        if tag.spotting == "head":
            raise HighlighterError(f"--spotting head: {tag.weights} has no spotting head (train with --spotting-head)")
        return None
    if head.fps != video.fps:
        message = (f"{tag.weights}: its spotting head reads {head.fps:g} frames per second, not {video.fps:g} "
                   f"(tag with --fps {head.fps:g})")
        if tag.spotting == "head":
            raise HighlighterError(message)
        log.warning("%s; smoothing instead", message)
        return None
    if tag.audio == "on":
        raise HighlighterError("--audio on fuses the crowd cue for the smoother, and this checkpoint's spotting head "
                               "reads the frames alone: add --spotting smoother")
    if head.classes != [c for c in read_spec(folder).classes if c != BACKGROUND]:
        raise HighlighterError(f"{folder}: its spotting head's classes {head.classes} are not the model's")
    if tag.head_min_peak is not None:
        head = replace(head, threshold=tag.head_min_peak)
    if tag.head_nms_s is not None:
        head = replace(head, nms_s={"default": tag.head_nms_s})
    return head
