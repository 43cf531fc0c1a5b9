"""The Python API: the pipeline as functions for notebooks and scripts, reading the same settings as the
command line (configs/defaults.yaml, a ``config`` file over it, keyword arguments over both). The CLI's
commands call these too, so a script and `highlight` behave alike.

    import highlighter as hl
    result = hl.tag("match.mkv", weights="weights/highlighter", threshold=0.3)
    result.to_frame()          # events as a DataFrame
    result.scores              # per-second probabilities
    result.save("match.events.json")

Keyword settings are the keys of the sections each function reads (``fps`` of ``video``, ``threshold`` of
``smoother``, ``precision`` of ``tag``, ...); an unknown one is an error that names the closest. Heavy
libraries (PyTorch, open_clip) are imported on first use, so ``import highlighter`` stays light.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from highlighter.errors import ConfigError
from highlighter.config.schema import closest, convert
from highlighter.config.settings import Settings, load_settings

if TYPE_CHECKING:
    from rich.progress import Progress

    from highlighter.outputs.result import TagResult
    from highlighter.model.classifier import HighlightClassifier
    from highlighter.tagging.tagger import Tagger
    from highlighter.training.trainer import Trainer
    from highlighter.video import FrameSampler


def configured(sections: Iterable[str], config: str | Path | None = None, overrides: dict[str, Any] | None = None,
               none_means_unset: bool = True) -> dict[str, Any]:
    """The named sections of the settings (shipped, ``config`` over them), with ``overrides`` applied to
    the section that has each key (the last named one where several do). A None in ``overrides`` means
    "not given" (keyword arguments of the API), unless ``none_means_unset`` is False (the command line, where
    ``none`` given as a value means no value)."""
    settings: Settings = load_settings(config)
    chosen = {name: getattr(settings, name) for name in sections}
    changes: dict[str, dict[str, Any]] = {name: {} for name in chosen}
    for key, value in (overrides or {}).items():
        owners = [name for name, section in chosen.items() if key in {f.name for f in dataclasses.fields(section)}]
        if not owners:
            known = [f.name for section in chosen.values() for f in dataclasses.fields(section)]
            raise ConfigError(f"unknown setting {key!r}{closest(key, known)}")
        if value is not None or not none_means_unset:
            kind = typing.get_type_hints(type(chosen[owners[-1]]))[key]
            changes[owners[-1]][key] = convert(kind, value, "argument", key)
    return {name: dataclasses.replace(section, **changes[name]) for name, section in chosen.items()}


def frames(video: str | Path, *, config: str | Path | None = None, size: int | None = None,
           batch_size: int | None = None, **video_settings: Any) -> FrameSampler:
    """The sampled frames of ``video``: iterate for batches (``.times`` in seconds, the frame's own
    presentation time; ``.images`` uint8 RGB, ``size`` square)."""
    from highlighter.video import FrameSampler

    sections = configured(("video", "frames"), config, {**video_settings, "size": size, "batch_size": batch_size})
    return FrameSampler.from_settings(video, sections["video"], sections["frames"].size, sections["frames"].batch_size)


def load_model(weights: str | Path | None = None, *, config: str | Path | None = None,
               **tag_settings: Any) -> HighlightClassifier:
    """The classifier of a checkpoint folder or ``hf-hub:ORG/NAME`` (default: ``tag.weights``), in the
    precision ``tag.precision`` picks on ``tag.device``; ``zero_shot=True`` for a pretrained open_clip
    model classifying with the prompts."""
    from highlighter.tagging.tagger import load_classifier, model_dtype

    settings = configured(("tag",), config, {"weights": weights, **tag_settings})["tag"]
    return load_classifier(settings, model_dtype(settings))[0]


def tagger(config: str | Path | None = None, progress: Progress | None = None,
           settings: dict[str, Any] | None = None) -> Tagger:
    """A tagger with its model loaded, from the ``video``, ``smoother`` and ``tag`` settings (``settings``
    over them, see :func:`configured`)."""
    from highlighter.tagging.tagger import Tagger

    sections = configured(("video", "smoother", "tag"), config, settings)
    return Tagger.from_settings(sections["video"], sections["smoother"], sections["tag"], progress)


def tag(video_or_game_folder: str | Path, weights: str | Path | None = None, *, config: str | Path | None = None,
        progress: Progress | None = None, **settings: Any) -> TagResult:
    """The events of a video, or of a SoccerNet game folder's two halves: ``.events``, ``.to_frame()``,
    ``.scores``, ``.save(path, format=...)``. Exactly what `highlight tag` computes with the same settings."""
    from highlighter.inputs import expand_inputs
    from highlighter.tagging.tagger import Tagger

    sections = configured(("video", "smoother", "tag"), config, {"weights": weights, **settings})
    source, halves = expand_inputs([Path(video_or_game_folder)])[0]  # the settings, then the input, then the model
    if not sections["tag"].zero_shot:
        from highlighter.provenance import warn_if_real_footage
        from highlighter.model.checkpoint import read_spec, resolve_checkpoint

        trained = read_spec(resolve_checkpoint(sections["tag"].weights)).trained_on
        warn_if_real_footage(trained, source, list(halves.values()))
    return Tagger.from_settings(sections["video"], sections["smoother"], sections["tag"], progress).tag(source, halves)


def trainer(data: list[str | Path], config: str | Path | None = None, progress: Progress | None = None,
            on_epoch: Callable | None = None, settings: dict[str, Any] | None = None) -> Trainer:
    """A training run over the games under ``data`` from the ``train``, ``video``, ``audio`` and
    ``smoother`` settings (``settings`` over them, see :func:`configured`)."""
    from highlighter.training.trainer import Trainer

    sections = configured(("video", "train", "audio", "smoother"), config,
                          {**(settings or {}), "data": [str(d) for d in data]})
    return Trainer(sections["train"], sections["video"], sections["audio"], sections["smoother"], progress, on_epoch)


def train(data: list[str | Path], *, config: str | Path | None = None, progress: Progress | None = None,
          **settings: Any) -> Path:
    """Fine-tune the classifier on the SoccerNet games under ``data``; returns the checkpoint folder."""
    return trainer(data, config, progress, settings=settings).run().checkpoint


def evaluate(predictions: str | Path, labels: str | Path, *, config: str | Path | None = None,
             **eval_settings: Any) -> dict:
    """SoccerNet average-mAP of ``predictions`` (results_spotting.json, events JSON, trees, zips) against
    ``labels`` (Labels-v2.json or a tree), as `highlight eval --json` prints it."""
    from highlighter.evaluation.spotting import evaluate_paths
    from highlighter.labels import load_label_map

    settings = configured(("eval",), config, eval_settings)["eval"]
    metrics = ("loose", "tight") if settings.metric == "both" else (settings.metric,)
    return evaluate_paths(predictions, labels, load_label_map(settings.classes), metrics).to_dict()
