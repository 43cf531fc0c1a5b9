"""The highlight classifier: an open_clip image tower and a linear head that starts as the zero-shot
classifier (normalised text embeddings of per-class prompts). One entry point, ``create_classifier``,
and checkpoint folders that load with no network."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import open_clip
import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from highlighter.version import __version__
from highlighter.atomic import name_output, usual_mode
from highlighter.config.files import config_dir, read_yaml
from highlighter.errors import HighlighterError
from highlighter.model.hub import hub_or_cache
from highlighter.model.checkpoint import META_FILE, WEIGHTS_FILE, CheckpointError, ClassifierSpec, read_spec, weights_file

open_clip.add_model_config(config_dir() / "models")  # highlighter-tiny and any other shipped configs

#: the name of the head's weights in a checkpoint
HEAD = "head.weight"


class HighlightClassifier(nn.Module):
    """Logits = head(normalised image features); the head starts as logit_scale x text embeddings."""

    def __init__(self, visual: nn.Module, head_weight: torch.Tensor, spec: ClassifierSpec) -> None:
        super().__init__()
        self.visual = visual
        self.head = nn.Linear(head_weight.shape[1], head_weight.shape[0])
        with torch.no_grad():
            self.head.weight.copy_(head_weight)
            self.head.bias.zero_()
        self.spec = spec

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Unit-length image embeddings."""
        return F.normalize(self.visual(images), dim=-1)

    def forward(self, images: torch.Tensor, with_features: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Class logits; with ``with_features`` also the unit embeddings they came from."""
        features = self.features(images)
        return (self.head(features), features) if with_features else self.head(features)


def class_prompts(classes: list[str], prompts_file: str | Path | None = None) -> dict[str, list[str]]:
    """Every prompt of every class, from configs/prompts.yaml (or ``prompts_file``)."""
    config = read_yaml(prompts_file or config_dir() / "prompts.yaml")
    templates = config.get("templates") or ["{}"]
    descriptions = config.get("classes") or {}
    return {cls: [t.format(d) for t in templates for d in descriptions.get(cls, [cls.lower()])] for cls in classes}


def class_embeddings(clip: nn.Module, tokens: dict[str, torch.Tensor], classes: list[str]) -> torch.Tensor:
    """(classes x embed_dim): the normalised mean of each class's normalised prompt embeddings."""
    rows = []
    for cls in classes:
        text = clip.encode_text(tokens[cls])
        rows.append(F.normalize(F.normalize(text, dim=-1).mean(0), dim=-1))
    return torch.stack(rows)


@torch.no_grad()
def zero_shot_head(clip: nn.Module, tokenizer, prompts: dict[str, list[str]], classes: list[str]) -> torch.Tensor:
    """(classes x embed_dim) head weights: logit_scale x the class embeddings of the prompts."""
    return clip.logit_scale.exp() * class_embeddings(clip, {cls: tokenizer(prompts[cls]) for cls in classes}, classes)


@contextlib.contextmanager
def _random_init_is_intended():
    """open_clip warns "No pretrained weights loaded" whenever pretrained is None; here that is the plan."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def create_clip(model: str, pretrained: str | None = None) -> tuple[nn.Module, Any, dict[str, Any]]:
    """An open_clip model (pretrained tag, local weights file, or None for random weights), its
    tokenizer and its config."""
    pretrained = None if pretrained is None or pretrained.lower() == "none" else pretrained  # "none": random weights
    config = open_clip.get_model_config(model)
    if config is None:
        raise HighlighterError(f"unknown open_clip model {model!r} (see open_clip.list_models())")
    if pretrained:
        clip = _pretrained_clip(model, pretrained)
    else:
        with _random_init_is_intended():
            clip = open_clip.create_model(model, pretrained=None)
    return clip, open_clip.get_tokenizer(model), config


def _pretrained_clip(model: str, pretrained: str) -> nn.Module:
    """open_clip's ``model`` with the weights of a local file or a tag; a tag's come from the hub, or where the hub
    is out of reach from the local cache, failing at once (in one line) where they are not there."""
    local = Path(pretrained).expanduser().is_file()
    with contextlib.nullcontext() if local else hub_or_cache() as offline:
        try:
            with root_logger_quiet() if offline else contextlib.nullcontext():  # open_clip logs what it raises
                return open_clip.create_model(model, pretrained=pretrained)
        except RuntimeError as exc:
            reason = (f"{offline} and they are not in the local cache; download them elsewhere and pass the file "
                      "with --pretrained FILE") if offline else exc
            raise HighlighterError(f"cannot load pretrained weights {pretrained!r} for {model}: {reason}") from None


@contextlib.contextmanager
def root_logger_quiet():
    """Drop what is logged straight to the root logger (open_clip's errors), not what other loggers pass up."""
    root = logging.getLogger()
    root.addFilter(_drop)
    try:
        yield
    finally:
        root.removeFilter(_drop)


def _drop(record: logging.LogRecord) -> bool:
    return False


def create_classifier(model: str, classes: list[str], pretrained: str | None = None,
                      prompts_file: str | Path | None = None) -> tuple[HighlightClassifier, nn.Module, Any]:
    """A zero-shot highlight classifier; also returns the whole CLIP model and tokenizer (for
    contrastive training)."""
    clip, tokenizer, config = create_clip(model, pretrained)
    prompts = class_prompts(classes, prompts_file)
    preprocess = clip.visual.preprocess_cfg if hasattr(clip.visual, "preprocess_cfg") else {}
    image_size = config["vision_cfg"].get("image_size", 224)
    spec = ClassifierSpec(
        model=model, pretrained=pretrained, classes=list(classes), prompts=prompts, model_config=config,
        image_size=int(image_size if isinstance(image_size, int) else image_size[0]),
        mean=list(preprocess.get("mean", open_clip.OPENAI_DATASET_MEAN)),
        std=list(preprocess.get("std", open_clip.OPENAI_DATASET_STD)),
    )
    classifier = HighlightClassifier(clip.visual, zero_shot_head(clip, tokenizer, prompts, classes), spec)
    return classifier, clip, tokenizer


def save_checkpoint(folder: str | Path, classifier: HighlightClassifier,
                    extra_tensors: dict[str, torch.Tensor] | None = None,
                    extra_files: dict[str, Any] | None = None, weights: dict[str, torch.Tensor] | None = None) -> Path:
    """Write ``folder`` (the classifier's weights, or ``weights`` in their shape, as safetensors; its metadata
    JSON; ``extra_files`` as JSON) as a whole: it is built beside the target and swapped in, so an interrupted
    save leaves the previous one intact."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        tensors = {k: v.detach().cpu().contiguous() for k, v in (weights or classifier.state_dict()).items()}
        tensors.update({k: v.detach().cpu().contiguous() for k, v in (extra_tensors or {}).items()})
        try:
            save_file(tensors, str(staging / WEIGHTS_FILE))
        except SafetensorError as exc:  # an I/O error (a full disk), in safetensors' words
            raise HighlighterError(f"{folder}: cannot write the checkpoint ({exc})") from None
        meta = {"format": "highlighter-checkpoint/1", "highlighter_version": __version__, **classifier.spec.__dict__,
                "trained_on": classifier.spec.trained_on and dataclasses.asdict(classifier.spec.trained_on)}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        for name, content in (extra_files or {}).items():
            (staging / name).write_text(json.dumps(content, indent=2, default=str))
        os.chmod(staging, usual_mode(directory=True))  # mkdtemp and safetensors make owner-only files
        for file in staging.iterdir():
            os.chmod(file, usual_mode())
        old = folder.with_name(f".{folder.name}.old")
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
        staging.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        name_output(exc, folder)
        raise
    return folder


def load_checkpoint(folder: str | Path, device: str | torch.device = "cpu",
                    dtype: torch.dtype | None = None) -> HighlightClassifier:
    """Rebuild a classifier from its folder, offline, treating every byte of it as untrusted: the metadata is
    checked (``read_spec``), the image tower is built from the saved architecture in memory (nothing is
    registered or written), and the weights must fit it, finite, with a head of one row per class.

    The model is built without initialising it (on the meta device) and takes the saved tensors one at
    a time, each cast to ``dtype`` if given (the file stays fp32): memory peaks at one copy of the
    weights in their final precision.
    """
    folder = Path(folder)
    spec = read_spec(folder)
    path = weights_file(folder)
    try:
        with safe_open(str(path), framework="pt") as weights:
            names = set(weights.keys())
            head = weights.get_tensor(HEAD) if HEAD in names else None
            rows = (len(spec.classes), spec.model_config["embed_dim"])
            if head is None or tuple(head.shape) != rows:
                found = "none" if head is None else "x".join(map(str, head.shape))
                raise CheckpointError(f"{folder}: its head weights are {found}; {rows[0]} classes of a "
                                      f"{rows[1]}-dimensional embedding need {rows[0]}x{rows[1]}")
            with torch.device("meta"):  # the weights come from the file below
                classifier = HighlightClassifier(image_tower(spec, folder), head, spec)
            state = {name: _checked(weights.get_tensor(name), expected, dtype, f"{folder}: weights {name}")
                     for name, expected in classifier.state_dict().items() if name in names}
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({str(exc).splitlines()[0]})") from None
    try:
        classifier.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{folder}: weights do not fit {spec.model}: {str(exc).splitlines()[0]}") from None
    return classifier.to(device).eval()


def image_tower(spec: ClassifierSpec, folder: Path) -> nn.Module:
    """The image tower of the architecture saved in ``spec`` (checked by ``read_spec``), built as open_clip
    builds every model's tower, from the config in memory: a checkpoint's model name is never looked up
    in open_clip's registry (a name like ``local-dir:/x`` or ``hf-hub:x/y`` would read or fetch files) nor
    added to it (that writes a file named after it, and changes what the name means for the process)."""
    from open_clip.model import _build_vision_tower  # the builder of CLIP's, CustomTextCLIP's and CoCa's towers

    config = spec.model_config
    vision = {**config["vision_cfg"], "timm_model_pretrained": False}  # the weights come from the checkpoint
    try:
        return _build_vision_tower(config["embed_dim"], vision, bool(config.get("quick_gelu", False)))
    except Exception as exc:  # any other malformed value of open_clip's config, found as it builds
        reason = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{folder}: its model_config does not describe an open_clip image tower "
                              f"({reason})") from None


def _checked(tensor: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype | None, what: str) -> torch.Tensor:
    """A saved tensor for a model tensor like ``expected``: floating point and finite where that is (NaN
    weights score NaN, and no event ever passes a threshold), then cast to ``dtype`` or the model's own."""
    if not expected.is_floating_point():
        return tensor
    if not tensor.is_floating_point():
        raise CheckpointError(f"{what} are {tensor.dtype}, not floating point")
    if not bool(torch.isfinite(tensor).all()):
        raise CheckpointError(f"{what} hold NaN or infinite values")
    return tensor.to(dtype or expected.dtype)
