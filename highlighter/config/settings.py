"""The one schema of every setting. ``configs/defaults.yaml`` fills it, a user's ``--config`` file overlays
it, and the CLI, the library, ``highlight demo``, ``tune-smoother --write`` and the Python API all read it.

Each default is written once, in the YAML; the dataclasses here say only what each setting is and what it
accepts (``Literal`` types are the choice lists). An unknown key or a wrong type in a config file is a
one-line error naming the file, the key and the closest valid key. This module imports nothing heavy, so
the CLI can build its options (and answer ``--help``) without loading PyTorch.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from highlighter.config.files import DEFAULTS_NAME, config_dir, merge, read_yaml
from highlighter.config.schema import build, choices

Decoder = Literal["auto", "decord", "pyav", "nvdec"]
Sampling = Literal["exact", "keyframes"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
TagPrecision = Literal["auto", "fp32", "bf16", "fp16", "int8"]  # int8: ONNX Runtime on the CPU (highlighter.model.int8)
EventsFormat = Literal["json", "csv", "soccernet"]
Metric = Literal["loose", "tight", "both"]


@dataclass(frozen=True)
class VideoSettings:
    """How every command that decodes samples a video (frames, info, tag, train, eval-frames, report)."""

    fps: float  # samples per second of video
    decoder: Decoder  # auto: per file, the fastest backend that is frame-exact on it
    sampling: Sampling  # exact: the frame on screen at each tick; keyframes: key frames only (fast)
    stall_timeout_s: float  # no frame for this long: decord gives way to PyAV; a stalled PyAV is an error


@dataclass(frozen=True)
class SmootherSettings:
    """How per-class score curves become events."""

    window_s: float  # centred moving-average width
    threshold: float  # a peak must reach this smoothed probability
    low_threshold: float | None  # events start and end below this; None: half of threshold
    nms_s: dict[str, float]  # suppression window per class, else "default"

    @property
    def low(self) -> float:
        """The start/end level: ``low_threshold``, or half of ``threshold`` when it is not set. This is the
        one rule, so ``--threshold 0.1`` on the command line moves the start/end level to 0.05 unless a
        config file sets ``low_threshold`` itself."""
        return self.threshold / 2 if self.low_threshold is None else self.low_threshold

    def nms_for(self, cls: str) -> float:
        """The suppression window of ``cls``."""
        return float(self.nms_s.get(cls, self.nms_s["default"]))


@dataclass(frozen=True)
class FramesSettings:
    """`highlight frames`."""

    size: int  # side of the square image: short-side resize, then centre crop
    image_format: Literal["jpg", "png"]
    batch_size: int  # frames decoded per batch


@dataclass(frozen=True)
class TestclipSettings:
    """`highlight testclip`."""

    seconds: float
    fps: float
    width: int
    height: int
    gop: int


@dataclass(frozen=True)
class EvalSettings:
    """`highlight eval`."""

    metric: Metric
    classes: str  # highlight | soccernet-v2 | a YAML class map


@dataclass(frozen=True)
class SynthSettings:
    """`highlight synth`: synthetic SoccerNet games."""

    games: int
    minutes: float  # per half
    seed: int
    size: str  # WIDTHxHEIGHT
    density: float  # times the real rates of goals, cards and substitutions

    @property
    def frame_size(self) -> tuple[int, int]:
        """``size`` as (width, height)."""
        width, height = (int(part) for part in self.size.lower().split("x"))
        return width, height


@dataclass(frozen=True)
class AudioSettings:
    """The crowd cue: how `highlight train` measures the match audio and fits the fusion (a fused checkpoint
    keeps these, so `highlight tag` measures the same way)."""

    rate: int  # Hz the mono mix is resampled to
    rise_s: float  # rise: level now minus the mean level over this many seconds before
    peak_after_s: float  # peak: the loudest second from now to this many seconds after
    silent_db: float  # a track whose loudest second is below this (dB) is silent: no cue
    context_s: int  # the fusion sees frame probabilities and audio features this many seconds either side
    l2: list[float]  # the fusion's L2 penalties tried; the val games choose one


@dataclass(frozen=True)
class TrainSettings:
    """`highlight train` (saved into the checkpoint)."""

    data: list[str]  # folders of SoccerNet games (v3 frames and/or v2 videos with labels)
    out: str
    model: str
    pretrained: str | None  # an open_clip tag, a local weights file, or None for random weights
    classes: str
    prompts: str | None
    mode: Literal["probe", "finetune", "lp-ft"]
    loss: Literal["ce", "contrastive"]
    epochs: int
    probe_epochs: int
    lr: float
    probe_lr: float
    weight_decay: float
    warmup_steps: int
    batch_size: int
    grad_accum: int
    clip_grad: float
    balance: Literal["sampler", "loss", "none"]
    wise_alpha: float | None  # None: sweep on val
    split: tuple[float, float, float]
    split_games: dict[str, list[str]] | None
    seed: int
    device: str
    workers: int | None  # None: about one per core on CUDA (up to 8), none on CPU
    log_every: int  # optimizer steps between loss read-outs (each one waits for the device)
    frame_fps: float | None  # frames per second drawn from v2 videos; None: video.fps
    event_window: tuple[float, float]  # seconds around an event whose frames take its label
    background_gap_s: float  # background frames keep at least this far from every event
    background_per_event: float  # background frames kept per event frame in a half
    cache_dir: str
    resume: bool
    fusion: bool  # after the image model, fit the audio fusion on the games' audio (v2 videos with audio)
    spotting_head: bool  # then fit the temporal spotting head on the games' embeddings (v2 videos)

    def stages(self) -> list[tuple[str, int, float, bool]]:
        """(name, epochs, learning rate, image tower frozen) for each stage of the mode."""
        probe = ("probe", self.probe_epochs, self.probe_lr, True)
        finetune = ("finetune", self.epochs, self.lr, False)
        return {"probe": [("probe", self.epochs, self.probe_lr, True)], "finetune": [finetune],
                "lp-ft": [probe, finetune]}[self.mode]


@dataclass(frozen=True)
class TagSettings:
    """`highlight tag` (and the Python API's ``highlighter.tag``)."""

    weights: str  # a checkpoint folder, or hf-hub:ORG/NAME
    format: EventsFormat
    batch_size: int  # frames per model call
    device: str  # auto | cpu | cuda[:N]
    precision: TagPrecision
    compile: bool  # torch.compile the model
    zero_shot: bool  # no checkpoint: a pretrained open_clip model with the prompts
    model: str  # zero-shot only
    pretrained: str | None  # zero-shot only
    classes: str  # zero-shot only
    audio: Literal["auto", "on", "off"]  # fuse the crowd cue: auto where checkpoint and video allow it
    spotting: Literal["auto", "head", "smoother"]  # events from the checkpoint's spotting head (auto: where it has one)
    head_min_peak: float | None  # the head's peak threshold; None: the checkpoint's (tune-smoother tunes it)
    head_nms_s: float | None  # the head's NMS window (s) for every class; None: the checkpoint's
    engine: Literal["local", "ray"]  # local: this process, input after input; ray: a Ray cluster
    address: str | None  # ray engine: None starts Ray on this machine; auto or HOST:PORT joins a cluster
    overwrite: bool  # tag inputs again whose outputs already exist in the output folder
    workers: int | None  # ray engine: scoring actors; None: one per GPU of the cluster, else one
    worker_cpus: float  # ray engine without GPUs: CPUs each scoring actor reserves
    decode_cpus: float  # ray engine: CPUs each decoding task reserves (FFmpeg decodes with threads)


@dataclass(frozen=True)
class EvalFramesSettings:
    """`highlight eval-frames`."""

    split: Literal["all", "train", "val", "test"]
    device: str
    precision: Precision
    batch_size: int
    cache_dir: str


@dataclass(frozen=True)
class DemoSettings:
    """`highlight demo`: the sizes of its synthetic run (it tags with the tag and smoother settings)."""

    out: str
    games: int
    minutes: float
    epochs: int
    seed: int


@dataclass(frozen=True)
class TuneSettings:
    """`highlight tune-smoother`: the metric it maximises and the grid it searches."""

    metric: Literal["loose", "tight"]
    classes: str
    window_s: list[float]
    threshold: list[float]
    nms_s: list[float]


@dataclass(frozen=True)
class ReportSettings:
    """`highlight report` and `tag --report`: the review page (thumbnails decode with ``video``'s decoder
    and sampling)."""

    thumbnails: int  # per event (0: none)
    spacing: float  # seconds between an event's thumbnails
    thumbnail_size: int  # side of each square thumbnail
    thumbnail_fps: float  # sampling rate of the pass that finds them
    play_lead_s: float  # playing an event starts this long before it


@dataclass(frozen=True)
class CutSettings:
    """`highlight cut`: which events, how much around each, and how the reel is encoded."""

    classes: str  # all, or comma-separated classes
    min_confidence: float
    before_s: dict[str, float]  # per class, else "default"
    after_s: dict[str, float]
    max_duration: float | None
    timeline: Literal["source", "reel"]
    crf: int
    preset: str
    caption_renderer: Literal["auto", "drawtext", "opencv"]


@dataclass(frozen=True)
class Settings:
    """Every section of configs/defaults.yaml."""

    video: VideoSettings
    smoother: SmootherSettings
    frames: FramesSettings
    testclip: TestclipSettings
    eval: EvalSettings
    synth: SynthSettings
    train: TrainSettings
    tag: TagSettings
    eval_frames: EvalFramesSettings
    demo: DemoSettings
    tune_smoother: TuneSettings
    report: ReportSettings
    cut: CutSettings
    audio: AudioSettings


#: The sections whose settings each command's options take their defaults from, in order (a later
#: section's key wins). Option names are the settings' names.
COMMAND_SECTIONS: dict[str, tuple[str, ...]] = {
    "frames": ("video", "frames"),
    "info": ("video",),
    "testclip": ("testclip",),
    "eval": ("eval",),
    "synth": ("synth",),
    "train": ("video", "train"),
    "tag": ("video", "smoother", "tag"),
    "eval-frames": ("eval_frames",),
    "demo": ("demo",),
    "tune-smoother": ("tune_smoother",),
    "report": ("video", "report"),
    "cut": ("cut",),
}


def load_settings(user_file: str | Path | None = None) -> Settings:
    """The shipped settings with ``user_file`` (if given) laid over them, checked against the schema."""
    shipped = config_dir() / DEFAULTS_NAME
    data = read_yaml(shipped)
    settings = build(Settings, data, str(shipped))
    if user_file is None:
        return settings
    overlay = read_yaml(user_file)
    build(Settings, overlay, str(user_file), partial=True)
    return build(Settings, merge(data, overlay), str(user_file))


@functools.lru_cache(maxsize=1)
def shipped_settings() -> Settings:
    """The shipped settings (read once): the defaults of library calls that leave a setting out."""
    return load_settings()


def default_map(settings: Settings) -> dict[str, dict[str, Any]]:
    """click's ``default_map``: per command, the settings its options default to."""
    table = {}
    for command, sections in COMMAND_SECTIONS.items():
        values: dict[str, Any] = {}
        for section in sections:
            values.update(dataclasses.asdict(getattr(settings, section)))
        table[command] = values
    return table


__all__ = ["Settings", "load_settings", "default_map", "choices", "COMMAND_SECTIONS"]
